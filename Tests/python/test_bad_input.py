"""Bad input raises the documented exception and never crashes the interpreter."""

from __future__ import annotations

import array
import os
import socket

import pytest

from support import connected_pair, run, tcp_server, uv

from swiftuvstream import handle as handle_module


@pytest.mark.parametrize("bad", ["text", None, 42, 4.2, [b"a", "b"], [[b"a"]], {b"a": 1}, object(), [None], (1,)])
def test_write_rejects_non_buffers(loop, bad):
    server, accepted, client = connected_pair(loop)
    busy = len(loop._busy)
    with pytest.raises(TypeError):
        client.write(bad)
    with pytest.raises(TypeError):
        client.try_write(bad)
    assert len(loop._busy) == busy  # nothing left behind
    client.write(b"still usable")


def test_str_error_message_says_to_encode(loop):
    server, accepted, client = connected_pair(loop)
    with pytest.raises(TypeError, match="str"):
        client.write("text")


def test_write_accepts_buffer_protocol_objects(loop):
    server, accepted, client = connected_pair(loop)
    got = []
    accepted.read_start(lambda s, st, d: got.append(d))
    client.write(bytearray(b"a"))
    client.write(memoryview(b"b"))
    client.write(array.array("b", [99]))
    client.write([memoryview(bytearray(b"d")), b"e"])
    from support import run_until

    run_until(loop, lambda: b"".join(got) == b"abcde")


def test_write_with_bad_send_stream(loop):
    server, accepted, client = connected_pair(loop)
    with pytest.raises(TypeError):
        client.write(b"x", send_stream="not a stream")
    with pytest.raises(TypeError):
        client.write(b"x", send_stream=uv.Timer(loop=loop))
    with pytest.raises(uv.error.ArgumentError):
        client.write(b"x", send_stream=accepted)  # not an ipc pipe


def test_wrong_argument_types(loop):
    with pytest.raises(TypeError):
        uv.TCP("inet", loop=loop)
    with pytest.raises(TypeError):
        uv.Timer(loop="not a loop")
    with pytest.raises(TypeError):
        uv.TCP(loop=42)
    with pytest.raises(TypeError):
        uv.TTY("0", loop=loop)
    tcp = uv.TCP(loop=loop)
    for call in (lambda: tcp.listen("5"), lambda: tcp.open(None), lambda: tcp.open(1.0),
                 lambda: tcp.set_keepalive(True, "1"), lambda: tcp.accept(42)):
        with pytest.raises(TypeError):
            call()
    pipe = uv.Pipe(loop=loop)
    for call in (lambda: pipe.bind(None), lambda: pipe.bind(42), lambda: pipe.connect(None), lambda: pipe.chmod("rw"),
                 lambda: pipe.pending_instances(None)):
        with pytest.raises(TypeError):
            call()


def test_out_of_range_integers_never_wrap(loop):
    tcp = uv.TCP(loop=loop)
    for call in (lambda: tcp.open(2**40), lambda: tcp.listen(2**40), lambda: tcp.bind(("127.0.0.1", 2**32)),
                 lambda: setattr(tcp, "send_buffer_size", 2**40), lambda: tcp.set_keepalive(True, -1),
                 lambda: uv.TCP(2**40, loop=loop), lambda: uv.Timer(loop=loop).start(2**64),
                 lambda: tcp.set_write_watermarks(2**70)):
        with pytest.raises(uv.error.ArgumentError):
            call()


def test_non_socket_fds(loop, tmp_path):
    path = tmp_path / "file"
    path.write_bytes(b"data")
    fd = os.open(str(path), os.O_RDONLY)
    try:
        with pytest.raises(uv.error.NotSocketError):
            uv.TCP(loop=loop).open(fd)
        with pytest.raises(uv.error.ArgumentError):
            uv.Pipe(loop=loop).open(fd)
        with pytest.raises(uv.error.ArgumentError):
            uv.TTY(fd, loop=loop)
        null = os.open(os.devnull, os.O_RDWR)
        try:
            with pytest.raises(uv.error.ArgumentError):
                uv.Pipe(loop=loop).open(null)
            with pytest.raises(uv.error.ArgumentError):
                uv.TTY(null, loop=loop)
        finally:
            os.close(null)
    finally:
        os.close(fd)
    # A closed descriptor.
    read_fd, write_fd = os.pipe()
    os.close(read_fd)
    os.close(write_fd)
    with pytest.raises(uv.error.BadFileDescriptorError):
        uv.Pipe(loop=loop).open(read_fd)
    with pytest.raises(uv.error.BadFileDescriptorError):
        uv.TTY(read_fd, loop=loop)
    with socket.socket() as sock:
        with pytest.raises(uv.error.ArgumentError):
            uv.Pipe(loop=loop).open(sock.fileno())


