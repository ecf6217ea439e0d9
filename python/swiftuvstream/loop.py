"""The event loop.

A :class:`Loop` runs callbacks: every handle and request lives on one loop, and every
callback runs on the loop's thread inside :meth:`Loop.run`. Creating a loop makes it
the calling thread's *current* loop, which handles and requests created without
``loop=`` use.

Lifetime: a loop keeps alive every object that may still receive a callback (a
reading or listening stream, a started timer, a request in flight, a closing handle)
and lets go of it once it can no longer be called. An idle handle nobody references is
closed and released by its finalizer.

Exceptions raised by callbacks never vanish: they are stored in ``exc_type``,
``exc_value`` and ``exc_traceback`` and passed to ``loop.excepthook(loop, exc_type,
exc_value, exc_traceback)``; the default hook prints the traceback and stops the loop.
``KeyboardInterrupt`` and ``SystemExit`` raised in a callback stop the loop and are
re-raised by :meth:`Loop.run`; Ctrl-C interrupts a loop blocked waiting for I/O too.
"""

from __future__ import annotations

import enum
import itertools
import os
import signal
import sys
import threading
import traceback
import weakref
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Set, Tuple, Type

from . import _ffi, error

if TYPE_CHECKING:  # pragma: no cover
    from .handle import Handle

__all__ = ["Loop", "RunModes", "default_excepthook"]


class RunModes(enum.IntEnum):
    """How :meth:`Loop.run` runs."""

    DEFAULT = _ffi.UVS_RUN_DEFAULT
    """Until no active and referenced handle is left, or :meth:`Loop.stop` is called."""
    ONCE = _ffi.UVS_RUN_ONCE
    """Poll for I/O once, blocking if there is nothing to do yet."""
    NOWAIT = _ffi.UVS_RUN_NOWAIT
    """Poll for I/O once without blocking."""


ExceptHook = Callable[["Loop", Type[BaseException], BaseException, Optional[TracebackType]], Any]


def default_excepthook(
    loop: "Loop",
    exc_type: Type[BaseException],
    exc_value: BaseException,
    exc_traceback: Optional[TracebackType],
) -> None:
    """The default ``Loop.excepthook``: prints the traceback to ``sys.stderr`` and stops
    the loop (``run()`` then returns)."""
    print("Exception in a swiftuvstream callback:", file=sys.stderr)
    traceback.print_exception(exc_type, exc_value, exc_traceback)
    if not loop.closed:
        loop.stop()


# The code objects of the trampolines (see _SignalWakeup._on_sigint).
_trampoline_codes: Set[Any] = set()


def trampoline(callback_type: Any) -> Callable[[Callable[..., None]], Any]:
    """Decorator for the package's C callbacks: ``@trampoline(_ffi.READ_CB)`` makes the
    function a module-level CFUNCTYPE object and remembers it as a trampoline."""

    def decorate(function: Callable[..., None]) -> Any:
        _trampoline_codes.add(function.__code__)
        return callback_type(function)

    return decorate


# Python Loop objects by C loop pointer, for the post trampoline.
_loops: "weakref.WeakValueDictionary[int, Loop]" = weakref.WeakValueDictionary()
_post_ids = itertools.count(1)


@trampoline(_ffi.POST_CB)
def _post_trampoline(loop_pointer: Optional[int], user_data: Optional[int]) -> None:
    """The one uvs_post_cb: runs a call_later() callback (user_data is its id), or, with
    user_data NULL, wakes the loop so pending signal handlers run."""
    loop = _loops.get(loop_pointer or 0)
    if loop is None:
        return
    loop._tick += 1
    try:
        if user_data is None:
            _ffi.check_signals()
            return
        with loop._post_lock:
            item = loop._posted.pop(user_data, None)
        if item is None:
            return
        callback, args, kwargs = item
        del item
        callback(*args, **kwargs)
    except BaseException:
        loop.handle_exception()


