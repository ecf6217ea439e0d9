#!/usr/bin/env python3
"""Test of examples-c/tty_cat.c on a pseudo-terminal (never the session's own terminal).

    python3 Tests/examples/test_tty_cat.py [BUILD_DIR]      (default: build)

Each case runs tty_cat with a fresh pty (os.openpty) as its controlling terminal and
its stdin/stdout/stderr, types into the master side, and reads what it echoes:

  1. not a terminal: stdin from /dev/null -> exit 1 and a clear message;
  2. echo and Ctrl-D: the window size (80x24) is reported at start; the pty is in raw
     mode (no ICANON, no ECHO, no ISIG) while tty_cat runs; typed bytes come back, a
     carriage return as CR LF; a resize to 100x30 (TIOCSWINSZ: the kernel sends SIGWINCH)
     is reported; Ctrl-D exits 0 and the pty's termios is exactly what it was before;
  3. q quits, with the mode restored;
  4. SIGTERM quits, with the mode restored.

Every read has a deadline (no sleeps as synchronisation). Exit status 0 if every case
passed, 1 on failure, 77 if pseudo-terminals are not available here.
"""
import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build")
TTY_CAT = os.path.join(BUILD, "tty_cat")
TIMEOUT = 10
SKIP = 77


class Failure(Exception):
    pass


def set_winsize(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def make_controlling_terminal():
    # Runs in the child after setsid() (start_new_session): the pty on fd 0 becomes its
    # controlling terminal, so a window size change sends it SIGWINCH.
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Session:
    """tty_cat running on a fresh pty; the test types on the master side."""

    def __init__(self):
        self.master, self.slave = os.openpty()
        set_winsize(self.slave, 24, 80)
        self.before = termios.tcgetattr(self.slave)
        self.output = b""
        self.proc = subprocess.Popen(
            [TTY_CAT], stdin=self.slave, stdout=self.slave, stderr=self.slave,
            start_new_session=True, preexec_fn=make_controlling_terminal, close_fds=True)

    def read_until(self, pattern, what):
        """Reads the master until the output (so far) matches pattern."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + TIMEOUT
        while not regex.search(self.output):
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure("%s: no output matching %r within %d s; output so far: %r"
                              % (what, pattern, TIMEOUT, self.output))
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise Failure("%s: the pty closed; output: %r" % (what, self.output))
                self.output += chunk
        return regex.search(self.output)

    def type(self, data):
        os.write(self.master, data)

    def wait_exit(self, what):
        try:
            status = self.proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise Failure("%s: tty_cat did not exit within %d s; output: %r"
                          % (what, TIMEOUT, self.output))
        # Collect the rest of the output (the slave is still open here: no EOF, no EIO).
        while select.select([self.master], [], [], 0)[0]:
            chunk = os.read(self.master, 65536)
            if not chunk:
                break
            self.output += chunk
        return status

    def check_raw(self, what):
        attrs = termios.tcgetattr(self.slave)
        lflag = attrs[3]
        if lflag & (termios.ICANON | termios.ECHO | termios.ISIG):
            raise Failure("%s: the pty is not in raw mode while tty_cat runs (lflag %#o)"
                          % (what, lflag))

    def check_restored(self, what):
        after = termios.tcgetattr(self.slave)
        if after != self.before:
            raise Failure("%s: terminal mode not restored:\n  before %r\n  after  %r"
                          % (what, self.before, after))

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)
        os.close(self.slave)


def case_not_a_terminal():
    with open(os.devnull, "rb") as devnull:
        r = subprocess.run([TTY_CAT], stdin=devnull, capture_output=True, timeout=TIMEOUT)
    if r.returncode != 1 or b"not a terminal" not in r.stderr:
        raise Failure("stdin /dev/null: expected status 1 and 'not a terminal', got %d, %r"
                      % (r.returncode, r.stderr))
    print("tty_cat: not a terminal -> status 1: %s" % r.stderr.decode().strip())


def case_echo_resize_ctrl_d():
    s = Session()
    try:
        s.read_until(rb"window 80x24\r+\n", "start")
        s.check_raw("running")
        s.type(b"hello")
        s.read_until(rb"window 80x24\r+\nhello", "echo")
        s.type(b"\r")
        s.read_until(rb"hello\r+\n", "carriage return as CR LF")
        s.type(b"a\tb\x1b[A\r")  # a tab and an escape sequence pass through as bytes
        s.read_until(re.escape(b"a\tb\x1b[A") + rb"\r+\n", "bytes passed through")
        set_winsize(s.master, 30, 100)
        s.read_until(rb"window 100x30\r+\n", "resize (SIGWINCH)")
        s.type(b"x\x04")
        status = s.wait_exit("Ctrl-D")
        if status != 0:
            raise Failure("Ctrl-D: exit status %d; output %r" % (status, s.output))
        if not re.search(rb"x\r+\ntty_cat: Ctrl-D, bye", s.output):
            raise Failure("Ctrl-D: unexpected ending: %r" % s.output[-80:])
        s.check_restored("Ctrl-D")
    finally:
        s.close()
    print("tty_cat: echo, CR -> CR LF, window 80x24 then 100x30, Ctrl-D: exit 0, mode restored")


def case_q():
    s = Session()
    try:
        s.read_until(rb"window 80x24\r+\n", "start")
        s.type(b"abcq")
        status = s.wait_exit("q")
        if status != 0 or b"abc" not in s.output or b"q, bye" not in s.output:
            raise Failure("q: status %d, output %r" % (status, s.output))
        s.check_restored("q")
    finally:
        s.close()
    print("tty_cat: q: exit 0, mode restored")


def case_sigterm():
    s = Session()
    try:
        s.read_until(rb"window 80x24\r+\n", "start")
        s.check_raw("running")
        s.proc.send_signal(signal.SIGTERM)
        status = s.wait_exit("SIGTERM")
        if status != 0 or b"SIGTERM, bye" not in s.output:
            raise Failure("SIGTERM: status %d, output %r" % (status, s.output))
        s.check_restored("SIGTERM")
    finally:
        s.close()
    print("tty_cat: SIGTERM: exit 0, mode restored")


def main():
    if not os.access(TTY_CAT, os.X_OK):
        print("tty_cat: FAIL: %s not built" % TTY_CAT)
        return 1
    try:
        master, slave = os.openpty()
        os.close(master)
        os.close(slave)
    except OSError as e:
        print("tty_cat: SKIPPED: no pseudo-terminals here (%s)" % e)
        return SKIP
    try:
        case_not_a_terminal()
        case_echo_resize_ctrl_d()
        case_q()
        case_sigterm()
    except Failure as e:
        print("tty_cat: FAIL: %s" % e)
        return 1
    print("tty_cat: echo, resize, Ctrl-D, q and SIGTERM on a pty, mode restored each time passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
