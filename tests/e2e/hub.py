#!/usr/bin/python3
# tests/e2e/hub.py - a WebSub hub for the tests, on 127.0.0.1 only.
#
# Like a real hub it takes "hub.mode=publish&hub.url=TOPIC" POSTs and
# fetches each topic it is told of: from a static server over the output
# directory (Site), the site's base URL rewritten to that server's.  It
# records every request and the bytes it fetched.  It can be told to
# answer 500 or 404, to hang past any client timeout, or to be absent
# (nothing listens on its port, so connecting is refused), and to come
# back on the same port.  Every wait is bounded.
#
# Run alone for a demo: hub.py BASE_URL OUTPUT_DIR [MODE]
import functools
import http.server
import socket
import sys
import threading
import time
import urllib.parse
import urllib.request

MODES = ("ok", "slow", "500", "404", "hang", "absent")
SLOW_SECONDS = 0.15  # how long a "slow" hub thinks before it answers as "ok" does
HANG_LIMIT = 60     # seconds a hung request is held at most
FETCH_TIMEOUT = 10


def free_port():
    """A port nothing listens on now (the kernel's pick of an ephemeral one)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(server):
    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True)
    t.start()
    return t


class _Quiet:
    def log_message(self, fmt, *args):
        pass


class _Static(_Quiet, http.server.SimpleHTTPRequestHandler):
    pass


class Site:
    """A static HTTP server over directory root: where the hub fetches."""

    def __init__(self, root):
        handler = functools.partial(_Static, directory=root)
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        _serve(self.server)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class _HubHandler(_Quiet, http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive, as libcurl would meet at a real hub

    def _answer(self, code):
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        hub = self.server.hub
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, 1 << 20))
        rec = {
            "time": time.monotonic(),
            "method": "POST",
            "path": self.path,
            "content_type": self.headers.get("Content-Type"),
            "user_agent": self.headers.get("User-Agent"),
            "body": body,
            "form": urllib.parse.parse_qs(body.decode("ascii", "replace"),
                                          keep_blank_values=True),
            "mode": hub.mode,
            "fetched": None,
            "fetch_error": None,
        }
        with hub.lock:
            hub.requests.append(rec)
        if rec["mode"] == "hang":
            # Say nothing until released; the client must give up first.
            hub.released.wait(HANG_LIMIT)
            self.close_connection = True
            return
        if rec["mode"] == "slow":
            time.sleep(SLOW_SECONDS)
        if rec["mode"] in ("500", "404"):
            self._answer(int(rec["mode"]))
            return
        form = rec["form"]
        topic = (form.get("hub.url") or [""])[0]
        if rec["content_type"] != "application/x-www-form-urlencoded" or \
                form.get("hub.mode") != ["publish"] or len(form.get("hub.url", [])) != 1 or \
                not topic.startswith(hub.base_url):
            self._answer(400)
            return
        rec["topic"] = topic
        # A real hub fetches at once (answering first); fetching before
        # answering lets the test see what the hub saw when snapfeed ends.
        local = hub.site_url + topic[len(hub.base_url):]
        try:
            with hub.opener.open(local, timeout=FETCH_TIMEOUT) as r:
                rec["fetched"] = r.read()
        except Exception as e:  # noqa: BLE001 - recorded for the test to report
            rec["fetch_error"] = str(e)
        self._answer(204 if rec["fetched"] is not None else 502)

    def do_GET(self):
        self._answer(405)


class Hub:
    """A test hub at http://127.0.0.1:PORT/, in one of MODES."""

    def __init__(self, base_url, site_url, mode="ok"):
        self.base_url = base_url
        self.site_url = site_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.requests = []
        self.lock = threading.Lock()
        self.released = threading.Event()
        # The hub fetches from 127.0.0.1 directly, whatever proxy is set.
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self.server = None
        self.mode = None
        self.set_mode(mode)

    def set_mode(self, mode):
        assert mode in MODES, mode
        # Requests held by "hang" end now; later ones meet the new mode.
        self.released.set()
        self.released = threading.Event()
        if mode == "absent":
            self._stop()
        elif self.server is None:
            server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), _HubHandler)
            server.hub = self
            self.server = server
            _serve(server)
        self.mode = mode

    def _stop(self):
        self.released.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def close(self):
        self._stop()

    def take(self):
        """The requests recorded since the last take()."""
        with self.lock:
            got, self.requests = self.requests, []
        return got

    def topics(self, requests):
        """hub.url of each request, in order."""
        return [(r["form"].get("hub.url") or [None])[0] for r in requests]


def main():
    if len(sys.argv) < 3:
        print("usage: hub.py BASE_URL OUTPUT_DIR [MODE]", file=sys.stderr)
        return 2
    site = Site(sys.argv[2])
    hub = Hub(sys.argv[1], site.url, sys.argv[3] if len(sys.argv) > 3 else "ok")
    print(f"hub {hub.url} ({hub.mode}), fetching from {site.url}", flush=True)
    try:
        while True:
            time.sleep(1)
            for r in hub.take():
                print(r["mode"], r["form"].get("hub.url"),
                      len(r["fetched"]) if r["fetched"] is not None else r["fetch_error"],
                      flush=True)
    except KeyboardInterrupt:
        pass
    hub.close()
    site.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
