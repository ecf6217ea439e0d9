"""Status codes and exceptions.

Every function of the C library reports failure with a negative libuv error code
(``UVS_E*`` in ``swiftuvstream.h``). In Python those codes are :class:`StatusCodes`
members, and a failed call raises :class:`UVError` -- more precisely the subclass for
its code, which also derives from the matching builtin exception (PEP 3151): catching
``ConnectionRefusedError``, ``BlockingIOError`` or ``ValueError`` works as it does for
the :mod:`socket` module.

``UVError(code)`` builds the subclass for ``code``::

    >>> isinstance(UVError(StatusCodes.EAGAIN), TemporaryUnavailableError)
    True

Callbacks receive status codes, never exceptions: ``on_read(stream, status, data)``
gets ``StatusCodes.SUCCESS``, ``StatusCodes.EOF``, ``StatusCodes.ECONNRESET``, ...
(the canonical members, so ``status is StatusCodes.SUCCESS`` holds).
"""

from __future__ import annotations

import builtins
import enum
from typing import Any, Callable, Dict, Optional, Tuple, Type, Union

__all__ = [
    "StatusCodes",
    "UVError",
    "ClosedHandleError",
    "ClosedLoopError",
    "WrongThreadError",
    "TemporaryUnavailableError",
    "AlreadyInProgressError",
    "ArgumentError",
    "EndpointShutdownError",
    "AddressInUseError",
    "AddressNotAvailableError",
    "AddressFamilyNotSupportedError",
    "ResourceBusyError",
    "CanceledError",
    "BadFileDescriptorError",
    "NotSocketError",
    "NotConnectedError",
    "AlreadyConnectedError",
    "NameTooLongError",
    "OutOfMemoryError",
    "NoBufferSpaceError",
    "TooManyOpenFilesError",
    "EndOfFileError",
    "InputOutputError",
    "NotSupportedError",
    "UnreachableError",
    "status",
]
# Classes named like builtins (BrokenPipeError, ConnectionResetError, FileNotFoundError,
# PermissionError, TimeoutError, ...) are reached as ``uv.error.BrokenPipeError`` and kept
# out of ``__all__``, so ``from swiftuvstream.error import *`` never shadows a builtin.


