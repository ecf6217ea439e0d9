#!/usr/bin/env python3
"""The benchmark driver of libswiftuvstream: every face and peer against raw libuv.

    python3 bench/run.py            the full run   -> bench/results/latest.md (+ .json, PNGs)
    python3 bench/run.py --quick    a short pass   -> bench/results/quick.md  (+ .json, PNGs)

`make bench` and `make bench-quick` build the C programs first (CMake target
bench_programs) and then run this. See bench/README.md for what is measured and how.

Method (see /work/shared/BENCHMARKING.md): the servers run interleaved -- in every
repetition, each case is run against every server (in an order rotated from case to case)
before the next case starts -- and every figure is reported as a ratio to raw libuv taken
within the same repetition; the table gives the median of those ratios over the
repetitions and their range. Besides throughput, the server's CPU time per operation
(utime+stime from /proc/PID/stat over the measured window, read by the load generator) is
reported: with 2 cores the load generator often saturates first, and CPU per operation is
then what separates a lean server from a wasteful one. Placement (--no-pin to turn it
off): one-connection ping-pong runs server and load generator on the same CPU, every other
case gives each its own CPU (see PLACEMENT).

Memory: the growth of a server's resident set while it holds 10,000 idle connections
(each has echoed one byte), per connection; and heap allocations per round trip in steady
state, counted by an LD_PRELOAD shim (bench/malloc_count.c) over the load generator's
measured window.

The first run creates bench/.venv (--system-site-packages) and installs uvloop and
matplotlib into it with pip, then re-runs itself with that interpreter. A peer or chart
that cannot be had is skipped with a note in the report; so is any server whose command
does not print "READY <port>".
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
VENV = os.path.join(BENCH, ".venv")
RESULTS = os.path.join(BENCH, "results")
SWIFT_PKG = os.path.join(BENCH, "swift")

# -----------------------------------------------------------------------------------------
# Environment: bench/.venv with uvloop and matplotlib
# -----------------------------------------------------------------------------------------

NOTES_ENV = "UVS_BENCH_NOTES"


def _importable(python: str, module: str) -> bool:
    return subprocess.run([python, "-c", "import " + module], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0


def _pip_install(python: str, package: str, user: bool = False) -> str:
    """Installs package with pip; returns '' on success, else the reason."""
    command = [python, "-m", "pip", "install", "--quiet", package]
    if user:
        command.insert(4, "--user")
    try:
        r = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        return str(e)
    if r.returncode != 0:
        lines = [l for l in r.stdout.strip().splitlines() if l.strip()]
        return lines[-1] if lines else "pip exited with %d" % r.returncode
    return ""


def ensure_environment(args) -> None:
    """Re-executes this script under bench/.venv's Python (creating it and installing uvloop
    and matplotlib when missing); falls back to the user site. Notes go to the report."""
    if os.environ.get("UVS_BENCH_IN_VENV") == "1" or args.no_venv:
        return
    notes = []
    venv_python = os.path.join(VENV, "bin", "python")
    if not os.path.exists(venv_python) and not args.no_install:
        print("== bench: creating %s" % os.path.relpath(VENV, REPO), flush=True)
        r = subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", VENV],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            notes.append("could not create bench/.venv (%s); used the user site instead"
                         % (r.stdout.strip().splitlines() or ["venv failed"])[-1])
            shutil.rmtree(VENV, ignore_errors=True)
    python = venv_python if os.path.exists(venv_python) else sys.executable
    for module in ("uvloop", "matplotlib"):
        if _importable(python, module):
            continue
        if args.no_install:
            continue
        print("== bench: installing %s with pip into %s" % (
            module, "bench/.venv" if python == venv_python else "the user site"), flush=True)
        why = _pip_install(python, module, user=python != venv_python)
        if why:
            notes.append("pip could not install %s: %s" % (module, why))
    os.environ[NOTES_ENV] = json.dumps(notes)
    if python == venv_python:
        os.environ["UVS_BENCH_IN_VENV"] = "1"
        os.execv(venv_python, [venv_python, os.path.abspath(__file__)] + sys.argv[1:])


# -----------------------------------------------------------------------------------------
# Servers and cases
# -----------------------------------------------------------------------------------------

def build_dir(args) -> str:
    return os.path.abspath(args.build_dir)


def swift_binary(args, notes, label, package, scratch, product, extra=()) -> str | None:
    """Builds `product` of the SwiftPM package at `package` in release mode with its own
    scratch path; the binary's path, or None (with a note) if it cannot."""
    if shutil.which("swift") is None:
        notes.append("%s: skipped, no `swift` on PATH" % label)
        return None
    command = ["swift", "build", "-c", "release", "--package-path", package,
               "--scratch-path", scratch, "--product", product, *extra]
    if not args.no_swift_build:
        print("== bench: swift build -c release --product %s" % product, flush=True)
        try:
            r = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               timeout=1800)
        except subprocess.TimeoutExpired:
            notes.append("%s: skipped, `swift build` timed out" % label)
            return None
        if r.returncode != 0:
            tail = " / ".join(r.stdout.strip().splitlines()[-3:])
            notes.append("%s: skipped, `swift build` failed: %s" % (label, tail))
            return None
    path = os.path.join(scratch, "release", product)
    if not os.path.exists(path):
        notes.append("%s: skipped, %s was not built" % (label, os.path.relpath(path, REPO)))
        return None
    return path


def nio_binary(args, notes) -> str | None:
    """The SwiftNIO echo server of bench/swift."""
    return swift_binary(args, notes, "SwiftNIO", SWIFT_PKG, os.path.join(SWIFT_PKG, ".build"),
                        "NIOEchoServer")


def swift_face_binary(args, notes) -> str | None:
    """The Swift face's echo server (swiftuvstream-echo), built like the C library's
    release build: without run-time exclusivity checks (see CMakeLists.txt)."""
    return swift_binary(args, notes, "Swift face", REPO, os.path.join(REPO, ".build-bench"),
                        "swiftuvstream-echo", ("-Xswiftc", "-enforce-exclusivity=unchecked"))


