#!/usr/bin/env python3
"""A TCP echo server: writes back whatever each client sends, closes at EOF.

    python3 python/examples/echo_server.py [--host 127.0.0.1] [--port 7000]

Backpressure: when a client does not read its echoes, its write queue grows past the
high watermark; the server then stops reading from that client until the queue drains
(``on_writable_changed``), so memory stays bounded. Ctrl-C stops the server.
"""

from __future__ import annotations

import argparse
import os
import sys

# Run from a source checkout: use python/swiftuvstream next to this folder.
_PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if os.path.isdir(os.path.join(_PACKAGE_PARENT, "swiftuvstream")):
    sys.path.insert(0, _PACKAGE_PARENT)

import swiftuvstream as uv  # noqa: E402


def close_when_flushed(client: uv.Stream) -> None:
    """Closes ``client`` once everything queued was sent (closing at once would cancel
    the queued writes)."""
    if client.writable:
        client.shutdown(lambda request, status: request.stream.close())
    else:
        client.close()


def on_read(client: uv.Stream, status: uv.StatusCodes, data: bytes) -> None:
    if status is uv.StatusCodes.SUCCESS:
        client.write(data)
    elif status is uv.StatusCodes.EOF:
        close_when_flushed(client)
    else:  # a read error: the connection is gone
        client.close()


def on_writable_changed(client: uv.Stream, writable: bool) -> None:
    if not writable:
        client.read_stop()  # the client is not reading its echoes: stop producing
    elif client.readable:  # (also called when the stream can no longer be written)
        client.read_start()


def on_connection(server: uv.Stream, status: uv.StatusCodes) -> None:
    if status is not uv.StatusCodes.SUCCESS:
        print("listen error:", status.name, file=sys.stderr)
        return
    client = server.accept()
    client.on_writable_changed = on_writable_changed
    client.read_start(on_read)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7000, help="0 picks a free port")
    args = parser.parse_args()

    loop = uv.Loop()
    server = uv.TCP()
    server.bind((args.host, args.port))
    server.listen(128, on_connection=on_connection)
    print("echo server listening on %s:%d" % server.sockname, flush=True)
    try:
        loop.run()
    except KeyboardInterrupt:
        pass
    loop.close_all_handles()
    loop.run()
    loop.close()
    print("echo server stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
