"""TCP streams through the Python API: the spec's Stream and TCP items (CONFORMANCE
section 1) and the reading, writing, closing, listening behaviours of section 2."""

from __future__ import annotations

import array
import mmap
import os
import socket
import struct

import pytest

from support import collect, connected_pair, echo_server, run, run_until, tcp_server, uv
from swiftuvstream.handle import registry

SUCCESS = uv.StatusCodes.SUCCESS
EOF = uv.StatusCodes.EOF
ECANCELED = uv.StatusCodes.ECANCELED


def has_ipv6() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


def reset_connection(stream: uv.TCP) -> None:
    """Makes closing ``stream`` send a RST (SO_LINGER 0), then closes it."""
    fd = os.dup(stream.fileno())
    with socket.socket(fileno=fd) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    stream.close()


def read_all(loop: uv.Loop, stream: uv.Stream, until_eof: bool = True) -> list:
    """Starts reading ``stream``; returns the list the (status, data) pairs go to."""
    events: list = []
    stream.read_start(lambda s, status, data: events.append((status, data)))
    return events


def payload(events: list) -> bytes:
    return b"".join(data for status, data in events if status is SUCCESS)


# -- construction ----------------------------------------------------------------------


def test_stream_and_handle_are_abstract(loop):
    with pytest.raises(TypeError):
        uv.Stream(loop)
    with pytest.raises(TypeError):
        uv.Handle(loop)


def test_new_tcp_state(loop):
    tcp = uv.TCP(loop=loop)
    assert tcp.loop is loop
    assert tcp.family is None  # lazily created socket
    assert not tcp.readable and not tcp.writable and not tcp.ipc
    assert not tcp.active and tcp.referenced and not tcp.is_reading
    assert not tcp.closing and not tcp.closed
    assert tcp.write_queue_size == 0
    assert tcp.data is None
    tcp.data = {"anything": 1}
    with pytest.raises(uv.error.BadFileDescriptorError):
        tcp.fileno()
    with pytest.raises(uv.error.BadFileDescriptorError):
        tcp.sockname
    with pytest.raises(uv.error.NotConnectedError):
        tcp.read_start(lambda *a: None)


def test_tcp_with_an_address_family_creates_the_socket(loop):
    tcp = uv.TCP(socket.AF_INET, loop=loop)
    assert tcp.family == socket.AF_INET
    assert tcp.fileno() >= 0
    with pytest.raises(uv.error.ArgumentError):
        uv.TCP(12345, loop=loop)


# -- bind, listen, connect, addresses -------------------------------------------------


def test_echo_round_trip_with_addresses(loop):
    server, port = echo_server(loop)
    assert server.family == socket.AF_INET
    assert server.sockname == ("127.0.0.1", port)
    assert server.sockname.host == "127.0.0.1" and server.sockname.port == port
    assert not server.readable and not server.writable  # listening
    client = uv.TCP(loop=loop)
    statuses = []
    request = client.connect(("127.0.0.1", port), on_connect=collect(statuses))
    assert isinstance(request, uv.ConnectRequest)
    assert request.stream is client and request.loop is loop and not request.finished
    assert request.on_connect is not None
    assert client.writable  # writable at once while connecting
    events = []

    def on_read(stream, status, data):
        events.append((status, data))
        if status is SUCCESS and payload(events) == b"ping":
            stream.close()
            server.close()

    client.read_start(on_read)
    client.write(b"ping")
    run(loop)
    assert statuses == [(request, SUCCESS)]
    assert statuses[0][1] is SUCCESS
    assert request.finished
    assert payload(events) == b"ping"
    assert all(status is SUCCESS for status, _ in events)


def test_sockname_and_peername(loop):
    server, accepted, client = connected_pair(loop)
    port = server.sockname.port
    assert client.peername == ("127.0.0.1", port)
    assert accepted.sockname == ("127.0.0.1", port)
    assert accepted.peername == client.sockname
    assert isinstance(client.peername, tuple) and len(client.peername) == 2
    assert client.family == socket.AF_INET and accepted.family == socket.AF_INET
    assert client.readable and client.writable
    with pytest.raises(uv.error.NotConnectedError):
        server.peername


@pytest.mark.skipif(not has_ipv6(), reason="no IPv6 loopback")
def test_ipv6_addresses_and_flags(loop):
    server = uv.TCP(loop=loop)
    server.bind(("::1", 0, 0, 0))  # the 4-tuple form
    server.listen()
    assert server.family == socket.AF_INET6
    port = server.sockname.port
    assert server.sockname == ("::1", port)
    only6 = uv.TCP(loop=loop)
    only6.bind(("::", 0), uv.TCPFlags.IPV6ONLY)
    only6.listen()
    assert only6.family == socket.AF_INET6
    client = uv.TCP(loop=loop)
    statuses = []
    client.connect(("::1", port), on_connect=collect(statuses))
    run_until(loop, lambda: bool(statuses))
    assert statuses[0][1] is SUCCESS
    assert client.peername == ("::1", port)


