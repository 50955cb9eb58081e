"""The action server's shared resources include the Tier 1 backends and stores,
created from settings without touching any file or server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from actions import deps
from actions.backends import (
    AccountRequestStore,
    BackendSettings,
    DemoBackend,
    OutboxEmail,
    OutcomeStore,
    VerificationCodes,
    YamlCatalogue,
)
from actions.settings import ActionSettings


def test_build_creates_backends_and_stores_from_settings_and_opens_nothing(
    tmp_path: Path,
) -> None:
    no_env_file: dict[str, Any] = {"_env_file": None}
    settings = ActionSettings(**no_env_file, database_url=f"sqlite:///{tmp_path / 'app.db'}")
    backend = BackendSettings(
        **no_env_file, demo_db_path=tmp_path / "demo.db", outbox_dir=tmp_path / "outbox"
    )
    built = deps.build(settings, backend)
    assert isinstance(built.backends.identity, DemoBackend)
    assert built.backends.identity is built.backends.orders is built.backends.subscriptions
    assert isinstance(built.backends.catalogue, YamlCatalogue)
    assert isinstance(built.backends.email, OutboxEmail)
    assert built.backends.email.outbox == tmp_path / "outbox"
    assert isinstance(built.codes, VerificationCodes)
    assert isinstance(built.outcomes, OutcomeStore)
    assert isinstance(built.account_requests, AccountRequestStore)
    assert built.codes.engine is built.outcomes.engine is built.account_requests.engine
    assert sorted(p.name for p in tmp_path.iterdir()) == []
