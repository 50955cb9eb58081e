"""Where `handoff report` finds Rasa's conversations: the launcher's rule."""

from __future__ import annotations

import pytest

from handoff.settings import HandoffSettings


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, "sqlite:///var/rasa-tracker.db"),
        ({"DATABASE_URL": "postgresql://db/frontline"}, "postgresql://db/frontline"),
        (
            {
                "DATABASE_URL": "postgresql://db/frontline",
                "FRONTLINE_TRACKER_STORE_URL": "sqlite:///t.db",
            },
            "sqlite:///t.db",
        ),
    ],
)
def test_the_tracker_store_defaults_like_the_launcher(
    environment: dict[str, str], expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("DATABASE_URL", "FRONTLINE_DATABASE_URL", "FRONTLINE_TRACKER_STORE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings = HandoffSettings(_env_file=None)  # type: ignore[call-arg]
    assert settings.rasa_tracker_store_url == expected
