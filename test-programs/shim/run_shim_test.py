#!/usr/bin/env python3
"""run_shim_test.py TEST --shim LIB --bindir DIR [--sliceleak EXE]

End-to-end tests of libsliceleak.so: runs a program with and without the
shim and checks what the program's header comment promises. Logs are read
with `sliceleak dump` (the analyzer is the only reader of the format); the
checks below consume its agreed text output:
  <offset> <KIND> <field>=<value> ... tid=<tid> time_ns=<ns>
  # records=<n> end=<yes|no> truncated=<yes|no>
Prints one final "N passed, N failed" line. Exit 0 pass, 1 fail, 77 skip.
"""
import argparse
import json
import math
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SKIP = 77
FIELD = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)')
PAIR = re.compile(r' (0x[0-9a-f]+)=(0x[0-9a-f]+)')


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


class Ctx:
    def __init__(self, args):
        self.shim = os.path.abspath(args.shim)
        self.bindir = os.path.abspath(args.bindir)
        self.sliceleak = args.sliceleak
        self.tmp = tempfile.mkdtemp(prefix='sliceleak-e2e-')

    def prog(self, name):
        return os.path.join(self.bindir, name)

    def run(self, cmd, shim=True, opts='', env=None, stdin=None, timeout=120, cwd=None,
            shell=False, preexec=None):
        """Runs cmd; returns (rc, stdout, stderr, logs). Each run logs into its own dir."""
        logdir = tempfile.mkdtemp(dir=self.tmp)
        e = dict(os.environ)
        e.pop('LD_PRELOAD', None)
        e.pop('SLICELEAK_OPTIONS', None)
        if shim:
            e['LD_PRELOAD'] = self.shim
            o = 'output=' + os.path.join(logdir, '%e.%p.sllog')
            e['SLICELEAK_OPTIONS'] = o + (':' + opts if opts else '')
        if env:
            e.update(env)
        try:
            p = subprocess.run(cmd, env=e, input=stdin, capture_output=True, timeout=timeout,
                               cwd=cwd or logdir, shell=shell, preexec_fn=preexec)
        except subprocess.TimeoutExpired:
            raise Fail('%s %s: still running after %d s (hung?)'
                       % ('under the shim:' if shim else 'plain:', ' '.join(cmd), timeout))
        logs = sorted(os.path.join(logdir, f) for f in os.listdir(logdir)
                      if '.sllog' in f)
        return p.returncode, p.stdout, p.stderr, logs

    def need_reader(self):
        if not self.sliceleak:
            raise SkipTest('no `sliceleak` analyzer in this build: logs cannot be read')

    def dump(self, log, allow_error=False):
        """Returns (records, summary) from `sliceleak dump LOG`."""
        self.need_reader()
        p = subprocess.run([self.sliceleak, 'dump', log], capture_output=True, timeout=120)
        if p.returncode != 0 and not allow_error:
            raise Fail('sliceleak dump %s: exit %d: %s' % (log, p.returncode,
                                                          p.stderr.decode(errors='replace')))
        records, summary = [], {}
        for line in p.stdout.decode(errors='replace').splitlines():
            if line.startswith('#'):
                summary = dict(FIELD.findall(line))
                continue
            parts = line.split(' ', 2)
            if len(parts) < 2:
                continue
            rec = {'offset': int(parts[0]), 'kind': parts[1]}
            if parts[1] == 'SCAN_PTRS' and len(parts) > 2:
                # "count=N 0xLOC=0xVAL ... tid=.. time_ns=..": the pairs, as ints
                rec['pairs'] = [(int(a, 16), int(b, 16)) for a, b in PAIR.findall(parts[2])]
                parts[2] = PAIR.sub('', parts[2])
            for k, v in FIELD.findall(parts[2] if len(parts) > 2 else ''):
                if k == 'kind' and parts[1] == 'SCAN_REGION':
                    k = 'region_kind'  # the record's own kind is 'kind'
                if k in rec:
                    continue  # first occurrence wins (MODULE segments repeat keys)
                rec[k] = v
            records.append(rec)
        check(summary, 'sliceleak dump %s: no summary line' % log)
        return records, summary

    def complete(self, log):
        """A log that parses and ends with END. Returns its records."""
        records, summary = self.dump(log)
        check(summary.get('end') == 'yes' and summary.get('truncated') == 'no',
              '%s: not complete: %s' % (log, summary))
        check(records and records[0]['kind'] == 'PROCESS', '%s: PROCESS is not first' % log)
        check(records[-1]['kind'] == 'END', '%s: END is not last' % log)
        return records


class SkipTest(Exception):
    pass


def num(v):
    return int(v, 0)


def unquote(v):
    return v[1:-1] if v.startswith('"') else v


def replay(records, child=False):
    """Counts ordering anomalies: FREE/REALLOC of a block that is not live,
    ALLOC on a live address. A fork child may free what its parent allocated."""
    live = set()
    bad = []
    for r in records:
        k = r['kind']
        if k == 'ALLOC':
            a = num(r['addr'])
            if a in live:
                bad.append(r)
            live.add(a)
        elif k == 'FREE':
            a = num(r['addr'])
            if a not in live and not child:
                bad.append(r)
            live.discard(a)
        elif k == 'REALLOC':
            o, n = num(r['old_addr']), num(r['new_addr'])
            # format 2.0: flags bit 0, the old block was freed by the FREE just before
            if not num(r.get('flags', '0')) & 1:
                if o not in live and not child:
                    bad.append(r)
                live.discard(o)
            if n in live:
                bad.append(r)
            live.add(n)
    return bad


def analyzer_anomalies(ctx, log):
    """logs[].anomalies from the analyzer's JSON, or None if it cannot say yet."""
    p = subprocess.run([ctx.sliceleak, 'report', '--format', 'json', log],
                       capture_output=True, timeout=120)
    if p.returncode not in (0, 1):
        return None
    try:
        import json
        doc = json.loads(p.stdout)
        total = 0
        for lg in doc.get('logs', []):
            an = lg.get('anomalies')
            if an is None:
                return None
            total += sum(an.values()) if isinstance(an, dict) else int(an)
        return total if doc.get('logs') else None
    except (ValueError, TypeError, AttributeError):
        return None


def stacks_ok(records):
    """Every event's stack id is defined by an earlier STACK record (in the
    order dump prints: the merged order of a 2.x log, whose STACK records
    carry their id; 1.x ids count up from 1)."""
    defined = {0}
    for r in records:
        if r['kind'] == 'STACK':
            check(num(r['parent']) in defined, 'STACK parent defined later')
            sid = num(r['id']) if 'id' in r else len(defined)
            check(sid not in defined, 'stack id %d defined twice' % sid)
            defined.add(sid)
        elif 'stack' in r:
            check(num(r['stack']) in defined, '%s refers to stack %s before it is defined'
                  % (r['kind'], r['stack']))


def same_behaviour(ctx, cmd, **kw):
    """Runs cmd without and with the shim: same stdout and exit status. Returns logs."""
    rc0, out0, _, _ = ctx.run(cmd, shim=False, **kw)
    rc1, out1, err1, logs = ctx.run(cmd, shim=True, **kw)
    check(rc0 == rc1, 'exit status %d without the shim, %d with it; stderr: %s'
          % (rc0, rc1, err1.decode(errors='replace')[-2000:]))
    check(out0 == out1, 'stdout differs under the shim')
    check(logs, 'no log written')
    return logs, err1


def all_complete(ctx, logs):
    out = []
    for log in logs:
        recs = ctx.complete(log)
        stacks_ok(recs)
        out.append(recs)
    return out


# ---- the tests ------------------------------------------------------------

def t_alloc_family(ctx):
    rc, out, err, logs = ctx.run([ctx.prog('alloc_family')])
    check(rc == 0, 'alloc_family exit %d: %s' % (rc, err))
    check(len(logs) == 1, 'one log expected, got %d' % len(logs))
    recs = ctx.complete(logs[0])
    allocs = {(r.get('fn'), num(r['addr'])): r for r in recs if r['kind'] == 'ALLOC'}
    reallocs = [r for r in recs if r['kind'] == 'REALLOC']
    frees = [num(r['addr']) for r in recs if r['kind'] == 'FREE']
    fns = ['malloc', 'calloc', 'realloc', 'reallocarray', 'posix_memalign', 'aligned_alloc',
           'memalign', 'valloc', 'pvalloc']
    seen = set()
    for line in out.decode().splitlines():
        w = line.split()
        if w[0] == 'ALLOC':
            fn = str(fns.index(w[1]))
            r = allocs.get((fn, int(w[2], 16)))
            if r is not None and num(r['size']) != int(w[3]):
                # the address was reused: find the ALLOC with this size
                r = next((x for x in recs if x['kind'] == 'ALLOC' and x['fn'] == fn and
                          num(x['addr']) == int(w[2], 16) and num(x['size']) == int(w[3])), r)
            check(r is not None, 'no ALLOC fn=%s at %s in the log' % (w[1], w[2]))
            check(num(r['size']) == int(w[3]), '%s: size %s, expected %s' % (w[1], r['size'], w[3]))
            check(num(r['align']) == int(w[4]), '%s: align %s, expected %s'
                  % (w[1], r['align'], w[4]))
            check(num(r['stack']) != 0, '%s: empty stack' % w[1])
            seen.add(w[1])
        elif w[0] == 'REALLOC':
            fn = str(fns.index(w[1]))
            match = [r for r in reallocs if r['fn'] == fn and num(r['old_addr']) == int(w[2], 16)
                     and num(r['new_addr']) == int(w[3], 16) and num(r['size']) == int(w[4])]
            check(len(match) == 1, 'no single REALLOC for %s' % line)
        elif w[0] == 'FREE':
            check(int(w[1], 16) in frees, 'no FREE of %s' % w[1])
    check(seen == set(fns), 'functions missing: %s' % (set(fns) - seen))
    check(len(reallocs) == 2, '%d REALLOC records, expected 2' % len(reallocs))
    check(not replay(recs), 'replay anomalies: %s' % replay(recs)[:3])
    stacks_ok(recs)


def t_slice_api(ctx):
    rc, out, err, logs = ctx.run([ctx.prog('slice_api')])
    check(rc == 0, 'slice_api exit %d: %s' % (rc, err))
    recs = ctx.complete(logs[0])
    got = [r for r in recs if r['kind'] in ('SLICE_NEW', 'SLICE_DROP')]
    want = [line.split() for line in out.decode().splitlines()]
    check(len(got) == len(want), '%d slice records, %d calls printed' % (len(got), len(want)))
    allocated = {num(r['addr']) for r in recs if r['kind'] == 'ALLOC'}
    for r, w in zip(got, want):
        kind = 'SLICE_NEW' if w[0] == 'NEW' else 'SLICE_DROP'
        check(r['kind'] == kind, '%s: record %s' % (' '.join(w), r['kind']))
        check(num(r['block']) == int(w[1], 16), '%s: block %s' % (' '.join(w), r['block']))
        check(num(r['ptr']) == int(w[2], 16), '%s: ptr %s' % (' '.join(w), r['ptr']))
        check(num(r['len']) == int(w[3]), '%s: len %s' % (' '.join(w), r['len']))
        check(num(r['block']) in allocated, '%s: block was never allocated' % ' '.join(w))
        if kind == 'SLICE_NEW':
            check(num(r['cap']) == int(w[4]), '%s: cap %s' % (' '.join(w), r['cap']))
            check(num(r['stack']) != 0, '%s: empty stack' % ' '.join(w))
    # the drop before the free: the last release frees `big`; its DROP precedes that FREE
    blk = num(got[-1]['block'])
    drop_at = recs.index(got[-1])
    frees = [i for i, r in enumerate(recs) if r['kind'] == 'FREE' and num(r['addr']) == blk]
    check(frees and frees[-1] > drop_at, 'the last DROP does not precede its block\'s FREE')


