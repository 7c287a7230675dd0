#!/usr/bin/python3
# tests/e2e/test_build.py - `snapfeed build` end to end: golden files,
# real consumers, determinism, idempotence, hostile input, faults, lock.
#
# Usage: test_build.py SRCDIR [CASE...]; SF_UPDATE_GOLDEN=1 rewrites
# tests/golden/ from this build (never set by meson test or CI).
import difflib
import fcntl
import glob
import os
import shutil
import subprocess
import sys
import time

import feedcheck
import pagecheck
import sfwrap

from e2eutil import config_for, copy_captures, snapshot
import e2eutil

e2eutil.set_source(sys.argv[1])
SRC, CAPTURES, GOLDEN = e2eutil.SRC, e2eutil.CAPTURES, e2eutil.GOLDEN
failures = []


def build(out, *extra, config=None, env=None, wrap=True):
    return e2eutil.build(config or CONFIG_TMP, out, *extra, env=env, wrap=wrap)


def fixture_records():
    return feedcheck.parse_records(sorted(glob.glob(os.path.join(CAPTURES, "*.txt"))),
                                   e2eutil.CONFIG)


def case_golden(tmp):
    """The fixtures' feeds, byte for byte, and every consumer agrees."""
    out = os.path.join(tmp, "out")
    p = build(out)
    if p.returncode != 3 or "76 captures, 11 rejected, 15 feeds, 15 changed" not in p.stdout:
        failures.append(f"golden build: exit {p.returncode}, stdout {p.stdout!r}")
    got = snapshot(out)
    if os.environ.get("SF_UPDATE_GOLDEN") == "1":
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for rel, (data, _) in got.items():
            os.makedirs(os.path.dirname(os.path.join(GOLDEN, rel)), exist_ok=True)
            with open(os.path.join(GOLDEN, rel), "wb") as f:
                f.write(data)
        print(f"Writing golden test output to {GOLDEN}")
    want = {}
    for dirpath, dirs, names in os.walk(GOLDEN):
        for n in names:
            p = os.path.join(dirpath, n)
            with open(p, "rb") as f:
                want[os.path.relpath(p, GOLDEN)] = f.read()
    for rel in sorted(set(want) | set(got)):
        if rel not in got:
            failures.append(f"golden: {rel} was not written")
        elif rel not in want:
            failures.append(f"golden: {rel} is new (SF_UPDATE_GOLDEN=1 to accept)")
        elif got[rel][0] != want[rel]:
            diff = difflib.unified_diff(want[rel].decode(errors="replace").splitlines(),
                                        got[rel][0].decode(errors="replace").splitlines(),
                                        "golden/" + rel, "built/" + rel, lineterm="", n=1)
            failures.append(f"golden: {rel} differs:\n" + "\n".join(list(diff)[:40]))
    feedcheck.check_output(out, fixture_records(), 50, failures)
    n_pages = pagecheck.check_pages(out, failures)
    n_links = pagecheck.check_item_links(out, failures)
    # a front page, a page per feed (15) and one per item of a category (63)
    if n_pages != 1 + 15 + 63 or n_links != 3 * (50 + 63):
        failures.append(f"golden: {n_pages} pages, {n_links} item links")


def case_pages_off(tmp):
    """output.pages: false writes no page, and items without a URL have
    no link, as before pages existed."""
    out = os.path.join(tmp, "out")
    cfg = config_for(tmp, extra="", name="nopages.yaml")
    with open(cfg, encoding="utf-8") as f:
        text = f.read()
    with open(cfg, "w", encoding="utf-8") as f:
        f.write(text.replace("  max_items: 50", "  max_items: 50\n  pages: false"))
    build(out, config=cfg, wrap=False)
    pages = [p for p in snapshot(out) if p.endswith((".html", ".css"))]
    if pages:
        failures.append(f"pages off: wrote {pages[:5]}")
    pagecheck.check_item_links(out, failures, pages=False)
    for rel, (data, _) in snapshot(out).items():
        if b'rel="related"' in data or b"archive_url" in data:
            failures.append(f"pages off: {rel} links an archive page")
    feedcheck.check_output(out, fixture_records(), 50, failures, consumers=False)


