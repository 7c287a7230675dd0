#!/usr/bin/python3
# tests/e2e/test_faults.py - faults during a build: SIGKILL at chosen
# points, a full state or output directory, a file where a directory
# should be, captures that are unreadable, vanish, loop or are no files at
# all; a build killed between its renames and its WebSub pings.  The
# faults come on cue from tests/e2e/faultlib.c, preloaded; the
# snapfeed under test is the one installed.
#
# Usage: test_faults.py SRCDIR FAULTLIB GEN_CAPTURES [CASE...]
import glob
import json
import os
import re
import resource
import shutil
import subprocess
import sys

import collections

import feedcheck
import hub as testhub
import sfwrap

import e2eutil

e2eutil.set_source(sys.argv[1])
FAULTLIB, GEN = os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3])
failures = []

OLD_COUNT, NEW_COUNT = 240, 30
TMP_SUFFIX = ".snapfeed-tmp"


def fault_env(**faults):
    # Under ASan the preloaded library comes before its runtime, harmlessly.
    e = {"LD_PRELOAD": FAULTLIB,
         "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"}
    e.update({"SF_FAULT_" + k.upper(): v for k, v in faults.items()})
    return e


def read_counts(path):
    """What faultlib.c's SF_FAULT_COUNT wrote: call (and "fds") -> number."""
    with open(path) as f:
        return {k: int(v) for k, v in (line.split() for line in f)}


def fd_limit(limit):
    """A preexec_fn that sets RLIMIT_NOFILE to limit (None: leaves it)."""
    def set_limit():
        if limit:
            resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
    return set_limit


def run(cfg, *extra, env=None, wrap=False):
    """A build; faulted runs are never wrapped: valgrind would preload its
    own library, and a killed process reports nothing."""
    return sfwrap.run(["build", "-q", "-c", cfg] + list(extra), env=env, wrap=wrap)


def tree(root):
    """path -> bytes of every file under root but the lock (links are
    reported as such, never followed)."""
    files = {}
    for dirpath, dirs, names in os.walk(root):
        for n in names:
            p = os.path.join(dirpath, n)
            rel = os.path.relpath(p, root)
            if n == ".snapfeed.lock":
                continue
            if os.path.islink(p):
                files[rel] = ("link", os.readlink(p))
                continue
            with open(p, "rb") as f:
                files[rel] = f.read()
    return files


def state_view(state):
    """The state directory without what differs between any two runs: the
    manifest's start time (and its checksum), the outputs file's mtimes
    (and its sum)."""
    view = {}
    for rel, data in tree(state).items():
        if rel.endswith(".spare"):
            continue    # the version before the last, to be written over
        if rel == "manifest":
            data = data[:32] + data[48:]   # magic, format, settings, version | started, sum
        elif rel == "outputs":
            lines = []
            for line in data.decode().splitlines():
                if line.startswith("file "):
                    line = line.rsplit(" ", 1)[0]
                if not line.startswith("sum "):
                    lines.append(line)
            data = "\n".join(lines)
        view[rel] = data
    return view