def test_bind_rejects_bad_addresses(loop):
    tcp = uv.TCP(loop=loop)
    for address in [("localhost", 80), ("999.1.1.1", 80), ("", 80), ("1.2.3.4\0", 80)]:
        with pytest.raises(uv.error.ArgumentError):
            tcp.bind(address)
    for address in [("127.0.0.1", -1), ("127.0.0.1", 65536)]:
        with pytest.raises(uv.error.ArgumentError):
            tcp.bind(address)
    for address in ["127.0.0.1:80", ("127.0.0.1",), ("127.0.0.1", 1, 2), None, 80, (1, 2), ("127.0.0.1", "80")]:
        with pytest.raises(TypeError):
            tcp.bind(address)
    with pytest.raises(uv.error.ArgumentError):
        tcp.bind(("127.0.0.1", 0), flags=0x80)
    tcp.bind(("127.0.0.1", 0))
    with pytest.raises(uv.error.ArgumentError):
        tcp.bind(("127.0.0.1", 0))  # already bound


def test_connect_errors_arrive_in_on_connect(loop):
    probe = uv.TCP(loop=loop)
    probe.bind(("127.0.0.1", 0))
    probe.listen()
    port = probe.sockname.port
    probe.close()
    run(loop)
    client = uv.TCP(loop=loop)
    statuses = []
    client.connect(("127.0.0.1", port), on_connect=collect(statuses))
    run(loop)
    assert [status for _, status in statuses] == [uv.StatusCodes.ECONNREFUSED]
    with pytest.raises(uv.error.ArgumentError):
        uv.TCP(loop=loop).connect(("no-such-host.invalid", 80))


def test_connect_twice(loop):
    server, port = tcp_server(loop)
    client = uv.TCP(loop=loop)
    client.connect(("127.0.0.1", port))
    with pytest.raises(uv.error.AlreadyInProgressError):
        client.connect(("127.0.0.1", port))
    run_until(loop, lambda: client.readable and not client.active)
    with pytest.raises(uv.error.AlreadyConnectedError):
        client.connect(("127.0.0.1", port))


def test_connect_request_constructor_forms(loop):
    server, port = tcp_server(loop)
    statuses = []
    first = uv.ConnectRequest(uv.TCP(loop=loop), ("127.0.0.1", port), collect(statuses))
    second = uv.ConnectRequest(uv.TCP(loop=loop), (("127.0.0.1", port),), on_connect=collect(statuses))
    run_until(loop, lambda: len(statuses) == 2)
    assert sorted(id(r) for r, _ in statuses) == sorted([id(first), id(second)])
    assert all(status is SUCCESS for _, status in statuses)


def test_deferred_address_in_use(loop):
    """Behaviour 15: libuv defers EADDRINUSE from bind to listen or connect."""
    first = uv.TCP(loop=loop)
    first.bind(("127.0.0.1", 0))
    first.listen()
    port = first.sockname.port
    second = uv.TCP(loop=loop)
    second.bind(("127.0.0.1", port))  # no error yet
    with pytest.raises(uv.error.AddressInUseError) as info:
        second.listen()
    assert info.value.code is uv.StatusCodes.EADDRINUSE
    client = uv.TCP(loop=loop)
    client.bind(("127.0.0.1", port))  # no error yet
    statuses = []
    try:
        client.connect(("127.0.0.1", port), on_connect=collect(statuses))
    except uv.error.AddressInUseError:
        statuses.append((None, uv.StatusCodes.EADDRINUSE))
    run_until(loop, lambda: bool(statuses))
    assert statuses[0][1] is uv.StatusCodes.EADDRINUSE


def test_listen_without_bind_picks_a_port(loop):
    server = uv.TCP(loop=loop)
    server.listen()
    assert server.sockname.port > 0


def test_listen_rejects_a_negative_backlog(loop):
    server = uv.TCP(loop=loop)
    with pytest.raises(uv.error.ArgumentError):
        server.listen(-1)


# -- options -------------------------------------------------------------------------


def test_socket_options_and_buffer_sizes(loop):
    server, accepted, client = connected_pair(loop)
    client.set_nodelay(True)
    client.set_nodelay(False)
    client.set_keepalive(True, 60)
    client.set_keepalive(False)
    with pytest.raises(uv.error.ArgumentError):
        client.set_keepalive(True, 0)
    server.set_simultaneous_accepts(True)
    server.set_simultaneous_accepts(False)
    client.send_buffer_size = 65536
    assert client.send_buffer_size == 65536
    client.receive_buffer_size = 32768
    assert client.receive_buffer_size == 32768
    for bad in (0, -1):
        with pytest.raises(uv.error.ArgumentError):
            client.send_buffer_size = bad
    with pytest.raises(TypeError):
        client.receive_buffer_size = "big"
    with socket.socket(fileno=os.dup(client.fileno())) as sock:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPALIVE if hasattr(socket, "TCP_KEEPALIVE") else socket.SO_TYPE) is not None
        assert sock.getsockname() == client.sockname


