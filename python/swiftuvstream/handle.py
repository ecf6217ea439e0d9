"""The base of every handle (streams and timers): closing, references, buffer sizes.

How a Python object finds its way back from C: every handle and request gets an
integer id, passed to C as ``user_data``; one module-level trampoline per callback
type looks the object up in :data:`registry` (id -> weak reference) and dispatches.
No CFUNCTYPE object is created or kept alive per call. (A plain dict of
``weakref.ref`` rather than a ``WeakValueDictionary``: a lookup is two C-level
operations, not a Python method call. A handle's entry goes with its finalizer, a
request's when its callback runs.)

Lifetime: the loop's ``_busy`` set holds every object that may still be called back;
:meth:`Handle._refresh_keepalive` adds and removes the handle as its state changes. A
handle that is neither busy nor referenced by the program is finalized: its C handle is
released, which closes it.
"""

from __future__ import annotations

import itertools
import weakref
from typing import Any, Callable, Dict, Optional

from . import _ffi, error
from .loop import Loop, trampoline

__all__ = ["Handle"]

#: id -> weak reference to a Handle or Request, for the trampolines. Weak: lifetime is
#: the loop's business.
registry: "Dict[int, weakref.ReferenceType[Any]]" = {}
_ids = itertools.count(1)


def new_id() -> int:
    """A new id for ``user_data`` (never 0, never reused)."""
    return next(_ids)


def callee(user_data: Optional[int]) -> Any:
    """The live handle a callback from C is for (registered under ``user_data``), or
    None; counts the callback as a tick of its loop (see ``Loop._tick``)."""
    ref = registry.get(user_data)  # type: ignore[arg-type]
    handle = None if ref is None else ref()
    if handle is not None:
        handle.loop._tick += 1
    return handle


def _release_c_handle(pointer: int, handle_id: int) -> None:
    """A handle's finalizer: forgets its id and releases the C handle (which closes it
    if it is still open)."""
    registry.pop(handle_id, None)
    _ffi.lib.uvs_release(pointer)


@trampoline(_ffi.CLOSE_CB)
def _close_trampoline(handle_pointer: Optional[int], user_data: Optional[int]) -> None:
    handle = callee(user_data)
    if handle is None:
        return
    try:
        handle._c_closed()
    except BaseException:
        handle.loop.handle_exception()


def _resolve_loop(loop: Optional[Loop]) -> Loop:
    if loop is None:
        loop = Loop.get_current()
        assert loop is not None
    elif not isinstance(loop, Loop):
        raise TypeError("loop must be a Loop, not %r" % type(loop).__name__)
    if loop.closed:
        raise error.ClosedLoopError()
    return loop