def server_table(args, notes):
    """Every server, in report order: (key, label, argv or None, env, why-not)."""
    b = build_dir(args)
    python = sys.executable
    have_uvloop = _importable(python, "uvloop")
    lib = os.path.join(b, "libswiftuvstream.so")
    nio = nio_binary(args, notes) if "swiftnio" in args.servers else None
    swift_face = (swift_face_binary(args, notes)
                  if {"swift_face", "swift_callbacks"} & set(args.servers) else None)
    servers = [
        ("raw", "raw libuv (C)", [os.path.join(b, "bench", "raw_libuv_echo")], {}, None),
        ("c_face", "C face", [os.path.join(b, "bench", "uvs_echo")], {}, None),
        ("swift_face", "Swift face", [swift_face, "server", "--port"] if swift_face else None, {},
         None if swift_face else "Swift face server not built (see notes)"),
        ("swift_callbacks", "Swift face, callbacks",
         [swift_face, "server", "--callbacks", "--port"] if swift_face else None, {},
         None if swift_face else "Swift face server not built (see notes)"),
        ("swiftnio", "SwiftNIO (1 thread)", [nio] if nio else None, {},
         None if nio else "SwiftNIO server not built (see notes)"),
        ("python_face", "Python face", [python, os.path.join(BENCH, "servers", "python_face_echo.py")],
         {"SWIFTUVSTREAM_LIBRARY": lib}, None),
        ("uvloop", "uvloop", [python, os.path.join(BENCH, "servers", "uvloop_echo.py")] if have_uvloop
         else None, {}, None if have_uvloop else "uvloop is not installed (see notes)"),
        ("asyncio", "asyncio", [python, os.path.join(BENCH, "servers", "asyncio_echo.py")], {}, None),
    ]
    return [s for s in servers if s[0] in args.servers]


PYTHON_SERVERS = {"python_face", "uvloop", "asyncio"}


def case_table(args):
    """Cases: key, label, loadgen args, metric, unit, higher-is-better."""
    batch_count = args.batch_count
    cases = [
        ("pp_1x64", "ping-pong 1×64 B", ["--mode", "pingpong", "--conns", "1", "--size", "64"],
         "ops_per_s", "round trips/s", True),
        ("pp_32x1k", "ping-pong 32×1 KiB", ["--mode", "pingpong", "--conns", "32", "--size", "1024"],
         "ops_per_s", "round trips/s", True),
        ("pump_64k", "pump 1×64 KiB", ["--mode", "pump", "--conns", "1", "--size", "65536"],
         "mib_per_s", "MiB/s", True),
        ("batch", "write batch %s×13 B" % _count_label(batch_count),
         ["--mode", "batch", "--size", "13", "--count", str(batch_count)], "seconds", "s", False),
        ("churn_16", "churn 16 clients", ["--mode", "churn", "--conns", "16", "--size", "64",
                                          "--sources", "200"], "ops_per_s", "connections/s", True),
    ]
    return [c for c in cases if c[0] in args.cases]


def _count_label(n: int) -> str:
    return "1,000,000" if n == 1000000 else "{:,}".format(n)


# Where server and load generator run (with pinning on): "same" puts both on CPU 1, "split"
# gives the server CPU 0 and the load generator CPU 1. One-connection ping-pong runs on one
# CPU: split across two vCPUs every message costs a cross-CPU wake-up (about 25 µs of CPU
# here instead of 7) and, unpinned, the scheduler flips between the two modes from run to
# run, a 4× swing. The write batch too: split, server and client fall into lock-step (one
# 13-byte read and write per message, each waking the other CPU: 4 s instead of 1.3 s, and
# either can happen in a given run). Everything else is split, so the server has a core of
# its own.
PLACEMENT = {"pp_1x64": "same", "batch": "same"}

OP_NAME = {"pp_1x64": "round trip", "pp_32x1k": "round trip", "pump_64k": "64 KiB chunk",
           "batch": "13-byte write", "churn_16": "connection"}

# -----------------------------------------------------------------------------------------
# Processes
# -----------------------------------------------------------------------------------------

NCPU = os.cpu_count() or 1


def _pin(cpu):
    def pin():
        try:
            os.sched_setaffinity(0, {cpu})
        except OSError:
            pass
    return pin


def place_process(pid, cpu):
    """Moves every thread of a running process to one CPU."""
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return
    for tid in tids:
        try:
            os.sched_setaffinity(int(tid), {cpu})
        except (OSError, ValueError):
            pass


def cpus_for(case_key):
    """(server CPU, load generator CPU) for a case."""
    if NCPU < 2:
        return 0, 0
    return (1, 1) if PLACEMENT.get(case_key) == "same" else (0, 1)


class Server:
    """One running server process."""

    def __init__(self, key, argv, env, log_dir, pin, extra_env=None, tag=""):
        self.key = key
        self.port = None
        self.error = None
        environment = dict(os.environ)
        environment.update(env)
        if extra_env:
            environment.update(extra_env)
        self.log_path = os.path.join(log_dir, "%s%s.log" % (key, tag))
        self.log = open(self.log_path, "w")
        try:
            self.proc = subprocess.Popen(argv + ["0"], stdout=subprocess.PIPE, stderr=self.log,
                                         stdin=subprocess.DEVNULL, env=environment,
                                         preexec_fn=_pin(0) if pin else None)
        except OSError as e:
            self.proc = None
            self.error = "cannot start: %s" % e
            return
        self._wait_ready(20.0)

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        line = b""
        fd = self.proc.stdout.fileno()
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                chunk = os.read(fd, 4096)
                if not chunk:
                    break
                line += chunk
                if b"\n" in line:
                    first = line.split(b"\n", 1)[0].decode(errors="replace").strip()
                    parts = first.split()
                    if len(parts) == 2 and parts[0] == "READY" and parts[1].isdigit():
                        self.port = int(parts[1])
                        return
                    self.error = "printed %r instead of READY <port>" % first[:80]
                    self.stop()
                    return
            elif self.proc.poll() is not None:
                break
        self.stop()
        status = self.proc.returncode
        self.error = ("exited (status %s) without printing READY" % status if status is not None
                      else "did not print READY within %.0f s" % timeout)
        tail = self.log_tail()
        if tail:
            self.error += ": " + tail

    def log_tail(self) -> str:
        try:
            with open(self.log_path, errors="replace") as f:
                lines = [l.strip() for l in f.read().strip().splitlines() if l.strip()]
        except OSError:
            return ""
        return lines[-1][:200] if lines else ""

    @property
    def pid(self):
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def rss_kib(self):
        """(VmRSS, VmHWM) in KiB."""
        values = {}
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    values[line.split(":")[0]] = int(line.split()[1])
        return values.get("VmRSS", 0), values.get("VmHWM", 0)

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        try:
            self.proc.stdout.close()
        except OSError:
            pass
        self.log.close()


