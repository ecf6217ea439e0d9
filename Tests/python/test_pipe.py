"""Pipes: Unix sockets, adopted pipe fds, and ipc pipes carrying streams (behaviour 14)."""

from __future__ import annotations

import os
import socket
import stat

import pytest

from support import collect, run, run_until, tcp_server, uv

SUCCESS = uv.StatusCodes.SUCCESS
EOF = uv.StatusCodes.EOF


def pipe_server(loop, path, on_accept=None, **accept_keywords):
    server = uv.Pipe(loop=loop)
    server.bind(path)

    def on_connection(stream, status):
        assert status is SUCCESS
        client = stream.accept(**accept_keywords)
        if on_accept is not None:
            on_accept(client)

    server.listen(on_connection=on_connection)
    return server


def ipc_pair(loop):
    """Two connected ipc pipes over a socketpair."""
    left_fd, right_fd = uv.pipe.socketpair()
    left = uv.Pipe(ipc=True, loop=loop)
    left.open(left_fd)
    right = uv.Pipe(ipc=True, loop=loop)
    right.open(right_fd)
    return left, right


def test_new_pipe(loop):
    pipe = uv.Pipe(loop=loop)
    assert pipe.family == socket.AF_UNIX
    assert not pipe.ipc and not pipe.readable and not pipe.writable
    assert pipe.pending_count == 0 and pipe.pending_type is None
    ipc = uv.Pipe(True, loop=loop)
    assert ipc.ipc
    assert uv.Pipe(ipc=True, loop=loop).ipc
    with pytest.raises(uv.error.BadFileDescriptorError):
        pipe.sockname


def test_unix_socket_echo(loop, tmp_sock):
    def on_read(stream, status, data):
        if status is SUCCESS:
            stream.write(data)
        else:
            stream.close()

    server = pipe_server(loop, tmp_sock, lambda c: c.read_start(on_read))
    assert server.sockname == tmp_sock
    assert stat.S_ISSOCK(os.stat(tmp_sock).st_mode)
    client = uv.Pipe(loop=loop)
    statuses = []
    request = client.connect(tmp_sock, on_connect=collect(statuses))
    assert isinstance(request, uv.ConnectRequest)
    got = []

    def on_client_read(stream, status, data):
        got.append(data)
        if b"".join(got) == b"over a unix socket":
            stream.close()
            server.close()

    client.read_start(on_client_read)
    client.write([b"over ", b"a unix socket"])
    run(loop)
    assert statuses == [(request, SUCCESS)]
    assert b"".join(got) == b"over a unix socket"


def test_sockname_peername_and_path_types(loop, tmp_sock):
    import pathlib

    accepted = []
    server = pipe_server(loop, pathlib.Path(tmp_sock), accepted.append)
    client = uv.Pipe(loop=loop)
    client.connect(os.fsencode(tmp_sock))
    run_until(loop, lambda: bool(accepted) and client.readable and not client.active)
    assert client.peername == tmp_sock
    assert client.sockname == ""  # unbound
    assert accepted[0].sockname == tmp_sock
    assert accepted[0].peername == ""
    assert accepted[0].family == socket.AF_UNIX
    with pytest.raises(uv.error.NotConnectedError):
        server.peername


def test_connect_errors_arrive_in_on_connect(loop, tmp_sock):
    statuses = []
    uv.Pipe(loop=loop).connect(tmp_sock, on_connect=lambda r, s: statuses.append(("missing", s)))
    # A socket file nobody listens on.
    bound = uv.Pipe(loop=loop)
    bound.bind(tmp_sock)
    uv.Pipe(loop=loop).connect(tmp_sock, on_connect=lambda r, s: statuses.append(("refused", s)))
    uv.Pipe(loop=loop).connect("/" + "x" * 300, on_connect=lambda r, s: statuses.append(("long", s)))
    run(loop)
    assert sorted(statuses) == sorted([
        ("missing", uv.StatusCodes.ENOENT),
        ("refused", uv.StatusCodes.ECONNREFUSED),
        ("long", uv.StatusCodes.ENAMETOOLONG),
    ])


