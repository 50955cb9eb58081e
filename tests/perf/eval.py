"""``make eval``: every quality measurement, then docs/benchmarks.md.

    .venv/app/bin/python -m tests.perf.eval [--only intents,oos,scenarios,retrieval]

Writes ``var/eval/latest.json`` (flat metrics + commit, date, machine) and
``var/eval/details.json``, then regenerates docs/benchmarks.md. A data set
that is absent is skipped with a message; a part that fails is reported and
the others still run (exit code 1). With ``--only``, the other parts' figures
are kept from the previous run.
"""

from __future__ import annotations

import argparse
import os
import time
import traceback
from collections.abc import Callable

from tests.perf import eval_intents, eval_oos, eval_retrieval, eval_scenarios, report
from tests.perf.common import (
    PerfSettings,
    Section,
    load_perf_settings,
    say,
    write_results,
)

PARTS: dict[str, Callable[[PerfSettings], Section]] = {
    "intents": eval_intents.run,
    "oos": eval_oos.run,  # CLINC150 and Banking77-OOS (each skipped if absent)
    "retrieval": eval_retrieval.run,
    "scenarios": eval_scenarios.run,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help=f"comma-separated parts of: {', '.join(PARTS)}")
    args = parser.parse_args(argv)
    chosen = [p.strip() for p in args.only.split(",")] if args.only else list(PARTS)
    unknown = set(chosen) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts {sorted(unknown)}")
    settings = load_perf_settings()
    started = time.monotonic()
    sections: list[Section] = []
    failed = []
    for name in chosen:
        say(f"== {name}")
        load = os.getloadavg()
        try:
            section = PARTS[name](settings)
        except Exception as error:  # boundary: one failed part must not stop the others
            traceback.print_exc()
            section = Section(name)
            section.skip(name, f"FAILED: {error.__class__.__name__}: {error}")
            failed.append(name)
        section.details.setdefault("load_average_start", load)
        sections.append(section)
    path = write_results(settings.resolved(settings.eval_dir), sections, merge=bool(args.only))
    say(f"wrote {path} in {time.monotonic() - started:.0f} s")
    report.main([])
    if failed:
        say(f"failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
