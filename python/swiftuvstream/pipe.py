"""Pipes: Unix domain sockets and pipes, and ipc pipes that carry streams between
processes."""

from __future__ import annotations

import ctypes
import enum
import os
import socket
from typing import Any, Callable, Optional, Tuple, Type, Union

from . import _ffi, error
from .error import StatusCodes
from .loop import Loop
from .request import ConnectRequest, _request_trampoline
from .stream import ConnectionCallback, ReadCallback, Stream
from .tcp import TCP

__all__ = ["Pipe", "PipeChmod", "pipe_pair", "socketpair", "PATH_MAX"]

#: The longest path a Unix socket accepts (bytes, NUL excluded). Longer paths are an
#: error, never truncated.
PATH_MAX = _ffi.UVS_PIPE_PATH_MAX


class PipeChmod(enum.IntFlag):
    """Flags for :meth:`Pipe.chmod`."""

    READABLE = _ffi.UVS_PIPE_READABLE
    WRITABLE = _ffi.UVS_PIPE_WRITABLE


def pipe_pair() -> Tuple[int, int]:
    """Creates an anonymous pipe: ``(read_fd, write_fd)``, both close-on-exec and owned
    by the caller (adopt them with :meth:`Pipe.open`)."""
    return _ffi.fd_pair(_ffi.lib.uvs_pipe_pair)


def socketpair() -> Tuple[int, int]:
    """Creates a connected pair of Unix stream sockets (able to pass streams when both
    ends are opened as ipc pipes), close-on-exec and owned by the caller."""
    return _ffi.fd_pair(_ffi.lib.uvs_socketpair)


class Pipe(Stream):
    """``Pipe(ipc=False, loop=None, on_read=None, on_connection=None)``: a Unix domain
    socket or pipe. ``ipc=True`` makes an ipc pipe, able to send streams with
    ``write(data, send_stream=...)`` and receive them (``pending_count``,
    ``pending_type``, ``pending_accept()``)."""

    def __init__(
        self,
        ipc: bool = False,
        loop: Optional[Loop] = None,
        on_read: Optional[ReadCallback] = None,
        on_connection: Optional[ConnectionCallback] = None,
    ) -> None:
        super().__init__(loop, bool(ipc), (bool(ipc),), on_read, on_connection)

    def _create(self, loop_pointer: int, *arguments: Any) -> int:
        (ipc,) = arguments
        return _ffi.new_object(_ffi.lib.uvs_pipe_new, loop_pointer, 1 if ipc else 0)

    @property
    def family(self) -> Optional[int]:
        """``socket.AF_UNIX``."""
        return socket.AF_UNIX

    def open(self, fd: int) -> None:
        """Adopts an existing pipe, FIFO or Unix stream socket; the handle owns it from
        then on. Anything else (a regular file, /dev/null, a TCP socket, a terminal)
        raises ``ArgumentError``; a closed fd ``BadFileDescriptorError``."""
        fd = _ffi.c_int_arg(fd, "fd")
        _ffi.lib.uvs_pipe_open(self._open_ptr(), fd)

    def bind(self, path: Union[str, bytes, "os.PathLike[str]"]) -> None:
        """Binds to a filesystem path (the socket file is created; remove it when done).
        A path longer than ``PATH_MAX`` bytes raises ``NameTooLongError``."""
        pointer = self._open_ptr()
        _ffi.lib.uvs_pipe_bind(pointer, _ffi.c_path(path))

    def connect(
        self,
        path: Union[str, bytes, "os.PathLike[str]"],
        on_connect: Optional[Callable[[ConnectRequest, Union[StatusCodes, int]], Any]] = None,
    ) -> ConnectRequest:
        """Connects to the Unix socket at ``path``. Every connection error -- also
        ``ENOENT``, ``ECONNREFUSED`` and ``ENAMETOOLONG`` -- arrives in
        ``on_connect(request, status)``, never as an exception. Misuse of the pipe
        raises at once: ``AlreadyInProgressError`` while a connect is pending,
        ``AlreadyConnectedError`` for a connected or listening pipe."""
        return ConnectRequest(self, path, on_connect)

    def _connect(self, request_id: int, arguments: Any) -> None:
        path = arguments
        if isinstance(arguments, tuple) and len(arguments) == 1:
            path = arguments[0]
        pointer = self._open_ptr()
        _ffi.lib.uvs_pipe_connect(pointer, _ffi.c_path(path), _request_trampoline, request_id)

    def _name(self, function: Any) -> str:
        size = _ffi.UVS_PIPE_PATH_MAX + 1
        buffer = ctypes.create_string_buffer(size)
        length = ctypes.c_size_t()
        function(self._open_ptr(), buffer, size, ctypes.byref(length))
        return os.fsdecode(buffer.raw[: length.value])

    @property
    def sockname(self) -> str:
        """The path the pipe is bound to ('' if unbound)."""
        return self._name(_ffi.lib.uvs_pipe_sockname)

    @property
    def peername(self) -> str:
        """The path of the peer's socket ('' if the peer is unbound). Raises
        ``NotConnectedError`` when not connected."""
        return self._name(_ffi.lib.uvs_pipe_peername)

    def chmod(self, flags: int) -> None:
        """Makes a bound pipe's socket file readable and/or writable by everyone
        (``PipeChmod.READABLE | PipeChmod.WRITABLE``)."""
        flags = _ffi.c_int_arg(flags, "flags")
        _ffi.lib.uvs_pipe_chmod(self._open_ptr(), flags)

    def pending_instances(self, amount: int) -> None:
        """Sets the number of pending pipe instances of a listening pipe (meaningful on
        Windows; accepted and ignored elsewhere). ``amount`` < 1 raises
        ``ArgumentError``."""
        amount = _ffi.c_int_arg(amount, "amount")
        _ffi.lib.uvs_pipe_pending_instances(self._open_ptr(), amount)

    @property
    def pending_count(self) -> int:
        """The number of streams received over this ipc pipe and not yet accepted (0
        once closing)."""
        if self._closing or self._ptr is None:
            return 0
        return int(_ffi.lib.uvs_pipe_pending_count(self._ptr))

    @property
    def pending_type(self) -> Optional[Type[Stream]]:
        """The class of the next stream waiting to be accepted (:class:`TCP` or
        :class:`Pipe`), or None (also once closing)."""
        if self._closing or self._ptr is None:
            return None
        kind = _ffi.lib.uvs_pipe_pending_kind(self._ptr)
        if kind == _ffi.UVS_KIND_TCP:
            return TCP
        if kind == _ffi.UVS_KIND_PIPE:
            return Pipe
        return None

    def _accept_class(self) -> Type[Stream]:
        pending = self.pending_type
        return pending if pending is not None else type(self)

    def pending_accept(self, *arguments: Any, **keywords: Any) -> Stream:
        """Accepts the next stream received over this ipc pipe into a new object of
        :attr:`pending_type` (built with ``*arguments, **keywords`` on this loop).
        Raises ``ArgumentError`` when nothing is pending."""
        self._open_ptr()
        cls = self.pending_type
        if cls is None:
            raise error.ArgumentError(error.StatusCodes.EINVAL, "no stream is pending on this pipe")
        return self.accept(cls, *arguments, **keywords)
