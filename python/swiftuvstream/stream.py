"""Streams: the spec's ``uv.Stream`` -- reading, writing, shutting down, listening and
accepting, for every kind of stream (:class:`~swiftuvstream.TCP`,
:class:`~swiftuvstream.Pipe`, :class:`~swiftuvstream.TTY`).

Flow control: every stream has a write queue (``write_queue_size`` bytes accepted and
not yet handed to the kernel) with a high and a low watermark
(:meth:`Stream.set_write_watermarks`, 64 KiB and 16 KiB by default).
``on_writable_changed(stream, writable)`` is called with False when the queue rises
above the high watermark (stop producing) and with True when it falls back to the low
one (resume); ``write_blocked`` tells the current state.
"""

from __future__ import annotations

from typing import Any, Callable, List, Optional, Tuple, Type, TypeVar, Union

from . import _ffi, error
from .error import StatusCodes
from .handle import Handle, callee, registry
from .loop import Loop, trampoline
from .request import ShutdownRequest, WriteRequest, report_owed_writes

__all__ = ["Stream"]

S = TypeVar("S", bound="Stream")

ReadCallback = Callable[[Any, Union[StatusCodes, int], bytes], Any]
ConnectionCallback = Callable[[Any, Union[StatusCodes, int]], Any]
WritableCallback = Callable[[Any, bool], Any]

_status = error.status
_registry_get = registry.get
_SUCCESS = StatusCodes.SUCCESS
_new_write_request = object.__new__


@trampoline(_ffi.READ_CB)
def _read_trampoline(
    stream_pointer: Optional[int], status: int, data: Any, length: int, user_data: Optional[int]
) -> None:
    # The hottest path of the package: kept flat (no helper calls for data).
    ref = _registry_get(user_data)  # type: ignore[arg-type]
    stream = None if ref is None else ref()
    if stream is None:
        return
    stream.loop._tick += 1
    try:
        if status == 0:
            callback = stream.on_read
            if callback is not None:
                callback(stream, _SUCCESS, data[:length] if length and data else b"")
        else:
            stream._c_read_ended(status)
    except BaseException:
        stream.loop.handle_exception()


@trampoline(_ffi.CONNECTION_CB)
def _connection_trampoline(stream_pointer: Optional[int], status: int, user_data: Optional[int]) -> None:
    stream = callee(user_data)
    if stream is None:
        return
    try:
        callback = stream.on_connection
        if callback is not None:
            callback(stream, _status(status))
    except BaseException:
        stream.loop.handle_exception()


@trampoline(_ffi.WRITABILITY_CB)
def _writability_trampoline(stream_pointer: Optional[int], writable: int, user_data: Optional[int]) -> None:
    stream = callee(user_data)
    if stream is None:
        return
    try:
        stream._c_writable(bool(writable))
    except BaseException:
        stream.loop.handle_exception()


