"""Timer: start, stop, again, repeat, on_timeout."""

from __future__ import annotations

import gc

import pytest

from support import run, uv


def test_one_shot(loop):
    fired = []
    timer = uv.Timer(loop=loop, on_timeout=fired.append)
    timer.start(5)
    assert fired == []  # never synchronously
    assert timer.active
    run(loop)
    assert fired == [timer]
    assert not timer.active


def test_start_replaces_the_callback_and_repeats(loop):
    ticks = []
    timer = uv.Timer(loop=loop, on_timeout=lambda t: ticks.append("old"))

    def tick(t):
        ticks.append(loop.now)
        if len(ticks) == 5:
            t.stop()

    timer.start(1, repeat=2, on_timeout=tick)
    assert timer.repeat == 2
    run(loop)
    assert len(ticks) == 5 and "old" not in ticks
    assert ticks == sorted(ticks)
    assert not timer.active


def test_repeat_property_and_again(loop):
    timer = uv.Timer(loop=loop)
    with pytest.raises(uv.error.ArgumentError):
        timer.again()  # never started
    timer.repeat = 3
    assert timer.repeat == 3
    count = []

    def on_timeout(t):
        count.append(1)
        if len(count) == 3:
            t.repeat = 0
            t.again()  # repeat 0: stops

    timer.start(100_000, 3, on_timeout=on_timeout)  # start sets the repeat too
    timer.again()  # restarts with the repeat value (3 ms) as the timeout
    run(loop)
    assert len(count) == 3
    assert not timer.active


def test_stop_is_safe_to_repeat(loop):
    timer = uv.Timer(loop=loop)
    timer.stop()
    timer.start(1000)
    timer.stop()
    timer.stop()
    assert not timer.active
    assert run(loop) is False


def test_restart_from_the_callback(loop):
    fired = []

    def on_timeout(t):
        fired.append(1)
        if len(fired) < 3:
            t.start(1)

    uv.Timer(loop=loop, on_timeout=on_timeout).start(1)  # dropped at once: kept alive while started
    gc.collect()
    run(loop)
    assert len(fired) == 3


def test_bad_times(loop):
    timer = uv.Timer(loop=loop)
    with pytest.raises(uv.error.ArgumentError):
        timer.start(-1)
    with pytest.raises(uv.error.ArgumentError):
        timer.start(10, repeat=-5)
    with pytest.raises(TypeError):
        timer.start("10")
    with pytest.raises(TypeError):
        timer.start(None)
    with pytest.raises(uv.error.ArgumentError):
        timer.repeat = -1
    timer.start(1.5)  # floats are milliseconds too
    timer.stop()


def test_timer_is_not_a_stream(loop):
    timer = uv.Timer(loop=loop)
    with pytest.raises(uv.error.ArgumentError):
        timer.fileno()
    with pytest.raises(uv.error.ArgumentError):
        timer.send_buffer_size
    assert not hasattr(timer, "write")


def test_closed_timer(loop):
    timer = uv.Timer(loop=loop)
    timer.start(100)
    timer.close()
    assert timer.repeat == 0
    assert not timer.active and not timer.referenced
    for call in (lambda: timer.start(1), timer.stop, timer.again, lambda: setattr(timer, "repeat", 1)):
        with pytest.raises(uv.ClosedHandleError):
            call()
    run(loop)
    assert timer.closed
    with pytest.raises(uv.ClosedHandleError):
        timer.start(1)