def t_annotate(ctx):
    cmd = [ctx.prog('annotate_main')]
    rc, out, err, logs = ctx.run(cmd, shim=False)
    check(rc == 0, 'without the shim: exit %d %s' % (rc, err))
    check(out.decode().splitlines()[0] == 'shim=0 lib=0', 'without the shim: %r' % out[:40])
    check(not logs, 'a log without the shim?')
    # The PIE keeps its weak reference dynamic (GLOB_DAT), so LD_PRELOAD can bind it.
    if shutil.which('readelf'):
        dyn = subprocess.run(['readelf', '--dyn-syms', '-W', cmd[0]], capture_output=True).stdout
        check(re.search(rb'WEAK\s+DEFAULT\s+UND sliceleak_view_acquire', dyn),
              'annotate_main: sliceleak_view_acquire is not a dynamic weak undefined symbol')
        needed = subprocess.run(['readelf', '-d', cmd[0]], capture_output=True).stdout
        check(b'sliceleak' not in needed, 'annotate_main depends on a sliceleak library')
    rc, out, err, logs = ctx.run(cmd)
    check(rc == 0, 'under the shim: exit %d %s' % (rc, err))
    lines = [line.split() for line in out.decode().splitlines()]
    check(lines[0] == ['shim=1', 'lib=1'], 'under the shim: %r' % lines[0])
    recs = ctx.complete(logs[0])
    got = [r for r in recs if r['kind'] in ('VIEW_ACQUIRE', 'VIEW_RELEASE', 'SNAPSHOT')]
    want = lines[1:]
    check(len(got) == len(want), '%d annotation records for %d calls' % (len(got), len(want)))
    for r, w in zip(got, want):
        check(num(r['stack']) != 0, 'empty stack for %s' % w)
        if w[0] in ('ACQUIRE', 'LIBACQUIRE'):
            check(r['kind'] == 'VIEW_ACQUIRE' and num(r['owner']) == int(w[1], 16) and
                  num(r['ptr']) == int(w[2], 16) and num(r['len']) == int(w[3]),
                  'record %s for %s' % (r, w))
        elif w[0] in ('RELEASE', 'LIBRELEASE'):
            check(r['kind'] == 'VIEW_RELEASE' and num(r['owner']) == int(w[1], 16),
                  'record %s for %s' % (r, w))
        else:
            check(r['kind'] == 'SNAPSHOT' and unquote(r['label']) == w[1],
                  'record %s for %s' % (r, w))
            prev = recs[recs.index(r) - 1]
            check(prev['kind'] == 'TIME', 'SNAPSHOT not preceded by TIME')


def t_annotate_header(ctx):
    for exe, shim, want in (('annotate_header', False, b'views=0\n'),
                            ('annotate_header_off', True, b'views=0\n'),
                            ('annotate_header', True, b'views=1\n')):
        rc, out, err, logs = ctx.run([ctx.prog(exe)], shim=shim)
        check(rc == 0 and out == want, '%s (shim=%s): exit %d, %r' % (exe, shim, rc, out))
        if shim:
            recs = ctx.complete(logs[0])
            acq = [r for r in recs if r['kind'] == 'VIEW_ACQUIRE']
            rel = [r for r in recs if r['kind'] == 'VIEW_RELEASE']
            n = 1 if want == b'views=1\n' else 0
            check(len(acq) == n and len(rel) == n, '%s: %d acquire, %d release records'
                  % (exe, len(acq), len(rel)))
            check(not acq or acq[0]['len'] == '64', 'wrong view length')


def threaded(ctx, name):
    logs, _ = same_behaviour(ctx, [ctx.prog(name)])
    recs = all_complete(ctx, logs)[0]
    tids = {r['tid'] for r in recs if r['kind'] in ('ALLOC', 'FREE', 'REALLOC')}
    check(len(tids) >= 2, 'events from %d threads only' % len(tids))
    bad = replay(recs)
    check(not bad, '%d replay anomalies, first: %s' % (len(bad), bad[:2]))
    an = analyzer_anomalies(ctx, logs[0])
    if an is not None:
        check(an == 0, 'the analyzer counts %d anomalies' % an)
    else:
        print('note: the analyzer does not report logs[].anomalies yet; replayed here only')


def t_threads_cross_free(ctx):
    threaded(ctx, 'threads_cross_free')


def t_realloc_race(ctx):
    threaded(ctx, 'realloc_race')


def fork_common(ctx, arg):
    cmd = [ctx.prog('fork_child')] + ([arg] if arg else [])
    logs, _ = same_behaviour(ctx, cmd)
    want = 3 if arg == 'exec' else 2
    check(len(logs) == want, '%d logs, expected %d' % (len(logs), want))
    by_pid = {}
    for log in logs:
        recs = ctx.complete(log)
        by_pid.setdefault(recs[0]['pid'], []).append(recs)
    parent = [r for r in by_pid.values() if any(
        x['kind'] == 'ALLOC' and x['size'] == '12345' for x in r[0])]
    check(len(parent) == 1, 'the ALLOC of 12345 bytes is in %d logs, expected 1' % len(parent))
    ppid = parent[0][0][0]['pid']
    child = [r for pid, r in by_pid.items() if pid != ppid]
    check(len(child) == 1, 'no child log')
    crecs = child[0][0]
    check(crecs[0]['ppid'] == ppid, 'child PROCESS ppid %s, parent %s' % (crecs[0]['ppid'], ppid))
    check(any(x['kind'] == 'ALLOC' and x['size'] == '54321' for x in crecs),
          'child log misses its own ALLOC')
    check(not any(x['kind'] == 'ALLOC' and x['size'] == '12345' for x in crecs),
          'child log repeats the parent\'s buffered ALLOC')
    check(not replay(crecs, child=True), 'child log anomalies')
    if arg == 'exec':
        check(len(child[0]) == 2, 'the exec\'d image has no log of its own')
        exe = [unquote(r[0]['exe']) for r in child[0]]
        check(any(e.endswith('/true') for e in exe), 'no log from /bin/true: %s' % exe)


def t_fork(ctx):
    fork_common(ctx, None)


def t_fork_exec(ctx):
    fork_common(ctx, 'exec')


def t_exec(ctx):
    logs, _ = same_behaviour(ctx, [ctx.prog('exec_self')])
    check(len(logs) == 2, '%d logs, expected 2' % len(logs))
    recs = all_complete(ctx, logs)
    check(recs[0][0]['pid'] == recs[1][0]['pid'], 'exec changed the pid?')
    sizes = [{r['size'] for r in rs if r['kind'] == 'ALLOC'} for rs in recs]
    check(sum('11111' in s for s in sizes) == 1 and sum('22222' in s for s in sizes) == 1,
          'each image\'s ALLOC must be in exactly one log')
    check(not any('11111' in s and '22222' in s for s in sizes), 'both images in one log')



END_MODES = ('execl', 'execlp', 'execle', 'execv', 'execvpe', 'fexecve', 'execveat',
             'quick_exit', '_Exit', 'daemon', 'vfork', 'posix_spawn', 'system')


def process_end(ctx, mode):
    """process_end.c MODE: the first image's log is complete and keeps the
    planted 3 x 4242 bytes, whichever way the image ended; every other
    image's log is complete too."""
    logs, _ = same_behaviour(ctx, [ctx.prog('process_end'), mode])
    recs = all_complete(ctx, logs)
    first = [rs for rs in recs if unquote(rs[0]['exe']).endswith('/process_end') and
             ('\\0%s\\0' % mode) in rs[0].get('cmdline', '')]
    # daemon()'s child has the same command line and starts later (its ppid
    # may already be 1)
    first = sorted(first, key=lambda rs: num(rs[0]['start_ns']))[:1]
    check(len(first) == 1, '%d logs of the first image (of %d logs)' % (len(first), len(logs)))
    rs = first[0]
    planted = [num(r['addr']) for r in rs if r['kind'] == 'ALLOC' and r['size'] == '4242']
    check(len(planted) == 3, '%d of the 3 planted ALLOCs of 4242 bytes in the log'
          % len(planted))
    frees = [num(r['addr']) for r in rs if r['kind'] == 'FREE']
    if mode == 'quick_exit':
        check(planted[2] in frees, 'the at_quick_exit handler\'s FREE is not in the log')
    want = {'execlp': 2, 'daemon': 2, 'quick_exit': 1, '_Exit': 1, 'system': 3}.get(mode, 2)
    check(len(logs) == want, '%d logs, expected %d' % (len(logs), want))


for _m in END_MODES:
    globals()['t_end_' + _m.strip('_').lower()] = (lambda m: lambda ctx: process_end(ctx, m))(_m)

def t_dlopen_loop(ctx):
    plugin = ctx.prog('libdl_plugin.so')
    if not os.path.exists(plugin):
        plugin = ctx.prog('dl_plugin.so')
    logs, _ = same_behaviour(ctx, [ctx.prog('dlopen_loop'), plugin])
    recs = all_complete(ctx, logs)[0]
    resets = sum(r['kind'] == 'MODULES_RESET' for r in recs)
    check(resets >= 2, 'module map written %d times' % resets)
    # Walk the log in order with the map in force: the innermost frame of
    # each 7777-byte ALLOC must lie in the plugin as currently mapped.
    mods, stacks, hits = [], {0: (None, None)}, 0
    real_plugin = os.path.realpath(plugin)
    for r in recs:
        if r['kind'] == 'MODULES_RESET':
            mods = []
        elif r['kind'] == 'MODULE':
            mods.append((unquote(r['path']), num(r['bias'])))
        elif r['kind'] == 'STACK':
            stacks[len(stacks)] = (num(r['parent']), num(r['ip']))
        elif r['kind'] == 'ALLOC' and r['size'] == '7777':
            ip = stacks[num(r['stack'])][1]
            bias = [b for p, b in mods if os.path.realpath(p) == real_plugin]
            check(bias, 'ALLOC from the plugin while the map does not list it')
            check(0 < ip - bias[0] < 1 << 20, 'innermost frame not in the plugin')
            hits += 1
    check(hits == 50, '%d plugin ALLOCs, expected 50' % hits)