def case_deterministic(tmp):
    """Directory order, locale and zone of the run change nothing."""
    a, b = os.path.join(tmp, "a"), os.path.join(tmp, "b")
    copy_captures(os.path.join(a, "in"))
    copy_captures(os.path.join(b, "in"), reverse=True)
    build(os.path.join(a, "out"), config=config_for(a, os.path.join(a, "in")),
          env={"LC_ALL": "C", "TZ": "UTC"}, wrap=False)
    build(os.path.join(b, "out"), config=config_for(b, os.path.join(b, "in")),
          env={"LC_ALL": "fr_FR.UTF-8", "TZ": "Pacific/Chatham"}, wrap=False)
    sa = {k: v[0] for k, v in snapshot(os.path.join(a, "out")).items()}
    sb = {k: v[0] for k, v in snapshot(os.path.join(b, "out")).items()}
    if sa != sb:
        failures.append("deterministic: outputs differ: " +
                        str(sorted(k for k in set(sa) | set(sb) if sa.get(k) != sb.get(k))[:5]))


NEW_CAPTURE = """• 我的订阅
  • 教育

新学期校园开放日活动举行

类别:教育\u00a0发布时间:2025-01-06 09:00:00\u00a0来源:测试晚报

本文转自:测试日报

1月6日,多所学校举行校园开放日,家长走进课堂。

以上内容为资讯信息快照,由td.fyun.cc爬虫进行采集并收录,本站未对信息做任何修改,信息内容不代表本站立场。

快照生成时间:2025-01-06 12:00:00
"""


def case_idempotent(tmp):
    """A second build touches nothing; one new capture changes only its
    category's feeds and all/."""
    inp, out = os.path.join(tmp, "in"), os.path.join(tmp, "out")
    copy_captures(inp)
    cfg = config_for(tmp, os.path.join(tmp, "in"))
    build(out, config=cfg, wrap=False)
    before = snapshot(out)
    time.sleep(0.01)
    p = build(out, config=cfg)
    if not p.stdout.rstrip().endswith("15 feeds, 0 changed"):
        failures.append(f"rebuild: {p.stdout!r}")
    if snapshot(out) != before:
        failures.append("rebuild changed bytes or mtimes")
    with open(os.path.join(inp, "zz-new.txt"), "w", encoding="utf-8") as f:
        f.write(NEW_CAPTURE)
    p = build(out, "-v", config=cfg)
    after = snapshot(out)
    changed = sorted(k for k in after if after[k] != before.get(k))
    new_pages = sorted(k for k in after if k not in before)
    want = sorted(["all/atom.xml", "all/feed.json", "all/rss.xml", "all/index.html",
                   "education/atom.xml", "education/feed.json", "education/rss.xml",
                   "education/index.html", "index.html"] + new_pages)
    if changed != want or len(new_pages) != 1 or not new_pages[0].startswith("education/"):
        failures.append(f"one new capture changed {changed}, want {want}")
    if "15 feeds, 2 changed" not in p.stdout or "education/: 9 items, changed rss.xml " \
            "atom.xml feed.json index.html and 1 archive page" not in p.stdout:
        failures.append(f"verbose build: {p.stdout!r}")


def case_dry_run(tmp):
    """--dry-run says what would change and writes nothing."""
    out = os.path.join(tmp, "out")
    p = build(out, "--dry-run")
    if os.path.exists(out):
        failures.append("--dry-run created the output directory")
    if "would write " + out + "/education/rss.xml" not in p.stdout or \
            "15 feeds, 15 would change" not in p.stdout:
        failures.append(f"--dry-run said {p.stdout[-300:]!r}")
    build(out, wrap=False)
    before = snapshot(out)
    p = build(out, "--dry-run")
    if snapshot(out) != before or "15 feeds, 0 would change" not in p.stdout:
        failures.append(f"--dry-run on a built tree: {p.stdout[-200:]!r}")


