#!/usr/bin/python3
# tests/e2e/test_browser.py - the pages in a real browser: Debian's
# chromium, headless, loads the fixtures' site from a loopback HTTP
# server and is driven over the DevTools protocol (python3-websockets).
# For each page: the title is the page's own, every link and stylesheet
# resolves, nothing is logged to the console and no request fails; on a
# phone-sized screen nothing overflows sideways; with the dark scheme the
# background is dark.  Screenshots go to BUILDDIR/browser/ for a person to
# look at.  Skips (77) only when chromium is missing or cannot start at
# all.
#
# Usage: test_browser.py SRCDIR BUILDDIR
import asyncio
import base64
import functools
import glob
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import e2eutil
import sfwrap

e2eutil.set_source(sys.argv[1])
SHOTS = os.path.join(os.path.abspath(sys.argv[2]), "browser")
SKIP = 77
BASE = "https://news.example.org/"      # site.base_url of tests/e2e/fixtures.yaml
failures = []

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--mute-audio",
         "--no-default-browser-check", "--disable-features=Translate,MediaRouter"]


def fail(msg):
    failures.append(msg)


def find_chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def chromium_runs(binary, tmp):
    """Whether this chromium can load a page at all (else the test skips)."""
    try:
        p = subprocess.run([binary] + FLAGS + ["--user-data-dir=" + os.path.join(tmp, "probe"),
                                               "--dump-dom", "data:text/html,<p>ok"],
                           capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, str(e)
    return "<p>ok</p>" in p.stdout, p.stderr[-500:]


class Quiet(http.server.SimpleHTTPRequestHandler):
    log = None

    def log_message(self, fmt, *args):
        pass

    def log_request(self, code="-", size="-"):
        Quiet.log.append((self.path, int(code) if str(code).isdigit() else 0))


class Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # a browser that closes a connection it no longer needs is no error
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


def serve(root):
    Quiet.log = []
    handler = functools.partial(Quiet, directory=root)
    server = Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class CDP:
    """Calls and events of one DevTools session, in order, each wait
    bounded."""

    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0
        self.events = []

    async def recv(self, timeout):
        msg = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        if "method" in msg:
            self.events.append(msg)
        return msg

    async def call(self, method, timeout=30, **params):
        self.next_id += 1
        await self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            msg = await self.recv(max(0.1, deadline - time.monotonic()))
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    async def wait_for(self, method, timeout=30):
        deadline = time.monotonic() + timeout
        while not any(e["method"] == method for e in self.events):
            await self.recv(max(0.1, deadline - time.monotonic()))

    async def evaluate(self, expr):
        r = await self.call("Runtime.evaluate", expression=expr, returnByValue=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"evaluate: {r['exceptionDetails']}")
        return r["result"].get("value")


# What the page says of itself, from inside the browser.
FACTS = """JSON.stringify({
  title: document.title,
  lang: document.documentElement.lang,
  h1: (document.querySelector('h1') || {}).textContent || '',
  links: Array.from(document.querySelectorAll('a[href], link[href]'), a => a.href),
  sheets: Array.from(document.styleSheets, s => s.cssRules.length),
  overflow: document.documentElement.scrollWidth - window.innerWidth,
  bg: getComputedStyle(document.body).backgroundColor,
  font: getComputedStyle(document.body).fontFamily,
  scripts: document.scripts.length
})"""


def luminance(css):
    r, g, b = (int(x) for x in re.findall(r"\d+", css)[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


def status_of(url, cache):
    if url not in cache:
        try:
            with urllib.request.urlopen(url, timeout=20) as r:
                cache[url] = r.status
        except urllib.error.HTTPError as e:
            cache[url] = e.code
        except OSError:
            cache[url] = 0
    return cache[url]


async def visit(cdp, origin, rel, name, out, checked):
    """Loads one page as a desktop, a phone and in the dark; checks it
    and saves three screenshots."""
    url = origin + rel
    with open(os.path.join(out, urllib.parse.unquote(rel)), encoding="utf-8") as f:
        want_title = re.search(r"<title>(.*?)</title>", f.read(), re.S).group(1)
    for view, width, height, mobile, scheme in (("desktop", 1280, 900, False, "light"),
                                                ("phone", 390, 844, True, "light"),
                                                ("dark", 390, 844, True, "dark")):
        await cdp.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                       deviceScaleFactor=1, mobile=mobile)
        await cdp.call("Emulation.setEmulatedMedia",
                       features=[{"name": "prefers-color-scheme", "value": scheme}])
        cdp.events.clear()
        nav = await cdp.call("Page.navigate", url=url)
        if nav.get("errorText"):
            fail(f"{rel}: navigation failed: {nav['errorText']}")
            return
        await cdp.wait_for("Page.loadEventFired")
        facts = json.loads(await cdp.evaluate(FACTS))
        where = f"{rel} ({view})"
        if facts["title"] != want_title.replace("&amp;", "&").replace("&lt;", "<") \
                .replace("&gt;", ">"):
            fail(f"{where}: title {facts['title']!r}, the page says {want_title!r}")
        if not facts["lang"] or not facts["h1"].strip():
            fail(f"{where}: lang {facts['lang']!r}, h1 {facts['h1']!r}")
        # one stylesheet, loaded (its rules readable)
        if len(facts["sheets"]) != 1 or facts["sheets"][0] < 10:
            fail(f"{where}: stylesheets {facts['sheets']}")
        if facts["scripts"]:
            fail(f"{where}: {facts['scripts']} scripts")
        if mobile and facts["overflow"] > 0:
            fail(f"{where}: {facts['overflow']}px wider than the screen")
        light = luminance(facts["bg"])
        if (scheme == "dark") != (light < 0.3):
            fail(f"{where}: background {facts['bg']} in the {scheme} scheme")
        for link in facts["links"]:
            if link.startswith(origin):
                if status_of(link, checked) != 200:
                    fail(f"{where}: link {link} answers {checked[link]}")
            elif not link.startswith(("http://", "https://")):
                fail(f"{where}: link {link} is neither on the site nor http(s)")
        # console messages, exceptions, log entries, failed requests; but
        # /favicon.ico, which the browser asks for on its own, not by a
        # link of ours
        for e in cdp.events:
            m, p = e["method"], e.get("params", {})
            if "favicon.ico" in json.dumps(p):
                continue
            if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "warning", "assert"):
                fail(f"{where}: console {p['type']}: {p.get('args')}")
            elif m == "Runtime.exceptionThrown":
                fail(f"{where}: exception {p.get('exceptionDetails', {}).get('text')}")
            elif m == "Log.entryAdded" and p["entry"]["level"] in ("error", "warning"):
                fail(f"{where}: log {p['entry']['level']}: {p['entry'].get('text')} "
                     f"{p['entry'].get('url', '')}")
            elif m == "Network.loadingFailed":
                fail(f"{where}: request failed: {p.get('errorText')}")
            elif m == "Network.responseReceived" and p["response"]["status"] >= 400:
                fail(f"{where}: {p['response']['url']} answered {p['response']['status']}")
        shot = await cdp.call("Page.captureScreenshot", format="png", captureBeyondViewport=False)
        with open(os.path.join(SHOTS, f"{name}-{view}.png"), "wb") as f:
            f.write(base64.b64decode(shot["data"]))


async def drive(ws_url, origin, pages, out):
    import websockets
    async with websockets.connect(ws_url, max_size=64 << 20, open_timeout=30,
                                  ping_interval=None) as ws:
        cdp = CDP(ws)
        for domain in ("Page", "Runtime", "Log", "Network"):
            await cdp.call(domain + ".enable")
        checked = {}
        for rel, name in pages:
            await visit(cdp, origin, rel, name, out, checked)
        return checked


def devtools_page(user_dir, proc, limit=60):
    """The WebSocket URL of the browser's first page, once it listens."""
    port_file = os.path.join(user_dir, "DevToolsActivePort")
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and proc.poll() is None:
        if os.path.exists(port_file):
            with open(port_file) as f:
                words = f.read().split()
            try:
                port = int(words[0])
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list",
                                            timeout=5) as r:
                    targets = json.load(r)
                pages = [t for t in targets if t.get("type") == "page"]
                if pages:
                    return pages[0]["webSocketDebuggerUrl"]
            except (OSError, ValueError, IndexError):
                pass
        time.sleep(0.2)
    return None