def killed_log(ctx, args):
    """Runs sigkill_loop ARGS until it says ready, SIGKILLs it, dumps its log."""
    logdir = tempfile.mkdtemp(dir=ctx.tmp)
    env = dict(os.environ, LD_PRELOAD=ctx.shim,
               SLICELEAK_OPTIONS='output=' + os.path.join(logdir, 'k.%p.sllog'))
    p = subprocess.Popen([ctx.prog('sigkill_loop')] + args, env=env, stdout=subprocess.PIPE)
    line = p.stdout.readline()
    check(line == b'ready\n', 'no ready line')
    time.sleep(0.1)
    p.send_signal(signal.SIGKILL)
    p.wait()
    logs = os.listdir(logdir)
    check(len(logs) == 1, 'logs: %s' % logs)
    recs, summary = ctx.dump(os.path.join(logdir, logs[0]))
    check(summary.get('end') == 'no' and summary.get('truncated') == 'yes',
          'a killed process must leave a truncated log: %s' % summary)
    return recs


def t_sigkill(ctx):
    recs = killed_log(ctx, [])
    check(len(recs) > 100000, 'only %d records before the kill' % len(recs))
    check(not replay(recs), 'anomalies in the flushed part')


def t_sigkill_soak(ctx):
    """sigkill_threads SIGKILLed at 50 random moments (SOAK_SEED repeats a run): every
    truncated log must replay with no anomaly and no more live blocks than can exist,
    SLOTS of the table plus libc's own (stdio's buffer, a few per thread)."""
    ctx.need_reader()
    seed = int(os.environ.get('SOAK_SEED', '0')) or int(time.time())
    rnd = random.Random(seed)
    slots, threads = 512, 16
    cuts = most = 0
    for run in range(50):
        logdir = tempfile.mkdtemp(dir=ctx.tmp)
        env = dict(os.environ, LD_PRELOAD=ctx.shim,
                   SLICELEAK_OPTIONS='output=' + os.path.join(logdir, 'k.%p.sllog'))
        p = subprocess.Popen([ctx.prog('sigkill_threads')], env=env, stdout=subprocess.DEVNULL)
        # the moments are counted from the log's creation: a process killed before the
        # shim's constructor ran has no log to read
        deadline = time.time() + 30
        while not os.listdir(logdir) and time.time() < deadline and p.poll() is None:
            time.sleep(0.001)
        time.sleep(rnd.uniform(0.0, 0.6))
        p.send_signal(signal.SIGKILL)
        p.wait()
        logs = os.listdir(logdir)
        check(len(logs) == 1, 'run %d (seed %d): logs: %s' % (run, seed, logs))
        log = os.path.join(logdir, logs[0])
        r = subprocess.run([ctx.sliceleak, 'report', '--format', 'json', '--no-symbols', log],
                           capture_output=True, timeout=120)
        check(r.returncode == 0, 'run %d (seed %d): report exit %d: %s' %
              (run, seed, r.returncode, r.stderr.decode(errors='replace')))
        rep = json.loads(r.stdout)
        li = rep['logs'][0]
        what = 'run %d (seed %d, killed at %s)' % (run, seed, li.get('duration_seconds'))
        check(li['truncated'], what + ': a killed process must leave a truncated log')
        check(not li['anomalies'], what + ': anomalies %s' % li['anomalies'])
        live = rep['leaks']['blocks']
        check(live <= slots + 4 * threads + 16, what + ': %d blocks live at the cut, at most '
              '%d can be' % (live, slots + 4 * threads + 16))
        cuts += 'cut_seq' in li
        most = max(most, li['records'])
        shutil.rmtree(logdir)
    print('50 kills (seed %d): no anomaly, no impossible live count; %d logs cut, at most %d '
          'records analysed' % (seed, cuts, most))
    # the cut must not be a trivial one that leaves nothing to analyse
    check(most > 1000, 'no kill left more than %d records to analyse' % most)


def t_sigkill_quiet_thread(ctx):
    """sigkill_threads quiet: the idle main thread's 100 ALLOCs of 777 bytes, made before its
    workers started, are in the log below its cut although flush_ms never passed."""
    ctx.need_reader()
    logdir = tempfile.mkdtemp(dir=ctx.tmp)
    env = dict(os.environ, LD_PRELOAD=ctx.shim,
               SLICELEAK_OPTIONS='output=' + os.path.join(logdir, 'q.%p.sllog'))
    p = subprocess.Popen([ctx.prog('sigkill_threads'), 'quiet'], env=env, stdout=subprocess.PIPE)
    check(p.stdout.readline() == b'ready\n', 'no ready line')
    p.send_signal(signal.SIGKILL)
    p.wait()
    logs = os.listdir(logdir)
    check(len(logs) == 1, 'logs: %s' % logs)
    recs, summary = ctx.dump(os.path.join(logdir, logs[0]))
    check(summary.get('truncated') == 'yes', 'not truncated: %s' % summary)
    main_tid = recs[0]['pid']  # the main thread's tid is the pid
    n = sum(r['kind'] == 'ALLOC' and r['size'] == '777' and r['tid'] == main_tid for r in recs)
    check(n == 100, '%d of the quiet thread\'s 100 ALLOCs are in the log (%s)' % (n, summary))
    check(not replay(recs), 'anomalies below the cut')


def t_dl_iterate_malloc(ctx):
    plugin = ctx.prog('libdl_plugin.so')
    logs, _ = same_behaviour(ctx, [ctx.prog('dl_iterate_malloc'), plugin], timeout=60)
    recs = all_complete(ctx, logs)[0]
    check(sum(r['kind'] == 'MODULES_RESET' for r in recs) >= 2, 'module map never rewritten')


def t_sigkill_idle(ctx):
    recs = killed_log(ctx, ['slow'])
    n = sum(r['kind'] == 'ALLOC' and r['size'] == '777' for r in recs)
    check(n == 100, '%d of the 100 ALLOCs made 1.5 s before the kill are on disk' % n)


def t_close_fds(ctx):
    out = os.path.join(ctx.tmp, 'closefds.txt')
    rc, _, _, logs = ctx.run([ctx.prog('close_fds'), out])
    check(rc == 0, 'close_fds exit %d (3: fd, 6/7: the file holds foreign bytes)' % rc)
    check(len(logs) == 1, 'logs: %s' % logs)
    recs = all_complete(ctx, logs)[0]
    big = sum(r['kind'] == 'ALLOC' and r['size'] == '99999' for r in recs)
    check(big == 2, '%d of the 2 marker ALLOCs around closefrom() in the log' % big)


def t_close_fds_gone(ctx):
    out = os.path.join(ctx.tmp, 'closefds-gone.txt')
    rc, _, _, logs = ctx.run([ctx.prog('close_fds'), out, 'gone'])
    check(rc == 0, 'close_fds gone: exit %d (6/7: the file holds foreign bytes)' % rc)
    check(not logs, 'the program deleted the log, yet one is there: %s' % logs)


def t_fork_threads(ctx):
    logs, _ = same_behaviour(ctx, [ctx.prog('fork_threads')], timeout=120)
    recs = all_complete(ctx, logs)
    check(len(recs) == 31, '%d logs, expected the parent and 30 children' % len(recs))
    children = [rs for rs in recs if any(r['kind'] == 'ALLOC' and r['size'] == '4321'
                                         for r in rs)]
    check(len(children) == 30, '%d child logs hold the child ALLOC' % len(children))
    for rs in recs:
        check(not replay(rs, child=rs in children), 'anomalies in pid %s' % rs[0]['pid'])


def t_fork_dliterate(ctx):
    logs, _ = same_behaviour(ctx, [ctx.prog('fork_dliterate')], timeout=120)
    recs = all_complete(ctx, logs)
    check(len(recs) == 11, '%d logs, expected the parent and 10 children' % len(recs))


def t_signal_malloc(ctx):
    logs, _ = same_behaviour(ctx, [ctx.prog('signal_malloc')], timeout=60)
    recs = all_complete(ctx, logs)[0]
    check(sum(r['kind'] == 'ALLOC' for r in recs) > 1000, 'too few events')


def t_signal_exit(ctx):
    cmd = [ctx.prog('signal_malloc'), 'exit']
    rc0, out0, _, _ = ctx.run(cmd, shim=False, timeout=60)
    rc1, out1, err1, logs = ctx.run(cmd, timeout=60)
    check(rc0 == rc1 == 3 and out0 == out1, 'exit %d/%d: %s' % (rc0, rc1, err1[-500:]))
    check(len(logs) == 1, 'logs: %s' % logs)
    recs, summary = ctx.dump(logs[0])
    check(not replay(recs), 'anomalies in the log')


def t_fd_hygiene(ctx):
    logs, _ = same_behaviour(ctx, [ctx.prog('fd_hygiene')], timeout=60)
    for log in logs:
        ctx.dump(log)  # every log reads (the fork child's ends at its exec)
    check(len(logs) >= 2, 'the image started with fds 0-2 closed has no log: %s' % logs)


def t_fsize_limit(ctx):
    import resource
    limit = 256 * 1024

    def lower():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    for arg in ([], ['handler']):
        cmd = [ctx.prog('fsize_limit')] + arg
        rc0, out0, _, _ = ctx.run(cmd, shim=False, preexec=lower)
        rc1, out1, err1, logs = ctx.run(cmd, preexec=lower)
        what = ' '.join(['fsize_limit'] + arg)
        check(rc0 == 0 and rc1 == rc0 and out1 == out0, '%s: exit %d (plain %d), %r (plain %r)'
              % (what, rc1, rc0, out1, out0))
        warn = [w for w in err1.splitlines() if b'RLIMIT_FSIZE' in w]
        check(len(warn) == 1, '%s: %d warnings about the limit, expected one: %r'
              % (what, len(warn), err1[-1000:]))
        check(len(logs) == 1 and os.path.getsize(logs[0]) <= limit, '%s: logs %s' % (what, logs))
        recs, summary = ctx.dump(logs[0])
        check(summary.get('truncated') == 'yes' and len(recs) > 1000,
              '%s: the log is not a readable cut log: %s' % (what, summary))


def t_cancel_async(ctx):
    logs, _ = same_behaviour(ctx, [ctx.prog('cancel_async')], timeout=60)
    all_complete(ctx, logs)


def t_exit_realloc(ctx):
    for k in range(10):
        rc, out, err, logs = ctx.run([ctx.prog('exit_realloc')], opts='quiet=1', timeout=60)
        check(rc == 0 and out == b'exiting\n', 'run %d: exit %d, %r' % (k, rc, err[-500:]))
        recs = ctx.complete(logs[0])
        bad = replay(recs)
        check(not bad, 'run %d: %d replay anomalies, first %s' % (k, len(bad), bad[:2]))
        an = analyzer_anomalies(ctx, logs[0])
        check(an in (None, 0), 'run %d: the analyzer counts %s anomalies' % (k, an))


def t_signal_free(ctx):
    logs, _ = same_behaviour(ctx, [ctx.prog('signal_free')], timeout=120)
    recs = all_complete(ctx, logs)[0]
    live, allocs, frees = set(), 0, 0
    for r in recs:
        if r['kind'] == 'ALLOC' and r['size'] == '4321':
            live.add(num(r['addr']))
            allocs += 1
        elif r['kind'] == 'FREE' and num(r['addr']) in live:
            live.discard(num(r['addr']))
            frees += 1
    check(allocs == 1000, '%d of the 1000 ALLOCs of 4321 bytes in the log' % allocs)
    check(not live, '%d of the 1000 frees made in the signal handler are missing' % len(live))
    bad = replay(recs)
    check(not bad, '%d replay anomalies, first %s' % (len(bad), bad[:2]))
    an = analyzer_anomalies(ctx, logs[0])
    check(an in (None, 0), 'the analyzer counts %s anomalies' % an)


