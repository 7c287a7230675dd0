#!/usr/bin/python3
# tests/e2e/test_nginx.py - the fixtures' feeds served by Debian's nginx
# through docs/nginx-snapfeed.conf, checked with curl: content types,
# the WebSub Link headers, bodies, caching, and that dotfiles stay hidden.
#
# Usage: test_nginx.py SRCDIR
import email.message
import email.parser
import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import xml.etree.ElementTree as ET

import sfwrap

SRC = os.path.abspath(sys.argv[1])
CONFIG = os.path.join(SRC, "tests/e2e/fixtures.yaml")
SITE_CONF = os.path.join(SRC, "docs/nginx-snapfeed.conf")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
BASE = "https://news.example.org/"
HUB = "https://pubsubhubbub.appspot.com/"
ATOM = "{http://www.w3.org/2005/Atom}"
TYPES = {"rss.xml": "application/rss+xml; charset=utf-8",
         "atom.xml": "application/atom+xml; charset=utf-8",
         "feed.json": "application/feed+json; charset=utf-8"}
failures = []


def fail(msg):
    failures.append(msg)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nginx_conf(tmp, root, port):
    """The docs' site file with its CHANGE values set for this test,
    inside a main configuration that keeps every path in tmp."""
    with open(SITE_CONF, encoding="utf-8") as f:
        site = f.read()
    for old, new in [("listen 80;", f"listen 127.0.0.1:{port};"),
                     ("root /srv/snapfeed/public;", f"root {root};")]:
        if site.count(old) != 1:
            raise SystemExit(f"{SITE_CONF}: expected one '{old}'")
        site = site.replace(old, new)
    for d in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        os.makedirs(os.path.join(tmp, d))
    conf = f"""
daemon off;
master_process off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
{site}
}}
"""
    path = os.path.join(tmp, "nginx.conf")
    with open(path, "w", encoding="utf-8") as f:
        f.write(conf)
    return path


