#!/usr/bin/env python3
"""python_face_echo.py PORT [HOST]: a TCP echo server on the Python face of
libswiftuvstream (``import swiftuvstream`` from python/ in this checkout), written the way
its documentation writes one. Prints "READY <port>" once listening.

Every chunk read is written back; backpressure with the library's watermarks (the
defaults): reading stops when ``on_writable_changed`` says False and resumes on True.
A 256 KiB read buffer (``Loop(buffer_size=...)``): asyncio reads 256 KiB, uvloop 256,000 bytes.
TCP_NODELAY on every connection; EOF or an error (reading, or a write refused because the
peer reset the connection) closes the connection. The library is
found as the package finds it ($SWIFTUVSTREAM_LIBRARY, then build/ of this checkout).
"""
import os
import sys

_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(_REPO, "python"))

import swiftuvstream as uv  # noqa: E402

SUCCESS = uv.StatusCodes.SUCCESS


def on_read(client, status, data):
    if status is SUCCESS:
        try:
            client.write(data)
        except uv.UVError:  # the peer is gone (a reset while echoes were in flight)
            client.close()
    else:  # EOF or an error
        client.close()


def on_writable_changed(client, writable):
    if writable:
        client.read_start()
    else:
        client.read_stop()


def on_connection(server, status):
    if status is not SUCCESS:
        return
    client = server.accept()
    client.set_nodelay(True)
    client.on_writable_changed = on_writable_changed
    client.read_start(on_read)


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    host = sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1"
    # Reads of up to 256 KiB, as asyncio makes (uvloop: 256,000 bytes; the spec's default
    # is 64 KiB): the documented knob for bulk transfers, so the pump compares like with like.
    loop = uv.Loop(buffer_size=256 * 1024)
    server = uv.TCP(loop=loop)
    server.bind((host, port))
    server.listen(4096, on_connection=on_connection)
    print("READY %d" % server.sockname[1], flush=True)
    try:
        loop.run()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
