"""Lifetime and GC safety (DESIGN section 5, behaviour 12): objects that may still be
called back are kept alive by their loop, dropped idle handles are released, nothing
grows per connection."""

from __future__ import annotations

import gc
import os
import socket
import weakref
from collections import Counter

import pytest

from support import connected_pair, echo_server, run, run_until, tcp_server, uv

from swiftuvstream import _ffi, handle as handle_module

SUCCESS = uv.StatusCodes.SUCCESS


def c_handle_count(loop: uv.Loop) -> int:
    return _ffi.lib.uvs_loop_handle_count(loop._ptr)


def turn(loop: uv.Loop, times: int = 1) -> None:
    """Runs a few non-blocking iterations with a full collection after each."""
    for _ in range(times):
        loop.run(uv.RunModes.NOWAIT)
        gc.collect()


def run_collecting(loop: uv.Loop, predicate, timeout: float = 20.0) -> None:
    """run_until with gc.collect() forced between loop iterations."""

    def check():
        gc.collect()
        return predicate()

    run_until(loop, check, timeout)


def test_fire_and_forget_client(loop):
    """Nothing but the loop references the client, its requests or the server's
    connections: the exchange still completes, with collections between turns."""
    server, port = echo_server(loop)
    received = []

    def on_read(stream, status, data):
        if status is SUCCESS:
            received.append(data)
        else:
            stream.close()

    def on_connect(request, status):
        assert status is SUCCESS
        request.stream.read_start(on_read)
        request.stream.write(b"fire ", on_write=lambda r, s: r.stream.write(b"and forget"))
        request.stream.write(bytearray(b"!"))

    uv.TCP(loop=loop).connect(("127.0.0.1", port), on_connect=on_connect)
    del server
    gc.collect()
    run_collecting(loop, lambda: b"".join(received) == b"fire !and forget")


def test_dropped_listener_keeps_listening(loop):
    server, port = echo_server(loop)
    ref = weakref.ref(server)
    del server
    gc.collect()
    assert ref() is not None  # listening: kept alive by the loop
    client = uv.TCP(loop=loop)
    got = []
    client.connect(("127.0.0.1", port))
    client.read_start(lambda s, st, d: got.append(d))
    client.write(b"still there")
    run_collecting(loop, lambda: b"".join(got) == b"still there")
    ref().close()


def test_dropped_idle_handles_are_released(loop):
    tcp = uv.TCP(socket.AF_INET, loop=loop)
    fd = tcp.fileno()
    pipe = uv.Pipe(loop=loop)
    timer = uv.Timer(loop=loop)
    refs = [weakref.ref(h) for h in (tcp, pipe, timer)]
    assert c_handle_count(loop) == 3
    del tcp, pipe, timer
    gc.collect()
    assert all(r() is None for r in refs)
    assert loop.handles == set()
    turn(loop)
    assert c_handle_count(loop) == 0  # released in C too
    with pytest.raises(OSError):
        os.fstat(fd)  # the socket was closed
    loop.close()  # nothing left: closes at once


def test_started_timer_is_kept_until_it_can_no_longer_fire(loop):
    fired = []
    timer = uv.Timer(loop=loop, on_timeout=lambda t: fired.append(1))
    timer.start(1)
    ref = weakref.ref(timer)
    del timer
    gc.collect()
    assert ref() is not None
    run_collecting(loop, lambda: bool(fired))
    turn(loop)
    assert ref() is None  # one-shot timer done: released
    assert c_handle_count(loop) == 0


def test_closing_handle_is_kept_until_on_closed(loop):
    closed = []
    tcp = uv.TCP(loop=loop)
    tcp.close(lambda h: closed.append(type(h).__name__))
    ref = weakref.ref(tcp)
    del tcp
    gc.collect()
    assert ref() is not None
    run(loop)
    assert closed == ["TCP"]
    gc.collect()
    assert ref() is None


