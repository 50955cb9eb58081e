"""Resident memory (RSS) of services, with their child processes, via psutil."""

from __future__ import annotations

import threading
from collections.abc import Mapping

MB = 1024 * 1024
SAMPLE_SECONDS = 0.5


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