def t_early_calloc(ctx):
    rc, out, err, logs = ctx.run([ctx.prog('early_calloc')])
    check(rc == 0, 'exit %d %s' % (rc, err))
    w = out.decode().split()
    recs = ctx.complete(logs[0])
    check(any(r['kind'] == 'ALLOC' and r['fn'] == '1' and num(r['addr']) == int(w[1], 16) and
              r['size'] == w[2] for r in recs), 'the constructor\'s calloc is not in the log')


def report_json(ctx, logs, *opts):
    """`sliceleak report --format json` of logs, parsed."""
    ctx.need_reader()
    p = subprocess.run([ctx.sliceleak, 'report', '--format', 'json', '--top', '0'] + list(opts)
                       + logs, capture_output=True, timeout=120)
    check(p.returncode == 0, 'sliceleak report: exit %d: %s' % (p.returncode, p.stderr.decode()))
    return json.loads(p.stdout)


def t_arena_top(ctx):
    # memcheck's and LeakSanitizer's count: glibc's arena state is no reference.
    # main_arena.top (libc's data) must never keep main's last block, nor a
    # thread arena's state the thread's.
    for opt in ('O0', 'O2'):
        logs, _ = same_behaviour(ctx, [ctx.prog('arena_top_' + opt)])
        all_complete(ctx, logs)
        leaks = report_json(ctx, logs, '--no-default-suppressions')['leaks']
        def leaked(fn, caller):
            return sum(g['leaked_blocks'] for g in leaks['groups']
                       if [f['function'] for f in g['stack'][:2]] == [fn, caller])
        got = (leaked('leak_list', 'main'), leaked('leak_one', 'main'),
               leaked('leak_one', 'thread_main'), leaks['direct_blocks'],
               leaks['indirect_blocks'])
        check(got == (10, 1, 1, 3, 9), '%s: main\'s list, main\'s last block, the thread\'s '
              'block, direct, indirect: %s, want (10, 1, 1, 3, 9)' % (opt, got))


def gate(ctx, logs, *opts):
    """`sliceleak check` of logs: (exit code, stdout)."""
    ctx.need_reader()
    p = subprocess.run([ctx.sliceleak, 'check', '--max-retained', '0'] + list(opts) + logs,
                       capture_output=True, timeout=120)
    return p.returncode, p.stdout.decode(errors='replace')


SQL = b'create table t(a, b); insert into t values (1, randomblob(5000));\n' \
      b'insert into t select a + 1, b from t; select count(*), sum(length(b)) from t;\n'


def t_runtime_noise(ctx):
    # Clean programs of three runtimes pass the strictest gate with the default
    # suppressions, which hide only the runtime's memory, and say what they hid.
    progs = [('cpp', [ctx.prog('cpp_program')], None)]
    if os.path.exists(ctx.prog('glib_program')):
        progs.append(('glib', [ctx.prog('glib_program')], None))
    sqlite3 = shutil.which('sqlite3')
    if sqlite3:
        progs.append(('sqlite3', [sqlite3, ':memory:'], SQL))
    if len(progs) < 3:
        print('NOTE: runtime-noise without %s (not installed)'
              % ' and '.join(n for n in ('glib', 'sqlite3') if n not in dict(
                  (p[0], 1) for p in progs)))
    for name, cmd, stdin in progs:
        logs, _ = same_behaviour(ctx, cmd, stdin=stdin)
        all_complete(ctx, logs)
        rc, out = gate(ctx, logs, '--max-leaked', '0', '--max-referenced', '0')
        check(rc == 0, '%s: check --max-leaked 0 --max-referenced 0: exit %d:\n%s'
              % (name, rc, out))
        hid = re.search(r'^Default suppressions hid (.*) live at exit \((.*) of it leaked\) '
                        r'in (\d+) stacks?', out, re.M)
        check(hid and int(hid.group(3)) > 0, '%s: no line says what the defaults hid:\n%s'
              % (name, out))
        print('%s: %s' % (name, hid.group(0)))
        # without them the runtime's memory shows, still referenced and not leaked
        rc, out = gate(ctx, logs, '--no-default-suppressions', '--max-leaked', '0',
                       '--max-referenced', '0')
        check(rc == 1 and re.search(r'^sliceleak check: FAILED: .*, 0 B leaked \(limit 0 B\), '
                                    r'[1-9][0-9.]* [KM]?i?B still referenced', out, re.M),
              '%s: --no-default-suppressions: exit %d:\n%s' % (name, rc, out))
        leaks = report_json(ctx, logs, '--no-default-suppressions')['leaks']
        check(leaks['leaked_bytes'] == 0 and leaks['referenced_bytes'] > 0,
              '%s: runtime memory leaked %d, referenced %d' % (
                  name, leaks['leaked_bytes'], leaks['referenced_bytes']))
        supp = report_json(ctx, logs)['suppressions']
        check(supp and all(x['default'] for x in supp)
              and sum(x['bytes'] for x in supp) == leaks['referenced_bytes'],
              '%s: the defaults hid %s, not the %d bytes still referenced' % (
                  name, supp, leaks['referenced_bytes']))


def sliceleak_run(ctx, args, cwd, stdin=None):
    """`sliceleak run ARGS` in cwd, as a user runs it: (exit code, stdout, stderr)."""
    ctx.need_reader()
    e = dict(os.environ)
    e.pop('LD_PRELOAD', None)
    e.pop('SLICELEAK_OPTIONS', None)
    p = subprocess.run([os.path.abspath(ctx.sliceleak), 'run'] + args, cwd=cwd, env=e,
                       capture_output=True,
                       timeout=180, input=stdin)
    return p.returncode, p.stdout.decode(errors='replace'), p.stderr.decode(errors='replace')


def t_run_wrapper(ctx):
    # `sliceleak run` reports exactly the logs of the processes it started,
    # through wrappers, exec chains that reuse a log name, and old logs.
    prog = ctx.prog('alloc_family')
    work = tempfile.mkdtemp(dir=ctx.tmp)
    wrapper = os.path.join(work, 'wrapper.sh')
    with open(wrapper, 'w') as f:
        f.write('#!/bin/sh\n# a launcher as pyenv writes them, changing directory\n'
                'cd / && exec timeout 120 env WRAPPED=1 "%s" "$@" >/dev/null\n' % prog)
    os.chmod(wrapper, 0o755)
    pattern = ['-o', '%e.%p.sllog', '--format', 'json']

    # an old log that matches every name pattern must never be reported
    rc, out, err = sliceleak_run(ctx, pattern + ['--', wrapper], work)
    check(rc == 0, 'run of the wrapper: exit %d: %s' % (rc, err))
    first = {l['path'] for l in json.loads(out)['logs']}
    check(all(os.path.dirname(p) == os.path.realpath(work) for p in first),
          'logs outside the directory of the run (-o is relative to it): %s' % sorted(first))
    exes = sorted(os.path.basename(l['exe']) for l in json.loads(out)['logs'])
    # sh, timeout and its forked child (which execs env), env, the program
    check([e for e in exes if e not in ('dash', 'bash')] ==
          ['alloc_family', 'env', 'timeout', 'timeout'] and len(exes) == 5,
          'untrimmed run: logs of %s' % exes)
    rc, out, err = sliceleak_run(ctx, pattern + ['--', wrapper], work)
    second = {l['path'] for l in json.loads(out)['logs']}
    check(len(second) == 5 and not second & first, 'second run reported %s (first: %s)'
          % (sorted(second), sorted(first)))

    # --trace: only the program's log; the wrappers named on stderr as not traced
    rc, out, err = sliceleak_run(ctx, pattern + ['--trace', 'alloc_*', '--', wrapper], work)
    logs = json.loads(out)['logs']
    check(rc == 0 and [os.path.basename(l['exe']) for l in logs] == ['alloc_family'],
          '--trace alloc_*: logs %s' % [l['exe'] for l in logs])
    check(all(l['path'] not in first | second for l in logs), '--trace: an old log reported')
    nt = re.search(r'^sliceleak run: not traced \(--trace alloc_\*\): (.*)$', err, re.M)
    check(nt and all(w in nt.group(1) for w in ('timeout (pid', 'env (pid')),
          '--trace: stderr does not name the wrappers: %s' % err)

    # an exec that keeps the pid and the executable's name: name.sllog.1 is reported too
    chain = 'exec sh -c "exec sh -c \'exec %s >/dev/null\'"' % prog
    rc, out, err = sliceleak_run(ctx, pattern + ['--', 'sh', '-c', chain], work)
    paths = [l['path'] for l in json.loads(out)['logs']]
    check(rc == 0 and len(paths) == 4 and any(p.endswith('.sllog.1') for p in paths)
          and any(p.endswith('.sllog.2') for p in paths), 'exec chain: logs %s' % paths)

    # the report is on stdout, text or JSON; nothing of it on stderr
    rc, out, err = sliceleak_run(ctx, ['-o', '%e.%p.sllog', '--trace', 'alloc_family', '--',
                                      wrapper], work)
    check(out.rstrip().splitlines()[-1].startswith('SUMMARY: sliceleak: '),
          'text report not on stdout: %r' % out[-300:])
    check('SUMMARY' not in err and '== Leaks' not in err, 'report on stderr: %s' % err[-500:])

    # a command that cannot start: no log at all, old ones included
    rc, out, err = sliceleak_run(ctx, ['--', '/nonexistent/cmd'], work)
    check(rc == 127 and 'did not start: no log' in err and not out.strip(),
          'run of a missing command: exit %d, stdout %r, stderr %r' % (rc, out, err))


def t_cpp_names(ctx):
    # C++ frames: template arguments elided in text (heaptrack's way), whole
    # with --full-names and in JSON
    logs, _ = same_behaviour(ctx, [ctx.prog('cpp_program')])
    def text(*opts):
        p = subprocess.run([ctx.sliceleak, 'report', '--top', '0', '--no-default-suppressions']
                           + list(opts) + logs, capture_output=True, timeout=120)
        check(p.returncode == 0, 'report %s: exit %d' % (opts, p.returncode))
        return [l for l in p.stdout.decode(errors='replace').splitlines()
                if re.match(r'\s+#\d+ ', l)]
    short, full = text(), text('--full-names')
    check(len(short) == len(full), 'elision changed the frames')
    longest = max(len(l) for l in short)
    check(any('<...>' in l for l in short), 'no elided template in the text report')
    check(all('<...>' not in l for l in full), '--full-names still elides')
    check(any(re.search(r'<[^.>][^>]*>', l) for l in full), '--full-names shows no template')
    check(longest < max(len(l) for l in full) and longest <= 300,
          'longest elided frame line %d characters' % longest)
    names = [f['function'] for g in report_json(ctx, logs, '--no-default-suppressions')
             ['hotspots'] for f in g['stack'] if f['function']]
    check(any(re.search(r'<[^.>][^>]*>', n) for n in names), 'JSON names are not whole')