def test_nodelay_before_the_socket_exists_is_remembered(loop):
    server, port = tcp_server(loop)
    client = uv.TCP(loop=loop)
    client.set_nodelay(True)
    client.connect(("127.0.0.1", port))
    run_until(loop, lambda: client.readable and not client.active)
    with socket.socket(fileno=os.dup(client.fileno())) as sock:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_reference_and_dereference(loop):
    server, port = tcp_server(loop)
    assert server.referenced and server.active
    server.dereference()
    assert not server.referenced
    assert run(loop) is False  # an unreferenced listener does not keep the loop alive
    server.referenced = True
    assert server.referenced
    server.reference()
    server.referenced = False
    assert not server.referenced


def test_open_adopts_a_connected_socket(loop):
    server, port = echo_server(loop)
    sock = socket.create_connection(("127.0.0.1", port))
    tcp = uv.TCP(loop=loop)
    tcp.open(sock.detach())
    assert tcp.readable and tcp.writable
    assert tcp.peername == ("127.0.0.1", port)
    events = []

    def on_read(stream, status, data):
        events.append((status, data))
        stream.close()
        server.close()

    tcp.read_start(on_read)
    tcp.write(b"adopted")
    run(loop)
    assert payload(events) == b"adopted"
    # A second open on a handle with a socket: EBUSY.
    other = uv.TCP(socket.AF_INET, loop=loop)
    sock2 = socket.socket()
    with pytest.raises(uv.error.ResourceBusyError):
        other.open(sock2.fileno())
    sock2.close()


def test_open_rejects_non_sockets(loop, tmp_path):
    path = tmp_path / "regular"
    path.write_bytes(b"x")
    with open(path, "rb") as f:
        with pytest.raises(uv.error.NotSocketError):
            uv.TCP(loop=loop).open(f.fileno())
    read_fd, write_fd = os.pipe()
    try:
        with pytest.raises(uv.error.NotSocketError):
            uv.TCP(loop=loop).open(read_fd)
    finally:
        os.close(read_fd)
        os.close(write_fd)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        with pytest.raises(uv.error.ArgumentError):
            uv.TCP(loop=loop).open(udp.fileno())
    with pytest.raises(uv.error.ArgumentError):
        uv.TCP(loop=loop).open(-1)
    with pytest.raises(TypeError):
        uv.TCP(loop=loop).open("3")


# -- reading (behaviours 1-4) ----------------------------------------------------------


def test_on_read_gets_status_members_and_bytes(loop):
    server, accepted, client = connected_pair(loop)
    events = read_all(loop, accepted)
    client.write(b"data")
    client.shutdown()
    run_until(loop, lambda: events and events[-1][0] is EOF)
    assert payload(events) == b"data"
    assert all(type(data) is bytes for _, data in events)
    assert all(status is SUCCESS for status, _ in events[:-1])
    assert events[-1] == (EOF, b"")
    assert events[-1][0] is uv.StatusCodes.EOF


def test_eof_once_then_half_close(loop):
    """Behaviour 2: EOF is reported once; the stream may still be written and shut down."""
    server, accepted, client = connected_pair(loop)
    server_events = read_all(loop, accepted)
    client_events = read_all(loop, client)
    client.shutdown()
    run_until(loop, lambda: server_events == [(EOF, b"")])
    assert not accepted.readable and accepted.writable
    assert not accepted.is_reading
    with pytest.raises(uv.error.NotConnectedError):
        accepted.read_start()  # nothing more to read
    accepted.write(b"reply after EOF")
    shutdowns = []
    accepted.shutdown(collect(shutdowns))
    run_until(loop, lambda: client_events and client_events[-1][0] is EOF)
    assert payload(client_events) == b"reply after EOF"
    assert [s for _, s in shutdowns] == [SUCCESS]
    for _ in range(5):
        loop.run(uv.RunModes.NOWAIT)
    assert server_events == [(EOF, b"")]  # once
    assert [e for e in client_events if e[0] is EOF] == [(EOF, b"")]


def test_read_error_reported_once(loop):
    """Behaviour 3: a read error is reported once; then neither readable nor writable."""
    server, accepted, client = connected_pair(loop)
    events = read_all(loop, client)
    reset_connection(accepted)
    run_until(loop, lambda: bool(events))
    for _ in range(5):
        loop.run(uv.RunModes.NOWAIT)
    assert events == [(uv.StatusCodes.ECONNRESET, b"")]
    assert not client.readable and not client.writable and not client.is_reading
    with pytest.raises(uv.error.BrokenPipeError):
        client.write(b"x")
    assert not client.closing  # nothing is closed automatically