def case_hostile(tmp):
    """Nothing lands outside the output directory; special characters and
    markup survive as text (checked by the consumers in case_golden)."""
    out = os.path.join(tmp, "site", "out")
    os.makedirs(os.path.join(tmp, "site"))
    build(out, wrap=False)
    # Only the state directory and the configuration may be outside.
    allowed = (out, os.path.join(tmp, "state"), CONFIG_TMP, os.path.join(tmp, "site"))
    outside = [p for p in glob.glob(os.path.join(tmp, "**"), recursive=True)
               if not p.startswith(allowed) and os.path.normpath(p) != os.path.normpath(tmp)]
    if outside:
        failures.append(f"written outside the output directory: {outside}")
    for rel in snapshot(out):
        parts = rel.split("/")
        if len(parts) > 2 or any(x in ("", ".", "..") or x.startswith(".") for x in parts):
            failures.append(f"unsafe output path {rel}")
    # A slug planted as a link to elsewhere is refused, not followed.
    victim = os.path.join(tmp, "victim")
    os.makedirs(victim)
    shutil.rmtree(os.path.join(out, "education"))
    os.symlink(victim, os.path.join(out, "education"))
    p = build(out)
    if p.returncode != 1 or os.listdir(victim):
        failures.append(f"symlinked slug: exit {p.returncode}, victim has {os.listdir(victim)}")
    if "education: it is a link or not a directory" not in p.stderr:
        failures.append(f"symlinked slug message: {p.stderr!r}")


def case_empty_archive(tmp):
    """An archive with no captures, or only rejected ones, builds the front
    page and an empty feeds.opml (exit 0, or 3 for the rejection) and no
    feed; captures that all go away later leave the feeds as they were
    last written, no longer listed (undefined behaviour once: qsort of a
    NULL array with no entries)."""
    inp = os.path.join(tmp, "in")
    os.makedirs(inp)
    cfg = config_for(tmp, inputs=inp, name="empty.yaml")
    out = os.path.join(tmp, "out")
    p = build(out, config=cfg)
    opml = os.path.join(out, "feeds.opml")
    if p.returncode != 0 or p.stderr or \
            p.stdout != "0 captures, 0 rejected, 0 feeds, 0 changed\n" or \
            sorted(os.listdir(out)) != [".snapfeed.lock", "feeds.opml", "index.html", "style.css"]:
        failures.append(f"empty archive: exit {p.returncode}, {p.stdout!r} {p.stderr!r}, "
                        f"{sorted(os.listdir(out))}")
    feedcheck.xmllint(opml, failures)
    with open(opml, encoding="utf-8") as f:
        if "<outline" in f.read():
            failures.append("empty archive: feeds.opml lists a feed")
    if pagecheck.check_pages(out, failures) != 1:
        failures.append("empty archive: not one page")
    shutil.copy(os.path.join(CAPTURES, "bad-no-date.txt"), inp)
    p = build(out, config=cfg)
    if p.returncode != 3 or "0 captures" in p.stdout or "1 rejected, 0 feeds" not in p.stdout:
        failures.append(f"only a rejected capture: exit {p.returncode}, {p.stdout!r}")
    # captures come, then all go
    copy_captures(inp, ["edu-full.txt"])
    p = build(out, config=cfg)
    feeds = sorted(d for d in os.listdir(out) if os.path.isdir(os.path.join(out, d)))
    before = {k: v for k, v in snapshot(out).items() if "/" in k}
    for name in os.listdir(inp):
        os.unlink(os.path.join(inp, name))
    p = build(out, config=cfg)
    after = {k: v for k, v in snapshot(out).items() if "/" in k}
    with open(opml, encoding="utf-8") as f:
        listed = "<outline" in f.read()
    if p.returncode != 0 or feeds != ["all", "education"] or after != before or listed:
        failures.append(f"all captures gone: exit {p.returncode}, feeds {feeds}, "
                        f"kept as they were: {after == before}, still listed: {listed}")


def run_as_nobody(args, **kw):
    return subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                           sfwrap.SNAPFEED] + args, capture_output=True, text=True,
                          timeout=120, **kw)


def case_unwritable(tmp):
    """A read-only output directory: exit 1, a clear message, the old feeds
    intact and valid."""
    os.chmod(tmp, 0o755)
    inp, out = os.path.join(tmp, "in"), os.path.join(tmp, "out")
    copy_captures(inp)
    cfg = config_for(tmp, os.path.join(tmp, "in"))
    for dirpath, dirs, names in os.walk(tmp):
        for n in dirs + names:
            os.chmod(os.path.join(dirpath, n), 0o755)
    build(out, config=cfg, wrap=False)
    with open(os.path.join(inp, "zz-new.txt"), "w", encoding="utf-8") as f:
        f.write(NEW_CAPTURE)
    os.chmod(os.path.join(inp, "zz-new.txt"), 0o644)
    os.chmod(os.path.join(out, ".snapfeed.lock"), 0o666)
    before = snapshot(out)
    p = run_as_nobody(["build", "-q", "-c", cfg, "-o", out])
    if p.returncode != 1 or "cannot write" not in p.stderr or "Permission denied" not in p.stderr:
        failures.append(f"read-only output: exit {p.returncode}, stderr {p.stderr!r}")
    if snapshot(out) != before:
        failures.append("read-only output: the old feeds changed")


