#!/usr/bin/env python3
"""Instructions per echo round trip under callgrind: raw libuv against the C face.

    python3 bench/callgrind.py [--build-dir build] [--counts 5000,25000]
    make bench-callgrind

Each server runs under `valgrind --tool=callgrind` twice, serving exactly N1 and then N2
round trips from the same load generator (bench/loadgen.c, not under valgrind) before it is
stopped. Startup and teardown are the same in both runs, so

    instructions per round trip = (Ir(N2) - Ir(N1)) / (N2 - N1)

and the same difference taken function by function (callgrind_annotate, self cost) says
where a round trip's instructions go, in steady state. Only user-space instructions are
counted: the system calls' kernel work is not (it is the same for both servers: one read
and one write per round trip when both servers behave).

Writes bench/results/callgrind.md and keeps the callgrind output files in
build/bench/callgrind/ for callgrind_annotate.
"""

from __future__ import annotations

import argparse
import os
import re
import select
import signal
import subprocess
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)

SERVERS = [("raw", "raw libuv (C)", "raw_libuv_echo"), ("c_face", "C face", "uvs_echo")]
CASES = [("pp_1x64", "ping-pong 1×64 B", ["--conns", "1", "--size", "64"]),
         ("pp_32x1k", "ping-pong 32×1 KiB", ["--conns", "32", "--size", "1024"])]


def start_under_callgrind(binary, out_file, log_file):
    argv = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out_file, binary, "0"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=open(log_file, "w"),
                            stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    buf = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                break
            buf += chunk
            if b"\n" in buf:
                line = buf.split(b"\n")[0].decode()
                if line.startswith("READY "):
                    return proc, int(line.split()[1])
                break
        elif proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError("%s did not start under callgrind (see %s)" % (binary, log_file))


def stop(proc):
    proc.send_signal(signal.SIGTERM)  # callgrind writes its output on the way out
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def total_ir(path):
    with open(path) as f:
        for line in f:
            if line.startswith("totals:") or line.startswith("summary:"):
                return int(line.split()[1])
    raise RuntimeError("no totals in " + path)


LINE = re.compile(r"^\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(\S.*?)\s*$")


def self_costs(path, inclusive=False):
    """{function: self (or inclusive) Ir} from callgrind_annotate (every function)."""
    out = subprocess.run(["callgrind_annotate", "--inclusive=" + ("yes" if inclusive else "no"),
                          "--threshold=100", "--tree=none",
                          "--auto=no", path], capture_output=True, text=True).stdout
    costs = {}
    started = False
    for line in out.splitlines():
        if "file:function" in line:
            started = True
            continue
        if not started or not line.strip() or line.startswith("-"):
            continue
        m = LINE.match(line)
        if not m:
            continue
        name = m.group(2)
        if name.startswith("PROGRAM TOTALS") or name.startswith("events annotated"):
            continue
        costs[name] = costs.get(name, 0) + int(m.group(1).replace(",", ""))
    return costs


_DEMANGLED = {}


def demangle(names):
    """Swift symbols made readable (swift demangle --simplified), cached."""
    todo = sorted({n for n in names if n.startswith("$s") and n not in _DEMANGLED})
    if todo:
        try:
            out = subprocess.run(["swift", "demangle", "--simplified"], input="\n".join(todo) + "\n",
                                 capture_output=True, text=True, timeout=120).stdout.splitlines()
        except (OSError, subprocess.TimeoutExpired):
            out = []
        for n, d in zip(todo, out if len(out) == len(todo) else todo):
            _DEMANGLED[n] = d.strip() or n
    return [_DEMANGLED.get(n, n) for n in names]


def split_name(name):
    """'file:function [object]' -> (function, object basename)."""
    m = re.match(r"^(.*?)(?:\s+\[([^\]]*)\])?$", name)
    func, obj = m.group(1), m.group(2)
    if ":" in func and not func.startswith(("$s", "swift::")):
        head, _, tail = func.partition(":")
        if "/" in head or head.endswith((".c", ".S", ".h", ".swift")) or head == "???":
            func = tail
    return func, os.path.basename(obj) if obj else "?"


