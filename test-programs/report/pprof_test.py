#!/usr/bin/env python3
"""pprof_test.py --sliceleak EXE --shim LIB --bindir DIR

The pprof export read by pprof itself (`go tool pprof`, Debian's golang-go):
a pattern program runs under the shim, and for each sample type the total
that `go tool pprof -top` prints equals the JSON report's figure of the same
logs, and the top allocation site of the JSON report (the innermost function
of its largest hot spot) is the top entry of pprof's list. `-raw` must show
the mappings with their build ids and the inlined frames.
Exit 0 pass, 1 fail, 77 skip (no Go toolchain).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testlib import check, traced, verdict  # noqa: E402

SKIP = 77


def pprof(go, args, path, env):
    p = subprocess.run([go, 'tool', 'pprof'] + args + [path], capture_output=True, text=True,
                       env=env, timeout=300)
    check(p.returncode == 0, 'go tool pprof %s: exit %d: %s' % (args, p.returncode, p.stderr))
    return p.stdout


def top_total(out):
    """'Showing nodes accounting for 6.25MB, 100% of 6.25MB total' with -unit=byte: bytes."""
    m = re.search(r'of (\d+)(B?) total', out)
    check(m, 'no total in pprof -top output:\n' + out)
    return int(m.group(1))


def top_rows(out):
    """The function names of -top's rows, in order (without pprof's ' (inline)' mark)."""
    rows, started = [], False
    for ln in out.splitlines():
        if ln.strip().startswith('flat'):
            started = True
            continue
        if started and ln.strip():
            rows.append(ln.split(None, 5)[5].replace(' (inline)', ''))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--sliceleak', required=True)
    ap.add_argument('--shim', required=True)
    ap.add_argument('--bindir', required=True)
    args = ap.parse_args()
    go = shutil.which('go')
    if not go:
        print('SKIP: go is not installed (scripts/install-deps.sh installs golang-go)')
        return SKIP
    tmp = tempfile.mkdtemp(prefix='sliceleak-pprof-')
    env = dict(os.environ, HOME=tmp, PPROF_TMPDIR=tmp, GOCACHE=os.path.join(tmp, 'gocache'))

    def body():
        for prog, pargs in (('capacity_leak-O2', ['leaky', '100', '65536']),
                            ('plain_leak-O0', ['leaky', '100', '4096'])):
            logdir = os.path.join(tmp, prog)
            logs = traced(args.shim, logdir, [os.path.join(args.bindir, prog)] + pargs)
            j = json.loads(subprocess.run([args.sliceleak, 'report', '--format', 'json', '--top',
                                           '0'] + logs, capture_output=True, text=True,
                                          check=True).stdout)
            prof = os.path.join(logdir, 'profile.pb.gz')
            subprocess.run([args.sliceleak, 'report', '--format', 'pprof', '-o', prof] + logs,
                           check=True)
            with open(prof, 'rb') as f:
                check(f.read(2) == b'\x1f\x8b', 'the profile is not gzip')
            expect = {
                'alloc_space': j['totals']['bytes_allocated'],
                'alloc_objects': j['totals']['allocations'],
                'inuse_space': j['live']['bytes'],
                'inuse_objects': j['live']['blocks'],
                'retained_space': j['retained_bytes'],
                'retained_objects': sum(f['blocks'] for f in j['findings']
                                        if f['kind'] != 'owner'),
                'owned_space': j.get('owned_bytes', 0),
                'owned_objects': sum(f['blocks'] for f in j['findings'] if f['kind'] == 'owner'),
                'leaked_space': j['leaks']['leaked_bytes'],
                'leaked_objects': j['leaks']['leaked_blocks'],
            }
            for index, want in expect.items():
                unit = ['-unit=byte'] if index.endswith('space') else []
                out = pprof(go, ['-top', '-sample_index=' + index] + unit, prof, env)
                got = top_total(out)
                check(got == want, '%s %s: pprof total %d, JSON %d' % (prog, index, got, want))
                print('ok: %s %s total %d' % (prog, index, got))
            # the top site: the innermost function of the JSON's largest hot spot by bytes
            hot = max(j['hotspots'], key=lambda h: h['bytes'])
            site = hot['stack'][0]['function']
            rows = top_rows(pprof(go, ['-top', '-sample_index=alloc_space'], prof, env))
            check(rows and rows[0] == site, '%s: pprof top site %s, JSON %s' %
                  (prog, rows[:3], site))
            print('ok: %s top allocation site %s' % (prog, site))
            raw = pprof(go, ['-raw'], prof, env)
            check(re.search(r'Mappings\n(.*\n)*.*%s.*[0-9a-f]{40}' % re.escape(prog), raw),
                  '%s: no mapping of the program with a build id in -raw:\n%s' % (prog, raw))
            if prog.endswith('-O2'):
                inl = re.search(r'\n\s+\d+: 0x[0-9a-f]+ M=\d+ receive_message .*\n\s+consume_messages ',
                                raw)
                check(inl, '%s: receive_message is not shown inlined into consume_messages:\n%s'
                      % (prog, raw))
            print('ok: %s mappings with build ids%s' % (prog, ', inlined frames' if prog.endswith('-O2') else ''))

    try:
        return verdict(body)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
