#!/usr/bin/env python3
"""sampled_findings.py - a pattern's retention findings are the same with
sampled recording as without, for the blocks recorded exactly.

Usage: sampled_findings.py --shim LIB --analyzer EXE -- PROG VARIANT [N...]

Runs PROG under the shim in exact mode, then sampled (sample_bytes=512KiB,
several seeds) with exact_bytes at its default (64 KiB) and at 4 KiB (the
findings' default minimum block size, so that every finding is compared).
A sampled log's findings are made of the blocks of at least exact_bytes
only, so the exact report is taken with --min-block-size set to it. The
findings (kind, blocks, bytes, views, stacks as module + offset) must be
equal, but for exact-mode dead_region findings whose holders (the view-pinned
blocks) are smaller than exact_bytes: sampled, such a holder is a sample. Prints one final "N passed, N failed" line; exit 0 pass, 1 fail.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

DROP = {'address', 'pinned_seconds'}


def norm(v):
    """The finding without what differs between runs (addresses, times)."""
    if isinstance(v, dict):
        return {k: norm(x) for k, x in sorted(v.items()) if k not in DROP}
    if isinstance(v, list):
        return [norm(x) for x in v]
    return v


def run(args, cmd, opts, tmp):
    log = os.path.join(tmp, 'run%d.sllog' % len(os.listdir(tmp)))
    env = dict(os.environ, LD_PRELOAD=args.shim,
               SLICELEAK_OPTIONS='output=%s:quiet=1%s' % (log, (':' + opts) if opts else ''))
    p = subprocess.run(cmd, env=env, capture_output=True, timeout=120)
    if p.returncode != 0:
        raise SystemExit('FAIL: %s under the shim (%s): exit %d' % (cmd, opts, p.returncode))
    return log


def findings(args, log, *opts):
    p = subprocess.run([args.analyzer, 'report', '--no-symbols', '--format', 'json'] +
                       list(opts) + [log], capture_output=True, timeout=120)
    if p.returncode != 0:
        raise SystemExit('FAIL: report %s: exit %d %s' % (log, p.returncode, p.stderr[-500:]))
    doc = json.loads(p.stdout)
    return sorted((norm(f) for f in doc['findings']), key=lambda f: json.dumps(f, sort_keys=True))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--shim', required=True)
    ap.add_argument('--analyzer', required=True)
    ap.add_argument('cmd', nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.cmd[1:] if args.cmd[:1] == ['--'] else args.cmd
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix='sliceleak-sampled-') as tmp:
        exact = run(args, cmd, '', tmp)
        for exact_bytes in (65536, 4096):
            # a dead_region finding needs its holders recorded exactly too
            want = [f for f in findings(args, exact, '--min-block-size', str(exact_bytes))
                    if f.get('holder_bytes', exact_bytes) >= exact_bytes * f.get('holder_blocks', 1)]
            for seed in (1, 2, 3):
                log = run(args, cmd, 'sample_bytes=512KiB:exact_bytes=%d:sample_seed=%d'
                          % (exact_bytes, seed), tmp)
                got = findings(args, log)
                if got == want:
                    passed += 1
                    continue
                failed += 1
                print('FAIL: exact_bytes=%d seed %d: %d findings sampled, %d exact'
                      % (exact_bytes, seed, len(got), len(want)))
                for f in got:
                    if f not in want:
                        print('  only sampled: %s' % json.dumps(f)[:400])
                for f in want:
                    if f not in got:
                        print('  only exact:   %s' % json.dumps(f)[:400])
            print('exact_bytes=%d: %d findings compared' % (exact_bytes, len(want)))
    print('%d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
