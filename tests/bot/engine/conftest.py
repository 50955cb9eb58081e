"""The engine's tests: the code Rasa loads (``bot/engine/``), tested with the
engine's Python (Rasa 3.6.21, Python 3.10):

    .venv/engine/bin/python -m pytest tests/bot/engine

``pytest.ini`` beside this file makes this folder the root of that run, so the
application's ``tests/conftest.py`` (SQLAlchemy 2, psycopg 3) is not loaded
here; the application's run leaves this folder out (``tests/bot/conftest.py``).
``make test`` runs both. Fixtures: the product's trained model, and databases
on SQLite and PostgreSQL as the application's suite has them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bot.engine.harness import ROOT

# What an engine process runs with (the launcher's engine_env): no telemetry,
# quiet TensorFlow and SQLAlchemy. Fresh engine processes inherit it.
ENGINE_ENV = {
    "RASA_TELEMETRY_ENABLED": "false",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    "PYTHONWARNINGS": "ignore",
    "HF_HUB_OFFLINE": "1",
}

# The same server and variable as the application's suite (tests/conftest.py).
POSTGRES_URL = os.environ.get(
    "FRONTLINE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def pytest_configure(config: pytest.Config) -> None:
    try:
        import rasa  # noqa: F401
    except ImportError:
        raise pytest.UsageError(
            "the engine's tests run with the engine's Python: "
            ".venv/engine/bin/python -m pytest tests/bot/engine"
        ) from None
    for name, value in ENGINE_ENV.items():
        os.environ.setdefault(name, value)


@pytest.fixture(scope="session")
def product_model() -> Path:
    """The product's trained Rasa model: ``FRONTLINE_TEST_MODEL`` if set, else
    the one the launcher trains (or finds current) for ``config.yml``,
    ``bot/domain`` and ``data/`` (``python -m launcher.stack train`` with the
    application environment's Python, as ``make test`` does first)."""
    named = os.environ.get("FRONTLINE_TEST_MODEL")
    if named:
        model = Path(named)
        if not model.is_file():
            pytest.fail(f"FRONTLINE_TEST_MODEL={named}: no such model")
        return model
    app_python = Path(sys.prefix).parent / "app" / "bin" / "python"
    if not app_python.exists():
        pytest.fail(
            f"{app_python} not found to train the model: run `make train`, then set "
            "FRONTLINE_TEST_MODEL=models/frontline-<fingerprint>.tar.gz"
        )
    result = subprocess.run(
        [str(app_python), "-m", "launcher.stack", "train"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        pytest.fail(f"training the model failed:\n{result.stderr[-3000:]}")
    return Path(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards. Its URL names
    the application's driver, as ``DATABASE_URL`` does; the engine has only
    psycopg2, which it uses here to create and drop it."""
    import sqlalchemy as sa  # after pytest_configure: the engine's settings quiet it

    admin_url = sa.engine.make_url(POSTGRES_URL).set(drivername="postgresql+psycopg2")
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"frontline_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as error:
        pytest.fail(
            f"PostgreSQL not reachable at {POSTGRES_URL} ({error.__class__.__name__}); "
            "start it or set FRONTLINE_TEST_POSTGRES_URL"
        )
    try:
        yield (
            sa.engine.make_url(POSTGRES_URL)
            .set(database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as connection:
            connection.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"
                ),
                {"name": name},
            )
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage test runs once on a SQLite file and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'frontline.db'}"
    return str(request.getfixturevalue("postgres_url"))
