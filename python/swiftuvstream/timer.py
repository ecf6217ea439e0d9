"""Timers: call a function after a timeout, once or repeatedly (times in milliseconds)."""

from __future__ import annotations

from typing import Any, Callable, Optional

from . import _ffi
from .handle import Handle, callee
from .loop import Loop, trampoline

__all__ = ["Timer"]


@trampoline(_ffi.TIMER_CB)
def _timer_trampoline(timer_pointer: Optional[int], user_data: Optional[int]) -> None:
    timer = callee(user_data)
    if timer is None:
        return
    try:
        timer._c_timeout()
    except BaseException:
        timer.loop.handle_exception()


class Timer(Handle):
    """``Timer(loop=None, on_timeout=None)``: calls ``on_timeout(timer)`` from the loop
    when it expires. A started timer stays alive (and keeps calling back) until stopped
    or closed, even if the program drops it."""

    def __init__(self, loop: Optional[Loop] = None, on_timeout: Optional[Callable[["Timer"], Any]] = None) -> None:
        super().__init__(loop)
        #: Called as ``on_timeout(timer)`` each time the timer expires.
        self.on_timeout = on_timeout
        self._started = False
        self._attach(_ffi.new_object(_ffi.lib.uvs_timer_new, self.loop._ptr))

    def _wants_alive(self) -> bool:
        return super()._wants_alive() or (self._started and not self._closing)

    def _will_close(self) -> None:
        self._started = False

    def _c_timeout(self) -> None:
        try:
            callback = self.on_timeout
            if callback is not None:
                callback(self)
        finally:
            # A one-shot timer is done unless the callback restarted it.
            if self._started and not self._closing and self._ptr is not None:
                self._started = bool(_ffi.lib.uvs_is_active(self._ptr))
            self._refresh_keepalive()

    def start(self, timeout: float, repeat: float = 0, on_timeout: Optional[Callable[["Timer"], Any]] = None) -> None:
        """Starts (or restarts) the timer: ``on_timeout(timer)`` runs after ``timeout``
        ms, then every ``repeat`` ms if ``repeat`` > 0. Negative times raise
        ``ArgumentError``."""
        pointer = self._open_ptr()
        timeout_ms = _ffi.milliseconds(timeout, "timeout")
        repeat_ms = _ffi.milliseconds(repeat, "repeat")
        _ffi.lib.uvs_timer_start(pointer, timeout_ms, repeat_ms, _timer_trampoline, self._id)
        if on_timeout is not None:  # only now: a refused call changes nothing
            self.on_timeout = on_timeout
        self._started = True
        self._refresh_keepalive()

    def stop(self) -> None:
        """Stops the timer; safe to repeat."""
        _ffi.lib.uvs_timer_stop(self._open_ptr())
        self._started = False
        self._refresh_keepalive()

    def again(self) -> None:
        """Restarts a repeating timer with its repeat value as the timeout; stops a timer
        whose repeat is 0. Raises ``ArgumentError`` if it was never started."""
        pointer = self._open_ptr()
        _ffi.lib.uvs_timer_again(pointer)
        self._started = bool(_ffi.lib.uvs_is_active(pointer))
        self._refresh_keepalive()

    @property
    def repeat(self) -> int:
        """The repeat interval in ms (settable; takes effect at the next expiry). 0 once
        closed."""
        if self._closing or self._ptr is None:
            return 0
        return int(_ffi.lib.uvs_timer_repeat(self._ptr))

    @repeat.setter
    def repeat(self, repeat: float) -> None:
        _ffi.lib.uvs_timer_set_repeat(self._open_ptr(), _ffi.milliseconds(repeat, "repeat"))