def run_loadgen(args, port, extra, timeout, pin, server_pid=None, malloc_file=None, cpu=1):
    """Runs the load generator; returns its RESULT dict (with 'error' on failure)."""
    argv = [os.path.join(build_dir(args), "bench", "loadgen"), "--port", str(port)] + extra
    if server_pid is not None:
        argv += ["--server-pid", str(server_pid)]
    if malloc_file is not None:
        argv += ["--malloc-file", malloc_file]
    try:
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=timeout, preexec_fn=_pin(cpu % NCPU) if pin else None)
    except subprocess.TimeoutExpired:
        return {"error": "load generator timed out after %.0f s" % timeout}
    for line in r.stdout.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT "):])
            if r.returncode != 0 and "error" not in result:
                result["error"] = "loadgen exited with %d" % r.returncode
            return result
    return {"error": "no RESULT (exit %d): %s" % (r.returncode, r.stderr.strip()[-200:])}


# -----------------------------------------------------------------------------------------
# Phases
# -----------------------------------------------------------------------------------------

FAILURES = []  # runs that failed, for the report's notes


def phase_throughput(args, servers, cases, log_dir, skipped):
    """results[case][server] = [RESULT dict or None per repetition]."""
    runnable = [s for s in servers if s[2] is not None and s[0] not in skipped]
    results = {c[0]: {s[0]: [None] * args.reps for s in runnable} for c in cases}
    for rep in range(args.reps):
        print("== repetition %d/%d" % (rep + 1, args.reps), flush=True)
        running = {}
        for key, label, argv, env, _ in runnable:
            if key in skipped:
                continue
            srv = Server(key, argv, env, log_dir, not args.no_pin, tag="-rep%d" % (rep + 1))
            if srv.error:
                skipped[key] = srv.error
                print("   %-12s SKIPPED: %s" % (key, srv.error), flush=True)
                continue
            running[key] = srv
        for ci, (ckey, clabel, cargs, metric, unit, higher) in enumerate(cases):
            order = [s[0] for s in runnable if s[0] in running]
            shift = (rep + ci) % max(1, len(order))
            order = order[shift:] + order[:shift]
            for key in order:
                srv = running[key]
                if not srv.alive():
                    if not getattr(srv, "death_noted", False):
                        srv.death_noted = True
                        FAILURES.append("%s died in repetition %d before case %s (its remaining runs in "
                                        "that repetition are missing): %s" % (key, rep + 1, ckey, srv.log_tail()))
                        print("   %-12s DIED: %s" % (key, srv.log_tail()), flush=True)
                    continue
                extra = list(cargs)
                if ckey != "batch":
                    extra += ["--warmup", str(args.warmup), "--duration", str(args.duration)]
                timeout = 60 + args.warmup + args.duration + (240 if ckey == "batch" else 0)
                server_cpu, client_cpu = cpus_for(ckey)
                if not args.no_pin:
                    place_process(srv.pid, server_cpu)
                result = run_loadgen(args, srv.port, extra, timeout, not args.no_pin, server_pid=srv.pid,
                                     cpu=client_cpu)
                results[ckey][key][rep] = result
                _print_result(ckey, key, result, metric, unit)
                if "error" in result:
                    FAILURES.append("%s, %s, repetition %d: %s" % (key, ckey, rep + 1, result["error"]))
        for srv in running.values():
            srv.stop()
    return results


def _print_result(ckey, key, result, metric, unit):
    if "error" in result:
        print("   %-9s %-12s ERROR %s" % (ckey, key, result["error"]), flush=True)
        return
    extra = ""
    if "p50_us" in result:
        extra = "  p50 %.0f µs p99 %.0f µs" % (result["p50_us"], result["p99_us"])
    cpu = result.get("server_cpu_us_per_op")
    print("   %-9s %-12s %12.3f %-14s cpu %7.2f µs/op%s" % (
        ckey, key, result.get(metric, 0), unit, cpu if cpu is not None else float("nan"), extra),
        flush=True)


