"""StatusCodes and the UVError hierarchy (swiftuvstream.error)."""

from __future__ import annotations

import builtins
import errno
import os
import pickle
import re

import pytest

from support import ROOT, uv

from swiftuvstream.error import StatusCodes, UVError

HEADER = os.path.join(ROOT, "include", "swiftuvstream.h")


def header_codes():
    codes = {}
    for line in open(HEADER):
        match = re.match(r"#define UVS_(E\w+|UNKNOWN)\s+\((-?\d+)\)", line)
        if match:
            codes[match.group(1)] = int(match.group(2))
    return codes


def test_status_codes_are_every_header_code():
    codes = header_codes()
    assert len(codes) >= 80
    members = {member.name: member.value for member in StatusCodes}
    assert members.pop("SUCCESS") == 0
    assert members == codes


def test_status_codes_canonical_members():
    assert uv.error.status(0) is StatusCodes.SUCCESS
    assert uv.error.status(-4095) is StatusCodes.EOF
    assert uv.error.status(-125) is StatusCodes.ECANCELED
    assert uv.error.status(-123456) == -123456  # unknown codes stay ints
    assert isinstance(StatusCodes.EAGAIN, int)


def test_top_level_names():
    assert uv.StatusCodes is StatusCodes
    assert uv.UVError is UVError
    assert uv.ClosedHandleError is uv.error.ClosedHandleError
    assert uv.ClosedLoopError is uv.error.ClosedLoopError


@pytest.mark.parametrize(
    "code, cls, builtin",
    [
        (StatusCodes.EAGAIN, "TemporaryUnavailableError", builtins.BlockingIOError),
        (StatusCodes.EINVAL, "ArgumentError", builtins.ValueError),
        (StatusCodes.EPIPE, "BrokenPipeError", builtins.BrokenPipeError),
        (StatusCodes.ECONNRESET, "ConnectionResetError", builtins.ConnectionResetError),
        (StatusCodes.ECONNREFUSED, "ConnectionRefusedError", builtins.ConnectionRefusedError),
        (StatusCodes.ECONNABORTED, "ConnectionAbortedError", builtins.ConnectionAbortedError),
        (StatusCodes.ENOENT, "FileNotFoundError", builtins.FileNotFoundError),
        (StatusCodes.EEXIST, "FileExistsError", builtins.FileExistsError),
        (StatusCodes.EACCES, "PermissionError", builtins.PermissionError),
        (StatusCodes.EPERM, "PermissionError", builtins.PermissionError),
        (StatusCodes.ETIMEDOUT, "TimeoutError", builtins.TimeoutError),
        (StatusCodes.EINTR, "InterruptedError", builtins.InterruptedError),
        (StatusCodes.ESHUTDOWN, "EndpointShutdownError", builtins.BrokenPipeError),
        (StatusCodes.EOF, "EndOfFileError", builtins.EOFError),
        (StatusCodes.EADDRINUSE, "AddressInUseError", OSError),
        (StatusCodes.EBUSY, "ResourceBusyError", OSError),
        (StatusCodes.ECANCELED, "CanceledError", OSError),
        (StatusCodes.EBADF, "BadFileDescriptorError", OSError),
        (StatusCodes.ENOTSOCK, "NotSocketError", OSError),
        (StatusCodes.ENOTCONN, "NotConnectedError", OSError),
        (StatusCodes.ENAMETOOLONG, "NameTooLongError", OSError),
        (StatusCodes.ECLOSED, "ClosedHandleError", OSError),
        (StatusCodes.EWRONGTHREAD, "WrongThreadError", OSError),
    ],
)
def test_uverror_gives_the_subclass_for_its_code(code, cls, builtin):
    exc = UVError(code)
    assert type(exc) is getattr(uv.error, cls)
    assert isinstance(exc, UVError)
    assert isinstance(exc, OSError)
    assert isinstance(exc, builtin)
    assert exc.code is code
    assert exc.name == code.name
    assert exc.message and isinstance(exc.message, str)
    assert code.name in str(exc)
    with pytest.raises(builtin):
        raise exc


def test_uverror_attributes():
    exc = UVError(StatusCodes.ECONNREFUSED)
    assert exc.message == "connection refused"
    assert exc.name == "ECONNREFUSED"
    assert exc.errno == errno.ECONNREFUSED
    assert str(exc) == "[ECONNREFUSED] connection refused"
    assert UVError(StatusCodes.EOF).errno is None
    assert UVError(StatusCodes.ECLOSED).errno is None
    # An unknown code gives a plain UVError.
    unknown = UVError(-123456)
    assert type(unknown) is UVError and unknown.code == -123456
    # A subclass raised without a code uses its own.
    assert uv.error.ArgumentError().code is StatusCodes.EINVAL
    assert uv.ClosedHandleError().code is StatusCodes.ECLOSED
    assert uv.ClosedLoopError().code is StatusCodes.ECLOSED
    assert uv.error.ArgumentError(StatusCodes.EINVAL, "custom").message == "custom"


def test_closed_errors_are_their_own_classes():
    assert uv.ClosedHandleError is not uv.ClosedLoopError
    assert not issubclass(uv.ClosedLoopError, uv.ClosedHandleError)
    assert not issubclass(uv.ClosedHandleError, uv.ClosedLoopError)
    assert type(UVError(StatusCodes.ECLOSED)) is uv.ClosedHandleError


def test_uverror_pickles():
    exc = UVError(StatusCodes.EPIPE)
    copy = pickle.loads(pickle.dumps(exc))
    assert type(copy) is type(exc) and copy.code is StatusCodes.EPIPE


def test_errors_sharing_a_code_keep_their_class_when_pickled():
    """ECLOSED is ClosedHandleError by default; a ClosedLoopError stays one."""
    for exc in (uv.error.ClosedLoopError(), uv.error.ClosedHandleError()):
        copy = pickle.loads(pickle.dumps(exc))
        assert type(copy) is type(exc) and copy.code is StatusCodes.ECLOSED and copy.message == exc.message


def test_star_import_does_not_shadow_builtins():
    namespace = {}
    exec("from swiftuvstream.error import *", namespace)
    for name in ("BrokenPipeError", "ConnectionResetError", "FileNotFoundError", "TimeoutError", "IOError"):
        assert name not in namespace