class Stream(Handle):
    """A byte stream: ``Stream(loop, ipc, arguments, on_read, on_connection)``. Not
    instantiated directly: create a :class:`~swiftuvstream.TCP`,
    :class:`~swiftuvstream.Pipe` or :class:`~swiftuvstream.TTY` (``arguments`` are what
    the subclass needs to create its C handle).

    Callbacks (attributes, settable):

    - ``on_read(stream, status, data)``: ``status`` is a :class:`StatusCodes` member and
      ``data`` bytes. ``StatusCodes.SUCCESS`` with data; the end of the stream arrives
      once as ``(stream, StatusCodes.EOF, b'')``, a read error once as ``(stream, code,
      b'')``. Nothing is closed automatically.
    - ``on_connection(stream, status)``: a connection waits on a listening stream; call
      :meth:`accept`, now or later.
    """

    def __init__(
        self,
        loop: Optional[Loop] = None,
        ipc: bool = False,
        arguments: Tuple[Any, ...] = (),
        on_read: Optional[ReadCallback] = None,
        on_connection: Optional[ConnectionCallback] = None,
    ) -> None:
        if type(self) is Stream:
            raise TypeError("Stream is abstract: create a TCP, Pipe or TTY")
        super().__init__(loop)
        #: Called as ``on_read(stream, status, data)``.
        self.on_read = on_read
        #: Called as ``on_connection(stream, status)``.
        self.on_connection = on_connection
        self._ipc = bool(ipc)
        self._reading = False
        self._listening = False
        self._on_writable_changed: Optional[WritableCallback] = None
        # Told "not writable" and not yet "writable again": the C library owes a call.
        self._writability_owed = False
        self._attach(self._create(self.loop._ptr, *arguments))

    def _create(self, loop_pointer: int, *arguments: Any) -> int:  # pragma: no cover - abstract
        """Creates the C handle; returns its pointer."""
        raise NotImplementedError

    def _connect(self, request_id: int, arguments: Any) -> None:
        """Starts the C connect of a ConnectRequest."""
        raise TypeError("%s streams cannot connect" % type(self).__name__)

    # -- lifetime ----------------------------------------------------------------------

    def _wants_alive(self) -> bool:
        # Reading, listening, or owed an on_writable_changed(True): a stream that paused
        # its reading on "not writable" must still be there to hear "writable again".
        return super()._wants_alive() or (
            not self._closing
            and (self._reading or self._listening or (self._writability_owed and self._on_writable_changed is not None))
        )

    def _will_close(self) -> None:
        self._reading = False
        self._listening = False

    #: Writes finished inside write() whose on_write was set afterwards, in submission
    #: order, not reported yet (see WriteRequest.on_write); None while there are none.
    _owed_writes: Optional[List[WriteRequest]] = None

    def _c_closed(self) -> None:
        if self._owed_writes:
            report_owed_writes(self)  # before on_closed, like every pending request
        super()._c_closed()

    # -- state -------------------------------------------------------------------------

    @property
    def ipc(self) -> bool:
        """Whether the stream is an ipc pipe (able to send and receive streams)."""
        return self._ipc

    @property
    def readable(self) -> bool:
        """Whether data can still arrive (connected or connecting, no EOF or read error
        yet). False once closing."""
        if self._closing or self._ptr is None:
            return False
        return bool(_ffi.lib.uvs_is_readable(self._ptr))

    @property
    def writable(self) -> bool:
        """Whether writes are accepted (connected or connecting, not shut down, no
        error). False once closing."""
        if self._closing or self._ptr is None:
            return False
        return bool(_ffi.lib.uvs_is_writable(self._ptr))

    @property
    def family(self) -> Optional[int]:
        """The address family of the stream (``socket.AF_*``), or None."""
        return None

    @property
    def is_reading(self) -> bool:
        """Whether reading is started (False after EOF, a read error, read_stop or
        close)."""
        if self._closing or self._ptr is None:
            return False
        return bool(_ffi.lib.uvs_is_reading(self._ptr))

    # -- reading -----------------------------------------------------------------------

    def read_start(self, on_read: Optional[ReadCallback] = None) -> None:
        """Starts reading: ``on_read(stream, status, data)`` runs for each chunk. Called
        while reading, it only replaces the callback. Raises ``NotConnectedError`` when
        the stream is not readable (never connected, listening, after EOF)."""
        pointer = self._open_ptr()
        _ffi.lib.uvs_read_start(pointer, _read_trampoline, self._id)
        # Only now: a refused call changes nothing (the C library never calls back
        # inside the call that registers the callback).
        if on_read is not None:
            self.on_read = on_read
        self._reading = True
        self._refresh_keepalive()

    def read_stop(self) -> None:
        """Stops reading, at once (also inside ``on_read``). Safe to repeat; a silent
        no-op on a closing or closed stream."""
        if self._closing or self._ptr is None:
            return
        _ffi.lib.uvs_read_stop(self._ptr)
        self._reading = False
        self._refresh_keepalive()

    def _c_read_ended(self, status: int) -> None:
        """The read callback with EOF or an error (data is handled by the trampoline):
        reading has stopped."""
        self._reading = False
        try:
            callback = self.on_read
            if callback is not None:
                callback(self, _status(status), b"")
        finally:
            self._refresh_keepalive()

    # -- listening ---------------------------------------------------------------------

    def listen(self, backlog: int = 5, on_connection: Optional[ConnectionCallback] = None) -> None:
        """Listens for connections: ``on_connection(stream, status)`` runs for each (call
        :meth:`accept` in it, or later: connections stay queued). A listening stream
        stays alive until closed even if the program drops it. A TCP stream not bound
        yet is bound to an ephemeral port; ``AddressInUseError`` is reported here for a
        busy bind address."""
        pointer = self._open_ptr()
        backlog = _ffi.c_int_arg(backlog, "backlog", 0)
        _ffi.lib.uvs_listen(pointer, backlog, _connection_trampoline, self._id)
        if on_connection is not None:  # only now: a refused call changes nothing
            self.on_connection = on_connection
        self._listening = True
        self._refresh_keepalive()

    #: Whether streams of this class can accept, and be accepted into (not TTYs).
    _accepts = True

    def _accept_class(self) -> Type["Stream"]:
        return type(self)

    def accept(self, cls: Optional[Type[S]] = None, *arguments: Any, **keywords: Any) -> S:
        """Accepts a waiting connection (or, on an ipc pipe, the next stream received)
        into a new ``cls(*arguments, **keywords)`` created on this stream's loop
        (``cls`` defaults to this stream's class). Raises
        ``TemporaryUnavailableError`` when nothing is pending."""
        self._open_ptr()
        if cls is None:
            cls = self._accept_class()  # type: ignore[assignment]
        if not (isinstance(cls, type) and issubclass(cls, Stream)):
            raise TypeError("cls must be a Stream subclass, not %r" % (cls,))
        if not (self._accepts and cls._accepts):
            raise error.ArgumentError(error.StatusCodes.EINVAL, "a TTY neither accepts nor is accepted")
        keywords.setdefault("loop", self.loop)
        client = cls(*arguments, **keywords)
        try:
            _ffi.lib.uvs_accept(self._open_ptr(), client._open_ptr())
        except BaseException:
            client._discard()
            raise
        return client

    # -- writing -----------------------------------------------------------------------

    def write(
        self,
        buffers: Any,
        send_stream: Optional["Stream"] = None,
        on_write: Optional[Callable[[WriteRequest, Union[StatusCodes, int]], Any]] = None,
    ) -> WriteRequest:
        """Writes ``buffers`` -- bytes, any buffer-protocol object (bytearray,
        memoryview, array.array, ...) or a list/tuple of them -- after every earlier
        write; the objects may be reused as soon as this returns (nothing is copied in
        Python; the library copies what the kernel does not take at once). With
        ``send_stream``, sends that TCP or pipe stream along over this ipc pipe (the
        payload must not be empty; ``ArgumentError`` on a non-ipc stream); what travels
        is a duplicate of its descriptor, made in this call, so ``send_stream`` may be
        closed as soon as this returns.
        ``on_write(request, status)`` runs once. ``write([])`` and ``write(b'')`` are
        allowed: nothing is sent and the callback reports success. Raises
        ``TypeError`` for str and other non-buffers, ``BrokenPipeError`` when the stream
        is not writable (shut down, never connected)."""
        # WriteRequest(self, buffers, send_stream, on_write) without the class call.
        request = _new_write_request(WriteRequest)
        request._start(self, buffers, send_stream, on_write)
        return request

    def try_write(self, buffers: Any) -> int:
        """Writes what the kernel accepts now, without queueing; returns the number of
        bytes written. Raises ``TemporaryUnavailableError`` when nothing can be written
        now -- in particular while writes are queued (data is never reordered)."""
        pointer = self._open_ptr()
        with _ffi.Buffers(buffers) as bufs:
            return int(_ffi.lib.uvs_try_write(pointer, bufs.array, bufs.count))

    def shutdown(
        self, on_shutdown: Optional[Callable[[ShutdownRequest, Union[StatusCodes, int]], Any]] = None
    ) -> ShutdownRequest:
        """Shuts down the write side once every queued write is sent:
        ``on_shutdown(request, status)`` runs once. ``writable`` becomes False at once
        and later writes raise ``BrokenPipeError``; a second shutdown raises
        ``NotConnectedError``."""
        return ShutdownRequest(self, on_shutdown)

    # -- flow control ------------------------------------------------------------------

    @property
    def write_queue_size(self) -> int:
        """Bytes accepted by :meth:`write` and not yet handed to the kernel (0 once
        closing)."""
        if self._closing or self._ptr is None:
            return 0
        return int(_ffi.lib.uvs_write_queue_size(self._ptr))

    def set_write_watermarks(self, high: int = _ffi.UVS_DEFAULT_HIGH_WATERMARK, low: Optional[int] = None) -> None:
        """Sets the write-queue watermarks in bytes (``low`` <= ``high``; ``low``
        defaults to ``high // 4``). Advisory: :meth:`write` still accepts data above the
        high watermark; a producer that pauses on ``on_writable_changed(stream, False)``
        keeps memory bounded."""
        pointer = self._open_ptr()
        high = _ffi.c_int_arg(high, "high", 0, 2**63 - 1)
        low = high // 4 if low is None else _ffi.c_int_arg(low, "low", 0, 2**63 - 1)
        _ffi.lib.uvs_set_write_watermarks(pointer, high, low)

    @property
    def write_blocked(self) -> bool:
        """Whether the write queue rose above the high watermark and has not yet fallen
        to the low one."""
        if self._closing or self._ptr is None:
            return False
        return bool(_ffi.lib.uvs_is_write_blocked(self._ptr))

    @property
    def on_writable_changed(self) -> Optional[WritableCallback]:
        """Called as ``on_writable_changed(stream, writable)``: False when the write
        queue rises above the high watermark, True when it falls back to the low one (or
        the stream can no longer be written). Settable; None unregisters."""
        return self._on_writable_changed

    @on_writable_changed.setter
    def on_writable_changed(self, callback: Optional[WritableCallback]) -> None:
        if callback is not None and not callable(callback):
            raise TypeError("on_writable_changed must be callable or None")
        pointer = self._open_ptr()
        if callback is None:
            _ffi.lib.uvs_on_writability_changed(pointer, _ffi.WRITABILITY_CB(), None)
        else:
            _ffi.lib.uvs_on_writability_changed(pointer, _writability_trampoline, self._id)
        self._on_writable_changed = callback
        if callback is not None and _ffi.lib.uvs_is_write_blocked(pointer):
            self._writability_owed = True  # "writable again" is still to come
        self._refresh_keepalive()

    def _c_writable(self, writable: bool) -> None:
        self._writability_owed = not writable
        self._refresh_keepalive()
        callback = self._on_writable_changed
        if callback is not None:
            callback(self, writable)

