"""Resident memory (RSS, via psutil) and CPU time (from /proc) of services,
with their child processes."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path

MB = 1024 * 1024
SAMPLE_SECONDS = 0.5
PROC = Path("/proc")


def cpu_available() -> bool:
    return PROC.is_dir()


def available() -> bool:
    try:
        import psutil  # noqa: F401
    except ImportError:
        return False
    return True


def rss_mb(pid: int) -> float:
    """RSS of ``pid`` and all its descendants in MiB (0 if it is gone)."""
    import psutil

    try:
        process = psutil.Process(pid)
        processes = [process, *process.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0
    for item in processes:
        try:
            total += item.memory_info().rss
        except psutil.Error:
            continue
    return total / MB


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by ``pid`` and its descendants
    (with their exited children), from Linux's /proc (psutil not needed);
    0 if it is gone or /proc is absent."""
    parents: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields:
                parents.setdefault(int(fields[1]), []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        fields = _stat_fields(current)
        if fields:
            # utime, stime, cutime, cstime: fields 14-17 of /proc/<pid>/stat
            total += sum(int(value) for value in fields[11:15])
        todo.extend(parents.get(current, []))
    return total / os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name ([] if gone)."""
    try:
        return (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


class PeakSampler:
    """Samples the RSS of ``pids`` (name -> pid) in a thread; ``peaks`` holds
    the highest value seen per name since ``start()``."""

    def __init__(self, pids: Mapping[str, int]) -> None:
        self.pids = dict(pids)
        self.peaks: dict[str, float] = dict.fromkeys(self.pids, 0.0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, pid in self.pids.items():
                self.peaks[name] = max(self.peaks[name], rss_mb(pid))
            self._stop.wait(SAMPLE_SECONDS)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
