"""Knowledge-base retrieval quality, measured by the ``kb_index`` package's own
tools and merged into ``make eval``'s results:

* doc2dial (../shared/eval/doc2dial, third-party):
  ``python -m tests.perf.doc2dial --path DIR --out FILE.json``;
* the held-out Brightwave questions (``data/eval/kb_heldout.jsonl``):
  ``python -m kb_index.cli eval --queries FILE`` against an index of
  ``data/kb`` refreshed into ``var/eval/state``.

``tests.perf.doc2dial`` writes ``<variant>.<retriever>.<metric>`` numbers; they
are kept under ``retrieval.doc2dial.``. The headline names are those of the
configuration the product ships (``KBSettings``: weighted fusion, the
``hybrid`` retriever, with 2 earlier turns, the ``history2`` variant):
``retrieval.doc2dial_r5`` = ``current.hybrid.recall@5``,
``retrieval.doc2dial_r5_history`` = ``history2.hybrid.recall@5``,
``retrieval.doc2dial_mrr10_history`` = ``history2.hybrid.mrr@10`` (keys the tool
already names ``retrieval.*`` win). Only those two variants are run, to keep
``make eval`` short. Whatever is missing is reported, never silently left out.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.perf.common import (
    ROOT,
    HarnessError,
    PerfSettings,
    Section,
    load_perf_settings,
    run_logged,
    say,
    write_results,
)

HELDOUT = ROOT / "data" / "eval" / "kb_heldout.jsonl"
DOC2DIAL_VARIANTS = "current,history2"
DOC2DIAL_HEADLINES = {
    "retrieval.doc2dial_r5": "retrieval.doc2dial.current.hybrid.recall@5",
    "retrieval.doc2dial_r5_history": "retrieval.doc2dial.history2.hybrid.recall@5",
    "retrieval.doc2dial_mrr10_history": "retrieval.doc2dial.history2.hybrid.mrr@10",
}
HELDOUT_NAMES = {
    "recall@1": "retrieval.kb_heldout_r1",
    "recall@5": "retrieval.kb_heldout_r5",
    "recall@10": "retrieval.kb_heldout_r10",
    "mrr@10": "retrieval.kb_heldout_mrr10",
    "ndcg@10": "retrieval.kb_heldout_ndcg10",
    "queries": "retrieval.kb_heldout_queries",
}


def flatten(value: Any, prefix: str) -> dict[str, float]:
    """Numbers of a nested JSON object as ``prefix.key.subkey`` -> number."""
    flat: dict[str, float] = {}
    if isinstance(value, Mapping):
        for key, item in value.items():
            name = str(key) if str(key).startswith("retrieval.") else f"{prefix}.{key}"
            flat.update(flatten(item, name))
    elif isinstance(value, int | float) and not isinstance(value, bool):
        flat[prefix] = float(value)
    return flat


def module_has_main(name: str) -> bool:
    """Whether ``python -m name`` can run (the module exists and has ``main``)."""
    if importlib.util.find_spec(name) is None:
        return False
    source = importlib.util.find_spec(name)
    origin = Path(source.origin) if source is not None and source.origin else None
    return origin is not None and "def main(" in origin.read_text(encoding="utf-8")


def kb_env(state_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "FRONTLINE_DATABASE_URL": f"sqlite:///{state_dir / 'frontline.db'}",
        "FRONTLINE_KB_STORAGE_DIR": str(state_dir / "kb"),
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "PYTHONPATH": str(ROOT),
    }


def doc2dial(settings: PerfSettings, section: Section) -> None:
    folder = settings.dataset("doc2dial")
    if not folder.exists():
        section.skip("retrieval.doc2dial", f"{folder} not found")
        return
    if not module_has_main("tests.perf.doc2dial"):
        section.skip("retrieval.doc2dial", "tests.perf.doc2dial has no command yet (hook left)")
        return
    work = settings.resolved(settings.eval_dir) / "work"
    out = work / "doc2dial.json"
    out.unlink(missing_ok=True)
    say("retrieval: doc2dial (tests.perf.doc2dial)")
    argv = [
        sys.executable, "-m", "tests.perf.doc2dial", "--path", str(folder),
        "--variants", DOC2DIAL_VARIANTS, "--out", str(out),
    ]  # fmt: skip
    try:
        seconds = run_logged(argv, work / "doc2dial.log", kb_env(work / "doc2dial-state"))
    except HarnessError as error:
        section.skip("retrieval.doc2dial", f"tests.perf.doc2dial failed: {error}")
        return
    if not out.exists():
        section.skip("retrieval.doc2dial", f"tests.perf.doc2dial wrote no {out.name}")
        return
    values = flatten(json.loads(out.read_text()), "retrieval.doc2dial")
    for headline, source in DOC2DIAL_HEADLINES.items():
        if headline not in values and source in values:
            values[headline] = values[source]
    section.put(values)
    section.put({"retrieval.doc2dial_seconds": seconds})
    missing = [name for name in DOC2DIAL_HEADLINES if name not in values]
    if missing:
        section.skip(", ".join(missing), "tests.perf.doc2dial's JSON does not contain them")


def heldout(settings: PerfSettings, section: Section) -> None:
    if not HELDOUT.exists():
        section.skip("retrieval.kb_heldout", f"{HELDOUT} not found")
        return
    if importlib.util.find_spec("kb_index.cli") is None:
        section.skip("retrieval.kb_heldout", "the kb_index package has no CLI")
        return
    state = settings.resolved(settings.eval_dir) / "state"
    state.mkdir(parents=True, exist_ok=True)
    work = settings.resolved(settings.eval_dir) / "work"
    env = kb_env(state)
    say("retrieval: held-out KB questions (kb refresh, kb eval)")
    try:
        run_logged(
            [sys.executable, "-m", "kb_index.cli", "refresh", "--quiet"],
            work / "kb-refresh.log",
            env,
        )
        out = work / "kb-heldout.json"
        started = time.monotonic()
        with out.open("w") as handle:
            import subprocess

            result = subprocess.run(
                [sys.executable, "-m", "kb_index.cli", "eval", "--queries", str(HELDOUT)],
                cwd=ROOT, env=env, stdout=handle, stderr=subprocess.PIPE, text=True, check=False,
            )  # fmt: skip
        if result.returncode != 0:
            raise HarnessError(f"kb eval exited with {result.returncode}: {result.stderr[-500:]}")
    except HarnessError as error:
        section.skip("retrieval.kb_heldout", str(error))
        return
    values = json.loads(out.read_text())
    section.put({name: values[key] for key, name in HELDOUT_NAMES.items() if key in values})
    section.put({"retrieval.kb_heldout_seconds": time.monotonic() - started})
    section.details["kb_heldout"] = values


def run(settings: PerfSettings) -> Section:
    section = Section("retrieval")
    started = time.monotonic()
    doc2dial(settings, section)
    heldout(settings, section)
    section.seconds = time.monotonic() - started
    return section


def main(argv: list[str] | None = None) -> int:
    settings = load_perf_settings()
    section = run(settings)
    path = write_results(settings.resolved(settings.eval_dir), [section], merge=True)
    say(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
