# tests/e2e/e2eutil.py - what several end-to-end tests share: a private
# copy of the test configuration, copies of the fixtures, snapshots of an
# output tree.
import os
import shutil
import subprocess
import tempfile

import sfwrap

SRC = None          # set by set_source()
CONFIG = CAPTURES = GOLDEN = None


def set_source(src):
    global SRC, CONFIG, CAPTURES, GOLDEN
    SRC = os.path.abspath(src)
    CONFIG = os.path.join(SRC, "tests/e2e/fixtures.yaml")
    CAPTURES = os.path.join(SRC, "fixtures/captures")
    GOLDEN = os.path.join(SRC, "tests/golden")


def config_for(tmp, inputs=None, extra="", name="feeds.yaml"):
    """A copy of the test configuration in tmp: inputs (default: the
    fixtures, by absolute path), state kept in tmp/state, extra YAML
    appended.  Tests never write beside the sources."""
    path = os.path.join(tmp, name)
    with open(CONFIG, encoding="utf-8") as f:
        text = f.read()
    text = text.replace("  - path: ../../fixtures/captures", "  - path: " + (inputs or CAPTURES))
    text = text.replace("  dir: ../../build-tests-unused",
                        "  dir: out\n  state_dir: " + os.path.join(tmp, "state"))
    with open(path, "w", encoding="utf-8") as f:
        f.write(text + extra)
    return path


# Captures in an archive are older than the run that reads them; files
# modified within a second of a run are parsed again by the next one (the
# manifest's "racy" rule), so copies get an old mtime.
OLD_MTIME = 1704067200  # 2024-01-01


def copy_captures(dst, names=None, reverse=False):
    """Copies the fixtures into dst, in sorted or reverse order of
    creation (so directory order differs between copies)."""
    os.makedirs(dst, exist_ok=True)
    names = sorted(names or os.listdir(CAPTURES), reverse=reverse)
    for n in names:
        if n.endswith(".txt"):
            shutil.copy(os.path.join(CAPTURES, n), dst)
            os.utime(os.path.join(dst, n), (OLD_MTIME, OLD_MTIME))


def write_old(path, text, mode="w"):
    """Writes (or appends to) a capture and gives it an old mtime; each
    call moves the mtime on by a second, so changes stay visible."""
    with open(path, mode, encoding="utf-8") as f:
        f.write(text)
    global OLD_MTIME
    OLD_MTIME += 1
    os.utime(path, (OLD_MTIME, OLD_MTIME))


def snapshot(root):
    """path -> (bytes, mtime_ns) of every file under root but the lock."""
    files = {}
    for dirpath, dirs, names in os.walk(root):
        for n in names:
            if n == ".snapfeed.lock":
                continue
            p = os.path.join(dirpath, n)
            with open(p, "rb") as f:
                files[os.path.relpath(p, root)] = (f.read(), os.stat(p).st_mtime_ns)
    return files


def contents(root):
    return {k: v[0] for k, v in snapshot(root).items()}


def build(config, out, *extra, env=None, wrap=True):
    return sfwrap.run(["build", "-c", config, "-o", out] + list(extra), env=env, wrap=wrap)


def peak_rss_kib(args):
    """Runs snapfeed ARGS (never under valgrind: it is memory being
    measured) and returns its exit status and peak resident set in KiB.
    GNU time forks it from its own small image: a child forked from this
    Python would count Python's pages in its peak (Linux keeps the
    high-water mark across exec)."""
    e = dict(os.environ)
    # ASan keeps freed memory in a quarantine by design; it would count.
    e["ASAN_OPTIONS"] = e.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=0"
    with tempfile.NamedTemporaryFile("r") as rss:
        p = subprocess.run(["/usr/bin/time", "-q", "-f", "%M", "-o", rss.name, sfwrap.SNAPFEED]
                           + args, env=e, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=600)
        return p.returncode, int(rss.read().split()[-1])


def run_cases(cases, failures, names, prefix, before_each=None):
    """Runs each case of cases (name -> fn(tmp)) named in names (all when
    empty) in a fresh temporary directory, prints "NAME: ok" or "NAME:
    FAIL" as it goes and every failure at the end, and returns the exit
    status: 1 when failures holds any.  before_each(tmp) runs first."""
    for name in names or list(cases):
        with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
            before = len(failures)
            if before_each:
                before_each(tmp)
            cases[name](tmp)
            print(f"{name}: {'ok' if len(failures) == before else 'FAIL'}", flush=True)
    for f in failures:
        print("FAIL " + f)
    return 1 if failures else 0