def test_read_stop_inside_on_read_takes_effect_at_once(loop):
    """Behaviour 4."""
    server, accepted, client = connected_pair(loop)
    chunks = []

    def on_read(stream, status, data):
        chunks.append(data)
        stream.read_stop()
        stream.read_stop()  # repeat: fine

    client.read_start(on_read)
    big = os.urandom(4 * 1024 * 1024)
    accepted.write(big)
    run_until(loop, lambda: bool(chunks))
    for _ in range(20):
        loop.run(uv.RunModes.NOWAIT)
    assert len(chunks) == 1 and not client.is_reading
    received = [chunks[0]]

    def on_read_rest(stream, status, data):
        received.append(data)
        if sum(map(len, received)) == len(big):
            stream.read_stop()

    client.read_start(on_read_rest)
    run_until(loop, lambda: sum(map(len, received)) == len(big))
    assert b"".join(received) == big


def test_read_start_stop_in_any_order(loop):
    server, accepted, client = connected_pair(loop)
    got = []
    client.read_stop()  # not reading: fine
    client.read_start(lambda s, st, d: got.append(("first", d)))
    client.read_start(lambda s, st, d: got.append(("second", d)))  # only replaces the callback
    assert client.is_reading
    client.read_stop()
    client.read_stop()
    assert not client.is_reading
    client.read_start()  # keeps the current callback
    accepted.write(b"x")
    run_until(loop, lambda: bool(got))
    assert got == [("second", b"x")]
    client.on_read = lambda s, st, d: got.append(("attribute", d))
    accepted.write(b"y")
    run_until(loop, lambda: len(got) == 2)
    assert got[1] == ("attribute", b"y")


def test_no_callback_runs_inside_the_call(loop):
    """Behaviour 1: every callback waits for the loop."""
    server, port = tcp_server(loop)
    client = uv.TCP(loop=loop)
    calls = []
    client.connect(("127.0.0.1", port), on_connect=lambda r, s: calls.append("connect"))
    client.write(b"", on_write=lambda r, s: calls.append("write"))
    client.write([], on_write=lambda r, s: calls.append("write-empty"))
    client.shutdown(lambda r, s: calls.append("shutdown"))
    timer = uv.Timer(loop=loop)
    timer.start(0, on_timeout=lambda t: calls.append("timer"))
    client.close(lambda h: calls.append("close"))
    server.close()
    assert calls == []
    run(loop)
    assert [c for c in calls if c != "timer"] == ["connect", "write", "write-empty", "shutdown", "close"]
    assert set(calls) == {"connect", "write", "write-empty", "shutdown", "timer", "close"}


# -- writing (behaviours 5-9) ----------------------------------------------------------


def test_write_callbacks_in_order_exactly_once(loop):
    """Behaviour 5."""
    server, accepted, client = connected_pair(loop)
    events = read_all(loop, accepted)
    done = []
    requests = []
    for index in range(200):
        request = client.write(b"%04d" % index, on_write=lambda r, s, i=index: done.append((i, s, r)))
        assert isinstance(request, uv.WriteRequest) and not request.finished
        assert request.stream is client and request.loop is loop and request.send_stream is None
        requests.append(request)
    run_until(loop, lambda: len(payload(events)) == 800)
    for _ in range(5):
        loop.run(uv.RunModes.NOWAIT)
    assert [i for i, _, _ in done] == list(range(200))
    assert all(s is SUCCESS for _, s, _ in done)
    assert all(r is requests[i] for i, _, r in done)
    assert all(r.finished for r in requests)
    assert payload(events) == b"".join(b"%04d" % i for i in range(200))


def test_a_write_taken_at_once_without_on_write_registers_no_callback(loop):
    """A write nobody waits for that the kernel takes whole finishes inside write():
    nothing is called back for it, yet it counts as finished only from the loop."""
    server, accepted, client = connected_pair(loop)
    events = read_all(loop, accepted)
    request = client.write(b"at once")
    assert request not in loop._busy and request._id not in registry
    assert not request.finished and request.on_write is None
    seen = []
    timer = uv.Timer(loop=loop)
    timer.start(0, on_timeout=lambda t: seen.append(request.finished))
    run_until(loop, lambda: seen)
    assert seen == [True]
    again = client.write(b"!")
    assert not again.finished
    loop.run(uv.RunModes.NOWAIT)
    assert again.finished
    queued = client.write(os.urandom(8 * 1024 * 1024))  # more than the kernel takes
    assert queued in loop._busy and not queued.finished
    run_until(loop, lambda: len(payload(events)) == 8 + 8 * 1024 * 1024)
    run_until(loop, lambda: queued.finished)