class Corpus:
    """A generated archive built once (the old version), then grown by new
    captures, one changed and one removed (the new version).  work/ is
    where each faulted run happens, reset from the old build each time;
    the paths never change, so manifests compare byte for byte."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.caps = os.path.join(tmp, "caps")
        self.work = os.path.join(tmp, "work")
        self.out = os.path.join(self.work, "out")
        self.state = os.path.join(self.work, "state")
        self.cfg = os.path.join(tmp, "feeds.yaml")
        with open(self.cfg, "w", encoding="utf-8") as f:
            f.write("site: {title: 故障测试, base_url: 'https://faults.example/'}\n"
                    f"inputs: [{{path: {self.caps}}}]\n"
                    f"output: {{dir: {self.out}, state_dir: {self.state}}}\n")
        gen = [GEN, "--seed", "11", "--out", self.caps]
        subprocess.run(gen + ["--count", str(OLD_COUNT)], check=True, stdout=subprocess.DEVNULL,
                       timeout=120)
        self.age()
        p = run(self.cfg)
        if p.returncode != 0:
            raise SystemExit(f"old build: exit {p.returncode}: {p.stderr}")
        self.base = os.path.join(tmp, "base")
        shutil.copytree(self.work, self.base, symlinks=True)
        self.old = tree(os.path.join(self.base, "out"))
        # the new version: more captures, one rewritten, one gone
        subprocess.run(gen + ["--start", str(OLD_COUNT), "--count", str(NEW_COUNT)], check=True,
                       stdout=subprocess.DEVNULL, timeout=120)
        files = sorted(glob.glob(os.path.join(self.caps, "**", "*.txt"), recursive=True))
        os.unlink(files[0])
        with open(files[-1], encoding="utf-8") as f:
            text = f.read()
        with open(files[-1], "w", encoding="utf-8") as f:
            f.write(text.replace("\n\n", "\n\n改写的一段。\n\n", 3))
        self.age()

    def age(self):
        for p in glob.glob(os.path.join(self.caps, "**", "*.txt"), recursive=True):
            os.utime(p, (e2eutil.OLD_MTIME, e2eutil.OLD_MTIME))

    def reset(self):
        shutil.rmtree(self.work, ignore_errors=True)
        shutil.copytree(self.base, self.work, symlinks=True)

    def reference(self):
        """The new version built without faults over the old build: what
        every repaired run must leave, output and state."""
        self.reset()
        counts = os.path.join(self.tmp, "counts")
        p = run(self.cfg, env=fault_env(count=counts))
        if p.returncode != 0:
            raise SystemExit(f"new build: exit {p.returncode}: {p.stderr}")
        self.new = tree(self.out)
        self.new_state = state_view(self.state)
        with open(counts) as f:
            self.counts = {k: int(v) for k, v in (line.split() for line in f)}
        for rel in self.new:
            p = os.path.join(self.out, rel)
            if rel.endswith(".xml") or rel.endswith(".opml"):
                feedcheck.xmllint(p, failures)
            elif rel.endswith(".json"):
                with open(p, encoding="utf-8") as f:
                    json.load(f)
        changed = [r for r in self.new if self.old.get(r) != self.new[r]]
        if len(changed) < 20:
            failures.append(f"the new version changes only {changed}")

    def check_repaired(self, what, wrap=False):
        """The next run, without faults and without --wait, leaves exactly
        what an uninterrupted build leaves."""
        p = run(self.cfg, wrap=wrap)
        if p.returncode != 0:
            failures.append(f"{what}: the next run: exit {p.returncode}, {p.stderr[-300:]!r}")
            return
        got = tree(self.out)
        if got != self.new:
            diff = sorted(set(got) ^ set(self.new)) or [r for r in got if got[r] != self.new[r]]
            failures.append(f"{what}: not repaired: {diff[:5]}")
        st = state_view(self.state)
        if st != self.new_state:
            failures.append(f"{what}: state not repaired: "
                            f"{[r for r in set(st) | set(self.new_state) if st.get(r) != self.new_state.get(r)]}")

    def check_whole(self, what):
        """Every file a reader can see is the old or the new version, whole;
        nothing of the old build is missing."""
        got = tree(self.out)
        for rel, data in got.items():
            name = os.path.basename(rel)
            if name.startswith(".") and name.endswith(TMP_SUFFIX):
                continue    # hidden, and removed by the next run (checked there)
            if data != self.old.get(rel) and data != self.new.get(rel):
                failures.append(f"{what}: {rel} is neither the old nor the new version")
        missing = [r for r in self.old if r not in got]
        if missing:
            failures.append(f"{what}: lost {missing[:5]}")


def case_killed(tmp):
    """SIGKILL just before the k-th rename, write or fsync of a build, for
    k spanning the whole build (the manifest's rename, between two feeds'
    renames, after the last feed and before the state, the last directory
    sync): every file is the old or the new version, whole, and the next
    run, without --wait, repairs everything."""
    c = Corpus(tmp)
    c.reference()
    points = []
    for call in ("rename", "write", "fsync"):
        n = c.counts[call]
        ks = {1, 2, 3, n // 4, n // 2, 3 * n // 4, n - 2, n - 1, n}
        points += [(call, k) for k in sorted(k for k in ks if 1 <= k <= n)]
    for i, (call, k) in enumerate(points):
        what = f"killed before {call} {k} of {c.counts[call]}"
        c.reset()
        p = run(c.cfg, env=fault_env(kill=f"{call}:{k}"))
        if p.returncode != -9:
            failures.append(f"{what}: not killed (exit {p.returncode})")
            continue
        c.check_whole(what)
        # valgrind over some of the repairs: they read what a kill left
        c.check_repaired(what, wrap=i % 9 == 0)
    print(f"killed: {len(points)} points over rename {c.counts['rename']}, "
          f"write {c.counts['write']}, fsync {c.counts['fsync']}")
    # Killed twice: the repair run killed too, then a clean run.
    c.reset()
    run(c.cfg, env=fault_env(kill=f"rename:{c.counts['rename'] // 2}"))
    p = run(c.cfg, env=fault_env(kill=f"rename:{c.counts['rename'] // 3}"))
    c.check_whole("killed twice")
    c.check_repaired("killed twice")


def case_full_state(tmp):
    """No space in the state directory, then in the output directory: exit
    1 with a line naming the file, feeds in place whole; the next run
    repairs everything."""
    c = Corpus(tmp)
    c.reference()
    cases = [
        # the manifest is written before any feed: nothing changes
        ("state/.manifest.spare", "cannot write the manifest: No space left on device", True),
        # the outputs file after the feeds: they are new and whole
        ("state/.outputs.tmp", "state/outputs: cannot write: No space left on device", False),
        ("out/", ": No space left on device", True),
    ]
    for where, msg, unchanged in cases:
        c.reset()
        p = run(c.cfg, env=fault_env(enospc=os.path.join(c.work, where)))
        what = f"no space in {where}"
        lines = p.stderr.splitlines()
        if p.returncode != 1 or len(lines) != 1 or msg not in lines[0]:
            failures.append(f"{what}: exit {p.returncode}, stderr {p.stderr!r}")
        c.check_whole(what)
        if unchanged and tree(c.out) != c.old:
            failures.append(f"{what}: the old feeds changed")
        leftovers = [r for r in tree(c.work) if r.endswith(TMP_SUFFIX) or r.endswith(".tmp")]
        if leftovers:
            failures.append(f"{what}: temporaries left: {leftovers}")
        c.check_repaired(what, wrap=True)


def case_no_exchange(tmp):
    """The state files take the old ones' places by swapping names
    (RENAME_EXCHANGE) and removing the old: nothing is left behind.  Where
    the file system cannot swap, they are renamed over them instead, with
    the same output and state; and the next run finds nothing to do."""
    c = Corpus(tmp)
    c.reference()
    leftovers = [r for r in tree(c.state) if r.endswith(".tmp")]
    if leftovers:
        failures.append(f"state temporaries left: {leftovers}")
    c.reset()
    p = run(c.cfg, env=fault_env(no_exchange="1"))
    if p.returncode != 0:
        failures.append(f"no exchange: exit {p.returncode}, {p.stderr[-300:]!r}")
    if tree(c.out) != c.new or state_view(c.state) != c.new_state:
        failures.append("no exchange: not what a build with it leaves")
    leftovers = [r for r in tree(c.state) if r.endswith(".tmp")]
    if leftovers:
        failures.append(f"no exchange: temporaries left: {leftovers}")
    p = sfwrap.run(["build", "-v", "-c", c.cfg], env=fault_env(no_exchange="1"), wrap=False)
    if p.returncode != 0 or ", 0 changed" not in p.stdout or "0 files parsed" not in p.stdout:
        failures.append(f"no exchange: the next run: {p.stdout[-300:]!r}")


def small_site(tmp, extra_input=""):
    """The fixtures' captures in tmp/in, a configuration, a first build."""
    inp = os.path.join(tmp, "in")
    e2eutil.copy_captures(inp, [n for n in os.listdir(e2eutil.CAPTURES)
                                if not n.startswith("bad-")])
    cfg = e2eutil.config_for(tmp, inp, extra=extra_input)
    out = os.path.join(tmp, "out")
    p = sfwrap.run(["build", "-q", "-c", cfg, "-o", out], wrap=False)
    if p.returncode not in (0, 3):
        raise SystemExit(f"first build: {p.stderr}")
    return inp, cfg, out