def phase_memory(args, servers, log_dir, skipped):
    """mem[server] = list of dicts (per repetition): base/after RSS, HWM, per-connection bytes."""
    mem = {}
    n = args.idle_conns
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < n + 200:
        n = max(100, hard - 200)
        print("== memory: the open-files limit (%d) allows only %d connections" % (hard, n))
    print("== memory: %d idle connections per server" % n, flush=True)
    for rep in range(args.mem_reps):
        for key, label, argv, env, _ in servers:
            if argv is None or key in skipped:
                continue
            srv = Server(key, argv, env, log_dir, not args.no_pin, tag="-mem%d" % (rep + 1))
            if srv.error:
                skipped[key] = srv.error
                continue
            try:
                # Warm the paths a connection takes (one-time setup is not per-connection cost).
                run_loadgen(args, srv.port, ["--mode", "pingpong", "--warmup", "0.1", "--duration", "0.2"],
                            30, not args.no_pin)
                time.sleep(0.3)
                base, _ = srv.rss_kib()
                loadgen = subprocess.Popen(
                    [os.path.join(build_dir(args), "bench", "loadgen"), "--mode", "idle", "--conns", str(n),
                     "--port", str(srv.port), "--sources", "200"],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                    preexec_fn=_pin(1 % NCPU) if not args.no_pin else None)
                line = ""
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    ready, _, _ = select.select([loadgen.stdout], [], [], 0.5)
                    if ready:
                        line = loadgen.stdout.readline()
                        break
                    if loadgen.poll() is not None:
                        break
                entry = None
                if line.startswith("IDLE"):
                    time.sleep(1.0)  # let the server settle
                    after, hwm = srv.rss_kib()
                    entry = {"conns": n, "base_kib": base, "rss_kib": after, "hwm_kib": hwm,
                             "per_conn_bytes": (after - base) * 1024.0 / n}
                try:
                    out, err = loadgen.communicate(timeout=30)  # closes stdin: loadgen ends
                except subprocess.TimeoutExpired:
                    loadgen.kill()
                    out, err = loadgen.communicate()
                if entry is None:
                    entry = {"error": "idle connections failed: %s" % (
                        (out + err).strip().splitlines() or ["?"])[-1][:200]}
            finally:
                srv.stop()
            mem.setdefault(key, []).append(entry)
            if "error" in entry:
                print("   %-12s ERROR %s" % (key, entry["error"]), flush=True)
            else:
                print("   %-12s rss %6d KiB -> %6d KiB (peak %6d KiB): %7.0f bytes/connection" % (
                    key, entry["base_kib"], entry["rss_kib"], entry["hwm_kib"], entry["per_conn_bytes"]),
                    flush=True)
            time.sleep(0.5)  # the idle sockets' teardown
    return mem


ALLOC_CASES = [
    ("pp_1x64", "ping-pong 1×64 B", ["--mode", "pingpong", "--conns", "1", "--size", "64"], "round trip"),
    ("pp_32x1k", "ping-pong 32×1 KiB", ["--mode", "pingpong", "--conns", "32", "--size", "1024"], "round trip"),
    ("churn_16", "churn 16 clients", ["--mode", "churn", "--conns", "16", "--size", "64", "--sources", "200"],
     "connection"),
]


def phase_allocs(args, servers, log_dir, skipped):
    """allocs[case][server] = RESULT dict with allocs_per_op (one run each, counts are exact)."""
    shim = os.path.join(build_dir(args), "bench", "malloc_count.so")
    allocs = {c[0]: {} for c in ALLOC_CASES}
    print("== heap allocations per operation (LD_PRELOAD %s)" % os.path.relpath(shim, REPO), flush=True)
    for key, label, argv, env, _ in servers:
        if argv is None or key in skipped:
            continue
        fd, counts = tempfile.mkstemp(prefix="malloc_count.", dir=log_dir)
        os.close(fd)
        extra_env = {"LD_PRELOAD": shim, "MALLOC_COUNT_FILE": counts}
        if key in PYTHON_SERVERS:
            extra_env["PYTHONMALLOC"] = "malloc"  # count every object, not only pymalloc's arenas
        srv = Server(key, argv, env, log_dir, not args.no_pin, extra_env=extra_env, tag="-allocs")
        if srv.error:
            print("   %-12s SKIPPED under the shim: %s" % (key, srv.error), flush=True)
            continue
        try:
            for ckey, clabel, cargs, opname in ALLOC_CASES:
                result = run_loadgen(args, srv.port, cargs + ["--warmup", str(args.alloc_warmup),
                                                              "--duration", str(args.alloc_duration)],
                                     60, not args.no_pin, server_pid=srv.pid, malloc_file=counts)
                allocs[ckey][key] = result
                if "error" in result:
                    print("   %-9s %-12s ERROR %s" % (ckey, key, result["error"]), flush=True)
                else:
                    print("   %-9s %-12s %8.2f allocations per %s (%d in %d)" % (
                        ckey, key, result.get("allocs_per_op", float("nan")), opname,
                        result.get("allocs", 0), result.get("ops", 0)), flush=True)
        finally:
            srv.stop()
    return allocs


# -----------------------------------------------------------------------------------------
# Analysis
# -----------------------------------------------------------------------------------------

def _ok(r):
    return r is not None and "error" not in r


def ratios(results, cases, a, b, what):
    """Per-repetition ratios of server a to server b for each case.
    what='perf': throughput ratio (higher is better; for seconds, b/a);
    what='cpu': CPU per operation ratio a/b (lower is better)."""
    out = {}
    for ckey, _, _, metric, _, higher in cases:
        ra = results.get(ckey, {}).get(a)
        rb = results.get(ckey, {}).get(b)
        values = []
        if ra and rb:
            for x, y in zip(ra, rb):
                if not (_ok(x) and _ok(y)):
                    continue
                if what == "perf":
                    vx, vy = x.get(metric, 0), y.get(metric, 0)
                    if vx > 0 and vy > 0:
                        values.append(vx / vy if higher else vy / vx)
                else:
                    vx, vy = x.get("server_cpu_us_per_op"), y.get("server_cpu_us_per_op")
                    if vx and vy and vx > 0 and vy > 0:
                        values.append(vx / vy)
        out[ckey] = values
    return out


def summary(values):
    if not values:
        return None
    return statistics.median(values), min(values), max(values)


def fmt_ratio(values):
    s = summary(values)
    if s is None:
        return "—"
    return "%.2f× (%.2f–%.2f)" % s


def fmt_num(x, unit=""):
    if x is None:
        return "—"
    if abs(x) < 1:
        text = "%.3f" % x
    elif abs(x) >= 1000:
        text = "{:,.0f}".format(x)
    elif abs(x) >= 100:
        text = "%.0f" % x
    elif abs(x) >= 10:
        text = "%.1f" % x
    else:
        text = "%.2f" % x
    return text + unit


def fmt_abs(values, unit=""):
    s = summary(values)
    if s is None:
        return "—"
    return "%s (%s–%s)" % (fmt_num(s[0], unit), fmt_num(s[1]), fmt_num(s[2]))


