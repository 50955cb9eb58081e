"""Creating and serving the ``rasa init`` sample bot (see the package docstring)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from launcher.stack import Service
from tests.perf.common import PerfSettings, engine_env, run_logged, say

CREDENTIALS = Path(__file__).parent / "credentials.yml"
# What the sample bot understands; the load generator's "baseline" mix.
CONVERSATION = ("hello", "I am feeling sad", "yes", "bye")


@dataclass(frozen=True)
class BaselineBot:
    folder: Path
    model: Path


def ensure(settings: PerfSettings) -> BaselineBot:
    """The sample bot in ``<bench_dir>/baseline``, created and trained if needed."""
    folder = settings.resolved(settings.bench_dir) / "baseline"
    models = sorted((folder / "models").glob("*.tar.gz"))
    if not models:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)  # rasa init wants an existing, empty folder
        say("baseline: rasa init --no-prompt (creates and trains Rasa's sample bot)")
        seconds = run_logged(
            [str(settings.engine_rasa), "init", "--no-prompt", "--init-dir", str(folder)],
            folder.parent / "baseline-init.log",
            engine_env(),
        )
        say(f"baseline: created and trained in {seconds:.0f} s")
        models = sorted((folder / "models").glob("*.tar.gz"))
        if not models:
            raise RuntimeError(f"rasa init trained no model; see {folder.parent}/baseline-init.log")
    return BaselineBot(folder, models[-1])


def rasa_service(
    settings: PerfSettings, bot: BaselineBot, host: str, port: int, token: str, log: Path
) -> Service:
    argv = [
        str(settings.engine_rasa), "run",
        "--model", str(bot.model),
        "--credentials", str(CREDENTIALS),
        "--endpoints", str(bot.folder / "endpoints.yml"),
        "--interface", host,
        "--port", str(port),
        "--enable-api",
        f"--auth-token={token}",
    ]  # fmt: skip
    return Service(
        "baseline-rasa",
        argv,
        engine_env(),
        f"http://{host}:{port}/status?token={token}",
        log,
    )
