"""Fixtures of the Tier 1 action tests: real demo backend (a copy of a seeded
SQLite file per test), real outbox, real application database with the
actions' and handoff's tables, a controllable clock; ``actions.deps`` is
configured with them for the duration of a test."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

import actions.db
import handoff.db
from actions import deps
from actions.backends import (
    AccountRequestStore,
    Backends,
    DemoBackend,
    OutboxEmail,
    OutcomeStore,
    VerificationCodes,
    YamlCatalogue,
)
from actions.deps import Deps
from core.database import create_engine
from handoff import EscalationStore, HandoffService, load_routing
from tests.actions.backends.conftest import CATALOGUE, DATA_DIR, RESET_URL_BASE, FakeClock

ROUTING = Path(__file__).resolve().parents[3] / "handoff" / "routing.yml"


@dataclass
class Env:
    deps: Deps
    engine: sa.Engine
    outbox: Path
    clock: FakeClock
    demo: DemoBackend


@pytest.fixture(scope="session")
def tier1_seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo database seeded once; every test gets its own copy."""
    path = tmp_path_factory.mktemp("tier1-seed") / "demo.db"
    demo = DemoBackend(
        path,
        DATA_DIR,
        CATALOGUE,
        OutboxEmail(path.parent / "outbox"),
        reset_url_base=RESET_URL_BASE,
        clock=FakeClock(),
    )
    demo.engine().dispose()
    return path


async def make_env(
    database_url: str, tmp_path: Path, seed: Path, clock: FakeClock
) -> tuple[Env, Backends]:
    engine = create_engine(database_url)
    actions.db.upgrade(engine)
    handoff.db.upgrade(engine)
    outbox = tmp_path / "outbox"
    email = OutboxEmail(outbox, clock=clock)
    db_path = tmp_path / "demo.db"
    shutil.copyfile(seed, db_path)
    demo = DemoBackend(
        db_path, DATA_DIR, CATALOGUE, email, reset_url_base=RESET_URL_BASE, clock=clock
    )
    backends = Backends(
        identity=demo,
        orders=demo,
        subscriptions=demo,
        catalogue=YamlCatalogue(CATALOGUE),
        email=email,
        closers=(demo.aclose,),
    )
    resources = Deps(
        handoff=HandoffService(EscalationStore(engine), load_routing(ROUTING)),
        backends=backends,
        codes=VerificationCodes(engine, clock=clock),
        outcomes=OutcomeStore(engine, clock=clock),
        account_requests=AccountRequestStore(engine, clock=clock),
        clock=clock,
    )
    return Env(resources, engine, outbox, clock, demo), backends


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def env(tmp_path: Path, tier1_seed: Path, clock: FakeClock) -> AsyncIterator[Env]:
    """Everything on SQLite files in ``tmp_path``."""
    made, backends = await make_env(
        f"sqlite:///{tmp_path / 'frontline.db'}", tmp_path, tier1_seed, clock
    )
    deps.configure(made.deps)
    yield made
    deps.configure(None)
    await backends.aclose()
    made.engine.dispose()


@pytest.fixture
async def env_db(
    database_url: str, tmp_path: Path, tier1_seed: Path, clock: FakeClock
) -> AsyncIterator[Env]:
    """Like ``env``, with Frontline's records on SQLite and on PostgreSQL."""
    made, backends = await make_env(database_url, tmp_path, tier1_seed, clock)
    deps.configure(made.deps)
    yield made
    deps.configure(None)
    await backends.aclose()
    made.engine.dispose()


@pytest.fixture
async def system_down(env: Env) -> AsyncIterator[Env]:
    """``env`` with the business system behind the real HTTP adapter, pointed
    at a port where nothing listens (the system is down)."""
    import dataclasses

    import httpx

    from actions.backends import HttpBackend
    from tests.actions.backends.conftest import http_config
    from tests.actions.backends.servers import closed_port

    async with httpx.AsyncClient() as client:
        down = HttpBackend(
            http_config(f"http://127.0.0.1:{closed_port()}"),
            client,
            secret="test-secret",
            reset_url_base=RESET_URL_BASE,
        )
        backends = dataclasses.replace(
            env.deps.backends, identity=down, orders=down, subscriptions=down
        )
        deps.configure(dataclasses.replace(env.deps, backends=backends))
        yield env
