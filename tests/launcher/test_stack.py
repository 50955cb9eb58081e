from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

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