def short(name, width=120):
    func, obj = split_name(name)
    func = demangle([func])[0]
    func = func if len(func) <= width else func[:width - 1] + "…"
    return "%s  [%s]" % (func, obj)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build-dir", default=os.path.join(REPO, "build"))
    p.add_argument("--counts", default="5000,25000", help="N1,N2 round trips")
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--output", default=os.path.join(BENCH, "results", "callgrind.md"))
    args = p.parse_args()
    n1, n2 = (int(x) for x in args.counts.split(","))
    bench_bin = os.path.join(os.path.abspath(args.build_dir), "bench")
    out_dir = os.path.join(bench_bin, "callgrind")
    os.makedirs(out_dir, exist_ok=True)
    if subprocess.run(["valgrind", "--version"], capture_output=True).returncode != 0:
        sys.exit("callgrind: valgrind is not installed")

    per_rt = {}   # (case, server) -> Ir per round trip
    funcs = {}    # (case, server) -> {function: Ir per round trip}
    incl = {}     # (case, "c_face") -> {function: inclusive Ir per round trip}
    for ckey, clabel, cargs in CASES:
        for skey, slabel, binary in SERVERS:
            irs, files = [], []
            for n in (n1, n2):
                out = os.path.join(out_dir, "%s.%s.%d.out" % (skey, ckey, n))
                proc, port = start_under_callgrind(os.path.join(bench_bin, binary), out,
                                                   out + ".log")
                r = subprocess.run([os.path.join(bench_bin, "loadgen"), "--mode", "pingpong", "--port",
                                    str(port), "--warmup", "0", "--count", str(n)] + cargs,
                                   capture_output=True, text=True, timeout=900)
                stop(proc)
                if r.returncode != 0:
                    sys.exit("callgrind: loadgen failed against %s: %s" % (skey, r.stdout + r.stderr))
                irs.append(total_ir(out))
                files.append(out)
            per_rt[(ckey, skey)] = (irs[1] - irs[0]) / float(n2 - n1)
            c1, c2 = self_costs(files[0]), self_costs(files[1])
            funcs[(ckey, skey)] = {f: (c2.get(f, 0) - c1.get(f, 0)) / float(n2 - n1)
                                   for f in set(c1) | set(c2)}
            if skey == "c_face":
                i1, i2 = self_costs(files[0], True), self_costs(files[1], True)
                incl[(ckey, skey)] = {f: (i2.get(f, 0) - i1.get(f, 0)) / float(n2 - n1)
                                      for f in set(i1) | set(i2)}
            print("%-20s %-14s %8.0f instructions per round trip" % (clabel, slabel, per_rt[(ckey, skey)]),
                  flush=True)

    md = ["# Instructions per echo round trip (callgrind)", "",
          "Date: %s. `python3 bench/callgrind.py` (make bench-callgrind). Each server under "
          "`valgrind --tool=callgrind`, serving exactly %d and then %d round trips of the same load "
          "generator; per round trip = difference of the totals / %d. User-space instructions only "
          "(kernel work of the system calls is not counted; `strace -c` shows the same read, write and "
          "epoll_wait per round trip for both servers). libuv's library is stripped: its internal "
          "functions appear as addresses, the same in both servers. Closures with identical code share one "
          "address, so callgrind may show one cost under two names (Loop.deferralCallback and "
          "Loop.wakeupCallback are one call). Output files: %s." % (
              time.strftime("%Y-%m-%d %H:%M"), n1, n2, n2 - n1, os.path.relpath(out_dir, REPO)), "",
          "| case | raw libuv (C) | C face | C face ÷ raw | extra per round trip |", "|---|---|---|---|---|"]
    for ckey, clabel, _ in CASES:
        r, c = per_rt[(ckey, "raw")], per_rt[(ckey, "c_face")]
        md.append("| %s | %.0f | %.0f | %.2f× | %+.0f |" % (clabel, r, c, c / r, c - r))
    md.append("")
    for ckey, clabel, _ in CASES:
        for skey, slabel, _ in SERVERS:
            costs = sorted(funcs[(ckey, skey)].items(), key=lambda kv: -kv[1])
            md += ["## %s, %s: top functions (self instructions per round trip)" % (clabel, slabel), "",
                   "| Ir per round trip | function [object] |", "|---:|---|"]
            for f, v in costs[:args.top]:
                if v < 0.5:
                    break
                md.append("| %.1f | `%s` |" % (v, short(f)))
            md.append("")
        # the C face's own functions, inclusive
        costs = sorted(((f, v) for f, v in incl[(ckey, "c_face")].items()
                        if split_name(f)[1].startswith(("libswiftuvstream", "uvs_echo"))),
                       key=lambda kv: -kv[1])
        md += ["## %s, C face: its own functions, inclusive instructions per round trip" % clabel, "",
               "(callees included, libuv's and the kernel's work among them; nested entries overlap)", "",
               "| Ir per round trip | function [object] |", "|---:|---|"]
        for f, v in costs[:args.top]:
            if v < 0.5:
                break
            md.append("| %.1f | `%s` |" % (v, short(f)))
        md.append("")
        # by object
        md += ["## %s: instructions per round trip by object" % clabel, "",
               "| object | raw libuv (C) | C face | difference |", "|---|---:|---:|---:|"]
        by_obj = {}
        for skey, _, _ in SERVERS:
            for f, v in funcs[(ckey, skey)].items():
                obj = split_name(f)[1]
                by_obj.setdefault(obj, {}).setdefault(skey, 0.0)
                by_obj[obj][skey] += v
        for obj, d in sorted(by_obj.items(), key=lambda kv: -(kv[1].get("c_face", 0) + kv[1].get("raw", 0))):
            r, c = d.get("raw", 0.0), d.get("c_face", 0.0)
            if abs(r) < 0.5 and abs(c) < 0.5:
                continue
            md.append("| %s | %.0f | %.0f | %+.0f |" % (obj, r, c, c - r))
        md.append("")
    with open(args.output, "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))
    print("== callgrind: report in %s" % os.path.relpath(args.output, os.getcwd()))


if __name__ == "__main__":
    main()