def evaluate_targets(results, cases, mem, allocs, servers, skipped):
    """The issue's targets: (target, verdict, evidence)."""
    have = {s[0] for s in servers if s[2] is not None and s[0] not in skipped}
    out = []

    def check_all(values_by_case, ok):
        meds = {c: summary(v)[0] for c, v in values_by_case.items() if v}
        missing = [c for c, v in values_by_case.items() if not v]
        bad = [c for c, m in meds.items() if not ok(m)]
        return meds, missing, bad

    def verdict(bad, missing):
        if bad:
            return "NOT MET"
        if missing:
            return "NOT MEASURED" if len(missing) == len(cases) else "PARTLY MEASURED"
        return "MET"

    def evidence(meds, fmt="%.2f×"):
        return ", ".join("%s %s" % (ck, fmt % m) for ck, m in meds.items())

    # C face
    if "c_face" in have:
        meds, missing, bad = check_all(ratios(results, cases, "c_face", "raw", "perf"), lambda m: m >= 0.95)
        out.append(("C face ≥ 0.95× raw libuv on every case (throughput)", verdict(bad, missing),
                    evidence(meds) + ("; below: " + ", ".join(bad) if bad else "")))
        meds, missing, bad = check_all(ratios(results, cases, "c_face", "raw", "cpu"), lambda m: m <= 1 / 0.95)
        out.append(("C face ≥ 0.95× raw libuv on every case (server CPU per operation ≤ 1.053× raw)",
                    verdict(bad, missing),
                    evidence(meds) + ("; above: " + ", ".join(bad) if bad else "")))
        rt = [(c, allocs.get(c, {}).get("c_face")) for c in ("pp_1x64", "pp_32x1k")]
        rt = [(c, r) for c, r in rt if _ok(r)]
        if rt:
            worst = max(r.get("allocs_per_op", 0) for _, r in rt)
            out.append(("C face: zero heap allocations per round trip in steady state",
                        "MET" if worst < 0.0005 else "NOT MET",
                        ", ".join("%s %.3f" % (c, r.get("allocs_per_op", 0)) for c, r in rt)))
        else:
            out.append(("C face: zero heap allocations per round trip in steady state", "NOT MEASURED", ""))
        cm = [e["per_conn_bytes"] for e in mem.get("c_face", []) if "error" not in e]
        rm = [e["per_conn_bytes"] for e in mem.get("raw", []) if "error" not in e]
        if cm and rm and statistics.median(rm) > 0:
            ratio = statistics.median(cm) / statistics.median(rm)
            out.append(("C face ≤ 1.25× raw libuv's memory per idle connection",
                        "MET" if ratio <= 1.25 else "NOT MET",
                        "%.0f vs %.0f bytes per connection: %.2f×" % (
                            statistics.median(cm), statistics.median(rm), ratio)))
        else:
            out.append(("C face ≤ 1.25× raw libuv's memory per idle connection", "NOT MEASURED", ""))
    # Swift face: the async server is the one the targets name; the callback API's server
    # is judged by the same bar, on its own line.
    for key, api in (("swift_face", "async/await"), ("swift_callbacks", "callbacks")):
        target = "Swift face (%s) ≥ 0.90× raw libuv" % api
        versus_nio = "Swift face (%s) ahead of SwiftNIO (one thread)" % api
        if key not in have:
            why = skipped.get(key) or "not run"
            out.append((target, "NOT MEASURED", why))
            out.append((versus_nio, "NOT MEASURED", why))
            continue
        meds, missing, bad = check_all(ratios(results, cases, key, "raw", "perf"), lambda m: m >= 0.90)
        out.append((target, verdict(bad, missing), evidence(meds)))
        if "swiftnio" in have:
            meds, missing, bad = check_all(ratios(results, cases, key, "swiftnio", "perf"), lambda m: m > 1.0)
            out.append((versus_nio, verdict(bad, missing), evidence(meds)))
    # Python face
    if "python_face" in have:
        pp = [c for c in cases if c[0].startswith("pp_")]
        if "uvloop" in have:
            meds, missing, bad = check_all(ratios(results, pp, "python_face", "uvloop", "perf"),
                                           lambda m: m >= 1.0)
            out.append(("Python face ≥ 1.0× uvloop on ping-pong", verdict(bad, missing), evidence(meds)))
        else:
            out.append(("Python face ≥ 1.0× uvloop on ping-pong", "NOT MEASURED", "uvloop unavailable"))
        if "asyncio" in have:
            meds, missing, bad = check_all(ratios(results, cases, "python_face", "asyncio", "perf"),
                                           lambda m: m > 1.0)
            out.append(("Python face ahead of asyncio on every case", verdict(bad, missing),
                        evidence(meds) + ("; not ahead: " + ", ".join(bad) if bad else "")))
    else:
        why = skipped.get("python_face", "not run")
        out.append(("Python face ≥ 1.0× uvloop on ping-pong", "NOT MEASURED", why))
        out.append(("Python face ahead of asyncio on every case", "NOT MEASURED", why))
    return out


# -----------------------------------------------------------------------------------------
# Report
# -----------------------------------------------------------------------------------------

def machine_info():
    info = {}
    info["host"] = platform.node()
    info["kernel"] = platform.release()
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info["cpu"] = "%s, %d logical CPUs" % (cpu, NCPU)
    try:
        with open("/proc/meminfo") as f:
            info["memory"] = "%.1f GiB" % (int(f.readline().split()[1]) / 1048576.0)
    except OSError:
        pass
    info["load"] = "%.2f %.2f %.2f" % os.getloadavg()
    info["python"] = platform.python_version()
    try:
        info["swift"] = subprocess.run(["swift", "--version"], capture_output=True, text=True,
                                       timeout=60).stdout.splitlines()[0].strip()
    except (OSError, IndexError, subprocess.TimeoutExpired):
        info["swift"] = "?"
    try:
        info["libuv"] = subprocess.run(["pkg-config", "--modversion", "libuv"], capture_output=True,
                                       text=True).stdout.strip()
    except OSError:
        info["libuv"] = "?"
    for module in ("uvloop", "matplotlib"):
        try:
            info[module] = __import__(module).__version__
        except Exception:  # noqa: BLE001 - any import failure means "not available"
            info[module] = "not installed"
    try:
        with open(os.path.join(SWIFT_PKG, "Package.resolved")) as f:
            for pin in json.load(f).get("pins", []):
                if pin.get("identity") == "swift-nio":
                    info["swift-nio"] = pin.get("state", {}).get("version", "?")
    except (OSError, ValueError):
        pass
    try:
        info["commit"] = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                                        capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        if dirty:
            info["commit"] += " (with uncommitted changes)"
    except OSError:
        pass
    return info