def test_on_write_set_after_the_write_runs_once_in_order(loop):
    """The callback attribute is settable: set after write() returned (the write
    finished at once), it runs once from the loop, in submission order with the
    stream's other write callbacks; set once the loop has moved on, it is too late."""
    server, accepted, client = connected_pair(loop)
    calls = []
    first = client.write(b"1")
    second = client.write(b"2", on_write=lambda r, s: calls.append(("second", r, s)))
    first.on_write = lambda r, s: calls.append(("wrong", r, s))
    first.on_write = lambda r, s: calls.append(("first", r, s))
    third = client.write(b"3")
    third.on_write = lambda r, s: calls.append(("third", r, s))
    assert calls == [] and not first.finished
    run_until(loop, lambda: len(calls) == 3)
    late = client.write(b"4")
    loop.run(uv.RunModes.NOWAIT)
    late.on_write = lambda r, s: calls.append(("late", r, s))
    for _ in range(3):
        loop.run(uv.RunModes.NOWAIT)
    assert [(name, status) for name, _, status in calls] == [("first", SUCCESS), ("second", SUCCESS), ("third", SUCCESS)]
    assert [r for _, r, _ in calls] == [first, second, third]
    assert first.finished and third.finished and late.finished
    assert first not in loop._busy and third not in loop._busy


def test_on_write_set_late_runs_before_shutdown_and_on_closed(loop):
    """Set after write() on a stream then shut down or closed, the write's callback
    still runs first, with success (the write had finished)."""
    server, accepted, client = connected_pair(loop)
    calls = []
    write = client.write(b"x")
    client.shutdown(lambda r, s: calls.append(("shutdown", s)))
    write.on_write = lambda r, s: calls.append(("write", s))
    run_until(loop, lambda: len(calls) == 2)
    assert calls == [("write", SUCCESS), ("shutdown", SUCCESS)]
    write = accepted.write(b"y")
    accepted.close(lambda h: calls.append(("closed", None)))
    write.on_write = lambda r, s: calls.append(("write", s))
    run_until(loop, lambda: len(calls) == 4)
    assert calls[2:] == [("write", SUCCESS), ("closed", None)]


def test_write_accepts_every_buffer_kind(loop):
    server, accepted, client = connected_pair(loop)
    events = read_all(loop, accepted)
    ints = array.array("i", [1, 2, 3])
    with mmap.mmap(-1, 16) as mapped:
        mapped.write(b"mmap-bytes......")
        pieces = [
            b"bytes",
            bytearray(b"bytearray"),
            memoryview(b"memoryview"),
            memoryview(b"0123456789")[2:5],
            memoryview(b"abcdefgh")[::2],  # not contiguous: copied
            ints,
            mapped,
            b"",
            bytearray(),
        ]
        client.write(pieces)
        client.write(tuple(pieces[:2]))
        client.write(bytearray(b"single"))
        client.write(memoryview(ints))
    expected = (b"bytesbytearraymemoryview234aceg" + ints.tobytes() + b"mmap-bytes......"
                + b"bytesbytearray" + b"single" + ints.tobytes())
    run_until(loop, lambda: len(payload(events)) >= len(expected))
    assert payload(events) == expected


def test_buffers_may_be_reused_at_once(loop):
    server, accepted, client = connected_pair(loop)
    events = read_all(loop, accepted)
    buffer = bytearray(b"A" * (8 * 1024 * 1024))
    client.write(buffer)  # far more than the socket takes at once: the rest is copied
    buffer[:] = b"B" * len(buffer)
    buffer.extend(b"resizable again")  # no export left on the bytearray
    run_until(loop, lambda: len(payload(events)) == 8 * 1024 * 1024)
    assert payload(events) == b"A" * (8 * 1024 * 1024)


def test_writes_during_connect_are_sent_after_it(loop):
    """Behaviour 6, success."""
    server, port = tcp_server(loop, lambda c: c.read_start(lambda s, st, d: received.append(d)))
    received = []
    client = uv.TCP(loop=loop)
    order = []
    client.connect(("127.0.0.1", port), on_connect=lambda r, s: order.append(("connect", s)))
    client.write(b"early", on_write=lambda r, s: order.append(("write", s)))
    run_until(loop, lambda: b"".join(received) == b"early")
    assert order == [("connect", SUCCESS), ("write", SUCCESS)]


def test_writes_during_a_failed_connect_are_cancelled(loop):
    """Behaviour 6, failure."""
    probe = uv.TCP(loop=loop)
    probe.bind(("127.0.0.1", 0))
    probe.listen()
    port = probe.sockname.port
    probe.close()
    run(loop)
    client = uv.TCP(loop=loop)
    results = {}
    client.connect(("127.0.0.1", port), on_connect=lambda r, s: results.setdefault("connect", s))
    client.write(b"doomed", on_write=lambda r, s: results.setdefault("write", s))
    run(loop)
    assert results == {"connect": uv.StatusCodes.ECONNREFUSED, "write": ECANCELED}


