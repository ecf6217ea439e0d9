#!/usr/bin/env python3
"""asyncio_echo.py PORT [HOST]: a TCP echo server on asyncio (a peer of the Python face).

Protocol-based, as asyncio's documentation writes an echo server: data_received writes the
data back; pause_writing/resume_writing (the transport's watermarks, asyncio's defaults)
stop and resume reading. Prints "READY <port>" once listening. uvloop_echo.py runs the
same server on uvloop.
"""
import asyncio
import sys


class EchoProtocol(asyncio.Protocol):
    __slots__ = ("transport",)

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)

    def pause_writing(self):
        self.transport.pause_reading()

    def resume_writing(self):
        self.transport.resume_reading()

    def eof_received(self):
        return False  # close the transport

    def connection_lost(self, exc):
        self.transport = None


async def serve(port, host):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(EchoProtocol, host, port, backlog=4096, reuse_address=True)
    print("READY %d" % server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


def main(run=asyncio.run):
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    host = sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1"
    try:
        run(serve(port, host))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
