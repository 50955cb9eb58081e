"""What every part of the harness shares: settings, paths, the results files,
run metadata (commit, date, machine) and small statistics helpers.

Results files are flat JSON objects: metric name -> number, plus the strings
``commit``, ``date`` and ``machine``. Anything bigger (confusion matrices,
per-scenario transcripts, latency samples) goes to a ``details`` file next to
them, which ``tests.perf.report`` reads to draw tables and plots.
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[2]
META_KEYS = ("commit", "date", "machine")


class PerfSettings(BaseSettings):
    """Where the harness reads data sets and writes results; see docs/benchmarks.md."""

    model_config = SettingsConfigDict(env_prefix="FRONTLINE_PERF_", env_file=".env", extra="ignore")

    shared_eval_dir: Path = Field(
        Path("../shared/eval"),
        description="Third-party evaluation data (bitext, clinc150, doc2dial); absent = skipped.",
    )
    eval_dir: Path = Field(Path("var/eval"), description="Results and work files of make eval.")
    bench_dir: Path = Field(Path("var/bench"), description="Results and work files of make bench.")
    engine_venv: Path = Field(Path(".venv/engine"), description="The Rasa 3.6 environment.")
    cv_folds: int = Field(4, ge=2, le=10, description="Folds of the intent cross-validation.")
    parallel_trainings: int = Field(2, ge=1, le=8, description="Rasa trainings run at once.")
    level_seconds: float = Field(20.0, gt=0, description="Load per concurrency level and bot.")
    concurrency: str = Field("1,10,50", description="Concurrent simulated customers per level.")
    handoff_samples: int = Field(20, ge=1, description="Escalations timed for handoff latency.")
    throughput_pairs: int = Field(
        5,
        ge=1,
        le=20,
        description="Frontline/baseline runs at 10 customers, in alternating order; the "
        "throughput ratio is the median of their ratios.",
    )

    def resolved(self, path: Path) -> Path:
        return path if path.is_absolute() else ROOT / path

    @property
    def levels(self) -> list[int]:
        return [int(part) for part in self.concurrency.split(",") if part.strip()]

    @property
    def engine_python(self) -> Path:
        return self.resolved(self.engine_venv) / "bin" / "python"

    @property
    def engine_rasa(self) -> Path:
        return self.resolved(self.engine_venv) / "bin" / "rasa"

    def dataset(self, name: str) -> Path:
        return self.resolved(self.shared_eval_dir) / name


def load_perf_settings() -> PerfSettings:
    """The harness's settings from the environment (and .env)."""
    from core.runtime import load_settings

    return load_settings(PerfSettings)


class HarnessError(Exception):
    """A measurement could not run at all (not a data set that is absent)."""


@dataclass
class Section:
    """What one part of a run measured: flat metrics, details and skips."""

    name: str
    metrics: dict[str, float] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def skip(self, what: str, reason: str) -> None:
        """Records and prints that ``what`` was not measured, and why."""
        self.skipped[what] = reason
        say(f"SKIPPED {what}: {reason}")

    def put(self, values: Mapping[str, float | int | None]) -> None:
        for key, value in values.items():
            if value is not None and not (isinstance(value, float) and math.isnan(value)):
                self.metrics[key] = round(float(value), 4)


def say(message: str) -> None:
    """Progress for the person running the command (stderr, flushed)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def commit() -> str:
    """The checked-out commit, with ``-dirty`` when the work tree has changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=ROOT, capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()  # fmt: skip
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT, capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head}-dirty" if status else head


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine() -> str:
    """One line describing the machine the numbers come from."""
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f", {int(line.split()[1]) / 1024 / 1024:.0f} GiB RAM"
    except OSError:
        pass
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs ({cpu_model()})"
        f"{memory}, Python {platform.python_version()}"
    )


def metadata() -> dict[str, str]:
    return {
        "commit": commit(),
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine(),
    }


def write_results(folder: Path, sections: Sequence[Section], merge: bool = False) -> Path:
    """Writes ``latest.json`` (flat) and ``details.json`` in ``folder``.

    With ``merge`` the metrics of sections not run this time are kept from the
    previous files (``details.json`` says when each section last ran)."""
    folder.mkdir(parents=True, exist_ok=True)
    latest_path, details_path = folder / "latest.json", folder / "details.json"
    flat: dict[str, Any] = {}
    details: dict[str, Any] = {"sections": {}}
    if merge and latest_path.exists() and details_path.exists():
        previous = json.loads(latest_path.read_text())
        details = json.loads(details_path.read_text())
        rerun = {section.name for section in sections}
        for key, value in previous.items():
            if key not in META_KEYS and key.split(".", 1)[0] not in rerun:
                flat[key] = value
        for name in rerun:
            details["sections"].pop(name, None)
    run = metadata()
    for section in sections:
        flat.update(section.metrics)
        details["sections"][section.name] = {
            **run,
            "seconds": round(section.seconds, 1),
            "skipped": section.skipped,
            "details": section.details,
        }
    flat = {**run, **dict(sorted(flat.items()))}
    latest_path.write_text(json.dumps(flat, indent=2) + "\n")
    details_path.write_text(json.dumps(details, indent=2, default=str) + "\n")
    return latest_path


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation; NaN if empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def mean(values: Iterable[float]) -> float:
    items = list(values)
    return sum(items) / len(items) if items else math.nan


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    if math.isnan(numerator) or math.isnan(denominator):
        return None
    return numerator / denominator


def engine_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of Rasa engine processes (the launcher's)."""
    from launcher.stack import engine_env as stack_engine_env

    env = stack_engine_env(dict(extra or {}))
    env.setdefault("HF_HUB_OFFLINE", "1")
    return env


def run_logged(argv: Sequence[str], log: Path, env: Mapping[str, str] | None = None) -> float:
    """Runs ``argv`` from the project root with its output in ``log``; returns
    the seconds it took. A failure raises ``HarnessError`` with the log's tail."""
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with log.open("wb") as out:
        result = subprocess.run(
            list(argv), cwd=ROOT, env=dict(env) if env else None, stdout=out,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, check=False,
        )  # fmt: skip
    seconds = time.monotonic() - started
    if result.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
        raise HarnessError(f"{argv[0]} exited with {result.returncode}; {log}:\n{tail}")
    return seconds


def section_range(lines: Sequence[str], heading: str) -> tuple[int, int] | None:
    """``(start, end)`` of the section under ``heading``: up to the next ``## ``."""
    if heading not in lines:
        return None
    start = list(lines).index(heading)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return start, end


def update_doc_section(heading: str, section: Sequence[str], doc: Path | None = None) -> None:
    """Replaces (or appends) the section under ``heading`` (up to the next
    ``## ``) of docs/benchmarks.md with ``section``, which starts with it."""
    doc = doc or ROOT / "docs" / "benchmarks.md"
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    lines = text.rstrip("\n").split("\n")
    found = section_range(lines, heading)
    if found is not None:
        lines[found[0] : found[1]] = list(section)
    else:
        lines += ["", *section]
    doc.write_text("\n".join(lines).rstrip("\n") + "\n", encoding="utf-8")