class _SignalWakeup:
    """Makes Ctrl-C interrupt a running loop promptly, also one blocked in C.

    Two problems: Python runs signal handlers only between bytecodes of the main thread
    (and libuv retries its poll after EINTR, so a loop waiting for I/O would not notice a
    signal until its next event); and an exception raised at the entry of a ctypes
    callback -- where Python checks for pending signals -- cannot be caught by it and is
    lost. So, while a loop runs on the main thread:

    - ``signal.set_wakeup_fd`` points at a pipe; a daemon thread reads it and posts a
      wake-up call to the running loops (``uvs_loop_post``, the thread-safe function);
      running that call on the main thread runs the pending handlers.
    - If SIGINT has Python's default handler, it is replaced by one that records a
      KeyboardInterrupt on the innermost running loop and stops it (``run()`` re-raises
      it), and raises it too unless it interrupts a trampoline's entry -- so a callback
      stuck in Python code is interrupted as well.

    Another wakeup fd (asyncio's) or SIGINT handler is left alone.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: List["Loop"] = []
        self._read_fd = -1
        self._write_fd = -1
        self._thread: Optional[threading.Thread] = None

    def _start(self) -> bool:
        if self._thread is not None:
            return True
        try:
            read_fd, write_fd = os.pipe()
        except OSError:
            return False
        os.set_blocking(write_fd, False)
        self._read_fd, self._write_fd = read_fd, write_fd
        self._thread = threading.Thread(target=self._watch, name="swiftuvstream-signal-wakeup", daemon=True)
        self._thread.start()
        return True

    def _watch(self) -> None:
        read_fd = self._read_fd
        while True:
            try:
                if not os.read(read_fd, 512):
                    return
            except InterruptedError:
                continue
            except OSError:
                return
            with self._lock:
                loops = list(self._running)
            for loop in loops:
                try:
                    _ffi.lib.uvs_loop_post(loop._ptr, _post_trampoline, None)
                except Exception:
                    pass
            del loops

    def _on_sigint(self, signum: int, frame: Any) -> None:
        # No lock here: the main thread may hold it (enter/leave) when the signal lands.
        running = self._running
        loop = running[-1] if running else None
        if loop is None:
            raise KeyboardInterrupt
        loop._interrupt_with(KeyboardInterrupt())
        if frame is not None and frame.f_code in _trampoline_codes:
            return  # raising here would be lost by ctypes; run() raises it
        raise KeyboardInterrupt

    def enter(self, loop: "Loop") -> Optional[Tuple[Optional[int], Any]]:
        """Called by run() before running; returns what leave() needs (None off the
        main thread)."""
        if threading.current_thread() is not threading.main_thread():
            return None
        previous_fd: Optional[int] = None
        if self._start():
            try:
                previous_fd = signal.set_wakeup_fd(self._write_fd, warn_on_full_buffer=False)
            except (ValueError, OSError):
                previous_fd = None
            if previous_fd is not None and previous_fd not in (-1, self._write_fd):
                signal.set_wakeup_fd(previous_fd)  # someone else's: keep it
                previous_fd = None
        previous_handler = None
        try:
            current = signal.getsignal(signal.SIGINT)
            if current is signal.default_int_handler:
                signal.signal(signal.SIGINT, self._on_sigint)
                previous_handler = current
            elif current == self._on_sigint:
                previous_handler = current
        except (ValueError, OSError):  # pragma: no cover
            pass
        with self._lock:
            self._running.append(loop)
        return previous_fd, previous_handler

    def leave(self, loop: "Loop", token: Optional[Tuple[Optional[int], Any]]) -> None:
        if token is None:
            return
        previous_fd, previous_handler = token
        with self._lock:
            self._running.remove(loop)
        try:
            # Restore unless a callback installed its own handler meanwhile.
            if previous_handler is not None and signal.getsignal(signal.SIGINT) == self._on_sigint:
                signal.signal(signal.SIGINT, previous_handler)
            if previous_fd is not None:
                signal.set_wakeup_fd(previous_fd)
        except (ValueError, OSError):  # pragma: no cover
            pass

    def reset_after_fork(self) -> None:
        # The watcher thread does not exist in a forked child; start afresh there.
        self._lock = threading.Lock()
        self._running = []
        self._thread = None
        for fd in (self._read_fd, self._write_fd):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._read_fd = self._write_fd = -1


_wakeup = _SignalWakeup()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_wakeup.reset_after_fork)


def _finalize_loop(pointer: int) -> None:
    """Finalizer of a Loop nobody references: closes what is left and releases it."""
    lib = _ffi.lib
    try:
        try:
            lib.uvs_loop_close(pointer)
        except error.ResourceBusyError:
            # Handles are left (their objects are gone too): close them, let libuv
            # finish, then close the loop.
            lib.uvs_loop_close_all(pointer, _ffi.CLOSE_CB(), None)
            lib.uvs_loop_run(pointer, _ffi.UVS_RUN_NOWAIT)
            lib.uvs_loop_close(pointer)
    except Exception:
        pass
    lib.uvs_loop_release(pointer)


class Loop:
    """An event loop.

    ``Loop(buffer_size=2**16, default=False)`` creates a loop and makes it the calling
    thread's current loop. ``buffer_size`` is the size of the read buffer the loop's
    streams share: data arrives in chunks of at most this many bytes (larger buffers
    mean fewer callbacks for bulk transfers).
    ``default=True`` makes it the process's default loop (see :meth:`get_default`).

    Subclassing is supported; ``excepthook`` may be overridden as a method
    ``excepthook(self, loop, exc_type, exc_value, exc_traceback)`` or assigned per
    instance as a function of ``(loop, exc_type, exc_value, exc_traceback)``.
    """

    _thread_locals = threading.local()
    _default: Optional["Loop"] = None
    _global_lock = threading.RLock()

    #: Called with ``(loop, exc_type, exc_value, exc_traceback)`` for an exception
    #: raised in a callback. The default prints the traceback and stops the loop.
    excepthook: ExceptHook = staticmethod(default_excepthook)

    exc_type: Optional[Type[BaseException]]
    exc_value: Optional[BaseException]
    exc_traceback: Optional[TracebackType]

    @classmethod
    def get_default(cls, instantiate: bool = True, **arguments: Any) -> Optional["Loop"]:
        """The process's default loop, created (as ``cls(default=True, **arguments)``)
        if there is none or it was closed and ``instantiate`` is true."""
        with Loop._global_lock:
            if (Loop._default is None or Loop._default.closed) and instantiate:
                Loop._default = None
                cls(default=True, **arguments)
            return Loop._default

    @classmethod
    def get_current(cls, instantiate: bool = True, **arguments: Any) -> Optional["Loop"]:
        """The calling thread's current loop (the last one created or run on it), or a
        new ``cls(**arguments)`` if there is none and ``instantiate`` is true."""
        loop = getattr(Loop._thread_locals, "loop", None)
        if loop is None and instantiate:
            loop = cls(**arguments)
        return loop

    def __init__(self, buffer_size: int = 2**16, default: bool = False) -> None:
        self.buffer_size = _ffi.c_int_arg(buffer_size, "buffer_size", 1)
        self._ptr: int = 0
        self._closed = False
        if default:
            with Loop._global_lock:
                if Loop._default is not None and not Loop._default.closed:
                    raise RuntimeError("a default loop already exists: use Loop.get_default()")
                self._create()
                Loop._default = self
        else:
            self._create()
        #: Whether this is the default loop.
        self.default = bool(default)
        self.exc_type = None
        self.exc_value = None
        self.exc_traceback = None
        self.make_current()

    def _create(self) -> None:
        self._ptr = _ffi.new_object(_ffi.lib.uvs_loop_new_with_buffer_size, self.buffer_size)
        self._finalizer = weakref.finalize(self, _finalize_loop, self._ptr)
        self._finalizer.atexit = False
        # Every handle on the loop that is not closed yet (weak: dropping a handle
        # releases it), and every object that may still be called back (strong).
        self._handles: "weakref.WeakSet[Handle]" = weakref.WeakSet()
        self._busy: Set[object] = set()
        self._posted: Dict[int, Tuple[Callable[..., Any], Tuple[Any, ...], Dict[str, Any]]] = {}
        self._post_lock = threading.Lock()
        self._interrupt: Optional[BaseException] = None
        # Whether run() is on some thread's stack (its state is then that call's).
        self._running = False
        # Counts the loop's callbacks into Python (and the returns of run()): a write
        # finished inside write() counts as reported once it has moved on (see
        # WriteRequest.finished).
        self._tick = 0
        _loops[self._ptr] = self

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return "<%s %s%s at 0x%x>" % (type(self).__name__, state, " default" if self.default else "", id(self))

    # -- current loop ------------------------------------------------------------------

    def make_current(self) -> None:
        """Makes this loop the calling thread's current loop."""
        Loop._thread_locals.loop = self

    def _require_open(self) -> int:
        if self._closed:
            raise error.ClosedLoopError()
        return self._ptr

    # -- state -------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has succeeded."""
        return self._closed

    @property
    def alive(self) -> bool:
        """Whether active referenced handles, pending callbacks or ``call_later``
        callbacks remain (False once closed). ``WrongThreadError`` from a thread other
        than the one running the loop."""
        if self._closed:
            return False
        return bool(_ffi.lib.uvs_loop_alive(self._ptr))

    @property
    def now(self) -> int:
        """The loop's cached time in milliseconds (updated at the start of each
        iteration; see :meth:`update_time`). 0 once closed."""
        if self._closed:
            return 0
        return int(_ffi.lib.uvs_loop_now(self._ptr))

    def update_time(self) -> None:
        """Refreshes the loop's cached time."""
        _ffi.lib.uvs_loop_update_time(self._require_open())

    @property
    def handles(self) -> Set["Handle"]:
        """The handles on this loop that are not fully closed (a snapshot)."""
        if self._closed:
            return set()
        return set(self._handles)

    # -- running -----------------------------------------------------------------------

    def run(self, mode: int = RunModes.DEFAULT) -> bool:
        """Runs the loop on the calling thread (which it becomes current for).

        ``RunModes.DEFAULT`` runs until no active and referenced handle is left or
        :meth:`stop` is called; ``ONCE`` polls once, blocking if nothing is ready;
        ``NOWAIT`` polls once without blocking. Returns True if work remains (or the
        loop was stopped with handles active). Raises ``ResourceBusyError`` if the loop
        is already running on this thread, ``WrongThreadError`` if it runs on another,
        ``ClosedLoopError`` if closed; re-raises a KeyboardInterrupt
        or SystemExit raised in a callback (or by Ctrl-C while waiting).
        """
        pointer = self._require_open()
        try:
            mode = RunModes(mode)
        except ValueError:
            raise error.ArgumentError(error.StatusCodes.EINVAL, "unknown run mode %r" % (mode,)) from None
        if self._running:
            # Re-entrant, or from another thread: the C library refuses the call
            # (ResourceBusyError, WrongThreadError). The running call's state -- a
            # KeyboardInterrupt it is to re-raise, say -- must stay untouched.
            return bool(_ffi.lib.uvs_loop_run(pointer, int(mode)))
        self.make_current()
        self._interrupt = None
        self._running = True
        token = _wakeup.enter(self)
        try:
            result = _ffi.lib.uvs_loop_run(pointer, int(mode))
        finally:
            self._running = False
            self._tick += 1
            _wakeup.leave(self, token)
            interrupt, self._interrupt = self._interrupt, None
        if interrupt is not None:
            raise interrupt
        return bool(result)

    def stop(self) -> None:
        """Makes :meth:`run` return after the current iteration (or at once the next
        time, if the loop is not running)."""
        _ffi.lib.uvs_loop_stop(self._require_open())

    def _stop_quietly(self) -> None:
        if not self._closed:
            try:
                _ffi.lib.uvs_loop_stop(self._ptr)
            except error.UVError:
                pass

    # -- closing -----------------------------------------------------------------------

    def close_all_handles(self, on_closed: Optional[Callable[["Handle"], Any]] = None) -> int:
        """Closes every handle that is not closing yet, each with ``on_closed`` (if
        given). Returns how many it closed. Run the loop afterwards so the close
        callbacks run; then :meth:`close` succeeds."""
        self._require_open()
        count = 0
        for handle in list(self._handles):
            if not handle.closing:
                handle.close(on_closed)
                count += 1
        return count

    def close(self) -> None:
        """Closes the loop. Idempotent. Raises ``uv.error.ResourceBusyError`` while
        handles are not fully closed (close them and run the loop once first), while
        ``call_later`` callbacks wait, or while the loop runs."""
        if self._closed:
            return
        _ffi.lib.uvs_loop_close(self._ptr)
        self._closed = True
        with self._post_lock:
            self._posted.clear()
        self._busy.clear()
        if getattr(Loop._thread_locals, "loop", None) is self:
            Loop._thread_locals.loop = None
        with Loop._global_lock:
            if Loop._default is self:
                Loop._default = None

    # -- calls from other threads ------------------------------------------------------

    def call_later(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Asks the loop's thread to run ``callback(*args, **kwargs)`` during
        :meth:`run`, after the calls posted before it. The one thread-safe method: any
        thread may call it. A waiting call keeps the loop alive. Raises
        ``ClosedLoopError`` once the loop is closed."""
        if not callable(callback):
            raise TypeError("callback must be callable, not %r" % type(callback).__name__)
        pointer = self._require_open()
        call_id = next(_post_ids)
        with self._post_lock:
            self._posted[call_id] = (callback, args, kwargs)
        try:
            _ffi.lib.uvs_loop_post(pointer, _post_trampoline, call_id)
        except BaseException:
            with self._post_lock:
                self._posted.pop(call_id, None)
            raise

    # -- exceptions --------------------------------------------------------------------

    def handle_exception(self) -> None:
        """Handles the exception being handled (``sys.exc_info()``) as one raised in a
        callback: stores it in ``exc_type``/``exc_value``/``exc_traceback`` and calls
        ``excepthook``. KeyboardInterrupt and SystemExit stop the loop instead and are
        re-raised by :meth:`run`."""
        exc_type, exc_value, exc_traceback = sys.exc_info()
        if exc_type is None or exc_value is None:
            return
        if not isinstance(exc_value, Exception):
            self._interrupt_with(exc_value)
            return
        self.exc_type, self.exc_value, self.exc_traceback = exc_type, exc_value, exc_traceback
        try:
            self.excepthook(self, exc_type, exc_value, exc_traceback)
        except Exception:
            print("Exception in the excepthook of %r:" % (self,), file=sys.stderr)
            traceback.print_exc()
            self._stop_quietly()
        except BaseException as interrupt:
            self._interrupt_with(interrupt)

    def _interrupt_with(self, exc: BaseException) -> None:
        if self._interrupt is None:
            self._interrupt = exc
        self._stop_quietly()

    def reset_exception(self) -> None:
        """Clears ``exc_type``, ``exc_value`` and ``exc_traceback``."""
        self.exc_type = None
        self.exc_value = None
        self.exc_traceback = None