def item_titles(out):
    """(feed, title) of every item in every JSON feed."""
    titles = set()
    for path in glob.glob(os.path.join(out, "*", "feed.json")):
        with open(path, encoding="utf-8") as f:
            feed = os.path.basename(os.path.dirname(path))
            titles |= {(feed, it["title"]) for it in json.load(f)["items"]}
    return titles


def titles_without(tmp, cfg, inp, name):
    """The items of a clean build of the captures but name."""
    held = os.path.join(tmp, "held-" + name)
    os.rename(os.path.join(inp, name), held)
    out = os.path.join(tmp, "out-without")
    sfwrap.run(["build", "-q", "-c", cfg, "-o", out, "--no-manifest"], wrap=False)
    os.rename(held, os.path.join(inp, name))
    titles = item_titles(out)
    shutil.rmtree(out)
    return titles


def case_not_a_directory(tmp):
    """A regular file where a feed's directory goes, and an output
    directory that is a file: exit 1 naming it; no feed is touched."""
    inp, cfg, out = small_site(tmp)
    shutil.rmtree(os.path.join(out, "tech"))
    with open(os.path.join(out, "tech"), "w") as f:
        f.write("not a directory\n")
    e2eutil.write_old(os.path.join(inp, "zz-new.txt"), NEW_CAPTURE)
    before = tree(out)
    p = sfwrap.run(["build", "-q", "-c", cfg, "-o", out])
    if (p.returncode != 1 or
            p.stderr.strip() != f"snapfeed: {out}: cannot open directory tech: "
                                "it is a link or not a directory"):
        failures.append(f"file for a feed directory: exit {p.returncode}, {p.stderr!r}")
    if tree(out) != before:
        failures.append("file for a feed directory: the feeds changed")
    blocker = os.path.join(tmp, "file-out")
    with open(blocker, "w") as f:
        f.write("x\n")
    for target, msg in ((blocker, "cannot open output directory: Not a directory"),
                        (os.path.join(blocker, "sub"), "cannot create directory: Not a directory")):
        p = sfwrap.run(["build", "-q", "-c", cfg, "-o", target])
        if p.returncode != 1 or msg not in p.stderr or len(p.stderr.splitlines()) != 1:
            failures.append(f"output dir {target} a file: exit {p.returncode}, {p.stderr!r}")