class StatusCodes(enum.IntEnum):
    """libuv's status codes with their Linux values, as ``swiftuvstream.h`` defines them.

    ``SUCCESS`` (0) is success; every other member is a negative error code. The last
    two, ``ECLOSED`` and ``EWRONGTHREAD``, are the library's own (a closed handle or
    loop; a call from a thread that does not own the running loop).
    """

    SUCCESS = 0  #: success
    E2BIG = -7  #: argument list too long
    EACCES = -13  #: permission denied
    EADDRINUSE = -98  #: address already in use
    EADDRNOTAVAIL = -99  #: address not available
    EAFNOSUPPORT = -97  #: address family not supported
    EAGAIN = -11  #: resource temporarily unavailable
    EAI_ADDRFAMILY = -3000  #: address family not supported
    EAI_AGAIN = -3001  #: temporary failure
    EAI_BADFLAGS = -3002  #: bad ai_flags value
    EAI_BADHINTS = -3013  #: invalid value for hints
    EAI_CANCELED = -3003  #: request canceled
    EAI_FAIL = -3004  #: permanent failure
    EAI_FAMILY = -3005  #: ai_family not supported
    EAI_MEMORY = -3006  #: out of memory
    EAI_NODATA = -3007  #: no address
    EAI_NONAME = -3008  #: unknown node or service
    EAI_OVERFLOW = -3009  #: argument buffer overflow
    EAI_PROTOCOL = -3014  #: resolved protocol is unknown
    EAI_SERVICE = -3010  #: service not available for socket type
    EAI_SOCKTYPE = -3011  #: socket type not supported
    EALREADY = -114  #: connection already in progress
    EBADF = -9  #: bad file descriptor
    EBUSY = -16  #: resource busy or locked
    ECANCELED = -125  #: operation canceled
    ECHARSET = -4080  #: invalid Unicode character
    ECONNABORTED = -103  #: software caused connection abort
    ECONNREFUSED = -111  #: connection refused
    ECONNRESET = -104  #: connection reset by peer
    EDESTADDRREQ = -89  #: destination address required
    EEXIST = -17  #: file already exists
    EFAULT = -14  #: bad address in system call argument
    EFBIG = -27  #: file too large
    EHOSTUNREACH = -113  #: host is unreachable
    EINTR = -4  #: interrupted system call
    EINVAL = -22  #: invalid argument
    EIO = -5  #: i/o error
    EISCONN = -106  #: socket is already connected
    EISDIR = -21  #: illegal operation on a directory
    ELOOP = -40  #: too many symbolic links encountered
    EMFILE = -24  #: too many open files
    EMSGSIZE = -90  #: message too long
    ENAMETOOLONG = -36  #: name too long
    ENETDOWN = -100  #: network is down
    ENETUNREACH = -101  #: network is unreachable
    ENFILE = -23  #: file table overflow
    ENOBUFS = -105  #: no buffer space available
    ENODEV = -19  #: no such device
    ENOENT = -2  #: no such file or directory
    ENOMEM = -12  #: not enough memory
    ENONET = -64  #: machine is not on the network
    ENOPROTOOPT = -92  #: protocol not available
    ENOSPC = -28  #: no space left on device
    ENOSYS = -38  #: function not implemented
    ENOTCONN = -107  #: socket is not connected
    ENOTDIR = -20  #: not a directory
    ENOTEMPTY = -39  #: directory not empty
    ENOTSOCK = -88  #: socket operation on non-socket
    ENOTSUP = -95  #: operation not supported on socket
    EOVERFLOW = -75  #: value too large for defined data type
    EPERM = -1  #: operation not permitted
    EPIPE = -32  #: broken pipe
    EPROTO = -71  #: protocol error
    EPROTONOSUPPORT = -93  #: protocol not supported
    EPROTOTYPE = -91  #: protocol wrong type for socket
    ERANGE = -34  #: result too large
    EROFS = -30  #: read-only file system
    ESHUTDOWN = -108  #: cannot send after transport endpoint shutdown
    ESPIPE = -29  #: invalid seek
    ESRCH = -3  #: no such process
    ETIMEDOUT = -110  #: connection timed out
    ETXTBSY = -26  #: text file is busy
    EXDEV = -18  #: cross-device link not permitted
    UNKNOWN = -4094  #: unknown error
    EOF = -4095  #: end of file
    ENXIO = -6  #: no such device or address
    EMLINK = -31  #: too many links
    EHOSTDOWN = -112  #: host is down
    EREMOTEIO = -121  #: remote I/O error
    ENOTTY = -25  #: inappropriate ioctl for device
    EFTYPE = -4028  #: inappropriate file type or format
    EILSEQ = -84  #: illegal byte sequence
    ESOCKTNOSUPPORT = -94  #: socket type not supported
    ECLOSED = -5001  #: operation on a closing or closed handle or loop
    EWRONGTHREAD = -5002  #: call from a thread that does not own the running loop


#: code -> canonical member, for turning C ints into members quickly.
_MEMBERS: Dict[int, StatusCodes] = {member.value: member for member in StatusCodes}


def status(code: int) -> Union[StatusCodes, int]:
    """The :class:`StatusCodes` member for ``code``, or ``code`` itself if unknown."""
    return _MEMBERS.get(code, code)


def _message(code: int) -> str:
    # The C library's message (static storage, never NULL); imported lazily because
    # the ctypes table imports this module.
    from . import _ffi

    message: bytes = _ffi.lib.uvs_strerror(int(code))
    return message.decode("utf-8", "replace")


def _name(code: int) -> str:
    from . import _ffi

    name: bytes = _ffi.lib.uvs_err_name(int(code))
    return name.decode("ascii", "replace")


