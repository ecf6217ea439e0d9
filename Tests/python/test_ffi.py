"""The ctypes table and the library lookup (python/swiftuvstream/_ffi.py)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from support import INSTALLED, PYTHON_DIR, ROOT, uv

from swiftuvstream import _ffi

HEADER = os.path.join(ROOT, "include", "swiftuvstream.h")


def header_functions():
    """Function names declared in the header (a declaration starts a line with a type
    and has `uvs_name(`)."""
    text = open(HEADER).read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    names = set()
    for match in re.finditer(r"^[A-Za-z_][\w \*]*?\b(uvs_\w+)\s*\(", text, flags=re.M):
        if not match.group(0).lstrip().startswith("typedef"):
            names.add(match.group(1))
    return names


def test_every_header_function_is_declared_with_argtypes_and_restype():
    names = header_functions()
    assert len(names) >= 79
    for name in sorted(names):
        function = getattr(_ffi.lib, name)
        assert function.argtypes is not None, name
        assert hasattr(function, "restype"), name


def test_status_functions_have_an_errcheck():
    # Every function returning int (a status) raises on negative results...
    for name in ("uvs_loop_run", "uvs_close", "uvs_write2", "uvs_tcp_bind", "uvs_pipe_connect", "uvs_timer_start"):
        assert getattr(_ffi.lib, name).errcheck is not None, name
    with pytest.raises(uv.error.ArgumentError):
        _ffi.lib.uvs_loop_run(None, 0)
    with pytest.raises(uv.error.ArgumentError):
        _ffi.lib.uvs_close(None, _ffi.CLOSE_CB(), None)
    # ... except the hot ones (called per write), whose callers check the result.
    assert getattr(_ffi.lib.uvs_write, "errcheck", None) is None
    assert _ffi.lib.uvs_write(None, None, 0, _ffi.WRITE_CB(), None) == uv.StatusCodes.EINVAL


def test_hot_calls_keep_the_gil():
    # uvs_write never blocks: called as a PyDLL function (no GIL release around it).
    import ctypes

    assert _ffi.lib.uvs_write._flags_ & ctypes._FUNCFLAG_PYTHONAPI
    assert not _ffi.lib.uvs_loop_run._flags_ & ctypes._FUNCFLAG_PYTHONAPI  # blocks: releases it


def test_the_bytes_fast_path_packs_a_uvs_buf_t():
    # A bytes object is passed to C as one packed uvs_buf_t (its data, in place).
    import ctypes
    import struct

    assert _ffi.BYTES_DATA_OFFSET is not None  # CPython
    for data in (b"", b"some bytes", os.urandom(100_000)):
        packed = _ffi.bytes_buf(data)
        assert len(packed) == ctypes.sizeof(_ffi.uvs_buf_t)
        base, length = struct.unpack("PN", packed)
        assert length == len(data)
        assert base == ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value
        assert ctypes.string_at(base, length) == data


def test_version_matches_the_header():
    text = open(HEADER).read()
    major = int(re.search(r"#define UVS_VERSION_MAJOR (\d+)", text).group(1))
    minor = int(re.search(r"#define UVS_VERSION_MINOR (\d+)", text).group(1))
    patch = int(re.search(r"#define UVS_VERSION_PATCH (\d+)", text).group(1))
    assert uv.version_info == (major, minor, patch)
    assert uv.version == "%d.%d.%d" % (major, minor, patch)
    assert _ffi.EXPECTED_MAJOR == major
    assert uv.libuv_version.startswith("1.44.")


def test_header_constants_match():
    text = open(HEADER).read()
    for name in ("UVS_IP_MAX", "UVS_PIPE_PATH_MAX", "UVS_DEFAULT_HIGH_WATERMARK", "UVS_DEFAULT_LOW_WATERMARK",
                 "UVS_TCP_IPV6ONLY", "UVS_PIPE_READABLE", "UVS_PIPE_WRITABLE"):
        value = int(re.search(r"#define %s (\d+)" % name, text).group(1))
        assert getattr(_ffi, name) == value, name
    for name in ("UVS_RUN_DEFAULT", "UVS_RUN_ONCE", "UVS_RUN_NOWAIT", "UVS_KIND_TCP", "UVS_KIND_PIPE",
                 "UVS_KIND_TTY", "UVS_KIND_TIMER", "UVS_TTY_MODE_NORMAL", "UVS_TTY_MODE_RAW", "UVS_TTY_MODE_IO"):
        value = int(re.search(r"\b%s = (\d+)" % name, text).group(1))
        assert getattr(_ffi, name) == value, name


def test_callbacks_are_module_level_singletons():
    # One trampoline per callback type, created once at import.
    from swiftuvstream import handle, loop, request, stream, timer

    assert isinstance(handle._close_trampoline, _ffi.CLOSE_CB)
    assert isinstance(loop._post_trampoline, _ffi.POST_CB)
    assert isinstance(stream._read_trampoline, _ffi.READ_CB)
    assert isinstance(stream._connection_trampoline, _ffi.CONNECTION_CB)
    assert isinstance(stream._writability_trampoline, _ffi.WRITABILITY_CB)
    assert isinstance(request._request_trampoline, _ffi.WRITE_CB)
    assert isinstance(timer._timer_trampoline, _ffi.TIMER_CB)


def _import_in_subprocess(package_parent, env_extra, cwd="/"):
    env = dict(os.environ)
    env.pop("SWIFTUVSTREAM_LIBRARY", None)
    env.update(env_extra)
    env["PYTHONPATH"] = package_parent
    return subprocess.run(
        [sys.executable, "-c", "import swiftuvstream as uv, swiftuvstream._ffi as f; print(f.library_path)"],
        env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=60,
    )


def test_library_lookup_order(tmp_path):
    # A copy of the package outside the checkout, with nothing next to it: only the
    # environment variable can find the library.
    parent = tmp_path / "site"
    shutil.copytree(os.path.join(PYTHON_DIR, "swiftuvstream"), str(parent / "swiftuvstream"),
                    ignore=shutil.ignore_patterns("__pycache__", "*.so*"))
    missing = str(tmp_path / "nowhere" / "libswiftuvstream.so")
    result = _import_in_subprocess(str(parent), {"SWIFTUVSTREAM_LIBRARY": missing})
    assert result.returncode != 0
    assert "ImportError" in result.stderr
    # The message names everything tried.
    assert missing in result.stderr
    assert str(parent / "swiftuvstream" / "libswiftuvstream.so") in result.stderr
    assert "find_library" in result.stderr
    assert os.path.join("build", "libswiftuvstream.so") in result.stderr

    # 1. The environment variable.
    library = _ffi.library_path
    result = _import_in_subprocess(str(parent), {"SWIFTUVSTREAM_LIBRARY": library})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == library

    # 2. A copy inside the package wins over the checkout's build folders.
    shutil.copy(os.path.realpath(library), str(parent / "swiftuvstream" / "libswiftuvstream.so"))
    result = _import_in_subprocess(str(parent), {})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(parent / "swiftuvstream" / "libswiftuvstream.so")

    # A broken environment variable falls back, with a warning.
    result = _import_in_subprocess(str(parent), {"SWIFTUVSTREAM_LIBRARY": missing})
    assert result.returncode == 0, result.stderr
    assert "SWIFTUVSTREAM_LIBRARY" in result.stderr


@pytest.mark.skipif(INSTALLED or not os.path.exists(os.path.join(ROOT, "build", "libswiftuvstream.so")),
                    reason="no build/ in this checkout, or testing the installed package")
def test_library_lookup_in_the_source_checkout():
    # 3. The checkout's build/ folder, found relative to python/swiftuvstream.
    result = _import_in_subprocess(PYTHON_DIR, {})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == os.path.join(ROOT, "build", "libswiftuvstream.so")


def test_package_is_typed():
    assert os.path.exists(os.path.join(os.path.dirname(uv.__file__), "py.typed"))


def test_pyproject_version_matches_the_header():
    import re as _re

    text = open(os.path.join(ROOT, "pyproject.toml")).read()
    assert _re.search(r'^version = "%s"$' % _re.escape(uv.version), text, flags=_re.M)


def test_public_names_have_docstrings():
    import inspect

    for name in uv.__all__:
        value = getattr(uv, name)
        if inspect.isclass(value) or inspect.isfunction(value) or inspect.ismodule(value):
            assert value.__doc__, name
        if inspect.isclass(value):
            for attribute, member in vars(value).items():
                if attribute.startswith("_"):
                    continue
                if inspect.isfunction(member) or isinstance(member, property):
                    assert member.__doc__, "%s.%s" % (name, attribute)


def test_every_c_function_survives_null_and_zero_arguments():
    """Behaviour 18 at the ctypes level: NULL pointers and zero values give an error
    code (raised) or a neutral value, never a crash."""
    import ctypes

    skip = {"uvs_tty_reset_mode"}  # process-wide terminal state; covered in test_tty
    for name in sorted(header_functions() - skip):
        function = getattr(_ffi.lib, name)
        args = []
        for argtype in function.argtypes:
            if isinstance(argtype, type) and issubclass(argtype, ctypes._CFuncPtr):
                args.append(argtype())  # a NULL callback
            elif argtype in (ctypes.c_int, ctypes.c_uint, ctypes.c_size_t, ctypes.c_uint64):
                args.append(0)
            else:
                args.append(None)  # pointers
        try:
            function(*args)
        except uv.UVError as exc:
            assert exc.code in (uv.StatusCodes.EINVAL, uv.StatusCodes.ENOBUFS), (name, exc)
