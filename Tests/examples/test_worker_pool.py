#!/usr/bin/env python3
"""End-to-end test of examples-c/worker_pool.c.

    python3 Tests/examples/test_worker_pool.py [BUILD_DIR]      (default: build)

1. Arguments: --help exits 0, bad arguments exit 2.
2. A worker that dies is reported and gets no connections: start 3 workers, SIGKILL
   worker 1, wait for the pool to report it, run 30 connections, SIGTERM; worker 1 must
   have 0 connections and the other two all 30.
3. A graceful stop: SIGTERM while a connection is open; it is still echoed, and once
   its peer ends it the pool exits 0 with it counted.
4. The main run: 3 workers on port 0, 1000 connections (at most 100 at a time), each
   sending a distinct random payload (1-8 KiB; every tenth 256 KiB, every hundredth
   4 MiB) and half-closing,
   reading the echo to end of stream concurrently; every byte must come back intact.
   Then SIGTERM: exit status 0, and the per-worker counts on stderr must all be > 0 and
   sum to 1000.

Plain asyncio, loopback only, no sleeps as synchronisation; every wait has a deadline.
The seed of the payloads is printed; set UVS_TEST_SEED to repeat a run.
Exit status 0 when everything passed, 1 otherwise.
"""
import asyncio
import os
import random
import re
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build")
POOL = os.path.join(BUILD, "worker_pool")

CONNECTIONS = 1000
CONCURRENCY = 100
WORKERS = 3
READY_TIMEOUT = 10
CONNECTION_TIMEOUT = 20
STOP_TIMEOUT = 10
COUNT_LINE = re.compile(r"^worker (\d+): (\d+) connections(.*)$")


class Failure(Exception):
    pass


class Pool:
    """A running worker_pool: its READY port and every stderr line, as they come."""

    def __init__(self, proc):
        self.proc = proc
        self.stderr = []
        self.stderr_changed = asyncio.Event()
        self.port = None
        self._stderr_task = asyncio.ensure_future(self._collect_stderr())

    @classmethod
    async def start(cls, workers):
        proc = await asyncio.create_subprocess_exec(
            POOL, "--workers", str(workers), "0",
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        pool = cls(proc)
        try:
            line = await asyncio.wait_for(proc.stdout.readline(), READY_TIMEOUT)
        except asyncio.TimeoutError:
            await pool.kill()
            raise Failure("no READY line within %d s; stderr: %r" % (READY_TIMEOUT, pool.stderr))
        m = re.match(rb"^READY (\d+)\n$", line)
        if not m:
            await pool.kill()
            raise Failure("expected 'READY <port>', got %r; stderr: %r" % (line, pool.stderr))
        pool.port = int(m.group(1))
        return pool

    async def _collect_stderr(self):
        while True:
            line = await self.proc.stderr.readline()
            if not line:
                return
            self.stderr.append(line.decode(errors="replace").rstrip("\n"))
            self.stderr_changed.set()

    async def wait_for_stderr(self, pattern, timeout):
        """Waits until a stderr line matches pattern; returns the match."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            for line in self.stderr:
                m = regex.search(line)
                if m:
                    return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure("no stderr line matching /%s/ within %d s; stderr: %r"
                              % (pattern, timeout, self.stderr))
            self.stderr_changed.clear()
            try:
                await asyncio.wait_for(self.stderr_changed.wait(), left)
            except asyncio.TimeoutError:
                pass

    def worker_pids(self):
        """{worker index: pid} of the pool's children, from /proc."""
        found = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % entry) as f:
                    stat = f.read()
                with open("/proc/%s/cmdline" % entry, "rb") as f:
                    cmdline = f.read().split(b"\0")
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == self.proc.pid and len(cmdline) >= 3 and cmdline[1] == b"--worker":
                found[int(cmdline[2])] = int(entry)
        return found

    async def stop(self):
        """SIGTERM; returns (exit status, {worker: count}, stderr lines)."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            status = await asyncio.wait_for(self.proc.wait(), STOP_TIMEOUT)
        except asyncio.TimeoutError:
            await self.kill()
            raise Failure("worker_pool did not exit within %d s of SIGTERM; stderr: %r"
                          % (STOP_TIMEOUT, self.stderr))
        await asyncio.wait_for(self._stderr_task, STOP_TIMEOUT)
        counts = {}
        notes = {}
        for line in self.stderr:
            m = COUNT_LINE.match(line)
            if m:
                counts[int(m.group(1))] = int(m.group(2))
                notes[int(m.group(1))] = m.group(3)
        return status, counts, notes

    async def kill(self):
        if self.proc.returncode is None:
            for pid in self.worker_pids().values():
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            self.proc.kill()
            await self.proc.wait()


async def echo_one(port, payload):
    """Sends payload, half-closes, reads the echo to end of stream (concurrently)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def send():
        writer.write(payload)
        await writer.drain()
        writer.write_eof()

    try:
        _, echoed = await asyncio.gather(send(), reader.read())
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except OSError:
            pass
    return echoed


