# tests/e2e/feedcheck.py - what the end-to-end tests check a build's output
# with: real consumers (xmllint, feedparser, newsboat, sfeed) and an
# independent model of which items each feed must hold, computed in Python
# from `snapfeed parse` records.
import calendar
import datetime
import glob
import json
import os
import sqlite3
import subprocess
import tempfile
import xml.etree.ElementTree as ET

import feedparser

import sfwrap

FORMAT_FILES = {"rss": "rss.xml", "atom": "atom.xml", "json": "feed.json"}


def instant(rfc3339):
    return datetime.datetime.fromisoformat(rfc3339).timestamp()


def parse_records(paths, config=None):
    """Records of capture files, through `snapfeed parse` (one process per
    batch).  Rejected files are simply absent."""
    recs = []
    args = ["parse"] + (["-c", config] if config else [])
    for i in range(0, len(paths), 200):
        p = sfwrap.run(args + paths[i:i + 200], wrap=False)
        recs += [json.loads(line) for line in p.stdout.splitlines()]
    return recs


def model(records, max_items):
    """Which items each category (and "all") must show, newest first: the
    newest capture of each id wins (later file, then later line, wins a
    tie), then the newest max_items by published, ties by id."""
    winners = {}
    for r in records:
        key = (instant(r["captured_at"]) if r["captured_at"] else float("-inf"), r["file"],
               r["line"])
        w = winners.get(r["id"])
        if w is None or key > w[0]:
            winners[r["id"]] = (key, r)
    items = [w[1] for w in winners.values()]

    def top(rs):
        return sorted(rs, key=lambda r: (-instant(r["published"]), r["id"]))[:max_items]

    feeds = {None: top(items)}
    for cat in {r["category"] for r in items}:
        feeds[cat] = top([r for r in items if r["category"] == cat])
    return feeds


def xmllint(path, failures):
    p = subprocess.run(["xmllint", "--noout", "--nonet", path], capture_output=True, text=True)
    if p.returncode != 0:
        failures.append(f"xmllint {path}: {p.stderr.strip()[:300]}")


def newsboat_count(path):
    """Items newsboat stores from one feed file (a fresh cache each time:
    newsboat keys items by guid across feeds)."""
    with tempfile.TemporaryDirectory() as d:
        urls = os.path.join(d, "urls")
        with open(urls, "w") as f:
            f.write("file://" + os.path.abspath(path) + "\n")
        cache = os.path.join(d, "cache.db")
        subprocess.run(["newsboat", "-u", urls, "-c", cache, "-C", "/dev/null", "-x", "reload"],
                       capture_output=True, timeout=60, env=dict(os.environ, HOME=d))
        with sqlite3.connect(cache) as db:
            return db.execute("select count(*) from rss_item").fetchone()[0]


def sfeed_titles(path):
    with open(path, "rb") as f:
        p = subprocess.run(["sfeed"], stdin=f, capture_output=True, timeout=60)
    return [line.split(b"\t")[1].decode() for line in p.stdout.splitlines()]


def check_json_feed(path, want, failures):
    with open(path, encoding="utf-8") as f:
        feed = json.load(f)
    where = path
    if feed.get("version") != "https://jsonfeed.org/version/1.1":
        failures.append(f"{where}: version {feed.get('version')!r}")
    for k in ("title", "home_page_url", "feed_url", "language"):
        if not isinstance(feed.get(k), str) or not feed[k]:
            failures.append(f"{where}: {k} missing")
    items = feed.get("items")
    if not isinstance(items, list):
        failures.append(f"{where}: items missing")
        return
    if [i.get("id") for i in items] != [r["id"] for r in want]:
        failures.append(f"{where}: item ids differ from the model")
    for it, r in zip(items, want):
        if not isinstance(it.get("id"), str) or not it["id"]:
            failures.append(f"{where}: item without id")
        if not isinstance(it.get("content_html"), str):
            failures.append(f"{where}: {it.get('id')}: no content_html")
        if it.get("title") != r["title"]:
            failures.append(f"{where}: {it['id']}: title {it.get('title')!r}")
        if instant(it["date_published"]) != instant(r["published"]):
            failures.append(f"{where}: {it['id']}: date_published {it['date_published']}")
        if "date_modified" in it and instant(it["date_modified"]) < instant(it["date_published"]):
            failures.append(f"{where}: {it['id']}: modified before published")
        if not all(isinstance(a, dict) and a.get("name") for a in it.get("authors", [])):
            failures.append(f"{where}: {it['id']}: bad authors")
        if it.get("tags") != [r["category"]]:
            failures.append(f"{where}: {it['id']}: tags {it.get('tags')}")
        if "url" in it and not it["url"].startswith(("http://", "https://")):
            failures.append(f"{where}: {it['id']}: url {it['url']}")
        if "<script" in it["content_html"]:
            failures.append(f"{where}: {it['id']}: live <script> in content_html")