class UVError(OSError):
    """A failed call: ``code`` (a :class:`StatusCodes` member), ``name`` ("EAGAIN") and
    ``message`` ("resource temporarily unavailable").

    ``UVError(code)`` returns an instance of the subclass registered for ``code`` (for
    example :class:`TemporaryUnavailableError` for ``EAGAIN``); an unknown code gives a
    plain :class:`UVError`. ``errno`` is the positive errno value for codes that mirror
    one (libuv's codes on Unix are ``-errno``), else ``None``.
    """

    #: Codes -> subclasses, filled by ``_register``.
    _classes: Dict[int, Type["UVError"]] = {}
    #: The code a subclass stands for when raised without one.
    default_code: int = StatusCodes.UNKNOWN
    #: The message a subclass gives when raised without one (None: the C library's
    #: message for the code).
    default_message: Optional[str] = None

    code: Union[StatusCodes, int]
    name: str
    message: str

    def __new__(cls, code: Optional[int] = None, message: Optional[str] = None, *args: object) -> "UVError":
        if code is None:
            code = cls.default_code
        code = int(code)
        if cls is UVError:
            cls = UVError._classes.get(code, UVError)
        if message is None:
            message = cls.default_message or _message(code)
        errno = -code if 0 < -code < 3000 else None
        self = OSError.__new__(cls, errno, message)
        self.code = status(code)
        self.name = _name(code)
        self.message = message
        return self

    def __init__(self, code: Optional[int] = None, message: Optional[str] = None, *args: object) -> None:
        # Everything happened in __new__ (OSError parses its arguments there when
        # __new__ is overridden).
        pass

    def __str__(self) -> str:
        return "[%s] %s" % (self.name, self.message)

    def __reduce__(self) -> Tuple[Any, Tuple[int, str]]:
        return (type(self), (int(self.code), self.message))


def _register(*codes: int) -> Callable[[Type[UVError]], Type[UVError]]:
    """Class decorator: ``UVError(code)`` gives this class for each of ``codes``; the
    first is the class's default code."""

    def decorate(cls: Type[UVError]) -> Type[UVError]:
        cls.default_code = codes[0]
        for code in codes:
            UVError._classes[int(code)] = cls
        return cls

    return decorate


S = StatusCodes


@_register(S.ECLOSED)
class ClosedHandleError(UVError):
    """The handle is closing or closed (the library's ``ECLOSED``)."""


class ClosedLoopError(UVError):
    """The loop is closed (the library's ``ECLOSED`` for a loop)."""

    default_code = S.ECLOSED
    default_message = "operation on a closed loop"


@_register(S.EWRONGTHREAD)
class WrongThreadError(UVError):
    """A call from a thread that does not own the running loop (``EWRONGTHREAD``).
    Only :meth:`Loop.call_later` may be called from any thread."""


@_register(S.EAGAIN)
class TemporaryUnavailableError(UVError, builtins.BlockingIOError):
    """``EAGAIN``: nothing can be done right now (``try_write`` with writes queued,
    ``accept`` with nothing pending)."""


@_register(S.EALREADY)
class AlreadyInProgressError(UVError, builtins.BlockingIOError):
    """``EALREADY``: a connect is already in progress."""


@_register(S.EINVAL)
class ArgumentError(UVError, builtins.ValueError):
    """``EINVAL``: an invalid argument (a bad address, a non-terminal fd for a TTY, a
    handle sent over a non-ipc stream, ...)."""


@_register(S.EPIPE)
class BrokenPipeError(UVError, builtins.BrokenPipeError):
    """``EPIPE``: the stream is not writable (shut down, never connected, peer gone)."""


@_register(S.ESHUTDOWN)
class EndpointShutdownError(UVError, builtins.BrokenPipeError):
    """``ESHUTDOWN``: cannot send after the transport endpoint was shut down."""


@_register(S.ECONNRESET)
class ConnectionResetError(UVError, builtins.ConnectionResetError):
    """``ECONNRESET``: connection reset by peer."""


@_register(S.ECONNREFUSED)
class ConnectionRefusedError(UVError, builtins.ConnectionRefusedError):
    """``ECONNREFUSED``: connection refused."""


