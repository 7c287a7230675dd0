#!/usr/bin/python3
# tests/e2e/test_websub.py - WebSub end to end: snapfeed against the test
# hub (hub.py) over 127.0.0.1, which fetches every topic it is told of.
#
# Usage: test_websub.py SRCDIR [CASE...]
import collections
import glob
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.parse
import xml.etree.ElementTree as ET

import e2eutil
import hub as testhub
import sfwrap

SRC = os.path.abspath(sys.argv[1])
CONFIG = os.path.join(SRC, "tests/e2e/fixtures.yaml")
CAPTURES = os.path.join(SRC, "fixtures/captures")
BASE = "https://news.example.org/"
ATOM = "{http://www.w3.org/2005/Atom}"
FEED_FILES = ("rss.xml", "atom.xml", "feed.json")
QUEUED = "(queued for the next run)"
# libcurl must reach the test hub directly, whatever the environment says.
NET_ENV = {"no_proxy": "*", "NO_PROXY": "*"}
failures = []

NEW_CAPTURE = """• 我的订阅
  • 教育

新学期校园开放日活动举行

类别:教育\u00a0发布时间:2025-01-06 09:00:00\u00a0来源:测试晚报

本文转自:测试日报

1月6日,多所学校举行校园开放日,家长走进课堂。

以上内容为资讯信息快照,由td.fyun.cc爬虫进行采集并收录,本站未对信息做任何修改,信息内容不代表本站立场。

快照生成时间:2025-01-06 12:00:00
"""


def fail(msg):
    failures.append(msg)


class Site:
    """A temporary site: the fixtures that parse, a feeds.yaml naming the
    given hubs, the output directory and a static server over it."""

    def __init__(self, tmp, timeout=5, retries=1, state_dir=None):
        self.tmp = tmp
        self.inp = os.path.join(tmp, "in")
        self.out = os.path.join(tmp, "out")
        self.cfg = os.path.join(tmp, "feeds.yaml")
        self.state = state_dir or os.path.join(tmp, ".snapfeed")
        self.queue_file = os.path.join(self.state, "websub-queue")
        os.makedirs(self.inp)
        os.makedirs(self.out)
        # Only captures that parse, so an exit status of 3 means a hub failed.
        for path in glob.glob(os.path.join(CAPTURES, "*.expected.json")):
            shutil.copy(path[:-len(".expected.json")] + ".txt", self.inp)
        self.timeout, self.retries = timeout, retries
        self.static = testhub.Site(self.out)
        self.hubs = []
        self.state_dir = state_dir

    def hub(self, mode="ok"):
        h = testhub.Hub(BASE, self.static.url, mode)
        self.hubs.append(h)
        self.write_config()
        return h

    def write_config(self):
        with open(CONFIG, encoding="utf-8") as f:
            text = f.read()
        text = text.replace("  - path: ../../fixtures/captures", "  - path: in")
        text = text.replace("  dir: ../../build-tests-unused", "  dir: out")
        if self.state_dir:
            text = text.replace("  dir: out", f"  dir: out\n  state_dir: {self.state_dir}")
        text += "websub:\n  hubs: [" + ", ".join(f"'{h.url}'" for h in self.hubs) + "]\n"
        text += f"  timeout: {self.timeout}\n  retries: {self.retries}\n"
        with open(self.cfg, "w", encoding="utf-8") as f:
            f.write(text)

    def run(self, *args):
        return sfwrap.run(list(args) + ["-c", self.cfg], env=NET_ENV)

    def build(self, *extra):
        return self.run("build", *extra)

    def add_capture(self):
        with open(os.path.join(self.inp, "zz-new.txt"), "w", encoding="utf-8") as f:
            f.write(NEW_CAPTURE)

    def files(self, root=None):
        """rel path -> bytes of every feed file."""
        root = root or self.out
        got = {}
        for path in glob.glob(os.path.join(root, "*", "*")):
            if os.path.basename(path) in FEED_FILES:
                with open(path, "rb") as f:
                    got[os.path.relpath(path, root)] = f.read()
        return got

    def queue(self):
        """(hub, topic) pairs in the queue file; None when there is none."""
        if not os.path.exists(self.queue_file):
            return None
        with open(self.queue_file, encoding="ascii") as f:
            return [tuple(line.rstrip("\n").split("\t")) for line in f
                    if line.strip() and not line.startswith("#")]

    def close(self):
        for h in self.hubs:
            h.close()
        self.static.close()


