#!/usr/bin/python3
# tests/e2e/fixtures.py - every fixture through `snapfeed parse`, checked
# field by field against its expected record, and every rejected one
# against its exact error line.  Adding a case needs no code: drop
# NAME.txt (fixtures/captures) or NAME.html (fixtures/html) with
# NAME.expected.json (and NAME.expected-stderr when it warns), or
# bad-NAME.txt / bad-NAME.html with bad-NAME.expected-error; or NAME.jsonl
# (fixtures/jsonl) with NAME.expected.json, the list of its records, and
# NAME.expected-stderr, every line it must print.
import glob
import json
import os
import re
import sys

import sfwrap

FIELDS = ["title", "category", "published", "source", "via", "author", "url",
          "captured_at", "captured_by", "body", "related", "listing", "id", "file",
          "line"]
TAG = re.compile(r"^tag:[a-z0-9.-]+,\d{4}-\d{2}-\d{2}:[0-9a-f]{16}$")


def fail(failures, name, msg):
    failures.append(f"{name}: {msg}")


def check_record(name, got, want, path, failures):
    """One record against its expected fields."""
    if list(got) != FIELDS:
        fail(failures, name, f"fields {list(got)}")
    for k, v in want.items():
        if got.get(k) != v:
            fail(failures, name, f"{k}:\n   got {json.dumps(got.get(k), ensure_ascii=False)}\n"
                 f"  want {json.dumps(v, ensure_ascii=False)}")
    if "id" not in want and not (got["url"] and got["id"] == got["url"]) \
            and not TAG.match(got["id"] or ""):
        fail(failures, name, f"id {got['id']!r} is neither the url nor a tag: URI")
    if got["file"] != path:
        fail(failures, name, f"file {got['file']!r}")


def check_accepted(path, failures):
    name = os.path.basename(path)
    base = os.path.splitext(path)[0]
    with open(base + ".expected.json", encoding="utf-8") as f:
        want = json.load(f)
    p = sfwrap.run(["parse", path])
    lines = p.stdout.splitlines()
    if p.returncode != 0 or len(lines) != 1:
        fail(failures, name, f"exit {p.returncode}, {len(lines)} records; stderr: {p.stderr}")
        return
    check_record(name, json.loads(lines[0]), want, path, failures)
    stderr_file = base + ".expected-stderr"
    want_err = ""
    if os.path.exists(stderr_file):
        with open(stderr_file, encoding="utf-8") as f:
            want_err = f.read().replace("FILE", path)
    if p.stderr.strip() != want_err.strip():
        fail(failures, name, f"stderr:\n   got {p.stderr!r}\n  want {want_err!r}")


def check_rejected(path, failures):
    name = os.path.basename(path)
    with open(os.path.splitext(path)[0] + ".expected-error", encoding="utf-8") as f:
        want = f.read().strip().replace("FILE", path)
    p = sfwrap.run(["parse", path])
    if p.returncode != 3 or p.stdout:
        fail(failures, name, f"exit {p.returncode} (want 3), stdout {p.stdout[:200]!r}")
    if p.stderr.strip() != want:
        fail(failures, name, f"stderr:\n   got {p.stderr.strip()!r}\n  want {want!r}")


def check_jsonl(path, failures):
    """A JSON Lines file: every record it holds, in order, and exactly the
    lines it must print; exit 3 when a line is refused."""
    name = os.path.basename(path)
    base = path[:-len(".jsonl")]
    with open(base + ".expected.json", encoding="utf-8") as f:
        want = json.load(f)
    want_err = ""
    if os.path.exists(base + ".expected-stderr"):
        with open(base + ".expected-stderr", encoding="utf-8") as f:
            want_err = f.read().replace("FILE", path)
    refused = any(": warning: " not in line for line in want_err.splitlines())
    p = sfwrap.run(["parse", path])
    if p.returncode != (3 if refused else 0):
        fail(failures, name, f"exit {p.returncode}, want {3 if refused else 0}")
    got = [json.loads(line) for line in p.stdout.splitlines()]
    if len(got) != len(want):
        fail(failures, name, f"{len(got)} records, want {len(want)}")
    for i, (g, w) in enumerate(zip(got, want)):
        check_record(f"{name}[{i}]", g, w, path, failures)
    if p.stderr != want_err:
        fail(failures, name, f"stderr:\n   got {p.stderr!r}\n  want {want_err!r}")