def t_static(ctx):
    cmd = [ctx.prog('static_hello')]
    rc0, out0, _, _ = ctx.run(cmd, shim=False)
    rc1, out1, _, logs = ctx.run(cmd, timeout=30)
    check(rc0 == rc1 == 0 and out0 == out1, 'static program behaves differently')
    check(not logs, 'a statically linked program cannot be traced, yet a log appeared')


def t_cpp(ctx):
    logs, _ = same_behaviour(ctx, [ctx.prog('cpp_program')])
    recs = all_complete(ctx, logs)[0]
    check(sum(r['kind'] == 'ALLOC' for r in recs) > 20000, 'operator new not seen')



def allocator_lib(name):
    """The path of a Debian allocator library (jemalloc, tcmalloc), or SkipTest."""
    import glob
    pats = {'jemalloc': 'libjemalloc.so.2', 'tcmalloc': 'libtcmalloc_minimal.so.4'}
    for d in ('/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/lib/*-linux-gnu'):
        hits = glob.glob(os.path.join(d, pats[name]))
        if hits:
            return hits[0]
    raise SkipTest('%s not installed (scripts/install-deps.sh)' % pats[name])


FN_NEW, FN_NEW_ARRAY = 9, 10


def cxx_allocators(ctx, alloc):
    """cxx_allocators.cpp under the shim, alone or with an allocator that
    defines operator new preloaded after it: every new and delete is in the log."""
    n = 10000
    cmd = [ctx.prog('cxx_allocators'), str(n)]
    env = None
    if alloc:
        lib = allocator_lib(alloc)
        env = {'LD_PRELOAD': ctx.shim + ':' + lib}
        # the allocator alone (no shim) must run the program too
        rc0, out0, _, _ = ctx.run(cmd, shim=False, env={'LD_PRELOAD': lib})
    else:
        rc0, out0, _, _ = ctx.run(cmd, shim=False)
    rc, out, err, logs = ctx.run(cmd, env=env)
    strip = re.compile(rb'0x[0-9a-f]+')
    check(rc0 == rc == 0, 'exit %d without the shim, %d with it: %s' % (rc0, rc, err[-500:]))
    check(strip.sub(b'', out0) == strip.sub(b'', out), 'output differs under the shim')
    recs = ctx.complete(logs[0])
    allocs = {}
    for r in recs:
        if r['kind'] == 'ALLOC':
            allocs.setdefault(num(r['addr']), []).append(r)
    frees = {num(r['addr']) for r in recs if r['kind'] == 'FREE'}
    for w in (line.split() for line in out.decode().splitlines()):
        if w[0] == 'NEW':
            addr, size, align, array = int(w[1], 16), int(w[2]), int(w[3]), int(w[4])
            fn = FN_NEW_ARRAY if array else FN_NEW
            got = [r for r in allocs.get(addr, []) if num(r['size']) == size]
            check(got, 'no ALLOC of %d bytes at %#x (operator new%s, align %d)'
                  % (size, addr, '[]' if array else '', align))
            # an allocator's operator new may serve a form through our malloc
            # family (jemalloc's aligned new calls aligned_alloc): recorded once,
            # with that entry point
            fns = (fn,) if not alloc else (fn, 0, 4, 5, 6)
            check(num(got[0]['fn']) in fns and num(got[0]['align']) == align,
                  'ALLOC at %#x: fn %s align %s, expected fn %d align %d'
                  % (addr, got[0]['fn'], got[0]['align'], fn, align))
            check(num(got[0]['stack']) != 0, 'ALLOC at %#x: empty stack' % addr)
        elif w[0] == 'DEL':
            check(int(w[1], 16) in frees, 'no FREE of %s' % w[1])
        elif w[0] == 'leak':
            for a in w[1:]:
                check(any(r['size'] == '4242' and num(r['fn']) == FN_NEW_ARRAY
                          for r in allocs.get(int(a, 16), [])), 'leaked new[] %s not in the log' % a)
    check(b'\nbad_alloc\n' in out, 'new[] of 2^62 bytes did not throw bad_alloc under the shim')
    fns = (FN_NEW, FN_NEW_ARRAY) if not alloc else (FN_NEW, FN_NEW_ARRAY, 0, 4, 5, 6)
    news = sum(1 for rs in allocs.values() for r in rs if num(r['fn']) in fns)
    check(news >= n + 13, '%d operator new ALLOCs recorded, expected at least %d' % (news, n + 13))
    bad = replay(recs)
    check(not bad, '%d replay anomalies, first: %s' % (len(bad), bad[:2]))


def t_cxx_allocators(ctx):
    cxx_allocators(ctx, None)


def t_cxx_jemalloc(ctx):
    cxx_allocators(ctx, 'jemalloc')


def t_cxx_tcmalloc(ctx):
    cxx_allocators(ctx, 'tcmalloc')


def t_cxx_plugin_local(ctx):
    """A C program dlopens a C++ plugin RTLD_LOCAL 50 times: libstdc++ is
    loaded outside the global scope (and may be unloaded with the plugin)."""
    plugin = ctx.prog('libcxx_plugin.so')
    logs, _ = same_behaviour(ctx, [ctx.prog('dlopen_loop'), plugin])
    recs = all_complete(ctx, logs)[0]
    news = [r for r in recs if r['kind'] == 'ALLOC' and num(r['fn']) in (FN_NEW, FN_NEW_ARRAY)]
    check(len(news) >= 50 * 20, '%d operator new ALLOCs from the plugin, expected >= 1000'
          % len(news))
    bad = replay(recs)
    check(not bad, '%d replay anomalies, first: %s' % (len(bad), bad[:2]))


def t_allocator_first(ctx):
    """jemalloc listed BEFORE the shim in LD_PRELOAD: the program's malloc is
    jemalloc's and nothing reaches us. The shim must say so, and the report."""
    lib = allocator_lib('jemalloc')
    cmd = [ctx.prog('cxx_allocators'), '1000']
    rc, out, err, logs = ctx.run(cmd, env={'LD_PRELOAD': lib + ':' + ctx.shim})
    check(rc == 0 and b'loop 1000' in out, 'exit %d: %r' % (rc, err[-500:]))
    check(b"not sliceleak's" in err and lib.encode() in err,
          'no warning that malloc is %s\'s: %r' % (lib, err[-500:]))
    recs = ctx.complete(logs[0])
    check(recs[0].get('interposer', '""') != '""' and
          os.path.realpath(unquote(recs[0]['interposer'])) == os.path.realpath(lib),
          'PROCESS does not name the allocator: %r' % recs[0].get('interposer'))
    import json
    p = subprocess.run([ctx.sliceleak, 'report', '--format', 'json', logs[0]],
                       capture_output=True, timeout=120)
    doc = json.loads(p.stdout)
    check(doc['logs'][0].get('malloc_interposer') is not None, 'JSON: no malloc_interposer')
    p = subprocess.run([ctx.sliceleak, 'report', logs[0]], capture_output=True, timeout=120)
    check(b"not sliceleak's" in p.stdout, 'the text report does not warn: %r' % p.stdout[-800:])
    # and with the shim first, no warning
    rc, out, err, logs = ctx.run(cmd, env={'LD_PRELOAD': ctx.shim + ':' + lib})
    check(rc == 0 and b"not sliceleak's" not in err, 'a warning with the shim first: %r' % err)


def t_go_cgo(ctx):
    """A Go program with cgo exits through a raw exit_group: its log cannot
    be finished. It must say it is a Go program, and the report why."""
    go = shutil.which('go')
    if not go:
        raise SkipTest('go not installed (scripts/install-deps.sh installs golang-go)')
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'go_cgo')
    exe = os.path.join(ctx.tmp, 'go_cgo')
    cache = os.path.join(ctx.bindir, 'go-cache')
    env = dict(os.environ, GOCACHE=cache, GOPATH=os.path.join(cache, 'path'), CGO_ENABLED='1',
               GOFLAGS='-mod=mod', GO111MODULE='off', HOME=ctx.tmp)
    env.pop('LD_PRELOAD', None)
    p = subprocess.run([go, 'build', '-o', exe, '.'], cwd=src, env=env, capture_output=True,
                       timeout=170)
    if p.returncode != 0:
        raise SkipTest('go build failed: %s' % p.stderr.decode(errors='replace')[-500:])
    logs, err = same_behaviour(ctx, [exe])
    recs, summary = ctx.dump(logs[0])
    check(summary.get('end') == 'no', 'a Go program\'s log has END? %s' % summary)
    check(num(recs[0].get('flags', '0')) & 1, 'PROCESS does not flag a Go program: %s' % recs[0])
    import json
    p = subprocess.run([ctx.sliceleak, 'report', '--format', 'json', logs[0]],
                       capture_output=True, timeout=120)
    check(json.loads(p.stdout)['logs'][0].get('go') is True, 'JSON: go is not true')
    p = subprocess.run([ctx.sliceleak, 'report', logs[0]], capture_output=True, timeout=120)
    check(b'a Go program exits through a raw exit_group' in p.stdout,
          'the report does not say why the log is truncated: %r' % p.stdout[-800:])


def t_dlmopen(ctx):
    """A plugin in a new link-map namespace: the program runs unchanged and
    its log is complete; the namespace's allocations are out of reach (its
    own libc, no LD_PRELOAD objects), as preload/README.md says."""
    logs, _ = same_behaviour(ctx, [ctx.prog('dlmopen_ns'), ctx.prog('libdl_plugin.so')])
    recs = all_complete(ctx, logs)[0]
    seen = sum(r['kind'] == 'ALLOC' and r['size'] == '7777' for r in recs)
    print('note: %d of the 20 allocations made inside the namespace are in the log' % seen)

def real(ctx, cmd, **kw):
    exe = shutil.which(cmd[0]) if not kw.get('shell') else '/bin/sh'
    if not exe:
        raise SkipTest('%s not installed' % cmd[0])
    logs, _ = same_behaviour(ctx, cmd, **kw)
    recs = all_complete(ctx, logs)
    events = sum(sum(r['kind'] in ('ALLOC', 'FREE', 'REALLOC') for r in rs) for rs in recs)
    check(events > 0, 'no events')
    return recs


PY = r'''
import json, re, collections, hashlib
words = [hashlib.sha1(str(i).encode()).hexdigest()[: 3 + i % 9] for i in range(60000)]
c = collections.Counter(w[:2] for w in words)
doc = json.dumps({"words": sorted(words)[:50], "top": c.most_common(5)})
print(len(doc), len(re.findall(r"[a-f]{3}", " ".join(words))), json.loads(doc)["top"][0][1])
'''


def t_python3(ctx):
    recs = real(ctx, ['/usr/bin/python3', '-c', PY])
    # Debian's python3 is not PIE: its canonical PLT entry for malloc, which
    # dlsym returns, is no other allocator
    check(all(rs[0].get('interposer', '""') == '""' for rs in recs),
          'an interposer named: %r' % [rs[0].get('interposer') for rs in recs])


def t_perl(ctx):
    real(ctx, ['perl', '-e', 'my %h; $h{$_ % 1000} .= "x$_" for 1..200000; '
               'my @k = sort { length($h{$a}) <=> length($h{$b}) } keys %h; '
               'print scalar(@k), " ", length($h{$k[-1]}), "\n";'])


