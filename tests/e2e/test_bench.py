#!/usr/bin/python3
# tests/e2e/test_bench.py - the benchmark's floor counts what is there:
# reading, statting and statting on several threads see the same files,
# bytes and directories as os.walk, and bad arguments are refused.
#
# Usage: test_bench.py GEN_CAPTURES FLOOR
import os
import re
import subprocess
import sys
import tempfile

GEN, FLOOR = sys.argv[1], sys.argv[2]
failures = []


def floor(*args):
    p = subprocess.run([FLOOR, *args], capture_output=True, text=True, timeout=120)
    m = re.fullmatch(r"files=(\d+) bytes=(\d+) dirs=(\d+) seconds=[\d.]+\n", p.stdout)
    return p.returncode, (tuple(int(x) for x in m.groups()) if m else None), p.stderr


def main():
    with tempfile.TemporaryDirectory(prefix="sf-bench-") as tmp:
        caps = os.path.join(tmp, "captures")
        subprocess.run([GEN, "--seed", "3", "--count", "600", "--out", caps], check=True,
                       stdout=subprocess.DEVNULL, timeout=120)
        # not captures: a link and a FIFO are skipped by every mode
        os.symlink("/etc/passwd", os.path.join(caps, "link"))
        os.mkfifo(os.path.join(caps, "fifo"))
        files = size = dirs = 0
        for d, _, names in os.walk(caps):
            dirs += 1
            for n in names:
                st = os.lstat(os.path.join(d, n))
                if os.path.isfile(os.path.join(d, n)) and not os.path.islink(os.path.join(d, n)):
                    files += 1
                    size += st.st_size
        want = (files, size, dirs)
        for args in ([], ["--stat"], ["--stat", "--threads", "1"], ["--stat", "--threads", "2"],
                     ["--stat", "--threads", "7"]):
            code, got, err = floor(*args, caps)
            if code != 0 or got != want:
                failures.append(f"floor {' '.join(args)}: exit {code}, {got} != {want}: {err}")
        for args in (["--stat", "--threads", "0"], ["--stat", "--threads", "x"], ["--threads", "2"],
                     []):
            code, got, err = floor(*args)
            if code != 2 or not err.startswith(("floor:", "usage:")):
                failures.append(f"floor {' '.join(args)}: exit {code}, {err!r}")
        code, got, err = floor("--stat", "--threads", "2", os.path.join(tmp, "absent"))
        if code != 1 or "absent" not in err:
            failures.append(f"missing directory: exit {code}, {err!r}")
    for f in failures:
        print("FAIL:", f)
    print("bench floor:", "FAILED" if failures else "ok")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