def discovery(rel, data):
    """(self URLs, hub URLs) a feed file advertises."""
    if rel.endswith(".json"):
        doc = json.loads(data)
        return [doc.get("feed_url")], [h.get("url") for h in doc.get("hubs", [])
                                       if h.get("type") == "WebSub"]
    root = ET.fromstring(data)
    if root.tag == "rss":
        links = root.find("channel").findall(ATOM + "link")
    else:
        links = root.findall(ATOM + "link")
    return ([x.get("href") for x in links if x.get("rel") == "self"],
            [x.get("href") for x in links if x.get("rel") == "hub"])


def topics_of(site, rels=None):
    """self URL -> rel path of every feed file (or of rels)."""
    files = site.files()
    got = {}
    for rel, data in files.items():
        if rels is None or rel in rels:
            self_urls, _ = discovery(rel, data)
            got[self_urls[0]] = rel
    return got


def check_pings(name, site, h, want, files=None):
    """The requests h got since the last take() are exactly one POST per
    topic of want (self URL -> rel path), well formed, and the hub fetched
    the final bytes of each."""
    files = files or site.files()
    reqs = h.take()
    counts = collections.Counter(h.topics(reqs))
    if counts != collections.Counter(list(want)):
        extra = sorted(t for t in counts if counts[t] != 1 or t not in want)
        missing = sorted(t for t in want if t not in counts)
        fail(f"{name}: {h.url} got {len(reqs)} pings for {len(want)} topics; "
             f"extra or repeated {extra[:4]}, missing {missing[:4]}")
    version = sfwrap.run(["--version"], wrap=False).stdout.split()[-1]
    for r in reqs:
        topic = (r["form"].get("hub.url") or [None])[0]
        body = "hub.mode=publish&hub.url=" + urllib.parse.quote(topic or "", safe="")
        if r["content_type"] != "application/x-www-form-urlencoded" or \
                r["user_agent"] != "snapfeed/" + version or r["body"] != body.encode() or \
                r["path"] != "/":
            fail(f"{name}: malformed ping {r['path']} {r['content_type']!r} "
                 f"{r['user_agent']!r} {r['body'][:120]!r}")
        rel = want.get(topic)
        if rel is not None and r["fetched"] != files.get(rel):
            fail(f"{name}: the hub fetched other bytes than the final {rel} "
                 f"({r['fetch_error'] or len(r['fetched'] or b'')})")


def failed_lines(stderr, hub_url):
    return [line for line in stderr.splitlines() if line.startswith(f"snapfeed: {hub_url}: ")]


def case_discovery(tmp):
    """Every feed advertises the hubs and one self URL; the first build
    pings every topic once per hub, and each hub fetches the final file."""
    site = Site(tmp)
    a, b = site.hub(), site.hub()
    p = site.build()
    files = site.files()
    if p.returncode != 0 or len(files) != 45:
        fail(f"discovery: exit {p.returncode}, {len(files)} files, stderr {p.stderr[-300:]!r}")
    want = {}
    for rel, data in files.items():
        self_urls, hubs = discovery(rel, data)
        slug, name = rel.split("/")
        url = BASE + urllib.parse.quote(slug, safe="") + "/" + name
        if self_urls != [url]:
            fail(f"discovery: {rel} self links {self_urls}, want [{url}]")
        if hubs != [a.url, b.url]:
            fail(f"discovery: {rel} hub links {hubs}")
        want[self_urls[0]] = rel
    check_pings("first build", site, a, want, files)
    check_pings("first build", site, b, want, files)
    if f"{2 * len(want)} notifications accepted, 0 queued" not in p.stdout:
        fail(f"first build summary: {p.stdout!r}")
    if site.queue() is not None:
        fail(f"first build left a queue: {site.queue()[:3]}")
    with open(os.path.join(site.out, "feeds.opml"), "rb") as f:
        if b"rel=\"hub\"" in f.read():
            fail("feeds.opml advertises a hub")
    site.close()


