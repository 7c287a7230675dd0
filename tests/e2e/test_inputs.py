#!/usr/bin/python3
# tests/e2e/test_inputs.py - the JSON Lines and HTML inputs end to end:
# the parse -> jsonl -> build round trip, a directory mixing all three
# formats, a JSON Lines file far larger than the memory it may use, and
# parse's --format.
#
# Usage: test_inputs.py SRCDIR [CASE...]
import glob
import json
import os
import shutil
import subprocess
import sys
import time

import e2eutil
import feedcheck
import sfwrap

SRC = os.path.abspath(sys.argv[1])
CONFIG = os.path.join(SRC, "tests/e2e/fixtures.yaml")
CAPTURES = os.path.join(SRC, "fixtures/captures")
PAGES = os.path.join(SRC, "fixtures/html")
JSONL = os.path.join(SRC, "fixtures/jsonl")
GOLDEN = os.path.join(SRC, "tests/golden")
failures = []


def config_with(tmp, name, inputs):
    """fixtures.yaml with its inputs replaced by the YAML lines given, its
    output and state in tmp: tests never write beside the sources."""
    with open(CONFIG, encoding="utf-8") as f:
        text = f.read()
    text = text.replace("  - path: ../../fixtures/captures\n", "".join(
        "  " + line + "\n" for line in inputs))
    text = text.replace("  dir: ../../build-tests-unused",
                        "  dir: out\n  state_dir: " + os.path.join(tmp, "state-" + name))
    path = os.path.join(tmp, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def files_of(root):
    """relative path -> bytes of every file under root but the lock."""
    out = {}
    for dirpath, dirs, names in os.walk(root):
        for n in names:
            if n != ".snapfeed.lock":
                p = os.path.join(dirpath, n)
                with open(p, "rb") as f:
                    out[os.path.relpath(p, root)] = f.read()
    return out


def case_round_trip(tmp):
    """captures -> `snapfeed parse` -> a jsonl input -> build gives the same
    feeds, byte for byte, as building from the captures."""
    captures = sorted(glob.glob(os.path.join(CAPTURES, "*.txt")))
    p = sfwrap.run(["parse", "-c", CONFIG] + captures)
    if p.returncode != 3 or len(p.stdout.splitlines()) != 65:
        failures.append(f"round trip: parse exit {p.returncode}, "
                        f"{len(p.stdout.splitlines())} records")
    jsonl = os.path.join(tmp, "all.jsonl")
    with open(jsonl, "w", encoding="utf-8") as f:
        f.write(p.stdout)
    cfg = config_with(tmp, "jsonl.yaml", ["- path: all.jsonl", "  format: jsonl"])
    captures_cfg = config_with(tmp, "captures.yaml", ["- path: " + CAPTURES])
    direct, via = os.path.join(tmp, "direct"), os.path.join(tmp, "via")
    p = sfwrap.run(["build", "-c", captures_cfg, "-o", direct], wrap=False)
    q = sfwrap.run(["build", "-c", cfg, "-o", via])
    if q.returncode != 0 or q.stderr:
        failures.append(f"round trip: build from jsonl exit {q.returncode}: {q.stderr[:300]}")
    if "65 captures, 0 rejected, 15 feeds, 15 changed" not in q.stdout:
        failures.append(f"round trip: {q.stdout!r}")
    a, b = files_of(direct), files_of(via)
    if not a or a != b:
        diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        failures.append(f"round trip: feeds differ: {diff[:5]}")
    golden = files_of(GOLDEN)
    if b != golden:
        failures.append("round trip: feeds differ from tests/golden")
    # A second build from the same jsonl changes nothing.
    q = sfwrap.run(["build", "-c", cfg, "-o", via], wrap=False)
    if not q.stdout.rstrip().endswith("15 feeds, 0 changed"):
        failures.append(f"round trip: rebuild {q.stdout!r}")


OLD_PAGE = """<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>旧站点的网页</title><meta name="PubDate" content="2024-12-20 10:00"></head>
<body><div><p>这是一个用 .htm 保存的网页，没有栏目，类别来自输入的设置。</p></div></body></html>
"""


def case_mixed(tmp):
    """Text captures, JSON Lines and saved pages in one directory, read by
    three inputs with their own formats and globs: one set of feeds, every
    item where the model says, checked by real consumers."""
    d = os.path.join(tmp, "in")
    os.makedirs(d)
    for p in glob.glob(os.path.join(CAPTURES, "*.txt")) + \
            glob.glob(os.path.join(JSONL, "*.jsonl")) + glob.glob(os.path.join(PAGES, "*.html")):
        shutil.copy(p, d)
    with open(os.path.join(d, "old-site.htm"), "w", encoding="utf-8") as f:
        f.write(OLD_PAGE)
    inputs = {
        "snapshot": ["- path: in", "  format: snapshot"],
        "jsonl": ["- path: in", "  format: jsonl"],
        "html": ["- path: in", "  format: html", "  glob: ['*.html', '*.htm']",
                 "  category: 网页"],
    }
    cfg = config_with(tmp, "feeds.yaml", inputs["snapshot"] + inputs["jsonl"] + inputs["html"])
    out = os.path.join(tmp, "out")
    p = sfwrap.run(["build", "-c", cfg, "-o", out])
    if p.returncode != 3:
        failures.append(f"mixed: exit {p.returncode}: {p.stderr[:300]}")

    # The model: each format's records through `parse` with its input's
    # settings (parse takes the first input's category).
    records, refused = [], 0
    groups = {
        "snapshot": sorted(glob.glob(os.path.join(d, "*.txt"))),
        "jsonl": sorted(glob.glob(os.path.join(d, "*.jsonl"))),
        "html": sorted(glob.glob(os.path.join(d, "*.htm")) + glob.glob(os.path.join(d, "*.html"))),
    }
    for fmt, paths in groups.items():
        one = config_with(tmp, fmt + ".yaml", inputs[fmt])
        q = sfwrap.run(["parse", "-c", one] + paths, wrap=False)
        records += [json.loads(line) for line in q.stdout.splitlines()]
        refused += sum(1 for line in q.stderr.splitlines() if ": warning: " not in line)
    formats_seen = {os.path.splitext(r["file"])[1] for r in records}
    if formats_seen != {".txt", ".jsonl", ".html", ".htm"}:
        failures.append(f"mixed: records from {formats_seen}")
    if not any(r["category"] == "网页" for r in records):
        failures.append("mixed: no page took the input's category")
    want = f"{len(records) + refused} captures, {refused} rejected, "
    if want not in p.stdout:
        failures.append(f"mixed: {p.stdout!r}, want {want!r}")
    feedcheck.check_output(out, records, 50, failures)
    web = feedcheck.model(records, 50).get("网页", [])
    if not any(r["file"].endswith("old-site.htm") for r in web):
        failures.append("mixed: the .htm page is not in the 网页 feed")


TWIN = """<html><head><meta charset="utf-8"><title>同一篇文章</title>
<meta property="og:url" content="https://twin.example/a.html">
<meta property="article:published_time" content="2024-12-25T08:00:00+08:00"></head>
<body><article><p>{body}</p></article></body></html>
"""


def case_rerun(tmp):
    """Reruns with the manifest over all three formats give what a fresh
    build gives, also when two saved copies of one page (one id, no capture
    time: the later file wins) are one reused and one parsed, and when a
    JSON Lines file grows."""
    d = os.path.join(tmp, "in")
    os.makedirs(d)
    for p in glob.glob(os.path.join(CAPTURES, "*.txt")) + \
            glob.glob(os.path.join(JSONL, "*.jsonl")) + glob.glob(os.path.join(PAGES, "*.html")):
        shutil.copy(p, d)
    for name, body in (("twin-a.html", "第一次保存的正文。"), ("twin-b.html", "第二次保存的正文。")):
        with open(os.path.join(d, name), "w", encoding="utf-8") as f:
            f.write(TWIN.format(body=body))
    cfg = config_with(tmp, "feeds.yaml", ["- path: in", "  format: snapshot",
                                          "- path: in", "  format: jsonl",
                                          "- path: in", "  format: html"])
    out, ref = os.path.join(tmp, "out"), os.path.join(tmp, "ref")

    def rebuild_and_compare(what):
        time.sleep(1.1)   # past the manifest's racy second
        sfwrap.run(["build", "-q", "-c", cfg, "-o", out])
        shutil.rmtree(ref, ignore_errors=True)
        sfwrap.run(["build", "-q", "--no-manifest", "-c", cfg, "-o", ref], wrap=False)
        a, b = files_of(out), files_of(ref)
        if a != b:
            failures.append(f"rerun after {what}: differs from a fresh build: "
                            f"{sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))[:4]}")
        with open(os.path.join(out, "all", "feed.json"), encoding="utf-8") as f:
            items = json.load(f)["items"]
        twin = [i for i in items if i["id"] == "https://twin.example/a.html"]
        if len(twin) != 1 or "第二次" not in twin[0]["content_html"]:
            failures.append(f"rerun after {what}: the later copy of the page does not win")

    sfwrap.run(["build", "-q", "-c", cfg, "-o", out], wrap=False)
    # the earlier copy changes: parsed again, the later one reused
    time.sleep(1.1)
    with open(os.path.join(d, "twin-a.html"), "w", encoding="utf-8") as f:
        f.write(TWIN.format(body="第一次保存的正文，改过。"))
    rebuild_and_compare("a page changed")
    # a JSON Lines file grows by a line
    with open(os.path.join(d, "records.jsonl"), "a", encoding="utf-8") as f:
        f.write(json.dumps({"title": "追加的一行", "category": "社会",
                            "published": "2024-12-31 10:00"}, ensure_ascii=False) + "\n")
    rebuild_and_compare("a JSON Lines file grew")
    with open(os.path.join(out, "all", "feed.json"), encoding="utf-8") as f:
        if not any(i["title"] == "追加的一行" for i in json.load(f)["items"]):
            failures.append("rerun: the appended JSON Lines record is missing")


def case_check_explains(tmp):
    """snapfeed check explains every problem of JSON Lines and saved pages
    too, with advice meant for them (not a capture's)."""
    d = os.path.join(tmp, "in")
    os.makedirs(d)
    for p in glob.glob(os.path.join(JSONL, "*.jsonl")) + glob.glob(os.path.join(PAGES, "*.html")):
        shutil.copy(p, d)
    cfg = config_with(tmp, "feeds.yaml", ["- path: in", "  format: jsonl",
                                          "- path: in", "  format: html"])
    p = sfwrap.run(["check", "-c", cfg])
    lines = p.stdout.splitlines()
    for section in ("rejected", "warnings"):
        heads = [i for i, line in enumerate(lines) if line.startswith(section + ": ")]
        if not heads:
            failures.append(f"check: no {section} section")
            continue
        n = int(lines[heads[0]].split(": ")[1])
        body = lines[heads[0] + 1:heads[0] + 1 + 2 * n]
        capture_only = ("发布时间", "类别:", "first line of text")
        for problem, fix in zip(body[::2], body[1::2]):
            if not fix.startswith("    fix: ") or any(w in fix for w in capture_only):
                failures.append(f"check: {problem.strip()!r}: fix {fix.strip()!r}")
    if p.returncode != 3 or "fix: give the record a \"title\"" not in p.stdout:
        failures.append(f"check: exit {p.returncode}, {p.stdout[-500:]!r}")


LINES = 200_000
CHECK_BOUND_MIB = 16    # check: over a 10-line file
BUILD_GROWTH_MIB = 4    # build: from 100,000 lines to 200,000


def case_bounded_memory(tmp):
    """A JSON Lines file of 200,000 records (~110 MB) costs no memory for
    its size.  `check` (which keeps no records: the reading alone) peaks
    within 16 MiB of the same run over a 10-line file; `build` (which
    also keeps each record's catalog entry, spilled to disk past a few
    MiB) peaks within 4 MiB of a build of the first 100,000 lines: flat,
    not growing with the file."""
    paragraph = "本市持续推进老旧小区改造，今年计划完成改造项目一百二十个，惠及居民三万余户。" * 4

    def write(n):
        d = os.path.join(tmp, str(n))
        os.makedirs(os.path.join(d, "in"))
        with open(os.path.join(d, "in", "a.jsonl"), "w", encoding="utf-8") as f:
            for i in range(n):
                f.write(json.dumps({
                    "title": f"第{i}号记录", "category": f"类别{i % 7}",
                    "published": f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d} 08:00",
                    "source": "测试晚报", "body": [paragraph],
                }, ensure_ascii=False) + "\n")
        # no feeds[]: check counts a listed category without items as a problem
        cfg = os.path.join(d, "feeds.yaml")
        with open(cfg, "w", encoding="utf-8") as f:
            f.write("site: {title: 测试, base_url: https://news.example.org/}\n"
                    "inputs: [{path: in, format: jsonl}]\n"
                    f"output: {{dir: out, state_dir: {os.path.join(d, 'state')}}}\n")
        return d, cfg

    (_, small), (_, half), (big_dir, big) = write(10), write(LINES // 2), write(LINES)
    size = os.path.getsize(os.path.join(big_dir, "in", "a.jsonl"))
    rss = {}
    for name, cfg in (("check small", small), ("check big", big)):
        status, rss[name] = e2eutil.peak_rss_kib(["check", "-q", "-c", cfg])
        if status != 0:
            failures.append(f"bounded memory: {name}: exit {status}")
    for name, cfg in (("build half", half), ("build big", big)):
        out = os.path.join(tmp, name.replace(" ", "-"))
        status, rss[name] = e2eutil.peak_rss_kib(["build", "-q", "-c", cfg, "-o", out])
        if status != 0:
            failures.append(f"bounded memory: {name}: exit {status}")
    print(f"bounded_memory: {LINES} lines, {size >> 20} MiB; peak RSS in KiB: {rss}")
    if size < 100 << 20:
        failures.append(f"bounded memory: the file is only {size} bytes")
    if rss["check big"] - rss["check small"] > CHECK_BOUND_MIB << 10:
        failures.append(f"bounded memory: check peaks at {rss['check big']} KiB for "
                        f"{size >> 20} MiB of JSON Lines, {rss['check small']} KiB for 10 "
                        f"lines: more than {CHECK_BOUND_MIB} MiB apart")
    if rss["build big"] - rss["build half"] > BUILD_GROWTH_MIB << 10:
        failures.append(f"bounded memory: build peaks at {rss['build big']} KiB for {LINES} "
                        f"lines, {rss['build half']} KiB for half: more than "
                        f"{BUILD_GROWTH_MIB} MiB apart")


def case_parse_format(tmp):
    """parse chooses the parser by extension unless --format says."""
    page = os.path.join(PAGES, "opengraph-only.html")
    as_txt = os.path.join(tmp, "page.txt")
    shutil.copy(page, as_txt)
    by_ext = sfwrap.run(["parse", page])
    forced = sfwrap.run(["parse", "--format", "html", as_txt])
    a, b = json.loads(by_ext.stdout), json.loads(forced.stdout)
    b["file"] = a["file"]
    if by_ext.returncode != 0 or a != b:
        failures.append(f"--format html: {forced.returncode} {forced.stderr!r}")
    p = sfwrap.run(["parse", "--format", "jsonl", page])
    if p.returncode != 3 or not p.stderr.startswith(f"snapfeed: {page}:1:"):
        failures.append(f"--format jsonl on a page: exit {p.returncode}, {p.stderr[:200]!r}")
    p = sfwrap.run(["parse", "--format", "pdf", page])
    if p.returncode != 2 or p.stderr != "snapfeed: --format must be snapshot, jsonl or html\n":
        failures.append(f"--format pdf: exit {p.returncode}, {p.stderr!r}")
    # a parse of a parse is the same records
    jsonl = os.path.join(tmp, "twice.jsonl")
    p = sfwrap.run(["parse", os.path.join(JSONL, "records.jsonl")])
    with open(jsonl, "w", encoding="utf-8") as f:
        f.write(p.stdout)
    q = sfwrap.run(["parse", jsonl])
    strip = [{k: v for k, v in json.loads(line).items() if k not in ("file", "line")}
             for line in p.stdout.splitlines()]
    again = [{k: v for k, v in json.loads(line).items() if k not in ("file", "line")}
             for line in q.stdout.splitlines()]
    if q.returncode != 0 or strip != again:
        failures.append(f"parse of a parse: exit {q.returncode}, {q.stderr[:200]!r}")


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def main():
    return e2eutil.run_cases(CASES, failures, sys.argv[2:], "sf-inputs-")


if __name__ == "__main__":
    sys.exit(main())
