#!/usr/bin/env python3
"""A pre-forked worker pool: the main process accepts TCP connections and hands each one
to a worker process over an ipc pipe; the worker serves it (an echo that names the
worker) while the main process goes on accepting.

    python3 python/examples/worker_pool.py [--host 127.0.0.1] [--port 7002] [--workers 4]

Each worker is this script started with ``--worker FD``: FD is its end of a Unix socket
pair, opened as ``Pipe(ipc=True)``. The main process sends a connection with
``ipc_pipe.write(b"c", send_stream=connection)`` and closes its own copy once that write
completed; the worker gets the byte in ``on_read`` and the connection with
``pending_accept()``. Ctrl-C (or SIGTERM) stops everything.
"""

from __future__ import annotations

import argparse
import itertools
import os
import signal
import subprocess
import sys
from typing import List

_PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if os.path.isdir(os.path.join(_PACKAGE_PARENT, "swiftuvstream")):
    sys.path.insert(0, _PACKAGE_PARENT)

import swiftuvstream as uv  # noqa: E402


# -- worker process ---------------------------------------------------------------------


def worker(fd: int, number: int) -> int:
    loop = uv.Loop()
    channel = uv.Pipe(ipc=True)
    channel.open(fd)
    prefix = b"[worker %d pid %d] " % (number, os.getpid())

    def serve(client: uv.Stream, status: uv.StatusCodes, data: bytes) -> None:
        if status is uv.StatusCodes.SUCCESS:
            client.write([prefix, data])
        elif status is uv.StatusCodes.EOF and client.writable:
            client.shutdown(lambda request, status: request.stream.close())  # after the writes
        else:
            client.close()

    def on_channel(pipe: uv.Pipe, status: uv.StatusCodes, data: bytes) -> None:
        if status is not uv.StatusCodes.SUCCESS:  # the main process went away:
            pipe.close()  # finish the connections being served, then exit
            return
        while pipe.pending_count:  # several connections may come with one read
            connection = pipe.pending_accept()
            connection.read_start(serve)

    channel.read_start(on_channel)
    try:
        loop.run()
    except KeyboardInterrupt:
        pass
    loop.close_all_handles()
    loop.run()
    loop.close()
    return 0


# -- main process ---------------------------------------------------------------------


def main_process(host: str, port: int, count: int) -> int:
    loop = uv.Loop()
    channels: List[uv.Pipe] = []
    processes: List[subprocess.Popen] = []
    for number in range(count):
        mine, theirs = uv.pipe.socketpair()
        processes.append(subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--worker", str(theirs), "--number", str(number)],
            pass_fds=(theirs,),
        ))
        os.close(theirs)
        channel = uv.Pipe(ipc=True)
        channel.open(mine)
        channels.append(channel)
    next_channel = itertools.cycle(channels)

    def on_connection(server: uv.Stream, status: uv.StatusCodes) -> None:
        if status is not uv.StatusCodes.SUCCESS:
            return
        connection = server.accept()
        # The connection travels with the byte; close our copy once it is sent.
        next(next_channel).write(b"c", send_stream=connection, on_write=lambda request, status: connection.close())

    server = uv.TCP()
    server.bind((host, port))
    server.listen(128, on_connection=on_connection)
    print("worker pool (%d workers) listening on %s:%d" % ((count,) + tuple(server.sockname)), flush=True)

    signal.signal(signal.SIGTERM, lambda *args: loop.call_later(loop.stop))
    try:
        loop.run()
    except KeyboardInterrupt:
        pass
    loop.close_all_handles()  # closing the channels tells the workers to stop
    loop.run()
    loop.close()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    print("worker pool stopped", flush=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7002, help="0 picks a free port")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--number", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        return worker(args.worker, args.number)
    return main_process(args.host, args.port, args.workers)


if __name__ == "__main__":
    sys.exit(main())
