"""``make bench``: speed measurements, then docs/benchmarks.md.

    .venv/app/bin/python -m tests.perf.bench [--channels socket,rest] [--skip-handoff]
        [--only latency|kb] [--kb-sizes 1000,100000,1000000]

Runs ``tests.perf.bench_latency`` (Frontline and the ``rasa init`` baseline
under load) and, when the ``kb_index`` package provides it, its own benchmark
(``python -m tests.perf.kb_bench --sizes 1000,100000,1000000 --out FILE``: build,
refresh, query latency and ANN recall over 1,000, 100,000 and 1,000,000
passages, merged under ``kb.``; the million takes about 4 minutes and peaks at
6.3 GB here, ``--kb-sizes 1000,100000`` leaves it out; ``--only`` keeps the
other part's figures from the previous run).
Writes ``var/bench/latest.json`` and ``details.json``, then regenerates
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from tests.perf import bench_latency, report
from tests.perf.common import (
    HarnessError,
    PerfSettings,
    Section,
    load_perf_settings,
    run_logged,
    say,
    write_results,
)
from tests.perf.eval_retrieval import flatten, kb_env, module_has_main

KB_SIZES = "1000,100000,1000000"


def kb_bench(settings: PerfSettings, sizes: str = KB_SIZES) -> Section:
    section = Section("kb")
    started = time.monotonic()
    if not module_has_main("tests.perf.kb_bench"):
        section.skip("kb.bench", "tests.perf.kb_bench has no command yet (hook left)")
        return section
    work = settings.resolved(settings.bench_dir) / "work"
    out = work / "kb-bench.json"
    out.unlink(missing_ok=True)
    try:
        run_logged(
            [sys.executable, "-m", "tests.perf.kb_bench", "--sizes", sizes, "--out", str(out)],
            work / "kb-bench.log",
            kb_env(settings.resolved(settings.bench_dir) / "state"),
        )
    except HarnessError as error:
        section.skip("kb.bench", f"tests.perf.kb_bench failed: {error}")
        return section
    if out.exists():
        section.put(flatten(json.loads(out.read_text()), "kb"))
    else:
        section.skip("kb.bench", f"tests.perf.kb_bench wrote no {out.name}")
    section.seconds = time.monotonic() - started
    return section


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", default="socket,rest", help="socket, rest or both")
    parser.add_argument("--skip-handoff", action="store_true")
    parser.add_argument("--only", choices=("latency", "kb"), help="run one part, keep the other")
    parser.add_argument(
        "--kb-sizes", default=KB_SIZES, help="passage counts for tests.perf.kb_bench"
    )
    args = parser.parse_args(argv)
    settings = load_perf_settings()
    started = time.monotonic()
    channels = [c for c in args.channels.split(",") if c in ("socket", "rest")]
    sections = []
    if args.only in (None, "latency"):
        sections.append(bench_latency.run(settings, channels, handoff=not args.skip_handoff))
    if args.only in (None, "kb"):
        sections.append(kb_bench(settings, args.kb_sizes))
    path = write_results(
        settings.resolved(settings.bench_dir), sections, merge=args.only is not None
    )
    say(f"wrote {path} in {time.monotonic() - started:.0f} s")
    report.main([])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
