#!/usr/bin/env python3
"""scripts/bench/bench.py - sliceleak side by side with heaptrack and massif.

Driven by scripts/bench.sh, which builds the release tree and the workloads
first; see docs/benchmarks.md for what each column means.

For every workload, run r = 1..RUNS runs every tool once (tools interleaved,
so background load hits all of them alike):

  plain          the workload alone
  heaptrack-raw  heaptrack --raw  (record only; the raw data is interpreted
                 later, timed in the analysis table)
  heaptrack      heaptrack        (record + heaptrack_interpret on the fly)
  massif         valgrind --tool=massif
  sliceleak      LD_PRELOAD=libsliceleak.so
  sliceleak-sampled  the same with SLICELEAK_OPTIONS sample_bytes=512KiB
                 (--sample-bytes): every block of 64 KiB or more, a sample
                 of the smaller ones

then analyses that run's files: `sliceleak report` on the .sllog,
`heaptrack_print` on heaptrack's file, `heaptrack_interpret` on the raw file.

Every process runs under a wall-clock timeout and an address-space limit
(RLIMIT_AS, inherited by every child, heaptrack_interpret included); a run
that dies of it is reported as "failed: out of memory after N s" or
"failed: timeout after N s", and the remaining runs of that tool on that
workload are skipped.

Measurements come from scripts/bench/rx (a static wait4() wrapper): the
inner rx wraps the traced process itself (a static binary ignores
LD_PRELOAD, so the tracker only sees the workload), the outer rx wraps the
whole tool (heaptrack's shell script, its interpreter and zstd).
"""
import argparse
import datetime
import glob
import json
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

GIB = 1 << 30

TOOLS = ["plain", "heaptrack-raw", "heaptrack", "massif", "sliceleak", "sliceleak-sampled",
         "sliceleak-base"]
SKIP = {("massif", "alloc1-big")}  # (tool, workload) pairs not run: massif needs > 10 min there
# Workloads whose files are too big to count events in (10^8 lines through
# awk): heaptrack's events are taken as the expected count (2 per pair, marked
# "~"), sliceleak's as the record count `sliceleak report` prints.
NO_COUNT = {"alloc1-big"}


# --------------------------------------------------------------------------
# workloads


