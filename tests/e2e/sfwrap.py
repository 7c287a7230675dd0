# tests/e2e/sfwrap.py - how the end-to-end tests run snapfeed: under the
# wrapper named by $SF_WRAP (valgrind in the valgrind setup), with a fixed
# locale and zone, and with a bound on every run.
import os
import shlex
import subprocess

SNAPFEED = os.environ.get("SNAPFEED", "snapfeed")
WRAP = shlex.split(os.environ.get("SF_WRAP", ""))
TIMEOUT = 600 if WRAP else 120


def run(args, cwd=None, env=None, input=None, wrap=True, preexec_fn=None):
    """Runs snapfeed ARGS; returns CompletedProcess with text stdout/stderr.
    preexec_fn runs in the child before snapfeed starts (limits, say)."""
    cmd = (WRAP if wrap else []) + [SNAPFEED] + list(args)
    e = dict(os.environ)
    if env:
        e.update(env)
    return subprocess.run(cmd, cwd=cwd, env=e, input=input, capture_output=True,
                          timeout=TIMEOUT, text=True, preexec_fn=preexec_fn)