def curl(url, *extra):
    """(status, headers as a Message, body bytes) of a GET through curl."""
    with tempfile.NamedTemporaryFile() as h, tempfile.NamedTemporaryFile() as b:
        p = subprocess.run(["curl", "-sS", "--noproxy", "*", "--max-time", "20", "-D", h.name,
                            "-o", b.name, "-w", "%{http_code}", *extra, url],
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            fail(f"curl {url}: {p.stderr.strip()}")
            return 0, email.message.Message(), b""
        head = open(h.name, "rb").read().decode("latin-1")
        body = open(b.name, "rb").read()
    # the status line, then headers as in a mail message
    headers = email.parser.Parser().parsestr(head.split("\r\n", 1)[1])
    return int(p.stdout), headers, body


def self_link(name, data):
    if name == "feed.json":
        return json.loads(data)["feed_url"]
    root = ET.fromstring(data)
    links = root.find("channel").findall(ATOM + "link") if root.tag == "rss" \
        else root.findall(ATOM + "link")
    return [x.get("href") for x in links if x.get("rel") == "self"][0]


def wait_listening(port, proc, limit=20):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def check(tmp, out, port):
    url = f"http://127.0.0.1:{port}/"
    feeds = sorted(p for p in glob.glob(os.path.join(out, "*", "*"))
                   if os.path.basename(p) in TYPES)
    if len(feeds) != 45:
        fail(f"{len(feeds)} feed files built")
    for path in feeds:
        rel = os.path.relpath(path, out)
        slug, name = rel.split("/")
        quoted = urllib.parse.quote(slug, safe="") + "/" + name
        with open(path, "rb") as f:
            data = f.read()
        status, headers, body = curl(url + quoted + "?utm=x")
        links = sorted(headers.get_all("Link") or [])
        want_self = BASE + quoted
        if status != 200 or body != data:
            fail(f"{rel}: status {status}, {len(body)} of {len(data)} bytes")
        if headers.get("Content-Type") != TYPES[name]:
            fail(f"{rel}: Content-Type {headers.get('Content-Type')!r}")
        if links != sorted([f'<{HUB}>; rel="hub"', f'<{want_self}>; rel="self"']):
            fail(f"{rel}: Link headers {links}")
        if self_link(name, data) != want_self:
            fail(f"{rel}: the feed's self link {self_link(name, data)} is not the header's")
    status, headers, body = curl(url + "feeds.opml")
    with open(os.path.join(out, "feeds.opml"), "rb") as f:
        if status != 200 or body != f.read() or \
                headers.get("Content-Type") != "text/x-opml; charset=utf-8":
            fail(f"feeds.opml: {status} {headers.get('Content-Type')!r}")
    # The pages: the front page at /, a feed's page at its directory, an
    # archive page, the stylesheet.
    item = sorted(glob.glob(os.path.join(out, "education", "*.html")))[0]
    for path, file, ctype in [("", "index.html", "text/html; charset=utf-8"),
                              ("education/", "education/index.html", "text/html; charset=utf-8"),
                              (urllib.parse.quote("交通") + "/", "交通/index.html",
                               "text/html; charset=utf-8"),
                              (os.path.relpath(item, out), os.path.relpath(item, out),
                               "text/html; charset=utf-8"),
                              ("style.css", "style.css", "text/css; charset=utf-8")]:
        status, headers, body = curl(url + path)
        with open(os.path.join(out, file), "rb") as f:
            if status != 200 or body != f.read() or headers.get("Content-Type") != ctype:
                fail(f"/{path}: {status} {headers.get('Content-Type')!r}")
    # Dotfiles: the lock, a temporary of a write in progress, a stray one.
    with open(os.path.join(out, "tech", ".rss.xml.snapfeed-tmp"), "w") as f:
        f.write("<half")
    for hidden in (".snapfeed.lock", "tech/.rss.xml.snapfeed-tmp", ".%73napfeed.lock"):
        status, _, _ = curl(url + hidden)
        if status not in (403, 404):
            fail(f"{hidden}: served with status {status}")
    # An unchanged rebuild keeps Last-Modified and ETag, so readers get 304.
    _, h1, _ = curl(url + "tech/atom.xml")
    p = sfwrap.run(["build", "-q", "--no-push", "-c", os.path.join(tmp, "feeds.yaml")])
    if p.returncode != 0:
        fail(f"rebuild: exit {p.returncode}, {p.stderr[-300:]!r}")
    status, h2, body = curl(url + "tech/atom.xml", "-H",
                            f"If-None-Match: {h1.get('ETag')}")
    if status != 304 or h2.get("ETag") != h1.get("ETag") or \
            h2.get("Last-Modified") != h1.get("Last-Modified"):
        fail(f"conditional GET after an unchanged rebuild: {status}, {h1.get('ETag')} -> "
             f"{h2.get('ETag')}")


def main():
    with tempfile.TemporaryDirectory(prefix="sf-nginx-") as tmp:
        os.chmod(tmp, 0o755)
        out = os.path.join(tmp, "out")
        # Only captures that parse; the feeds name the docs' hub.
        inp = os.path.join(tmp, "in")
        os.makedirs(inp)
        for path in glob.glob(os.path.join(SRC, "fixtures/captures/*.expected.json")):
            shutil.copy(path[:-len(".expected.json")] + ".txt", inp)
        with open(CONFIG, encoding="utf-8") as f:
            text = f.read()
        text = text.replace("  - path: ../../fixtures/captures", "  - path: in")
        text = text.replace("  dir: ../../build-tests-unused", "  dir: out")
        with open(os.path.join(tmp, "feeds.yaml"), "w", encoding="utf-8") as f:
            f.write(text + f"websub:\n  hubs: ['{HUB}']\n")
        p = sfwrap.run(["build", "-q", "--no-push", "-c", os.path.join(tmp, "feeds.yaml")])
        if p.returncode != 0:
            fail(f"build: exit {p.returncode}, {p.stderr[-300:]!r}")

        port = free_port()
        conf = nginx_conf(tmp, out, port)
        t = subprocess.run([NGINX, "-t", "-p", tmp, "-e", os.path.join(tmp, "error.log"),
                            "-c", conf], capture_output=True, text=True, timeout=30)
        if t.returncode != 0 or "[warn]" in t.stderr:
            # a warning too: the example is copied as it is, it must be clean
            fail(f"nginx -t: {t.stderr}")
        else:
            proc = subprocess.Popen([NGINX, "-p", tmp, "-e", os.path.join(tmp, "error.log"),
                                     "-c", conf], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE)
            try:
                if not wait_listening(port, proc):
                    fail(f"nginx did not start: {proc.stderr.read().decode() if proc.poll() is not None else 'no answer'}")
                else:
                    check(tmp, out, port)
            finally:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
                proc.stderr.close()
        if failures:
            log = os.path.join(tmp, "error.log")
            if os.path.exists(log):
                with open(log, encoding="utf-8", errors="replace") as f:
                    print("nginx error.log:\n" + f.read()[-2000:])
    for f in failures:
        print("FAIL " + f)
    print("nginx: " + ("FAIL" if failures else "ok"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
