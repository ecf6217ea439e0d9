"""An exception raised in any kind of callback reaches the loop's excepthook (with
exc_type/exc_value/exc_traceback stored), and the default hook stops the loop."""

from __future__ import annotations

import os

from support import Watchdog, connected_pair, drain, run_until, tcp_server, uv


class Boom(Exception):
    pass


def raiser(*args):
    raise Boom(args)


def expect_boom(loop, count=1):
    errors = loop.recorder.errors
    run_until(loop, lambda: len(errors) >= count)
    assert all(isinstance(e, Boom) for e in errors), errors
    assert loop.exc_type is Boom and isinstance(loop.exc_value, Boom)
    assert loop.exc_traceback is not None
    errors.clear()
    loop.reset_exception()


def test_on_read(loop):
    server, accepted, client = connected_pair(loop)
    accepted.read_start(raiser)
    client.write(b"x")
    expect_boom(loop)


def test_on_read_at_eof(loop):
    server, accepted, client = connected_pair(loop)
    accepted.read_start(lambda s, st, d: raiser() if st is uv.StatusCodes.EOF else None)
    client.shutdown()
    expect_boom(loop)
    assert accepted not in loop._busy  # no longer reading: released anyway


def test_on_connection(loop):
    server = uv.TCP(loop=loop)
    server.bind(("127.0.0.1", 0))
    server.listen(on_connection=raiser)
    uv.TCP(loop=loop).connect(("127.0.0.1", server.sockname.port))
    expect_boom(loop)


def test_on_connect(loop):
    server, port = tcp_server(loop)
    uv.TCP(loop=loop).connect(("127.0.0.1", port), on_connect=raiser)
    expect_boom(loop)


def test_on_write_and_on_shutdown(loop):
    server, accepted, client = connected_pair(loop)
    client.write(b"x", on_write=raiser)
    client.shutdown(raiser)
    expect_boom(loop, 2)


def test_on_closed(loop):
    uv.TCP(loop=loop).close(raiser)
    uv.Timer(loop=loop).close(raiser)
    expect_boom(loop, 2)


def test_on_timeout(loop):
    timer = uv.Timer(loop=loop)
    timer.start(1, 1, raiser)
    expect_boom(loop, 3)  # a repeating timer keeps firing with a non-stopping hook
    timer.stop()


def test_on_writable_changed(loop):
    server, accepted, client = connected_pair(loop)
    client.set_write_watermarks(1024, 512)
    client.on_writable_changed = raiser
    client.write(os.urandom(16 * 1024 * 1024))
    assert client.write_blocked
    accepted.read_start(lambda *a: None)
    expect_boom(loop, 2)


def test_call_later(loop):
    loop.call_later(raiser, 1, 2)
    expect_boom(loop)


def test_excepthook_gets_the_exception_triple(loop):
    seen = []
    loop.excepthook = lambda *args: seen.append(args)
    loop.call_later(raiser)
    loop.run()
    (hook_loop, exc_type, exc_value, exc_traceback), = seen
    assert hook_loop is loop and exc_type is Boom and isinstance(exc_value, Boom)
    assert exc_traceback is exc_value.__traceback__


def test_default_hook_stops_the_loop_from_a_read_callback(capsys):
    loop = uv.Loop()
    server, accepted, client = connected_pair(loop)
    accepted.read_start(raiser)
    client.write(b"x")
    with Watchdog(loop, 10) as dog:
        assert loop.run() is True  # stopped, with the listener still active
    assert not dog.fired
    assert "Boom" in capsys.readouterr().err
    assert loop.exc_type is Boom
    drain(loop)


def test_exceptions_in_many_callbacks_of_one_run(loop):
    server, accepted, client = connected_pair(loop)
    for _ in range(10):
        client.write(b"x", on_write=raiser)
    expect_boom(loop, 10)
