"""The real Frontline services for a measuring run, started by the launcher's
own code (``launcher.stack.Stack``) on free ports of 127.0.0.1, with every file of
the run (databases, demo company, outbox, KB index, logs) in one folder.

Differences from ``make run``, all about isolation: the demo company's SQLite
file and the email outbox live in the run folder (``FRONTLINE_BACKEND_*``),
the KB index is built into the run's database if the ``kb_index`` package can
build one, and the handoff service, when asked for, talks to a local imitation
of Slack (``tests/handoff/mock_slack.py``).
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.runtime import load_settings
from launcher.stack import ROOT, Service, Stack, StackSettings, train
from tests.perf.common import HarnessError, Section, run_logged, say

SLACK_SIGNING_SECRET = "perf-signing-secret"


def stack_settings(run_dir: Path, state_dir: Path) -> StackSettings:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "rasa_port": 0,
        "actions_port": 0,
        "handoff_port": 0,
        "site_port": 0,
        "var_dir": run_dir,
        "database_url": f"sqlite:///{state_dir / 'frontline.db'}",
        "tracker_store_url": f"sqlite:///{run_dir / 'rasa-tracker.db'}",
        "redis_url": None,
        "rasa_token": None,
    }
    return load_settings(StackSettings, _env_file=None, **values)


def product_model() -> Path:
    """The product model for the current training data (trained if needed)."""
    return train(load_settings(StackSettings, _env_file=None))


def isolation_env(run_dir: Path, state_dir: Path) -> dict[str, str]:
    return {
        "FRONTLINE_BACKEND_DEMO_DB_PATH": str(run_dir / "demo-backend.db"),
        "FRONTLINE_BACKEND_OUTBOX_DIR": str(run_dir / "outbox"),
        "FRONTLINE_KB_STORAGE_DIR": str(state_dir / "kb"),
        # Every question embedded afresh: the load repeats questions, customers
        # mostly do not, so the cache would flatter the KB latency.
        "FRONTLINE_KB_QUERY_CACHE_SIZE": "0",
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }


def build_kb(stack: Stack, env: dict[str, str], log: Path, section: Section) -> bool:
    """Brings the help-center index in the state database up to date (``kb
    refresh``: only changed articles are embedded again), which the KB answer
    action reads. Returns False, with a printed reason, when it cannot."""
    if importlib.util.find_spec("kb_index.cli") is None:
        section.skip("kb index", "the kb_index package has no CLI; KB answers cannot work")
        return False
    argv = [sys.executable, "-m", "kb_index.cli", "refresh", "--quiet"]
    try:
        seconds = run_logged(argv, log, {**os.environ, **stack.app_env(), **env})
    except HarnessError as error:
        section.skip("kb index", f"`kb refresh` failed, KB answers cannot work: {error}")
        return False
    section.details["kb_refresh_seconds"] = round(seconds, 1)
    say(f"KB index ready in {seconds:.0f} s")
    return True


# Records earlier runs left in the state database; only the KB index is kept.
RUN_TABLES = (
    "outbox", "slack_events", "escalations", "conversation_outcomes", "account_requests",
    "verification_codes", "kb_feedback", "kb_misses",
)  # fmt: skip


def purge_run_records(database_url: str) -> None:
    """Deletes what earlier runs wrote (queued Slack posts would otherwise be
    delivered during this run), keeping the KB index."""
    import sqlalchemy as sa

    from core.database import create_engine

    engine = create_engine(database_url)
    try:
        present = set(sa.inspect(engine).get_table_names())
        with engine.begin() as connection:
            for table in RUN_TABLES:
                if table in present:
                    connection.execute(sa.text(f"DELETE FROM {table}"))
    finally:
        engine.dispose()


def add_rest_channel(rasa: Service, run_dir: Path) -> None:
    """Frontline's channels plus Rasa's REST channel (benchmarks only)."""
    credentials = (ROOT / "bot" / "credentials.yml").read_text(encoding="utf-8")
    path = run_dir / "credentials-bench.yml"
    path.write_text(credentials.rstrip() + "\nrest:\n", encoding="utf-8")
    rasa.argv[rasa.argv.index("--credentials") + 1] = str(path)


@dataclass
class Run:
    """A started stack and what starting it measured."""

    stack: Stack
    run_dir: Path
    startup_seconds: dict[str, float] = field(default_factory=dict)
    kb_ready: bool = False

    @property
    def outbox(self) -> Path:
        return self.run_dir / "outbox"

    def service(self, name: str) -> Service:
        for service in self.stack.services:
            if service.name == name:
                return service
        raise KeyError(name)


@contextmanager
def frontline(
    run_dir: Path,
    state_dir: Path,
    section: Section,
    model: Path | None = None,
    handoff: bool = False,
    slack_url: str | None = None,
    slack_token: str | None = None,
    rest_channel: bool = False,
) -> Iterator[Run]:
    """Starts actions + Rasa (+ handoff) with this run's files in ``run_dir``;
    stops them on exit. The application database and the KB index live in
    ``state_dir`` and are kept between runs, so the index is only refreshed;
    the records of earlier runs (escalations, outbox, outcomes...) are deleted."""
    run_dir.mkdir(parents=True, exist_ok=True)
    state_dir.mkdir(parents=True, exist_ok=True)
    model = model or product_model()
    stack = Stack(stack_settings(run_dir, state_dir))
    stack.migrate()
    purge_run_records(stack.settings.app_database_url)
    env = isolation_env(run_dir, state_dir)
    run = Run(stack, run_dir)
    run.kb_ready = build_kb(stack, env, run_dir / "log" / "kb-refresh.log", section)
    actions = stack.actions_service()
    actions.env.update(env)
    rasa = stack.rasa_service(model)
    if rest_channel:
        add_rest_channel(rasa, run_dir)
    services = [actions, rasa]
    if handoff:
        service = stack.handoff_service()
        service.env.update(env)
        if slack_url and slack_token:
            service.env.update(
                {
                    "SLACK_BOT_TOKEN": slack_token,
                    "SLACK_SIGNING_SECRET": SLACK_SIGNING_SECRET,
                    "FRONTLINE_HANDOFF_SLACK_API_URL": slack_url,
                }
            )
        services.append(service)
    try:
        for service in services:
            started = time.monotonic()
            stack.start([service])
            run.startup_seconds[service.name] = time.monotonic() - started
            say(f"{service.name} ready in {run.startup_seconds[service.name]:.1f} s")
        yield run
    finally:
        stack.stop()
