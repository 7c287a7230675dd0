#!/usr/bin/python3
# tests/e2e/test_scale.py - 20,000 generated captures: memory stays bounded
# (peak RSS from getrusage, not a clock), the output is what the model
# says, and it is the same with one thread and no manifest.
#
# Usage: test_scale.py SRCDIR GEN_CAPTURES [COUNT]
import glob
import os
import subprocess
import sys
import tempfile

import e2eutil
import feedcheck
import sfwrap

e2eutil.set_source(sys.argv[1])
GEN = sys.argv[2]
COUNT = int(sys.argv[3]) if len(sys.argv) > 3 else 20000
# The bound docs/design.md states for a build's peak memory, whatever the
# number of captures (measured: about 27 MiB at 100,000).
RSS_BOUND_MIB = 40
failures = []


def peak_rss_mib(args):
    code, kib = e2eutil.peak_rss_kib(args)
    return code, kib / 1024


def main():
    with tempfile.TemporaryDirectory(prefix="sf-scale-") as tmp:
        caps = os.path.join(tmp, "captures")
        subprocess.run([GEN, "--seed", "7", "--count", str(COUNT), "--out", caps], check=True,
                       stdout=subprocess.DEVNULL, timeout=600)
        cfg = e2eutil.config_for(tmp, caps, extra="")
        out = os.path.join(tmp, "out")
        code, rss = peak_rss_mib(["build", "-q", "-c", cfg, "-o", out])
        print(f"{COUNT} captures: exit {code}, peak RSS {rss:.1f} MiB")
        if code != 0:
            failures.append(f"build exit {code}")
        if rss > RSS_BOUND_MIB:
            failures.append(f"peak RSS {rss:.1f} MiB over the {RSS_BOUND_MIB} MiB bound")
        # the same output from one thread, no manifest (the catalog spills
        # either way at this size)
        ref = os.path.join(tmp, "ref")
        code, rss1 = peak_rss_mib(["build", "-q", "-j1", "--no-manifest", "-c", cfg, "-o", ref])
        if e2eutil.contents(ref) != e2eutil.contents(out):
            failures.append("-j1 --no-manifest output differs")
        if rss1 > RSS_BOUND_MIB:
            failures.append(f"-j1 peak RSS {rss1:.1f} MiB")
        # what the feeds must hold, from the records themselves
        paths = sorted(glob.glob(os.path.join(caps, "**", "*.txt"), recursive=True))
        records = feedcheck.parse_records(paths, cfg)
        if len(records) != COUNT:
            failures.append(f"parse gave {len(records)} records")
        feedcheck.check_output(out, records, 50, failures, consumers=False)
    for f in failures:
        print("FAIL " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