def test_zero_buffers_and_zero_bytes(loop):
    """Behaviour 7."""
    server, accepted, client = connected_pair(loop)
    statuses = []
    for buffers in ([], (), b"", bytearray(), [b""], [b"", memoryview(b"")]):
        client.write(buffers, on_write=lambda r, s: statuses.append(s))
    assert client.try_write(b"") == 0
    assert client.try_write([]) == 0
    run_until(loop, lambda: len(statuses) == 6)
    assert all(s is SUCCESS for s in statuses)


def test_try_write_never_reorders(loop):
    """Behaviour 8."""
    server, accepted, client = connected_pair(loop)
    assert client.try_write(b"now") == 3
    assert client.try_write([b"a", bytearray(b"b")]) == 2
    client.write(os.urandom(16 * 1024 * 1024))
    assert client.write_queue_size > 0
    with pytest.raises(uv.error.TemporaryUnavailableError) as info:
        client.try_write(b"x")
    assert isinstance(info.value, BlockingIOError)
    assert info.value.code is uv.StatusCodes.EAGAIN


def test_shutdown(loop):
    """Behaviour 9: not writable after; a second shutdown is an error; queued writes
    are flushed first."""
    server, accepted, client = connected_pair(loop)
    events = read_all(loop, accepted)
    data = os.urandom(4 * 1024 * 1024)
    order = []
    client.write(data, on_write=lambda r, s: order.append(("write", s)))
    request = client.shutdown(lambda r, s: order.append(("shutdown", s)))
    assert isinstance(request, uv.ShutdownRequest)
    assert request.stream is client and request.loop is loop and not request.finished
    assert not client.writable
    with pytest.raises(uv.error.BrokenPipeError):
        client.write(b"late")
    with pytest.raises(uv.error.NotConnectedError):
        client.shutdown()
    run_until(loop, lambda: events and events[-1][0] is EOF)
    assert payload(events) == data
    assert order == [("write", SUCCESS), ("shutdown", SUCCESS)]
    assert request.finished


def test_shutdown_of_an_unconnected_stream(loop):
    with pytest.raises(uv.error.NotConnectedError):
        uv.TCP(loop=loop).shutdown()
    with pytest.raises(uv.error.BrokenPipeError):
        uv.TCP(loop=loop).write(b"x")


def test_io_errors_arrive_in_the_write_callback(loop):
    """Behaviour 5 (errors) and 16: a write to a peer that went away reports EPIPE or
    ECONNRESET and does not kill the process."""
    server, accepted, client = connected_pair(loop)
    statuses = []
    client.write(os.urandom(32 * 1024 * 1024), on_write=lambda r, s: statuses.append(s))
    reset_connection(accepted)
    run_until(loop, lambda: bool(statuses))
    assert statuses[0] in (uv.StatusCodes.EPIPE, uv.StatusCodes.ECONNRESET)