def t_git(ctx):
    if not shutil.which('git'):
        raise SkipTest('git not installed')
    repo = tempfile.mkdtemp(dir=ctx.tmp)
    script = ('set -e; git init -q .; echo hello > a.txt; git add a.txt; '
              'git -c user.name=t -c user.email=t@e commit -q -m first; '
              'git log --format=%s; git --version')
    # Two fresh repos: with and without the shim, the same commands.
    rc0, out0, _, _ = ctx.run(['sh', '-c', script], shim=False, cwd=repo)
    repo2 = tempfile.mkdtemp(dir=ctx.tmp)
    rc1, out1, err1, _ = ctx.run(['sh', '-c', script], cwd=repo2)
    check(rc0 == rc1 == 0, 'git: exit %d/%d %s' % (rc0, rc1, err1[-1000:]))
    check(out0 == out1, 'git output differs')
    # logs went to the run's own log dir; find them via the stderr lines
    paths = re.findall(rb'records in (\S+);', err1)
    check(paths, 'no exit lines from the shim')
    for pth in paths:
        ctx.complete(pth.decode())


def t_sort(ctx):
    data = ''.join('%08x line %d\n' % ((i * 2654435761) % (1 << 32), i)
                   for i in range(200000)).encode()
    real(ctx, ['sort'], stdin=data)


def t_pipeline(ctx):
    recs = real(ctx, 'seq 1 50000 | awk \'{ s += $1; print $1 % 97 }\' | sort -n | uniq -c '
                '| sort -rn | head -3', shell=True)
    check(len(recs) >= 4, 'expected a log per process of the pipeline, got %d' % len(recs))


def t_log_uncreatable(ctx):
    cmd = [ctx.prog('alloc_family')]
    rc0, out0, _, _ = ctx.run(cmd, shim=False)
    rc1, out1, err1, _ = ctx.run(cmd, opts='', env={
        'SLICELEAK_OPTIONS': 'output=/nonexistent/dir/x.sllog'})
    check(rc0 == rc1 == 0, 'exit %d/%d' % (rc0, rc1))
    check(err1.count(b'sliceleak:') == 1 and b'cannot create' in err1,
          'expected exactly one warning, got %r' % err1)
    # the addresses differ between runs; the shape must not
    check(len(out0.splitlines()) == len(out1.splitlines()), 'output differs')


def t_disk_full(ctx):
    # A 256 KiB file size limit with SIGXFSZ ignored: the shim's write fails
    # with EFBIG mid-run, it warns once and the program goes on unchanged.
    cmd = 'trap "" XFSZ; ulimit -f 256; exec "$0" 3000000'
    rc0, out0, _, _ = ctx.run(['sh', '-c', cmd, ctx.prog('alloc_bench')], shim=False)
    rc1, out1, err1, logs = ctx.run(['sh', '-c', cmd, ctx.prog('alloc_bench')])
    check(rc0 == rc1 == 0 and out0 == out1, 'program changed: exit %d/%d' % (rc0, rc1))
    warns = [w for w in err1.splitlines() if b'tracking stopped' in w]
    check(len(warns) == 1, 'expected one write warning, got %r' % err1[-500:])
    bench = [lg for lg in logs if 'alloc_bench' in lg]
    recs, summary = ctx.dump(bench[0])
    check(summary.get('truncated') == 'yes', 'the cut log must read as truncated')


def t_options(ctx):
    cmd = [ctx.prog('alloc_family')]
    rc, _, err, logs = ctx.run(cmd, opts='help=1:bogus=1:depth=abc')
    check(rc == 0, 'exit %d' % rc)
    e = err.decode()
    for opt in ('output', 'depth', 'buffer_kib', 'flush_ms', 'follow_fork', 'quiet', 'verbose',
                'help'):
        check(re.search(r'^sliceleak:\s+%s \[' % opt, e, re.M), 'help=1 does not list %s' % opt)
    check(e.count("unknown option 'bogus'") == 1, 'no single warning for an unknown key')
    check(e.count("bad value for 'depth'") == 1, 'no single warning for a bad value')
    check(len(logs) == 1 and ('analyze with: sliceleak report ' + logs[0]) in e,
          'no exit line naming the log')
    rc, _, err, logs = ctx.run(cmd, opts='quiet=1:depth=4')
    check(rc == 0 and err == b'', 'quiet=1 still printed %r' % err)
    recs = ctx.complete(logs[0])
    check(recs[0]['stack_depth'] == '4', 'depth=4 not recorded')
    depth = {}
    for r in recs:
        if r['kind'] == 'STACK':
            depth[len(depth) + 1] = depth.get(num(r['parent']), 0) + 1
    check(depth and max(depth.values()) <= 4, 'a stack deeper than depth=4')
    rc, _, err, logs = ctx.run([ctx.prog('fork_child')], opts='follow_fork=0:quiet=1')
    check(rc == 0 and len(logs) == 1, 'follow_fork=0: exit %d, %d logs' % (rc, len(logs)))
    ctx.complete(logs[0])


def t_atsecure(ctx):
    # A setuid copy run by an unprivileged user gets AT_SECURE; glibc then
    # ignores an LD_PRELOAD path with a slash, and the shim itself stays
    # inert if it is loaded anyway. Either way: unchanged, no log.
    if os.geteuid() != 0 or not shutil.which('setpriv'):
        raise SkipTest('needs root and setpriv')
    d = tempfile.mkdtemp(dir='/tmp')
    os.chmod(d, 0o755)
    exe = os.path.join(d, 'alloc_family_suid')
    shutil.copy(ctx.prog('alloc_family'), exe)
    os.chmod(exe, 0o4755)
    logdir = tempfile.mkdtemp(dir='/tmp')
    os.chmod(logdir, 0o777)
    env = dict(os.environ, LD_PRELOAD=ctx.shim,
               SLICELEAK_OPTIONS='output=' + os.path.join(logdir, '%e.%p.sllog'))
    cmd = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', exe]
    p = subprocess.run(cmd, env=env, capture_output=True, timeout=30)
    shutil.rmtree(d)
    check(p.returncode == 0, 'setuid run: exit %d %s' % (p.returncode, p.stderr))
    # setpriv itself is an ordinary root process: it is traced, and execs the copy.
    check(not [f for f in os.listdir(logdir) if f.startswith('alloc_family_suid')],
          'a secure-execution process wrote a log')
    check(len(p.stdout.splitlines()) > 9, 'the setuid program did not run to the end')
    shutil.rmtree(logdir)


def t_bytes_per_event(ctx):
    """Measures: bytes of log per event and time, microbenchmark and a real program."""
    n = 300000
    t0 = time.monotonic()
    rc, _, _, _ = ctx.run([ctx.prog('alloc_bench'), str(n)], shim=False)
    plain = time.monotonic() - t0
    t0 = time.monotonic()
    rc1, _, _, logs = ctx.run([ctx.prog('alloc_bench'), str(n)])
    traced = time.monotonic() - t0
    check(rc == rc1 == 0, 'alloc_bench failed')
    recs = ctx.complete(logs[0])
    events = sum(r['kind'] in ('ALLOC', 'FREE', 'REALLOC') for r in recs)
    size = os.path.getsize(logs[0])
    bpe = size / events
    print('alloc_bench: %d events, %d bytes, %.2f bytes/event, %.2fs plain, %.2fs traced '
          '(%.1fx)' % (events, size, bpe, plain, traced, traced / max(plain, 1e-3)))
    check(events >= 2 * n, 'events missing')
    check(bpe < 8, 'more than 8 bytes per event on the microbenchmark')
    _, _, _, logs = ctx.run(['/usr/bin/python3', '-c', PY])
    total_b = total_e = 0
    for log in logs:
        rs = ctx.complete(log)
        total_e += sum(r['kind'] in ('ALLOC', 'FREE', 'REALLOC') for r in rs)
        total_b += os.path.getsize(log)
    print('python3: %d events, %d bytes, %.2f bytes/event (stacks and module map included)'
          % (total_e, total_b, total_b / total_e))


# ---- the pointer scan (format 1.1) -----------------------------------------

REGION = {'GLOBALS': 0, 'HEAP': 1, 'STACK': 2, 'ANON': 3}
SCAN_KINDS = ('SCAN_BEGIN', 'SCAN_REGION', 'SCAN_PTRS', 'SCAN_END')


def scans(recs):
    """The scans of a log: [(index of SCAN_BEGIN, scan)], each scan a dict with
    lo, hi, regions [(kind, start, size)], pairs {loc: (val, kind)}, end (the
    SCAN_END record). Checks that each is contiguous and well formed."""
    out = []
    i = 0
    while i < len(recs):
        if recs[i]['kind'] != 'SCAN_BEGIN':
            check(recs[i]['kind'] not in SCAN_KINDS, '%s outside a scan' % recs[i]['kind'])
            i += 1
            continue
        b = recs[i]
        sc = {'lo': num(b['heap_lo']), 'hi': num(b['heap_hi']), 'regions': [], 'pairs': {},
              'npairs': 0}
        kind = None
        j = i + 1
        while j < len(recs) and recs[j]['kind'] != 'SCAN_END':
            r = recs[j]
            check(r['kind'] in ('SCAN_REGION', 'SCAN_PTRS'),
                  '%s inside a scan (offset %d)' % (r['kind'], r['offset']))
            if r['kind'] == 'SCAN_REGION':
                kind = num(r['region_kind'])
                start, size = num(r['start']), num(r['size'])
                check(start % 8 == 0 and size % 8 == 0 and size > 0, 'bad region %s' % r)
                sc['regions'].append((kind, start, size))
            else:
                check(kind is not None, 'SCAN_PTRS before any region')
                k, start, size = sc['regions'][-1]
                check(num(r['count']) == len(r['pairs']), 'count differs from the pairs')
                for loc, val in r['pairs']:
                    check(start <= loc < start + size, 'pair outside its region')
                    check(sc['lo'] <= val < sc['hi'], 'value outside the span')
                    sc['pairs'][loc] = (val, k)
                sc['npairs'] += len(r['pairs'])
            j += 1
        check(j < len(recs), 'a scan without SCAN_END')
        sc['end'] = recs[j]
        check(num(sc['end']['bytes']) == sum(r[2] for r in sc['regions']),
              'SCAN_END bytes is not the sum of the regions')
        check(num(sc['end']['pointers']) == sc['npairs'], 'SCAN_END pointers differs')
        regs = sorted(sc['regions'], key=lambda r: r[1])
        for a, b2 in zip(regs, regs[1:]):
            check(a[1] + a[2] <= b2[1], 'regions overlap: %s %s' % (a, b2))
        out.append((i, sc))
        i = j + 1
    return out


