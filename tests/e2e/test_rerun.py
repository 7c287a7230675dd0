#!/usr/bin/python3
# tests/e2e/test_rerun.py - reruns from cron: the manifest and the output
# state make them cheap, and must never make them wrong.  Work is shown by
# counts (files parsed), never by time.
#
# Usage: test_rerun.py SRCDIR [CASE...]
import os
import re
import shutil
import sys
import time

import e2eutil
from e2eutil import config_for, contents, copy_captures, snapshot

e2eutil.set_source(sys.argv[1])
failures = []


def build(cfg, out, *extra, wrap=True):
    return e2eutil.build(cfg, out, "-v", *extra, wrap=wrap)


def counts(p):
    """(parsed, unchanged) from a -v build's last line."""
    m = re.search(r"(\d+) files parsed, (\d+) unchanged since the last run", p.stdout)
    return (int(m.group(1)), int(m.group(2))) if m else None


def setup(tmp):
    inp = os.path.join(tmp, "in")
    copy_captures(inp)
    return inp, config_for(tmp, inp), os.path.join(tmp, "out")


def reference(tmp, inp):
    """The output of a build that uses no manifest and no state."""
    ref = os.path.join(tmp, "ref")
    e2eutil.build(config_for(tmp, inp, name="ref.yaml"), ref, "--no-manifest", wrap=False)
    return contents(ref)


def same_as_fresh(got, ref):
    """Whether an output equals a fresh build's, but for the archive pages
    of items that left every feed, which are kept (docs/design.md)."""
    extra = set(got) - set(ref)
    return all(got.get(k) == v for k, v in ref.items()) and \
        all(re.fullmatch(r"[^/]+/[0-9a-f]{16}(-[0-9a-f]{16})?\.html", k) for k in extra)


def case_with_and_without_manifest(tmp):
    """A cold build, a rerun and a build without the manifest give the
    same bytes; so do one and eight threads, which also report the same
    feeds and files in the same order."""
    inp, cfg, out = setup(tmp)
    build(cfg, out, "-j1", wrap=False)
    first = contents(out)
    p = build(cfg, out, "-j8")
    if contents(out) != first:
        failures.append("rerun with -j8 changed the output")
    if counts(p) != (0, 76):
        failures.append(f"rerun parsed: {counts(p)}")
    ref = reference(tmp, inp)
    if ref != first:
        failures.append("output with and without the manifest differ: " +
                        str(sorted(k for k in set(ref) | set(first) if ref.get(k) != first.get(k))))
    out8 = os.path.join(tmp, "out8")
    p8 = build(config_for(tmp, inp, name="j8.yaml"), out8, "-j8", "--no-manifest", wrap=False)
    p1 = build(config_for(tmp, inp, name="j1.yaml"), os.path.join(tmp, "out1"), "-j1",
               "--no-manifest", wrap=False)
    if contents(out8) != first:
        failures.append("-j1 and -j8 differ")
    if p8.stdout != p1.stdout or p8.stderr != p1.stderr or "changed rss.xml" not in p1.stdout:
        failures.append(f"-j1 and -j8 report differently: {p1.stdout!r} {p8.stdout!r}")


NEW = """新学期校园开放日活动举行
类别:教育\u00a0发布时间:2025-01-06 09:00:00\u00a0来源:测试晚报

1月6日,多所学校举行校园开放日。

快照生成时间:2025-01-06 12:00:00
"""


def case_bounded_work(tmp):
    """A rerun parses only what is new or changed."""
    inp, cfg, out = setup(tmp)
    p = build(cfg, out, wrap=False)
    if counts(p) != (76, 0):
        failures.append(f"cold build parsed {counts(p)}")
    p = build(cfg, out)
    if counts(p) != (0, 76) or "76 captures, 11 rejected, 15 feeds, 0 changed" not in p.stdout:
        failures.append(f"no-change rerun: {counts(p)} {p.stdout[-200:]!r}")
    # the rejected captures are still reported, from the manifest
    if p.stderr.count("snapfeed: ") < 11 or "bad-empty.txt: empty file" not in p.stderr:
        failures.append(f"rerun lost the rejections: {p.stderr[:300]!r}")
    e2eutil.write_old(os.path.join(inp, "zz-new.txt"), NEW)
    p = build(cfg, out)
    if counts(p) != (1, 76):
        failures.append(f"one new file: {counts(p)}")
    e2eutil.write_old(os.path.join(inp, "crlf.txt"), "\n", "a")
    p = build(cfg, out)
    if counts(p) != (1, 76):
        failures.append(f"one changed file: {counts(p)}")
    os.remove(os.path.join(inp, "zz-new.txt"))
    p = build(cfg, out)
    if counts(p) != (0, 76) or "education/: 8 items" not in p.stdout:
        failures.append(f"one removed file: {counts(p)} {p.stdout[:300]!r}")
    if not same_as_fresh(contents(out), reference(tmp, inp)):
        failures.append("after add, change and remove, the output differs from a fresh build")