def check_sample(sample, failures):
    """The real capture from ../shared/samples, against the values the
    foundation issue lists."""
    p = sfwrap.run(["parse", sample])
    if p.returncode != 0:
        fail(failures, "sample", f"exit {p.returncode}: {p.stderr}")
        return
    r = json.loads(p.stdout)
    want = {
        "title": "“东迁西归”倡议发布:呼吁更多力量加入 助推职教东西部协作",
        "category": "教育",
        "published": "2023-10-27T20:28:00+08:00",
        "source": "每日看点快看",
        "via": "中国新闻网",
        "captured_at": "2023-10-28T00:45:01+08:00",
        "captured_by": "td.fyun.cc",
        "url": None,
    }
    for k, v in want.items():
        if r[k] != v:
            fail(failures, "sample", f"{k} = {r[k]!r}, want {v!r}")
    if len(r["related"]) != 9 or sum(1 for e in r["related"] if e["title"]) != 3:
        fail(failures, "sample", f"related: {len(r['related'])} entries")
    if len(r["listing"]) != 15:
        fail(failures, "sample", f"listing: {len(r['listing'])} entries")
    if r["title"] in r["body"] or any("供图" in b for b in r["body"]):
        fail(failures, "sample", "alt text or photo credit left in the body")
    if not TAG.match(r["id"]) or not r["id"].startswith("tag:td.fyun.cc,2023-10-27:"):
        fail(failures, "sample", f"id {r['id']}")


def main():
    src = sys.argv[1]
    os.chdir(src)
    failures = []
    paths = sorted(glob.glob("fixtures/captures/*.txt"))
    accepted = [p for p in paths if not os.path.basename(p).startswith("bad-")]
    rejected = [p for p in paths if os.path.basename(p).startswith("bad-")]
    if len(accepted) < 25 or len(rejected) < 5:
        fail(failures, "fixtures", f"only {len(accepted)} + {len(rejected)} fixtures")
    for p in accepted:
        check_accepted(p, failures)
    for p in rejected:
        check_rejected(p, failures)

    pages = sorted(glob.glob("fixtures/html/*.html") + glob.glob("fixtures/html/*.htm"))
    good_pages = [p for p in pages if not os.path.basename(p).startswith("bad-")]
    bad_pages = [p for p in pages if os.path.basename(p).startswith("bad-")]
    if len(good_pages) < 12 or len(bad_pages) < 2:
        fail(failures, "fixtures", f"only {len(good_pages)} + {len(bad_pages)} HTML fixtures")
    for p in good_pages:
        check_accepted(p, failures)
    for p in bad_pages:
        check_rejected(p, failures)

    jsonl = sorted(glob.glob("fixtures/jsonl/*.jsonl"))
    if len(jsonl) < 3:
        fail(failures, "fixtures", f"only {len(jsonl)} JSON Lines fixtures")
    for p in jsonl:
        check_jsonl(p, failures)
    sample = os.path.join(src, "..", "shared", "samples", "capture-education.txt")
    if os.path.exists(sample):
        check_sample(os.path.relpath(sample), failures)
    else:
        print("note: ../shared/samples not here; the real sample was not checked")
    for f in failures:
        print("FAIL " + f)
    print(f"{len(accepted)} accepted and {len(rejected)} rejected captures, "
          f"{len(good_pages)} accepted and {len(bad_pages)} rejected pages, "
          f"{len(jsonl)} JSON Lines files, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
