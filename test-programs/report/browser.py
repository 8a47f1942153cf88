"""browser.py - a page opened in headless Chromium, driven over the DevTools
protocol on a pipe (--remote-debugging-pipe: JSON messages ending in NUL on
fds 3 and 4), with the standard library only.

Everything that would make a report page unusable offline is collected while
the page loads and runs: console errors, uncaught exceptions, log entries of
level error (a Content-Security-Policy violation is one), and every network
request other than the page's own file.
"""
import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time


class BrowserError(Exception):
    pass


def find_chromium():
    for name in ('chromium', 'chromium-browser', 'google-chrome'):
        path = shutil.which(name)
        if path:
            return path
    return None


class Page:
    def __init__(self, chromium, width=1280, height=900, timeout=60):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix='sliceleak-chromium-')
        cmd_r, self.cmd_w = os.pipe()
        self.resp_r, resp_w = os.pipe()

        def child_fds():
            # above 10 first: either pipe end may itself be fd 3 or 4
            a = fcntl.fcntl(cmd_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(resp_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [chromium, '--headless', '--remote-debugging-pipe', '--no-sandbox', '--disable-gpu',
             '--no-first-run', '--no-default-browser-check', '--disable-extensions',
             '--disable-background-networking', '--disable-component-update', '--disable-sync',
             '--user-data-dir=' + self.profile, f'--window-size={width},{height}', 'about:blank'],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=child_fds, pass_fds=(3, 4))
        os.close(cmd_r)
        os.close(resp_w)
        self.buf = b''
        self.next_id = 0
        self.events = []
        self.problems = []
        self.requests = []
        self.url = None
        self.session = None
        target = self.call('Target.createTarget', {'url': 'about:blank'})['targetId']
        self.session = self.call('Target.attachToTarget',
                                 {'targetId': target, 'flatten': True})['sessionId']
        for domain in ('Runtime', 'Log', 'Network', 'Page'):
            self.call(domain + '.enable')
        self.call('Emulation.setDeviceMetricsOverride',
                  {'width': width, 'height': height, 'deviceScaleFactor': 1, 'mobile': False})

    def _read_message(self, deadline):
        while b'\0' not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError('chromium did not answer in time')
            ready, _, _ = select.select([self.resp_r], [], [], left)
            if ready:
                chunk = os.read(self.resp_r, 1 << 20)
                if not chunk:
                    raise BrowserError('chromium closed its pipe (exit %s)' % self.proc.poll())
                self.buf += chunk
        msg, self.buf = self.buf.split(b'\0', 1)
        return json.loads(msg)

    def _note(self, ev):
        method, p = ev.get('method'), ev.get('params', {})
        if method == 'Runtime.consoleAPICalled' and p.get('type') in ('error', 'assert'):
            args = ' '.join(str(a.get('value', a.get('description', ''))) for a in p['args'])
            self.problems.append('console.%s: %s' % (p['type'], args))
        elif method == 'Runtime.exceptionThrown':
            d = p['exceptionDetails']
            self.problems.append('uncaught exception: %s %s' % (
                d.get('text', ''), d.get('exception', {}).get('description', '')))
        elif method == 'Log.entryAdded' and p['entry']['level'] == 'error':
            self.problems.append('log error (%s): %s' % (p['entry'].get('source'),
                                                         p['entry']['text']))
        elif method == 'Network.requestWillBeSent':
            url = p['request']['url']
            if url != self.url:
                self.requests.append(url)
        elif method == 'Network.loadingFailed':
            self.problems.append('loading failed: %s' % p.get('errorText'))
        self.events.append(ev)

    def call(self, method, params=None):
        self.next_id += 1
        msg = {'id': self.next_id, 'method': method, 'params': params or {}}
        if self.session:
            msg['sessionId'] = self.session
        os.write(self.cmd_w, json.dumps(msg).encode() + b'\0')
        deadline = time.monotonic() + self.timeout
        while True:
            m = self._read_message(deadline)
            if m.get('id') == self.next_id:
                if 'error' in m:
                    raise BrowserError('%s: %s' % (method, m['error']))
                return m.get('result', {})
            if 'method' in m:
                self._note(m)

    def wait_event(self, method):
        for ev in self.events:
            if ev['method'] == method:
                return ev
        deadline = time.monotonic() + self.timeout
        while True:
            m = self._read_message(deadline)
            if 'method' in m:
                self._note(m)
                if m['method'] == method:
                    return m

    def open(self, path):
        self.url = 'file://' + os.path.abspath(path)
        self.events = []
        self.call('Page.navigate', {'url': self.url})
        self.wait_event('Page.loadEventFired')

    def eval(self, expr):
        r = self.call('Runtime.evaluate', {'expression': expr, 'returnByValue': True,
                                           'awaitPromise': True})
        if 'exceptionDetails' in r:
            raise BrowserError('%s: %s' % (expr, r['exceptionDetails']))
        return r['result'].get('value')

    def settle(self, seconds=0.3):
        """Lets late events (a delayed request, a timer's error) arrive."""
        deadline = time.monotonic() + seconds
        try:
            while True:
                m = self._read_message(deadline)
                if 'method' in m:
                    self._note(m)
        except BrowserError:
            pass

    def screenshot(self, path):
        data = self.call('Page.captureScreenshot', {'format': 'png', 'captureBeyondViewport': False})
        with open(path, 'wb') as f:
            f.write(base64.b64decode(data['data']))

    def close(self):
        try:
            self.session = None
            self.call('Browser.close')
        except (BrowserError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.cmd_w)
        os.close(self.resp_r)
        shutil.rmtree(self.profile, ignore_errors=True)