def table(headers, rows):
    """A markdown table and a plain-text one (same content)."""
    md = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    md += ["| " + " | ".join(r) + " |" for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    text = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)),
            "  ".join("-" * w for w in widths)]
    text += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(md), "\n".join(text)


def build_report(args, servers, cases, results, mem, allocs, skipped, notes, info, charts, started, elapsed):
    labels = {s[0]: s[1] for s in servers}
    md, term = [], []

    def both(text):
        md.append(text)
        term.append(text)

    def skip_note(key):
        return "skipped (see notes)" if key in skipped else "—"

    kind = "quick pass (indicative only: short windows, few repetitions)" if args.quick else "full run"
    md.append("# libswiftuvstream benchmarks: %s" % kind)
    md.append("")
    md.append("Date: %s. Duration: %.0f s. Command: `%s`." % (
        started.strftime("%Y-%m-%d %H:%M %Z").strip(), elapsed, "make bench-quick" if args.quick else "make bench"))
    md.append("")
    md.append("Machine: %s; %s; %s RAM; kernel %s; load average at start %s. Software: libuv %s, "
              "Python %s, %s, uvloop %s, swift-nio %s, matplotlib %s. Repository at %s." % (
                  info.get("host"), info.get("cpu"), info.get("memory", "?"), info.get("kernel"),
                  info.get("load"), info.get("libuv"), info.get("python"), info.get("swift"),
                  info.get("uvloop"), info.get("swift-nio", "?"), info.get("matplotlib"),
                  info.get("commit", "?")))
    md.append("")
    md.append("Method: %d interleaved repetitions (each case against every server before the next "
              "case, order rotated); warm-up %.1f s, measured window %.1f s per run. Placement%s: for ping-pong "
              "1×64 B and the write batch, server and load generator (bench/loadgen.c, libuv) share CPU 1 "
              "(split over two vCPUs, every message costs a cross-CPU wake-up and runs flip between a fast "
              "and a slow mode); for every other case the server has CPU 0 and the load generator CPU 1. "
              "Every ratio is taken within "
              "one repetition; cells give the **median and (range)** over the repetitions. "
              "The machine is shared and noisy: ratios, not absolute numbers, are what count." % (
                  args.reps, args.warmup, args.duration,
                  " (--no-pin: not applied, the scheduler placed the processes)" if args.no_pin else ""))
    md.append("")
    if notes or skipped:
        md.append("Notes:")
        md.append("")
        term.append("Notes:")
        for n in notes:
            md.append("- " + n)
            term.append("- " + n)
        for key, why in skipped.items():
            md.append("- %s: skipped, %s" % (labels.get(key, key), why))
            term.append("- %s: skipped, %s" % (labels.get(key, key), why))
        md.append("")

    rows_perf, rows_cpu = [], []
    order = [s[0] for s in servers]
    perf = {k: ratios(results, cases, k, "raw", "perf") for k in order}
    cpu = {k: ratios(results, cases, k, "raw", "cpu") for k in order}
    for k in order:
        if k in skipped or not any(perf[k].values()):
            rows_perf.append([labels[k]] + [skip_note(k)] + [""] * (len(cases) - 1))
            rows_cpu.append([labels[k]] + [skip_note(k)] + [""] * (len(cases) - 1))
            continue
        rows_perf.append([labels[k]] + [fmt_ratio(perf[k][c[0]]) for c in cases])
        rows_cpu.append([labels[k]] + [fmt_ratio(cpu[k][c[0]]) for c in cases])
    headers = ["server"] + [c[1] for c in cases]
    m, t = table(headers, rows_perf)
    md += ["## Throughput as a ratio to raw libuv (higher is better)", "",
           "Round trips/s, MiB/s, connections/s; for the write batch, raw libuv's time divided by "
           "the server's.", "", m, ""]
    term += ["", "Throughput / raw libuv (median (range) over %d repetitions; higher is better)" % args.reps, t]
    m, t = table(headers, rows_cpu)
    md += ["## Server CPU per operation as a ratio to raw libuv (lower is better)", "",
           "The server's utime+stime over the measured window divided by the operations completed "
           "(%s)." % ", ".join("%s: %s" % (c[0], OP_NAME.get(c[0], "op")) for c in cases), "", m, ""]
    term += ["", "Server CPU per operation / raw libuv (lower is better)", t]

    # Absolute figures
    abs_rows = []
    for k in order:
        if k in skipped or not any(perf[k].values()) and k != "raw":
            continue
        for ckey, clabel, _, metric, unit, _ in cases:
            rs = [r for r in results.get(ckey, {}).get(k, []) if _ok(r)]
            if not rs:
                continue
            row = [labels[k], clabel, fmt_abs([r[metric] for r in rs]) + " " + unit,
                   fmt_abs([r["server_cpu_us_per_op"] for r in rs if r.get("server_cpu_us_per_op")], " µs")]
            if ckey.startswith("pp_"):
                row.append("%s / %s" % (fmt_abs([r["p50_us"] for r in rs if "p50_us" in r], " µs"),
                                        fmt_abs([r["p99_us"] for r in rs if "p99_us" in r], " µs")))
            else:
                row.append("")
            abs_rows.append(row)
    m, _ = table(["server", "case", "median (range)", "server CPU per op", "latency p50 / p99"], abs_rows)
    md += ["## Absolute figures", "", m, ""]

    # Memory
    mem_rows = []
    raw_pc = [e["per_conn_bytes"] for e in mem.get("raw", []) if "error" not in e]
    for k in order:
        entries = mem.get(k)
        if not entries:
            if k in skipped:
                mem_rows.append([labels[k], skip_note(k), "", "", ""])
            continue
        good = [e for e in entries if "error" not in e]
        if not good:
            mem_rows.append([labels[k], "error: " + entries[0]["error"], "", "", ""])
            continue
        pc = [e["per_conn_bytes"] for e in good]
        ratio = (statistics.median(pc) / statistics.median(raw_pc)) if raw_pc and statistics.median(raw_pc) > 0 else None
        mem_rows.append([labels[k], fmt_abs(pc, " B"),
                         "%.2f×" % ratio if ratio is not None else "—",
                         fmt_num(statistics.median([e["base_kib"] for e in good]) / 1024.0, " MiB"),
                         fmt_num(statistics.median([e["hwm_kib"] for e in good]) / 1024.0, " MiB")])
    n_idle = next((e["conns"] for es in mem.values() for e in es if "conns" in e), args.idle_conns)
    m, t = table(["server", "bytes per idle connection", "× raw libuv", "RSS before", "peak RSS (VmHWM)"],
                 mem_rows)
    if mem_rows:
        md += ["## Memory per idle connection", "",
               "Resident set growth while the server holds %s idle connections (each echoed one byte "
               "first), divided by the number of connections; %d measurement(s) per server. Kernel "
               "socket buffers are not in the RSS." % ("{:,}".format(n_idle), args.mem_reps), "", m, ""]
        term += ["", "Memory per idle connection (%s connections)" % "{:,}".format(n_idle), t]

    # Allocations
    alloc_rows = []
    for k in order:
        cells = []
        for ckey, _, _, _ in ALLOC_CASES:
            r = allocs.get(ckey, {}).get(k)
            cells.append("%.2f" % r["allocs_per_op"] if _ok(r) and "allocs_per_op" in r else "—")
        if any(c != "—" for c in cells):
            alloc_rows.append([labels[k]] + cells)
        elif k in skipped:
            alloc_rows.append([labels[k], skip_note(k)] + [""] * (len(ALLOC_CASES) - 1))
    m, t = table(["server"] + ["%s (per %s)" % (c[1], c[3]) for c in ALLOC_CASES], alloc_rows)
    if alloc_rows:
        md += ["## Heap allocations per operation in steady state", "",
               "malloc/calloc/realloc/memalign calls in the server over a %.1f s window after %.1f s of "
               "warm-up, counted by bench/malloc_count.c (LD_PRELOAD). Python servers run with "
               "PYTHONMALLOC=malloc so that every object allocation is counted (pymalloc would hide the "
               "small ones)." % (args.alloc_duration, args.alloc_warmup), "", m, ""]
        term += ["", "Heap allocations per operation (steady state)", t]

    # Targets
    targets = evaluate_targets(results, cases, mem, allocs, servers, skipped)
    rows = [[t_, v, e] for t_, v, e in targets]
    m, t = table(["target", "verdict", "evidence (medians)"], rows)
    md += ["## Targets", "", "Which of the issue's targets are met%s:" % (
        " in this quick pass (short windows: a full run decides)" if args.quick else ""), "", m, ""]
    term += ["", "Targets", t]

    if charts:
        md += ["## Charts", ""]
        for title, path in charts:
            md.append("![%s](%s)" % (title, os.path.basename(path)))
            md.append("")
    elif args.chart_note:
        md += ["## Charts", "", args.chart_note, ""]
    return "\n".join(md) + "\n", "\n".join(term) + "\n"


