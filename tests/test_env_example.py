"""The documented settings and the code agree."""

from __future__ import annotations

import re

from actions.backends import BackendSettings
from actions.settings import ActionSettings
from core.runtime import env_name
from handoff.settings import HandoffSettings
from kb_index.settings import KBSettings
from launcher.site import SiteSettings
from launcher.stack import ROOT, StackSettings

SETTINGS = (
    StackSettings,
    ActionSettings,
    HandoffSettings,
    SiteSettings,
    BackendSettings,
    KBSettings,
)


def documented() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)(?:=| above)", text, re.M))


def accepted_names(cls: type, field: str) -> set[str]:
    alias = cls.model_fields[field].validation_alias  # type: ignore[attr-defined]
    return {env_name(cls, field), *getattr(alias, "choices", ())}


def test_every_setting_is_explained_in_env_example() -> None:
    missing = {
        f"{cls.__name__}.{field}"
        for cls in SETTINGS
        for field in cls.model_fields
        if not accepted_names(cls, field) & documented()
    }
    assert missing == set()


def test_env_example_names_no_setting_that_does_not_exist() -> None:
    names = {
        name
        for cls in SETTINGS
        for field in cls.model_fields
        for name in accepted_names(cls, field)
    }
    assert documented() - names == set()
