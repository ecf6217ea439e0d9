"""Terminals."""

from __future__ import annotations

import ctypes
import enum
from typing import NamedTuple, Optional

from . import _ffi
from .loop import Loop
from .stream import ReadCallback, Stream

__all__ = ["TTY", "TTYMode", "ConsoleSize", "reset_mode"]


class TTYMode(enum.IntEnum):
    """Terminal modes for :meth:`TTY.set_mode`."""

    NORMAL = _ffi.UVS_TTY_MODE_NORMAL
    """Line-buffered, echo, signal keys: the terminal's defaults."""
    RAW = _ffi.UVS_TTY_MODE_RAW
    """Byte by byte, no echo, no signal keys."""
    IO = _ffi.UVS_TTY_MODE_IO
    """Binary-safe I/O (used for IPC); Unix only."""


class ConsoleSize(NamedTuple):
    """A terminal's size in character cells."""

    width: int
    height: int


def reset_mode() -> None:
    """Restores the mode the terminal had before the first :meth:`TTY.set_mode` away
    from normal. Call it at exit, while that terminal's TTY is still open: libuv
    remembers the terminal's fd number, and once that is closed this fails (EBADF, or
    ENOTTY if the number was reused) -- or acts on whatever terminal reuses it.
    Raises ``ResourceBusyError`` if another thread is changing a mode right now."""
    _ffi.lib.uvs_tty_reset_mode()


class TTY(Stream):
    """``TTY(fd, readable=False, loop=None, on_read=None)``: a terminal stream over
    ``fd``; ``readable=True`` for input. A descriptor that is not a terminal raises
    ``ArgumentError``; one that is not open ``BadFileDescriptorError``. The caller keeps
    ``fd`` as it was: the TTY works on its own duplicate, and closing the TTY never
    closes ``fd`` (``fileno()`` reports the TTY's descriptor). libuv reopens a terminal
    it can, so the non-blocking mode does not leak to other processes sharing it."""

    _accepts = False

    def __init__(
        self, fd: int, readable: bool = False, loop: Optional[Loop] = None, on_read: Optional[ReadCallback] = None
    ) -> None:
        fd = _ffi.c_int_arg(fd, "fd")
        super().__init__(loop, False, (fd, bool(readable)), on_read, None)

    def _create(self, loop_pointer: int, *arguments: object) -> int:
        fd, readable = arguments
        return _ffi.new_object(_ffi.lib.uvs_tty_new, loop_pointer, fd, 1 if readable else 0)

    @property
    def family(self) -> None:
        """None: a terminal has no address family."""
        return None

    @property
    def console_size(self) -> ConsoleSize:
        """The terminal's size as ``(width, height)`` (``.width``, ``.height``);
        ``(0, 0)`` once closing."""
        if self._closing or self._ptr is None:
            return ConsoleSize(0, 0)
        width = ctypes.c_int()
        height = ctypes.c_int()
        _ffi.lib.uvs_tty_get_winsize(self._ptr, ctypes.byref(width), ctypes.byref(height))
        return ConsoleSize(width.value, height.value)

    def set_mode(self, mode: int = TTYMode.NORMAL) -> None:
        """Sets the terminal mode (:class:`TTYMode`)."""
        mode = _ffi.c_int_arg(mode, "mode")
        _ffi.lib.uvs_tty_set_mode(self._open_ptr(), mode)