def test_requests_are_released_after_completion(loop):
    server, port = tcp_server(loop, lambda c: c.read_start(lambda *a: None))
    client = uv.TCP(loop=loop)
    connect = weakref.ref(client.connect(("127.0.0.1", port)))
    write = weakref.ref(client.write(b"x" * 1000))
    shutdown = weakref.ref(client.shutdown())
    gc.collect()
    assert connect() is not None and write() is not None and shutdown() is not None
    run_collecting(loop, lambda: connect() is None and write() is None and shutdown() is None)
    assert client not in loop._busy


def test_sent_buffers_are_not_kept(loop):
    server, accepted, client = connected_pair(loop)
    data = bytearray(b"x" * (4 * 1024 * 1024))
    ref = weakref.ref(data) if hasattr(data, "__weakref__") else None
    client.write(data)
    data.extend(b"no export left")  # would raise BufferError if still exported
    del data
    gc.collect()
    assert ref is None or ref() is None


def test_the_loop_releases_a_closed_handles_c_object(loop):
    tcp = uv.TCP(loop=loop)
    tcp.close()
    run(loop)
    assert tcp.closed and tcp._ptr is None
    assert tcp._id not in handle_module.registry
    assert c_handle_count(loop) == 0


def test_dropping_a_loop_with_live_handles(capfd):
    """A loop dropped with a listener, connections and a timer: everything is finalized
    without a crash, and the loop object goes away."""
    loop = uv.Loop()
    server, port = echo_server(loop)
    client = uv.TCP(loop=loop)
    client.connect(("127.0.0.1", port))
    client.read_start(lambda *a: None)
    client.write(b"hello")
    timer = uv.Timer(loop=loop)
    timer.start(60_000)
    loop.run(uv.RunModes.NOWAIT)
    ref = weakref.ref(loop)
    uv.Loop()  # no longer current
    del loop, server, client, timer
    gc.collect()
    assert ref() is None
    gc.collect()
    assert "Exception ignored" not in capfd.readouterr().err


def test_whole_exchanges_with_collections_between_turns(loop):
    server, port = echo_server(loop)
    del server
    results = {}
    sizes = [1, 10, 1000, 65536, 300_000]

    for index, size in enumerate(sizes * 4):
        expected = os.urandom(size)
        chunks = []

        def on_read(stream, status, data, chunks=chunks, expected=expected, index=index):
            if status is SUCCESS:
                chunks.append(data)
            else:
                results[index] = b"".join(chunks) == expected
                stream.close()

        def on_connect(request, status, expected=expected, on_read=on_read):
            request.stream.read_start(on_read)
            # A memoryview of a temporary bytes object: the only reference is the view.
            request.stream.write(memoryview(bytes(expected)))
            request.stream.shutdown()

        uv.TCP(loop=loop).connect(("127.0.0.1", port), on_connect=on_connect)
    gc.collect()
    run_collecting(loop, lambda: len(results) == len(sizes) * 4, timeout=60)
    assert all(results.values())


def live_counts(loop: uv.Loop) -> Counter:
    gc.collect()
    counts = Counter(type(o).__name__ for o in gc.get_objects())
    interesting = Counter({name: counts[name] for name in (
        "TCP", "Pipe", "Timer", "ConnectRequest", "WriteRequest", "ShutdownRequest", "finalize", "KeyedRef",
        "Buffers", "_PyBuffer", "function", "cell", "list", "dict", "tuple", "frame",
    )})
    interesting["registry"] = len(handle_module.registry)
    interesting["busy"] = len(loop._busy)
    interesting["handles"] = len(loop._handles)
    interesting["c_handles"] = c_handle_count(loop)
    interesting["finalizers"] = len(weakref.finalize._registry)
    interesting["all_objects"] = len(gc.get_objects())
    return interesting


