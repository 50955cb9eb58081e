from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

import actions
import handoff
import kb_index
from actions import BackendSettings
from core.database import create_engine
from launcher.stack import (
    ROOT,
    TRAINING_INPUTS,
    Service,
    Stack,
    StackError,
    StackSettings,
    fingerprint,
    redis_parts,
)


def copy_training_inputs(target: Path) -> None:
    for relative in TRAINING_INPUTS:
        source = ROOT / relative
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target / relative)
        elif source.exists():
            shutil.copy(source, target / relative)


def test_fingerprint_changes_only_when_training_inputs_change(tmp_path: Path) -> None:
    copy_training_inputs(tmp_path)
    before = fingerprint(tmp_path)
    (tmp_path / "data" / "nlu" / "README.txt").write_text("not training data")
    (tmp_path / "bot" / "channel_notes.yml").write_text("outside the inputs: true\n")
    assert fingerprint(tmp_path) == before
    rules = tmp_path / "data" / "rules" / "core.yml"
    rules.write_text(rules.read_text() + "\n# edited\n")
    after_rules = fingerprint(tmp_path)
    assert after_rules != before
    # Our own components are trained into the model too.
    encoder = tmp_path / "core" / "minilm.py"
    encoder.write_text(encoder.read_text() + "\n# edited\n")
    assert fingerprint(tmp_path) != after_rules


def test_sqlite_files_under_var_are_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "FRONTLINE_DATABASE_URL", "FRONTLINE_TRACKER_STORE_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = StackSettings(_env_file=None)
    assert settings.app_database_url == f"sqlite:///{ROOT / 'var' / 'frontline.db'}"
    assert settings.rasa_tracker_store_url == f"sqlite:///{ROOT / 'var' / 'rasa-tracker.db'}"


def test_rasa_shares_database_url_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://frontline@db/frontline")
    monkeypatch.delenv("FRONTLINE_TRACKER_STORE_URL", raising=False)
    assert StackSettings(_env_file=None).rasa_tracker_store_url == (
        "postgresql://frontline@db/frontline"
    )
    monkeypatch.setenv("FRONTLINE_TRACKER_STORE_URL", "postgresql://rasa@db/tracker")
    assert StackSettings(_env_file=None).rasa_tracker_store_url == "postgresql://rasa@db/tracker"


def test_redis_url_becomes_rasa_lock_store_settings() -> None:
    assert redis_parts("redis://cache.internal:6380/2") == {
        "FRONTLINE_REDIS_HOST": "cache.internal",
        "FRONTLINE_REDIS_PORT": "6380",
        "FRONTLINE_REDIS_DB": "2",
    }
    with pytest.raises(StackError, match="REDIS_URL must start with redis://"):
        redis_parts("memcached://cache:11211")


def test_the_widget_session_key_is_generated_once_and_kept_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FRONTLINE_WIDGET_SESSION_KEY", raising=False)
    first = Stack(StackSettings(_env_file=None, var_dir=tmp_path / "var"))
    key = first.widget_session_key()
    path = tmp_path / "var" / "widget-session.key"
    assert (path.read_text(), path.stat().st_mode & 0o777, len(key)) == (key, 0o600, 43)
    # the next start (and every launcher on this var folder) uses the same key
    again = Stack(StackSettings(_env_file=None, var_dir=tmp_path / "var"))
    assert again.widget_session_key() == key
    assert again.rasa_service(tmp_path / "model.tar.gz").env["FRONTLINE_WIDGET_SESSION_KEY"] == key
    # a key that is set wins, and nothing is written
    monkeypatch.setenv("FRONTLINE_WIDGET_SESSION_KEY", "set for every replica")
    elsewhere = Stack(StackSettings(_env_file=None, var_dir=tmp_path / "other"))
    assert elsewhere.widget_session_key() == "set for every replica"
    assert not (tmp_path / "other" / "widget-session.key").exists()


def test_a_service_that_dies_while_starting_is_reported_with_its_log(tmp_path: Path) -> None:
    service = Service(
        "broken",
        [sys.executable, "-c", "import sys; print('bad config: FOO'); sys.exit(3)"],
        {},
        "http://127.0.0.1:9/health",
        tmp_path / "broken.log",
    )
    service.start()
    with pytest.raises(StackError) as raised:
        service.wait_ready(timeout=30)
    assert str(raised.value) == (
        f"broken exited with code 3 while starting; last lines of {tmp_path / 'broken.log'}:\n"
        "bad config: FOO"
    )