def case_racy(tmp):
    """A file whose mtime is not safely before the last run is parsed
    again, whatever its stat says."""
    inp, cfg, out = setup(tmp)
    future = time.time() + 3600
    os.utime(os.path.join(inp, "crlf.txt"), (future, future))
    build(cfg, out, wrap=False)
    for _ in range(2):
        p = build(cfg, out)
        if counts(p) != (1, 75):
            failures.append(f"racy file: {counts(p)}")


def case_racy_unchanged(tmp):
    """A racy file that parses to the record the manifest has is as good
    as unchanged: the rerun stays incremental.  Rewritten behind the same
    stat, it is a change, and the output shows it."""
    inp, cfg, out = setup(tmp)
    build(cfg, out, wrap=False)
    path = os.path.join(inp, "zz-new.txt")
    e2eutil.write_old(path, NEW)
    future = time.time() + 3600
    os.utime(path, (future, future))
    p = build(cfg, out)
    if counts(p) != (1, 76) or refilled(p) != 0:
        failures.append(f"new racy file: {counts(p)}, {refilled(p)} read back")
    p = build(cfg, out)
    if counts(p) != (1, 76) or refilled(p) != 0 or " 0 changed" not in p.stdout:
        failures.append(f"racy file parsed again: {counts(p)}, {refilled(p)} read back, "
                        f"{p.stdout[-120:]!r}")
    # the same size and mtime, another title
    changed = NEW.replace("新学期校园开放日活动举行", "新学年校园开放日活动举行")
    assert len(changed.encode()) == len(NEW.encode())
    with open(path, "w", encoding="utf-8") as f:
        f.write(changed)
    os.utime(path, (future, future))
    p = build(cfg, out)
    if counts(p) != (1, 76) or not refilled(p):
        failures.append(f"racy file rewritten: {counts(p)}, {refilled(p)} read back")
    if "新学年校园开放日活动举行" not in contents(out).get("education/rss.xml", b"").decode():
        failures.append("the rewritten racy file's new title is not in its feed")
    if not same_as_fresh(contents(out), reference(tmp, inp)):
        failures.append("after a racy rewrite, the output differs from a fresh build")