NEW_CAPTURE = """• 我的订阅
  • 科技

新型储能电站并网发电

类别:科技\u00a0发布时间:2025-02-03 09:00:00\u00a0来源:测试晚报

本文转自:测试日报

2月3日,一座新型储能电站并网发电。

快照生成时间:2025-02-03 12:00:00
"""


def case_symlinked_output(tmp):
    """The configured output directory may itself be a link (the operator
    chose it); links planted inside it are never followed: a link over a
    feed file is replaced by the file, the target untouched; a planted
    temporary or lock that is a link is not written through."""
    inp, cfg, out = small_site(tmp)
    real = os.path.join(tmp, "real-out")
    os.rename(out, real)
    os.symlink(real, out)
    e2eutil.write_old(os.path.join(inp, "zz-new.txt"), NEW_CAPTURE)
    victim = os.path.join(tmp, "passwd")
    with open(victim, "w") as f:
        f.write("root:x:0:0::/root:/bin/sh\n")
    planted = [os.path.join(real, "tech", "rss.xml"), os.path.join(real, "feeds.opml"),
               os.path.join(real, "tech", ".atom.xml" + TMP_SUFFIX),
               os.path.join(real, "all", ".feed.json" + TMP_SUFFIX)]
    for p in planted:
        if os.path.exists(p):
            os.unlink(p)
        os.symlink(victim, p)
    p = sfwrap.run(["build", "-q", "-c", cfg, "-o", out])
    if p.returncode not in (0, 3) or p.stderr.strip():
        failures.append(f"planted links: exit {p.returncode}, {p.stderr!r}")
    with open(victim) as f:
        if f.read() != "root:x:0:0::/root:/bin/sh\n":
            failures.append("planted links: the target outside was written")
    for p in planted[:2]:
        if os.path.islink(p) or not os.path.isfile(p):
            failures.append(f"planted link {p} is still a link")
    for p in planted[2:]:
        if os.path.lexists(p):
            failures.append(f"planted temporary {p} left")
    if ("all", "新型储能电站并网发电") not in item_titles(out):
        failures.append("through a linked output directory: the new item is missing")
    feedcheck.xmllint(os.path.join(real, "tech", "rss.xml"), failures)
    # A lock planted as a link: refused, the target untouched.
    lock = os.path.join(real, ".snapfeed.lock")
    os.unlink(lock)
    os.symlink(os.path.join(tmp, "no-such-lock-target"), lock)
    p = sfwrap.run(["build", "-q", "-c", cfg, "-o", out])
    if (p.returncode != 1 or "cannot create .snapfeed.lock" not in p.stderr or
            os.path.lexists(os.path.join(tmp, "no-such-lock-target"))):
        failures.append(f"planted lock link: exit {p.returncode}, {p.stderr!r}")


def run_as_nobody(args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                           sfwrap.SNAPFEED] + args, capture_output=True, text=True,
                          timeout=120, env=e)


def open_up(tmp):
    os.chmod(tmp, 0o755)
    for dirpath, dirs, names in os.walk(tmp):
        for n in dirs + names:
            p = os.path.join(dirpath, n)
            if not os.path.islink(p):
                os.chmod(p, 0o777 if n in dirs else 0o666)


def case_unreadable(tmp):
    """An unreadable capture (mode 000, snapfeed not root) and one whose
    reads fail (EIO): exit 3, one line naming the file, every other item
    still in the feeds; the read-only state directory: exit 1, the feeds
    as they were."""
    inp, cfg, out = small_site(tmp)
    e2eutil.write_old(os.path.join(inp, "zz-new.txt"), NEW_CAPTURE)
    name = "hostile-script.txt"
    want_titles = titles_without(tmp, cfg, inp, name)
    open_up(tmp)
    victim = os.path.join(inp, name)
    os.chmod(victim, 0)
    p = run_as_nobody(["build", "-q", "-c", cfg, "-o", out, "--no-manifest"])
    want = f"snapfeed: {victim}: cannot open: Permission denied"
    if p.returncode != 3 or want not in p.stderr.splitlines():
        failures.append(f"unreadable capture: exit {p.returncode}, {p.stderr!r}")
    if item_titles(out) != want_titles:
        failures.append(f"unreadable capture: items {item_titles(out) ^ want_titles}")
    os.chmod(victim, 0o666)
    name = "url-javascript.txt"
    want_titles = titles_without(tmp, cfg, inp, name)
    p = sfwrap.run(["build", "-q", "-c", cfg, "-o", out, "--no-manifest"], wrap=False,
                   env=fault_env(errno=f"{name}:EIO"))
    want = f"snapfeed: {os.path.join(inp, name)}: cannot open: Input/output error"
    if p.returncode != 3 or want not in p.stderr.splitlines():
        failures.append(f"EIO capture: exit {p.returncode}, {p.stderr!r}")
    if item_titles(out) != want_titles:
        failures.append(f"EIO capture: items {item_titles(out) ^ want_titles}")
    state = os.path.join(tmp, "state")
    p = sfwrap.run(["build", "-q", "-c", cfg, "-o", out], wrap=False)
    e2eutil.write_old(os.path.join(inp, "zz-new2.txt"), NEW_CAPTURE.replace("储能", "风电"))
    os.chmod(os.path.join(inp, "zz-new2.txt"), 0o666)
    os.chmod(state, 0o555)
    before = tree(out)
    p = run_as_nobody(["build", "-q", "-c", cfg, "-o", out])
    if p.returncode != 1 or len(p.stderr.splitlines()) != 1 or "Permission denied" not in p.stderr:
        failures.append(f"read-only state: exit {p.returncode}, {p.stderr!r}")
    if tree(out) != before:
        failures.append("read-only state: the feeds changed")