async def run_connections(port, payloads):
    semaphore = asyncio.Semaphore(CONCURRENCY)
    failures = []

    async def one(i, payload):
        async with semaphore:
            try:
                echoed = await asyncio.wait_for(echo_one(port, payload), CONNECTION_TIMEOUT)
            except Exception as e:  # noqa: BLE001 - report whatever went wrong
                failures.append("connection %d (%d bytes): %s: %s"
                                % (i, len(payload), type(e).__name__, e))
                return
            if echoed != payload:
                same = 0
                while same < min(len(echoed), len(payload)) and echoed[same] == payload[same]:
                    same += 1
                failures.append("connection %d: sent %d bytes, got %d back, first difference at %d"
                                % (i, len(payload), len(echoed), same))

    await asyncio.gather(*(one(i, p) for i, p in enumerate(payloads)))
    if failures:
        raise Failure("%d of %d connections failed, e.g.:\n  %s"
                      % (len(failures), len(payloads), "\n  ".join(failures[:10])))


def make_payloads(rng, count):
    payloads = []
    for i in range(count):
        if i % 100 == 50:
            size = 4 * 1024 * 1024  # big enough for the echo to outrun the reader and pause
        elif i % 10 == 0:
            size = 256 * 1024
        else:
            size = rng.randint(1024, 8192)
        # The index first makes every payload distinct whatever the random bytes.
        payloads.append(b"%08d" % i + rng.randbytes(size - 8))
    return payloads


def check_arguments():
    r = subprocess.run([POOL, "--help"], capture_output=True, timeout=10)
    if r.returncode != 0 or b"usage" not in r.stdout:
        raise Failure("--help: status %d, stdout %r" % (r.returncode, r.stdout))
    for args in ([], ["--workers", "0", "0"], ["--bogus", "0"], ["70000"]):
        r = subprocess.run([POOL] + args, capture_output=True, timeout=10)
        if r.returncode != 2:
            raise Failure("%r: expected status 2, got %d" % (args, r.returncode))
    print("worker_pool: arguments ok (--help 0, bad arguments 2)")


async def check_dead_worker(rng):
    pool = await Pool.start(WORKERS)
    try:
        pids = pool.worker_pids()
        if sorted(pids) != list(range(WORKERS)):
            raise Failure("expected %d worker processes, found %r" % (WORKERS, pids))
        os.kill(pids[1], signal.SIGKILL)
        await pool.wait_for_stderr(r"worker 1 \(pid %d\).*killed by signal 9" % pids[1], 10)
        await run_connections(pool.port, [rng.randbytes(2048) for _ in range(30)])
        status, counts, notes = await pool.stop()
    except BaseException:
        await pool.kill()
        raise
    if status != 0:
        raise Failure("exit status %d after SIGTERM; stderr: %r" % (status, pool.stderr))
    if sorted(counts) != [0, 1, 2] or counts[1] != 0 or counts[0] + counts[2] != 30 \
            or counts[0] == 0 or counts[2] == 0:
        raise Failure("expected worker 1 with 0 and workers 0 and 2 sharing 30, got %r; "
                      "stderr: %r" % (counts, pool.stderr))
    print("worker_pool: a killed worker is reported and skipped (%d/%d/%d)"
          % (counts[0], counts[1], counts[2]))