def workloads(args):
    """name -> (description, argv, expected events or None)."""
    b = args.bin
    q = args.quick
    n = args.pairs or (200_000 if q else 10_000_000)
    n1 = args.pairs1 or (200_000 if q else 10_000_000)
    nbig = args.pairs_big or (400_000 if q else 100_000_000)  # 4 chains x nbig/4 sizes
    rounds = args.rounds or (100_000 if q else 5_000_000)
    recs = args.records or (10_000 if q else 300_000)
    lines = args.lines or (50_000 if q else 2_000_000)
    nlive = args.live or (200_000 if q else 5_000_000)
    scan_mib = args.scan_mib or (16 if q else 512)
    commits = 50 if q else 300
    ab = os.path.join(b, "alloc_bench")
    w = {
        "alloc16-1t": ("%s malloc/free pairs, 16 frames deep, sizes 16..4096 step 16, 1 thread" % fmt_count(n),
                       [ab, "-n", str(n), "-t", "1", "-s", "16", "-m", "4096"], 2 * n),
        "alloc16-2t": ("%s malloc/free pairs, 16 frames deep, sizes 16..4096 step 16, 2 threads (half each)" % fmt_count(n),
                       [ab, "-n", str(n), "-t", "2", "-s", "16", "-m", "4096"], 2 * n),
        "alloc1-1t": ("%s malloc/free pairs, 16 frames deep, sizes 1..%s step 1 (every size distinct), 1 thread"
                      % (fmt_count(n1), fmt_count(n1)),
                      [ab, "-n", str(n1), "-t", "1", "-s", "1", "-m", str(n1)], 2 * n1),
        "alloc1-big": ("%s malloc/free pairs, 16 frames deep, sizes 1..%s step 1 from 4 call chains, 1 thread: "
                       "%s distinct (size, stack) pairs; massif not run (it would take well over the timeout)"
                       % (fmt_count(nbig), fmt_count(nbig // 4), fmt_count(nbig // 4 * 4)),
                       [ab, "-n", str(nbig // 4 * 4), "-t", "1", "-s", "1", "-m", str(nbig // 4), "-c", "4"],
                       2 * (nbig // 4 * 4)),
        "live": ("%s blocks of 16..64 bytes allocated 16 frames deep and never freed, each pointing to the "
                 "one before (a list): %s live blocks at exit, one exit scan" % (fmt_count(nlive), fmt_count(nlive)),
                 [ab, "-n", str(nlive), "-t", "1", "-s", "16", "-m", "64", "-k"], nlive),
        "scan": ("%d MiB in blocks of 512 KiB, every word a pointer to another block, all live at exit: "
                 "an exit scan of %d MiB of pointers" % (scan_mib, scan_mib),
                 [os.path.join(b, "scan_heap"), "pointers", str(scan_mib), str(512 << 10)], None),
        "slice": ("%s rounds of 2 sl_sub + 2 sl_release on 4 blocks of 16 MiB, 1024 views kept, 8 frames deep"
                  % fmt_count(rounds),
                  [os.path.join(b, "slice_bench"), "-n", str(rounds)], None),
        "python": ("python3 compute.py %d (JSON round trip, dicts, sorting)" % recs,
                   [args.python, os.path.join(args.srcdir, "compute.py"), str(recs)], None),
        "git": ("git log --stat -%d of this repository (a real program: trees, diffs, packs)" % commits,
                ["git", "-C", os.path.dirname(os.path.dirname(args.srcdir)), "--no-pager", "log",
                 "--stat", "-%d" % commits], None),
        "sort": ("LC_ALL=C sort of %s random lines (%s)" % (fmt_count(lines), "generated"),
                 ["sort", "-o", os.path.join(args.work, "sorted.txt"),
                  os.path.join(args.work, "sort-input-%d.txt" % lines)], None),
    }
    args.sort_input = (os.path.join(args.work, "sort-input-%d.txt" % lines), lines)
    return w


def make_sort_input(path, lines):
    if os.path.exists(path):
        return
    import random
    rng = random.Random(7)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    with open(path + ".tmp", "w") as f:
        for i in range(lines):
            k = 8 + rng.randrange(72)
            f.write("".join(rng.choice(alphabet) for _ in range(k)))
            f.write(" %d\n" % i)
    os.rename(path + ".tmp", path)


# --------------------------------------------------------------------------
# running one command under limits


def parse_rx(path):
    try:
        with open(path) as f:
            line = f.read().strip()
    except OSError:
        return None
    d = {}
    for kv in line.split():
        k, _, v = kv.partition("=")
        d[k] = v
    if "wall_s" not in d:
        return None
    return {"wall": float(d["wall_s"]), "user": float(d["user_s"]), "sys": float(d["sys_s"]),
            "maxrss": int(d["maxrss_kib"]) * 1024, "status": d["status"]}


def session_anon_rss(sid):
    """Sum of RssAnon over the live processes of session sid, in bytes."""
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                st = f.read()
            if int(st[st.rindex(")") + 2:].split()[3]) != sid:  # field 6: session
                continue
            with open("/proc/%s/status" % pid) as f:
                for line in f:
                    if line.startswith("RssAnon:"):
                        total += int(line.split()[1]) * 1024
                        break
        except (OSError, ValueError, IndexError):
            continue
    return total


def run_limited(argv, env, cwd, timeout, mem_limit, stdout_path, stderr_path, sample=None):
    """Runs argv in its own session under RLIMIT_AS; kills the session at the
    timeout. Returns (returncode or None on timeout, wall seconds). With
    sample (a dict), polls the session's anonymous RSS every 50 ms and leaves
    its peak in sample["anon_peak"] (file-backed pages such as an mmap'ed
    input are not counted there; ru_maxrss counts them)."""

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (mem_limit, mem_limit))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    t0 = time.monotonic()
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        p = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                             preexec_fn=limit, start_new_session=True)
        try:
            if sample is None:
                rc = p.wait(timeout=timeout)
            else:
                sample["anon_peak"] = 0
                deadline = time.monotonic() + timeout
                while True:
                    try:
                        rc = p.wait(timeout=0.05)
                        break
                    except subprocess.TimeoutExpired:
                        if time.monotonic() > deadline:
                            raise
                        sample["anon_peak"] = max(sample["anon_peak"], session_anon_rss(p.pid))
        except subprocess.TimeoutExpired:
            rc = None
            try:
                os.killpg(p.pid, signal.SIGKILL)  # the session we created: the tool and its children
            except ProcessLookupError:
                pass
            p.wait()
    # a tool may leave stragglers in its session (heaptrack's interpreter, zstd)
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    return rc, time.monotonic() - t0


OOM_PATTERNS = re.compile(r"bad_alloc|out of memory|Cannot allocate memory|memory exhausted|"
                          r"VG_\(arena_malloc\)|failed to allocate|ENOMEM", re.I)


def classify(rc, wall, timeout, rxs, stderr_text, mem_limit, traced=None):
    """None if the run succeeded, else a short failure text. traced: the
    rx record of the traced process when the tool has helper processes."""
    if rc is None:
        return "timeout after %.0f s" % timeout
    peak = max([r["maxrss"] for r in rxs if r] or [0])
    bad = [r for r in rxs if r and r["status"] != "exit:0"]
    if rc == 0 and not bad and not OOM_PATTERNS.search(stderr_text):
        return None
    if OOM_PATTERNS.search(stderr_text) or peak > 0.9 * mem_limit:
        text = "out of memory after %.0f s (%s address-space limit; peak RSS %s)" % (
            wall, fmt_bytes(mem_limit), fmt_bytes(peak))
        if "bad_alloc" in stderr_text and traced:
            text += "; the helper died of std::bad_alloc"
            if traced["status"] == "signal:13":
                text += " and the traced program was killed by SIGPIPE"
            elif traced["status"] == "exit:0":
                text += "; the traced program finished"
        return text
    what = bad[0]["status"] if bad else "exit:%d" % rc
    first = next((ln for ln in stderr_text.splitlines() if ln.strip() and "==" not in ln[:2]), "")
    return "%s after %.0f s%s" % (what, wall, (": " + first[:80]) if first else "")


# --------------------------------------------------------------------------
# counting events in the files


AWK = shutil.which("mawk") or "awk"  # mawk is several times faster on 10^7 lines


def awk_counts(cmd, key):
    """Runs `cmd | awk` counting lines per awk expression `key`; returns
    ({key: count}, total bytes of the stream)."""
    prog = ("{c[" + key + "]++; n += length($0) + 1} "
            'END {for (k in c) printf "k %s %.0f\\n", k, c[k]; printf "bytes %.0f\\n", n}')
    p1 = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    p2 = subprocess.Popen([AWK, prog], stdin=p1.stdout, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          env=dict(os.environ, LC_ALL="C"))
    p1.stdout.close()
    out = p2.communicate()[0].decode(errors="replace")
    rc = p1.wait()
    counts, total = {}, 0
    for line in out.splitlines():
        f = line.split(" ")
        if f[0] == "k" and len(f) >= 3:
            counts[" ".join(f[1:-1])] = int(float(f[-1]))
        elif f[0] == "bytes":
            total = int(float(f[1]))
    return counts, total, rc


def heaptrack_events(path):
    """(events, uncompressed bytes): '+' and '-' lines of a heaptrack data file."""
    c, total, _ = awk_counts(["zstd", "-dcq", path], "substr($0, 1, 1)")
    return c.get("+", 0) + c.get("-", 0), total


SL_EVENT_KINDS = ("ALLOC", "FREE", "REALLOC", "SLICE_NEW", "SLICE_DROP", "VIEW_ACQUIRE", "VIEW_RELEASE")


def sliceleak_events(sliceleak, logs):
    """(events, records, end_ok) summed over logs, from `sliceleak dump`,
    whose last line is '# records=N end=yes|no truncated=yes|no'."""
    events = records = 0
    end_ok = True
    for log in logs:
        c, _, rc = awk_counts([sliceleak, "dump", log], "($1 == \"#\") ? $0 : $2")
        last = next((k for k in c if k.startswith("# records=")), "")
        m = re.search(r"records=(\d+) end=(\w+) truncated=(\w+)", last)
        if rc != 0 or not m:
            end_ok = False
        else:
            records += int(m.group(1))
            end_ok = end_ok and m.group(2) == "yes" and m.group(3) == "no"
        events += sum(v for k, v in c.items() if k in SL_EVENT_KINDS)
    return events, records, end_ok


def report_records(res):
    """Records of the logs as `sliceleak report` states them ('..., N records, ...')."""
    try:
        with open(os.path.join(res["dir"], "an.sliceleak-report.out"), errors="replace") as f:
            head = f.read(1 << 16)
    except OSError:
        return None
    found = [int(x) for x in re.findall(r"(\d+) records", head)]
    return sum(found) if found else None


# --------------------------------------------------------------------------
# one run of one tool


def tool_argv(tool, wl_argv, d, args):
    """(argv, env, inner rx path or None, outer rx path)."""
    rx = args.rx
    inner = os.path.join(d, "rx.inner")
    outer = os.path.join(d, "rx.outer")
    env = dict(os.environ, LC_ALL="C")
    env.pop("LD_PRELOAD", None)
    if tool == "plain":
        return [rx, outer] + wl_argv, env, None, outer
    if tool == "heaptrack-raw":
        return [rx, outer, "heaptrack", "--raw", "-o", os.path.join(d, "ht"), rx, inner] + wl_argv, env, inner, outer
    if tool == "heaptrack":
        return [rx, outer, "heaptrack", "-o", os.path.join(d, "ht"), rx, inner] + wl_argv, env, inner, outer
    if tool == "massif":
        return ([rx, outer, "valgrind", "--tool=massif", "--massif-out-file=" + os.path.join(d, "massif.out")]
                + wl_argv, env, None, outer)
    if tool in ("sliceleak", "sliceleak-sampled", "sliceleak-base"):
        env["LD_PRELOAD"] = args.base_shim if tool == "sliceleak-base" else args.shim
        env["SLICELEAK_OPTIONS"] = "output=%s/x.%%p.sllog:quiet=1" % d
        if tool == "sliceleak-sampled":
            env["SLICELEAK_OPTIONS"] += ":sample_bytes=" + args.sample_bytes
        return [rx, outer] + wl_argv, env, None, outer
    raise ValueError(tool)


def log_files(tool, d):
    if tool == "heaptrack-raw":
        return glob.glob(os.path.join(d, "ht*.raw.zst")) + glob.glob(os.path.join(d, "ht*.raw.gz"))
    if tool == "heaptrack":
        return [f for f in glob.glob(os.path.join(d, "ht*.zst")) + glob.glob(os.path.join(d, "ht*.gz"))
                if ".raw." not in f]
    if tool == "massif":
        return glob.glob(os.path.join(d, "massif.out"))
    if tool.startswith("sliceleak"):
        return sorted(glob.glob(os.path.join(d, "*.sllog")) + glob.glob(os.path.join(d, "*.sllog.[0-9]*")))
    return []


def run_tool(tool, wname, wl_argv, run, args, count_events):
    d = os.path.join(args.work, "%s.%s.%d" % (wname, tool, run))
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    argv, env, inner, outer = tool_argv(tool, wl_argv, d, args)
    rc, wall = run_limited(argv, env, d, args.timeout, args.mem_limit,
                           os.path.join(d, "stdout"), os.path.join(d, "stderr"))
    rx_in = parse_rx(inner) if inner else None
    rx_out = parse_rx(outer)
    with open(os.path.join(d, "stderr"), errors="replace") as f:
        err = f.read()
    res = {"tool": tool, "workload": wname, "run": run, "dir": d}
    rxs = [rx_in, rx_out]
    fail = classify(rc, rx_out["wall"] if rx_out else wall, args.timeout, rxs, err, args.mem_limit, rx_in)
    if tool == "heaptrack" and fail is None and "heaptrack stats:" not in open(os.path.join(d, "stdout"),
                                                                              errors="replace").read() + err:
        fail = "heaptrack_interpret did not finish (no 'heaptrack stats' line)"
    res["fail"] = fail
    res["wall"] = rx_out["wall"] if rx_out else wall
    res["traced_wall"] = (rx_in or rx_out or {}).get("wall")
    # peak RSS of the traced process; for massif the valgrind process is the traced process
    res["rss"] = (rx_in or rx_out or {}).get("maxrss")
    res["rss_tree"] = rx_out["maxrss"] if rx_out else None
    files = log_files(tool, d)
    res["files"] = files
    res["log_bytes"] = sum(os.path.getsize(f) for f in files) if files else None
    try:
        count_into(res, tool, files, args, count_events, fail)
    except Exception as e:  # a counting problem must not lose the measurements
        print("bench: counting events of %s failed: %r" % (d, e), file=sys.stderr)
    return res


def count_into(res, tool, files, args, count_events, fail):
    if count_events and files and tool in ("heaptrack-raw", "heaptrack"):
        counted = [heaptrack_events(f) for f in files]
        res["events"] = sum(e for e, _ in counted)
        res["uncompressed_bytes"] = sum(b for _, b in counted)
    if count_events and files and tool in ("sliceleak", "sliceleak-base"):
        ev, recs, end_ok = sliceleak_events(args.sliceleak, files)
        res["events"], res["records"], res["log_complete"] = ev, recs, end_ok
        if not end_ok and fail is None:
            res["fail"] = "log incomplete (no END record or unreadable)"
    if count_events and files and tool == "sliceleak-sampled":
        # a sample: its records are not the workload's events
        res["recorded"], _, end_ok = sliceleak_events(args.sliceleak, files)
        if not end_ok and fail is None:
            res["fail"] = "log incomplete (no END record or unreadable)"
    if tool.startswith("sliceleak") and fail is None and not files:
        res["fail"] = "no .sllog written"


# --------------------------------------------------------------------------
# analysis of one run's files


def analyse(kind, res, args):
    """kind: sliceleak-report, sliceleak-baseline, heaptrack_print, heaptrack_interpret."""
    d = res["dir"]
    out = os.path.join(d, "an.%s.rx" % kind)
    env = dict(os.environ, LC_ALL="C")
    env.pop("LD_PRELOAD", None)
    if kind in ("sliceleak-report", "sliceleak-baseline"):
        exe = args.sliceleak if kind == "sliceleak-report" else args.baseline
        argv = [args.rx, out, exe, "report"] + res["files"]
    elif kind == "heaptrack_print":
        argv = [args.rx, out, "heaptrack_print", res["files"][0]]
    elif kind == "heaptrack_interpret":
        interp = "/usr/lib/heaptrack/libexec/heaptrack_interpret"
        argv = [args.rx, out, "bash", "-o", "pipefail", "-c",
                'zstd -dcq "$1" | "$2" | zstd -cq > "$3"', "interpret",
                res["files"][0], interp, os.path.join(d, "interpreted.zst")]
    else:
        raise ValueError(kind)
    sample = {}
    rc, wall = run_limited(argv, env, d, args.timeout, args.mem_limit,
                           os.path.join(d, "an.%s.out" % kind), os.path.join(d, "an.%s.err" % kind), sample)
    rx = parse_rx(out)
    with open(os.path.join(d, "an.%s.err" % kind), errors="replace") as f:
        err = f.read()
    if kind in ("sliceleak-report", "sliceleak-baseline") and rc is not None and rc == 1:
        rc = 0  # report never gates; tolerate 1 anyway
        if rx:
            rx["status"] = "exit:0"
    fail = classify(rc, rx["wall"] if rx else wall, args.timeout, [rx], err, args.mem_limit)
    if kind == "sliceleak-report" and fail and "unknown command" in err:
        fail = "no 'report' subcommand in this build"
    return {"kind": kind, "fail": fail, "wall": rx["wall"] if rx else wall,
            "cpu": rx["user"] + rx["sys"] if rx else None,
            "rss": rx["maxrss"] if rx else None, "anon": sample.get("anon_peak") or None}


# --------------------------------------------------------------------------
# formatting


def fmt_count(n):
    for div, suf in ((1_000_000, "M"), (1_000, "k")):
        if n >= div and n % (div // 10) == 0:
            return ("%g" % (n / div)) + suf
    if n >= 1_000_000:
        return "%.2fM" % (n / 1e6)
    return str(n)


def fmt_bytes(b):
    if b is None:
        return "-"
    for unit, div in (("GiB", GIB), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if b >= div:
            return "%.1f %s" % (b / div, unit)
    return "%d B" % b


def fmt_s(s):
    if s is None:
        return "-"
    return "%.2f" % s if s < 100 else "%.0f" % s


def fmt_rate(r):
    if r is None:
        return "-"
    if r >= 1e6:
        return "%.1f M/s" % (r / 1e6)
    if r >= 1e3:
        return "%.0f k/s" % (r / 1e3)
    return "%.0f /s" % r


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def describe_failures(rs):
    fails = [r["fail"] for r in rs if r.get("fail")]
    if not fails:
        return None
    n = len(rs)
    return "failed %d/%d: %s" % (len(fails), n, fails[0])


def machine_info():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = "%.1f GiB" % (kb / (1 << 20))
    except OSError:
        pass

    def ver(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=20).stdout.strip().splitlines()[0]
        except Exception:
            return "?"

    return {
        "nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release(), "mem": mem,
        "os": ver(["sh", "-c", ". /etc/os-release; echo $PRETTY_NAME"]),
        "loadavg": open("/proc/loadavg").read().split()[:3],
        "heaptrack": ver(["heaptrack", "--version"]),
        "valgrind": ver(["valgrind", "--version"]),
        "gcc": ver(["gcc", "--version"]),
        "commit": ver(["git", "-C", os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                       "log", "-1", "--format=%h %s"]),
    }


def summary_rows(results, analyses, wls):
    """Per workload: sliceleak's slowdown against heaptrack's, and the analysers' speed and memory."""
    rows = []
    for wname in wls:
        def wall(tool):
            return med([r["wall"] for r in results if r["workload"] == wname and r["tool"] == tool
                        and not r["fail"]])

        def failed(tool):
            rs = [r for r in results if r["workload"] == wname and r["tool"] == tool]
            return bool(rs) and all(r["fail"] for r in rs)

        def an(kind, key):
            return med([a[key] for a in analyses if a["workload"] == wname and a["kind"] == kind
                        and not a["fail"]])

        def an_failed(kind):
            rs = [a for a in analyses if a["workload"] == wname and a["kind"] == kind]
            return bool(rs) and all(a["fail"] for a in rs)

        def events(tool):
            return med([r.get("events") for r in results if r["workload"] == wname and r["tool"] == tool])

        base = wall("plain")
        if not base:
            continue

        def slow(tool):
            if failed(tool):
                return "failed"
            w = wall(tool)
            return ("%.1fx" % (w / base)) if w else "-"

        sl, raw = wall("sliceleak"), wall("heaptrack-raw")
        same_events = bool(events("sliceleak") and events("heaptrack-raw")) and (
            0.5 < events("sliceleak") / events("heaptrack-raw") < 2)
        if not same_events:
            ratio = "n/a (different events)"
        elif sl and raw and raw > 1.1 * base:
            ratio = "%.2f" % max(0.0, (sl - base) / (raw - base))
        else:
            ratio = "- (overheads within noise)"
        sl_rate = (events("sliceleak") / an("sliceleak-report", "wall")) if (
            events("sliceleak") and an("sliceleak-report", "wall")) else None
        ht_rate = (events("heaptrack") / an("heaptrack_print", "wall")) if (
            events("heaptrack") and an("heaptrack_print", "wall")) else None
        rate_ratio = ("%.1fx" % (sl_rate / ht_rate)) if (sl_rate and ht_rate) else (
            "heaptrack_print not run" if failed("heaptrack") else "-")
        if sl_rate and ht_rate and not (0.5 < events("sliceleak") / events("heaptrack") < 2):
            rate_ratio = "n/a (different events)"
        mem = lambda k: "failed" if an_failed(k) else fmt_bytes(an(k, "rss"))  # noqa: E731
        rows.append((wname, slow("sliceleak"), slow("sliceleak-sampled"), slow("heaptrack-raw"),
                     slow("heaptrack"), ratio,
                     fmt_rate(sl_rate), fmt_rate(ht_rate), rate_ratio, mem("sliceleak-report"),
                     mem("heaptrack_print"), mem("heaptrack_interpret")))
    return rows


def sampled_table(results, wls, args, p):
    """Sampled recording against plain and exact recording: medians and the ratio to plain."""
    if "sliceleak-sampled" not in [r["tool"] for r in results]:
        return
    p("## Sampled recording (sample_bytes=%s)" % getattr(args, "sample_bytes", "512KiB"))
    p()
    p("| workload | plain s | sliceleak s | sampled s | sampled / plain | sliceleak log | sampled log | "
      "records sampled |")
    p("|---|---:|---:|---:|---:|---:|---:|---:|")
    for wname in wls:
        def pick(tool, key):
            return med([r.get(key) for r in results if r["workload"] == wname and r["tool"] == tool
                        and not r["fail"]])
        base, full, smp = pick("plain", "wall"), pick("sliceleak", "wall"), pick("sliceleak-sampled", "wall")
        if not base or not smp:
            continue
        rec = pick("sliceleak-sampled", "recorded")
        p("| %s | %s | %s | %s | %.2fx | %s | %s | %s |" % (
            wname, fmt_s(base), fmt_s(full), fmt_s(smp), smp / base,
            fmt_bytes(pick("sliceleak", "log_bytes")), fmt_bytes(pick("sliceleak-sampled", "log_bytes")),
            fmt_count(int(rec)) if rec else "-"))
    p()
    p("sampled / plain: median wall time of the sampled runs over the plain runs' (the same runs, tools "
      "interleaved). records sampled: allocation events in the sampled log (run 1).")
    p()


def print_report(results, analyses, wls, args, info, started, out):
    p = lambda *a: print(*a, file=out)  # noqa: E731
    p("# sliceleak benchmark")
    p()
    p("- date: %s UTC, %s runs per tool and workload%s, medians shown" %
      (started, args.runs, " (--quick sizes)" if args.quick else ""))
    p("- machine: %s CPUs (nproc), %s, %s RAM, kernel %s, %s" % (info["nproc"], info["cpu"], info["mem"],
                                                             info["kernel"], info["os"]))
    p("- load average at start: %s" % " ".join(info["loadavg"]))
    p("- tools: %s, %s, %s; sliceleak at %s" % (info["heaptrack"], info["valgrind"], info["gcc"], info["commit"]))
    p("- limits per process: %s address space (RLIMIT_AS), %d s wall" % (fmt_bytes(args.mem_limit), args.timeout))
    p()
    p("## Side by side")
    p()
    p("| workload | sliceleak | sliceleak sampled | heaptrack --raw | heaptrack | overhead ratio | "
      "sliceleak report | heaptrack_print | speed ratio | report RSS | heaptrack_print RSS | "
      "heaptrack_interpret RSS |")
    p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in summary_rows(results, analyses, wls):
        p("| " + " | ".join(row) + " |")
    p()
    p("Slowdowns: wall time / plain wall time (medians). Overhead ratio: (sliceleak - plain) / "
      "(heaptrack --raw - plain); below 1, sliceleak costs less than heaptrack's recording alone (shown "
      "where both record the same events and heaptrack --raw costs over 10%). "
      "sliceleak report, heaptrack_print: events / wall time on the same runs' files; speed ratio: the first "
      "over the second (n/a where the two tools record different events, e.g. heaptrack does not see "
      "slice views). RSS: peak RSS of the analysis.")
    p()
    sampled_table(results, wls, args, p)
    p("## Workloads")
    p()
    for name, (desc, argv, _) in wls.items():
        p("- `%s`: %s" % (name, desc))
    p()
    p("## Recording")
    p()
    p("| workload | tool | runs | wall s | slowdown | traced RSS | tool RSS | log size | events | B/event | "
      "B/event uncompr. | result |")
    p("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for wname in wls:
        base = med([r["wall"] for r in results if r["workload"] == wname and r["tool"] == "plain"
                    and not r["fail"]])
        for tool in args.tools:
            rs = [r for r in results if r["workload"] == wname and r["tool"] == tool]
            if not rs:
                if (tool, wname) in SKIP:
                    p("| %s | %s | 0 | | | | | | | | | not run |" % (wname, tool))
                continue
            ok = [r for r in rs if not r["fail"]]
            fail = describe_failures(rs)
            wall = med([r["wall"] for r in ok])
            slow = (wall / base) if (wall is not None and base) else None
            ev = med([r.get("events") for r in rs])
            lb = med([r.get("log_bytes") for r in ok]) if ok else None
            ub = med([r.get("uncompressed_bytes") for r in rs]) if tool.startswith("heaptrack") else lb
            bpe = (lb / ev) if (lb and ev) else None
            upe = (ub / ev) if (ub and ev) else None
            rss = med([r["rss"] for r in ok]) if ok else max([r["rss"] or 0 for r in rs])
            tree = med([r["rss_tree"] for r in ok]) if ok else max([r["rss_tree"] or 0 for r in rs])
            mark = ""
            if any(r.get("events_estimated") for r in rs):
                mark = " ~"
            elif any(r.get("events_are_records") for r in rs):
                mark = " r"
            p("| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                wname, tool, len(ok), fmt_s(wall), ("%.1fx" % slow) if slow else "-", fmt_bytes(rss),
                fmt_bytes(tree) if tool in ("heaptrack", "heaptrack-raw") else "",
                fmt_bytes(lb) if lb else "-", (fmt_count(int(ev)) + mark) if ev else "-",
                ("%.2f" % bpe) if bpe else "-", ("%.2f" % upe) if upe else "-", fail or "ok"))
    p()
    p("runs: successful runs the medians are taken from. events: allocation-family and slice events in the "
      "tool's file, counted on run 1 (`~`: not counted, the expected count; `r`: sliceleak's record count, "
      "which adds a few stack/thread/time records). A failed tool is not run again on that workload.")
    p()
    p("## Analysis (of each run's files)")
    p()
    p("| workload | analysis | input | events | wall s | cpu s | events/s | peak RSS | peak anon RSS | result |")
    p("|---|---|---|---:|---:|---:|---:|---:|---:|---|")
    src = {"sliceleak-report": "sliceleak", "sliceleak-baseline": "sliceleak", "heaptrack_print": "heaptrack",
           "heaptrack_interpret": "heaptrack-raw"}
    label = {"sliceleak-report": "sliceleak report", "sliceleak-baseline": "sliceleak report (baseline)",
             "heaptrack_print": "heaptrack_print", "heaptrack_interpret": "heaptrack_interpret (of --raw)"}
    for wname in wls:
        for kind in ("sliceleak-report", "sliceleak-baseline", "heaptrack_print", "heaptrack_interpret"):
            an = [a for a in analyses if a["workload"] == wname and a["kind"] == kind]
            recs = [r for r in results if r["workload"] == wname and r["tool"] == src[kind]]
            if not an and (not recs or kind == "sliceleak-baseline"):
                continue
            ev = med([r.get("events") for r in recs])
            lb = med([r.get("log_bytes") for r in recs if not r["fail"]])
            if not an:
                why = describe_failures(recs) or "no file"
                p("| %s | %s | - | - | - | - | - | - | - | not run: recording %s |" % (wname, label[kind], why))
                continue
            ok = [a for a in an if not a["fail"]]
            wall = med([a["wall"] for a in ok])
            cpu = med([a.get("cpu") for a in ok])
            rss = med([a["rss"] for a in ok]) if ok else max([a["rss"] or 0 for a in an])
            anon = med([a["anon"] for a in ok]) if ok else max([a["anon"] or 0 for a in an])
            rate = (ev / wall) if (ev and wall) else None
            p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                wname, label[kind], fmt_bytes(lb), fmt_count(int(ev)) if ev else "-", fmt_s(wall),
                fmt_s(cpu) if cpu else "-", fmt_rate(rate), fmt_bytes(rss), fmt_bytes(anon) if anon else "-",
                describe_failures(an) or "ok"))
    p()


# --------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True, help="release build directory")
    ap.add_argument("--bin", required=True, help="directory of the built workloads and rx")
    ap.add_argument("--runs", type=int, default=None)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--workloads", default=None, help="comma-separated subset")
    ap.add_argument("--tools", default=None, help="comma-separated subset of " + ",".join(TOOLS) +
                    " (default: all; sliceleak-base only with --base-shim)")
    ap.add_argument("--base-shim", default=None, metavar="SO",
                    help="tool sliceleak-base: this libsliceleak.so (another commit's release build), "
                         "for before/after figures in the same run")
    ap.add_argument("--timeout", type=int, default=None, help="seconds per process (default 600, quick 60)")
    ap.add_argument("--mem-limit-gib", type=float, default=8.0)
    ap.add_argument("--pairs", type=int, default=None, help="alloc16 pairs (default 10M)")
    ap.add_argument("--pairs1", type=int, default=None, help="alloc1 pairs = distinct sizes (default 10M)")
    ap.add_argument("--pairs-big", type=int, default=None, help="alloc1-big pairs = distinct sizes (default 100M)")
    ap.add_argument("--rounds", type=int, default=None, help="slice rounds (default 5M)")
    ap.add_argument("--records", type=int, default=None, help="python records (default 300k)")
    ap.add_argument("--lines", type=int, default=None, help="sort lines (default 2M)")
    ap.add_argument("--live", type=int, default=None, help="live blocks at exit of `live` (default 5M)")
    ap.add_argument("--scan-mib", type=int, default=None, help="MiB of pointers in `scan` (default 512)")
    ap.add_argument("--baseline", default=None, metavar="SLICELEAK",
                    help="another sliceleak binary (an older build): its `report` of the same logs "
                         "is timed too, after sliceleak's own")
    ap.add_argument("--repeat-limit", type=float, default=120,
                    help="a tool whose first run takes longer than this (s) runs once (default 120)")
    ap.add_argument("--sample-bytes", default="512KiB", help="sample_bytes of sliceleak-sampled (512KiB)")
    ap.add_argument("--no-analysis", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the logs (default: deleted after analysis)")
    ap.add_argument("--work", default=None, help="scratch directory (default: a new one in $TMPDIR)")
    ap.add_argument("--out", default=None, help="also write the report (Markdown) and raw results (JSON) here")
    ap.add_argument("--render", default=None, metavar="RESULTS_JSON",
                    help="print the tables of an earlier run's results.json again, run nothing")
    args = ap.parse_args()
    if args.render:
        return render(args.render)

    if args.runs is None:
        args.runs = 1 if args.quick else 3
    if args.timeout is None:
        args.timeout = 60 if args.quick else 600
    args.mem_limit = int(args.mem_limit_gib * GIB)
    if args.tools is None:
        args.tools = ",".join(t for t in TOOLS if t != "sliceleak-base" or args.base_shim)
    args.tools = [t for t in args.tools.split(",") if t]
    for t in args.tools:
        if t not in TOOLS:
            ap.error("unknown tool %r" % t)
    if "sliceleak-base" in args.tools and not args.base_shim:
        ap.error("tool sliceleak-base needs --base-shim")
    if args.base_shim:
        args.base_shim = os.path.abspath(args.base_shim)
    if "plain" not in args.tools:
        args.tools.insert(0, "plain")
    args.srcdir = os.path.dirname(os.path.abspath(__file__))
    args.bin = os.path.abspath(args.bin)
    args.rx = os.path.join(args.bin, "rx")
    args.shim = os.path.join(os.path.abspath(args.build), "preload", "libsliceleak.so")
    args.sliceleak = os.path.join(os.path.abspath(args.build), "analyzer", "sliceleak")
    args.python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    args.work = os.path.abspath(args.work or tempfile.mkdtemp(prefix="sliceleak-bench."))
    os.makedirs(args.work, exist_ok=True)

    started = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M")
    info = machine_info()
    wls = workloads(args)
    if args.workloads:
        keep = args.workloads.split(",")
        for k in keep:
            if k not in wls:
                ap.error("unknown workload %r (have %s)" % (k, ", ".join(wls)))
        wls = {k: v for k, v in wls.items() if k in keep}
    if "sort" in wls:
        make_sort_input(*args.sort_input)

    print("sliceleak bench: %d CPUs (%s), kernel %s, %s RAM; %d runs; scratch %s" % (
        info["nproc"], info["cpu"], info["kernel"], info["mem"], args.runs, args.work), file=sys.stderr)

    results, analyses = [], []
    t_start = time.monotonic()
    for wname, (desc, wl_argv, expected) in wls.items():
        given_up = {}  # tool -> why its remaining runs are skipped
        for run in range(1, args.runs + 1):
            for tool in args.tools:
                if tool in given_up or (tool, wname) in SKIP:
                    continue
                res = run_tool(tool, wname, wl_argv, run, args,
                               count_events=(run == 1 and wname not in NO_COUNT))
                results.append(res)
                if (wname in NO_COUNT and tool.startswith("heaptrack") and expected and res["files"]
                        and not res["fail"]):
                    res["events"], res["events_estimated"] = expected, True
                extra = ""
                if res.get("events") is not None:
                    extra = " events=%d" % res["events"]
                    if expected and tool != "massif" and res["events"] < 0.99 * expected and not res["fail"]:
                        res["fail"] = "incomplete: %d of %d expected events" % (res["events"], expected)
                print("[%6.0fs] %-10s %-13s run %d: %s wall=%.2fs rss=%s%s" % (
                    time.monotonic() - t_start, wname, tool, run, res["fail"] or "ok", res["wall"],
                    fmt_bytes(res["rss"]), extra), file=sys.stderr)
                if res["fail"] and ("out of memory" in res["fail"] or "timeout" in res["fail"]):
                    given_up[tool] = res["fail"]
                elif run == 1 and res["wall"] > args.repeat_limit:
                    given_up[tool] = "slow"  # one run is enough to see a 20x-200x slowdown
                if args.no_analysis or res["fail"] or not res["files"]:
                    continue
                kinds = {"sliceleak": ["sliceleak-report"] + (["sliceleak-baseline"] if args.baseline else []),
                         "heaptrack": ["heaptrack_print"],
                         "heaptrack-raw": ["heaptrack_interpret"]}.get(tool, [])
                for kind in kinds:
                    if kind in given_up:
                        continue
                    a = analyse(kind, res, args)
                    a.update(workload=wname, run=run)
                    if (kind == "sliceleak-report" and wname in NO_COUNT and res.get("events") is None
                            and not a["fail"]):
                        res["events"], res["events_are_records"] = report_records(res), True
                    analyses.append(a)
                    if a["fail"] and ("out of memory" in a["fail"] or "timeout" in a["fail"]):
                        given_up[kind] = a["fail"]  # the same file size next run: the same death
                    print("[%6.0fs] %-10s   %-22s run %d: %s wall=%.2fs rss=%s" % (
                        time.monotonic() - t_start, wname, kind, run, a["fail"] or "ok", a["wall"],
                        fmt_bytes(a["rss"])), file=sys.stderr)
                if not args.keep:
                    for f in res["files"] + glob.glob(os.path.join(res["dir"], "interpreted.zst")):
                        try:
                            os.unlink(f)
                        except OSError:
                            pass
        # events are counted on run 1 only (they do not change between runs): spread them
        for tool in args.tools:
            rs = [r for r in results if r["workload"] == wname and r["tool"] == tool]
            src = next((r for r in rs if r.get("events") is not None), None)
            for r in rs:
                if src and r.get("events") is None:
                    for k in ("events", "events_estimated", "events_are_records"):
                        if k in src:
                            r[k] = src[k]

    print("", file=sys.stderr)
    print_report(results, analyses, wls, args, info, started, sys.stdout)
    print("total bench time: %.0f s" % (time.monotonic() - t_start))
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "report.md"), "w") as f:
            print_report(results, analyses, wls, args, info, started, f)
        with open(os.path.join(args.out, "results.json"), "w") as f:
            json.dump({"info": info, "args": {k: v for k, v in vars(args).items()}, "started": started,
                       "workloads": wls, "results": results, "analyses": analyses}, f, indent=1, default=str)
    if not args.keep:
        shutil.rmtree(args.work, ignore_errors=True)


def render(path):
    with open(path) as f:
        d = json.load(f)
    args = argparse.Namespace(**d["args"])
    if "workloads" in d:
        wls = {k: tuple(v) for k, v in d["workloads"].items()}
    else:  # written before the workloads were stored: rebuild their descriptions
        args.work = "/nonexistent"
        wls = workloads(args)
        names = []
        for r in d["results"]:
            if r["workload"] not in names:
                names.append(r["workload"])
        wls = {k: wls[k] for k in names}
    results = d["results"]
    for r in results:  # re-apply the event bookkeeping of this version
        if r["workload"] not in NO_COUNT and r.get("events_are_records"):
            r["events"] = None
            r.pop("events_are_records")
    for wname in wls:
        for tool in args.tools:
            rs = [r for r in results if r["workload"] == wname and r["tool"] == tool]
            src = next((r for r in rs if r.get("events") is not None and not r.get("events_are_records")), None)
            for r in rs:
                if src and (r.get("events") is None):
                    r["events"] = src["events"]
    started = d.get("started") or "(see results.json)"
    print_report(results, d["analyses"], wls, args, d["info"], started, sys.stdout)


if __name__ == "__main__":
    main()