def case_vanished(tmp):
    """A capture deleted after the walk listed it: one line naming it,
    exit 3, the others built; deleted between the two passes: a warning,
    left out until the next run."""
    inp, cfg, out = small_site(tmp)
    titles = item_titles(out)
    name = "hostile-script.txt"
    want_titles = titles_without(tmp, cfg, inp, name)
    p = sfwrap.run(["build", "-q", "-c", cfg, "-o", out, "--no-manifest"], wrap=False,
                   env=fault_env(vanish=f"{name}:1"))
    want = f"snapfeed: {os.path.join(inp, name)}: cannot open: No such file or directory"
    if p.returncode != 3 or want not in p.stderr.splitlines():
        failures.append(f"vanished before reading: exit {p.returncode}, {p.stderr!r}")
    if item_titles(out) != want_titles:
        failures.append(f"vanished before reading: items {item_titles(out) ^ want_titles}")
    shutil.copy(os.path.join(e2eutil.CAPTURES, name), inp)
    p = sfwrap.run(["build", "-q", "-c", cfg, "-o", out])
    if item_titles(out) != titles:
        failures.append("vanished capture put back: not in the feed again")
    # second pass: the file is opened again to render its item
    p = sfwrap.run(["build", "-c", cfg, "-o", out, "--no-manifest"], wrap=False,
                   env=fault_env(vanish=f"{name}:2"))
    want = (f"snapfeed: {os.path.join(inp, name)}: warning: changed while being read; "
            "left out until the next run")
    if p.returncode not in (0, 3) or want not in p.stderr.splitlines():
        failures.append(f"vanished between passes: exit {p.returncode}, {p.stderr!r}")
    # the feeds are short of it (none of an older item takes its place)
    short = {(f, t) for f, t in titles if t != "警方提醒:谨防“<script>”式钓鱼链接"}
    if item_titles(out) != short or short == titles:
        failures.append(f"vanished between passes: items {item_titles(out) ^ short}")
    for f in glob.glob(os.path.join(out, "*", "*.xml")):
        feedcheck.xmllint(f, failures)


def case_odd_files(tmp):
    """A directory that loops through a link, a FIFO and a device node
    among the captures: no hang, no loop; the FIFO and the device are
    named and refused unopened; the other captures built."""
    for follow in (False, True):
        sub = os.path.join(tmp, f"follow-{follow}")
        os.makedirs(sub)
        inp, cfg, out = small_site(sub)
        titles = item_titles(out)
        if follow:
            text = open(cfg, encoding="utf-8").read().replace(
                "  - path: " + inp, "  - path: " + inp + "\n    follow_symlinks: true")
            with open(cfg, "w", encoding="utf-8") as f:
                f.write(text)
        os.makedirs(os.path.join(inp, "d"))
        os.symlink("..", os.path.join(inp, "d", "loop"))
        os.symlink(inp, os.path.join(inp, "d", "abs-loop"))
        os.mkfifo(os.path.join(inp, "fifo.txt"))
        os.mknod(os.path.join(inp, "zero.txt"), 0o644 | 0o020000, os.makedev(1, 5))
        p = sfwrap.run(["build", "-q", "-c", cfg, "-o", out, "--no-manifest"])
        what = f"odd files (follow_symlinks {follow})"
        lines = p.stderr.splitlines()
        want = {f"snapfeed: {os.path.join(inp, n)}: not a regular file"
                for n in ("fifo.txt", "zero.txt")}
        if p.returncode != 3 or not want <= set(lines) or len(lines) != 2:
            failures.append(f"{what}: exit {p.returncode}, {p.stderr!r}")
        if item_titles(out) != titles:
            failures.append(f"{what}: items changed: {titles ^ item_titles(out)}")
        # the manifest remembers them: the same lines on a rerun
        p = sfwrap.run(["build", "-q", "-c", cfg, "-o", out])
        p = sfwrap.run(["build", "-q", "-c", cfg, "-o", out])
        if p.returncode != 3 or not want <= set(p.stderr.splitlines()):
            failures.append(f"{what}, rerun: exit {p.returncode}, {p.stderr!r}")


