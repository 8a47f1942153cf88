#!/usr/bin/env python3
"""diff_test.py --sliceleak EXE --shim LIB --bindir DIR --relinked EXE

`sliceleak diff` and `sliceleak check --baseline` on real runs:
  - two builds of capacity_leak (the pattern's own, and one linked after 4 KiB
    of padding: every address differs) diff to no change at all, by logs and
    by JSON reports;
  - `check --baseline` of the leaky variant against the fixed variant's JSON
    report fails (exit 1) and names the finding and the leak that grew;
  - the fixed variant passes against its own baseline, and the leaky one with
    --max-increase above its growth.
Exit 0 pass, 1 fail.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testlib import check, traced, verdict  # noqa: E402


def sliceleak(args, *a, want=0):
    p = subprocess.run([args.sliceleak] + list(a), capture_output=True, text=True, timeout=300)
    check(p.returncode == want, 'sliceleak %s: exit %d, want %d\n%s%s' %
          (' '.join(a), p.returncode, want, p.stdout, p.stderr))
    return p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--sliceleak', required=True)
    ap.add_argument('--shim', required=True)
    ap.add_argument('--bindir', required=True)
    ap.add_argument('--relinked', required=True)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix='sliceleak-diff-')
    sizes = ['100', '65536']

    def body():
        prog = os.path.join(args.bindir, 'capacity_leak-O2')
        a = traced(args.shim, os.path.join(tmp, 'a'), [prog, 'leaky'] + sizes)
        b = traced(args.shim, os.path.join(tmp, 'b'), [args.relinked, 'leaky'] + sizes)
        ja = json.loads(sliceleak(args, 'report', '--format', 'json', '--top', '0', *a))
        jb = json.loads(sliceleak(args, 'report', '--format', 'json', '--top', '0', *b))
        oa = ja['findings'][0]['alloc_stack'][0]['offset']
        ob = jb['findings'][0]['alloc_stack'][0]['offset']
        check(oa != ob, 'the two builds have the same addresses (%s): the test proves nothing' % oa)
        d = json.loads(sliceleak(args, 'diff', '--format', 'json', *a, '--', *b))
        for lst in ('findings', 'leaks', 'peak'):
            check(d[lst]['changes'] == [], 'two builds: %s changed: %s' % (lst, d[lst]['changes']))
            check(d[lst]['unchanged'] > 0, 'two builds: no %s to compare' % lst)
        print('ok: two builds (offsets %s and %s) diff to no change: %s' %
              (oa, ob, {k: d[k]['unchanged'] for k in ('findings', 'leaks', 'peak')}))
        ra, rb = os.path.join(tmp, 'a.json'), os.path.join(tmp, 'b.json')
        for path, j in ((ra, ja), (rb, jb)):
            with open(path, 'w') as f:
                json.dump(j, f)
        out = sliceleak(args, 'diff', ra, rb)
        check('\n0 changed;' in out, 'two builds, as reports: %s' % out)
        print('ok: the same as JSON reports')

        fixed = traced(args.shim, os.path.join(tmp, 'fixed'), [prog, 'copy'] + sizes)
        base = os.path.join(tmp, 'fixed.json')
        with open(base, 'w') as f:
            f.write(sliceleak(args, 'report', '--format', 'json', *fixed))
        out = sliceleak(args, 'check', '--baseline', base, *a, want=1)
        check(out.startswith('sliceleak check: FAILED'), out)
        check('appeared +6.3 MiB' in out and 'view_pinned: receive_message (capacity_leak.c)' in out,
              'the finding is not named:\n' + out)
        check('== Leak groups ==' not in out, 'leak groups named, none leaked:\n' + out)
        print('ok: leaky against the fixed baseline fails and names the finding that grew')
        out = sliceleak(args, 'check', '--baseline', base, *fixed)
        check(out.startswith('sliceleak check: OK'), out)
        print('ok: fixed against its own baseline passes')
        jf = json.load(open(base))
        grew = max(ja['leaks']['leaked_bytes'] - jf['leaks']['leaked_bytes'],
                   ja['retained_bytes'] - jf['retained_bytes'])
        sliceleak(args, 'check', '--baseline', base, '--max-increase', str(grew), *a)
        sliceleak(args, 'check', '--baseline', base, '--max-increase', str(grew - 1), *a, want=1)
        print('ok: --max-increase %d passes, %d fails' % (grew, grew - 1))

    try:
        return verdict(body)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
