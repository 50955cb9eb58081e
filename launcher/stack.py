"""Start, watch and stop the whole Frontline stack (``make run``).

``python -m launcher.stack run`` trains the Rasa model if its inputs changed, migrates
the database, starts the action server, the Rasa server, the handoff service
and the demo site in that order, waits until each is ready, prints the URL to
open, and on Ctrl-C (SIGINT) or SIGTERM stops them in reverse order.
``python -m launcher.stack train`` only trains. The end-to-end tests start the same
services through ``Stack``.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pydantic import AliasChoices, Field, SecretStr, field_validator
from sqlalchemy.engine import make_url

from actions import BackendSettings
from core.runtime import SettingsError, configure_logging, env_name, load_settings
from core.settings import FrontlineSettings, SettingsConfigDict

logger = logging.getLogger("launcher.stack")  # also when run as __main__

ROOT = Path(__file__).resolve().parent.parent
# What a Rasa model is trained from; a change to any of these means retraining.
# The training data and the code of our own pipeline components and policies:
# a model trained with one version of an encoder must not be served with another.
TRAINING_INPUTS = (
    "config.yml",
    "bot/domain",
    "data/nlu",
    "data/rules",
    "data/stories",
    "bot/engine/nlu",
    "bot/engine/policies.py",
    "core/minilm.py",
)
# The action server's backend settings that are files, and their names in
# this stack's var_dir, where they are unless set (``Stack.backend``).
BACKEND_FILES = {"demo_db_path": "demo-backend.db", "outbox_dir": "outbox"}
READY_POLL_SECONDS = 0.25
# The generated key of the widget's resume tokens, in the var folder.
WIDGET_SESSION_KEY_FILE = "widget-session.key"
STOP_GRACE_SECONDS = 10.0


class StackSettings(FrontlineSettings):
    """Where each service listens and where data lives; see .env.example."""

    model_config = SettingsConfigDict(env_prefix="FRONTLINE_")

    host: str = Field("127.0.0.1", description="Interface every service listens on.")
    rasa_port: int = Field(5005, ge=0, le=65535, description="Rasa server (widget socket).")
    actions_port: int = Field(5055, ge=0, le=65535, description="Action server.")
    handoff_port: int = Field(5056, ge=0, le=65535, description="Handoff service.")
    site_port: int = Field(8080, ge=0, le=65535, description="Demo shop page with the widget.")
    database_url: str | None = Field(
        None,
        validation_alias=AliasChoices("FRONTLINE_DATABASE_URL", "DATABASE_URL"),
        description="Application database; default SQLite file under var/.",
    )
    tracker_store_url: str | None = Field(
        None,
        description="Rasa's conversation store; default DATABASE_URL, or SQLite under var/.",
    )
    redis_url: str | None = Field(
        None,
        validation_alias=AliasChoices("FRONTLINE_REDIS_URL", "REDIS_URL"),
        description="Redis for Rasa's lock store (needed with several Rasa replicas).",
    )
    rasa_token: SecretStr | None = Field(
        None, description="Token of Rasa's HTTP API; a random one per run if unset."
    )
    widget_origins: str = Field("*", description="Origins allowed to open the widget socket.")
    widget_session_key: SecretStr | None = Field(
        None,
        description="Signs the widget's session resume tokens; the same on every replica. "
        "Default: a random key generated once into var_dir/widget-session.key.",
    )
    var_dir: Path = Field(Path("var"), description="Databases, logs and indexes.")
    engine_speedups: bool = Field(
        True,
        description="Frontline's replacements for Rasa internals (bot/engine/speedups.py); "
        "off runs Rasa's own code, for diagnosis.",
    )
    models_dir: Path = Field(Path("models"), description="Trained Rasa models.")
    engine_venv: Path = Field(Path(".venv/engine"), description="The Rasa 3.6 environment.")
    startup_timeout: float = Field(180.0, gt=0, description="Seconds a service may take to start.")

    @field_validator("widget_session_key", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    def resolved(self, path: Path) -> Path:
        return path if path.is_absolute() else ROOT / path

    @property
    def app_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.resolved(self.var_dir) / 'frontline.db'}"

    @property
    def rasa_tracker_store_url(self) -> str:
        if self.tracker_store_url:
            return self.tracker_store_url
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.resolved(self.var_dir) / 'rasa-tracker.db'}"


class StackError(Exception):
    """A service could not be trained, started or reached; the message says why."""


def backend_from_environment() -> BackendSettings:
    """The action server's backend settings from the environment variables
    alone, as ``StackSettings(_env_file=None)`` reads the stack's (``main``
    reads both from ``.env`` too)."""
    return load_settings(BackendSettings, _env_file=None)


def backend_env(backend: BackendSettings) -> dict[str, str]:
    """The backend settings that are set, as the variables the action server
    reads them from (paths absolute, secrets in clear: for a child's environment)."""
    env = {}
    for name in sorted(backend.model_fields_set):
        value = getattr(backend, name)
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        elif isinstance(value, Path):
            value = backend.resolved(value)
        env[env_name(BackendSettings, name)] = str(value)
    return env


def fingerprint(root: Path = ROOT, inputs: Iterable[str] = TRAINING_INPUTS) -> str:
    """A hash of everything a Rasa model is trained from."""
    digest = hashlib.sha256()
    for relative in inputs:
        base = root / relative
        files = sorted(base.rglob("*")) if base.is_dir() else [base]
        for path in files:
            if path.is_file() and path.suffix in {".yml", ".yaml", ".py"}:
                digest.update(path.relative_to(root).as_posix().encode())
                digest.update(b"\0")
                digest.update(path.read_bytes())
                digest.update(b"\0")
    return digest.hexdigest()[:16]


def model_path(settings: StackSettings) -> Path:
    return settings.resolved(settings.models_dir) / f"frontline-{fingerprint()}.tar.gz"


def rasa_executable(settings: StackSettings) -> Path:
    rasa = settings.resolved(settings.engine_venv) / "bin" / "rasa"
    if not rasa.exists():
        raise StackError(f"{rasa} not found: run `make setup` to create the Rasa environment")
    return rasa


def engine_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for processes of the Rasa engine."""
    env = dict(os.environ)
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "PYTHONWARNINGS": "ignore",
        }
    )
    env.update(extra or {})
    return env


def train(settings: StackSettings, force: bool = False) -> Path:
    """Trains the Rasa model unless one for the current inputs exists."""
    target = model_path(settings)
    if target.exists() and not force:
        logger.info("model %s is current; not retraining", target.name)
        return target
    log = settings.resolved(settings.var_dir) / "log" / "train.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    logger.info("training %s (a minute or two; log: %s)", target.name, log)
    command = [
        str(rasa_executable(settings)),
        "train",
        "--config", "config.yml",
        "--domain", "bot/domain",
        "--data", "data/nlu", "data/rules", "data/stories",
        "--out", str(target.parent),
        "--fixed-model-name", target.name.removesuffix(".tar.gz"),
    ]  # fmt: skip
    with log.open("w", encoding="utf-8") as output:
        result = subprocess.run(
            command,
            cwd=ROOT,
            env=engine_env(),
            stdout=output,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if result.returncode != 0 or not target.exists():
        tail = "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-30:])
        raise StackError(f"rasa train failed (exit {result.returncode}); end of {log}:\n{tail}")
    logger.info("trained %s", target.name)
    return target


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def redis_parts(url: str) -> dict[str, str]:
    parsed = make_url(url)
    if parsed.get_backend_name() != "redis":
        raise StackError(f"REDIS_URL must start with redis://, got {parsed.drivername}://")
    return {
        "FRONTLINE_REDIS_HOST": parsed.host or "127.0.0.1",
        "FRONTLINE_REDIS_PORT": str(parsed.port or 6379),
        "FRONTLINE_REDIS_DB": str(parsed.database or 0),
    }


@dataclass
class Service:
    """One process of the stack and how to tell that it is ready."""

    name: str
    argv: list[str]
    env: dict[str, str]
    ready_url: str
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches the launcher only; it stops us in order
        )
        log.close()

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.process is not None and self.process.poll() is not None:
                    raise StackError(
                        f"{self.name} exited with code {self.process.returncode} while "
                        f"starting; last lines of {self.log_path}:\n{self.tail()}"
                    )
                try:
                    if client.get(self.ready_url).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(READY_POLL_SECONDS)
        raise StackError(
            f"{self.name} not ready at {self.ready_url} after {timeout:.0f}s; "
            f"last lines of {self.log_path}:\n{self.tail()}"
        )

    def stop(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def tail(self, lines: int = 25) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


@dataclass
class Stack:
    """The services of one Frontline deployment on this machine."""

    settings: StackSettings
    # The action server's backend settings (``actions.BackendSettings``), passed
    # on to the services; the files in ``BACKEND_FILES`` default to var_dir.
    backend: BackendSettings = field(default_factory=backend_from_environment)
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    services: list[Service] = field(default_factory=list)

    def __post_init__(self) -> None:
        var = self.settings.resolved(self.settings.var_dir)
        unset = {
            name: var / file
            for name, file in BACKEND_FILES.items()
            if name not in self.backend.model_fields_set
        }
        self.backend = self.backend.model_copy(update=unset)
        if self.settings.rasa_token is not None:
            self.token = self.settings.rasa_token.get_secret_value()
        for name in ("rasa_port", "actions_port", "handoff_port", "site_port"):
            if getattr(self.settings, name) == 0:
                setattr(self.settings, name, free_port(self.settings.host))

    def url(self, port: int) -> str:
        return f"http://{self.settings.host}:{port}"

    @property
    def rasa_url(self) -> str:
        return self.url(self.settings.rasa_port)

    @property
    def actions_url(self) -> str:
        return self.url(self.settings.actions_port)

    @property
    def handoff_url(self) -> str:
        return self.url(self.settings.handoff_port)

    @property
    def site_url(self) -> str:
        return self.url(self.settings.site_port)

    def log(self, name: str) -> Path:
        return self.settings.resolved(self.settings.var_dir) / "log" / f"{name}.log"

    def widget_session_key(self) -> str:
        """The key of the widget's resume tokens (``bot/engine/channel.py``): the
        setting, else one generated at the first start and kept in the var
        folder (owner-only), so sessions resume across restarts."""
        if self.settings.widget_session_key is not None:
            return self.settings.widget_session_key.get_secret_value()
        path = self.settings.resolved(self.settings.var_dir) / WIDGET_SESSION_KEY_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "w", encoding="ascii") as file:
                file.write(secrets.token_urlsafe(32))
        key = path.read_text(encoding="ascii").strip()
        if not key:
            raise StackError(f"{path} is empty: delete it to generate a new widget session key")
        return key

    def app_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "FRONTLINE_DATABASE_URL": self.settings.app_database_url,
                "FRONTLINE_RASA_URL": self.rasa_url,
                "FRONTLINE_RASA_TOKEN": self.token,
                "FRONTLINE_KB_STORAGE_DIR": str(
                    self.settings.resolved(self.settings.var_dir) / "kb"
                ),
                "HF_HUB_OFFLINE": "1",
                "PYTHONPATH": str(ROOT),
                **backend_env(self.backend),
            }
        )
        return env

    def actions_service(self) -> Service:
        env = self.app_env()
        env.update(
            {
                "FRONTLINE_ACTIONS_HOST": self.settings.host,
                "FRONTLINE_ACTIONS_PORT": str(self.settings.actions_port),
            }
        )
        return Service(
            "actions",
            [sys.executable, "-m", "actions.server"],
            env,
            f"{self.actions_url}/health",
            self.log("actions"),
        )

    def rasa_service(self, model: Path) -> Service:
        extra = {
            "FRONTLINE_ACTIONS_URL": f"{self.actions_url}/webhook",
            "FRONTLINE_TRACKER_STORE_URL": self.settings.rasa_tracker_store_url,
            "FRONTLINE_ENGINE_SPEEDUPS": "on" if self.settings.engine_speedups else "off",
            "FRONTLINE_WIDGET_ORIGINS": self.settings.widget_origins,
            "FRONTLINE_HANDOFF_URL": self.handoff_url,
            "FRONTLINE_RASA_TOKEN": self.token,
            "FRONTLINE_WIDGET_SESSION_KEY": self.widget_session_key(),
            # One message at a time per process: OpenBLAS's second thread only
            # spins (measured: 2 ms of CPU per 0.1 ms product on 2 cores).
            "OPENBLAS_NUM_THREADS": "1",
        }
        endpoints = "bot/endpoints.yml"
        if self.settings.redis_url:
            extra.update(redis_parts(self.settings.redis_url))
            endpoints = "bot/endpoints-replicas.yml"
        argv = [
            str(rasa_executable(self.settings)),
            "run",
            "--model", str(model),
            "--endpoints", endpoints,
            "--credentials", "bot/credentials.yml",
            "--interface", self.settings.host,
            "--port", str(self.settings.rasa_port),
            "--enable-api",
            # One argument: a random token may start with "-", which argparse
            # would read as an option.
            f"--auth-token={self.token}",
            "--cors", "*",
            "--logging-config-file", "bot/logging.yml",
        ]  # fmt: skip
        return Service(
            "rasa",
            argv,
            engine_env(extra),
            f"{self.rasa_url}/status?token={self.token}",
            self.log("rasa"),
        )

    def handoff_service(self) -> Service:
        env = self.app_env()
        env.update(
            {
                "FRONTLINE_HANDOFF_HOST": self.settings.host,
                "FRONTLINE_HANDOFF_PORT": str(self.settings.handoff_port),
            }
        )
        return Service(
            "handoff",
            [sys.executable, "-m", "handoff.server"],
            env,
            f"{self.handoff_url}/ready",
            self.log("handoff"),
        )

    def site_service(self) -> Service:
        env = self.app_env()
        env.update(
            {
                "FRONTLINE_SITE_HOST": self.settings.host,
                "FRONTLINE_SITE_PORT": str(self.settings.site_port),
                "FRONTLINE_SITE_RASA_URL": self.rasa_url,
            }
        )
        return Service(
            "site",
            [sys.executable, "-m", "launcher.site"],
            env,
            f"{self.site_url}/health",
            self.log("site"),
        )

    def migrate(self) -> None:
        """Creates or migrates every package's tables (fails with the reason)."""
        import actions
        import handoff
        import kb_index
        from core.database import create_engine, shown

        engine = create_engine(self.settings.app_database_url)
        try:
            for schema in (handoff.SCHEMA, actions.SCHEMA, kb_index.SCHEMA):
                schema.upgrade(engine)
            logger.info("database ready: %s", shown(engine))
        except Exception as error:  # boundary: driver errors become one message
            raise StackError(
                f"database {shown(engine)} unusable ({error.__class__.__name__}); "
                "check DATABASE_URL and that the server is running"
            ) from error
        finally:
            engine.dispose()

    def refresh_kb(self) -> None:
        """Builds the help-center index if missing, or re-indexes changed
        articles (`kb refresh`). A failed build keeps the previous version
        serving, so it is reported, not fatal."""
        result = subprocess.run(
            [sys.executable, "-m", "kb_index.cli", "refresh", "--quiet"],
            cwd=ROOT, env=self.app_env(), capture_output=True, text=True, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            logger.error(
                "knowledge base not refreshed: %s", (result.stderr or result.stdout)[-2000:]
            )
        else:
            said = result.stdout.strip().splitlines()
            logger.info("help center: %s", said[-1] if said else "index current")

    def start(self, services: Iterable[Service]) -> None:
        """Starts ``services`` one after another, each once the previous is ready."""
        for service in services:
            logger.info("starting %s (log: %s)", service.name, service.log_path)
            self.services.append(service)
            service.start()
            service.wait_ready(self.settings.startup_timeout)
            logger.info("%s ready", service.name)

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()
        self.services.clear()

    def full(self, model: Path) -> Iterator[Service]:
        yield self.actions_service()
        yield self.rasa_service(model)
        yield self.handoff_service()
        yield self.site_service()


def run(settings: StackSettings, backend: BackendSettings) -> int:
    model = train(settings)
    stack = Stack(settings, backend)
    stopping = False

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        stack.migrate()
        stack.refresh_kb()
        stack.start(stack.full(model))
        print(
            f"\nFrontline is running. Open {stack.site_url}/ and chat in the widget.\n"
            f"  Rasa server     {stack.rasa_url}\n"
            f"  action server   {stack.actions_url}\n"
            f"  handoff service {stack.handoff_url}\n"
            f"  logs            {settings.resolved(settings.var_dir) / 'log'}/\n"
            "Press Ctrl-C to stop.\n",
            flush=True,
        )
        while not stopping:
            for service in stack.services:
                if service.process is not None and service.process.poll() is not None:
                    raise StackError(
                        f"{service.name} stopped (exit {service.process.returncode}); "
                        f"last lines of {service.log_path}:\n{service.tail()}"
                    )
            time.sleep(0.5)
        print("\nStopping Frontline...", flush=True)
        return 0
    finally:
        stack.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="frontline", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["run", "train"], help="what to do")
    parser.add_argument("--force", action="store_true", help="train even if the model is current")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(StackSettings)
        backend = load_settings(BackendSettings)
        # The console gets a few readable lines; everything, as JSON, goes to the file.
        log_dir = settings.resolved(settings.var_dir) / "log"
        configure_logging("launcher", log_file=log_dir / "launcher.log", console="launcher")
        if args.command == "train":
            print(train(settings, force=args.force))
            return 0
        return run(settings, backend)
    except (SettingsError, StackError) as error:
        print(f"frontline: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
