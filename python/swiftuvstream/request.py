"""Requests: a connect, a write or a shutdown in flight on a stream.

Creating a request starts the operation; its callback runs exactly once, from the loop
(never inside the call that made it), as ``callback(request, status)`` with a
:class:`~swiftuvstream.StatusCodes` member. Closing the stream completes pending
requests with ``StatusCodes.ECANCELED`` before the stream's ``on_closed``. A request
keeps itself and its stream alive until it completes, so ``stream.write(b'x')`` without
keeping the request is safe.
"""

from __future__ import annotations

import bisect
import ctypes
import operator
import weakref
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

from . import _ffi, error
from .error import StatusCodes
from .handle import _ids, registry
from .loop import trampoline

if TYPE_CHECKING:  # pragma: no cover
    from .loop import Loop
    from .stream import Stream

__all__ = ["Request", "ConnectRequest", "WriteRequest", "ShutdownRequest"]

_status_member = error._MEMBERS.get  # error.status(code), without the call
_weak = weakref.ref
_next_id = _ids.__next__
_uvs_write = _ffi.lib.uvs_write
_uvs_write_now = _ffi.lib.uvs_write_now
# nbufs of a one-bytes write, converted once (an int argument costs a conversion per call).
_ONE_BUFFER = ctypes.c_size_t(1)
_SUCCESS = StatusCodes.SUCCESS
_request_id = operator.attrgetter("_id")
_pack_buf = _ffi.pack_buf
_BYTES_DATA_OFFSET = _ffi.BYTES_DATA_OFFSET


@trampoline(_ffi.WRITE_CB)  # == CONNECT_CB == SHUTDOWN_CB: the same C signature
def _request_trampoline(stream_pointer: Optional[int], status: int, user_data: Optional[int]) -> None:
    ref = registry.pop(user_data, None)  # type: ignore[arg-type]
    request = None if ref is None else ref()
    if request is None:
        return
    loop = request.loop
    loop._tick += 1
    try:
        stream = request.stream
        if stream._owed_writes:
            report_owed_writes(stream, user_data)
        if request._finished:
            return  # the zero-byte write that woke the loop for an owed write (WriteRequest._owe)
        request._finished = True
        loop._busy.discard(request)
        callback = getattr(request, request._callback_name)
        if callback is not None:
            callback(request, _status_member(status, status))
    except BaseException:
        loop.handle_exception()


def report_owed_writes(stream: "Stream", before: Optional[int] = None) -> None:
    """Reports the stream's owed writes (see ``WriteRequest.on_write``) submitted
    before the request ``before`` (every one if None): each finished inside its
    write() call, so with ``StatusCodes.SUCCESS``."""
    owed = stream._owed_writes
    while owed and (before is None or owed[0]._id < before):
        request = owed.pop(0)
        request._finished = True
        request.loop._busy.discard(request)
        try:
            callback = request._on_write
            if callback is not None:
                callback(request, _SUCCESS)
        except BaseException:
            request.loop.handle_exception()


class Request:
    """Base class of the requests. Attributes: ``stream``, ``loop``, ``finished``."""

    #: The name of the callback attribute ("on_connect", "on_write", "on_shutdown").
    _callback_name = ""
    _finished = False

    def __init__(self, stream: "Stream") -> None:
        if type(self) is Request:
            raise TypeError("Request is abstract")
        if not isinstance(stream, _stream_module.Stream):
            raise TypeError("stream must be a Stream, not %r" % type(stream).__name__)
        #: The stream the request works on.
        self.stream: "Stream" = stream
        #: The stream's loop.
        self.loop: "Loop" = stream.loop
        self._id = _next_id()

    @property
    def finished(self) -> bool:
        """Whether the request has completed and its callback has run."""
        return self._finished

    def _started(self) -> None:
        """The C call succeeded: the request waits for its callback."""
        registry[self._id] = _weak(self)
        self.loop._busy.add(self)

    def __repr__(self) -> str:
        return "<%s %s on %r>" % (type(self).__name__, "finished" if self.finished else "pending", self.stream)


RequestCallback = Callable[[Any, Union[StatusCodes, int]], Any]


class ConnectRequest(Request):
    """``ConnectRequest(stream, arguments, on_connect=None)``: connects ``stream``
    (usually made by ``TCP.connect(address)`` or ``Pipe.connect(path)``).
    ``arguments`` is the connect target -- an address tuple for TCP, a path for a pipe
    -- or a 1-tuple holding it. ``on_connect(request, status)`` runs once."""

    _callback_name = "on_connect"

    def __init__(self, stream: "Stream", arguments: Any, on_connect: Optional[RequestCallback] = None) -> None:
        super().__init__(stream)
        #: Called as ``on_connect(request, status)``.
        self.on_connect = on_connect
        #: The connect target.
        self.arguments = arguments
        stream._connect(self._id, arguments)
        self._started()


