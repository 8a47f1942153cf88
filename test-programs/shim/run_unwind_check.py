#!/usr/bin/env python3
"""run_unwind_check.py TEST --shim LIB --bindir DIR --srcdir DIR

The fast stack walk (preload/cfi.c) against libunwind: runs a program
under the shim with unwind_check=1, which captures every stack both ways,
and reads the line each traced process prints at exit:
  sliceleak: unwind check: N stacks, F fast, M mismatches
Passes when the program behaves as without the shim (exit status, stdout),
every process printed the line, M is 0 everywhere, N reaches the test's
minimum and F/N its minimum share (the fast path is really taken). Needs no
log reader: the logs themselves are not inspected.
Prints one final "N passed, N failed" line. Exit 0 pass, 1 fail, 77 skip.
"""
import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile

from run_shim_test import SkipTest as Skip, check, run_one

LINE = re.compile(rb'^sliceleak: unwind check: (\d+) stacks, (\d+) fast, (\d+) mismatches$', re.M)


class Ctx:
    def __init__(self, args):
        self.shim = os.path.abspath(args.shim)
        self.bindir = os.path.abspath(args.bindir)
        self.srcdir = os.path.abspath(args.srcdir)
        self.tmp = tempfile.mkdtemp(prefix='sliceleak-unwind-')

    def prog(self, name):
        return os.path.join(self.bindir, name)

    def run(self, cmd, shim, opts='', stdin=None, cwd=None):
        logdir = tempfile.mkdtemp(dir=self.tmp)
        env = dict(os.environ)
        env.pop('LD_PRELOAD', None)
        env.pop('SLICELEAK_OPTIONS', None)
        if shim:
            env['LD_PRELOAD'] = self.shim
            env['SLICELEAK_OPTIONS'] = ('output=' + os.path.join(logdir, '%e.%p.sllog') +
                                        ':quiet=1:unwind_check=1' + (':' + opts if opts else ''))
        p = subprocess.run(cmd, env=env, input=stdin, capture_output=True, timeout=170,
                           cwd=cwd or logdir)
        shutil.rmtree(logdir, ignore_errors=True)
        return p.returncode, p.stdout, p.stderr

    def compile(self, compiler, src, flags):
        exe = shutil.which(compiler)
        if not exe:
            raise Skip('%s not installed' % compiler)
        out = os.path.join(self.tmp, os.path.basename(src) + '.' + compiler)
        p = subprocess.run([exe] + flags + ['-o', out, os.path.join(self.srcdir, src),
                                            '-pthread'], capture_output=True)
        check(p.returncode == 0, '%s failed: %s' % (compiler, p.stderr.decode()[-2000:]))
        return out


def verify(ctx, cmd, min_stacks, min_share, stdin=None, cwd=None, procs=None,
           closes_stderr=False, opts=''):
    """Runs cmd without and with the shim; checks behaviour and the check lines.
    A mismatch is also printed when it happens (the first four), which is all
    there is to see from a program that closes stderr before exit."""
    rc0, out0, _ = ctx.run(cmd, shim=False, stdin=stdin, cwd=cwd)
    rc1, out1, err1 = ctx.run(cmd, shim=True, opts=opts, stdin=stdin, cwd=cwd)
    check(rc0 == rc1, 'exit %d without the shim, %d with it: %s'
          % (rc0, rc1, err1.decode(errors='replace')[-2000:]))
    check(out0 == out1, 'stdout differs under the shim')
    lines = [tuple(int(x) for x in m) for m in LINE.findall(err1)]
    if closes_stderr:
        check(not lines and b'differs from libunwind' not in err1,
              'stderr: %r' % err1[-2000:])
        print('%s: closes stderr before the exit line; no mismatch printed while it ran'
              % os.path.basename(cmd[0]))
        return
    check(lines, 'no "unwind check" line on stderr: %r' % err1[-2000:])
    if procs is not None:
        check(len(lines) == procs, '%d processes reported, expected %d' % (len(lines), procs))
    bad = [ln for ln in lines if ln[2] != 0]
    check(not bad, 'mismatches: %s\n%s' % (bad, err1.decode(errors='replace')[-4000:]))
    check(b'differs from libunwind' not in err1, 'a mismatch was printed')
    stacks = sum(ln[0] for ln in lines)
    fast = sum(ln[1] for ln in lines)
    share = fast / max(stacks, 1)
    print('%s: %d process(es), %d stacks, %d fast (%.1f%%), 0 mismatches'
          % (os.path.basename(cmd[0]), len(lines), stacks, fast, 100 * share))
    check(stacks >= min_stacks, '%d stacks, expected at least %d' % (stacks, min_stacks))
    check(share >= min_share, 'fast share %.3f below %.2f' % (share, min_share))


