#!/usr/bin/python3
# tests/e2e/test_limits.py - the bounds on input, proven end to end.
#
#   cases   every case of tests/e2e/limits.yaml: one input at or past one
#           limit, its exit status and exact stderr
#   linear  hostile shapes of capture at size S and 2S: the instructions
#           executed (callgrind's Ir, not a clock) grow linearly
#   memory  a 20 GiB sparse capture is refused within a flat peak RSS; a
#           build that runs out of memory (prlimit --as) says so in one
#           line, exits 4, and leaves every feed whole
#
# linear and memory run outside sanitizers and valgrind (the 'scale'
# suite): both change what instructions and memory mean.
#
# Usage: test_limits.py SRCDIR MODE...
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

import e2eutil
import sfwrap

SRC = os.path.abspath(sys.argv[1])
CAPTURES = os.path.join(SRC, "fixtures/captures")
BASE = "site: {title: T, base_url: 'https://example.org/'}\ninputs: [{path: c}]\n"
failures = []


def fail(msg):
    print("FAIL " + msg, flush=True)
    failures.append(msg)


# ---- building inputs -------------------------------------------------------

def write_parts(path, parts):
    """Writes the file the parts describe (see limits.yaml)."""
    with open(path, "wb") as f:
        for p in parts:
            if "sparse" in p:
                f.truncate(p["sparse"])
                f.seek(p["sparse"])
            elif "text" in p:
                f.write(p["text"].replace("BASE", BASE).encode())
            elif "fixture" in p:
                with open(os.path.join(CAPTURES, p["fixture"]), "rb") as g:
                    f.write(g.read())
            elif "repeat" in p:
                f.write(p["repeat"].encode() * p["times"])
            elif "pad_to" in p:
                unit = p["with"].encode()
                left = p["pad_to"] - f.tell()
                f.write(unit * (left // len(unit)) + unit[:left % len(unit)])
            else:
                raise ValueError(f"unknown part {p}")


def jsonl_of(fixtures):
    out = []
    for name in fixtures:
        p = sfwrap.run(["parse", os.path.join(CAPTURES, name)], wrap=False)
        out.append(p.stdout)
    return "".join(out)


# ---- cases ---------------------------------------------------------------------

def check_record(name, got, want):
    for k, v in want.items():
        if k.startswith("n_"):
            have = len(got[k[2:]])
        elif k == "body_bytes":
            have = [len(b.encode()) for b in got["body"]]
        elif k == "category_bytes":
            have = len(got["category"].encode())
        else:
            have = got[k]
        if have != v:
            fail(f"{name}: {k} is {have if len(str(have)) < 200 else str(have)[:200]}, not {v}")


def run_case(tmp, case):
    name = case["name"]
    d = os.path.join(tmp, name)
    os.makedirs(os.path.join(d, "c"))
    if case["run"] == "parse":
        path = os.path.join(d, "c", "input." + ("html" if case.get("format") == "html" else "txt"))
        write_parts(path, case["parts"])
        args = ["parse"] + (["--format", case["format"]] if "format" in case else []) + [path]
    else:
        path = os.path.join(d, "feeds.yaml")
        parts = case["parts"]
        if "jsonl" in case:
            with open(os.path.join(d, "c", "all.jsonl"), "w", encoding="utf-8") as f:
                f.write(jsonl_of(case["jsonl"]))
            parts = [dict(p, text=p["text"].replace(
                "BASE", BASE.replace("{path: c}", "{path: c, format: jsonl}")))
                if "text" in p else p for p in parts]
        write_parts(path, parts)
        for c in case.get("captures", []):
            shutil.copy(os.path.join(CAPTURES, c), os.path.join(d, "c"))
        args = ["build", "-q", "-c", path]
    p = sfwrap.run(args, cwd=d)
    want_err = "".join(line.replace("FILE", path) + "\n" for line in case["stderr"])
    if p.returncode != case["status"]:
        fail(f"{name}: exit status {p.returncode}, not {case['status']}")
    if p.stderr != want_err:
        fail(f"{name}: stderr\n got: {p.stderr[:2000]!r}\nwant: {want_err!r}")
    if case["run"] == "build" and case["status"] == 1:
        written = [k for k in e2eutil.contents(os.path.join(d, "public"))]
        if written:
            fail(f"{name}: a refused build wrote {written[:5]}")
    if "record" in case:
        lines = p.stdout.splitlines()
        if len(lines) != 1:
            fail(f"{name}: {len(lines)} records printed, not 1")
        else:
            check_record(name, json.loads(lines[0]), case["record"])
    print(f"{name}: {'ok' if not [f for f in failures if f.startswith(name + ':')] else 'FAIL'}",
          flush=True)


def mode_cases(tmp):
    with open(os.path.join(SRC, "tests/e2e/limits.yaml"), encoding="utf-8") as f:
        cases = yaml.safe_load(f)
    names = [c["name"] for c in cases]
    if len(set(names)) != len(names) or len(cases) < 20:
        fail("limits.yaml: case names repeat, or cases are missing")
    for case in cases:
        run_case(tmp, case)


# ---- linear ----------------------------------------------------------------------

NBSP = "\u00a0"
HEAD = ("• 首页\n测试标题\n类别:教育" + NBSP + "发布时间:2023-10-27 20:28:00" + NBSP +
        "来源:本站\n\n")
FOOT = ("\n以上内容为资讯信息快照，由td.fyun.cc爬虫进行采集\n快照生成时间:2023-10-28 08:00:00\n"
        "信息原文地址:\n")
ITEM = "相关标题\n相关摘要\n2023-10-27 20:28\n"

# name -> a capture of about n bytes.  Single lines stay under the 1 MiB
# line limit at 2S, or the cut would hide what the rest of the line costs.
SHAPES = {
    "colons": (1 << 18, lambda n: HEAD + ":" * n + "\n" + FOOT),
    "colons-meta": (1 << 18, lambda n: "测试标题\n类别:" + ":" * n + NBSP +
                    "发布时间:2023-10-27 20:28:00\n\n正文\n" + FOOT),
    "spaced-colons-meta": (1 << 18, lambda n: "测试标题\n类别:教育 " + ": " * (n // 2) +
                           "发布时间:2023-10-27 20:28:00\n\n正文\n" + FOOT),
    "crumbs": (1 << 20, lambda n: "• 首页\n" * (n // 9) + "测试标题\n" +
               "类别:教育 发布时间:2023-10-27 20:28:00\n\n正文\n" + FOOT),
    "crumb-lines-in-body": (1 << 18, lambda n: HEAD + "• 要点\n" * (n // 9) + FOOT),
    "tiny-paragraphs": (1 << 20, lambda n: HEAD + "字\n\n" * (n // 5) + FOOT),
    "kept-paragraphs": (1 << 16, lambda n: HEAD + "一段短短的文字。\n\n" * (n // 26) + FOOT),
    "nbsp-meta": (1 << 18, lambda n: "测试标题\n类别:教育" + NBSP + ("键:值" + NBSP) * (n // 9) +
                  "发布时间:2023-10-27 20:28:00\n\n正文\n" + FOOT),
    "header-lines": (1 << 19, lambda n: HEAD + "作者:某人\n" * (n // 14) + "\n正文\n" + FOOT),
    "related": (1 << 20, lambda n: HEAD + "正文\n" + FOOT + ITEM * (n // len(ITEM.encode()))),
    "kept-related": (1 << 14, lambda n: HEAD + "正文\n" + FOOT + ITEM * (n // len(ITEM.encode()))),
    "listing": (1 << 20, lambda n: HEAD + "正文\n" + FOOT + "更多关于教育的资讯:\n" +
                ITEM * (n // len(ITEM.encode()))),
    "one-line-file": (1 << 18, lambda n: "测" * (n // 3)),
    "title-line": (1 << 17, lambda n: "题" * (n // 3) + "\n类别:教育 发布时间:2023-10-27 20:28:00\n\n正文\n"),
    "wrapped-paragraph": (1 << 17, lambda n: HEAD + "折行文字\n" * (n // 13) + FOOT),
    "long-paragraph": (1 << 17, lambda n: HEAD + "这是一段很长的文字。" * (n // 30) + "\n" + FOOT),
    # the other inputs, and feeds.yaml
    "html-paragraphs": (1 << 17, lambda n: ("html", PAGE.format("<p>一段文字。</p>\n" * (n // 30)))),
    "html-nesting": (1 << 19, lambda n: ("html", PAGE.format("<div>" * (n // 11) + "正文" +
                                                              "</div>" * (n // 11)))),
    "jsonl-related": (1 << 18, lambda n: ("jsonl", json.dumps({
        "title": "标题", "published": "2023-10-27T20:28:00+08:00", "body": ["正文"],
        "related": [{"title": "相关", "snippet": "摘要"}] * (n // 40)}, ensure_ascii=False) + "\n")),
    "feeds-list": (2000, lambda n: ("config", "".join(
        "- {category: 类别%d, slug: s%d}\n" % (i, i) for i in range(n)))),
}
PAGE = ("<!DOCTYPE html><html><head><title>标题</title><meta property=\"article:published_time\" "
        "content=\"2023-10-27T20:28:00+08:00\"></head><body><article><h1>标题</h1>{}"
        "</article></body></html>")
MAX_RATIO = 2.6


def instructions(args, cwd):
    # MALLOC_PERTURB_ (which meson test sets at random) makes glibc fill
    # every block allocated and freed: the count then includes the bytes
    # allocated, so a buffer reallocated once per write shows as the
    # quadratic it is.  Fixed here, so counts do not depend on meson.
    e = dict(os.environ, MALLOC_PERTURB_="165")
    p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                        sfwrap.SNAPFEED] + args, cwd=cwd, capture_output=True, text=True,
                       timeout=600, env=e)
    m = re.search(r"Collected : (\d+)", p.stderr)
    if not m or p.returncode not in (0, 3):
        fail(f"callgrind: {args}: status {p.returncode}: {p.stderr[-500:]}")
        return None
    return int(m.group(1))


def build_ir(tmp, name, made):
    """Builds one input (a capture, or (format, text)) and counts the work."""
    kind, text = made if isinstance(made, tuple) else ("snapshot", made)
    d = os.path.join(tmp, name)
    os.makedirs(os.path.join(d, "c"))
    ext = {"snapshot": "txt", "html": "html", "jsonl": "jsonl", "config": "txt"}[kind]
    with open(os.path.join(d, "c", "a." + ext), "w", encoding="utf-8") as f:
        f.write(HEAD + "正文\n" + FOOT if kind == "config" else text)
    with open(os.path.join(d, "feeds.yaml"), "w", encoding="utf-8") as f:
        if kind == "config":
            f.write(BASE + "feeds:\n" + text)
        else:
            f.write(BASE.replace("{path: c}", "{path: c, format: %s}" % kind))
    # one thread: the count is then of one deterministic sequence
    return instructions(["build", "-q", "-j", "1", "--no-manifest", "-c", "feeds.yaml"], d)


def mode_linear(tmp):
    """Ir(2S)/Ir(S), with the cost of a tiny capture (start-up, writing
    the feeds) taken off both: what is left is what the size costs."""
    for name, (size, make) in SHAPES.items():
        base = build_ir(tmp, name + "-0", make(64))
        one = build_ir(tmp, name + "-1", make(size))
        two = build_ir(tmp, name + "-2", make(2 * size))
        if None in (base, one, two):
            continue
        ratio = (two - base) / max(one - base, 1)
        print(f"linear: {name}: S={size} Ir {base} / {one} / {two}: ratio {ratio:.3f}", flush=True)
        if ratio > MAX_RATIO:
            fail(f"linear: {name}: doubling the input multiplied the work by {ratio:.2f}")


# ---- memory ----------------------------------------------------------------------

def mode_memory(tmp):
    # A 20 GiB capture (sparse: no disk used) is refused from its size:
    # peak RSS stays that of a tiny capture's run (reading it would add
    # at least the 16 MiB limit).
    d = os.path.join(tmp, "sparse")
    os.makedirs(d)
    huge = os.path.join(d, "huge.txt")
    with open(huge, "wb") as f:
        f.truncate(20 << 30)
    small_rc, small = e2eutil.peak_rss_kib(["parse", os.path.join(CAPTURES, "edu-full.txt")])
    huge_rc, big = e2eutil.peak_rss_kib(["parse", huge])
    p = sfwrap.run(["parse", huge], wrap=False)
    print(f"memory: 20 GiB sparse capture: status {huge_rc}, peak RSS {big} KiB "
          f"(a tiny capture: {small} KiB)", flush=True)
    if huge_rc != 3 or p.stderr != f"snapfeed: {huge}: larger than the 16 MiB capture limit\n":
        fail(f"memory: the 20 GiB capture: status {huge_rc}, stderr {p.stderr!r}")
    if small_rc != 0 or big > small + 4096:
        fail(f"memory: the 20 GiB capture took {big} KiB, a tiny one {small} KiB")
    out_of_memory(tmp)


OOM = re.compile(r"snapfeed: out of memory \(\d+ bytes\)\n")


def limited_build(cfg, out, as_bytes):
    e = dict(os.environ, ASAN_OPTIONS="")
    return subprocess.run(["prlimit", f"--as={as_bytes}", "--core=0", sfwrap.SNAPFEED, "build",
                           "-q", "-j", "2", "-c", cfg, "-o", out], capture_output=True, text=True,
                          timeout=300, env=e)


def out_of_memory(tmp):
    """Feeds built from the fixtures; then a 12 MB capture is added and
    the build is rerun under address-space limits from too small to load
    the program to enough.  At every limit the run either succeeds, or
    prints exactly the one line and exits 4; either way every file in the
    output is the old or the new version, whole, and the next run without
    a limit repairs everything."""
    d = os.path.join(tmp, "oom")
    caps = os.path.join(d, "c")
    e2eutil.copy_captures(caps)
    for n in os.listdir(caps):
        if n.startswith("bad-"):
            os.unlink(os.path.join(caps, n))
    cfg = e2eutil.config_for(d, inputs=caps)
    old_out, new_out = os.path.join(d, "out"), os.path.join(d, "reference")
    if e2eutil.build(cfg, old_out, "-q", wrap=False).returncode != 0:
        fail("oom: the first build failed")
        return
    old = e2eutil.contents(old_out)
    # The big capture: 12 MB of short paragraphs, a new article of 教育.
    e2eutil.write_old(os.path.join(caps, "zz-big.txt"),
                      "一篇很长的文章\n类别:教育 发布时间:2024-03-20 10:00:00 来源:本站\n\n" +
                      "很长的一段文字，内存不够时会在这里用完。\n" * 200000 +
                      "\n以上内容为资讯信息快照\n快照生成时间:2024-03-20 12:00:00\n")
    state = os.path.join(d, "state")
    pristine_state, pristine_out = os.path.join(d, "state-first"), os.path.join(d, "out-first")
    shutil.copytree(state, pristine_state)
    shutil.copytree(old_out, pristine_out)
    if e2eutil.build(cfg, new_out, "-q", "--no-manifest", wrap=False).returncode != 0:
        fail("oom: the reference build failed")
        return
    new = e2eutil.contents(new_out)

    def attempt(mib):
        """A rerun over the first build's output and state."""
        for tree, pristine in ((state, pristine_state), (old_out, pristine_out)):
            shutil.rmtree(tree)
            shutil.copytree(pristine, tree)
        p = limited_build(cfg, old_out, mib << 20)
        got = e2eutil.contents(old_out)
        for k in set(got) | set(old) | set(new):
            if k.startswith(".") or os.path.basename(k).startswith("."):
                continue   # temporaries a killed run leaves; the next run removes them
            if got.get(k) not in (old.get(k), new.get(k)) or (k not in got and k in old):
                fail(f"oom: at {mib} MiB, {k} is neither the old nor the new version")
        return p

    # The least limit at which the program loads, and the least at which
    # the build succeeds, by bisection; then every MiB from the first to
    # well into the range where only the big capture's memory is missing.
    lo, hi = 8, 2048
    while hi - lo > 1:
        mid = (lo + hi) // 2
        p = limited_build(cfg, os.path.join(d, "scratch"), mid << 20)
        shutil.rmtree(os.path.join(d, "scratch"), ignore_errors=True)
        if p.returncode == 0:
            hi = mid
        else:
            lo = mid
    enough = hi
    seen_oom = 0
    outcomes = {}
    for mib in sorted(set(list(range(max(enough - 160, 8), enough, 8)) + [enough - 1, enough])):
        p = attempt(mib)
        if p.returncode == 127 and "error while loading shared libraries" in p.stderr:
            outcome = "cannot load"
        elif p.returncode == 0 and not p.stderr:
            outcome = "ok"
        elif p.returncode == 4 and OOM.fullmatch(p.stderr):
            outcome = "out of memory"
            seen_oom += 1
        else:
            outcome = f"status {p.returncode}: {p.stderr[:300]!r}"
            fail(f"oom: at {mib} MiB: {outcome}")
        outcomes.setdefault(outcome, []).append(mib)
    print(f"memory: out of memory: the build needs {enough} MiB of address space; "
          + "; ".join(f"{k} at {v[0]}-{v[-1]} MiB ({len(v)})" for k, v in outcomes.items()),
          flush=True)
    if seen_oom < 3:
        fail(f"oom: only {seen_oom} limits ran out of memory: {outcomes}")
    # The old feeds survive a run that died for memory, untouched, when
    # it died before writing anything: the lowest limit that loads.
    p = attempt(min(outcomes.get("out of memory", [enough])))
    if e2eutil.contents(old_out) != old:
        fail("oom: the run that died first changed the feeds")
    # The next run, with memory, repairs everything.
    p = e2eutil.build(cfg, old_out, "-q", wrap=False)
    if p.returncode != 0 or e2eutil.contents(old_out) != new:
        fail(f"oom: the run after did not repair the output: {p.returncode} {p.stderr[:300]}")
    stale = [k for k in e2eutil.contents(old_out) if k.endswith(".tmp")]
    if stale:
        fail(f"oom: temporaries left after the repairing run: {stale[:5]}")


MODES = {"cases": mode_cases, "linear": mode_linear, "memory": mode_memory}


def main():
    e2eutil.set_source(SRC)
    modes = sys.argv[2:] or list(MODES)
    with tempfile.TemporaryDirectory(prefix="snapfeed-limits-") as tmp:
        for m in modes:
            os.makedirs(os.path.join(tmp, m))
            MODES[m](os.path.join(tmp, m))
    print("limits: " + ("FAIL" if failures else "ok"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
