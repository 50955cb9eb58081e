"""Fixtures of the backend tests: a controllable clock, the seeded demo
backend, and the same backend behind the real HTTP contract server."""

from __future__ import annotations

import email
import email.policy
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from actions.backends import DemoBackend, HttpBackend, HttpConfig, OutboxEmail
from actions.backends.protocols import BusinessSystem
from actions.backends.settings import ROOT
from tests.actions.backends.servers import ContractServer

DATA_DIR = ROOT / "data" / "demo"
CATALOGUE = DATA_DIR / "catalogue.yml"
NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
TODAY = NOW.date()
EMMA_EMAIL = "emma.devries@example.com"
RESET_URL_BASE = "https://brightwave.example/reset?token="


def day(offset: int) -> date:
    """``TODAY`` plus ``offset`` days."""
    return TODAY + timedelta(days=offset)


class FakeClock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def read_outbox(outbox: Path) -> list[EmailMessage]:
    """Every .eml in ``outbox``, oldest first."""
    messages = []
    for path in sorted(outbox.glob("*.eml")) if outbox.exists() else []:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        messages.append(message)
    return messages


def make_demo(db_path: Path, outbox: Path, clock: FakeClock) -> DemoBackend:
    return DemoBackend(
        db_path,
        DATA_DIR,
        CATALOGUE,
        OutboxEmail(outbox, clock=clock),
        reset_url_base=RESET_URL_BASE,
        clock=clock,
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo database seeded once; each test works on its own copy."""
    path = tmp_path_factory.mktemp("seed") / "demo.db"
    demo = make_demo(path, path.parent / "outbox", FakeClock())
    demo.engine().dispose()  # seeds, then checkpoints the WAL into the file
    return path


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "outbox"


@pytest.fixture
async def demo(
    tmp_path: Path, seeded_db: Path, outbox: Path, clock: FakeClock
) -> AsyncIterator[DemoBackend]:
    path = tmp_path / "demo.db"
    shutil.copyfile(seeded_db, path)
    backend = make_demo(path, outbox, clock)
    yield backend
    await backend.aclose()


@pytest.fixture(scope="session")
def contract_server() -> Iterator[ContractServer]:
    server = ContractServer().start()
    yield server
    server.stop()


def http_config(base_url: str, **overrides: object) -> HttpConfig:
    values: dict[str, object] = {
        "name": "backoffice",
        "base_url": base_url,
        "auth": {"header": "Authorization", "scheme": "Bearer", "secret_env": "BW_TOKEN"},
        "timeouts": {"connect_seconds": 1.0, "read_seconds": 2.0},
        "retries": {"attempts": 3, "backoff_initial_seconds": 0.01, "backoff_max_seconds": 0.02},
    }
    values.update(overrides)
    return HttpConfig.model_validate(values)


@pytest.fixture
async def served(
    contract_server: ContractServer, demo: DemoBackend
) -> AsyncIterator[ContractServer]:
    """The contract server in front of this test's demo backend."""
    contract_server.serve(demo)
    yield contract_server
    contract_server.reset()


@pytest.fixture
async def http_backend(served: ContractServer) -> AsyncIterator[HttpBackend]:
    async with httpx.AsyncClient() as client:
        yield HttpBackend(
            http_config(served.url), client, secret="test-secret", reset_url_base=RESET_URL_BASE
        )


@pytest.fixture(params=["demo", "http"])
def system(request: pytest.FixtureRequest) -> BusinessSystem:
    """Each behaviour test runs on the demo backend and on the HTTP adapter
    talking to the same demo backend through the real contract server."""
    name = "demo" if request.param == "demo" else "http_backend"
    backend: BusinessSystem = request.getfixturevalue(name)
    return backend