def test_an_unreachable_database_stops_the_launcher_with_its_url(tmp_path: Path) -> None:
    stack = Stack(
        StackSettings(
            _env_file=None,
            database_url="postgresql://frontline:secret@127.0.0.1:1/frontline",
            var_dir=tmp_path,
        )
    )
    with pytest.raises(StackError) as raised:
        stack.migrate()
    assert str(raised.value) == (
        "database postgresql+psycopg://frontline:***@127.0.0.1:1/frontline unusable "
        "(OperationalError); check DATABASE_URL and that the server is running"
    )


def backend_variables(env: dict[str, str]) -> dict[str, str]:
    return {
        name: value
        for name, value in env.items()
        if name.startswith("FRONTLINE_BACKEND_") or name == "SMTP_URL"
    }


@pytest.fixture
def no_backend_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in backend_variables(dict(os.environ)):
        monkeypatch.delenv(name)


@pytest.mark.usefixtures("no_backend_env")
def test_the_backends_files_default_to_the_stacks_var_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = Stack(StackSettings(_env_file=None, var_dir=tmp_path / "var"))
    assert backend_variables(stack.app_env()) == {
        "FRONTLINE_BACKEND_DEMO_DB_PATH": str(tmp_path / "var" / "demo-backend.db"),
        "FRONTLINE_BACKEND_OUTBOX_DIR": str(tmp_path / "var" / "outbox"),
    }
    # the action server's own variables, read from the environment like the stack's
    monkeypatch.setenv("FRONTLINE_BACKEND_OUTBOX_DIR", "mail")
    monkeypatch.setenv("SMTP_URL", "smtp://mailer:secret@mail.internal:587")
    stack = Stack(StackSettings(_env_file=None, var_dir=tmp_path / "var"))
    assert backend_variables(stack.actions_service().env) == {
        "FRONTLINE_BACKEND_DEMO_DB_PATH": str(tmp_path / "var" / "demo-backend.db"),
        "FRONTLINE_BACKEND_OUTBOX_DIR": str(ROOT / "mail"),
        "FRONTLINE_BACKEND_SMTP_URL": "smtp://mailer:secret@mail.internal:587",
        "SMTP_URL": "smtp://mailer:secret@mail.internal:587",  # passed through as it was
    }
    assert (stack.backend.demo_db_path, stack.backend.outbox_dir) == (
        tmp_path / "var" / "demo-backend.db",
        Path("mail"),
    )


@pytest.mark.usefixtures("no_backend_env")
def test_backend_settings_given_to_the_stack_reach_every_service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = BackendSettings(
        _env_file=None,
        demo_db_path=tmp_path / "company.db",
        smtp_url="smtps://mailer:secret@mail.internal",
        email_from="Brightwave <help@brightwave.example>",
    )
    stack = Stack(StackSettings(_env_file=None, var_dir=tmp_path / "var"), backend)
    expected = {
        "FRONTLINE_BACKEND_DEMO_DB_PATH": str(tmp_path / "company.db"),
        "FRONTLINE_BACKEND_EMAIL_FROM": "Brightwave <help@brightwave.example>",
        "FRONTLINE_BACKEND_OUTBOX_DIR": str(tmp_path / "var" / "outbox"),
        "FRONTLINE_BACKEND_SMTP_URL": "smtps://mailer:secret@mail.internal",
    }
    services = [stack.actions_service(), stack.handoff_service(), stack.site_service()]
    assert [backend_variables(service.env) for service in services] == [expected] * 3
    # the action server reads back the settings the stack was given
    for name, value in expected.items():
        monkeypatch.setenv(name, value)
    assert BackendSettings(_env_file=None) == stack.backend


def test_migrate_creates_every_packages_tables_each_with_its_version(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'frontline.db'}"
    Stack(StackSettings(_env_file=None, database_url=url, var_dir=tmp_path)).migrate()
    engine = create_engine(url)
    with engine.connect() as connection:
        versions = {
            table: connection.execute(sa.text(f"SELECT version_num FROM {table}")).scalar_one()
            for table in sa.inspect(engine).get_table_names()
            if table.startswith("alembic_version")
        }
    engine.dispose()
    assert versions == {
        schema.version_table: schema.head()
        for schema in (actions.SCHEMA, handoff.SCHEMA, kb_index.SCHEMA)
    }
    assert sorted(versions) == [
        "alembic_version_actions",
        "alembic_version_handoff",
        "alembic_version_kb",
    ]