def main():
    binary = find_chromium()
    if not binary:
        print("chromium is not installed: skipped")
        return SKIP
    with tempfile.TemporaryDirectory(prefix="sf-browser-") as tmp:
        ok, why = chromium_runs(binary, tmp)
        if not ok:
            print(f"chromium cannot run here: skipped\n{why}")
            return SKIP
        out = os.path.join(tmp, "out")
        p = e2eutil.build(e2eutil.config_for(tmp), out, "-q")
        if p.returncode != 3:
            fail(f"build: exit {p.returncode}: {p.stderr[-300:]!r}")
        os.makedirs(SHOTS, exist_ok=True)
        for old in glob.glob(os.path.join(SHOTS, "*.png")):
            os.remove(old)
        # the front page, feed pages (one of a Chinese slug), an archive
        # page of an item with an original URL and one of an item without
        no_url = json.load(open(os.path.join(out, "a-b-e620c319", "feed.json")))["items"][0]
        with_url = [i for i in json.load(open(os.path.join(out, "all", "feed.json")))
                    ["items"] if "original_url" in i["_snapfeed"]][0]
        pages = [("index.html", "index"),
                 ("all/index.html", "all"),
                 ("education/index.html", "education"),
                 (urllib.parse.quote("交通") + "/index.html", "jiaotong"),
                 (with_url["_snapfeed"]["archive_url"][len(BASE):], "item"),
                 (no_url["url"][len(BASE):], "item-no-url")]
        server = serve(out)
        origin = f"http://127.0.0.1:{server.server_address[1]}/"
        user_dir = os.path.join(tmp, "profile")
        proc = subprocess.Popen([binary] + FLAGS + ["--user-data-dir=" + user_dir,
                                                    "--remote-debugging-port=0",
                                                    "--remote-allow-origins=*", "about:blank"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            ws_url = devtools_page(user_dir, proc)
            if not ws_url:
                fail("chromium started, but its DevTools endpoint never answered")
            else:
                checked = asyncio.run(asyncio.wait_for(drive(ws_url, origin, pages, out), 600))
                print(f"{len(pages)} pages, {len(checked)} links on the site checked")
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=20)
            err = proc.stderr.read().decode(errors="replace")
            proc.stderr.close()
            server.shutdown()
            server.server_close()
        if failures:
            print("chromium's stderr (tail):\n" + err[-1500:])
        # The browser asked for nothing the site lacks (favicon.ico is the
        # browser's own idea, not a link of ours).
        for path, code in Quiet.log:
            if code not in (200, 304) and not path.endswith("favicon.ico"):
                fail(f"the server answered {code} to {path}")
        shots = sorted(os.listdir(SHOTS))
        if len(shots) != 3 * len(pages):
            fail(f"{len(shots)} screenshots in {SHOTS}")
        print(f"screenshots: {SHOTS}/")
    for f in failures:
        print("FAIL " + f)
    print("browser: " + ("FAIL" if failures else "ok"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