def test_connect_misuse_raises(loop, tmp_sock):
    pipe_server(loop, tmp_sock)
    client = uv.Pipe(loop=loop)
    client.connect(tmp_sock)
    with pytest.raises(uv.error.AlreadyInProgressError):
        client.connect(tmp_sock)


def test_bind_errors(loop, tmp_sock):
    first = uv.Pipe(loop=loop)
    first.bind(tmp_sock)
    with pytest.raises(uv.error.ArgumentError):
        first.bind(tmp_sock + "2")  # already bound
    with pytest.raises(uv.error.AddressInUseError):
        uv.Pipe(loop=loop).bind(tmp_sock)
    # libuv 1.44 reports a missing directory as EACCES (uv_pipe_bind turns ENOENT
    # into EACCES, as on Windows); the header lists both.
    with pytest.raises((uv.error.PermissionError, uv.error.FileNotFoundError)):
        uv.Pipe(loop=loop).bind(os.path.join(os.path.dirname(tmp_sock), "no", "such", "dir"))
    with pytest.raises(uv.error.NameTooLongError):
        uv.Pipe(loop=loop).bind("/tmp/" + "n" * 150)


def test_chmod(loop, tmp_sock):
    pipe = uv.Pipe(loop=loop)
    with pytest.raises(uv.error.BadFileDescriptorError):
        pipe.chmod(uv.PipeChmod.READABLE)
    pipe.bind(tmp_sock)
    pipe.chmod(uv.PipeChmod.READABLE | uv.PipeChmod.WRITABLE)
    mode = stat.S_IMODE(os.stat(tmp_sock).st_mode)
    assert mode & 0o666 == 0o666
    with pytest.raises(uv.error.ArgumentError):
        pipe.chmod(8)


def test_chmod_of_a_socketpair_end(loop):
    a, b = uv.pipe.socketpair()
    pipe = uv.Pipe(loop=loop)
    pipe.open(a)
    os.close(b)
    with pytest.raises(uv.error.FileNotFoundError):
        pipe.chmod(uv.PipeChmod.READABLE)  # a descriptor but no path


def test_an_ipc_pipe_cannot_listen(loop, tmp_sock):
    pipe = uv.Pipe(ipc=True, loop=loop)
    pipe.bind(tmp_sock)
    with pytest.raises(uv.error.ArgumentError):
        pipe.listen()


def test_pending_instances(loop, tmp_sock):
    server = pipe_server(loop, tmp_sock)
    server.pending_instances(4)  # accepted and ignored on Unix
    with pytest.raises(uv.error.ArgumentError):
        server.pending_instances(0)


def test_accept_with_ipc_keyword_gives_an_ipc_pipe(loop, tmp_sock):
    accepted = []
    pipe_server(loop, tmp_sock, accepted.append, ipc=True)
    uv.Pipe(ipc=True, loop=loop).connect(tmp_sock)
    run_until(loop, lambda: bool(accepted))
    assert type(accepted[0]) is uv.Pipe and accepted[0].ipc and accepted[0].loop is loop


def test_open_anonymous_pipe_ends(loop):
    read_fd, write_fd = uv.pipe.pipe_pair()
    reader = uv.Pipe(loop=loop)
    reader.open(read_fd)
    writer = uv.Pipe(loop=loop)
    writer.open(write_fd)
    assert reader.fileno() == read_fd and writer.fileno() == write_fd
    assert reader.readable and writer.writable
    got = []
    reader.read_start(lambda s, st, d: got.append((st, d)))
    writer.write(b"through a pipe")
    writer.close()
    run_until(loop, lambda: got and got[-1][0] is EOF)
    assert b"".join(d for st, d in got) == b"through a pipe"
    with pytest.raises(uv.error.ResourceBusyError):
        reader.open(read_fd)  # already has a descriptor