def case_full_disk(tmp):
    """Writes that fail (a file-size limit standing in for a full disk):
    exit 1, a clear message, old feeds intact, no temporaries left."""
    inp, out = os.path.join(tmp, "in"), os.path.join(tmp, "out")
    copy_captures(inp)
    cfg = config_for(tmp, os.path.join(tmp, "in"))
    build(out, config=cfg, wrap=False)
    with open(os.path.join(inp, "zz-new.txt"), "w", encoding="utf-8") as f:
        f.write(NEW_CAPTURE)
    before = snapshot(out)
    p = subprocess.run(["prlimit", "--fsize=4096", sfwrap.SNAPFEED, "build", "-q", "-c", cfg,
                        "-o", out], capture_output=True, text=True, timeout=120)
    if p.returncode != 1 or "File too large" not in p.stderr:
        failures.append(f"full disk: exit {p.returncode}, stderr {p.stderr!r}")
    if snapshot(out) != before:
        failures.append("full disk: the old feeds changed")
    for f in glob.glob(os.path.join(out, "**", ".*"), recursive=True):
        if f.endswith("-tmp"):
            failures.append(f"full disk: temporary left behind: {f}")
    for f in glob.glob(os.path.join(out, "*", "*.xml")):
        feedcheck.xmllint(f, failures)


def case_lock(tmp):
    """A second run does not interleave: it fails, or with --wait waits."""
    out = os.path.join(tmp, "out")
    build(out, wrap=False)
    fd = os.open(os.path.join(out, ".snapfeed.lock"), os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    p = build(out)
    if p.returncode != 1 or "another snapfeed is building here" not in p.stderr:
        failures.append(f"locked: exit {p.returncode}, stderr {p.stderr!r}")
    proc = subprocess.Popen([sfwrap.SNAPFEED, "build", "-q", "--wait", "-c", CONFIG_TMP, "-o",
                             out],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.5)
    still_waiting = proc.poll() is None
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        failures.append("--wait never finished")
        return
    if not still_waiting or proc.returncode != 3:
        failures.append(f"--wait: waited={still_waiting}, exit {proc.returncode}")


def case_bad_config(tmp):
    """A bad configuration writes nothing."""
    out = os.path.join(tmp, "out")
    cfg = os.path.join(tmp, "feeds.yaml")
    with open(cfg, "w") as f:
        f.write("site: {title: T, base_url: x}\ninputs: [{path: in}]\noutput: {max_items: -1}\n")
    p = sfwrap.run(["build", "-c", cfg, "-o", out])
    want = [f"snapfeed: {cfg}:1:28: site.base_url must be an absolute http or https URL, not 'x'",
            f"snapfeed: {cfg}:3:21: output.max_items must not be negative"]
    if p.returncode != 1 or p.stderr.splitlines() != want or os.path.exists(out):
        failures.append(f"bad config: exit {p.returncode}, stderr {p.stderr!r}")
    p = sfwrap.run(["build", "-c", cfg.replace("feeds", "missing"), "-o", out])
    if p.returncode != 1 or "cannot open: No such file or directory" not in p.stderr:
        failures.append(f"missing config: exit {p.returncode}, stderr {p.stderr!r}")
    # A missing input would empty every feed: refused, nothing written.
    cfg2 = config_for(tmp, os.path.join(tmp, "no-such-dir"))
    p = build(out, config=cfg2)
    if p.returncode != 1 or "input not found" not in p.stderr or os.path.exists(
            os.path.join(out, "all")):
        failures.append(f"missing input: exit {p.returncode}, stderr {p.stderr!r}")


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def main():
    def fresh_config(tmp):
        global CONFIG_TMP
        CONFIG_TMP = config_for(tmp, name="fixtures.yaml")
    return e2eutil.run_cases(CASES, failures, sys.argv[2:], "sf-build-", fresh_config)


if __name__ == "__main__":
    sys.exit(main())
