#!/usr/bin/env python3
"""uvloop_echo.py PORT [HOST]: the asyncio echo server of asyncio_echo.py on uvloop (from
PyPI: the driver installs it into bench/.venv). Prints "READY <port>" once listening."""
import os
import sys

import uvloop

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import asyncio_echo  # noqa: E402

if __name__ == "__main__":
    if hasattr(uvloop, "run"):
        asyncio_echo.main(run=uvloop.run)
    else:
        uvloop.install()
        asyncio_echo.main()