def test_open_os_pipe_and_socketpair(loop):
    read_fd, write_fd = os.pipe()
    reader = uv.Pipe(loop=loop)
    reader.open(read_fd)
    os.write(write_fd, b"from os.pipe")
    os.close(write_fd)
    got = []
    reader.read_start(lambda s, st, d: got.append((st, d)))
    run_until(loop, lambda: got and got[-1][0] is EOF)
    assert b"".join(d for _, d in got) == b"from os.pipe"
    a, b = uv.pipe.socketpair()
    left = uv.Pipe(loop=loop)
    left.open(a)
    right = uv.Pipe(loop=loop)
    right.open(b)
    echoed = []
    right.read_start(lambda s, st, d: echoed.append(d))
    left.write(b"both ways")
    run_until(loop, lambda: b"".join(echoed) == b"both ways")


# -- ipc: passing streams (behaviour 14) ----------------------------------------------


def test_send_a_tcp_stream_with_its_data(loop):
    """A TCP connection accepted here is sent over an ipc pipe; the receiver accepts it
    and talks to the client through it; the sender closes its copy once the write
    completed."""
    sender_pipe, receiver_pipe = ipc_pair(loop)
    handed_over = []
    server, port = tcp_server(loop, handed_over.append)
    client = uv.TCP(loop=loop)
    client.connect(("127.0.0.1", port))
    run_until(loop, lambda: bool(handed_over))
    connection = handed_over[0]
    writes = []

    def on_write(request, status):
        writes.append(status)
        assert request.send_stream is connection
        connection.close()  # may be closed once its write completed

    request = sender_pipe.write(b"take this", send_stream=connection, on_write=on_write)
    assert request.send_stream is connection
    received = []

    def on_read(pipe, status, data):
        assert status is SUCCESS
        received.append((data, pipe.pending_count, pipe.pending_type))
        stream = pipe.pending_accept()
        assert isinstance(stream, uv.TCP) and stream.loop is loop
        stream.read_start(lambda s, st, d: s.write(d) if st is SUCCESS else s.close())

    receiver_pipe.read_start(on_read)
    run_until(loop, lambda: bool(received) and bool(writes))
    assert writes == [SUCCESS]
    assert received == [(b"take this", 1, uv.TCP)]
    echoed = []
    client.read_start(lambda s, st, d: echoed.append(d))
    client.write(b"echo via the passed stream")
    run_until(loop, lambda: b"".join(echoed) == b"echo via the passed stream")
    assert connection.closed


def test_send_several_streams_and_pipes(loop, tmp_sock):
    """Several handles (TCP and pipe) sent in a row; the receiver may get more than one
    per read; pending_count/pending_type/accept() work."""
    sender_pipe, receiver_pipe = ipc_pair(loop)
    tcp_conns = []
    server, port = tcp_server(loop, tcp_conns.append)
    pipe_conns = []
    pipe_server(loop, tmp_sock, pipe_conns.append)
    clients = []
    for _ in range(2):
        c = uv.TCP(loop=loop)
        c.connect(("127.0.0.1", port))
        clients.append(c)
    p = uv.Pipe(loop=loop)
    p.connect(tmp_sock)
    clients.append(p)
    run_until(loop, lambda: len(tcp_conns) == 2 and len(pipe_conns) == 1)
    statuses = []
    for index, stream in enumerate([tcp_conns[0], pipe_conns[0], tcp_conns[1]]):
        sender_pipe.write(b"%d" % index, send_stream=stream, on_write=lambda r, s: statuses.append(s))
    data = []
    kinds = []

    def on_read(pipe, status, chunk):
        data.append(chunk)
        while pipe.pending_count:
            kind = pipe.pending_type
            stream = pipe.accept()  # the default class is the pending one
            assert type(stream) is kind
            kinds.append(kind)

    receiver_pipe.read_start(on_read)
    run_until(loop, lambda: len(kinds) == 3 and len(statuses) == 3)
    assert b"".join(data) == b"012"
    assert kinds == [uv.TCP, uv.Pipe, uv.TCP]
    assert all(s is SUCCESS for s in statuses)
    assert receiver_pipe.pending_count == 0 and receiver_pipe.pending_type is None
    with pytest.raises(uv.error.ArgumentError):
        receiver_pipe.pending_accept()


