"""Helpers for the Python face's tests (imported by the test modules and conftest)."""

from __future__ import annotations

import os
import sys
import threading
from typing import Any, Callable, List, Optional, Tuple

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PYTHON_DIR = os.path.join(ROOT, "python")
# SWIFTUVSTREAM_TEST_INSTALLED=1 tests the installed package (pip install .) instead
# of the checkout's python/ folder.
INSTALLED = bool(os.environ.get("SWIFTUVSTREAM_TEST_INSTALLED"))
if not INSTALLED and PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)

import swiftuvstream as uv  # noqa: E402


class Recorder:
    """An excepthook that records instead of printing (the loop keeps running)."""

    def __init__(self) -> None:
        self.errors: List[BaseException] = []

    def __call__(self, loop: uv.Loop, exc_type: Any, exc_value: BaseException, exc_traceback: Any) -> None:
        self.errors.append(exc_value)


class Watchdog:
    """Stops a loop from another thread after ``seconds`` (via call_later, the
    thread-safe method), so a hanging test fails instead of blocking forever."""

    def __init__(self, loop: uv.Loop, seconds: float) -> None:
        self.loop = loop
        self.fired = False
        self._lock = threading.Lock()
        self._done = False
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def _fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.fired = True
            try:
                self.loop.call_later(self.loop.stop)
            except uv.UVError:
                pass

    def __enter__(self) -> "Watchdog":
        self._timer.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        with self._lock:
            self._done = True
        self._timer.cancel()


def run(loop: uv.Loop, timeout: float = 10.0) -> bool:
    """Runs ``loop`` (DEFAULT mode) until it has nothing left to do; fails the test if
    that takes longer than ``timeout`` seconds."""
    with Watchdog(loop, timeout) as dog:
        result = loop.run()
    if dog.fired:
        pytest.fail("the loop did not finish within %.1f s" % timeout)
    return result


def run_until(loop: uv.Loop, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Runs ``loop`` one iteration at a time until ``predicate()`` holds."""
    with Watchdog(loop, timeout) as dog:
        while not predicate():
            if dog.fired:
                break
            loop.run(uv.RunModes.ONCE)
    if not predicate():
        pytest.fail("condition not reached within %.1f s" % timeout)


def drain(loop: uv.Loop) -> None:
    """Closes every handle, lets the close callbacks run and closes the loop."""
    if loop.closed:
        return
    loop.close_all_handles()
    for _ in range(100):
        loop.run(uv.RunModes.NOWAIT)
        try:
            loop.close()
            return
        except uv.error.ResourceBusyError:
            continue
    raise AssertionError("the loop could not be closed: %r" % (loop.handles,))


def tcp_server(
    loop: uv.Loop, on_accept: Optional[Callable[[uv.TCP], Any]] = None, host: str = "127.0.0.1"
) -> Tuple[uv.TCP, int]:
    """A listening TCP server on loopback; every connection is accepted and passed to
    ``on_accept(client)``. Returns (server, port)."""
    server = uv.TCP(loop=loop)
    server.bind((host, 0))

    def on_connection(stream: uv.Stream, status: Any) -> None:
        assert status is uv.StatusCodes.SUCCESS
        client = stream.accept()
        if on_accept is not None:
            on_accept(client)

    server.listen(511, on_connection=on_connection)
    return server, server.sockname.port


def echo_server(loop: uv.Loop, host: str = "127.0.0.1") -> Tuple[uv.TCP, int]:
    """A TCP echo server; closes each connection at EOF."""

    def on_read(stream: uv.Stream, status: Any, data: bytes) -> None:
        if status is uv.StatusCodes.SUCCESS:
            stream.write(data)
        else:
            stream.close()

    return tcp_server(loop, lambda client: client.read_start(on_read), host)


def connected_pair(loop: uv.Loop) -> Tuple[uv.TCP, uv.TCP, uv.TCP]:
    """(server, accepted, client): a connected TCP pair on loopback, after the loop ran
    until both ends exist. The server is still listening."""
    accepted: List[uv.TCP] = []
    server, port = tcp_server(loop, accepted.append)
    client = uv.TCP(loop=loop)
    connected: List[Any] = []
    client.connect(("127.0.0.1", port), on_connect=lambda request, status: connected.append(status))
    run_until(loop, lambda: bool(accepted) and bool(connected))
    assert connected == [uv.StatusCodes.SUCCESS]
    return server, accepted[0], client


def collect(into: List[Any]) -> Callable[..., None]:
    """A callback that appends its arguments (as a tuple) to ``into``."""
    return lambda *args: into.append(args)
