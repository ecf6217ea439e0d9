"""The examples in python/examples run from the checkout and do what they say."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time

from support import PYTHON_DIR

EXAMPLES = os.path.join(PYTHON_DIR, "examples")


class Example:
    """A running example server; its first line tells the port."""

    def __init__(self, name, *args):
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)  # the example finds the package by itself
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(EXAMPLES, name), "--port", "0"] + list(args),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, env=env,
            cwd="/",
        )
        line = self.process.stdout.readline()
        match = re.search(r"listening on ([\d.]+):(\d+)", line)
        if not match:
            self.process.kill()
            raise AssertionError("no address from %s: %r %s" % (name, line, self.process.stderr.read()))
        self.address = (match.group(1), int(match.group(2)))

    def stop(self, sig=signal.SIGINT):
        self.process.send_signal(sig)
        try:
            out, err = self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, err = self.process.communicate()
            raise AssertionError("did not stop: %s" % err)
        return self.process.returncode, out, err


def recv_until(sock, predicate, timeout=10):
    sock.settimeout(timeout)
    data = b""
    while not predicate(data):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_echo_server_and_client():
    server = Example("echo_server.py")
    try:
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)
        result = subprocess.run(
            [sys.executable, os.path.join(EXAMPLES, "echo_client.py"), "--port", str(server.address[1]), "hi", "there"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=30, env=env, cwd="/",
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "hi there"
        # A large echo through a plain socket, read slowly (backpressure path).
        payload = os.urandom(8 * 1024 * 1024)
        with socket.create_connection(server.address) as sock:
            sock.sendall(payload[: 1024 * 1024])
            time.sleep(0.2)
            import threading

            sender = threading.Thread(target=lambda: (sock.sendall(payload[1024 * 1024:]), sock.shutdown(socket.SHUT_WR)))
            sender.start()
            echoed = recv_until(sock, lambda d: len(d) >= len(payload), timeout=30)
            sender.join()
        assert echoed == payload
    finally:
        code, out, err = server.stop()
    assert code == 0, err
    assert "echo server stopped" in out


def test_echo_client_reports_refused_connections():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = subprocess.run(
        [sys.executable, os.path.join(EXAMPLES, "echo_client.py"), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=30,
    )
    assert result.returncode == 2
    assert "ECONNREFUSED" in result.stderr


def test_chat_server():
    server = Example("chat_server.py")
    try:
        alice = socket.create_connection(server.address)
        assert recv_until(alice, lambda d: b"\n" in d).startswith(b"welcome, guest1")
        bob = socket.create_connection(server.address)
        assert recv_until(bob, lambda d: b"\n" in d).startswith(b"welcome, guest2")
        assert b"guest2 joined" in recv_until(alice, lambda d: b"joined\n" in d)
        alice.sendall(b"hello bob\nsecond line\n")
        assert recv_until(bob, lambda d: d.count(b"\n") >= 2) == b"<guest1> hello bob\n<guest1> second line\n"
        bob.close()
        assert b"guest2 left" in recv_until(alice, lambda d: b"left\n" in d)
        alice.close()
    finally:
        code, out, err = server.stop()
    assert code == 0, err


def test_worker_pool_hands_connections_to_workers():
    pool = Example("worker_pool.py", "--workers", "2")
    try:
        replies = []
        for index in range(6):
            with socket.create_connection(pool.address) as sock:
                sock.sendall(b"request %d" % index)
                sock.shutdown(socket.SHUT_WR)
                replies.append(recv_until(sock, lambda d: False))
        for index, reply in enumerate(replies):
            assert reply.startswith(b"[worker ") and reply.endswith(b"request %d" % index), reply
        workers = {reply.split(b"]")[0] for reply in replies}
        assert len(workers) == 2  # round robin over both processes
        pids = {int(re.search(rb"pid (\d+)", w).group(1)) for w in workers}
        assert os.getpid() not in pids and pool.process.pid not in pids
    finally:
        code, out, err = pool.stop(signal.SIGTERM)
    assert code == 0, err
    assert "worker pool stopped" in out
