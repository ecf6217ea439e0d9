"""swiftuvstream: streams over libuv -- TCP, pipes (with stream passing between
processes) and terminals -- driven by an event loop.

The Python face of libswiftuvstream (a Swift core over libuv 1.44), with the API of
python-libuv's ``uv.Stream`` page and its companion classes::

    import swiftuvstream as uv

    def on_read(stream, status, data):
        if status is uv.StatusCodes.SUCCESS:
            stream.write(data)          # echo
        else:                           # StatusCodes.EOF or an error
            stream.close()

    def on_connection(server, status):
        server.accept().read_start(on_read)

    loop = uv.Loop()
    server = uv.TCP()
    server.bind(("127.0.0.1", 0))
    server.listen(on_connection=on_connection)
    loop.run()

Every callback runs on the loop's thread inside :meth:`Loop.run`; an exception raised
in one goes to ``loop.excepthook``. See :mod:`swiftuvstream.error` for status codes and
exceptions.
"""

from __future__ import annotations

from . import _ffi, error
from .error import ClosedHandleError, ClosedLoopError, StatusCodes, UVError
from .handle import Handle
from .loop import Loop, RunModes, default_excepthook
from .pipe import Pipe, PipeChmod
from .request import ConnectRequest, Request, ShutdownRequest, WriteRequest
from .stream import Stream
from .tcp import TCP, Address, TCPFlags
from .timer import Timer
from .tty import TTY, ConsoleSize, TTYMode
from . import pipe, tty  # noqa: E402  (the modules, for tty.reset_mode() and friends)

__all__ = [
    "Loop",
    "RunModes",
    "default_excepthook",
    "Handle",
    "Stream",
    "TCP",
    "TCPFlags",
    "Address",
    "Pipe",
    "PipeChmod",
    "TTY",
    "TTYMode",
    "ConsoleSize",
    "Timer",
    "Request",
    "ConnectRequest",
    "WriteRequest",
    "ShutdownRequest",
    "StatusCodes",
    "UVError",
    "ClosedHandleError",
    "ClosedLoopError",
    "error",
    "tty",
    "pipe",
    "version",
    "version_info",
    "libuv_version",
    "__version__",
]

#: The linked library's version, "major.minor.patch".
version: str = _ffi.lib.uvs_version_string().decode("ascii")
#: The linked library's version as a tuple of ints.
version_info = _ffi.version_info()
#: The version of libuv the library runs on.
libuv_version: str = _ffi.lib.uvs_libuv_version_string().decode("ascii")
__version__ = version
