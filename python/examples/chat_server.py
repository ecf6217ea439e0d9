#!/usr/bin/env python3
"""A line-based TCP chat server: every line a client sends goes to all the others.

    python3 python/examples/chat_server.py [--host 127.0.0.1] [--port 7001]

Try it with several ``nc 127.0.0.1 7001``. A client that does not keep up (its write
queue is above the high watermark) misses messages instead of making the server buffer
without bound. Ctrl-C stops the server.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
from typing import Dict

_PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if os.path.isdir(os.path.join(_PACKAGE_PARENT, "swiftuvstream")):
    sys.path.insert(0, _PACKAGE_PARENT)

import swiftuvstream as uv  # noqa: E402


class ChatServer:
    def __init__(self, host: str, port: int) -> None:
        self.clients: Dict[uv.Stream, bytes] = {}  # client -> incomplete line
        self.names: Dict[uv.Stream, str] = {}
        self.numbers = itertools.count(1)
        self.server = uv.TCP()
        self.server.bind((host, port))
        self.server.listen(128, on_connection=self.on_connection)

    def broadcast(self, message: bytes, sender: uv.Stream = None) -> None:
        for client in list(self.clients):
            if client is sender or client.write_blocked:
                continue  # a slow reader misses messages rather than growing memory
            client.write(message)

    def on_connection(self, server: uv.Stream, status: uv.StatusCodes) -> None:
        if status is not uv.StatusCodes.SUCCESS:
            return
        client = server.accept()
        name = "guest%d" % next(self.numbers)
        self.clients[client] = b""
        self.names[client] = name
        client.write(b"welcome, %s\n" % name.encode())
        self.broadcast(b"* %s joined\n" % name.encode(), client)
        client.read_start(self.on_read)

    def on_read(self, client: uv.Stream, status: uv.StatusCodes, data: bytes) -> None:
        if status is not uv.StatusCodes.SUCCESS:
            self.leave(client)
            return
        buffered = self.clients[client] + data
        *lines, rest = buffered.split(b"\n")
        self.clients[client] = rest[-4096:]  # a bound on a line without newline
        name = self.names[client].encode()
        for line in lines:
            line = line.rstrip(b"\r")
            if line:
                self.broadcast(b"<%s> %s\n" % (name, line), client)

    def leave(self, client: uv.Stream) -> None:
        name = self.names.pop(client, "?")
        self.clients.pop(client, None)
        client.close()
        self.broadcast(b"* %s left\n" % name.encode())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7001, help="0 picks a free port")
    args = parser.parse_args()

    loop = uv.Loop()
    chat = ChatServer(args.host, args.port)
    print("chat server listening on %s:%d" % chat.server.sockname, flush=True)
    try:
        loop.run()
    except KeyboardInterrupt:
        pass
    loop.close_all_handles()
    loop.run()
    loop.close()
    print("chat server stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
