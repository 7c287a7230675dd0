#!/usr/bin/python3
# tests/e2e/test_cli.py - what a person at a terminal sees: the progress
# line of a build (on a pseudo-terminal: drawn, redrawn in place, erased;
# never on a pipe or with -q), and `snapfeed check` explaining each
# problem with what to do about it.
#
# Usage: test_cli.py SRCDIR [CASE...]
import os
import pty
import re
import select
import subprocess
import sys
import time

import e2eutil
import sfwrap
from e2eutil import config_for

e2eutil.set_source(sys.argv[1])
failures = []


def fail(msg):
    failures.append(msg)


def run_on_pty(args, env):
    """Runs snapfeed with stderr on a new pseudo-terminal and stdout on a
    pipe; returns (exit status, stdout, bytes the terminal received)."""
    master, slave = pty.openpty()
    e = dict(os.environ, **env)
    proc = subprocess.Popen(sfwrap.WRAP + [sfwrap.SNAPFEED] + args, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=slave, env=e)
    os.close(slave)
    got = b""
    deadline = time.monotonic() + sfwrap.TIMEOUT
    while time.monotonic() < deadline:
        r, _, _ = select.select([master], [], [], 1)
        if not r:
            if proc.poll() is not None:
                break
            continue
        try:
            chunk = os.read(master, 65536)
        except OSError:     # EIO: every writer has closed the terminal
            break
        if not chunk:
            break
        got += chunk
    os.close(master)
    try:
        out, _ = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        fail(f"{args}: did not finish")
    return proc.returncode, out.decode(), got.decode(errors="replace")


def screen(raw):
    """What a terminal shows at the end: carriage returns go back to the
    start of the line and later characters overwrite earlier ones."""
    lines, line, col = [], [], 0
    for ch in raw:
        if ch == "\n":
            lines.append("".join(line).rstrip())
            line, col = [], 0
        elif ch == "\r":
            col = 0
        else:
            if col < len(line):
                line[col] = ch
            else:
                line.append(ch)
            col += 1
    if line:
        lines.append("".join(line).rstrip())
    return lines


PROGRESS = re.compile(r"snapfeed: (reading|writing): ")


def case_progress_on_a_terminal(tmp):
    """On a terminal, past the delay: a line drawn with \\r, redrawn, and
    erased at the end, leaving only the problems on the screen."""
    out = os.path.join(tmp, "out")
    cfg = config_for(tmp)
    status, stdout, raw = run_on_pty(["build", "-j1", "-c", cfg, "-o", out],
                                     {"SNAPFEED_PROGRESS_DELAY": "0"})
    if status != 3 or "76 captures, 11 rejected, 15 feeds, 15 changed" not in stdout:
        fail(f"build on a terminal: exit {status}, stdout {stdout!r}")
    shown = re.findall(r"snapfeed: reading: (\d+) files?, \d+/s, (\d+) rejected", raw)
    if not shown or int(shown[-1][0]) > 76 or int(shown[-1][1]) > 11:
        fail(f"no reading progress: {raw[:300]!r}")
    if not re.search(r"snapfeed: writing: \d+/15 feeds", raw):
        fail(f"no writing progress: {raw[-300:]!r}")
    if "\rsnapfeed: reading: " not in raw:
        fail("the progress line is not redrawn in place")
    final = screen(raw)
    if any(PROGRESS.search(line) for line in final):
        fail(f"progress left on the screen: {[x for x in final if PROGRESS.search(x)]}")
    # 11 rejected captures and 12 warnings
    problems = [line for line in final if line]
    if len(problems) != 23 or not all(line.startswith("snapfeed: ") for line in problems):
        fail(f"the screen at the end: {final}")


def case_no_progress_with_q(tmp):
    """-q: errors only, no progress line, even on a terminal."""
    cfg = config_for(tmp)
    status, stdout, raw = run_on_pty(["build", "-q", "-c", cfg, "-o", os.path.join(tmp, "out")],
                                     {"SNAPFEED_PROGRESS_DELAY": "0"})
    if status != 3 or stdout or PROGRESS.search(raw) or "\r\n" not in raw:
        fail(f"-q on a terminal: exit {status}, stdout {stdout!r}, stderr {raw[:200]!r}")


def case_no_progress_off_a_terminal(tmp):
    """stderr a pipe (cron, a log file): no progress text, no \\r."""
    cfg = config_for(tmp)
    p = sfwrap.run(["build", "-c", cfg, "-o", os.path.join(tmp, "out")],
                   env={"SNAPFEED_PROGRESS_DELAY": "0"})
    if p.returncode != 3 or PROGRESS.search(p.stderr) or "\r" in p.stderr \
            or len(p.stderr.splitlines()) != 23:
        fail(f"stderr not a terminal: exit {p.returncode}, {p.stderr[:300]!r}")


def case_no_progress_when_quick(tmp):
    """A build shorter than the delay shows nothing."""
    cfg = config_for(tmp)
    status, _, raw = run_on_pty(["build", "-c", cfg, "-o", os.path.join(tmp, "out")],
                                {"SNAPFEED_PROGRESS_DELAY": "3600"})
    if PROGRESS.search(raw):
        fail(f"progress before the delay: {raw[:200]!r}")