def case_descriptors(tmp):
    """Parsing threads open each capture in the directory the walk held
    open for it: a build over hundreds of day directories leaves no
    descriptor open, and with too few descriptors to hold any it opens
    by the whole path and builds the same bytes."""
    caps = os.path.join(tmp, "caps")
    subprocess.run([GEN, "--seed", "5", "--count", "400", "--out", caps], check=True,
                   stdout=subprocess.DEVNULL, timeout=120)
    days = {os.path.dirname(p) for p in glob.glob(os.path.join(caps, "*", "*", "*", "*.txt"))}
    if len(days) < 300:
        failures.append(f"descriptors: only {len(days)} directories generated")
    cfg = e2eutil.config_for(tmp, caps)
    outs = {}
    for name, jobs, limit in (("one", "-j1", None), ("four", "-j4", None),
                              ("starved", "-j4", 64)):
        counts = os.path.join(tmp, f"counts-{name}")
        out = os.path.join(tmp, f"out-{name}")
        p = sfwrap.run(["build", "-q", "-c", cfg, "-o", out, jobs, "--no-manifest"],
                       env=fault_env(count=counts), wrap=False, preexec_fn=fd_limit(limit))
        if p.returncode != 0:
            failures.append(f"descriptors, {name}: exit {p.returncode}: {p.stderr!r}")
            continue
        fds = read_counts(counts)["fds"]
        if fds != 3:
            failures.append(f"descriptors, {name}: {fds} open at exit, not stdin, stdout, stderr")
        outs[name] = tree(out)
    if len(outs) == 3 and not outs["one"] == outs["four"] == outs["starved"]:
        failures.append("descriptors: -j1, -j4 and -j4 short of descriptors differ")


def case_read_ahead(tmp):
    """A rerun reads directories ahead of its walk on a second thread
    (src/ingest.c): after captures are rewritten in place, removed and
    added in new, empty and crowded directories (more names than a
    directory read ahead may hold), the rerun parses exactly the files
    that changed, builds the bytes of a fresh one-thread build without a
    manifest, and leaves no descriptor open; so does the same rerun with
    too few descriptors to read ahead."""
    caps = os.path.join(tmp, "caps")
    subprocess.run([GEN, "--seed", "6", "--count", "400", "--out", caps], check=True,
                   stdout=subprocess.DEVNULL, timeout=120)
    txts = sorted(glob.glob(os.path.join(caps, "*", "*", "*", "*.txt")))
    crowded = os.path.join(caps, "2023", "crowded")
    os.makedirs(crowded)
    for i in range(1100):   # listed and statted, not captures
        with open(os.path.join(crowded, f"n{i:04}.dat"), "w") as f:
            f.write("x")
    for i, src in enumerate(txts[:3]):
        shutil.copyfile(src, os.path.join(crowded, f"c{i}.txt"))

    def age(paths, when):
        for q in paths:
            os.utime(q, (when, when))
    outs = {}
    for name, limit in (("ahead", None), ("starved", 64)):
        run_dir = os.path.join(tmp, name)
        tree_dir = os.path.join(run_dir, "caps")
        shutil.copytree(caps, tree_dir, symlinks=True)
        age([os.path.join(d, n) for d, _, ns in os.walk(tree_dir) for n in ns],
            e2eutil.OLD_MTIME)
        cfg = e2eutil.config_for(run_dir, tree_dir)
        out = os.path.join(run_dir, "out")
        p = run(cfg, "-o", out, "-j4")
        if p.returncode != 0:
            failures.append(f"read_ahead, {name}: cold build exit {p.returncode}: {p.stderr!r}")
            return
        mine = sorted(glob.glob(os.path.join(tree_dir, "*", "*", "*", "*.txt")))
        # rewritten in place with another capture's bytes, across directories
        changed = mine[10:400:40]
        for q, src in zip(changed, mine[11:400:40]):
            with open(src, "rb") as f:
                data = f.read()
            with open(q, "r+b") as f:
                f.write(data)
                f.truncate()
        for q in mine[5:400:90]:
            os.unlink(q)
        fresh = os.path.join(tree_dir, "2024", "13", "01")
        os.makedirs(fresh)
        os.makedirs(os.path.join(tree_dir, "2022", "empty"))
        added = [os.path.join(fresh, "a.txt"), os.path.join(crowded.replace(caps, tree_dir),
                                                            "c9.txt")]
        for q, src in zip(added, mine[20:22]):
            shutil.copyfile(src, q)
        age(changed + added, e2eutil.OLD_MTIME + 3600)
        counts = os.path.join(run_dir, "counts")
        p = sfwrap.run(["build", "-v", "-c", cfg, "-o", out, "-j4"],
                       env=fault_env(count=counts), wrap=False, preexec_fn=fd_limit(limit))
        m = re.search(r"(\d+) files parsed", p.stdout)
        if p.returncode != 0 or not m:
            failures.append(f"read_ahead, {name}: rerun exit {p.returncode}: {p.stderr!r}")
            return
        if int(m.group(1)) != len(changed) + len(added):
            failures.append(f"read_ahead, {name}: {m.group(1)} files parsed, "
                            f"not the {len(changed) + len(added)} changed")
        fds = read_counts(counts)["fds"]
        if fds != 3:
            failures.append(f"read_ahead, {name}: {fds} open at exit, not stdin, stdout, stderr")
        ref, ref_dir = os.path.join(run_dir, "ref"), os.path.join(run_dir, "r")
        os.makedirs(ref_dir)
        p = run(e2eutil.config_for(ref_dir, tree_dir), "-o", ref, "-j1", "--no-manifest")
        if p.returncode != 0:
            failures.append(f"read_ahead, {name}: fresh build exit {p.returncode}: {p.stderr!r}")
            return
        # the same files as a fresh build, and the pages of removed items,
        # which are kept (snapfeed(1), FILES)
        got, want = tree(out), tree(ref)
        outs[name] = got
        kept = {k for k in set(got) - set(want) if re.fullmatch(r"[^/]+/[0-9a-f]{16}\.html", k)}
        diff = sorted(k for k in set(got) | set(want) if got.get(k) != want.get(k) and k not in kept)
        if diff:
            failures.append(f"read_ahead, {name}: not a fresh build's output: {diff[:5]}")
    if len(outs) == 2 and outs["ahead"] != outs["starved"]:
        failures.append("read_ahead: the rerun short of descriptors built other bytes")