class WriteRequest(Request):
    """``WriteRequest(stream, buffers, send_stream=None, on_write=None)``: writes
    ``buffers`` (bytes, any buffer-protocol object, or a list/tuple of them) after every
    earlier write, and with ``send_stream`` sends that stream over an ipc pipe.
    ``on_write(request, status)`` runs once the data is handed to the kernel (or failed,
    or was cancelled). The buffers may be reused as soon as this returns."""

    _callback_name = "on_write"
    _on_write: Optional[RequestCallback] = None
    #: The stream sent along (kept alive until the write completes), or None.
    send_stream: Optional["Stream"] = None
    # A write without on_write that the kernel took whole inside write() has no C
    # callback (uvs_write_now): the loop's tick then, until it is reported; else None.
    _written_at: Optional[int] = None

    def __init__(
        self,
        stream: "Stream",
        buffers: Any,
        send_stream: Optional["Stream"] = None,
        on_write: Optional[RequestCallback] = None,
    ) -> None:
        if not isinstance(stream, _stream_module.Stream):
            raise TypeError("stream must be a Stream, not %r" % type(stream).__name__)
        self._start(stream, buffers, send_stream, on_write)

    def _start(
        self, stream: "Stream", buffers: Any, send_stream: Optional["Stream"], on_write: Optional[RequestCallback]
    ) -> None:
        """Starts the write (``Stream.write`` calls this on a new object, without the
        class call). Request.__init__, _open_ptr and _started are written out: this
        runs per write."""
        self.stream = stream
        self.loop = loop = stream.loop
        self._id = request_id = _next_id()
        pointer = stream._ptr
        if pointer is None or stream._closing:
            raise error.ClosedHandleError()
        if send_stream is None:
            # Nobody waits for a write without on_write: if the kernel takes it whole
            # at once, uvs_write_now finishes it (result 1) without a callback.
            write = _uvs_write_now if on_write is None else _uvs_write
            if type(buffers) is bytes and _BYTES_DATA_OFFSET is not None:
                # The common case: one bytes object, passed as a packed uvs_buf_t
                # (_ffi.bytes_buf), no ctypes objects.
                result = write(
                    pointer,
                    _pack_buf(id(buffers) + _BYTES_DATA_OFFSET, len(buffers)),
                    _ONE_BUFFER,
                    _request_trampoline,
                    request_id,
                )
            else:
                with _ffi.Buffers(buffers) as bufs:
                    result = write(pointer, bufs.array, bufs.count, _request_trampoline, request_id)
            if result:
                if result < 0:
                    raise error.UVError(result)
                self._written_at = loop._tick
                return
        else:
            if not isinstance(send_stream, _stream_module.Stream):
                raise TypeError("send_stream must be a Stream, not %r" % type(send_stream).__name__)
            self.send_stream = send_stream
            send_pointer = send_stream._open_ptr()
            with _ffi.Buffers(buffers) as bufs:
                _ffi.lib.uvs_write2(pointer, bufs.array, bufs.count, send_pointer, _request_trampoline, request_id)
        self._on_write = on_write
        registry[request_id] = _weak(self)
        loop._busy.add(self)

    @property
    def finished(self) -> bool:
        """Whether the request has completed and its callback has run. A write that
        finished inside write() counts as reported from the loop's next callback on,
        when its report would have run."""
        written_at = self._written_at
        if written_at is not None and written_at != self.loop._tick:
            self._written_at = None
            self._finished = True
        return self._finished

    @property
    def on_write(self) -> Optional[RequestCallback]:
        """Called as ``on_write(request, status)`` (settable until it has run)."""
        return self._on_write

    @on_write.setter
    def on_write(self, callback: Optional[RequestCallback]) -> None:
        self._on_write = callback
        if callback is not None and not self.finished and self._written_at is not None:
            self._owe()

    def _owe(self) -> None:
        """A callback was set on a write finished inside write() and not reported yet:
        reports it from the loop, in submission order -- before the stream's later
        requests' callbacks and before its on_closed (report_owed_writes)."""
        self._written_at = None
        stream = self.stream
        owed = stream._owed_writes
        if owed is None:
            owed = stream._owed_writes = []
        bisect.insort(owed, self, key=_request_id)
        self.loop._busy.add(self)
        # Wakes the loop: a zero-byte write reports after every earlier write and before
        # every later one. It fails only on a stream shut down, failed by a later write
        # or closing since this write (the loop has not run since): the shutdown's, the
        # failed write's or the close's callback comes, and reports this one first.
        pointer = stream._ptr
        if pointer is not None and not stream._closing:
            wake_id = _next_id()
            if _uvs_write(pointer, None, 0, _request_trampoline, wake_id) == 0:
                registry[wake_id] = _weak(self)


class ShutdownRequest(Request):
    """``ShutdownRequest(stream, on_shutdown=None)``: shuts down the write side once
    every queued write is sent. ``on_shutdown(request, status)`` runs once."""

    _callback_name = "on_shutdown"

    def __init__(self, stream: "Stream", on_shutdown: Optional[RequestCallback] = None) -> None:
        super().__init__(stream)
        #: Called as ``on_shutdown(request, status)``.
        self.on_shutdown = on_shutdown
        _ffi.lib.uvs_shutdown(stream._open_ptr(), _request_trampoline, self._id)
        self._started()


# At the end: stream.py imports this module (for WriteRequest and ShutdownRequest).
from . import stream as _stream_module  # noqa: E402