def test_no_growth_over_1000_connections(loop):
    server, port = echo_server(loop)
    finished = [0]

    def one_connection():
        client = uv.TCP(loop=loop)
        chunks = []

        def on_read(stream, status, data):
            if status is SUCCESS:
                chunks.append(data)
            else:
                assert b"".join(chunks) == b"ping" * 4
                stream.close(lambda h: finished.__setitem__(0, finished[0] + 1))

        def on_connect(request, status):
            assert status is SUCCESS
            stream = request.stream
            stream.read_start(on_read)
            stream.write(b"ping")
            stream.write([b"ping", bytearray(b"ping")], on_write=lambda r, s: None)
            stream.write(memoryview(b"ping"))
            stream.shutdown(lambda r, s: None)

        client.connect(("127.0.0.1", port), on_connect=on_connect)

    def batch(count):
        target = finished[0] + count
        started = 0
        while finished[0] < target:
            # At most 50 connections in flight.
            while started < count and started - (finished[0] - (target - count)) < 50:
                one_connection()
                started += 1
            loop.run(uv.RunModes.ONCE)
        for _ in range(5):
            loop.run(uv.RunModes.NOWAIT)

    batch(100)  # warm up caches
    before = live_counts(loop)
    batch(1000)
    after = live_counts(loop)
    assert finished[0] == 1100
    for key in before:
        if key == "all_objects":
            assert after[key] - before[key] < 200, (before, after)
        else:
            assert after[key] <= before[key] + 2, (key, before[key], after[key])
    assert after["TCP"] == 1  # the server
    assert after["busy"] == 1 and after["handles"] == 1 and after["c_handles"] == 1


def test_a_paused_stream_is_kept_until_it_hears_writable_again(loop):
    """A server stream that stops reading when its write queue is above the high
    watermark (and is referenced by nothing but the loop) must still be there for
    on_writable_changed(True), with no write in flight any more."""
    def on_writable_changed(stream, writable):
        if not writable:
            stream.read_stop()
        elif stream.readable:
            stream.read_start()

    def on_read(stream, status, data):
        if status is SUCCESS:
            stream.write(data)
        else:
            stream.shutdown(lambda r, s: r.stream.close())

    def on_accept(client):
        client.set_write_watermarks(64 * 1024, 16 * 1024)
        client.on_writable_changed = on_writable_changed
        client.read_start(on_read)

    server, port = tcp_server(loop, on_accept)
    client = uv.TCP(loop=loop)
    client.connect(("127.0.0.1", port))
    data = os.urandom(16 * 1024 * 1024)
    client.write(data)
    client.shutdown()
    echoed = []
    paused = []

    def slow_reader(stream, status, chunk):
        # Read in bursts with pauses, so the server's queue fills and drains.
        if status is SUCCESS:
            echoed.append(chunk)
            if len(echoed) % 20 == 0:
                stream.read_stop()
                paused.append(uv.Timer(loop=loop, on_timeout=lambda t: stream.read_start()))
                paused[-1].start(2)

    client.read_start(slow_reader)
    run_collecting(loop, lambda: sum(map(len, echoed)) == len(data), timeout=60)
    assert b"".join(echoed) == data


def test_a_callback_may_drop_the_last_reference_to_its_stream(loop):
    sessions = {}
    closed = []

    def on_accept(client):
        sessions["c"] = client

        def on_read(stream, status, data):
            sessions.clear()  # the last program reference
            gc.collect()
            stream.close(lambda h: closed.append(h.closed))
            stream.read_stop()  # fine on a closing stream

        client.read_start(on_read)

    server, port = tcp_server(loop, on_accept)
    client = uv.TCP(loop=loop)
    client.connect(("127.0.0.1", port))
    client.write(b"x")
    run_collecting(loop, lambda: bool(closed))
    assert closed == [True]


def test_handles_released_from_another_thread_while_the_loop_runs(loop):
    """A handle finalized by the garbage collector on another thread while its loop
    runs is closed on the loop's thread (the C library posts it there)."""
    import threading

    keep = uv.Timer(loop=loop)
    keep.start(60_000)
    box = [uv.TCP(socket.AF_INET, loop=loop)]
    done = []

    def drop():
        box.clear()
        gc.collect()
        done.append(True)
        loop.call_later(keep.close)

    threading.Timer(0.05, drop).start()
    run(loop)
    assert done == [True]
    turn(loop, 3)
    assert c_handle_count(loop) == 0