def t_c_o2(ctx):
    verify(ctx, [ctx.prog('unwind_stress_O2')], 20000, 0.9, procs=1)


def t_c_deep(ctx):
    # depth=128: walks of up to 136 frames, past the walk's 64-entry memo
    verify(ctx, [ctx.prog('unwind_stress_O2')], 20000, 0.9, procs=1, opts='depth=128')


def t_c_o0(ctx):
    verify(ctx, [ctx.prog('unwind_stress_O0')], 20000, 0.9, procs=1)


def t_c_clang(ctx):
    exe = ctx.compile('clang', 'unwind_stress.c', ['-O2', '-fomit-frame-pointer'])
    verify(ctx, [exe], 20000, 0.9, procs=1)


def t_cpp_gcc(ctx):
    verify(ctx, [ctx.prog('unwind_exceptions')], 5000, 0.9, procs=1)


def t_cpp_clang(ctx):
    exe = ctx.compile('clang++', 'unwind_exceptions.cpp', ['-O2', '-std=c++17'])
    verify(ctx, [exe], 5000, 0.9, procs=1)


def t_python3(ctx):
    verify(ctx, ['/usr/bin/python3', '-c',
                 'import json, collections\n'
                 'd = {str(i): [i] * (i % 7) for i in range(30000)}\n'
                 'c = collections.Counter(len(v) for v in d.values())\n'
                 'print(len(json.dumps(d)), sorted(c.items()))'], 1000, 0.9)


def t_perl(ctx):
    if not shutil.which('perl'):
        raise Skip('perl not installed')
    verify(ctx, ['perl', '-e', 'my %h; $h{$_ % 500} .= "x$_" for 1..50000; '
                 'print scalar(keys %h), "\\n";'], 1000, 0.9)


def t_git(ctx):
    git = shutil.which('git')
    if not git:
        raise Skip('git not installed')
    repo = os.path.join(ctx.tmp, 'repo')
    os.mkdir(repo)
    for cmd in (['init', '-q', '.'], ['-c', 'user.name=t', '-c', 'user.email=t@e', 'commit',
                                       '-q', '--allow-empty', '-m', 'first']):
        subprocess.run([git] + cmd, cwd=repo, check=True, capture_output=True)
    verify(ctx, [git, 'log', '--format=%s'], 50, 0.9, cwd=repo)
    verify(ctx, [git, '--version'], 10, 0.9)


def t_sort(ctx):
    # coreutils' close_stdout (an atexit handler registered after ours, so
    # run before it) closes stderr: the exit line cannot appear. What is
    # checked is that no mismatch was printed while sort ran.
    data = ''.join('%08x line %d\n' % ((i * 2654435761) % (1 << 32), i)
                   for i in range(50000)).encode()
    verify(ctx, [shutil.which('sort') or '/usr/bin/sort'], 0, 0, stdin=data,
           closes_stderr=True)


def t_dlclose(ctx):
    # dlopen/dlclose in a loop: every dlclose flushes the rule cache
    plugin = ctx.prog('libdl_plugin.so')
    if not os.path.exists(plugin):
        plugin = ctx.prog('dl_plugin.so')
    verify(ctx, [ctx.prog('dlopen_loop'), plugin], 50, 0.5, procs=1)


def t_fork(ctx):
    # fork children (the insert lock is reset in the child) report too
    verify(ctx, [ctx.prog('fork_threads')], 1000, 0.5, procs=31)


TESTS = {name[2:].replace('_', '-'): fn for name, fn in globals().items()
         if name.startswith('t_')}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('test', choices=sorted(TESTS))
    ap.add_argument('--shim', required=True)
    ap.add_argument('--bindir', required=True)
    ap.add_argument('--srcdir', required=True)
    args = ap.parse_args()
    ctx = Ctx(args)
    if platform.machine() != 'x86_64':
        def skip(_):
            raise Skip('the fast walk is x86-64 only')
        return run_one(args.test, skip, ctx)
    return run_one(args.test, TESTS[args.test], ctx)


if __name__ == '__main__':
    sys.exit(main())