def make_charts(args, servers, cases, results, mem, allocs, prefix):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except Exception as e:  # noqa: BLE001
        args.chart_note = "No charts: matplotlib is not available (%s)." % e
        return []
    labels = {s[0]: s[1] for s in servers}
    keys = [s[0] for s in servers if s[0] != "raw"]
    charts = []

    def grouped(what, title, ylabel, filename, lines):
        data = {k: ratios(results, cases, k, "raw", what) for k in keys}
        shown = [k for k in keys if any(data[k].values())]
        if not shown:
            return
        fig, ax = plt.subplots(figsize=(11, 5))
        width = 0.8 / len(shown)
        for i, k in enumerate(shown):
            xs, meds, lo, hi = [], [], [], []
            for j, c in enumerate(cases):
                s = summary(data[k][c[0]])
                if s is None:
                    continue
                xs.append(j - 0.4 + width * (i + 0.5))
                meds.append(s[0])
                lo.append(s[0] - s[1])
                hi.append(s[2] - s[0])
            ax.bar(xs, meds, width, yerr=[lo, hi], capsize=3, label=labels[k])
        for y, style in lines:
            ax.axhline(y, color="black", linestyle=style, linewidth=0.8)
        ax.set_xticks(range(len(cases)))
        ax.set_xticklabels([c[1] for c in cases])
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.legend(fontsize=8)
        fig.tight_layout()
        path = os.path.join(RESULTS, prefix + filename)
        fig.savefig(path, dpi=110)
        plt.close(fig)
        charts.append((title, path))

    grouped("perf", "Throughput / raw libuv (median, bars = range; higher is better)", "× raw libuv",
            "throughput.png", [(1.0, "-"), (0.95, "--")])
    grouped("cpu", "Server CPU per operation / raw libuv (median, range; lower is better)", "× raw libuv",
            "cpu.png", [(1.0, "-")])
    mem_keys = [s[0] for s in servers if any("error" not in e for e in mem.get(s[0], []))]
    alloc_keys = [s[0] for s in servers if _ok(allocs.get("pp_1x64", {}).get(s[0]))]
    if mem_keys or alloc_keys:
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.5))
        if mem_keys:
            vals = [statistics.median([e["per_conn_bytes"] for e in mem[k] if "error" not in e]) for k in mem_keys]
            a1.bar(range(len(mem_keys)), vals, color="tab:blue")
            a1.set_xticks(range(len(mem_keys)))
            a1.set_xticklabels([labels[k] for k in mem_keys], rotation=20, fontsize=8)
            a1.set_ylabel("bytes per idle connection (RSS)")
            a1.set_title("Memory per idle connection")
        if alloc_keys:
            vals = [allocs["pp_1x64"][k]["allocs_per_op"] for k in alloc_keys]
            a2.bar(range(len(alloc_keys)), vals, color="tab:orange")
            a2.set_xticks(range(len(alloc_keys)))
            a2.set_xticklabels([labels[k] for k in alloc_keys], rotation=20, fontsize=8)
            a2.set_ylabel("heap allocations per round trip")
            a2.set_title("Allocations per round trip (ping-pong 1×64 B)")
        fig.tight_layout()
        path = os.path.join(RESULTS, prefix + "memory.png")
        fig.savefig(path, dpi=110)
        plt.close(fig)
        charts.append(("Memory per idle connection and allocations per round trip", path))
    return charts


