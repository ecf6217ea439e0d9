"""TTYs over a pseudo-terminal."""

from __future__ import annotations

import fcntl
import os
import struct
import termios

import pytest

from support import run, run_until, uv

pty = pytest.importorskip("pty")


@pytest.fixture
def terminal():
    """(master_fd, slave_fd) of a fresh pseudo-terminal (the caller keeps ownership of
    an fd given to a TTY: both are closed here)."""
    master, slave = os.openpty()
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    yield master, slave
    os.close(slave)
    os.close(master)


def read_master(master: int, count: int) -> bytes:
    import select

    data = b""
    while len(data) < count:
        ready, _, _ = select.select([master], [], [], 5)
        assert ready, "nothing from the terminal"
        data += os.read(master, 4096)
    return data


def test_console_size_and_family(loop, terminal):
    master, slave = terminal
    tty = uv.TTY(slave, loop=loop)
    assert tty.family is None
    size = tty.console_size
    assert size == (80, 24)
    assert size.width == 80 and size.height == 24
    assert tty.writable and not tty.readable
    tty.close()
    assert tty.console_size == (0, 0)
    run(loop)
    assert tty.console_size == (0, 0)
    assert os.isatty(slave)  # closing the TTY left the caller's fd open


def test_write_to_a_terminal(loop, terminal):
    master, slave = terminal
    tty = uv.TTY(slave, False, loop=loop)
    statuses = []
    tty.write(b"hello terminal", on_write=lambda r, s: statuses.append(s))
    run_until(loop, lambda: bool(statuses))
    assert statuses == [uv.StatusCodes.SUCCESS]
    assert b"hello terminal" in read_master(master, len(b"hello terminal"))


def test_read_from_a_terminal_in_raw_mode(loop, terminal):
    master, slave = terminal
    tty = uv.TTY(slave, readable=True, loop=loop)
    assert tty.readable
    tty.set_mode(uv.TTYMode.RAW)
    got = []
    tty.read_start(lambda s, st, d: got.append(d))
    os.write(master, b"abc")
    run_until(loop, lambda: b"".join(got) == b"abc")
    tty.read_stop()
    tty.set_mode(uv.TTYMode.IO)
    tty.set_mode()  # NORMAL
    uv.tty.reset_mode()
    with pytest.raises(uv.error.ArgumentError):
        tty.set_mode(9)


def test_tty_modes():
    assert [int(m) for m in (uv.TTYMode.NORMAL, uv.TTYMode.RAW, uv.TTYMode.IO)] == [0, 1, 2]
    assert callable(uv.tty.reset_mode)


def test_non_terminals_raise_argument_error(loop, tmp_path):
    read_fd, write_fd = os.pipe()
    try:
        with pytest.raises(uv.error.ArgumentError):
            uv.TTY(read_fd, loop=loop)
    finally:
        os.close(read_fd)
        os.close(write_fd)
    with pytest.raises(uv.error.ArgumentError):
        uv.TTY(-1, loop=loop)


def test_closed_tty(loop, terminal):
    master, slave = terminal
    tty = uv.TTY(slave, loop=loop)
    tty.close()
    with pytest.raises(uv.ClosedHandleError):
        tty.set_mode(uv.TTYMode.RAW)
    with pytest.raises(uv.ClosedHandleError):
        tty.write(b"x")
    run(loop)


@pytest.mark.parametrize("end", ["master", "slave"])
def test_the_caller_keeps_its_fd(loop, terminal, end):
    """The TTY works on its own duplicate: closing it leaves the caller's fd open, also
    for a pty master, which libuv cannot reopen."""
    master, slave = terminal
    fd = master if end == "master" else slave
    tty = uv.TTY(fd, readable=True, loop=loop)
    assert tty.fileno() != fd
    tty.close()
    run(loop)
    fcntl.fcntl(fd, fcntl.F_GETFD)  # raises OSError (EBADF) if it was closed
    os.write(master, b"k\n")
    assert os.read(slave, 2) == b"k\n"