@_register(S.ECONNABORTED)
class ConnectionAbortedError(UVError, builtins.ConnectionAbortedError):
    """``ECONNABORTED``: software caused connection abort."""


@_register(S.ENOENT)
class FileNotFoundError(UVError, builtins.FileNotFoundError):
    """``ENOENT``: no such file or directory."""


@_register(S.EEXIST)
class FileExistsError(UVError, builtins.FileExistsError):
    """``EEXIST``: file already exists."""


@_register(S.EACCES, S.EPERM)
class PermissionError(UVError, builtins.PermissionError):
    """``EACCES`` or ``EPERM``: permission denied."""


@_register(S.ETIMEDOUT)
class TimeoutError(UVError, builtins.TimeoutError):
    """``ETIMEDOUT``: connection timed out."""


@_register(S.EINTR)
class InterruptedError(UVError, builtins.InterruptedError):
    """``EINTR``: interrupted system call."""


@_register(S.EISDIR)
class IsADirectoryError(UVError, builtins.IsADirectoryError):
    """``EISDIR``: illegal operation on a directory."""


@_register(S.ENOTDIR)
class NotADirectoryError(UVError, builtins.NotADirectoryError):
    """``ENOTDIR``: not a directory."""


@_register(S.ESRCH)
class ProcessLookupError(UVError, builtins.ProcessLookupError):
    """``ESRCH``: no such process."""


@_register(S.EADDRINUSE)
class AddressInUseError(UVError):
    """``EADDRINUSE``: address already in use. libuv reports it from ``listen`` or
    ``connect``, not from ``bind``."""


@_register(S.EADDRNOTAVAIL)
class AddressNotAvailableError(UVError):
    """``EADDRNOTAVAIL``: address not available."""


@_register(S.EAFNOSUPPORT)
class AddressFamilyNotSupportedError(UVError):
    """``EAFNOSUPPORT``: address family not supported."""


@_register(S.EBUSY)
class ResourceBusyError(UVError):
    """``EBUSY``: resource busy (closing a loop with live handles, running a loop that
    is already running)."""


@_register(S.ECANCELED)
class CanceledError(UVError):
    """``ECANCELED``: operation canceled."""


@_register(S.EBADF)
class BadFileDescriptorError(UVError):
    """``EBADF``: bad file descriptor (or none yet)."""


@_register(S.ENOTSOCK)
class NotSocketError(UVError):
    """``ENOTSOCK``: the file descriptor is not a socket."""


@_register(S.ENOTCONN)
class NotConnectedError(UVError):
    """``ENOTCONN``: not connected (reading a stream that is not readable, a second
    shutdown, ``peername`` of an unconnected socket)."""


@_register(S.EISCONN)
class AlreadyConnectedError(UVError):
    """``EISCONN``: the socket is already connected."""


@_register(S.ENAMETOOLONG)
class NameTooLongError(UVError):
    """``ENAMETOOLONG``: a path too long for a Unix socket (never truncated)."""


@_register(S.ENOMEM)
class OutOfMemoryError(UVError):
    """``ENOMEM``: not enough memory."""


@_register(S.ENOBUFS)
class NoBufferSpaceError(UVError):
    """``ENOBUFS``: no buffer space available."""


@_register(S.EMFILE, S.ENFILE)
class TooManyOpenFilesError(UVError):
    """``EMFILE`` or ``ENFILE``: too many open files."""


@_register(S.EOF)
class EndOfFileError(UVError, builtins.EOFError):
    """``EOF``: end of file."""


@_register(S.ENOTSUP, S.ENOSYS)
class NotSupportedError(UVError):
    """``ENOTSUP`` or ``ENOSYS``: operation not supported."""


@_register(S.EHOSTUNREACH, S.ENETUNREACH)
class UnreachableError(UVError):
    """``EHOSTUNREACH`` or ``ENETUNREACH``: host or network unreachable."""


@_register(S.EIO)
class InputOutputError(UVError):
    """``EIO``: i/o error."""


del S
