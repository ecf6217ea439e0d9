"""Loop: current/default loops, run modes, stop, close, call_later, excepthook, Ctrl-C."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from support import Watchdog, connected_pair, drain, run, run_until, uv


def test_a_new_loop_is_the_current_loop():
    first = uv.Loop()
    assert uv.Loop.get_current() is first
    second = uv.Loop()
    assert uv.Loop.get_current() is second
    timer = uv.Timer()
    assert timer.loop is second
    assert uv.TCP().loop is second
    assert uv.Pipe().loop is second
    explicit = uv.Timer(loop=first)
    assert explicit.loop is first
    drain(first)
    drain(second)


def test_current_loop_is_per_thread():
    main = uv.Loop()
    seen = {}

    def worker():
        seen["before"] = uv.Loop.get_current(instantiate=False)
        seen["created"] = uv.Loop.get_current()
        seen["after"] = uv.Loop.get_current()
        drain(seen["created"])

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen["before"] is None
    assert isinstance(seen["created"], uv.Loop) and seen["created"] is not main
    assert seen["after"] is seen["created"]
    assert uv.Loop.get_current() is main
    drain(main)


def test_running_a_loop_makes_it_current(loop):
    other = uv.Loop()
    assert uv.Loop.get_current() is other
    loop.run()
    assert uv.Loop.get_current() is loop
    drain(other)


def test_default_loop():
    default = uv.Loop.get_default()
    assert default is uv.Loop.get_default()
    assert default.default
    with pytest.raises(RuntimeError):
        uv.Loop(default=True)
    drain(default)
    assert default.closed
    fresh = uv.Loop.get_default()
    assert fresh is not default and not fresh.closed
    assert uv.Loop.get_default(instantiate=False) is fresh
    drain(fresh)


def test_loop_can_be_subclassed():
    class MyLoop(uv.Loop):
        def __init__(self):
            super().__init__()
            self.seen = []

        def excepthook(self, loop, exc_type, exc_value, exc_traceback):
            self.seen.append((loop, exc_type, exc_value))

    loop = MyLoop()
    assert isinstance(uv.Loop.get_current(), MyLoop)
    error = ValueError("boom")

    def fail():
        raise error

    loop.call_later(fail)
    loop.run()
    assert loop.seen == [(loop, ValueError, error)]
    drain(loop)


def test_buffer_size_is_checked():
    with pytest.raises(uv.error.ArgumentError):
        uv.Loop(buffer_size=0)
    with pytest.raises(TypeError):
        uv.Loop(buffer_size="big")
    loop = uv.Loop(buffer_size=1024)
    assert loop.buffer_size == 1024
    drain(loop)


def test_buffer_size_bounds_each_read():
    loop = uv.Loop(buffer_size=1000)
    server, accepted, client = connected_pair(loop)
    chunks = []
    accepted.read_start(lambda stream, status, data: chunks.append(data))
    payload = bytes(range(256)) * 400
    client.write(payload)
    run_until(loop, lambda: sum(len(chunk) for chunk in chunks) >= len(payload))
    assert b"".join(chunks) == payload
    assert max(len(chunk) for chunk in chunks) <= 1000
    assert len(chunks) >= len(payload) // 1000
    for handle in (server, accepted, client):
        handle.close()
    drain(loop)


def test_run_modes(loop):
    assert [int(mode) for mode in (uv.RunModes.DEFAULT, uv.RunModes.ONCE, uv.RunModes.NOWAIT)] == [0, 1, 2]
    # Nothing to do: every mode returns False at once.
    assert loop.run() is False
    assert loop.run(uv.RunModes.NOWAIT) is False
    assert loop.run(uv.RunModes.ONCE) is False
    fired = []
    timer = uv.Timer(loop=loop)
    timer.start(0, 1, lambda t: fired.append(1))
    # NOWAIT/ONCE with an active timer: work remains.
    assert loop.run(uv.RunModes.ONCE) is True
    assert loop.run(uv.RunModes.NOWAIT) is True
    assert fired
    timer.stop()
    assert loop.run() is False
    with pytest.raises(uv.error.ArgumentError):
        loop.run(7)


def test_stop_returns_true_with_handles_active(loop):
    timer = uv.Timer(loop=loop)
    ticks = []

    def on_timeout(t):
        ticks.append(1)
        if len(ticks) == 3:
            loop.stop()

    timer.start(1, 1, on_timeout)
    assert loop.run() is True
    assert len(ticks) == 3
    assert loop.alive
    timer.close()
    assert loop.run() is False
    assert not loop.alive


def test_stop_before_run_makes_the_next_run_return_at_once(loop):
    timer = uv.Timer(loop=loop)
    timer.start(10_000)
    loop.stop()
    started = time.monotonic()
    assert loop.run() is True
    assert time.monotonic() - started < 5


def test_now_and_update_time(loop):
    before = loop.now
    assert isinstance(before, int)
    time.sleep(0.02)
    assert loop.now == before  # cached
    loop.update_time()
    assert loop.now >= before + 15


def test_alive(loop):
    assert not loop.alive
    timer = uv.Timer(loop=loop)
    assert not loop.alive  # not active
    timer.start(1000)
    assert loop.alive
    timer.dereference()
    assert not loop.alive
    timer.stop()


def test_handles(loop):
    assert loop.handles == set()
    timer = uv.Timer(loop=loop)
    tcp = uv.TCP(loop=loop)
    assert loop.handles == {timer, tcp}
    timer.close()
    assert timer in loop.handles  # closing, not closed yet
    run(loop)
    assert loop.handles == {tcp}


def test_close_while_handles_live_raises_resource_busy(loop):
    timer = uv.Timer(loop=loop)
    with pytest.raises(uv.error.ResourceBusyError):
        loop.close()
    assert not loop.closed
    closed = []
    assert loop.close_all_handles(closed.append) == 1
    assert loop.close_all_handles() == 0  # already closing
    with pytest.raises(uv.error.ResourceBusyError):
        loop.close()  # the close callback has not run yet
    loop.run(uv.RunModes.NOWAIT)
    assert closed == [timer]
    loop.close()
    assert loop.closed
    loop.close()  # idempotent


def test_a_closed_loop(loop):
    loop.close()
    assert loop.closed and not loop.alive
    assert loop.now == 0
    assert loop.handles == set()
    for call in (loop.run, loop.stop, loop.update_time, loop.close_all_handles, lambda: loop.call_later(print)):
        with pytest.raises(uv.ClosedLoopError):
            call()
    for make in (lambda: uv.TCP(loop=loop), lambda: uv.Pipe(loop=loop), lambda: uv.Timer(loop=loop)):
        with pytest.raises(uv.ClosedLoopError):
            make()
    # A closed loop is no longer current.
    assert uv.Loop.get_current(instantiate=False) is not loop


def test_call_later_runs_on_the_loop_in_order(loop):
    calls = []
    loop.call_later(calls.append, 1)
    loop.call_later(lambda *args, **kwargs: calls.append((args, kwargs)), 2, 3, key="value")
    loop.call_later(calls.append, 4)
    assert calls == []  # never synchronously
    assert loop.alive  # a waiting call keeps the loop alive
    assert loop.run() is False
    assert calls == [1, ((2, 3), {"key": "value"}), 4]


def test_call_later_from_other_threads_wakes_the_loop(loop):
    calls = []
    threads_done = []
    keep = uv.Timer(loop=loop)
    keep.start(60_000)  # keeps the loop blocked

    def worker(n):
        for i in range(50):
            loop.call_later(calls.append, (n, i))
        threads_done.append(n)

    def check():
        if len(calls) == 200:
            keep.close()
        else:
            loop.call_later(check)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    loop.call_later(check)
    run(loop)
    assert sorted(calls) == sorted((n, i) for n in range(4) for i in range(50))
    for n in range(4):  # each thread's calls in its own order
        assert [c for c in calls if c[0] == n] == [(n, i) for i in range(50)]


def test_call_later_while_blocked_in_another_thread(loop):
    keep = uv.Timer(loop=loop)
    keep.start(60_000)
    main_thread = threading.get_ident()
    seen = []

    def later():
        seen.append(threading.get_ident())
        keep.close()

    threading.Timer(0.05, lambda: loop.call_later(later)).start()
    started = time.monotonic()
    run(loop)
    assert seen == [main_thread]
    assert time.monotonic() - started < 5


def test_call_later_rejects_non_callables(loop):
    with pytest.raises(TypeError):
        loop.call_later(42)


def test_calls_from_another_thread_while_running_raise_wrong_thread(loop):
    timer = uv.Timer(loop=loop)
    results = []

    def worker():
        try:
            timer.stop()
        except uv.UVError as exc:
            results.append(type(exc))
        loop.call_later(timer.close)

    timer.start(60_000)
    threading.Timer(0.05, worker).start()
    run(loop)
    assert results == [uv.error.WrongThreadError]


def test_run_is_not_reentrant(loop):
    def inner():
        loop.run()

    loop.call_later(inner)
    loop.run()
    assert [type(e) for e in loop.recorder.errors] == [uv.error.ResourceBusyError]
    loop.recorder.errors.clear()


def test_default_excepthook_prints_and_stops(capsys):
    loop = uv.Loop()
    timer = uv.Timer(loop=loop)
    timer.start(60_000)
    error = RuntimeError("callback failure")

    def fail():
        raise error

    loop.call_later(fail)
    with Watchdog(loop, 10) as dog:
        assert loop.run() is True  # stopped with the timer still active
    assert not dog.fired
    captured = capsys.readouterr()
    assert "RuntimeError: callback failure" in captured.err
    assert "Traceback" in captured.err
    assert loop.exc_type is RuntimeError
    assert loop.exc_value is error
    assert loop.exc_traceback is not None
    loop.reset_exception()
    assert loop.exc_type is None and loop.exc_value is None and loop.exc_traceback is None
    drain(loop)


def test_excepthook_receives_the_exception(loop):
    seen = []
    loop.excepthook = lambda *args: seen.append(args)
    error = KeyError("x")

    def fail():
        raise error

    loop.call_later(fail)
    loop.call_later(seen.append, "after")  # the loop goes on (custom hook does not stop)
    loop.run()
    assert seen[0][0] is loop and seen[0][1] is KeyError and seen[0][2] is error
    assert seen[0][3] is error.__traceback__
    assert seen[1] == "after"
    assert loop.exc_value is error


def test_a_failing_excepthook_stops_the_loop(capsys):
    loop = uv.Loop()

    def hook(*args):
        raise ValueError("hook failure")

    loop.excepthook = hook
    timer = uv.Timer(loop=loop)
    timer.start(60_000)
    loop.call_later(lambda: 1 / 0)
    with Watchdog(loop, 10) as dog:
        assert loop.run() is True
    assert not dog.fired
    assert "hook failure" in capsys.readouterr().err
    drain(loop)


@pytest.mark.parametrize("exc_type", [KeyboardInterrupt, SystemExit])
def test_keyboard_interrupt_and_system_exit_in_a_callback_come_out_of_run(loop, exc_type):
    timer = uv.Timer(loop=loop)
    timer.start(60_000)
    after = []

    def interrupt():
        raise exc_type()

    loop.call_later(interrupt)
    loop.call_later(after.append, 1)
    with Watchdog(loop, 10) as dog:
        with pytest.raises(exc_type):
            loop.run()
    assert not dog.fired
    assert loop.exc_value is None  # not an excepthook matter
    # The loop is usable afterwards.
    timer.close()
    loop.run()


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="needs the main thread")
def test_ctrl_c_interrupts_a_loop_blocked_in_c(loop):
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("SIGINT is not Python's default handler here")
    timer = uv.Timer(loop=loop)
    timer.start(60_000)  # the loop blocks in epoll for a minute
    threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)).start()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        loop.run()
    assert time.monotonic() - started < 5
    assert signal.set_wakeup_fd(-1) == -1  # the wakeup fd was restored
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    timer.close()
    loop.run()


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="needs the main thread")
def test_ctrl_c_interrupts_a_callback_stuck_in_python(loop):
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("SIGINT is not Python's default handler here")
    reached = []

    def stuck():
        reached.append("in")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            time.sleep(0.005)
        reached.append("timed out")

    loop.call_later(stuck)
    threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)).start()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        loop.run()
    assert reached == ["in"]
    assert time.monotonic() - started < 5
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="needs the main thread")
def test_a_sigint_handler_installed_by_a_callback_is_kept(loop):
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("SIGINT is not Python's default handler here")
    seen = []

    def custom(signum, frame):
        seen.append(signum)

    loop.call_later(signal.signal, signal.SIGINT, custom)
    try:
        loop.run()
        assert signal.getsignal(signal.SIGINT) is custom
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def test_posted_calls_keep_their_arguments_alive(loop):
    import gc

    class Payload:
        pass

    payload = Payload()
    seen = []
    loop.call_later(lambda p: seen.append(type(p).__name__), payload)
    del payload
    gc.collect()
    loop.run()
    assert seen == ["Payload"]


@pytest.mark.parametrize("exc_type", [KeyboardInterrupt, SystemExit])
def test_a_refused_run_keeps_the_running_calls_interrupt(loop, exc_type):
    """A callback raises KeyboardInterrupt (or SystemExit), and a later callback of the
    same iteration calls run() again, which is refused: the outer run() still
    re-raises the interrupt."""
    timer = uv.Timer(loop=loop)
    timer.start(60_000)

    def interrupt():
        raise exc_type()

    loop.call_later(interrupt)
    loop.call_later(loop.run)
    with Watchdog(loop, 10) as dog:
        with pytest.raises(exc_type):
            loop.run()
    assert not dog.fired
    assert [type(e) for e in loop.recorder.errors] == [uv.error.ResourceBusyError]
    loop.recorder.errors.clear()
    timer.close()
    loop.run()
