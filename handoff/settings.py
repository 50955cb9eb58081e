"""Settings of the handoff service, read once from the environment (and .env)."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr

from core.settings import FrontlineSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///var/frontline.db"
DEFAULT_TRACKER_STORE_URL = "sqlite:///var/rasa-tracker.db"
DEFAULT_ROUTING = Path(__file__).parent / "routing.yml"


class HandoffSettings(FrontlineSettings):
    """Typed settings of the handoff service; see .env.example for each variable."""

    model_config = SettingsConfigDict(env_prefix="FRONTLINE_HANDOFF_")

    host: str = Field("127.0.0.1", description="Interface the handoff service listens on.")
    port: int = Field(5056, ge=1, le=65535, description="Port of the handoff service.")
    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        validation_alias=AliasChoices("FRONTLINE_DATABASE_URL", "DATABASE_URL"),
        description="SQLAlchemy URL of Frontline's application database.",
    )
    rasa_url: str = Field(
        "http://127.0.0.1:5005",
        validation_alias=AliasChoices("FRONTLINE_RASA_URL"),
        description="Base URL of the Rasa server (agent replies go through its HTTP API).",
    )
    rasa_token: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("FRONTLINE_RASA_TOKEN"),
        description="Token of Rasa's HTTP API (rasa run --auth-token).",
    )
    routing: Path = Field(
        DEFAULT_ROUTING,
        validation_alias=AliasChoices("FRONTLINE_HANDOFF_ROUTING"),
        description="YAML file of queues, routing rules, business hours and SLAs.",
    )
    slack_bot_token: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("SLACK_BOT_TOKEN"),
        description="Bot token (xoxb-...) of the Slack app; unset = no Slack, terminal only.",
    )
    slack_signing_secret: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("SLACK_SIGNING_SECRET"),
        description="Signing secret checked on every request from Slack (HTTP mode).",
    )
    slack_app_token: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("SLACK_APP_TOKEN"),
        description="App-level token (xapp-...) for Socket Mode (no public URL needed).",
    )
    slack_api_url: str = Field(
        "https://slack.com/api/",
        description="Base URL of Slack's Web API (tests point it at a local imitation).",
    )
    tracker_store_url: str | None = Field(
        None,
        validation_alias=AliasChoices("FRONTLINE_TRACKER_STORE_URL"),
        description="Rasa's conversation store, read by `handoff report`; default DATABASE_URL "
        "if set, else sqlite:///var/rasa-tracker.db (the launcher's defaults).",
    )
    worker_interval: float = Field(
        0.2, gt=0, le=60, description="Seconds between outbox passes when idle."
    )

    @property
    def rasa_tracker_store_url(self) -> str:
        """Where Rasa keeps conversations, by the launcher's rule."""
        if self.tracker_store_url:
            return self.tracker_store_url
        if "database_url" in self.model_fields_set:
            return self.database_url
        return DEFAULT_TRACKER_STORE_URL
