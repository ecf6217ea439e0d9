#!/usr/bin/env python3
"""A TCP echo client: sends its messages, shuts down its write side, prints what comes
back and checks it is the same.

    python3 python/examples/echo_client.py [--host 127.0.0.1] [--port 7000] [message ...]

Exit status 0 if the echo matches, 1 if not, 2 on a connection error.
"""

from __future__ import annotations

import argparse
import os
import sys

_PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if os.path.isdir(os.path.join(_PACKAGE_PARENT, "swiftuvstream")):
    sys.path.insert(0, _PACKAGE_PARENT)

import swiftuvstream as uv  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7000)
    parser.add_argument("messages", nargs="*", default=["hello", "world"])
    args = parser.parse_args()
    payload = " ".join(args.messages).encode()

    loop = uv.Loop()
    client = uv.TCP()
    received = []
    outcome = {"status": 0}

    def on_read(stream: uv.Stream, status: uv.StatusCodes, data: bytes) -> None:
        if status is uv.StatusCodes.SUCCESS:
            received.append(data)
        else:
            if status is not uv.StatusCodes.EOF:
                print("read error:", status.name, file=sys.stderr)
                outcome["status"] = 2
            stream.close()

    def on_connect(request: uv.ConnectRequest, status: uv.StatusCodes) -> None:
        if status is not uv.StatusCodes.SUCCESS:
            print("cannot connect to %s:%d: %s" % (args.host, args.port, status.name), file=sys.stderr)
            outcome["status"] = 2
            request.stream.close()
            return
        request.stream.read_start(on_read)
        request.stream.write(payload)
        request.stream.shutdown()  # the server closes when it has echoed everything

    client.connect((args.host, args.port), on_connect=on_connect)
    loop.run()
    loop.close()
    if outcome["status"]:
        return outcome["status"]
    echo = b"".join(received)
    print(echo.decode(errors="replace"))
    return 0 if echo == payload else 1


if __name__ == "__main__":
    sys.exit(main())
