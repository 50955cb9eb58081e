"""Settings of the action server, read once from the environment (and .env)."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field

from core.settings import FrontlineSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///var/frontline.db"


class ActionSettings(FrontlineSettings):
    """Typed settings of the action server; see .env.example for each variable."""

    model_config = SettingsConfigDict(env_prefix="FRONTLINE_ACTIONS_")

    host: str = Field("127.0.0.1", description="Interface the action server listens on.")
    port: int = Field(5055, ge=1, le=65535, description="Port of the action server.")
    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        validation_alias=AliasChoices("FRONTLINE_DATABASE_URL", "DATABASE_URL"),
        description="SQLAlchemy URL of Frontline's application database.",
    )
    handoff_routing: Path = Field(
        Path(__file__).parent.parent / "handoff" / "routing.yml",
        validation_alias=AliasChoices("FRONTLINE_HANDOFF_ROUTING"),
        description="Routing rules of the handoff queues (shared with the handoff service).",
    )
