"""The base of every Frontline settings class (application side: it needs
pydantic-settings, which the Rasa engine's environment does not have).

A subclass declares its fields and only its variables' prefix::

    class HandoffSettings(FrontlineSettings):
        model_config = SettingsConfigDict(env_prefix="FRONTLINE_HANDOFF_")

Every one is read once, in its entry point, with ``core.runtime.load_settings``:
from the environment, then ``.env``; unknown variables are ignored; a field can
also be given by its name (tests) when it has an alias.
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["FrontlineSettings", "SettingsConfigDict"]


class FrontlineSettings(BaseSettings):
    """Settings read from the environment and ``.env`` (see ``.env.example``)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)
