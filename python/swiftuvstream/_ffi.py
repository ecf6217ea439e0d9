"""The ctypes table: every function of ``include/swiftuvstream.h``, and nothing else.

This module is the only place that declares C functions (``scripts/check-abi`` checks
that the names here are exactly the header's). Each declaration gives ``argtypes``,
``restype`` and, for functions that return a status, an ``errcheck`` that turns a
negative code into the matching :class:`~swiftuvstream.error.UVError` subclass.

Opaque pointers (loops, handles) are plain ``c_void_p`` values: Python ints. The
callback types (``CLOSE_CB``, ``READ_CB``, ...) mirror the header's typedefs; the rest of
the package defines exactly one module-level function of each type (a trampoline) and
passes an integer id as ``user_data``, so nothing has to be kept alive per call.

Library lookup, first match wins:

1. ``$SWIFTUVSTREAM_LIBRARY`` (a path to the shared library);
2. a copy inside this package (``swiftuvstream/libswiftuvstream.so``: what
   ``pip install .`` produces);
3. the build folders of a source checkout: ``build/``, ``.build/debug``,
   ``.build/release`` under the repository root;
4. ``ctypes.util.find_library("swiftuvstream")`` (an installed library).

Failing all of them raises an :class:`ImportError` that names everything tried.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import operator
import os
import struct
import warnings
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    byref,
    c_char,
    c_char_p,
    c_int,
    c_size_t,
    c_ssize_t,
    c_uint,
    c_uint64,
    c_void_p,
    py_object,
)
from typing import Any, Callable, List, Optional, Sequence, Tuple

from . import error

__all__ = ["lib", "library_path", "EXPECTED_MAJOR"]

#: The major version of the C API this package is written against (UVS_VERSION_MAJOR).
EXPECTED_MAJOR = 0

# Constants of the header that Python needs.
UVS_RUN_DEFAULT = 0
UVS_RUN_ONCE = 1
UVS_RUN_NOWAIT = 2
UVS_KIND_TCP = 1
UVS_KIND_PIPE = 2
UVS_KIND_TTY = 3
UVS_KIND_TIMER = 4
UVS_TCP_IPV6ONLY = 1
UVS_IP_MAX = 64
UVS_PIPE_PATH_MAX = 107
UVS_PIPE_READABLE = 1
UVS_PIPE_WRITABLE = 2
UVS_DEFAULT_HIGH_WATERMARK = 65536
UVS_DEFAULT_LOW_WATERMARK = 16384
UVS_TTY_MODE_NORMAL = 0
UVS_TTY_MODE_RAW = 1
UVS_TTY_MODE_IO = 2

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
# python/swiftuvstream/_ffi.py -> the repository root of a source checkout.
_REPO_ROOT = os.path.dirname(os.path.dirname(_PACKAGE_DIR))
_LIBRARY_NAMES = ("libswiftuvstream.so", "libswiftuvstream.so.0", "libswiftuvstream.dylib")


def _candidates() -> List[Tuple[str, str]]:
    """(description, path) pairs in lookup order."""
    found: List[Tuple[str, str]] = []
    env = os.environ.get("SWIFTUVSTREAM_LIBRARY")
    if env:
        found.append(("$SWIFTUVSTREAM_LIBRARY", env))
    for name in _LIBRARY_NAMES:
        found.append(("inside the package", os.path.join(_PACKAGE_DIR, name)))
    for folder in ("build", os.path.join(".build", "debug"), os.path.join(".build", "release")):
        found.append(("source checkout", os.path.join(_REPO_ROOT, folder, "libswiftuvstream.so")))
    return found


def _load() -> Tuple[ctypes.CDLL, str]:
    tried: List[str] = []
    env_failure: Optional[str] = None
    for what, path in _candidates():
        if not os.path.exists(path):
            tried.append("%s: %s (not found)" % (what, path))
            if what.startswith("$"):
                env_failure = "%s does not exist" % path
            continue
        try:
            library = ctypes.CDLL(path)
        except OSError as exc:
            tried.append("%s: %s (%s)" % (what, path, exc))
            if what.startswith("$"):
                env_failure = str(exc)
            continue
        if env_failure is not None:
            warnings.warn(
                "SWIFTUVSTREAM_LIBRARY could not be loaded (%s); using %s" % (env_failure, path),
                RuntimeWarning,
                stacklevel=3,
            )
        return library, path
    system = ctypes.util.find_library("swiftuvstream")
    if system is not None:
        try:
            return ctypes.CDLL(system), system
        except OSError as exc:
            tried.append("ctypes.util.find_library: %s (%s)" % (system, exc))
    else:
        tried.append("ctypes.util.find_library('swiftuvstream'): nothing")
    raise ImportError(
        "swiftuvstream: cannot load libswiftuvstream. Build it (make build), install the "
        "package with pip, or set SWIFTUVSTREAM_LIBRARY to its path. Tried:\n  "
        + "\n  ".join(tried)
    )


lib, library_path = _load()
# The same library, for functions called without releasing the GIL (ctypes.PyDLL): short,
# never-blocking calls on the hot path, where releasing and re-taking the GIL around the
# call would cost more than the call. (They run on the loop's thread, which holds the GIL
# anyway.)
_lib_keeping_gil = ctypes.PyDLL(library_path, handle=lib._handle)

# --------------------------------------------------------------------------------------
# Types
# --------------------------------------------------------------------------------------


class uvs_buf_t(Structure):
    """``uvs_buf_t { const void *base; size_t len; }``. ``base`` is declared
    ``c_char_p`` (same ABI as ``const void *``) so a ``bytes`` object can be stored
    without a copy, and an address (an int) for any other buffer."""

    _fields_ = [("base", c_char_p), ("len", c_size_t)]


# The callback typedefs. (CFUNCTYPE caches by signature, so the three request
# callbacks and the close/timer/post callbacks of equal shape share a class.)
uvs_close_cb = CFUNCTYPE(None, c_void_p, c_void_p)
uvs_post_cb = CFUNCTYPE(None, c_void_p, c_void_p)
# The read callback's data arrives as a char pointer: ``data[:length]`` is then one copy
# into a bytes object, without a further ctypes call.
uvs_read_cb = CFUNCTYPE(None, c_void_p, c_int, POINTER(c_char), c_size_t, c_void_p)
uvs_connection_cb = CFUNCTYPE(None, c_void_p, c_int, c_void_p)
uvs_connect_cb = CFUNCTYPE(None, c_void_p, c_int, c_void_p)
uvs_write_cb = CFUNCTYPE(None, c_void_p, c_int, c_void_p)
uvs_shutdown_cb = CFUNCTYPE(None, c_void_p, c_int, c_void_p)
uvs_writability_cb = CFUNCTYPE(None, c_void_p, c_int, c_void_p)
uvs_timer_cb = CFUNCTYPE(None, c_void_p, c_void_p)

# Friendlier aliases for the rest of the package.
CLOSE_CB = uvs_close_cb
POST_CB = uvs_post_cb
READ_CB = uvs_read_cb
CONNECTION_CB = uvs_connection_cb
CONNECT_CB = uvs_connect_cb
WRITE_CB = uvs_write_cb
SHUTDOWN_CB = uvs_shutdown_cb
WRITABILITY_CB = uvs_writability_cb
TIMER_CB = uvs_timer_cb

_loop = c_void_p
_handle = c_void_p
_stream = c_void_p
_timer = c_void_p
_out = POINTER(c_void_p)
# A ``const uvs_buf_t[]`` argument: declared as an address so that both a ctypes array
# (:class:`Buffers`) and a packed 16-byte ``uvs_buf_t`` (:func:`bytes_buf`) can be passed.
_bufs = c_void_p

# --------------------------------------------------------------------------------------
# errcheck: negative results become exceptions
# --------------------------------------------------------------------------------------


def _check(result: int, func: Any, args: Any) -> int:
    """For handle functions: a negative result raises the UVError subclass for it
    (``ECLOSED`` -> ClosedHandleError)."""
    if result < 0:
        raise error.UVError(result)
    return result


def _check_loop(result: int, func: Any, args: Any) -> int:
    """For loop functions and constructors on a loop: ``ECLOSED`` means the loop is
    closed (ClosedLoopError); other negative results raise as in ``_check``."""
    if result < 0:
        if result == error.StatusCodes.ECLOSED:
            raise error.ClosedLoopError()
        raise error.UVError(result)
    return result


def _declare(
    name: str,
    restype: Any,
    argtypes: Sequence[Any],
    errcheck: Optional[Callable[..., Any]] = None,
    keep_gil: bool = False,
) -> None:
    """Declares one C function as ``lib.<name>``. ``errcheck`` None (the hot-path
    functions marked *hot* below): the result comes back as is and the caller raises
    ``UVError`` for a negative one itself -- an errcheck costs a Python call per C call.
    ``keep_gil``: called without releasing the GIL."""
    if keep_gil:
        function = getattr(_lib_keeping_gil, name)
        setattr(lib, name, function)
    else:
        function = getattr(lib, name)
    function.restype = restype
    function.argtypes = list(argtypes)
    if errcheck is not None:
        function.errcheck = errcheck


# --------------------------------------------------------------------------------------
# The table, in the header's order. Functions marked "hot" (called per read or write)
# have no errcheck: their callers check the result.
# --------------------------------------------------------------------------------------

# 1. Version
_declare("uvs_version", c_uint, [])
_declare("uvs_version_string", c_char_p, [])
_declare("uvs_libuv_version_string", c_char_p, [])

# 2. Errors
_declare("uvs_strerror", c_char_p, [c_int])
_declare("uvs_err_name", c_char_p, [c_int])

# 3. Loop
_declare("uvs_loop_new", c_int, [_out], _check_loop)
_declare("uvs_loop_new_with_buffer_size", c_int, [c_size_t, _out], _check_loop)
_declare("uvs_loop_run", c_int, [_loop, c_int], _check_loop)
_declare("uvs_loop_stop", c_int, [_loop], _check_loop)
_declare("uvs_loop_alive", c_int, [_loop], _check_loop)
_declare("uvs_loop_now", c_uint64, [_loop])
_declare("uvs_loop_update_time", c_int, [_loop], _check_loop)
_declare("uvs_loop_handle_count", c_int, [_loop], _check_loop)
_declare("uvs_loop_close_all", c_int, [_loop, uvs_close_cb, c_void_p], _check_loop)
_declare("uvs_loop_close", c_int, [_loop], _check_loop)
_declare("uvs_loop_release", None, [_loop])
_declare("uvs_loop_post", c_int, [_loop, uvs_post_cb, c_void_p], _check_loop)

# 4. Handles
_declare("uvs_close", c_int, [_handle, uvs_close_cb, c_void_p], _check)
_declare("uvs_release", None, [_handle])
_declare("uvs_handle_kind", c_int, [_handle], _check)
_declare("uvs_handle_loop", c_void_p, [_handle])
_declare("uvs_handle_set_data", c_int, [_handle, c_void_p], _check)
_declare("uvs_handle_data", c_void_p, [_handle])
_declare("uvs_is_closing", c_int, [_handle], _check)
_declare("uvs_is_active", c_int, [_handle], _check)
_declare("uvs_ref", c_int, [_handle], _check)
_declare("uvs_unref", c_int, [_handle], _check)
_declare("uvs_has_ref", c_int, [_handle], _check)
_declare("uvs_fileno", c_int, [_handle], _check)
_declare("uvs_send_buffer_size", c_int, [_handle], _check)
_declare("uvs_set_send_buffer_size", c_int, [_handle, c_int], _check)
_declare("uvs_receive_buffer_size", c_int, [_handle], _check)
_declare("uvs_set_receive_buffer_size", c_int, [_handle, c_int], _check)

# 5. Streams
_declare("uvs_listen", c_int, [_stream, c_int, uvs_connection_cb, c_void_p], _check)
_declare("uvs_accept", c_int, [_stream, _stream], _check)
_declare("uvs_read_start", c_int, [_stream, uvs_read_cb, c_void_p], _check)
_declare("uvs_read_stop", c_int, [_stream], _check)
_declare("uvs_is_reading", c_int, [_stream], _check)
_declare("uvs_is_readable", c_int, [_stream], _check)
_declare("uvs_is_writable", c_int, [_stream], _check)
_declare("uvs_write_queue_size", c_size_t, [_stream])
_declare("uvs_write", c_int, [_stream, _bufs, c_size_t, uvs_write_cb, c_void_p], keep_gil=True)  # hot
_declare("uvs_write_now", c_int, [_stream, _bufs, c_size_t, uvs_write_cb, c_void_p], keep_gil=True)  # hot
_declare("uvs_write2", c_int, [_stream, _bufs, c_size_t, _stream, uvs_write_cb, c_void_p], _check)
_declare("uvs_try_write", c_int, [_stream, _bufs, c_size_t], _check)
_declare("uvs_shutdown", c_int, [_stream, uvs_shutdown_cb, c_void_p], _check)
_declare("uvs_set_write_watermarks", c_int, [_stream, c_size_t, c_size_t], _check)
_declare("uvs_on_writability_changed", c_int, [_stream, uvs_writability_cb, c_void_p], _check)
_declare("uvs_is_write_blocked", c_int, [_stream], _check)

# 6. TCP
_declare("uvs_tcp_new", c_int, [_loop, c_int, _out], _check_loop)
_declare("uvs_tcp_open", c_int, [_stream, c_int], _check)
_declare("uvs_tcp_bind", c_int, [_stream, c_char_p, c_int, c_uint], _check)
_declare("uvs_tcp_connect", c_int, [_stream, c_char_p, c_int, uvs_connect_cb, c_void_p], _check)
_declare("uvs_tcp_nodelay", c_int, [_stream, c_int], _check)
_declare("uvs_tcp_keepalive", c_int, [_stream, c_int, c_uint], _check)
_declare("uvs_tcp_simultaneous_accepts", c_int, [_stream, c_int], _check)
_declare("uvs_tcp_sockname", c_int, [_stream, POINTER(c_char), c_size_t, POINTER(c_int), POINTER(c_int)], _check)
_declare("uvs_tcp_peername", c_int, [_stream, POINTER(c_char), c_size_t, POINTER(c_int), POINTER(c_int)], _check)

# 7. Timer
_declare("uvs_timer_new", c_int, [_loop, _out], _check_loop)
_declare("uvs_timer_start", c_int, [_timer, c_uint64, c_uint64, uvs_timer_cb, c_void_p], _check)
_declare("uvs_timer_stop", c_int, [_timer], _check)
_declare("uvs_timer_again", c_int, [_timer], _check)
_declare("uvs_timer_set_repeat", c_int, [_timer, c_uint64], _check)
_declare("uvs_timer_repeat", c_uint64, [_timer])

# 8. Pipes
_declare("uvs_pipe_new", c_int, [_loop, c_int, _out], _check_loop)
_declare("uvs_pipe_open", c_int, [_stream, c_int], _check)
_declare("uvs_pipe_bind", c_int, [_stream, c_char_p], _check)
_declare("uvs_pipe_connect", c_int, [_stream, c_char_p, uvs_connect_cb, c_void_p], _check)
_declare("uvs_pipe_chmod", c_int, [_stream, c_int], _check)
_declare("uvs_pipe_sockname", c_int, [_stream, POINTER(c_char), c_size_t, POINTER(c_size_t)], _check)
_declare("uvs_pipe_peername", c_int, [_stream, POINTER(c_char), c_size_t, POINTER(c_size_t)], _check)
_declare("uvs_pipe_pending_instances", c_int, [_stream, c_int], _check)
_declare("uvs_pipe_pending_count", c_int, [_stream], _check)
_declare("uvs_pipe_pending_kind", c_int, [_stream], _check)
_declare("uvs_is_ipc", c_int, [_stream], _check)
_declare("uvs_pipe_pair", c_int, [POINTER(c_int)], _check)
_declare("uvs_socketpair", c_int, [POINTER(c_int)], _check)

# 9. TTYs
_declare("uvs_tty_new", c_int, [_loop, c_int, c_int, _out], _check_loop)
_declare("uvs_tty_set_mode", c_int, [_stream, c_int], _check)
_declare("uvs_tty_get_winsize", c_int, [_stream, POINTER(c_int), POINTER(c_int)], _check)
_declare("uvs_tty_reset_mode", c_int, [], _check)

# --------------------------------------------------------------------------------------
# Version check
# --------------------------------------------------------------------------------------

_version = lib.uvs_version()
if _version >> 16 != EXPECTED_MAJOR:
    raise ImportError(
        "swiftuvstream: %s is version %s (major %d); this package needs major %d"
        % (library_path, lib.uvs_version_string().decode(), _version >> 16, EXPECTED_MAJOR)
    )

# --------------------------------------------------------------------------------------
# Python's C API, for zero-copy access to any buffer-protocol object when writing, and
# for running pending signal handlers from inside a loop callback.
# --------------------------------------------------------------------------------------


class _PyBuffer(Structure):
    _fields_ = [
        ("buf", c_void_p),
        ("obj", c_void_p),
        ("len", c_ssize_t),
        ("itemsize", c_ssize_t),
        ("readonly", c_int),
        ("ndim", c_int),
        ("format", c_void_p),
        ("shape", c_void_p),
        ("strides", c_void_p),
        ("suboffsets", c_void_p),
        ("internal", c_void_p),
    ]


_PyObject_GetBuffer = ctypes.pythonapi.PyObject_GetBuffer
_PyObject_GetBuffer.argtypes = [py_object, POINTER(_PyBuffer), c_int]
_PyObject_GetBuffer.restype = c_int
_PyBuffer_Release = ctypes.pythonapi.PyBuffer_Release
_PyBuffer_Release.argtypes = [POINTER(_PyBuffer)]
_PyBuffer_Release.restype = None
_PyErr_CheckSignals = ctypes.pythonapi.PyErr_CheckSignals
_PyErr_CheckSignals.argtypes = []
_PyErr_CheckSignals.restype = c_int
_PyBUF_SIMPLE = 0


def check_signals() -> None:
    """Runs pending Python signal handlers now (raises what they raise, e.g.
    KeyboardInterrupt)."""
    _PyErr_CheckSignals()


class Buffers:
    """A ``uvs_buf_t`` array over the caller's buffers, without copying them.

    ``buffers`` is one bytes-like object or a list/tuple of them. ``bytes`` are
    referenced directly; any other buffer-protocol object (bytearray, memoryview,
    array.array, mmap, ...) is exported with ``PyObject_GetBuffer`` and released by
    :meth:`release`; a non-contiguous buffer is copied. Anything else (``str``, ``int``,
    ``None``, nested lists) raises :class:`TypeError`. Use as a context manager around
    the C call: the library reads the buffers only during the call.
    """

    __slots__ = ("array", "count", "nbytes", "_views", "_keep")

    def __init__(self, buffers: Any) -> None:
        if isinstance(buffers, (list, tuple)):
            items = buffers
        else:
            items = (buffers,)
        count = len(items)
        self.count = count
        self.array = array = (uvs_buf_t * count)()
        self._views: List[_PyBuffer] = []
        self._keep: List[bytes] = []
        nbytes = 0
        try:
            for index, item in enumerate(items):
                entry = array[index]
                if type(item) is bytes:
                    entry.base = item
                    entry.len = len(item)
                    nbytes += len(item)
                    continue
                if isinstance(item, str):
                    raise TypeError("a bytes-like object is required, not 'str' (encode it first)")
                view = _PyBuffer()
                try:
                    _PyObject_GetBuffer(item, byref(view), _PyBUF_SIMPLE)
                except BufferError:
                    # Not C-contiguous: the one case that needs a copy.
                    data = memoryview(item).tobytes()
                    self._keep.append(data)
                    entry.base = data
                    entry.len = len(data)
                    nbytes += len(data)
                    continue
                except TypeError:
                    raise TypeError(
                        "a bytes-like object (or a list/tuple of them) is required, not %r"
                        % type(item).__name__
                    ) from None
                self._views.append(view)
                entry.base = view.buf
                entry.len = view.len
                nbytes += view.len
        except BaseException:
            self.release()
            raise
        self.nbytes = nbytes

    def release(self) -> None:
        """Releases the exported buffers (idempotent)."""
        views = self._views
        while views:
            _PyBuffer_Release(byref(views.pop()))
        self._keep.clear()

    def __enter__(self) -> "Buffers":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()

    def __del__(self) -> None:
        self.release()


# One bytes object as a packed ``uvs_buf_t`` (base, len), without a ctypes object per
# write: ``pack_buf(id(data) + BYTES_DATA_OFFSET, len(data))``. In CPython a bytes
# object's data (``ob_sval``, the object's last field, whose first byte
# ``__basicsize__`` counts) starts at ``id(obj) + bytes.__basicsize__ - 1``. Checked at
# import against ctypes; where it does not hold (another Python), ``BYTES_DATA_OFFSET``
# is None and bytes go through :class:`Buffers` like any other buffer.
pack_buf = struct.Struct("PN").pack


def _bytes_data_offset() -> Optional[int]:
    offset = bytes.__basicsize__ - 1
    try:
        for probe in (b"", b"x", bytes(range(256)) * 3):
            if ctypes.cast(c_char_p(probe), c_void_p).value != id(probe) + offset:
                return None
            if ctypes.string_at(id(probe) + offset, len(probe)) != probe:  # pragma: no cover
                return None
    except Exception:  # pragma: no cover
        return None
    return offset


BYTES_DATA_OFFSET = _bytes_data_offset()


def bytes_buf(data: bytes) -> bytes:
    """The packed one-entry ``uvs_buf_t[]`` of a bytes object (valid while ``data``
    lives); the hot path inlines this."""
    assert BYTES_DATA_OFFSET is not None and type(data) is bytes
    return pack_buf(id(data) + BYTES_DATA_OFFSET, len(data))


def new_object(create: Callable[..., int], *args: Any) -> int:
    """Calls a ``uvs_*_new(..., &out)`` function and returns the new pointer."""
    out = c_void_p()
    create(*(args + (byref(out),)))
    if not out.value:  # pragma: no cover - the contract sets *out on success
        raise error.UVError(error.StatusCodes.UNKNOWN)
    return out.value


def fd_pair(create: Callable[..., int]) -> Tuple[int, int]:
    """Calls ``uvs_pipe_pair`` or ``uvs_socketpair`` and returns the two fds."""
    fds = (c_int * 2)()
    create(fds)
    return fds[0], fds[1]


def c_path(path: Any, what: str = "path") -> bytes:
    """A filesystem path (str, bytes or os.PathLike) as bytes for C; a NUL inside is
    an ArgumentError (C would silently cut the path there)."""
    if isinstance(path, (str, bytes)) or hasattr(path, "__fspath__"):
        encoded = os.fsencode(path)
    else:
        raise TypeError("%s must be str, bytes or os.PathLike, not %r" % (what, type(path).__name__))
    if b"\0" in encoded:
        raise error.ArgumentError(error.StatusCodes.EINVAL, "%s contains a NUL character" % what)
    return encoded


def c_int_arg(value: Any, what: str, low: int = -(2**31), high: int = 2**31 - 1) -> int:
    """``value`` as a Python int within [low, high]: TypeError for non-integers, an
    ArgumentError (EINVAL) when out of range -- ctypes would silently truncate."""
    if isinstance(value, float):
        raise TypeError("%s must be an integer, not float" % what)
    try:
        number: int = operator.index(value)  # also checks that __index__ gave an int
    except TypeError:
        raise TypeError("%s must be an integer, not %r" % (what, type(value).__name__)) from None
    if not low <= number <= high:
        raise error.ArgumentError(error.StatusCodes.EINVAL, "%s out of range: %d" % (what, number))
    return number


def milliseconds(value: Any, what: str) -> int:
    """A non-negative duration in milliseconds (int or float) as an int."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = operator.index(value)
        except TypeError:
            raise TypeError("%s must be a number of milliseconds, not %r" % (what, type(value).__name__)) from None
    if value != value or value < 0 or value >= 2**63:
        raise error.ArgumentError(error.StatusCodes.EINVAL, "%s must be >= 0 milliseconds, not %r" % (what, value))
    return int(value)


def version_info() -> Tuple[int, int, int]:
    """The linked library's version as (major, minor, patch)."""
    return (_version >> 16) & 0xFF, (_version >> 8) & 0xFF, _version & 0xFF