# libcurl must reach the test hub directly, whatever the environment says
NET = {"no_proxy": "*", "NO_PROXY": "*"}


def websub_setup(tmp):
    """The fixtures' good captures, an output directory served by a test
    site, and a feeds.yaml that tells a test hub of every change:
    (inp, out, state, queue, site, hub, cfg)."""
    inp = os.path.join(tmp, "in")
    e2eutil.copy_captures(inp, [n for n in os.listdir(e2eutil.CAPTURES)
                                if not n.startswith("bad-")])
    out, state = os.path.join(tmp, "out"), os.path.join(tmp, "state")
    os.makedirs(out)
    site = testhub.Site(out)
    h = testhub.Hub("https://news.example.org/", site.url)
    cfg = e2eutil.config_for(tmp, inp, extra=f"websub:\n  hubs: ['{h.url}']\n"
                                              "  timeout: 5\n  retries: 1\n")
    return inp, out, state, os.path.join(state, "websub-queue"), site, h, cfg


def read_queue(queue):
    """The queue's (hub, topic) lines, sorted; None when there is none."""
    if not os.path.exists(queue):
        return None
    with open(queue, encoding="ascii") as f:
        return sorted(tuple(line.rstrip("\n").split("\t")) for line in f
                      if line.strip() and not line.startswith("#"))