async def check_graceful_stop():
    """SIGTERM with a connection open: it keeps being served until its peer ends it, then
    the pool exits 0 with that connection counted."""
    pool = await Pool.start(2)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", pool.port)
        writer.write(b"before")
        if await asyncio.wait_for(reader.readexactly(6), READY_TIMEOUT) != b"before":
            raise Failure("no echo before SIGTERM")
        pool.proc.send_signal(signal.SIGTERM)
        # The parent now closes its listener and ends the workers' pipes; the worker
        # keeps serving the connection it has.
        writer.write(b"after")
        if await asyncio.wait_for(reader.readexactly(5), READY_TIMEOUT) != b"after":
            raise Failure("no echo after SIGTERM")
        if pool.proc.returncode is not None:
            raise Failure("the pool exited with a connection still open")
        writer.write_eof()
        if await asyncio.wait_for(reader.read(), READY_TIMEOUT) != b"":
            raise Failure("unexpected data after the echo")
        writer.close()
        status = await asyncio.wait_for(pool.proc.wait(), STOP_TIMEOUT)
        await asyncio.wait_for(pool._stderr_task, STOP_TIMEOUT)
    except BaseException:
        await pool.kill()
        raise
    counts = {int(m.group(1)): int(m.group(2))
              for m in (COUNT_LINE.match(line) for line in pool.stderr) if m}
    if status != 0 or sum(counts.values()) != 1:
        raise Failure("after a graceful stop: status %d, counts %r, stderr %r"
                      % (status, counts, pool.stderr))
    print("worker_pool: SIGTERM waits for the open connection, then exits 0")


async def check_main_run(rng):
    payloads = make_payloads(rng, CONNECTIONS)
    pool = await Pool.start(WORKERS)
    started = time.monotonic()
    try:
        await run_connections(pool.port, payloads)
        elapsed = time.monotonic() - started
        status, counts, notes = await pool.stop()
    except BaseException:
        await pool.kill()
        raise
    if status != 0:
        raise Failure("exit status %d after SIGTERM; stderr: %r" % (status, pool.stderr))
    if sorted(counts) != list(range(WORKERS)):
        raise Failure("expected a count line per worker, got %r; stderr: %r" % (counts, pool.stderr))
    if any(notes[i] for i in counts):
        raise Failure("count lines carry notes: %r" % pool.stderr)
    if any(c == 0 for c in counts.values()) or sum(counts.values()) != CONNECTIONS:
        raise Failure("expected every worker > 0 and a sum of %d, got %r"
                      % (CONNECTIONS, counts))
    total = sum(len(p) for p in payloads)
    print("worker_pool: %d connections, %.1f MiB echoed in %.2f s"
          % (CONNECTIONS, total / 1048576.0, elapsed))
    return counts


async def main():
    if not os.access(POOL, os.X_OK):
        print("worker_pool: FAIL: %s not built" % POOL)
        return 1
    seed = int(os.environ.get("UVS_TEST_SEED") or random.SystemRandom().randrange(1 << 32))
    print("worker_pool: seed %d (UVS_TEST_SEED=%d repeats it)" % (seed, seed))
    rng = random.Random(seed)
    try:
        check_arguments()
        await check_dead_worker(rng)
        await check_graceful_stop()
        counts = await check_main_run(rng)
    except Failure as e:
        print("worker_pool: FAIL: %s" % e)
        return 1
    print("worker_pool: %d connections over %d workers (%s) passed"
          % (CONNECTIONS, WORKERS, "/".join(str(counts[i]) for i in sorted(counts))))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
