#!/usr/bin/python3
# tests/e2e/test_install.py - `meson install` into a temporary directory
# puts the binary, the man pages, the documentation and the examples in
# the usual places; the installed binary reports meson's version; the
# systemd units pass `systemd-analyze verify` and the service's own
# command line builds the fixtures; the example feeds.yaml loads.
#
# Usage: test_install.py SRCDIR BUILDDIR VERSION MAN(true|false)
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

SRC, BUILD = (os.path.abspath(p) for p in sys.argv[1:3])
VERSION = sys.argv[3]
MAN = sys.argv[4] == "true"
# the pages are built; man (Debian: man-db) formats them, and systemd-analyze
# verify runs it for the units' Documentation=man: lines
RUN_MAN = MAN and shutil.which("man") is not None
failures = []


def fail(msg):
    failures.append(msg)


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)


def install(dest):
    p = run(["meson", "install", "-C", BUILD, "--no-rebuild", "--quiet", "--destdir", dest])
    if p.returncode != 0:
        fail(f"meson install: exit {p.returncode}: {p.stderr[-500:]}")
        return None
    # the build's own prefix, as meson configured it
    p = run(["meson", "introspect", "--buildoptions", BUILD])
    opts = {o["name"]: o["value"] for o in json.loads(p.stdout)}
    return opts["prefix"].lstrip("/"), opts


def check_files(dest, prefix, opts):
    root = os.path.join(dest, prefix)
    doc = os.path.join(dest, prefix, opts["datadir"], "doc", "snapfeed")
    want = [os.path.join(root, opts["bindir"], "snapfeed"),
            os.path.join(doc, "README.md"),
            os.path.join(doc, "operations.md"),
            os.path.join(doc, "record.md"),
            os.path.join(doc, "reliability.md"),
            os.path.join(doc, "examples", "feeds.yaml"),
            os.path.join(doc, "examples", "snapfeed.service"),
            os.path.join(doc, "examples", "snapfeed.timer"),
            os.path.join(doc, "examples", "nginx-snapfeed.conf")]
    if MAN:
        want += [os.path.join(root, opts["mandir"], "man1", "snapfeed.1"),
                 os.path.join(root, opts["mandir"], "man5", "feeds.yaml.5")]
    for w in want:
        if not os.path.isfile(w):
            fail(f"not installed: {os.path.relpath(w, dest)}")
    binary = want[0]
    if not os.access(binary, os.X_OK):
        fail(f"{binary} is not executable")
    p = run([binary, "--version"])
    if p.stdout != f"snapfeed {VERSION}\n":
        fail(f"--version says {p.stdout!r}, meson's version is {VERSION}")
    if MAN and not RUN_MAN:
        print("man missing (Debian: man-db): installed pages not formatted")
    elif RUN_MAN:
        # man finds and formats the installed pages
        env = dict(os.environ, MANPATH=os.path.join(root, opts["mandir"]), MANWIDTH="80")
        for page, needle in (("snapfeed", "EXIT STATUS"), ("feeds.yaml", "output.pages")):
            p = run(["man", page], env=env)
            if p.returncode != 0 or needle not in p.stdout:
                fail(f"man {page}: exit {p.returncode}, {p.stderr[-200:]!r}")
    return binary, doc