def case_killed_before_pings(tmp):
    """SIGKILL before each rename of a build that changes feeds and tells a
    hub, and before its first connection to the hub: the killed run pings
    nothing, and the next one (without faults) tells the hub of every topic
    an uninterrupted build tells it of, each exactly once, after the file
    is in place (the hub fetches the final bytes), and leaves no queue.
    Killed after the feeds are renamed, the next run finds them unchanged:
    only the queue, written before the first rename, remembers them."""
    inp, out, state, queue, site, h, cfg = websub_setup(tmp)

    def build(env=None, wrap=False):
        return run(cfg, env=dict(NET, **(env or {})), wrap=wrap)

    def queued():
        return read_queue(queue)

    try:
        p = build()
        h.take()
        if p.returncode != 0:
            failures.append(f"pings: first build: exit {p.returncode}, {p.stderr[-300:]!r}")
            return
        e2eutil.write_old(os.path.join(inp, "zz-new.txt"), NEW_CAPTURE)
        base = os.path.join(tmp, "base")
        for d in (out, state):
            shutil.copytree(d, os.path.join(base, os.path.basename(d)), symlinks=True)

        def reset():
            for d in (out, state):
                shutil.rmtree(d)
                shutil.copytree(os.path.join(base, os.path.basename(d)), d, symlinks=True)

        counts = os.path.join(tmp, "counts")
        p = build(fault_env(count=counts))
        final = tree(out)
        reqs = h.take()
        want = collections.Counter(h.topics(reqs))
        n_renames = read_counts(counts)["rename"]
        if p.returncode != 0 or len(want) < 6 or set(want.values()) != {1} or queued():
            failures.append(f"pings: reference build: exit {p.returncode}, pings {want}")
            return

        def check_next(what, wrap):
            p = build(wrap=wrap)
            reqs = h.take()
            got = collections.Counter(h.topics(reqs))
            if p.returncode != 0 or got != want:
                failures.append(f"{what}: the next run: exit {p.returncode}, "
                                f"missing {sorted(set(want) - set(got))[:3]}, "
                                f"extra or repeated {sorted(t for t in got if got[t] != want[t])[:3]}"
                                f", {p.stderr[-200:]!r}")
            for r in reqs:
                rel = r["topic"][len("https://news.example.org/"):] if "topic" in r else None
                if rel is None or r["fetched"] != final.get(rel):
                    failures.append(f"{what}: the hub fetched other bytes than the final {rel}")
            if tree(out) != final or queued() is not None:
                failures.append(f"{what}: not repaired, or a queue left: {queued()}")

        points = [("rename", k) for k in range(1, n_renames + 1)] + [("connect", 1)]
        in_place = 0
        for i, (call, k) in enumerate(points):
            what = f"pings: killed before {call} {k} (of {n_renames} renames)"
            reset()
            p = build(fault_env(kill=f"{call}:{k}"))
            sent = h.take()
            if p.returncode != -9 or sent:
                failures.append(f"{what}: exit {p.returncode}, {len(sent)} pings sent")
                continue
            if tree(out) == final:
                # the case that lost notifications: every feed renamed,
                # no hub told; the queue must hold them all
                in_place += 1
                if queued() != sorted((h.url, t) for t in want):
                    failures.append(f"{what}: feeds in place but the queue holds {queued()}")
            check_next(what, wrap=i % 4 == 0)
        # at least: before the state's rename, before the first connection
        if in_place < 2:
            failures.append(f"pings: only {in_place} kill points after the feeds' renames")
        # The queue cannot be written before the commit: the feeds are
        # written and the hub told all the same; exit 1 names the queue.
        reset()
        p = build(fault_env(enospc=os.path.join(state, ".websub-queue.tmp")))
        got = collections.Counter(h.topics(h.take()))
        lines = p.stderr.splitlines()
        if p.returncode != 1 or len(lines) != 1 or \
                not lines[0].endswith("websub-queue: cannot write: No space left on device"):
            failures.append(f"pings: queue not writable: exit {p.returncode}, {p.stderr!r}")
        if got != want or tree(out) != final or queued() is not None:
            failures.append(f"pings: queue not writable: pings {got}, queue {queued()}")
        print(f"pings: killed at {len(points)} points, {in_place} with the feeds in place, "
              f"{sum(want.values())} notifications each")
    finally:
        h.close()
        site.close()


def case_curl_on_demand(tmp):
    """libcurl is opened only by a run with notifications to send: not by
    check, nor by a build that changed nothing.  Where it cannot be opened,
    the build writes its feeds, says why in one line, exits 3 and queues
    every notification, which the next run sends."""
    inp, out, _, queue, site, h, cfg = websub_setup(tmp)
    counts = os.path.join(tmp, "counts")

    def opens(p, what):
        n = read_counts(counts)
        if p.returncode not in (0, 3):
            failures.append(f"curl_on_demand, {what}: exit {p.returncode}, {p.stderr[-300:]!r}")
        return n["dlopen"], n["connect"]

    try:
        p = run(cfg, env=dict(NET, **fault_env(count=counts)))
        sent = h.topics(h.take())
        if opens(p, "first build")[0] < 1 or p.returncode != 0 or not sent:
            failures.append(f"curl_on_demand: first build: exit {p.returncode}, {len(sent)} sent")
        p = run(cfg, env=dict(NET, **fault_env(count=counts)))
        if opens(p, "no change") != (0, 0) or h.take():
            failures.append(f"curl_on_demand: a build that changed nothing opened "
                            f"{opens(p, 'no change')} (dlopen, connect)")
        p = sfwrap.run(["check", "-c", cfg], env=fault_env(count=counts))
        if opens(p, "check")[0] != 0:
            failures.append("curl_on_demand: check opened a library")

        e2eutil.write_old(os.path.join(inp, "zz-new.txt"), NEW_CAPTURE)
        p = run(cfg, env=dict(NET, **fault_env(dlopen="libcurl.so.4")))
        lines = p.stderr.splitlines()
        queued = sorted(t for _, t in read_queue(queue) or [])
        if p.returncode != 3 or h.take() or not queued or len(lines) != len(queued) or \
                not all("libcurl.so.4: cannot open shared object file" in line for line in lines):
            failures.append(f"curl_on_demand: without libcurl: exit {p.returncode}, "
                            f"{len(queued)} queued, {p.stderr[-300:]!r}")
        if "新型储能电站并网发电" not in str(item_titles(out)):
            failures.append("curl_on_demand: without libcurl, the new item was not written")
        p = run(cfg, env=NET)
        got = sorted(h.topics(h.take()))
        if p.returncode != 0 or got != queued or os.path.exists(queue):
            failures.append(f"curl_on_demand: the next run sent {got}, queued {queued}")
    finally:
        h.close()
        site.close()


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def main():
    return e2eutil.run_cases(CASES, failures, sys.argv[4:], "sf-faults-")


if __name__ == "__main__":
    sys.exit(main())