def test_too_long_pipe_paths(loop, tmp_path):
    long_path = "/tmp/" + "x" * 200
    with pytest.raises(uv.error.NameTooLongError):
        uv.Pipe(loop=loop).bind(long_path)
    assert not os.path.exists(long_path[:108])  # never truncated
    statuses = []
    uv.Pipe(loop=loop).connect(long_path, on_connect=lambda r, s: statuses.append(s))
    run(loop)
    assert statuses == [uv.StatusCodes.ENAMETOOLONG]
    exact = str(tmp_path / "s")
    exact = exact + "y" * (uv.pipe.PATH_MAX - len(exact.encode()))
    assert len(exact.encode()) == 107
    pipe = uv.Pipe(loop=loop)
    pipe.bind(exact)  # the longest accepted
    assert pipe.sockname == exact
    with pytest.raises(uv.error.NameTooLongError):
        uv.Pipe(loop=loop).bind(exact + "z")


def test_nul_in_paths_and_addresses(loop):
    with pytest.raises(uv.error.ArgumentError):
        uv.Pipe(loop=loop).bind("/tmp/a\0b")
    with pytest.raises(uv.error.ArgumentError):
        uv.Pipe(loop=loop).connect(b"/tmp/a\0b")
    with pytest.raises(uv.error.ArgumentError):
        uv.TCP(loop=loop).connect(("127.0.0.1\0", 1))


def test_failed_calls_leave_nothing_behind(loop):
    before = (len(loop._busy), len(handle_module.registry))
    tcp = uv.TCP(loop=loop)
    for call in (lambda: tcp.write(b"x"), tcp.shutdown, lambda: tcp.connect(("bad", 1)), tcp.read_start):
        with pytest.raises(uv.UVError):
            call()
    tcp.close()
    run(loop)
    assert (len(loop._busy), len(handle_module.registry)) == before


def test_operations_on_the_wrong_stream_kind(loop):
    timer = uv.Timer(loop=loop)
    assert not hasattr(timer, "read_start")
    pipe = uv.Pipe(loop=loop)
    with pytest.raises(uv.error.ArgumentError):
        pipe.accept()  # not listening, nothing pending
    with pytest.raises(uv.error.ArgumentError):
        pipe.pending_accept()
    server, port = tcp_server(loop)
    with pytest.raises(TypeError):
        server.accept(uv.Timer)


def test_refused_calls_keep_the_callbacks(loop):
    """read_start, listen and Timer.start that raise leave the callback attribute as it
    was: bad input loses nothing."""
    old_read, new_read = (lambda *a: None), (lambda *a: None)
    tcp = uv.TCP(loop=loop, on_read=old_read)
    with pytest.raises(uv.error.NotConnectedError):
        tcp.read_start(new_read)
    assert tcp.on_read is old_read
    old_connection = lambda *a: None  # noqa: E731
    pipe = uv.Pipe(ipc=True, loop=loop, on_connection=old_connection)
    with pytest.raises(uv.UVError):
        pipe.listen(5, lambda *a: None)
    assert pipe.on_connection is old_connection
    timer = uv.Timer(loop=loop)
    timer.close()
    with pytest.raises(uv.error.ClosedHandleError):
        timer.start(10, on_timeout=lambda t: None)
    assert timer.on_timeout is None
    tcp.close()
    pipe.close()
    run(loop)


def test_a_descriptor_owned_by_another_stream_is_refused(loop):
    """open() of a descriptor that a stream of the loop already owns raises
    FileExistsError (EEXIST), active or not: both would close it, and libuv aborts on
    the stale descriptor."""
    server, client, connection = connected_pair(loop)
    stranger = uv.TCP(loop=loop)
    with pytest.raises(uv.error.FileExistsError):
        stranger.open(client.fileno())
    client.read_start(lambda *a: None)
    with pytest.raises(uv.error.FileExistsError):
        stranger.open(client.fileno())
    client.read_stop()
    assert client.writable
    for stream in (server, client, connection, stranger):
        stream.close()
    run(loop)


def test_integer_arguments_use_the_index_protocol(loop):
    """Integer arguments go through operator.index: an __index__ that returns a
    non-int is a TypeError (never a ctypes error), and an error inside __index__
    comes out as it is."""

    class FloatIndex:
        def __index__(self):
            return 1.5

    class Broken:
        def __index__(self):
            raise AttributeError("inside __index__")

    tcp = uv.TCP(loop=loop)
    timer = uv.Timer(loop=loop)
    with pytest.raises(TypeError):
        tcp.listen(FloatIndex())
    with pytest.raises(TypeError):
        timer.start(FloatIndex())
    with pytest.raises(AttributeError, match="inside __index__"):
        tcp.listen(Broken())
    tcp.close()
    timer.close()
    run(loop)


def test_a_tty_neither_accepts_nor_is_accepted(loop):
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    try:
        tty = uv.TTY(slave, loop=loop)
        with pytest.raises(uv.error.ArgumentError):
            tty.accept()
        server = uv.TCP(loop=loop)
        with pytest.raises(uv.error.ArgumentError):
            server.accept(uv.TTY)
        tty.close()
        server.close()
        run(loop)
    finally:
        os.close(master)
        os.close(slave)
