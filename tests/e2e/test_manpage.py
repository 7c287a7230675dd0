#!/usr/bin/python3
# tests/e2e/test_manpage.py - the man pages say what the program does:
# every option of `snapfeed --help` and `snapfeed CMD --help` is in
# snapfeed(1) for the same commands and nothing else is (both ways), as
# are the commands and the exit statuses of main.c; every key of
# config.c's tables is in feeds.yaml(5) with its type and default, and no
# other key is.
#
# Usage: test_manpage.py SRCDIR [BUILDDIR]
import os
import re
import sys

import sfwrap

SRC = os.path.abspath(sys.argv[1])
BUILD = os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 else None
failures = []


def fail(msg):
    failures.append(msg)


def section(text, name):
    """The text of '# NAME' up to the next '# ' heading."""
    m = re.search(r"^# " + re.escape(name) + r"\n(.*?)(?=^# |\Z)", text, re.S | re.M)
    if not m:
        fail(f"no section {name}")
        return ""
    return m.group(1)


def help_options(cmd):
    """The long options `snapfeed [CMD] --help` lists."""
    p = sfwrap.run(([cmd] if cmd else []) + ["--help"], wrap=False)
    if p.returncode != 0:
        fail(f"snapfeed {cmd} --help: exit {p.returncode}")
    opts = p.stdout.split("\nOptions:\n", 1)[-1]
    return set(re.findall(r"^  (?:-\w, )?\s*--([a-z-]+)", opts, re.M)), p.stdout


def help_commands():
    p = sfwrap.run(["--help"], wrap=False)
    block = p.stdout.split("\nCommands:\n", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in block.splitlines()]


def man_options(scd):
    """{command: set of long options} from the OPTIONS section of
    snapfeed.1.scd: each entry's first line names it, its "Commands:"
    line the commands it applies to ("all": every one)."""
    per_cmd = {}
    entries = re.split(r"^(?=\*-)", section(scd, "OPTIONS"), flags=re.M)[1:]
    for e in entries:
        head = e.splitlines()[0]
        longs = re.findall(r"\*--([a-z-]+)\*", head)
        shorts = re.findall(r"\*-(\w)\*", head)
        if len(longs) != 1:
            fail(f"snapfeed.1: option entry {head!r} names {longs}")
            continue
        m = re.search(r"^\tCommands: (.*)\.$", e, re.M)
        if not m:
            fail(f"snapfeed.1: --{longs[0]} has no Commands: line")
            continue
        for c in [x.strip() for x in m.group(1).split(",")]:
            per_cmd.setdefault(c, {})[longs[0]] = shorts[0] if shorts else None
    return per_cmd