def check_units(tmp, binary, doc, man_dir):
    """systemd-analyze verify, with ExecStart pointing at the binary
    installed in the destdir (the unit names where it will be once
    installed for real), then the service's command line run for real."""
    with open(os.path.join(doc, "examples", "snapfeed.service"), encoding="utf-8") as f:
        service = f.read()
    m = re.search(r"^ExecStart=(\S+)(.*)$", service, re.M)
    if not m:
        fail("snapfeed.service: no ExecStart")
        return
    installed = m.group(1)
    if not installed.endswith("/snapfeed") or not binary.endswith(installed):
        fail(f"snapfeed.service runs {installed}, which is not the installed binary {binary}")
    units = os.path.join(tmp, "units")
    os.makedirs(units)
    with open(os.path.join(units, "snapfeed.service"), "w", encoding="utf-8") as f:
        f.write(service.replace("ExecStart=" + installed, "ExecStart=" + binary))
    shutil.copy(os.path.join(doc, "examples", "snapfeed.timer"), units)
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        print("systemd-analyze missing: unit files not verified")
    else:
        env = dict(os.environ, MANPATH=man_dir)
        args = [analyze, "verify"] + ([] if RUN_MAN else ["--man=no"])
        p = run(args + [os.path.join(units, "snapfeed.timer"),
                        os.path.join(units, "snapfeed.service")], env=env)
        # unknown keys are only warnings: any word from it is a failure
        if p.returncode != 0 or p.stderr.strip() or p.stdout.strip():
            fail(f"systemd-analyze verify: exit {p.returncode}: {(p.stdout + p.stderr)[-800:]}")
    # The command line of ExecStart, with the test's configuration.
    argv = shlex.split(m.group(2))
    cfg = os.path.join(tmp, "feeds.yaml")
    with open(os.path.join(SRC, "tests/e2e/fixtures.yaml"), encoding="utf-8") as f:
        text = f.read()
    text = text.replace("../../fixtures/captures", os.path.join(SRC, "fixtures/captures"))
    text = text.replace("  dir: ../../build-tests-unused",
                        f"  dir: {tmp}/public\n  state_dir: {tmp}/state")
    with open(cfg, "w", encoding="utf-8") as f:
        f.write(text)
    if "-c" not in argv:
        fail(f"ExecStart has no -c: {argv}")
        return
    argv[argv.index("-c") + 1] = cfg
    p = run([binary] + argv)
    # 3: the fixtures include captures made to be rejected, which the
    # service counts as success (SuccessExitStatus=3)
    if p.returncode != 3 or p.stdout or not os.path.exists(os.path.join(tmp, "public",
                                                                        "index.html")):
        fail(f"ExecStart: exit {p.returncode}, stdout {p.stdout!r}")
    if not re.search(r"^SuccessExitStatus=3$", service, re.M):
        fail("snapfeed.service does not count exit status 3 as success")


def check_example_config(tmp, binary, doc):
    """The example feeds.yaml, with its /srv and /var paths moved into
    tmp, passes snapfeed check and builds."""
    with open(os.path.join(doc, "examples", "feeds.yaml"), encoding="utf-8") as f:
        text = f.read()
    for path in ("/srv/snapfeed/captures", "/srv/snapfeed/public", "/var/lib/snapfeed"):
        if path not in text:
            fail(f"examples/feeds.yaml has no {path}")
    text = text.replace("/srv/snapfeed/captures", os.path.join(SRC, "fixtures/captures"))
    text = text.replace("/srv/snapfeed/public", os.path.join(tmp, "ex-public"))
    text = text.replace("/var/lib/snapfeed", os.path.join(tmp, "ex-state"))
    os.makedirs(os.path.join(tmp, "ex-state"))
    cfg = os.path.join(tmp, "example.yaml")
    with open(cfg, "w", encoding="utf-8") as f:
        f.write(text)
    p = run([binary, "check", "-c", cfg])
    if p.returncode != 3 or "categories:" not in p.stdout:
        fail(f"check of the example: exit {p.returncode}, {p.stderr[-300:]!r}")
    p = run([binary, "build", "-q", "--no-push", "-c", cfg])
    if p.returncode != 3 or not os.path.exists(os.path.join(tmp, "ex-public", "tech",
                                                             "index.html")):
        fail(f"build of the example: exit {p.returncode}, {p.stderr[-300:]!r}")


def main():
    with tempfile.TemporaryDirectory(prefix="sf-install-") as tmp:
        dest = os.path.join(tmp, "dest")
        got = install(dest)
        if got:
            prefix, opts = got
            binary, doc = check_files(dest, prefix, opts)
            check_units(tmp, binary, doc, os.path.join(dest, prefix, opts["mandir"]))
            check_example_config(tmp, binary, doc)
    for f in failures:
        print("FAIL " + f)
    print("install: " + ("FAIL" if failures else "ok"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
