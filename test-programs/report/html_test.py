#!/usr/bin/env python3
"""html_test.py CASE --sliceleak EXE --shim LIB --bindir DIR --artifacts DIR

The HTML report as a user sees it: a program runs under the shim, `sliceleak
report --format html` writes the page, headless Chromium opens it, and the
test fails on any console error, uncaught exception, error log entry or
network request, then checks what is drawn against the JSON report of the
same logs:
  - the SUMMARY line at the top is the text report's;
  - the peak marker of the chart stands at the JSON's peak time and size;
  - the flame graph's root total, for each of the five figures, is the
    JSON's total of that figure (computed by the page from its nodes);
  - a search for the allocating function matches the bytes it holds;
  - the first finding's sentence of the text report is on the page.
A screenshot of the page is kept in the artifacts directory.

CASE: capacity_leak | threaded_views | real (clang compiling and linking a C file: two
logs, one chart each) |
selftest (a page that makes a request and logs an error must fail).
Exit 0 pass, 1 fail, 77 skip (no Chromium).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import browser  # noqa: E402
from testlib import check, traced, verdict  # noqa: E402

SKIP = 77


def report(args, fmt, logs, out=None):
    cmd = [args.sliceleak, 'report', '--format', fmt] + (['-o', out] if out else []) + logs
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    check(p.returncode == 0, '%s: exit %d: %s' % (' '.join(cmd), p.returncode, p.stderr))
    return p.stdout


def case_program(args, tmp):
    c = args.case
    if c == 'capacity_leak':
        return [os.path.join(args.bindir, 'capacity_leak-O2'), 'leaky', '100', '65536'], \
            'receive_message'
    if c == 'threaded_views':
        return [os.path.join(args.bindir, 'threaded_views-O2'), 'leaky', '4', '100', '16384',
                '10'], None
    clang = shutil.which('clang')
    if not clang:
        print('SKIP: clang is not installed')
        sys.exit(SKIP)
    src = os.path.join(tmp, 'input.c')
    with open(src, 'w') as f:
        f.write('#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n')
        for i in range(60):
            f.write('static int f%d(const char *s) { return (int)strlen(s) * %d + '
                    'printf("%%s %d\\n", s); }\n' % (i, i, i))
        f.write('int main(int argc, char **argv) { int r = 0;\n')
        for i in range(60):
            f.write('  r += f%d(argv[0]);\n' % i)
        f.write('  return r & 1; }\n')
    # compiled and linked: the linker, exec'd by clang, writes a second log
    return [clang, '-O2', '-o', os.path.join(tmp, 'input'), src], None


def selftest(page, tmp):
    """The checks must catch what they look for: a request and a console error."""
    bad = os.path.join(tmp, 'bad.html')
    with open(bad, 'w') as f:
        f.write('<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/x.png">'
                '<script>console.error("boom")</script></body></html>')
    page.open(bad)
    page.settle(1.0)
    check(any('127.0.0.1:9' in u for u in page.requests),
          'a request to 127.0.0.1:9 went unnoticed: %s' % page.requests)
    check(any('boom' in p for p in page.problems), 'console.error went unnoticed: %s'
          % page.problems)
    print('ok: the page checks see a request and a console error')


def check_page(page, j, text, needle):
    check(page.eval('document.body.dataset.ready') == '1', 'the page script did not finish')
    check(not page.problems, 'page problems: %s' % page.problems)
    check(not page.requests, 'network requests: %s' % page.requests)

    summary = [ln for ln in text.splitlines() if ln.startswith('SUMMARY: ')][-1]
    shown = page.eval("document.getElementById('summary').textContent")
    check(shown == summary, 'summary shown %r, text report %r' % (shown, summary))
    print('ok: summary: %s' % shown)

    peaks = page.eval("[...document.querySelectorAll('.peak-marker')]"
                      ".map(e => [+e.dataset.t, +e.dataset.bytes])")
    check(len(peaks) == len(j['logs']), 'peak markers %s for %d logs' % (peaks, len(j['logs'])))
    charts = page.eval("document.querySelectorAll('svg.chart').length")
    check(charts == len(j['logs']), '%d charts for %d logs' % (charts, len(j['logs'])))
    t, b = max(peaks, key=lambda p: p[1])
    check(abs(t - j['peak']['time_seconds']) < 1e-6,
          'peak marker at %s s, JSON peak at %s s' % (t, j['peak']['time_seconds']))
    if len(j['logs']) == 1:
        check(b == j['peak']['bytes'], 'peak marker %d bytes, JSON %d' % (b, j['peak']['bytes']))
    print('ok: peak marker at %.6f s, %d bytes' % (t, b))

    expect = {
        'live': j['live']['bytes'],
        'retained': j['retained_bytes'],
        'owned': j.get('owned_bytes', 0),
        'leaked': j['leaks']['leaked_bytes'],
        'peak': j['peak']['bytes'],
        'allocated': j['totals']['bytes_allocated'],
    }
    for name, want in expect.items():
        got = page.eval("(() => { document.querySelector('#metrics button[data-metric=%s]')"
                        ".click(); const c = document.getElementById('flame');"
                        " return [c.dataset.metric, +c.dataset.total, c.height]; })()" % name)
        check(got[0] == name, 'metric %s not selected: %s' % (name, got))
        check(got[1] == want, 'flame graph root of %s: %d bytes, JSON %d' % (name, got[1], want))
        check(want == 0 or got[2] > 0, 'nothing drawn for %s' % name)
        print('ok: flame graph root total of %s = %d' % (name, got[1]))

    # a click on a frame of the third row (allocated bytes) zooms into it
    z = page.eval("""(() => {
        const c = document.getElementById('flame'), d = Math.min(2, rows.length - 1);
        const [x, w, i] = rows[d][0], r = c.getBoundingClientRect();
        c.dispatchEvent(new MouseEvent('click', {clientX: r.left + x + w / 2,
                                                 clientY: r.top + d * ROW + ROW / 2}));
        return [document.getElementById('flame-status').textContent, fname(i), zoom === i];
    })()""")
    check(z[2] and ('zoomed on ' + z[1]) in z[0], 'a click did not zoom: %s' % z)
    page.eval("document.getElementById('reset').click()")
    print('ok: a click zooms into %s' % z[1])

    if needle:
        page.eval("document.querySelector('#metrics button[data-metric=retained]').click()")
        matched = page.eval("(() => { const s = document.getElementById('search');"
                            " s.value = '%s'; s.dispatchEvent(new Event('input'));"
                            " return +document.getElementById('flame-status').dataset.matched;"
                            " })()" % needle)
        check(matched == expect['retained'],
              'search %s matched %s of retained, JSON retained %d' % (needle, matched,
                                                                      expect['retained']))
        print('ok: search %r matches all %d retained bytes' % (needle, matched))

    heads = [ln for ln in text.splitlines() if ln.startswith('#1: ')]
    check(bool(heads) == bool(j['findings']), 'findings: text %s, JSON %d' %
          (heads, len(j['findings'])))
    if heads:
        body = page.eval("document.getElementById('text').textContent")
        check(heads[0] in body, 'the finding %r is not on the page' % heads[0])
        print('ok: finding on the page: %s' % heads[0])
    page.settle()
    check(not page.problems, 'page problems: %s' % page.problems)
    check(not page.requests, 'network requests: %s' % page.requests)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('case', choices=['capacity_leak', 'threaded_views', 'real', 'selftest'])
    ap.add_argument('--sliceleak')
    ap.add_argument('--shim')
    ap.add_argument('--bindir')
    ap.add_argument('--artifacts', default='.')
    args = ap.parse_args()
    chromium = browser.find_chromium()
    if not chromium:
        print('SKIP: chromium is not installed (scripts/install-deps.sh installs it)')
        return SKIP
    tmp = tempfile.mkdtemp(prefix='sliceleak-html-')
    page = None

    def body():
        nonlocal page
        page = browser.Page(chromium)
        if args.case == 'selftest':
            selftest(page, tmp)
            return
        cmd, needle = case_program(args, tmp)
        logs = traced(args.shim, os.path.join(tmp, 'logs'), cmd)
        j = json.loads(report(args, 'json', logs))
        text = report(args, 'text', logs)
        html = os.path.join(tmp, 'report.html')
        report(args, 'html', logs, html)
        print('%s: %d log(s), %d bytes of HTML' % (args.case, len(logs), os.path.getsize(html)))
        page.open(html)
        page.settle()
        check_page(page, j, text, needle)
        os.makedirs(args.artifacts, exist_ok=True)
        shot = os.path.join(args.artifacts, 'report-%s.png' % args.case)
        page.screenshot(shot)
        print('screenshot: %s' % shot)

    try:
        return verdict(body, (browser.BrowserError,))
    finally:
        if page:
            page.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