def t_pointer_scan(ctx):
    same_behaviour_shape(ctx, [ctx.prog('pointer_scan')])
    rc, out, err, logs = ctx.run([ctx.prog('pointer_scan')])
    check(rc == 0, 'exit %d: %s' % (rc, err))
    recs = ctx.complete(logs[0])
    known = {}
    blocks = []
    for w in (line.split() for line in out.decode().splitlines()):
        if w[0] == 'T':
            blocks.append((int(w[2], 16), int(w[3])))
        elif w[0] == 'SPAN':
            far = (int(w[1], 16), int(w[2], 16))
        else:
            known.setdefault(w[0], []).append((int(w[1], 16), int(w[2], 16)))
    found = scans(recs)
    check(len(found) == 2, '%d scans, expected 2 (snapshot, exit)' % len(found))
    snap = next(i for i, r in enumerate(recs) if r['kind'] == 'SNAPSHOT')
    check(found[0][0] == snap + 1, 'the first scan does not follow the SNAPSHOT at once')
    last = found[1][1]['end']
    check(recs[recs.index(last) + 1]['kind'] == 'END', 'the exit scan does not precede END')
    for n, (_, sc) in enumerate(found):
        what = 'snapshot scan' if n == 0 else 'exit scan'
        check(sc['end']['capped'] == '0', '%s capped' % what)
        check(all(sc['lo'] <= a and a + s <= sc['hi'] for a, s in blocks),
              '%s: heap span [%#x, %#x) misses a block' % (what, sc['lo'], sc['hi']))
        kinds = {r[0] for r in sc['regions']}
        check(kinds >= {0, 1, 2, 3}, '%s: region kinds %s' % (what, sorted(kinds)))
        want = [(w, p) for w in ('ARR', 'GLOBAL', 'ANON') for p in known[w]]
        if n == 0:
            want += [('STACK', p) for p in known['STACK']]
        region = {'ARR': 1, 'GLOBAL': 0, 'ANON': 3, 'STACK': 2}
        for w, (loc, val) in want:
            got = sc['pairs'].get(loc)
            check(got is not None, '%s: no pair at %s %#x' % (what, w, loc))
            check(got == (val, region[w]), '%s: %s %#x holds %s, expected (%#x, kind %d)'
                  % (what, w, loc, got and (hex(got[0]), got[1]), val, region[w]))
    floc, fval = known['FOREIGN'][0]
    for n, (_, sc) in enumerate(found):
        what = 'snapshot scan' if n == 0 else 'exit scan'
        # the span filter alone would keep it: the granule filter must not
        check(sc['lo'] <= fval < sc['hi'] and sc['hi'] >= far[1],
              '%s: span [%#x, %#x) does not hold the foreign pointer %#x: test geometry'
              % (what, sc['lo'], sc['hi'], fval))
        check(floc not in sc['pairs'], '%s: the global at %#x pointing into memory no block '
              'touched (%#x) was recorded' % (what, floc, fval))
    stale = known['STALE'][0][1]
    _, sc = found[1]
    dead = [hex(loc) for loc, (val, kind) in sc['pairs'].items() if val == stale and kind == 2]
    check(not dead, 'exit scan: dead stack words %s hold %#x (exit()\'s frames were read)'
          % (dead[:4], stale))
    print('scans: %s' % ', '.join('%d regions, %s bytes, %d pointers'
                                  % (len(sc['regions']), sc['end']['bytes'], sc['npairs'])
                                  for _, sc in found))


def same_behaviour_shape(ctx, cmd):
    """Without and with the shim: same exit status and the same output lines
    up to the addresses (they differ between runs)."""
    rc0, out0, _, _ = ctx.run(cmd, shim=False)
    rc1, out1, err1, logs = ctx.run(cmd)
    strip = re.compile(rb'0x[0-9a-f]+')
    check(rc0 == rc1, 'exit %d without the shim, %d with it: %s' % (rc0, rc1, err1[-500:]))
    check(strip.sub(b'', out0) == strip.sub(b'', out1), 'output differs under the shim')
    return logs, err1



def main_thread_exit(ctx, arg):
    """main_thread_exit.c: main calls pthread_exit, the last thread's return
    ends the process. The exit scan must read the globals from that thread
    (a pair at &held), or say that it could not."""
    cmd = [ctx.prog('main_thread_exit')] + ([arg] if arg else [])
    logs, err = same_behaviour_shape(ctx, cmd)
    rc, out, err, logs = ctx.run(cmd)
    check(rc == 0 and out.endswith(b'done\n'), 'exit %d, %r %r' % (rc, out, err[-500:]))
    w = out.split()
    held, at = int(w[1], 16), int(w[3], 16)
    recs = ctx.complete(logs[0])
    found = scans(recs)
    check(found, 'no exit scan')
    sc = found[-1][1]
    unread, no_maps = num(sc['end'].get('unread', '0')), num(sc['end'].get('no_maps', '0'))
    p = subprocess.run([ctx.sliceleak, 'report', '--format', 'json', logs[0]],
                       capture_output=True, timeout=120)
    import json
    doc = json.loads(p.stdout)
    status = doc['dead_region_analysis']
    leaks = doc['leaks']
    if arg == 'seccomp-all':
        # nothing can be read: the log and the report must say so
        check(unread > 0, 'the scan read nothing, yet SCAN_END says unread=%d' % unread)
        check(b'pointer scan could not read' in err, 'no warning on stderr: %r' % err[-500:])
        check(status.startswith('partial'), 'dead-region analysis %r for a scan that could '
              'not read the memory' % status)
        check('direct_bytes' not in leaks, 'direct/indirect leak classes from a partial scan')
        return
    check(unread == 0 and no_maps == 0, 'exit scan: unread=%d no_maps=%d' % (unread, no_maps))
    check(any(k == 0 and s <= at < s + n for k, s, n in sc['regions']),
          'no GLOBALS region covers &held (%#x): %d regions, %s bytes'
          % (at, len(sc['regions']), sc['end']['bytes']))
    check(sc['pairs'].get(at, (None,))[0] == held, 'exit scan: no pair &held -> %#x' % held)
    check(status == 'complete', 'dead-region analysis: %r' % status)
    direct = leaks.get('direct_bytes')
    check(direct is not None and 27182 <= direct < 31337,
          'direct leaks %s bytes: the 27182-byte block is one, the block held by a global '
          'is not' % direct)


def t_main_thread_exit(ctx):
    main_thread_exit(ctx, None)


def t_main_thread_exit_seccomp(ctx):
    main_thread_exit(ctx, 'seccomp')


def t_main_thread_exit_unreadable(ctx):
    main_thread_exit(ctx, 'seccomp-all')

def t_scan_cap(ctx):
    for opt, arg in (('scan_max_mib=0', []), ('scan_max_mib=1', ['big'])):
        rc, _, err, logs = ctx.run([ctx.prog('pointer_scan')] + arg, opts=opt)
        check(rc == 0, '%s: exit %d' % (opt, rc))
        found = scans(ctx.complete(logs[0]))
        check(len(found) == 2, '%s: %d scans' % (opt, len(found)))
        check(all(sc['end']['capped'] == '1' for _, sc in found), '%s: not capped' % opt)
        warn = [w for w in err.splitlines() if b'scan_max_mib' in w]
        check(len(warn) == 1, '%s: %d cap warnings, expected one: %r' % (opt, len(warn), err))
        if opt == 'scan_max_mib=1':
            # the budget counts bytes read; what was not read is not in a region
            check(all(num(sc['end']['bytes']) < (8 << 20) for _, sc in found),
                  'the capped scan covers the whole 8 MiB block')
    rc, _, err, logs = ctx.run([ctx.prog('pointer_scan')], opts='scan_max_mib=0:quiet=1')
    check(rc == 0 and err == b'', 'quiet=1: %r' % err)


def t_scan_off(ctx):
    rc, _, err, logs = ctx.run([ctx.prog('pointer_scan')], opts='scan=0')
    check(rc == 0, 'exit %d' % rc)
    recs = ctx.complete(logs[0])
    check(not [r for r in recs if r['kind'] in SCAN_KINDS], 'scan=0 wrote scan records')


def t_scan_unmap(ctx):
    for k in range(8):
        rc, out, err, logs = ctx.run([ctx.prog('scan_unmap')], opts='quiet=1')
        check(rc == 0 and out == b'done\n', 'run %d: exit %d, %r %r' % (k, rc, out, err[-500:]))
        found = scans(ctx.complete(logs[0]))
        check(len(found) == 6, 'run %d: %d scans, expected 6' % (k, len(found)))


def t_scan_fork(ctx):
    for k in range(3):
        rc, out, err, logs = ctx.run([ctx.prog('scan_unmap'), 'fork'], opts='quiet=1')
        check(rc == 0 and out == b'done\n', 'run %d: exit %d, %r %r' % (k, rc, out, err[-500:]))
        check(len(logs) == 21, 'run %d: %d logs, expected 21' % (k, len(logs)))
        for log in logs:
            found = scans(ctx.complete(log))
            check(found, '%s: no scan' % log)


def t_snapshot_cancel(ctx):
    for opt in ('scan=0', 'scan=1'):
        rc, out, err, logs = ctx.run([ctx.prog('snapshot_cancel')], opts=opt, timeout=60)
        check(rc == 0 and out == b'done\n', '%s: exit %d, %r' % (opt, rc, err[-500:]))
        ctx.complete(logs[0])


def t_scan_cost(ctx):
    """Measures what the exit scan costs real programs (time, log bytes) and
    how fast it reads (verbose line of the shim). A benchmark (meson.build),
    not a test: it checks only that the programs exit 0."""
    data = ''.join('%08x line %d\n' % ((i * 2654435761) % (1 << 32), i)
                   for i in range(200000)).encode()
    progs = [('python3', ['/usr/bin/python3', '-c', PY], None),
             ('sort', ['sort'], data),
             ('git', ['git', '--version'], None),
             ('sh', ['sh', '-c', 'true'], None)]
    for name, cmd, stdin in progs:
        if not shutil.which(cmd[0]):
            print('%-8s not installed: not measured' % name)
            continue
        res = {}
        for opt in ('scan=0', 'scan=1'):
            best, size = None, 0
            for _ in range(3):
                t0 = time.monotonic()
                rc, out, err, logs = ctx.run(cmd, opts=opt + ':verbose=1', stdin=stdin)
                dt = time.monotonic() - t0
                check(rc == 0, '%s %s: exit %d' % (name, opt, rc))
                best = dt if best is None else min(best, dt)
                size = sum(os.path.getsize(lg) for lg in logs)
                line = [w for w in err.splitlines() if b'pointer scan:' in w]
            res[opt] = (best, size, line[-1].decode() if line else '')
        (t0, s0, _), (t1, s1, info) = res['scan=0'], res['scan=1']
        print('%-8s scan off %.3fs %9d B | on %.3fs %9d B (+%d B, %+.1f%%) | %s'
              % (name, t0, s0, t1, s1, s1 - s0, 100.0 * (s1 - s0) / max(s0, 1),
                 info.split('pointer scan: ')[-1]))
    # the reading speed: 8 MiB of touched block, several runs
    rc, _, err, _ = ctx.run([ctx.prog('pointer_scan'), 'big'], opts='verbose=1')
    for w in err.splitlines():
        if b'pointer scan:' in w:
            m = re.search(rb'(\d+) KiB read, (\d+) pointers, (\d+) us', w)
            if m:
                kib, us = int(m.group(1)), int(m.group(3))
                print('pointer_scan big: %d KiB read in %d us: %.1f ms per 100 MiB'
                      % (kib, us, us / 1000.0 * 102400 / max(kib, 1)))