def test_write_to_a_closed_peer_in_a_fresh_process_survives_sigpipe(tmp_path):
    """Behaviour 16 with SIGPIPE at its default disposition (Python ignores it itself)."""
    import subprocess
    import sys

    from support import PYTHON_DIR

    script = r"""
import os, signal, socket, struct
signal.signal(signal.SIGPIPE, signal.SIG_DFL)
import swiftuvstream as uv
loop = uv.Loop()
listener = socket.socket(); listener.bind(("127.0.0.1", 0)); listener.listen()
client = uv.TCP()
statuses = []
client.connect(listener.getsockname())
peer, _ = listener.accept()
peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
peer.close()
def write_more(*args):
    try:
        client.write(b"x" * 65536, on_write=lambda r, s: statuses.append(s) or write_more())
    except uv.UVError as exc:
        statuses.append(exc.code)
write_more()
while not any(s != 0 for s in statuses):
    loop.run(uv.RunModes.ONCE)
print("survived", [s.name for s in statuses if s != 0][:1])
"""
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR)
    result = subprocess.run([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "survived" in result.stdout


# -- closing (behaviours 10-12) --------------------------------------------------------


def test_close_cancels_pending_requests_before_on_closed(loop):
    """Behaviour 10."""
    server, port = tcp_server(loop)
    client = uv.TCP(loop=loop)
    order = []
    connect = client.connect(("127.0.0.1", port), on_connect=lambda r, s: order.append(("connect", s)))
    write = client.write(b"x" * 100, on_write=lambda r, s: order.append(("write", s)))
    shutdown = client.shutdown(lambda r, s: order.append(("shutdown", s)))
    client.close(lambda h: order.append(("closed", h)))
    assert client.closing and not client.closed
    client.close(lambda h: order.append(("second close", h)))  # no-op, no new callback
    server.close()
    run(loop)
    assert order == [("connect", ECANCELED), ("write", ECANCELED), ("shutdown", ECANCELED), ("closed", client)]
    assert connect.finished and write.finished and shutdown.finished
    assert client.closed


def test_close_after_requests_completed_reports_success(loop):
    server, accepted, client = connected_pair(loop)
    order = []
    client.write(b"x", on_write=lambda r, s: order.append(("write", s)))
    run_until(loop, lambda: bool(order))
    client.close(lambda h: order.append(("closed", None)))
    run_until(loop, lambda: client.closed)
    assert order == [("write", SUCCESS), ("closed", None)]


def test_on_closed_attribute_and_argument(loop):
    seen = []
    tcp = uv.TCP(loop=loop)
    tcp.on_closed = lambda h: seen.append("attribute")
    tcp.close()
    other = uv.TCP(loop=loop)
    other.on_closed = lambda h: seen.append("replaced")
    other.close(on_closed=lambda h: seen.append("argument"))
    run(loop)
    assert sorted(seen) == ["argument", "attribute"]


def test_every_call_on_a_closed_stream(loop):
    """Behaviour 10: later calls report the closed-handle error; queries are neutral."""
    server, accepted, client = connected_pair(loop)
    for stream in (client, server):
        stream.close()
    for state in ("closing", "closed"):
        for stream in (client, server):
            assert stream.closing
            assert not stream.readable and not stream.writable and not stream.active
            assert not stream.referenced and not stream.is_reading and stream.write_queue_size == 0
            assert stream.family is None
            stream.close()  # silent
            stream.read_stop()  # silent
            calls = [
                lambda: stream.read_start(lambda *a: None),
                lambda: stream.write(b"x"),
                lambda: stream.write([]),
                lambda: stream.try_write(b"x"),
                stream.shutdown,
                stream.listen,
                stream.accept,
                lambda: stream.bind(("127.0.0.1", 0)),
                lambda: stream.connect(("127.0.0.1", 1)),
                lambda: stream.set_nodelay(True),
                lambda: stream.set_keepalive(True, 1),
                lambda: stream.set_simultaneous_accepts(True),
                lambda: stream.open(0),
                lambda: stream.sockname,
                lambda: stream.peername,
                stream.fileno,
                stream.reference,
                stream.dereference,
                lambda: setattr(stream, "referenced", True),
                lambda: stream.send_buffer_size,
                lambda: setattr(stream, "receive_buffer_size", 4096),
                lambda: stream.set_write_watermarks(10, 5),
                lambda: setattr(stream, "on_writable_changed", None),
            ]
            for call in calls:
                with pytest.raises(uv.ClosedHandleError):
                    call()
        run(loop)
    assert client.closed and server.closed


def test_a_request_on_a_closed_stream(loop):
    tcp = uv.TCP(loop=loop)
    tcp.close()
    with pytest.raises(uv.ClosedHandleError):
        uv.WriteRequest(tcp, b"x")
    with pytest.raises(uv.ClosedHandleError):
        uv.ShutdownRequest(tcp)
    with pytest.raises(uv.ClosedHandleError):
        uv.ConnectRequest(tcp, ("127.0.0.1", 1))


# -- listening and accepting (behaviour 13) -------------------------------------------


def test_on_connection_gets_two_arguments(loop):
    calls = []
    server = uv.TCP(loop=loop)
    server.bind(("127.0.0.1", 0))

    def on_connection(*args):
        calls.append(args)
        args[0].accept().close()
        server.close()

    server.listen(on_connection=on_connection)
    uv.TCP(loop=loop).connect(("127.0.0.1", server.sockname.port))
    run(loop)
    assert calls == [(server, SUCCESS)]
    assert calls[0][1] is SUCCESS


def test_accept_later_loses_nothing(loop):
    """Behaviour 13: connections not accepted in on_connection stay queued. (libuv
    reports the next one once the waiting one is accepted.)"""
    server = uv.TCP(loop=loop)
    server.bind(("127.0.0.1", 0))
    notified = []
    server.listen(on_connection=lambda s, status: notified.append(status))  # does not accept
    port = server.sockname.port
    for index in range(3):
        client = uv.TCP(loop=loop)
        client.connect(("127.0.0.1", port))
        client.write(b"client %d" % index)
        client.shutdown()
    received = []
    for count in range(1, 4):
        run_until(loop, lambda: len(notified) == count)
        for _ in range(10):
            loop.run(uv.RunModes.NOWAIT)  # not accepted yet: nothing is lost meanwhile
        accepted = server.accept()
        assert isinstance(accepted, uv.TCP) and accepted.loop is loop
        data = []
        accepted.read_start(
            lambda s, st, d, data=data: data.append(d) if st is SUCCESS else received.append(b"".join(data)))
    assert all(status is SUCCESS for status in notified)
    with pytest.raises(uv.error.TemporaryUnavailableError):
        server.accept()
    run_until(loop, lambda: len(received) == 3)
    assert sorted(received) == [b"client 0", b"client 1", b"client 2"]


def test_accept_with_nothing_pending(loop):
    server, port = tcp_server(loop)
    with pytest.raises(uv.error.TemporaryUnavailableError):
        server.accept()
    assert len(loop.handles) == 1  # the client made for it was discarded
    with pytest.raises(uv.error.ArgumentError):
        uv.TCP(loop=loop).accept()  # not listening


def test_accept_builds_the_class_on_the_listeners_loop(loop):
    class Session(uv.TCP):
        def __init__(self, name, loop=None, greeting=b""):
            super().__init__(loop=loop)
            self.name = name
            self.greeting = greeting

    server = uv.TCP(loop=loop)
    server.bind(("127.0.0.1", 0))
    accepted = []
    server.listen(on_connection=lambda s, st: accepted.append(s.accept(Session, "alice", greeting=b"hi")))
    port = server.sockname.port
    other = uv.Loop()  # now the current loop is another one
    try:
        uv.TCP(loop=loop).connect(("127.0.0.1", port))
        run_until(loop, lambda: bool(accepted))
        session = accepted[0]
        assert type(session) is Session and session.name == "alice" and session.greeting == b"hi"
        assert session.loop is loop
        assert session.readable
    finally:
        from support import drain

        drain(other)
        loop.make_current()


def test_accept_rejects_non_stream_classes(loop):
    server, port = tcp_server(loop)
    with pytest.raises(TypeError):
        server.accept(uv.Timer)
    with pytest.raises(TypeError):
        server.accept(dict)


# -- flow control ---------------------------------------------------------------------


def test_watermarks_and_on_writable_changed(loop):
    server, accepted, client = connected_pair(loop)
    changes = []
    client.set_write_watermarks(64 * 1024, 16 * 1024)
    client.on_writable_changed = lambda stream, writable: changes.append((stream, writable))
    assert client.on_writable_changed is not None
    assert not client.write_blocked
    client.write(os.urandom(8 * 1024 * 1024))
    assert client.write_queue_size > 64 * 1024
    received = []
    accepted.read_start(lambda s, st, d: received.append(len(d)))
    run_until(loop, lambda: sum(received) == 8 * 1024 * 1024)
    run_until(loop, lambda: len(changes) >= 2)
    assert changes == [(client, False), (client, True)]
    assert not client.write_blocked and client.write_queue_size == 0
    client.on_writable_changed = None
    assert client.on_writable_changed is None
    with pytest.raises(uv.error.ArgumentError):
        client.set_write_watermarks(10, 20)  # low > high
    with pytest.raises(uv.error.ArgumentError):
        client.set_write_watermarks(-1, 0)
    with pytest.raises(TypeError):
        client.on_writable_changed = 42


def test_write_blocked_while_above_the_high_watermark(loop):
    server, accepted, client = connected_pair(loop)
    client.set_write_watermarks(1024)
    client.write(os.urandom(4 * 1024 * 1024))
    assert client.write_blocked
    accepted.read_start(lambda *a: None)
    run_until(loop, lambda: not client.write_blocked)
    assert client.write_queue_size <= 256


def test_constructor_callbacks(loop):
    reads = []
    connections = []
    server = uv.TCP(loop=loop, on_connection=lambda s, st: connections.append(s.accept(on_read=collect(reads))))
    server.bind(("127.0.0.1", 0))
    server.listen()
    client = uv.TCP(0, loop, None, None)
    client.connect(("127.0.0.1", server.sockname.port))
    client.write(b"via constructor callbacks")
    run_until(loop, lambda: connections and connections[0].readable)
    connections[0].read_start()  # on_read came with the constructor
    run_until(loop, lambda: bool(reads))
    assert reads[0] == (connections[0], SUCCESS, b"via constructor callbacks")


def test_request_callback_attributes_are_settable(loop):
    server, accepted, client = connected_pair(loop)
    seen = []
    write = client.write(b"x", on_write=lambda r, s: seen.append("original"))
    write.on_write = lambda r, s: seen.append("replaced")
    shutdown = client.shutdown()
    shutdown.on_shutdown = lambda r, s: seen.append("set later")
    run_until(loop, lambda: len(seen) == 2)
    assert seen == ["replaced", "set later"]


def test_a_failed_connect_cannot_be_retried(loop):
    probe = uv.TCP(loop=loop)
    probe.bind(("127.0.0.1", 0))
    probe.listen()
    port = probe.sockname.port
    probe.close()
    run(loop)
    client = uv.TCP(loop=loop)
    statuses = []
    client.connect(("127.0.0.1", port), on_connect=collect(statuses))
    run(loop)
    assert statuses[0][1] is uv.StatusCodes.ECONNREFUSED
    assert not client.readable and not client.writable
    with pytest.raises(uv.error.ArgumentError):
        client.connect(("127.0.0.1", port))  # libuv cannot reuse the socket: a new TCP is needed
