#!/usr/bin/env python3
"""scripts/bench/analyzer_ab.py - two builds of the analyzer and heaptrack_print, side by side.

    analyzer_ab.py --old OLD_SLICELEAK --new NEW_SLICELEAK [--runs 3] NAME=SLLOG[,HEAPTRACK_FILE] ...

For every NAME: `OLD report SLLOG`, `NEW report SLLOG` and `heaptrack_print
HEAPTRACK_FILE` (when given), interleaved, RUNS times each; prints a Markdown
table of medians: CPU time (user + sys), wall time, peak RSS (ru_maxrss) and
the peak of RssAnon (polled every 20 ms), and the new build's ratios to the
others. The logs must be in a format both builds read (record them with the
older build's shim); docs/benchmarks.md says how the figures there were made.
"""
import argparse
import resource
import statistics
import subprocess
import sys
import time


def run(argv):
    """cpu s, wall s, peak RSS bytes, peak anon RSS bytes of one run of argv."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    anon = 0
    while p.poll() is None:
        try:
            with open("/proc/%d/status" % p.pid) as f:
                for line in f:
                    if line.startswith("RssAnon:"):
                        anon = max(anon, int(line.split()[1]) * 1024)
        except OSError:
            pass
        time.sleep(0.02)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode not in (0, 1):
        sys.exit("analyzer_ab.py: %s exited with %d" % (" ".join(argv), p.returncode))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall, after.ru_maxrss * 1024, anon


def mib(x):
    return "%.1f MiB" % (x / 1048576)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--old", required=True)
    ap.add_argument("--new", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("inputs", nargs="+", metavar="NAME=SLLOG[,HEAPTRACK_FILE]")
    args = ap.parse_args()
    print("| input | analysis | cpu s | wall s | peak RSS | peak anon RSS | new / this (cpu) | new / this (RSS) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for spec in args.inputs:
        name, _, files = spec.partition("=")
        sllog, _, ht = files.partition(",")
        tools = [("sliceleak report (new)", [args.new, "report", sllog]),
                 ("sliceleak report (old)", [args.old, "report", sllog])]
        if ht:
            tools.append(("heaptrack_print", ["heaptrack_print", ht]))
        res = {t: [] for t, _ in tools}
        # ru_maxrss of RUSAGE_CHILDREN is the largest child so far: one child process per run
        for _ in range(args.runs):
            for t, argv in tools:
                out = subprocess.run([sys.executable, __file__, "--one"] + argv,
                                     capture_output=True, text=True, check=True).stdout.split()
                res[t].append([float(x) for x in out])
        med = {t: [statistics.median(r[i] for r in res[t]) for i in range(4)] for t in res}
        new = med["sliceleak report (new)"]
        for t, _ in tools:
            m = med[t]
            ratio = "" if t.endswith("(new)") else "%.2f | %.2f" % (new[0] / m[0], new[2] / m[2])
            print("| %s | %s | %.2f | %.2f | %s | %s | %s |" % (
                name, t, m[0], m[1], mib(m[2]), mib(m[3]), ratio or " | "))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        print("%f %f %d %d" % run(sys.argv[2:]))
    else:
        main()