def case_check_explains(tmp):
    """Each problem check finds comes with what to do about it."""
    cfg = config_for(tmp, extra="  - {category: 数码, slug: digital}\n")
    p = sfwrap.run(["check", "-c", cfg])
    if p.returncode != 3:
        fail(f"check: exit {p.returncode}")
    lines = p.stdout.splitlines()
    for section, count in (("rejected", 11), ("warnings", 12), ("problems", 1)):
        try:
            start = lines.index(f"{section}: {count}")
        except ValueError:
            fail(f"check: no '{section}: {count}' in {p.stdout[-2000:]!r}")
            continue
        body = lines[start + 1:start + 1 + 2 * count]
        for problem, fix in zip(body[::2], body[1::2]):
            if not problem.startswith("  ") or not fix.startswith("    fix: "):
                fail(f"check: {section}: {problem!r} has no fix ({fix!r})")
    if "feeds[] names category '数码', but no capture has it" not in p.stdout:
        fail("check: the unused feeds[] entry is not explained")
    if "category '交通' has no slug; feeds will use '交通'; set feeds[].slug to choose" \
            not in p.stdout:
        fail("check: the slug advice is gone")
    # the state inside the web root
    cfg2 = config_for(tmp, name="inside.yaml")
    with open(cfg2, encoding="utf-8") as f:
        text = f.read()
    with open(cfg2, "w", encoding="utf-8") as f:
        f.write(re.sub(r"state_dir: .*", "state_dir: out/.state", text))
    p = sfwrap.run(["check", "-q", "-c", cfg2])
    if p.returncode != 3 or "is inside output.dir, so the web server publishes it" not in p.stderr:
        fail(f"check: state inside the output: exit {p.returncode}, {p.stderr[-300:]!r}")
    # more captures than limits.max_captures: check says build will refuse,
    # at the same count build refuses at (records plus rejected files)
    for limit, refused in ((75, True), (76, False)):
        cfg3 = config_for(tmp, name="few.yaml", extra=f"limits: {{max_captures: {limit}}}\n")
        p = sfwrap.run(["check", "-q", "-c", cfg3])
        said = "more than limits.max_captures" in p.stderr
        if said != refused or p.returncode != 3:
            fail(f"check: max_captures {limit}: exit {p.returncode}, {p.stderr[-300:]!r}")
        b = sfwrap.run(["build", "-q", "--dry-run", "-c", cfg3])
        if ("refusing to build" in b.stderr) != refused:
            fail(f"build: max_captures {limit}: exit {b.returncode}, {b.stderr[-300:]!r}")
    # a configuration error and a missing input come with their fix too
    bad = os.path.join(tmp, "bad.yaml")
    with open(bad, "w", encoding="utf-8") as f:
        f.write("site: {title: T, base_url: https://x.example/}\ninputs: [{path: nowhere}]\n"
                "output: {pagez: true}\n")
    p = sfwrap.run(["check", "-c", bad])
    if p.returncode != 1 or "unknown key 'pagez'" not in p.stderr or \
            "fix: correct the lines named above; feeds.yaml(5)" not in p.stderr:
        fail(f"check: bad configuration: {p.stderr!r}")
    with open(bad, "w", encoding="utf-8") as f:
        f.write("site: {title: T, base_url: https://x.example/}\ninputs: [{path: nowhere}]\n")
    p = sfwrap.run(["check", "-c", bad])
    if p.returncode != 1 or "input not found" not in p.stderr or \
            "snapfeed: fix: create it, or correct inputs[].path" not in p.stderr:
        fail(f"check: missing input: {p.stderr!r}")


def case_arguments(tmp):
    """Options go after the command, or before it too; a missing argument
    says so, rather than calling the option unknown."""
    cfg = config_for(tmp)
    for args, want in ((["build", "--config"], "option '--config' needs an argument"),
                       (["build", "-c"], "option '-c' needs an argument"),
                       (["--all", "check"], "option --all does not apply to 'check'"),
                       (["parse", "--encoding", "gbk", "x.txt"],
                        "--encoding must be auto, utf-8 or gb18030")):
        p = sfwrap.run(args)
        if p.returncode != 2 or f"snapfeed: {want}" not in p.stderr:
            fail(f"{' '.join(args)}: exit {p.returncode}, {p.stderr[-300:]!r}")
    after = sfwrap.run(["check", "-q", "-c", cfg])
    for args in (["-c", cfg, "check", "-q"], ["-q", "check", "-c", cfg]):
        p = sfwrap.run(args)
        if (p.returncode, p.stdout, p.stderr) != (after.returncode, after.stdout, after.stderr):
            fail(f"{' '.join(args)}: exit {p.returncode} against {after.returncode}, "
                 f"{p.stderr[-300:]!r}")


def case_stdout_full(tmp):
    """Output that cannot be written (stdout on /dev/full) is an error, exit
    1 with one line, for every command and for --help and --version too
    (--help once said nothing and exited 0)."""
    cfg = config_for(tmp)
    capture = os.path.join(e2eutil.CAPTURES, "edu-full.txt")
    for args in (["--help"], ["--version"], ["build", "--help"], ["parse", capture],
                 ["check", "-c", cfg], ["build", "-c", cfg, "-o", os.path.join(tmp, "out")]):
        with open("/dev/full", "w") as full:
            p = subprocess.run(sfwrap.WRAP + [sfwrap.SNAPFEED] + args, stdout=full,
                               stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                               timeout=sfwrap.TIMEOUT)
        last = p.stderr.splitlines()[-1:] or [""]
        if p.returncode != 1 or last != ["snapfeed: <stdout>: write error"]:
            fail(f"{' '.join(args[:2])} > /dev/full: exit {p.returncode}, {p.stderr[-200:]!r}")


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def main():
    return e2eutil.run_cases(CASES, failures, sys.argv[2:], "sf-cli-")


if __name__ == "__main__":
    sys.exit(main())
