"""Sandbox children as /proc shows them: whose children they are, and whether they live."""

import os
from pathlib import Path


def stat_fields(pid: int) -> list[str] | None:
    """/proc/PID/stat after the command name (state, ppid, ...); None once the pid is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def alive(pid: int) -> bool:
    """Whether the process runs: not gone, and not a zombie waiting to be reaped."""
    fields = stat_fields(pid)
    return fields is not None and fields[0] != "Z"


def sandbox_children(parent: int | None = None) -> list[int]:
    """Pids of the living sandbox children of `parent` (default: this process), sorted."""
    parent = os.getpid() if parent is None else parent
    found = []
    for pid in map(int, filter(str.isdigit, os.listdir("/proc"))):
        fields = stat_fields(pid)
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if fields and fields[0] != "Z" and int(fields[1]) == parent:
            if b"_sandbox_child.py" in cmdline:
                found.append(pid)
    return sorted(found)


def is_pool_worker(pid: int) -> bool:
    """Whether a sandbox child runs in worker mode (a pool's), from its command line."""
    return b'"worker": true' in Path(f"/proc/{pid}/cmdline").read_bytes()
