"""What the benchmark reads of its children's memory: a process tree from /proc and VmRSS."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from bench.procs import descendants, rss_kib, tree_rss

# A child that starts a grandchild, prints its pid, and waits.
PARENT = (
    "import subprocess, sys, time\n"
    "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'])\n"
    "print(child.pid, flush=True)\n"
    "time.sleep(30)\n"
)


def test_a_tree_holds_the_children_of_children() -> None:
    with subprocess.Popen(
        [sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True
    ) as parent:
        try:
            assert parent.stdout is not None
            grandchild = int(parent.stdout.readline())

            assert descendants(parent.pid) == [parent.pid, grandchild]
            memory = tree_rss(parent.pid)
            assert set(memory) == {parent.pid, grandchild}
            assert all(kib > 1000 for kib in memory.values())  # a Python interpreter, in KiB
        finally:
            for pid in descendants(parent.pid)[::-1]:
                os.kill(pid, signal.SIGKILL)


def test_our_own_rss_and_none_for_a_process_gone() -> None:
    with subprocess.Popen([sys.executable, "-c", "pass"]) as gone:
        gone.wait()

    own = rss_kib(os.getpid())
    assert own is not None
    assert own > 1000
    assert rss_kib(gone.pid) is None