# ---- sampled recording (sample_bytes, exact_bytes) -------------------------

def sampled_logs(ctx, cmd, opts, **kw):
    """cmd plain and under the shim with `opts`: same behaviour; complete logs
    whose PROCESS says the sampling, replaying without anomalies. Returns the
    records of each log."""
    logs, _ = same_behaviour(ctx, cmd, opts=opts, **kw)
    want = dict(o.split('=') for o in opts.split(':'))
    out = []
    for log in logs:
        recs = ctx.complete(log)
        stacks_ok(recs)
        check(recs[0].get('sample_bytes') == str(size_opt(want['sample_bytes'])),
              '%s: PROCESS sample_bytes=%s' % (log, recs[0].get('sample_bytes')))
        bad = replay(recs)
        check(not bad, '%s: %d replay anomalies, first: %s' % (log, len(bad), bad[:2]))
        out.append(recs)
    return logs, out


def size_opt(v):
    units = {'K': 10, 'KiB': 10, 'M': 20, 'MiB': 20, 'G': 30, 'GiB': 30}
    m = re.match(r'(\d+)(\D*)$', v)
    return int(m.group(1)) << units.get(m.group(2), 0)


def t_sampled_real(ctx):
    """Real programs run unchanged with sampling on; their logs replay clean."""
    opts = 'sample_bytes=512KiB'
    data = ''.join('%08x line %d\n' % ((i * 2654435761) % (1 << 32), i)
                   for i in range(200000)).encode()
    runs = [(['/usr/bin/python3', '-c', PY], {}), (['sort'], {'stdin': data}),
            ([ctx.prog('threads_cross_free')], {}), ([ctx.prog('realloc_race')], {})]
    for cmd, kw in runs:
        if not shutil.which(cmd[0]):
            raise SkipTest('%s not installed' % cmd[0])
        logs, recs = sampled_logs(ctx, cmd, opts, **kw)
        for log in logs:
            an = analyzer_anomalies(ctx, log)
            check(an == 0, '%s: the analyzer counts %s anomalies' % (cmd[0], an))
    # a signal handler's frees and allocations interrupting the sampler's set
    sampled_logs(ctx, [ctx.prog('signal_free')], opts + ':sample_seed=7')
    # every entry point, realloc across exact_bytes (it prints addresses: no same-output)
    rc, _, err, logs = ctx.run([ctx.prog('alloc_family')], opts='sample_bytes=64:exact_bytes=64')
    check(rc == 0, 'alloc_family exit %d: %s' % (rc, err))
    recs = ctx.complete(logs[0])
    check(not replay(recs), 'alloc_family: replay anomalies: %s' % replay(recs)[:3])


def t_sampled_options(ctx):
    """Junk values: one warning each, and the default (no sampling, 64 KiB)."""
    cmd = [ctx.prog('alloc_family')]
    rc, _, err, logs = ctx.run(cmd, opts='sample_bytes=lots:exact_bytes=-3:sample_seed=x'
                               ':quiet=1')
    e = err.decode()
    check(rc == 0, 'exit %d' % rc)
    for opt in ('sample_bytes', 'exact_bytes', 'sample_seed'):
        check(e.count("bad value for '%s'" % opt) == 1, 'no single warning for %s: %s' % (opt, e))
    recs = ctx.complete(logs[0])
    check(recs[0]['sample_bytes'] == '0' and recs[0]['exact_bytes'] == '65536',
          'junk did not give the defaults: %s' % recs[0])
    rc, _, err, logs = ctx.run(cmd, opts='sample_bytes=1MiB:exact_bytes=4K:quiet=1')
    recs = ctx.complete(logs[0])
    check(rc == 0 and err == b'', 'exit %d, stderr %r' % (rc, err))
    check(recs[0]['sample_bytes'] == '1048576' and recs[0]['exact_bytes'] == '4096',
          'sizes not parsed: %s' % recs[0])


def sample_leak_sizes(allocs, leaks):
    """sample_leak.c's block sizes, and which of them it leaks."""
    x, every, leaked = 12345, allocs // leaks, 0
    for i in range(allocs):
        x = (x * 6364136223846793005 + 1442695040888963407) & (2**64 - 1)
        size = 16 + (x >> 33) % 1009
        leak = i % every == every - 1 and leaked < leaks
        leaked += leak
        yield size, leak


def t_sampled_exact_blocks(ctx):
    """Every block of at least exact_bytes is in the log, with its free; the
    smaller ones are a sample of about the expected size."""
    allocs, leaks, exact, mean = 200000, 5000, 768, 16384
    logs, recs = sampled_logs(ctx, [ctx.prog('sample_leak'), str(allocs), str(leaks), '2000'],
                              'sample_bytes=%d:exact_bytes=%d:sample_seed=5' % (mean, exact))
    sizes = list(sample_leak_sizes(allocs, leaks))
    big = sorted(s for s, _ in sizes if s >= exact)
    got = [num(r['size']) for r in recs[0] if r['kind'] == 'ALLOC']
    got_big = sorted(s for s in got if exact <= s <= 1024)  # the program's, not stdio's
    check(got_big == big, '%d blocks of at least %d bytes allocated, %d in the log'
          % (len(big), exact, len(got_big)))
    # each smaller block is in the log with probability 1 - exp(-size / mean)
    expect = sum(1 - math.exp(-s / mean) for s, _ in sizes if s < exact)
    small = sum(1 for s in got if 16 <= s < exact)
    check(abs(small - expect) < 5 * math.sqrt(expect),
          '%d small blocks sampled, %.0f expected' % (small, expect))
    # every block exact: the set of recorded addresses grows to ~25,000 and back
    logs, recs = sampled_logs(ctx, [ctx.prog('sample_leak'), str(allocs), str(leaks), '20000'],
                              'sample_bytes=1M:exact_bytes=16')
    got = sum(1 for r in recs[0] if r['kind'] == 'ALLOC' and 16 <= num(r['size']) <= 1024)
    check(allocs <= got <= allocs + 10, '%d blocks in the log for %d' % (got, allocs))  # + libc's


def report_figures(ctx, log):
    doc = report_json(ctx, [log])
    return (doc['leaks']['leaked_bytes'], doc['peak']['bytes'], doc.get('sampling'))


def t_sampled_estimates(ctx):
    """sample_leak's leak and peak estimated within 10% at sample_bytes=16KiB,
    for several seeds (the figure of docs/benchmarks.md)."""
    cmd = [ctx.prog('sample_leak')]
    _, out, _, logs = ctx.run(cmd, opts='quiet=1')
    leak0, peak0, _ = report_figures(ctx, logs[0])
    truth = int(out.split()[1])
    check(abs(leak0 - truth) <= 4096, 'exact mode: %d leaked, the program leaked %d'
          % (leak0, truth))
    size0 = os.path.getsize(logs[0])
    for seed in (1, 2, 3, 4):
        _, _, _, logs = ctx.run(cmd, opts='quiet=1:sample_bytes=16KiB:sample_seed=%d' % seed)
        leak, peak, smp = report_figures(ctx, logs[0])
        check(smp is not None, 'the report does not say it is sampled')
        print('seed %d: leak %d (%+.1f%%, stderr %.1f%%), peak %d (%+.1f%%), log %.1f%% of '
              'exact' % (seed, leak, 100.0 * (leak - leak0) / leak0,
                         100.0 * smp['leaked_bytes_stderr'] / leak0, peak,
                         100.0 * (peak - peak0) / peak0,
                         100.0 * os.path.getsize(logs[0]) / size0))
        check(abs(leak - leak0) <= 0.1 * leak0, 'seed %d: leak %d, exact %d' % (seed, leak, leak0))
        check(abs(peak - peak0) <= 0.1 * peak0, 'seed %d: peak %d, exact %d' % (seed, peak, peak0))

def t_start_signal(ctx):
    """start=signal: nothing recorded until snapshot_signal; blocks from before
    the start are unknown, their frees counted as such."""
    cmd = [ctx.prog('start_signal')]
    logs, err = same_behaviour(ctx, cmd, opts='start=signal:snapshot_signal=SIGUSR2')
    check(len(logs) == 1, '%d logs' % len(logs))
    recs = ctx.complete(logs[0])
    check(num(recs[0]['flags']) & 2, 'PROCESS flags %s: no late start' % recs[0]['flags'])
    sizes = [num(r['size']) for r in recs if r['kind'] == 'ALLOC']
    check(1000 not in sizes, 'a block from before the start is in the log')
    check(sizes.count(2000) == 50, '%d blocks of 2000 bytes, expected 50' % sizes.count(2000))
    doc = report_json(ctx, logs)
    lg = doc['logs'][0]
    check(lg['late_start'] and lg['frees_before_start'] == 10,
          'late_start %s, frees_before_start %s' % (lg['late_start'], lg['frees_before_start']))
    check(not lg['anomalies'], 'anomalies: %s' % lg['anomalies'])
    leaked = sum(g['leaked_bytes'] for g in doc['leaks']['groups'])
    check(leaked == 50 * 2000, '%d bytes leaked, expected %d' % (leaked, 50 * 2000))
    # sampled and late: the same, with the sampler's set filtering the frees
    logs, _ = same_behaviour(ctx, cmd, opts='start=signal:snapshot_signal=SIGUSR2:'
                             'sample_bytes=1:exact_bytes=1500')
    recs = ctx.complete(logs[0])
    check(not replay(recs), 'sampled late start: replay anomalies %s' % replay(recs)[:2])
    # no signal to wait for, or a bad value: one warning, recording from the start
    for opts, warning in (('start=signal', 'needs a snapshot_signal'),
                          ('start=later', "bad value for 'start'")):
        rc, _, err, logs = ctx.run(cmd, opts=opts + ':quiet=1')
        check(rc == 0 and err.decode().count(warning) == 1, '%s: exit %d, stderr %r'
              % (opts, rc, err))
        sizes = [num(r['size']) for r in ctx.complete(logs[0]) if r['kind'] == 'ALLOC']
        check(sizes.count(1000) == 100, '%s: not recorded from the start' % opts)

TESTS = {name[2:].replace('_', '-'): fn for name, fn in globals().items()
         if name.startswith('t_')}


def run_one(name, test, ctx):
    """Runs one test; prints its verdict and the summary line; returns the exit code."""
    try:
        test(ctx)
    except SkipTest as e:
        print('SKIP %s: %s' % (name, e))
        print('0 passed, 0 failed')
        return SKIP
    except Fail as e:
        print('FAIL %s: %s' % (name, e))
        print('0 passed, 1 failed')
        return 1
    finally:
        shutil.rmtree(ctx.tmp, ignore_errors=True)
    print('PASS %s' % name)
    print('1 passed, 0 failed')
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('test', choices=sorted(TESTS))
    ap.add_argument('--shim', required=True)
    ap.add_argument('--bindir', required=True)
    ap.add_argument('--sliceleak')
    args = ap.parse_args()
    return run_one(args.test, TESTS[args.test], Ctx(args))


if __name__ == '__main__':
    sys.exit(main())