# -----------------------------------------------------------------------------------------
# main
# -----------------------------------------------------------------------------------------

ALL_SERVERS = ["raw", "c_face", "swift_face", "swift_callbacks", "swiftnio", "python_face", "uvloop", "asyncio"]
ALL_CASES = ["pp_1x64", "pp_32x1k", "pump_64k", "batch", "churn_16"]


def parse_args():
    p = argparse.ArgumentParser(description="libswiftuvstream benchmark driver")
    p.add_argument("--quick", action="store_true", help="short pass (under 5 minutes)")
    p.add_argument("--reps", type=int, help="repetitions (full 5, quick 3)")
    p.add_argument("--warmup", type=float, help="seconds of warm-up per run (full 1.0, quick 0.3)")
    p.add_argument("--duration", type=float, help="measured seconds per run (full 5.0, quick 1.0)")
    p.add_argument("--batch-count", type=int, default=1000000, help="writes in the write batch (1000000)")
    p.add_argument("--idle-conns", type=int, default=10000, help="idle connections for the memory figure")
    p.add_argument("--mem-reps", type=int, help="memory measurements per server (full 3, quick 1)")
    p.add_argument("--servers", default=",".join(ALL_SERVERS), help="comma-separated: " + ",".join(ALL_SERVERS))
    p.add_argument("--cases", default=",".join(ALL_CASES), help="comma-separated: " + ",".join(ALL_CASES))
    p.add_argument("--skip-memory", action="store_true")
    p.add_argument("--skip-allocs", action="store_true")
    p.add_argument("--no-pin", action="store_true", help="do not pin server and load generator to CPUs")
    p.add_argument("--no-install", action="store_true", help="do not create bench/.venv or pip install")
    p.add_argument("--no-venv", action="store_true", help="run with this Python, without bench/.venv")
    p.add_argument("--no-swift-build", action="store_true", help="do not (re)build bench/swift")
    p.add_argument("--build-dir", default=os.path.join(REPO, "build"))
    p.add_argument("--output", help="report path (default bench/results/latest.md, quick: quick.md)")
    args = p.parse_args()
    q = args.quick
    args.reps = args.reps or (3 if q else 5)
    args.warmup = args.warmup if args.warmup is not None else (0.3 if q else 1.0)
    args.duration = args.duration if args.duration is not None else (1.0 if q else 5.0)
    args.mem_reps = args.mem_reps or (1 if q else 3)
    args.alloc_warmup = 0.5 if q else 1.0
    args.alloc_duration = 0.5 if q else 2.0
    args.servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    args.cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    if "raw" not in args.servers:
        args.servers.insert(0, "raw")  # every ratio is to raw libuv
    for s in args.servers:
        if s not in ALL_SERVERS:
            p.error("unknown server %r" % s)
    for c in args.cases:
        if c not in ALL_CASES:
            p.error("unknown case %r" % c)
    args.chart_note = ""
    return args


def main():
    args = parse_args()
    ensure_environment(args)
    notes = json.loads(os.environ.get(NOTES_ENV, "[]"))
    started = datetime.datetime.now().astimezone()
    t0 = time.monotonic()

    for program in ("loadgen", "raw_libuv_echo", "uvs_echo", "malloc_count.so"):
        if not os.path.exists(os.path.join(build_dir(args), "bench", program)):
            sys.exit("bench: %s/bench/%s is missing: run `make bench` (or `cmake --build build --target "
                     "bench_programs`) first" % (build_dir(args), program))
    # 10,000 idle connections need that many descriptors in the server and the load generator.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    except (ValueError, OSError):
        pass
    if NCPU < 2 and not args.no_pin:
        notes.append("only one CPU: server and load generator share it")

    servers = server_table(args, notes)
    cases = case_table(args)
    skipped = {s[0]: s[4] for s in servers if s[2] is None}
    os.makedirs(RESULTS, exist_ok=True)
    log_dir = os.path.join(build_dir(args), "bench", "logs")  # servers' stderr, kept for a look
    shutil.rmtree(log_dir, ignore_errors=True)
    os.makedirs(log_dir)
    info = machine_info()
    print("== bench: %s; servers: %s; logs in %s" % (
        "quick pass" if args.quick else "full run", ", ".join(s[0] for s in servers), log_dir), flush=True)
    for key, why in skipped.items():
        print("   %-12s SKIPPED: %s" % (key, why), flush=True)

    results = phase_throughput(args, servers, cases, log_dir, skipped)
    mem = {} if args.skip_memory else phase_memory(args, servers, log_dir, skipped)
    allocs = {} if args.skip_allocs else phase_allocs(args, servers, log_dir, skipped)

    notes += FAILURES
    prefix = "quick_" if args.quick else ""
    output = args.output or os.path.join(RESULTS, "quick.md" if args.quick else "latest.md")
    charts = make_charts(args, servers, cases, results, mem, allocs, prefix)
    elapsed = time.monotonic() - t0
    md, term = build_report(args, servers, cases, results, mem, allocs, skipped, notes, info, charts,
                            started, elapsed)
    with open(output, "w") as f:
        f.write(md)
    with open(os.path.splitext(output)[0] + ".json", "w") as f:
        json.dump({"args": {k: v for k, v in vars(args).items()}, "machine": info, "notes": notes,
                   "skipped": skipped, "throughput": results, "memory": mem, "allocations": allocs,
                   "date": started.isoformat()}, f, indent=1)
    print(term)
    print("== bench: report in %s (%.0f s)" % (os.path.relpath(output, os.getcwd()), elapsed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
