"""testlib.py - what the report tests share: failing with a reason, running a
program under the shim, the final "N passed, N failed" line."""
import glob
import os
import subprocess
import sys


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


def traced(shim, logdir, cmd, timeout=600):
    """Runs cmd under the shim, logging into logdir (made here); returns its logs."""
    os.makedirs(logdir, exist_ok=True)
    if os.sep in cmd[0]:  # a path relative to here, not to logdir where it runs
        cmd = [os.path.abspath(cmd[0])] + cmd[1:]
    env = dict(os.environ, LD_PRELOAD=os.path.abspath(shim),
               SLICELEAK_OPTIONS='output=' + os.path.join(logdir, '%e.%p.sllog') + ':quiet=1')
    p = subprocess.run(cmd, env=env, cwd=logdir, capture_output=True, timeout=timeout)
    check(p.returncode == 0, '%s exited %d: %s' % (cmd, p.returncode, p.stderr[-2000:]))
    logs = sorted(glob.glob(os.path.join(logdir, '*.sllog')))
    check(logs, 'no log written by %s' % cmd)
    return logs


def verdict(body, errors=()):
    """Runs body(); prints the verdict line and returns the exit code (0 or 1).
    `errors`: more exception types that mean the test failed."""
    try:
        body()
    except (Fail, subprocess.CalledProcessError, subprocess.TimeoutExpired) + tuple(errors) as e:
        print('FAIL: %s' % e)
        print('0 passed, 1 failed')
        sys.stdout.flush()
        return 1
    print('1 passed, 0 failed')
    return 0
