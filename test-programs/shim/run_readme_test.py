#!/usr/bin/env python3
"""run_readme_test.py --builddir DIR --srcdir DIR

The README's "Using it" commands, copied literally from README.md and run one
by one as a new user would, after the set-up's install step: an `app` (a C
program of the README's story, with its SLICELEAK_SNAPSHOT("after-load"))
and `run-app.sh` (a launcher) in a scratch directory; each command must exit
as the README says (`sliceleak run`: the app's status; `report`, `dump`: 0;
`check`: 0 or 1, a verdict, never 2), and a program linked with -lslice must
start. When sliceleak is installed under /usr/local (the set-up's install),
the commands run exactly as written; otherwise the build is installed into a
scratch DESTDIR and /usr/local in each command is that directory (printed).
Exit 0 pass, 1 fail, 77 skip.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

SKIP = 77

APP = r'''
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sliceleak/annotate.h>

int main(int argc, char **argv)
{
	char *keep = malloc(1 << 20), *lost = malloc(4096);

	memset(keep, 'x', 1 << 20);
	SLICELEAK_VIEW_ACQUIRE(&keep, keep, 5); /* a 5-byte view of the MiB */
	SLICELEAK_SNAPSHOT("after-load");
	memset(lost, 0, 4096);
	lost = NULL;
	printf("app: %d arguments\n", argc - 1);
	return argv[1] && !strcmp(argv[1], "fail") ? 3 : 0;
}
'''

SLICE_USER = r'''
#include <stdio.h>
#include <sliceleak/slice.h>

int main(void)
{
	sl_slice msg = sl_make(1, 64, 64);
	sl_slice type = sl_sub(msg, 0, 5);

	sl_release(&msg);
	sl_release(&type);
	puts("slice ok");
	return 0;
}
'''


def section_block(readme, title):
    """The first ```sh block after the heading `title`."""
    at = readme.find('\n' + title + '\n')
    if at < 0:
        raise SystemExit('README has no section %r' % title)
    m = re.search(r'```sh\n(.*?)```', readme[at:], re.S)
    if not m:
        raise SystemExit('README section %r has no sh block' % title)
    return m.group(1)


def commands(block):
    """Each command line of a block, its trailing comment cut."""
    out = []
    for line in block.splitlines():
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        out.append(re.sub(r'\s+#\s.*$', '', line))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--builddir', required=True)
    ap.add_argument('--srcdir', required=True)
    args = ap.parse_args()
    readme = open(os.path.join(args.srcdir, 'README.md')).read()
    setup = section_block(readme, '## Set-up: one command')
    using = commands(section_block(readme, '## Using it'))
    failures = []
    cc = shutil.which('cc') or shutil.which('gcc')
    if not cc or not shutil.which('meson'):
        print('SKIP: no C compiler or meson')
        return SKIP
    if 'scripts/install.sh' not in setup:
        failures.append('the set-up block does not install (scripts/install.sh)')
    install = open(os.path.join(args.srcdir, 'scripts', 'install.sh')).read()
    if not re.search(r'^\$sudo meson install ', install, re.M) or \
            not re.search(r'^\$sudo ldconfig$', install, re.M):
        failures.append('scripts/install.sh does not run meson install, then ldconfig')

    tmp = tempfile.mkdtemp(prefix='sliceleak-readme-')
    try:
        return run_all(args, using, failures, cc, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_all(args, using, failures, cc, tmp):
    """Installs, then runs each command and the -lslice program. Returns the exit code."""
    prefix = '/usr/local'
    env = dict(os.environ)
    env.pop('LD_PRELOAD', None)
    env.pop('SLICELEAK_OPTIONS', None)
    installed = shutil.which('sliceleak') == '/usr/local/bin/sliceleak'
    if not installed:
        root = os.path.join(tmp, 'root')
        p = subprocess.run(['meson', 'install', '-C', args.builddir, '--no-rebuild', '--quiet',
                            '--destdir', root], capture_output=True, text=True)
        if p.returncode:
            print('FAIL: meson install --destdir: %s' % p.stderr[-2000:])
            return 1
        prefix = root + '/usr/local'
        env['PATH'] = prefix + '/bin:' + env['PATH']
        libdir = os.path.dirname(next(
            os.path.join(d, f) for d, _, fs in os.walk(prefix) for f in fs
            if f == 'libsliceleak.so'))
        env['LD_LIBRARY_PATH'] = libdir  # what ldconfig does for /usr/local
        env['PKG_CONFIG_PATH'] = os.path.join(libdir, 'pkgconfig')
        env['PKG_CONFIG_SYSROOT_DIR'] = root
        print('NOTE: sliceleak is not installed under /usr/local: commands run against '
              '`meson install --destdir %s`, /usr/local replaced by %s' % (root, prefix))
    inc = prefix + '/include'
    work = os.path.join(tmp, 'work')
    os.mkdir(work)
    with open(os.path.join(work, 'app.c'), 'w') as f:
        f.write(APP)
    subprocess.run([cc, '-g', '-O1', '-I', inc, '-o', 'app', 'app.c'], cwd=work, check=True)
    with open(os.path.join(work, 'run-app.sh'), 'w') as f:
        f.write('#!/bin/sh\n# a launcher, as wrappers of real programs are\n'
                'exec timeout 60 env APP_MODE=1 ./app "$@"\n')
    os.chmod(os.path.join(work, 'run-app.sh'), 0o755)

    for cmd in using:
        run = cmd.replace('/usr/local', prefix)
        p = subprocess.run(run, shell=True, cwd=work, env=env, capture_output=True, text=True,
                           timeout=300)
        words = cmd.split()
        verb = words[1] if words[0] == 'sliceleak' and len(words) > 1 else words[-1]
        ok = {'check': (0, 1)}.get(verb, (0,))
        status = 'ok' if p.returncode in ok else 'FAILED'
        print('%s: exit %d: %s' % (status, p.returncode, cmd))
        if p.returncode not in ok:
            failures.append('%s: exit %d: %s%s' % (cmd, p.returncode, p.stdout[-800:],
                                                    p.stderr[-1500:]))
        if words[0] == 'sliceleak' and verb in ('run', 'report') and '--format' not in words \
                and 'SUMMARY: sliceleak: ' not in p.stdout:
            failures.append('%s: no report on stdout: %r' % (cmd, p.stdout[-500:]))

    # a program linked with -lslice starts (the install's ldconfig, or its stand-in)
    with open(os.path.join(work, 'slice_user.c'), 'w') as f:
        f.write(SLICE_USER)
    flags = subprocess.run(['pkg-config', '--cflags', '--libs', 'slice'], env=env,
                           capture_output=True, text=True)
    if flags.returncode:
        failures.append('pkg-config slice: %s' % flags.stderr)
    else:
        subprocess.run([cc, 'slice_user.c', '-o', 'slice_user'] + flags.stdout.split(),
                       cwd=work, check=True, env=env)
        p = subprocess.run(['./slice_user'], cwd=work, env=env, capture_output=True, text=True)
        if p.returncode or p.stdout != 'slice ok\n':
            failures.append('a -lslice program does not start: %s' % p.stderr)
    for f in failures:
        print('FAIL: ' + f)
    print('%d passed, %d failed' % (len(using) + 1 - len(failures), len(failures)))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