def case_damaged_manifest(tmp):
    """A manifest that is damaged, truncated or foreign is detected: the
    output is what a fresh build gives, and the manifest is rebuilt."""
    inp, cfg, out = setup(tmp)
    build(cfg, out, wrap=False)
    ref = reference(tmp, inp)
    manifest = os.path.join(tmp, "state", "manifest")
    size = os.path.getsize(manifest)

    def damage(how):
        with open(manifest, "r+b") as f:
            if how == "flip":
                f.seek(size // 2)
                b = f.read(16)
                f.seek(size // 2)
                f.write(bytes(x ^ 0x5A for x in b))
            elif how == "truncate":
                f.truncate(size * 2 // 3)
            elif how == "header":
                f.write(b"NOTAMANIFEST")
            elif how == "garbage":
                f.seek(0)
                f.write(os.urandom(size))

    for how in ("flip", "truncate", "header", "garbage"):
        damage(how)
        # also change a capture, so the run cannot stop early on old state
        e2eutil.write_old(os.path.join(inp, "crlf.txt"), "\n", "a")
        p = build(cfg, out)
        c = counts(p)
        if p.returncode != 3 or not c or c[0] == 0:
            failures.append(f"{how}: exit {p.returncode}, counts {c}")
        if how in ("header", "garbage") and "reading every capture again" not in p.stderr:
            failures.append(f"{how}: no word of the unusable manifest: {p.stderr[-300:]!r}")
        got = contents(out)
        ref = reference(tmp, inp)
        if got != ref:
            failures.append(f"{how}: output differs from a fresh build")
        p = build(cfg, out)
        if counts(p) != (0, 76):
            failures.append(f"{how}: the manifest was not rebuilt: {counts(p)}")


M64 = (1 << 64) - 1


def _mix64(x):
    x ^= x >> 32
    x = (x * 0xD6E8FEB86659FD93) & M64
    return x ^ (x >> 32)


def hash_words(h, data):
    """src/util.c's hash_words, to forge a manifest header whose checksum
    is right, so only the field under test differs."""
    h = (h ^ (len(data) * 0x9E3779B97F4A7C15)) & M64
    i = 0
    while len(data) - i >= 8:
        w = int.from_bytes(data[i:i + 8], "little")
        h = ((h ^ _mix64((w * 0xBF58476D1CE4E5B9) & M64)) * 0x94D049BB133111EB) & M64
        i += 8
    n = len(data) - i
    w = int.from_bytes(data[i:] + bytes(8 - n), "little")
    h = ((h ^ _mix64(((w * 0xBF58476D1CE4E5B9) + n) & M64)) * 0x94D049BB133111EB) & M64
    return _mix64(h)


SUM_KEYS = (0xdccdb506bec318e7, 0xfeefdd2c7cf9b98d, 0x45c6fe2740fe4c31,
            0x96847ef72bd45225, 0x869a56cd115d91d1, 0x4a07a46b49ef1027)


def _fold_mul(a, b):
    r = a * b
    return (r ^ (r >> 64)) & M64


def sum64(h, data):
    """src/util.c's sum64, the records' checksum, to forge a record whose
    checksum holds."""
    def step(v, chunk, key):
        a = int.from_bytes(chunk[:8], "little")
        b = int.from_bytes(chunk[8:16], "little")
        return (_fold_mul(a ^ v, b ^ key) + v) & M64

    v = [h ^ k for k in SUM_KEYS[:4]]
    i, n = 0, len(data)
    while n - i >= 64:
        for lane in range(4):
            v[lane] = step(v[lane], data[i + 16 * lane:], SUM_KEYS[lane])
        i += 64
    while n - i >= 16:
        v[0] = step(v[0], data[i:], SUM_KEYS[0])
        i += 16
    left = n - i
    v[1] = step(v[1], data[i:] + bytes(16 - left), SUM_KEYS[1] ^ left)
    r = _fold_mul(v[0] ^ SUM_KEYS[4], v[1] ^ n) ^ _fold_mul(v[2] ^ SUM_KEYS[5], v[3] ^ SUM_KEYS[0])
    return _mix64(r)


# the manifest header (src/manifest.c): magic, u32 format, u32 length,
# u64 settings, u64 version hash, u64 start time, u64 checksum
HEADER_LEN = 48
FIELDS = {"format": (8, 4), "settings": (16, 8), "version": (24, 8)}


def case_foreign_manifest(tmp):
    """A manifest with an intact checksum but another format, another
    program version or other settings is not used: every capture is parsed
    again, the output is a fresh build's, and the manifest is rewritten."""
    inp, cfg, out = setup(tmp)
    build(cfg, out, wrap=False)
    manifest = os.path.join(tmp, "state", "manifest")
    with open(manifest, "rb") as f:
        good = f.read()
    if hash_words(0, good[:HEADER_LEN - 8]) != int.from_bytes(good[HEADER_LEN - 8:HEADER_LEN],
                                                              "little"):
        failures.append("the test's hash_words does not match the header's checksum")
        return
    ref = reference(tmp, inp)
    for field, (off, width) in FIELDS.items():
        head = bytearray(good[:HEADER_LEN])
        old = int.from_bytes(head[off:off + width], "little")
        head[off:off + width] = ((old + 1) & ((1 << (8 * width)) - 1)).to_bytes(width, "little")
        head[HEADER_LEN - 8:] = hash_words(0, bytes(head[:HEADER_LEN - 8])).to_bytes(8, "little")
        with open(manifest, "wb") as f:
            f.write(bytes(head) + good[HEADER_LEN:])
        p = build(cfg, out)
        if counts(p) != (76, 0) or "reading every capture again" not in p.stderr:
            failures.append(f"other {field}: used anyway: {counts(p)} {p.stderr[-200:]!r}")
        if contents(out) != ref:
            failures.append(f"other {field}: output differs from a fresh build")
        p = build(cfg, out)
        if counts(p) != (0, 76):
            failures.append(f"other {field}: the manifest was not rebuilt: {counts(p)}")
        with open(manifest, "rb") as f:
            good = f.read()


def forge_entries(manifest, count):
    """Gives the manifest's first record with entries another entry count,
    count(n), and a checksum that still holds: what only a forged or
    miswritten manifest has.  The record layout is src/manifest.c's."""
    with open(manifest, "rb") as f:
        data = bytearray(f.read())
    pos = HEADER_LEN
    u32 = lambda o: int.from_bytes(data[o:o + 4], "little")
    while pos < len(data):
        n = u32(pos)
        k = pos + 8 + 32
        k += 4 + u32(k)                         # path
        problems, k = u32(k), k + 4
        for _ in range(problems):
            k += 1 + 4 + 4
            k += 4 + u32(k)                     # message
        if u32(k):
            data[k:k + 4] = count(u32(k)).to_bytes(4, "little")
            data[pos + n - 8:pos + n] = sum64(0, bytes(data[pos:pos + n - 8])).to_bytes(
                8, "little")
            with open(manifest, "wb") as f:
                f.write(bytes(data))
            return True
        pos += n
    return False


def case_forged_entries(tmp):
    """A record whose checksum holds but whose entries cannot be read.  A
    count that cannot fit the record is refused at once, like a damaged
    record.  One that fits is trusted by the walk (an unchanged file's
    entries are not decoded) and found when the entries are needed: the
    run then reads every capture, as with no manifest, and says so.  Each
    time the output is a fresh build's and the next run finds a sound
    manifest.  Both runs that read entries back are covered: a new capture
    with no `chosen` to merge into, and nothing new but a feed to write."""
    inp, cfg, out = setup(tmp)
    build(cfg, out, wrap=False)
    manifest = os.path.join(tmp, "state", "manifest")
    steps = [("impossible count", lambda n: 0xFFFFFFF0, "new capture"),
             ("one entry fewer", lambda n: n - 1, "new capture"),
             ("one entry fewer", lambda n: n - 1, "feed deleted")]
    for forged, count, how in steps:
        what = f"forged entries ({forged}), {how}"
        if not forge_entries(manifest, count):
            failures.append(f"{what}: no record with entries to forge")
            return
        if how == "new capture":
            chosen = os.path.join(tmp, "state", "chosen")
            if os.path.exists(chosen):
                os.remove(chosen)
            e2eutil.write_old(os.path.join(inp, f"zz-new-{len(os.listdir(inp))}.txt"), NEW)
        else:
            os.remove(os.path.join(out, "all", "feed.json"))
        p = build(cfg, out)
        said = "reading every capture again" in p.stderr
        if p.returncode != 3 or said != (forged == "one entry fewer"):
            failures.append(f"{what}: exit {p.returncode}, {p.stderr[-300:]!r}")
        if not same_as_fresh(contents(out), reference(tmp, inp)):
            failures.append(f"{what}: output differs from a fresh build")
        p = build(cfg, out)
        if p.returncode != 3 or not counts(p) or counts(p)[0] != 0:
            failures.append(f"{what}: the manifest was not rebuilt: {counts(p)}")


def case_stale_manifest(tmp):
    """An old manifest put back after captures changed, were added and
    removed (a restored backup, a second machine) is checked file by file:
    what changed is parsed, and the output is a fresh build's."""
    inp, cfg, out = setup(tmp)
    build(cfg, out, wrap=False)
    manifest = os.path.join(tmp, "state", "manifest")
    saved = os.path.join(tmp, "manifest.old")
    shutil.copy(manifest, saved)
    e2eutil.write_old(os.path.join(inp, "zz-new.txt"), NEW)
    e2eutil.write_old(os.path.join(inp, "crlf.txt"), "\n", "a")
    os.remove(os.path.join(inp, "published-2561.txt"))
    # same size, same mtime, but another file (another inode): a capture
    # replaced by a copy must not be trusted
    victim = os.path.join(inp, "gb18030.txt")
    st = os.stat(victim)
    with open(victim, "rb") as f:
        data = f.read()
    # written beside it and renamed over it, so the old inode is still
    # taken when the new one is chosen
    with open(victim + ".copy", "wb") as f:
        f.write(data)
    os.utime(victim + ".copy", ns=(st.st_atime_ns, st.st_mtime_ns))
    os.rename(victim + ".copy", victim)
    if os.stat(victim).st_ino == st.st_ino:
        failures.append("stale manifest: the copy has the same inode; the test proves nothing")
    build(cfg, out)
    shutil.copy(saved, manifest)
    p = build(cfg, out)
    # zz-new, crlf and the copied gb18030 are parsed; the removed file is gone
    if counts(p) != (3, 73):
        failures.append(f"stale manifest: {counts(p)}")
    if not same_as_fresh(contents(out), reference(tmp, inp)):
        failures.append("stale manifest: output differs from a fresh build")


def case_damaged_state(tmp):
    """A damaged output state only costs a full render: no file changes."""
    inp, cfg, out = setup(tmp)
    build(cfg, out, wrap=False)
    before = snapshot(out)
    with open(os.path.join(tmp, "state", "outputs"), "r+b") as f:
        f.seek(40)
        f.write(b"\x00garbage\x00")
    p = build(cfg, out)
    if p.returncode != 3 or snapshot(out) != before or "15 feeds, 0 changed" not in p.stdout:
        failures.append(f"damaged state: exit {p.returncode}, {p.stdout[-200:]!r}")


def case_repair(tmp):
    """Files damaged or removed behind snapfeed's back are written again on
    the next run, even though no capture changed."""
    inp, cfg, out = setup(tmp)
    build(cfg, out, wrap=False)
    good = contents(out)
    os.remove(os.path.join(out, "all", "rss.xml"))
    with open(os.path.join(out, "education", "atom.xml"), "ab") as f:
        f.write(b"<!-- tampered -->")
    shutil.rmtree(os.path.join(out, "tech"))
    p = build(cfg, out)
    if contents(out) != good:
        failures.append("damaged output was not repaired")
    if counts(p) != (0, 76) or "15 feeds, 3 changed" not in p.stdout:
        failures.append(f"repair run: {counts(p)} {p.stdout[-200:]!r}")


def case_settings_change(tmp):
    """Changing how feeds look re-renders them without parsing anything;
    changing how captures are read parses them again."""
    inp, cfg, out = setup(tmp)
    build(cfg, out, wrap=False)
    with open(cfg, encoding="utf-8") as f:
        text = f.read()
    with open(cfg, "w", encoding="utf-8") as f:
        f.write(text.replace("title: 快照新闻", "title: 快照新闻二"))
    p = build(cfg, out)
    if counts(p) != (0, 76) or "all/: 50 items, changed" not in p.stdout:
        failures.append(f"title change: {counts(p)} {p.stdout[:200]!r}")
    with open(cfg, "w", encoding="utf-8") as f:
        f.write(text.replace("timezone: Asia/Shanghai", "timezone: Asia/Tokyo"))
    p = build(cfg, out)
    if counts(p) != (76, 0):
        failures.append(f"timezone change: {counts(p)}")


def case_pages(tmp):
    """Pages are units too: a rerun renders (and reads the records of)
    only the feeds that changed; an item page removed by hand comes back;
    the page of an item that left every feed stays, so links to it keep
    working."""
    inp, cfg, out = setup(tmp)
    build(cfg, out, wrap=False)
    first = snapshot(out)
    # Garble a capture of an unchanged feed behind the manifest's back
    # (same size, same mtime): reading it again would be noticed.
    victim = os.path.join(inp, "published-2561.txt")
    st = os.stat(victim)
    with open(victim, "r+b") as f:
        f.write(b"x" * st.st_size)
    os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns))
    e2eutil.write_old(os.path.join(inp, "zz-new.txt"), NEW)
    p = build(cfg, out)
    if "changed while being read" in p.stderr or "tech/: 11 items, unchanged" not in p.stdout:
        failures.append(f"an unchanged feed was rendered again: {p.stderr[-300:]!r}")
    after = snapshot(out)
    if any(after[k] != first[k] for k in first if k.startswith("tech/")):
        failures.append("tech/ changed")
    new_page = [k for k in after if k not in first]
    if len(new_page) != 1 or not new_page[0].startswith("education/"):
        failures.append(f"new files: {new_page}")
        return
    shutil.copy(os.path.join(e2eutil.CAPTURES, "published-2561.txt"), victim)
    e2eutil.write_old(victim, open(victim, encoding="utf-8").read())
    # Removed by hand: written again, byte for byte.
    page = os.path.join(out, new_page[0])
    os.remove(page)
    p = build(cfg, out)
    if not os.path.exists(page) or snapshot(out)[new_page[0]][0] != after[new_page[0]][0]:
        failures.append(f"a removed page was not written again: {p.stdout[-300:]!r}")
    # The item leaves every feed: its page stays as it was.
    kept = snapshot(out)[new_page[0]]
    os.remove(os.path.join(inp, "zz-new.txt"))
    p = build(cfg, out)
    if snapshot(out).get(new_page[0]) != kept:
        failures.append("the page of an item that left the feeds changed or went")
    with open(os.path.join(out, "education", "index.html"), encoding="utf-8") as f:
        if os.path.basename(new_page[0]) in f.read():
            failures.append("education/index.html still lists the item that left")


def refilled(p):
    """Catalog entries read back from the manifest (-v)."""
    m = re.search(r"(\d+) catalog entries read back", p.stdout)
    return int(m.group(1)) if m else None


def capture(title, category, published, body, captured):
    return (f"{title}\n类别:{category}\u00a0发布时间:{published}\u00a0来源:测试晚报\n\n"
            f"{body}\n\n快照生成时间:{captured}\n")


def small_feeds(tmp, inp, name="feeds.yaml"):
    """The test configuration with feeds of 3 items: full feeds, so that
    a new capture can stay out of every feed."""
    cfg = config_for(tmp, inp, name=name)
    with open(cfg, encoding="utf-8") as f:
        text = f.read()
    with open(cfg, "w", encoding="utf-8") as f:
        f.write(text.replace("max_items: 50", "max_items: 3"))
    return cfg


def fresh(tmp, inp):
    """A fresh build's output, without manifest or state."""
    ref = os.path.join(tmp, "ref")
    shutil.rmtree(ref, ignore_errors=True)
    e2eutil.build(small_feeds(tmp, inp, name="ref.yaml"), ref, "--no-manifest", wrap=False)
    return contents(ref)


def case_incremental(tmp):
    """Reruns that only add captures merge them into what the last run
    chose (no catalog entry is read back from the manifest) and give a
    fresh build's bytes; a merge that cannot be certain, and a damaged
    or missing `chosen` file, take the full path, with the same result."""
    inp = os.path.join(tmp, "in")
    copy_captures(inp)
    cfg, out = small_feeds(tmp, inp), os.path.join(tmp, "out")
    p = build(cfg, out, wrap=False)
    n = counts(p)[0]
    if not os.path.exists(os.path.join(tmp, "state", "chosen")):
        failures.append("a full build wrote no chosen file")
    body = "1月7日,多所学校举行校园开放日,家长代表参加了座谈。"
    steps = [
        # (file, capture, incremental?)
        ("zz-01.txt", capture("开放日活动举行", "教育", "2025-01-07 09:00:00", body,
                              "2025-01-07 12:00:00"), True),
        # a re-capture with other content: it wins, `updated` moves
        ("zz-02.txt", capture("开放日活动举行", "教育", "2025-01-07 09:00:00", body + "(更新)",
                              "2025-01-08 12:00:00"), True),
        # the same content captured again: wins, `updated` stays
        ("zz-03.txt", capture("开放日活动举行", "教育", "2025-01-07 09:00:00", body + "(更新)",
                              "2025-01-09 12:00:00"), True),
        # too old for any full feed
        ("zz-04.txt", capture("旧闻一则", "教育", "2001-03-01 09:00:00", "旧的消息。",
                              "2025-01-09 13:00:00"), True),
        # a category never seen
        ("zz-05.txt", capture("新栏目开张", "园艺", "2024-05-01 09:00:00", "花开了。",
                              "2025-01-09 14:00:00"), True),
        # a re-capture of an old winner, older than it: not certain
        ("aa-00.txt", capture("开放日活动举行", "教育", "2025-01-07 09:00:00", body,
                              "2025-01-07 11:00:00"), False),
        # a shown item re-captured into another category of full feeds
        ("zz-06.txt", capture("开放日活动举行", "科技", "2025-01-07 09:00:00", body,
                              "2025-01-10 12:00:00"), False),
        ("zz-07.txt", capture("又一则新闻", "园艺", "2024-06-01 09:00:00", "叶绿了。",
                              "2025-01-10 13:00:00"), True),
    ]
    for name, text, incremental in steps:
        e2eutil.write_old(os.path.join(inp, name), text)
        p = build(cfg, out)
        n += 1
        if p.returncode not in (0, 3) or counts(p) != (1, n - 1):
            failures.append(f"{name}: exit {p.returncode}, parsed {counts(p)}, "
                            f"{p.stderr[-300:]!r}")
        got = refilled(p)
        if incremental and got != 0:
            failures.append(f"{name}: read back {got} catalog entries, not 0")
        if not incremental and not got:
            failures.append(f"{name}: took the incremental path ({got})")
        if not same_as_fresh(contents(out), fresh(tmp, inp)):
            failures.append(f"{name}: the output differs from a fresh build")
    # the new category has its feed
    if "园艺" not in contents(out).get("index.html", b"").decode():
        failures.append("the new category is not on the front page")
    chosen = os.path.join(tmp, "state", "chosen")
    damages = {
        "flipped": lambda d: d[:40] + bytes([d[40] ^ 1]) + d[41:],
        "truncated": lambda d: d[:len(d) // 2],
        "extended": lambda d: d + b"I",
        "empty": lambda d: b"",
        "removed": None,
    }
    for k, (how, damage) in enumerate(damages.items()):
        with open(chosen, "rb") as f:
            data = f.read()
        if damage:
            with open(chosen, "wb") as f:
                f.write(damage(data))
        else:
            os.remove(chosen)
        e2eutil.write_old(os.path.join(inp, f"zz-d{k}.txt"),
                          capture(f"损坏测试{k}", "教育", f"2025-02-0{k + 1} 09:00:00",
                                  "内容。", f"2025-02-0{k + 1} 12:00:00"))
        p = build(cfg, out)
        n += 1
        if p.returncode not in (0, 3) or counts(p) != (1, n - 1) or not refilled(p):
            failures.append(f"{how} chosen file: exit {p.returncode}, parsed {counts(p)}, "
                            f"read back {refilled(p)}")
        if not same_as_fresh(contents(out), fresh(tmp, inp)):
            failures.append(f"{how} chosen file: the output differs from a fresh build")
    # and the file written by that full path serves the next run
    e2eutil.write_old(os.path.join(inp, "zz-08.txt"),
                      capture("最后一则", "园艺", "2024-07-01 09:00:00", "果熟了。",
                              "2025-02-09 12:00:00"))
    p = build(cfg, out)
    if refilled(p) != 0 or not same_as_fresh(contents(out), fresh(tmp, inp)):
        failures.append(f"after the repair: read back {refilled(p)}, or the output differs")


def dir_counts(p):
    """(taken as settled, listed) from a -v build with settled_after."""
    m = re.search(r"(\d+) directories taken as settled, (\d+) listed", p.stdout)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def settled_tree(tmp, settled_after="1h"):
    """The fixtures spread over in/, in/a/, in/b/ and in/b/c/, every file
    and directory last modified long ago, and a configuration that trusts
    settled directories."""
    inp = os.path.join(tmp, "in")
    copy_captures(inp)
    names = sorted(n for n in os.listdir(inp))
    for i, n in enumerate(names):
        sub = ["", "a", "b", os.path.join("b", "c")][i % 4]
        if sub:
            os.makedirs(os.path.join(inp, sub), exist_ok=True)
            os.rename(os.path.join(inp, n), os.path.join(inp, sub, n))
    age_dirs(inp)
    cfg = config_for(tmp, inp)
    with open(cfg, encoding="utf-8") as f:
        text = f.read()
    text = text.replace("  - path: " + inp + "\n",
                        "  - path: " + inp + "\n    settled_after: " + settled_after + "\n")
    with open(cfg, "w", encoding="utf-8") as f:
        f.write(text)
    return inp, cfg, os.path.join(tmp, "out")


def age_dirs(root):
    """Gives every directory under root an old mtime, deepest first."""
    for d, _, _ in sorted(os.walk(root), key=lambda w: -w[0].count(os.sep)):
        os.utime(d, (e2eutil.OLD_MTIME, e2eutil.OLD_MTIME))


def case_settled(tmp):
    """With settled_after, a rerun takes settled directories from the
    dirs cache and stats only their subdirectories; what was added or
    removed anywhere, at any depth, is seen at the next run; the output is
    always a fresh build's.  A capture rewritten in place in a settled
    directory is the documented exception, until --rescan."""
    inp, cfg, out = settled_tree(tmp)
    p = build(cfg, out, "-j1", wrap=False)
    if counts(p) != (76, 0) or dir_counts(p) != (0, 4):
        failures.append(f"cold build: {counts(p)} {dir_counts(p)}")
    if not os.path.exists(os.path.join(tmp, "state", "dirs")):
        failures.append("no dirs file after the cold build")
    ref = reference(tmp, inp)
    if contents(out) != ref:
        failures.append("the cold build with settled_after differs from a plain one")
    for jobs in ("-j1", "-j8"):
        p = build(cfg, out, jobs)
        if counts(p) != (0, 76) or dir_counts(p) != (4, 0) or \
                "76 captures, 11 rejected, 15 feeds, 0 changed" not in p.stdout:
            failures.append(f"no-change rerun {jobs}: {counts(p)} {dir_counts(p)} {p.stdout!r}")
        if p.stderr.count("snapfeed: ") < 11:
            failures.append(f"a settled rerun lost the rejections: {p.stderr[:300]!r}")
    before = os.stat(os.path.join(tmp, "state", "dirs"))
    build(cfg, out)
    after = os.stat(os.path.join(tmp, "state", "dirs"))
    if (before.st_ino, before.st_mtime_ns) != (after.st_ino, after.st_mtime_ns):
        failures.append("a run that changed no directory rewrote the dirs file")

    # a capture added two levels down: in/b is taken as settled, in/b/c
    # is statted, has changed, and is listed
    e2eutil.write_old(os.path.join(inp, "b", "c", "zz-new.txt"), NEW)
    p = build(cfg, out)
    if counts(p) != (1, 76) or dir_counts(p) != (3, 1):
        failures.append(f"one new file below: {counts(p)} {dir_counts(p)}")
    if not same_as_fresh(contents(out), reference(tmp, inp)):
        failures.append("after an addition, the output differs from a fresh build")
    # in/b/c changed just now: not settled, so listed at every run
    p = build(cfg, out)
    if counts(p) != (0, 77) or dir_counts(p) != (3, 1):
        failures.append(f"an unsettled directory: {counts(p)} {dir_counts(p)}")

    # a removal, and a new subdirectory with a capture in it
    gone = sorted(os.listdir(os.path.join(inp, "a")))[0]
    os.remove(os.path.join(inp, "a", gone))
    os.mkdir(os.path.join(inp, "a", "new"))
    e2eutil.write_old(os.path.join(inp, "a", "new", "zz-newer.txt"),
                      NEW.replace("校园开放日", "校园科技节"))
    p = build(cfg, out)
    if counts(p)[0] != 1 or dir_counts(p)[1] < 2:
        failures.append(f"a removal and a new directory: {counts(p)} {dir_counts(p)}")
    if not same_as_fresh(contents(out), reference(tmp, inp)):
        failures.append("after a removal, the output differs from a fresh build")

    # the price: rewritten in place in a settled directory, unseen ...
    victim = os.path.join(inp, "b", sorted(n for n in os.listdir(os.path.join(inp, "b"))
                                           if n.endswith(".txt"))[0])
    e2eutil.write_old(victim, NEW.replace("新学期", "改写的新学期"))
    stale = contents(out)
    p = build(cfg, out)
    if counts(p)[0] != 0 or contents(out) != stale:
        failures.append(f"a rewrite in a settled directory was seen: {counts(p)}")
    # ... until --rescan, which lists and records everything again
    p = build(cfg, out, "--rescan")
    if counts(p)[0] != 1 or dir_counts(p)[0] != 0:
        failures.append(f"--rescan: {counts(p)} {dir_counts(p)}")
    if not same_as_fresh(contents(out), reference(tmp, inp)):
        failures.append("after --rescan, the output differs from a fresh build")
    p = build(cfg, out, "--no-manifest")
    if counts(p)[1] != 0 or dir_counts(p) != (0, 0):
        failures.append(f"--no-manifest used the dirs cache: {counts(p)} {dir_counts(p)}")


def case_settled_expires(tmp):
    """A directory is trusted for settled_after at most: past that, every
    one is listed again, and recorded afresh."""
    inp, cfg, out = settled_tree(tmp, "3")
    started = time.time()
    build(cfg, out, wrap=False)
    time.sleep(max(0.0, started + 4.2 - time.time()))   # bounded: about 4 s
    p = build(cfg, out)
    if counts(p) != (0, 76) or dir_counts(p) != (0, 4):
        failures.append(f"after settled_after: {counts(p)} {dir_counts(p)}")


def case_settled_unsettled(tmp):
    """A directory with a file modified less than settled_after ago is
    listed at every run, so a capture still being written is never taken
    from the cache."""
    inp, cfg, out = settled_tree(tmp)
    with open(os.path.join(inp, "a", "zz-writing.txt"), "w", encoding="utf-8") as f:
        f.write(NEW[:40])
    build(cfg, out, wrap=False)
    for _ in range(2):
        p = build(cfg, out)
        if dir_counts(p) != (3, 1):
            failures.append(f"unsettled: {dir_counts(p)}")
    e2eutil.write_old(os.path.join(inp, "a", "zz-writing.txt"), NEW, "w")
    p = build(cfg, out)
    if not same_as_fresh(contents(out), reference(tmp, inp)) or counts(p)[0] != 1:
        failures.append(f"the finished capture: {counts(p)}")


def case_settled_no_manifest(tmp):
    """With the manifest lost and the dirs cache kept, settled directories
    still come from the cache, which the walk does not open; every capture
    in them is parsed all the same, through its directory opened as it is
    needed, on one job and on many."""
    inp, cfg, out = settled_tree(tmp)
    build(cfg, out, wrap=False)
    ref = reference(tmp, inp)
    for jobs in ("-j1", "-j8"):
        os.remove(os.path.join(tmp, "state", "manifest"))
        p = build(cfg, out, jobs)
        if counts(p) != (76, 0) or dir_counts(p) != (4, 0):
            failures.append(f"no manifest {jobs}: {counts(p)} {dir_counts(p)}")
        if contents(out) != ref:
            failures.append(f"no manifest {jobs}: the output differs from a fresh build")
        if p.stderr.count("snapfeed: ") < 11:
            failures.append(f"no manifest {jobs}: rejections lost: {p.stderr[:300]!r}")


def case_spare(tmp):
    """The state files are written over the spare beside them, the version
    before the last, and swapped with it: after a change the spare is the
    manifest as it was, and a spare longer than what is written over it
    is cut, leaving a manifest the next run takes whole."""
    inp, cfg, out = setup(tmp)
    build(cfg, out, wrap=False)
    state = os.path.join(tmp, "state")
    with open(os.path.join(state, "manifest"), "rb") as f:
        first = f.read()
    e2eutil.write_old(os.path.join(inp, "zz-new.txt"), NEW)
    p = build(cfg, out)
    with open(os.path.join(state, ".manifest.spare"), "rb") as f:
        if f.read() != first:
            failures.append("after a change, the spare is not the manifest before it")
    # many captures gone: the new manifest is shorter than the spare
    names = sorted(n for n in os.listdir(inp) if n.endswith(".txt"))
    for n in names[:30]:
        os.remove(os.path.join(inp, n))
    spare_len = os.path.getsize(os.path.join(state, ".manifest.spare"))
    p = build(cfg, out)
    if os.path.getsize(os.path.join(state, "manifest")) >= spare_len:
        failures.append("the removals did not make the manifest shorter than its spare")
    p = build(cfg, out)
    if counts(p) is None or counts(p)[0] != 0:
        failures.append(f"after writing over a longer spare: {counts(p)} {p.stderr[-200:]!r}")
    # (categories left with no capture keep their files: docs/design.md)
    got = contents(out)
    if any(got.get(k) != v for k, v in reference(tmp, inp).items()):
        failures.append("after writing over a longer spare, the output differs from a fresh build")


def case_damaged_dirs(tmp):
    """A dirs file that is damaged, truncated or foreign is detected: the
    run lists what it cannot trust, gives a fresh build's output, and
    writes the file again."""
    inp, cfg, out = settled_tree(tmp)
    build(cfg, out, wrap=False)
    ref = reference(tmp, inp)
    path = os.path.join(tmp, "state", "dirs")
    for how in ("flip", "flip-index", "truncate", "header", "garbage", "empty"):
        size = os.path.getsize(path)
        with open(path, "r+b") as f:
            if how == "flip":
                f.seek(60)
                b = f.read(8)
                f.seek(60)
                f.write(bytes(x ^ 0x5A for x in b))
            elif how == "flip-index":
                f.seek(size - 40)
                f.write(b"\xff" * 8)
            elif how == "truncate":
                f.truncate(size * 2 // 3)
            elif how == "header":
                f.write(b"NOTADIRSFILE")
            elif how == "garbage":
                f.write(os.urandom(size))
            elif how == "empty":
                f.truncate(0)
        p = build(cfg, out)
        if p.returncode != 3 or counts(p) != (0, 76) or dir_counts(p)[1] == 0:
            failures.append(f"{how}: exit {p.returncode}, {counts(p)} {dir_counts(p)}")
        if how != "flip" and "listing every directory again" not in p.stderr:
            failures.append(f"{how}: no word of the unusable dirs file: {p.stderr[-300:]!r}")
        if contents(out) != ref:
            failures.append(f"{how}: output differs from a fresh build")
        p = build(cfg, out)
        if dir_counts(p) != (4, 0):
            failures.append(f"{how}: the dirs file was not rewritten: {dir_counts(p)}")


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def main():
    return e2eutil.run_cases(CASES, failures, sys.argv[2:], "sf-rerun-")


if __name__ == "__main__":
    sys.exit(main())