class Handle:
    """Base class of :class:`~swiftuvstream.Stream` and :class:`~swiftuvstream.Timer`;
    not instantiated directly.

    Attributes: ``loop`` (the handle's loop), ``data`` (a free slot for the program),
    ``on_closed`` (called as ``on_closed(handle)`` once the handle has closed).

    Once closing, most methods raise :class:`~swiftuvstream.ClosedHandleError`;
    :meth:`close` is a silent no-op; queries return neutral values (not active, not
    referenced).
    """

    def __init__(self, loop: Optional[Loop] = None) -> None:
        if type(self) is Handle:
            raise TypeError("Handle is abstract: create a TCP, Pipe, TTY or Timer")
        #: The loop the handle lives on.
        self.loop: Loop = _resolve_loop(loop)
        #: A free slot for the program; the library never touches it.
        self.data: Any = None
        #: Called as ``on_closed(handle)`` once the handle has closed.
        self.on_closed: Optional[Callable[[Any], Any]] = None
        self._ptr: Optional[int] = None
        self._id = new_id()
        self._closing = False
        self._closed = False
        self._finalizer: "Optional[weakref.finalize[Any, Any]]" = None

    def _attach(self, pointer: int) -> None:
        """Takes ownership of a new C handle (one reference)."""
        self._ptr = pointer
        self._finalizer = weakref.finalize(self, _release_c_handle, pointer, self._id)
        self._finalizer.atexit = False
        registry[self._id] = weakref.ref(self)
        self.loop._handles.add(self)

    def __repr__(self) -> str:
        if self._closed:
            state = "closed"
        elif self._closing:
            state = "closing"
        else:
            state = "open"
        return "<%s %s at 0x%x>" % (type(self).__name__, state, id(self))

    # -- internal state ----------------------------------------------------------------

    def _open_ptr(self) -> int:
        """The C pointer of an open handle; ClosedHandleError otherwise."""
        pointer = self._ptr
        if pointer is None or self._closing:
            raise error.ClosedHandleError()
        return pointer

    def _wants_alive(self) -> bool:
        """Whether C may still call this handle back (subclasses extend this)."""
        return self._closing and not self._closed

    def _refresh_keepalive(self) -> None:
        if self._wants_alive():
            self.loop._busy.add(self)
        else:
            self.loop._busy.discard(self)

    def _will_close(self) -> None:
        """Subclass hook: the handle starts closing (stop tracking reading, ...)."""

    def _c_closed(self) -> None:
        """The close callback: release the C handle, then call on_closed."""
        self._closed = True
        self._closing = True
        self._release()
        callback = self.on_closed
        if callback is not None:
            callback(self)

    def _release(self) -> None:
        self._ptr = None
        if self._finalizer is not None:
            self._finalizer()  # uvs_release(), once
        registry.pop(self._id, None)
        self.loop._handles.discard(self)
        self.loop._busy.discard(self)

    def _discard(self) -> None:
        """Drops a handle that was never used (a failed accept): released at once,
        without a close callback."""
        self._closing = True
        self._closed = True
        self._release()

    # -- closing -----------------------------------------------------------------------

    @property
    def closing(self) -> bool:
        """Whether :meth:`close` was called (the handle may not be closed yet)."""
        return self._closing

    @property
    def closed(self) -> bool:
        """Whether the handle has closed (its close callback has run)."""
        return self._closed

    def close(self, on_closed: Optional[Callable[[Any], Any]] = None) -> None:
        """Closes the handle. Its pending requests complete with
        ``StatusCodes.ECANCELED`` (or success if already done), then
        ``on_closed(handle)`` runs once, from the loop. Idempotent: a second call neither
        raises nor replaces the callback."""
        if self._closing:
            return
        pointer = self._ptr
        if pointer is None:
            self._closing = self._closed = True
            return
        _ffi.lib.uvs_close(pointer, _close_trampoline, self._id)
        if on_closed is not None:
            self.on_closed = on_closed
        self._closing = True
        self._will_close()
        self._refresh_keepalive()

    # -- state -------------------------------------------------------------------------

    @property
    def active(self) -> bool:
        """Whether the handle is active (reading, listening, connecting, writing, a
        started timer). False once closing."""
        if self._closing or self._ptr is None:
            return False
        return bool(_ffi.lib.uvs_is_active(self._ptr))

    @property
    def referenced(self) -> bool:
        """Whether the handle keeps the loop alive while active (settable). False once
        closing."""
        if self._closing or self._ptr is None:
            return False
        return bool(_ffi.lib.uvs_has_ref(self._ptr))

    @referenced.setter
    def referenced(self, value: bool) -> None:
        if value:
            self.reference()
        else:
            self.dereference()

    def reference(self) -> None:
        """Makes the handle keep the loop alive while active (the default)."""
        _ffi.lib.uvs_ref(self._open_ptr())

    def dereference(self) -> None:
        """Makes the handle not keep the loop alive: ``run()`` may return while it is
        active."""
        _ffi.lib.uvs_unref(self._open_ptr())

    # -- file descriptor and socket buffers --------------------------------------------

    def fileno(self) -> int:
        """The handle's file descriptor (still owned by the handle). Raises
        ``BadFileDescriptorError`` when there is none yet, ``ArgumentError`` for a
        timer."""
        return int(_ffi.lib.uvs_fileno(self._open_ptr()))

    @property
    def send_buffer_size(self) -> int:
        """The socket's send buffer size in bytes (settable; the kernel may round or
        clamp what is set -- Linux doubles it, within its limits)."""
        return int(_ffi.lib.uvs_send_buffer_size(self._open_ptr()))

    @send_buffer_size.setter
    def send_buffer_size(self, size: int) -> None:
        size = _ffi.c_int_arg(size, "send_buffer_size", 1)
        _ffi.lib.uvs_set_send_buffer_size(self._open_ptr(), size)

    @property
    def receive_buffer_size(self) -> int:
        """The socket's receive buffer size in bytes (settable; the kernel may round or
        clamp what is set, as for ``send_buffer_size``)."""
        return int(_ffi.lib.uvs_receive_buffer_size(self._open_ptr()))

    @receive_buffer_size.setter
    def receive_buffer_size(self, size: int) -> None:
        size = _ffi.c_int_arg(size, "receive_buffer_size", 1)
        _ffi.lib.uvs_set_receive_buffer_size(self._open_ptr(), size)