def check_xml_feed(path, want, failures, consumers=True):
    xmllint(path, failures)
    d = feedparser.parse(path)
    if d.bozo:
        failures.append(f"{path}: feedparser bozo: {d.bozo_exception}")
    got = [e.get("id") for e in d.entries]
    if got != [r["id"] for r in want]:
        failures.append(f"{path}: entry ids differ from the model:\n   got {got}\n  want "
                        f"{[r['id'] for r in want]}")
        return
    for e, r in zip(d.entries, want):
        if e.get("title") != r["title"]:
            failures.append(f"{path}: {r['id']}: title {e.get('title')!r} != {r['title']!r}")
        if calendar.timegm(e.published_parsed) != instant(r["published"]):
            failures.append(f"{path}: {r['id']}: published {e.get('published')}")
        content = e.get("content", [{}])[0].get("value", "") if "content" in e else ""
        if "<script" in content.lower():
            failures.append(f"{path}: {r['id']}: live <script> in the content")
    # The raw text: no markup from captures is live, whatever a reader does.
    root = ET.parse(path).getroot()
    for el in root.iter():
        tag = el.tag.split("}")[-1]
        if tag in ("encoded", "content", "description", "summary") and el.text \
                and "<script" in el.text.lower():
            failures.append(f"{path}: live <script> in <{tag}>")
    if consumers:
        n = newsboat_count(path)
        if n != len(want):
            failures.append(f"{path}: newsboat read {n} items, want {len(want)}")
        titles = sfeed_titles(path)
        if titles != [r["title"] for r in want]:
            failures.append(f"{path}: sfeed titles {titles[:3]}... differ")


def feed_dirs(out):
    return sorted(d for d in os.listdir(out) if os.path.isdir(os.path.join(out, d))
                  and not d.startswith("."))


def check_output(out, records, max_items, failures, formats=("rss", "atom", "json"),
                 consumers=True):
    """Checks every feed in out against the model of records."""
    want = model(records, max_items)
    seen = set()
    for slug in feed_dirs(out):
        rss = os.path.join(out, slug, "rss.xml")
        # Which category a directory holds: what its items say.
        if slug == "all":
            cat = None
        else:
            d = feedparser.parse(rss if os.path.exists(rss) else os.path.join(out, slug,
                                                                               "atom.xml"))
            cats = {e.tags[0].term for e in d.entries if e.get("tags")}
            if len(cats) != 1:
                failures.append(f"{slug}: items of {len(cats)} categories")
                continue
            cat = cats.pop()
        if cat not in want:
            failures.append(f"{slug}: category {cat!r} is not in the model")
            continue
        seen.add(cat)
        for fmt in formats:
            path = os.path.join(out, slug, FORMAT_FILES[fmt])
            if not os.path.exists(path):
                failures.append(f"{path} missing")
            elif fmt == "json":
                check_json_feed(path, want[cat], failures)
            else:
                check_xml_feed(path, want[cat], failures, consumers)
    missing = set(want) - seen
    if missing:
        failures.append(f"no feed for categories {sorted(missing, key=str)}")
    opml = os.path.join(out, "feeds.opml")
    xmllint(opml, failures)
    outlines = ET.parse(opml).getroot().findall("./body/outline")
    if len(outlines) != len(want):
        failures.append(f"feeds.opml lists {len(outlines)} feeds, want {len(want)}")
    for o in outlines:
        if not o.get("xmlUrl", "").startswith("https://") or not o.get("htmlUrl") \
                or not o.get("title"):
            failures.append(f"feeds.opml: incomplete outline {o.attrib}")