def case_changed_only(tmp):
    """An unchanged rebuild pings nothing; a new capture pings exactly the
    feeds it changed, after they are in place (the hub fetches new bytes)."""
    site = Site(tmp)
    h = site.hub()
    site.build()
    h.take()
    before = site.files()
    p = site.build("-v")
    if p.returncode != 0 or h.take() or "notif" in p.stdout:
        fail(f"unchanged rebuild: exit {p.returncode}, stdout {p.stdout[-200:]!r}")
    site.add_capture()
    p = site.build("-v")
    after = site.files()
    changed = sorted(rel for rel in after if after[rel] != before.get(rel))
    if changed != sorted(f"{d}/{n}" for d in ("all", "education") for n in FEED_FILES):
        fail(f"new capture changed {changed}")
    check_pings("changed", site, h, topics_of(site, changed), after)
    if p.returncode != 0 or p.stdout.count("notified ") != 6 or \
            "6 notifications accepted, 0 queued" not in p.stdout:
        fail(f"changed: exit {p.returncode}, stdout {p.stdout[-400:]!r}")
    site.close()


def case_hub_down(tmp):
    """A hub that is down: exit 3, the feeds written and whole, every
    notification queued with one line each; back up, the next build
    delivers the queue and empties it."""
    site = Site(tmp, state_dir=os.path.join(tmp, "state", "deep"))
    h = site.hub("absent")
    p = site.build()
    files = site.files()
    want = topics_of(site)
    ref = sfwrap.run(["build", "-q", "--no-push", "-c", site.cfg, "-o",
                      os.path.join(tmp, "ref")], wrap=False)
    if ref.returncode != 0 or files != site.files(os.path.join(tmp, "ref")):
        fail("hub down: the feeds differ from a build that pinged nothing")
    lines = failed_lines(p.stderr, h.url)
    if p.returncode != 3 or len(lines) != len(want) or \
            len([x for x in p.stderr.splitlines() if "snapfeed: http" in x]) != len(want):
        fail(f"hub down: exit {p.returncode}, {len(lines)} lines for {len(want)} topics: "
             f"{p.stderr[:300]!r}")
    for line in lines:
        topic = line.split(": ")[2]
        if topic not in want or not line.endswith(QUEUED) or \
                not ("Couldn't connect" in line or "not tried, as the hub failed" in line):
            fail(f"hub down: line {line!r}")
    if sorted(site.queue() or []) != sorted((h.url, t) for t in want):
        fail(f"hub down: queue {(site.queue() or [])[:3]}")
    p = site.build()   # still down: queued once, not twice
    if p.returncode != 3 or len(site.queue() or []) != len(want):
        fail(f"hub still down: exit {p.returncode}, queue of {len(site.queue() or [])}")
    h.set_mode("ok")
    p = site.build()
    check_pings("hub back", site, h, want)
    if p.returncode != 0 or site.queue() is not None or "snapfeed: http" in p.stderr:
        fail(f"hub back: exit {p.returncode}, queue {site.queue()}, stderr {p.stderr[:200]!r}")
    p = site.build()
    if h.take() or p.returncode != 0:
        fail("after delivery a rebuild pinged again")
    # the manifest and the output state live there too (and the spares
    # they are written into); no queue may
    leftovers = [n for n in os.listdir(site.state)
                 if n not in ("websub.lock", "manifest", "outputs", "chosen")
                 and not n.endswith(".spare")]
    if leftovers:
        fail(f"state directory holds {leftovers}")
    site.close()


def case_http_errors(tmp):
    """HTTP 500 is retried (1 + retries tries), 404 is not; both are
    reported with the status and queued; `snapfeed ping` delivers the
    queue once the hub answers, and then has nothing to send."""
    site = Site(tmp, retries=2)
    h = site.hub("500")
    p = site.build()
    want = topics_of(site)
    reqs = h.take()
    counts = collections.Counter(h.topics(reqs))
    if p.returncode != 3 or set(counts) != set(want) or set(counts.values()) != {3}:
        fail(f"500: exit {p.returncode}, tries per topic {sorted(set(counts.values()))}")
    lines = failed_lines(p.stderr, h.url)
    if len(lines) != len(want) or not all(line.endswith(": HTTP 500 " + QUEUED)
                                          for line in lines):
        fail(f"500: stderr {p.stderr[:300]!r}")
    h.set_mode("404")
    p = site.run("ping")
    counts = collections.Counter(h.topics(h.take()))
    if p.returncode != 3 or set(counts) != set(want) or set(counts.values()) != {1}:
        fail(f"404: exit {p.returncode}, tries per topic {sorted(set(counts.values()))}")
    if not all(line.endswith(": HTTP 404 " + QUEUED) for line in failed_lines(p.stderr, h.url)):
        fail(f"404: stderr {p.stderr[:300]!r}")
    if f"0 notifications accepted, {len(want)} queued" not in p.stdout:
        fail(f"404 ping: stdout {p.stdout!r}")
    h.set_mode("ok")
    p = site.run("ping")
    check_pings("ping", site, h, want)
    if p.returncode != 0 or site.queue() is not None or \
            f"{len(want)} notifications accepted, 0 queued" not in p.stdout:
        fail(f"ping: exit {p.returncode}, stdout {p.stdout!r}, queue {site.queue()}")
    p = site.run("ping")
    if p.returncode != 0 or h.take() or "no notification to send" not in p.stdout:
        fail(f"second ping: exit {p.returncode}, stdout {p.stdout!r}")
    site.close()