def test_send_stream_errors(loop):
    sender_pipe, receiver_pipe = ipc_pair(loop)
    server, port = tcp_server(loop)
    with pytest.raises(uv.error.ArgumentError):
        sender_pipe.write(b"", send_stream=server)  # the handle travels with a byte
    with pytest.raises(uv.error.ArgumentError):
        sender_pipe.write([], send_stream=server)
    with pytest.raises(uv.error.BadFileDescriptorError):
        sender_pipe.write(b"x", send_stream=uv.TCP(loop=loop))  # no socket yet
    closing = uv.TCP(socket.AF_INET, loop=loop)
    closing.close()
    with pytest.raises(uv.ClosedHandleError):
        sender_pipe.write(b"x", send_stream=closing)
    plain_a, plain_b = uv.pipe.socketpair()
    plain = uv.Pipe(loop=loop)
    plain.open(plain_a)
    os.close(plain_b)
    with pytest.raises(uv.error.ArgumentError):
        plain.write(b"x", send_stream=server)  # not an ipc pipe


def test_send_stream_request_keeps_the_stream_alive(loop):
    import gc
    import weakref

    sender_pipe, receiver_pipe = ipc_pair(loop)
    conns = []
    server, port = tcp_server(loop, conns.append)
    uv.TCP(loop=loop).connect(("127.0.0.1", port))
    run_until(loop, lambda: bool(conns))
    ref = weakref.ref(conns[0])
    sender_pipe.write(b"x", send_stream=conns.pop())
    gc.collect()
    assert ref() is not None
    got = []
    receiver_pipe.read_start(lambda p, s, d: got.append(p.pending_accept()))
    run_until(loop, lambda: bool(got))


def test_closed_pipe_queries(loop):
    pipe = uv.Pipe(ipc=True, loop=loop)
    pipe.close()
    assert pipe.pending_count == 0 and pipe.pending_type is None
    assert not pipe.readable and not pipe.writable
    for call in (lambda: pipe.bind("/tmp/x"), lambda: pipe.connect("/tmp/x"), lambda: pipe.open(0),
                 lambda: pipe.chmod(1), lambda: pipe.pending_instances(1), pipe.pending_accept,
                 lambda: pipe.sockname, lambda: pipe.peername):
        with pytest.raises(uv.ClosedHandleError):
            call()


def test_a_sent_stream_may_be_closed_while_its_write_waits(loop):
    """The write that sends a stream waits behind 1 MiB the receiver has not read; the
    sender closes its copy at once and writes again. Every write succeeds, the ipc
    pipe stays writable, and the receiver gets all the bytes and a working stream."""
    sender_pipe, receiver_pipe = ipc_pair(loop)
    first, other_end = uv.Pipe(loop=loop), uv.Pipe(loop=loop)
    a, b = socket.socketpair()
    first.open(a.detach())
    other_end.open(b.detach())
    backlog = bytes(1 << 20)
    writes = []
    sender_pipe.write(backlog, on_write=lambda r, st: writes.append(st))
    assert sender_pipe.write_queue_size > 0
    sender_pipe.write(b"P", send_stream=first, on_write=lambda r, st: writes.append(st))
    first.close()
    sender_pipe.write(b"Q", on_write=lambda r, st: writes.append(st))
    received, streams = [], []

    def on_read(pipe, status, data):
        assert status is uv.StatusCodes.SUCCESS
        received.append(data)
        while pipe.pending_count:
            streams.append(pipe.pending_accept())

    receiver_pipe.read_start(on_read)
    run_until(loop, lambda: len(writes) == 3 and sum(map(len, received)) == len(backlog) + 2 and streams)
    assert writes == [uv.StatusCodes.SUCCESS] * 3
    assert sender_pipe.writable
    assert b"".join(received)[-2:] == b"PQ"
    echoed = []
    other_end.read_start(collect(echoed))
    streams[0].write(b"still open")
    run_until(loop, lambda: b"".join(d for _, _, d in echoed) == b"still open")
