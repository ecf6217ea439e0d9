"""Shared fixtures for the Python face's tests.

The package is imported from ``python/`` of this checkout (unless PYTHONPATH already
provides it), and the library from ``$SWIFTUVSTREAM_LIBRARY`` or ``build/``.
"""

from __future__ import annotations

import gc
import os
import tempfile

import pytest

from support import Recorder, drain, uv


@pytest.fixture
def loop(request: pytest.FixtureRequest):
    """A fresh current loop whose excepthook records exceptions (``loop.recorder``).
    The test fails if a callback raised and the test did not look at
    ``loop.recorder.errors`` (it must clear them)."""
    loop = uv.Loop()
    recorder = Recorder()
    loop.excepthook = recorder
    loop.recorder = recorder  # type: ignore[attr-defined]
    yield loop
    errors = list(recorder.errors)
    drain(loop)
    gc.collect()
    if errors:
        raise AssertionError("unexpected exceptions in callbacks: %r" % (errors,))


@pytest.fixture
def tmp_sock(tmp_path_factory: pytest.TempPathFactory):
    """A fresh, short Unix socket path in a temp dir (removed afterwards)."""
    directory = tempfile.mkdtemp(prefix="uvs")
    path = os.path.join(directory, "s")
    yield path
    try:
        os.unlink(path)
    except OSError:
        pass
    os.rmdir(directory)