def case_hung_hub(tmp):
    """A hub that never answers: the run ends, each notification is tried
    at most 1 + retries times, all are queued."""
    site = Site(tmp, timeout=1, retries=1)
    h = site.hub("hang")
    started = time.monotonic()
    try:
        p = site.build()
    except subprocess.TimeoutExpired:
        fail("hung hub: the build never finished")
        site.close()
        return
    took = time.monotonic() - started
    want = topics_of(site)
    counts = collections.Counter(h.topics(h.take()))
    if p.returncode != 3 or max(counts.values(), default=0) > 2 or \
            sum(counts.values()) > 2 * len(want) or not counts:
        fail(f"hung hub: exit {p.returncode}, {sum(counts.values())} requests, "
             f"at most {max(counts.values(), default=0)} per topic")
    lines = failed_lines(p.stderr, h.url)
    if len(lines) != len(want) or not any("timed out" in line for line in lines):
        fail(f"hung hub: {len(lines)} lines: {p.stderr[:300]!r}")
    if len(site.queue() or []) != len(want):
        fail(f"hung hub: queue of {len(site.queue() or [])}")
    print(f"hung hub: {sum(counts.values())} requests, run took {took:.1f}s")
    site.close()


def case_slow_hub_no_retries(tmp):
    """With retries: 0 the send's budget is one timeout: a hub that takes
    a while over each answer still gets every notification that fits in
    it, not only the first few it has connection slots for."""
    site = Site(tmp, timeout=5, retries=0)
    h = site.hub("slow")
    p = site.build()
    files = site.files()
    check_pings("slow hub", site, h, topics_of(site), files)
    if p.returncode != 0 or site.queue() is not None:
        fail(f"slow hub: exit {p.returncode}, queue {(site.queue() or [])[:3]}, "
             f"stderr {p.stderr[-300:]!r}")
    site.close()


def case_two_hubs(tmp):
    """Two hubs, one failing: the good one hears of everything once, only
    the bad one's notifications are queued and reported."""
    site = Site(tmp)
    good, bad = site.hub("ok"), site.hub("500")
    p = site.build()
    want = topics_of(site)
    check_pings("two hubs", site, good, want)
    bad.take()
    if p.returncode != 3 or failed_lines(p.stderr, good.url) or \
            len(failed_lines(p.stderr, bad.url)) != len(want):
        fail(f"two hubs: exit {p.returncode}, stderr {p.stderr[:300]!r}")
    if sorted(site.queue() or []) != sorted((bad.url, t) for t in want):
        fail(f"two hubs: queue {(site.queue() or [])[:3]}")
    bad.set_mode("ok")
    site.add_capture()
    p = site.build()
    # the good hub hears of the new change only; the bad one of everything
    check_pings("two hubs, good", site, good,
                topics_of(site, [f"{d}/{n}" for d in ("all", "education") for n in FEED_FILES]))
    check_pings("two hubs, recovered", site, bad, want)
    if p.returncode != 0 or site.queue() is not None:
        fail(f"two hubs recovered: exit {p.returncode}, queue {site.queue()}")
    site.close()