def check_snapfeed_1():
    with open(os.path.join(SRC, "docs/snapfeed.1.scd"), encoding="utf-8") as f:
        scd = f.read()
    commands = help_commands()
    documented = re.findall(r"^\*([a-z]+)\*\n\t", section(scd, "COMMANDS"), re.M)
    if sorted(commands) != sorted(documented):
        fail(f"commands: --help {commands}, snapfeed.1 {documented}")
    per_cmd = man_options(scd)
    every = set(per_cmd.get("all", {}))
    top, _ = help_options(None)
    if top != every:
        fail(f"snapfeed --help: {sorted(top)}; snapfeed.1 for all commands: {sorted(every)}")
    for cmd in commands:
        listed, text = help_options(cmd)
        man = set(per_cmd.get(cmd, {})) | every
        for o in sorted(listed - man):
            fail(f"snapfeed {cmd} --help lists --{o}, which snapfeed.1 does not give {cmd}")
        for o in sorted(man - listed):
            fail(f"snapfeed.1 gives --{o} to {cmd}, which snapfeed {cmd} --help does not list")
        # the short forms agree too
        for o, short in {**per_cmd.get(cmd, {}), **per_cmd.get("all", {})}.items():
            has = re.search(r"^  -(\w), --" + re.escape(o) + r"\b", text, re.M)
            if (has.group(1) if has else None) != short:
                fail(f"--{o}: short form {short!r} in snapfeed.1, "
                     f"{has.group(1) if has else None!r} in --help")
        if f"*snapfeed {cmd}*" not in section(scd, "SYNOPSIS"):
            fail(f"snapfeed.1: no {cmd} in SYNOPSIS")
    # Exit statuses: main.c's enum, each under EXIT STATUS.
    with open(os.path.join(SRC, "src/main.c"), encoding="utf-8") as f:
        codes = re.findall(r"SF_EXIT_\w+ = (\d+),", f.read())
    exits = re.findall(r"^\*(\d+)\*$", section(scd, "EXIT STATUS"), re.M)
    if sorted(codes) != sorted(exits) or not codes:
        fail(f"exit statuses: main.c {codes}, snapfeed.1 {exits}")
    for name in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "FILES",
                 "EXAMPLES", "SEE ALSO"):
        section(scd, name)
    # a literal block, so that man does not wrap it: a wrapped crontab line
    # copied from the page would not run
    if not re.search(r"^\t```\n(?:\t.*\n)*?\t\*/5 .*snapfeed build", section(scd, "EXAMPLES"),
                     re.M):
        fail("snapfeed.1: no cron line in EXAMPLES")
    # The page as built and installed carries every option too.
    built = os.path.join(BUILD, "snapfeed.1") if BUILD else None
    if built and os.path.exists(built):
        with open(built, encoding="utf-8") as f:
            roff = f.read()
        for cmd, opts in per_cmd.items():
            for o in opts:
                if f"\\fB--{o}\\fR" not in roff:
                    fail(f"{built}: no --{o}")


def config_keys():
    """Every key config.c accepts, as "section.key" / "section[].key"."""
    with open(os.path.join(SRC, "src/config.c"), encoding="utf-8") as f:
        src = f.read()
    tables = dict(re.findall(r"static const struct key_spec (\w+)_keys\[\] = \{(.*?)\};", src,
                             re.S))
    prefix = {"site": "site.", "input": "inputs[].", "output": "output.", "feed": "feeds[].",
              "websub": "websub.", "limits": "limits."}
    keys = {}
    for table, body in tables.items():
        if table == "top":
            continue
        if table not in prefix:
            fail(f"config.c: key table {table}_keys is not known to this test")
            continue
        for name, required in re.findall(r'\{"(\w+)", (true|false),', body):
            keys[prefix[table] + name] = required == "true"
    if len(keys) < 20:
        fail(f"config.c: only {len(keys)} keys found")
    return keys


def check_feeds_yaml_5():
    with open(os.path.join(SRC, "docs/feeds.yaml.5.scd"), encoding="utf-8") as f:
        scd = f.read()
    entries = {}
    for m in re.finditer(r"^\*([a-z_]+(?:\[\])?\.[a-z_]+)\* \(([^)]*)\)\n(.*?)(?=^\*|^#|\Z)",
                         scd, re.S | re.M):
        entries[m.group(1)] = (m.group(2), m.group(3))
    keys = config_keys()
    for k in sorted(set(keys) - set(entries)):
        fail(f"feeds.yaml.5 does not describe {k}")
    for k in sorted(set(entries) - set(keys)):
        fail(f"feeds.yaml.5 describes {k}, which config.c does not accept")
    for k, (kind, body) in entries.items():
        if k not in keys:
            continue
        if keys[k] != ("required" in kind):
            fail(f"feeds.yaml.5: {k} is {'required' if keys[k] else 'optional'} in config.c, "
                 f"({kind}) in the page")
        if not keys[k] and "\tDefault: " not in body:
            fail(f"feeds.yaml.5: {k} has no Default:")
        if not re.match(r"(string|bool|integer|number|list|duration)", kind):
            fail(f"feeds.yaml.5: {k}: no type in ({kind})")


def main():
    check_snapfeed_1()
    check_feeds_yaml_5()
    for f in failures:
        print("FAIL " + f)
    print("manpage: " + ("FAIL" if failures else "ok"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