def case_ping_all(tmp):
    """`ping --all` tells every hub of every feed in place, once."""
    site = Site(tmp)
    h = site.hub()
    site.build()
    h.take()
    p = site.run("ping", "--all", "-q")
    check_pings("ping --all", site, h, topics_of(site))
    if p.returncode != 0 or p.stdout:
        fail(f"ping --all -q: exit {p.returncode}, stdout {p.stdout!r}")
    # -o names where the feeds are
    other = os.path.join(tmp, "other")
    os.makedirs(os.path.join(other, "tech"))
    shutil.copy(os.path.join(site.out, "tech", "rss.xml"), os.path.join(other, "tech"))
    p = site.run("ping", "--all", "-o", other)
    if p.returncode != 0 or h.topics(h.take()) != [BASE + "tech/rss.xml"]:
        fail(f"ping --all -o: exit {p.returncode}, stdout {p.stdout!r}")
    site.close()


def case_queue_limit(tmp):
    """A queue file of exactly SF_MAX_QUEUE_SIZE (64 MiB) is read and
    delivered; one byte more is refused with one line naming it, and left
    as it was (64 KiB short of the limit it once was refused too)."""
    site = Site(tmp)
    h = site.hub()
    site.build()
    h.take()
    topic = BASE + "tech/rss.xml"
    line = f"{h.url}\t{topic}\n".encode()
    limit = 64 << 20
    for size, name in ((limit - 1000, "near the limit"), (limit, "at the limit"),
                       (limit + 1, "over the limit")):
        comment = b"#" + b"x" * (size - len(line) - 2) + b"\n"
        with open(site.queue_file, "wb") as f:
            f.write(comment + line)
        p = site.run("ping", "-q")
        if size <= limit:
            check_pings(f"queue {name}", site, h, {topic: "tech/rss.xml"})
            if p.returncode != 0 or p.stderr or site.queue() is not None:
                fail(f"queue {name}: exit {p.returncode}, {p.stderr[:200]!r}")
        else:
            want = f"snapfeed: {site.queue_file}: larger than the 64 MiB limit of the queue\n"
            if p.returncode != 1 or p.stderr != want or h.take() or \
                    os.path.getsize(site.queue_file) != size:
                fail(f"queue {name}: exit {p.returncode}, {p.stderr[:200]!r}")
    site.close()


def case_no_push(tmp):
    """--no-push and --dry-run write no queue and send nothing, even to a
    hub that is down; the feeds still advertise the hub."""
    site = Site(tmp)
    h = site.hub("absent")
    p = site.build("--no-push")
    if p.returncode != 0 or "snapfeed: http" in p.stderr or site.queue() is not None or \
            os.path.exists(os.path.join(site.state, "websub-queue")):
        fail(f"--no-push: exit {p.returncode}, stderr {p.stderr[:200]!r}")
    if any(discovery(rel, d)[1] != [h.url] for rel, d in site.files().items()):
        fail("--no-push: feeds do not advertise the hub")
    h.set_mode("ok")
    site.add_capture()
    p = site.build("--dry-run")
    p2 = site.build("--no-push")
    if h.take() or p.returncode != 0 or p2.returncode != 0 or site.queue() is not None:
        fail(f"--dry-run/--no-push sent something: exit {p.returncode}/{p2.returncode}")
    site.close()


def case_usage(tmp):
    """The new options are in --help and refused where they do not apply;
    ping without hubs is an error."""
    build_help = sfwrap.run(["build", "--help"], wrap=False).stdout
    ping_help = sfwrap.run(["ping", "--help"], wrap=False).stdout
    if "--no-push" not in build_help or "--all" not in ping_help or "--all" in build_help:
        fail(f"help: {build_help!r} {ping_help!r}")
    p = sfwrap.run(["ping", "--no-push"], wrap=False)
    if p.returncode != 2 or "does not apply to 'ping'" not in p.stderr:
        fail(f"ping --no-push: exit {p.returncode}, {p.stderr!r}")
    cfg = os.path.join(tmp, "feeds.yaml")
    with open(cfg, "w") as f:
        f.write("site: {title: T, base_url: 'https://news.example.org/'}\ninputs: [{path: in}]\n")
    p = sfwrap.run(["ping", "-c", cfg])
    if p.returncode != 1 or "websub.hubs is empty" not in p.stderr or \
            os.path.exists(os.path.join(tmp, ".snapfeed")):
        fail(f"ping without hubs: exit {p.returncode}, {p.stderr!r}")


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def main():
    return e2eutil.run_cases(CASES, failures, sys.argv[2:], "sf-websub-")


if __name__ == "__main__":
    sys.exit(main())
