"""Settings of the backends (env prefix ``FRONTLINE_BACKEND_``), read once.

Relative paths are from the project root, like every Frontline path setting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationInfo, field_validator

from actions.backends.mail import DEFAULT_SENDER, SMTP_TIMEOUT_SECONDS
from core.settings import FrontlineSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RESET_URL_BASE = "https://brightwave.example/reset?token="


class BackendSettings(FrontlineSettings):
    """Which business system Frontline talks to and how it sends email."""

    model_config = SettingsConfigDict(env_prefix="FRONTLINE_BACKEND_")

    kind: Literal["demo", "http"] = Field(
        "demo", description="demo: the embedded SQLite demo company; http: the HTTP adapter."
    )
    demo_db_path: Path = Field(
        Path("var/demo-backend.db"), description="SQLite file of the demo company's system."
    )
    demo_data_dir: Path = Field(
        Path("data/demo"), description="Seed of the demo backend (customers.yml, orders.yml)."
    )
    catalogue_path: Path = Field(
        Path("data/demo/catalogue.yml"),
        description="Products, platforms and the compatibility matrix.",
    )
    http_config: Path | None = Field(
        None,
        validate_default=True,
        description="YAML file of the HTTP backend (required when kind is http).",
    )
    outbox_dir: Path = Field(
        Path("var/outbox"), description="Where emails are written as .eml files without SMTP."
    )
    smtp_url: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("FRONTLINE_BACKEND_SMTP_URL", "SMTP_URL"),
        description="smtp://user:pass@host:port[?starttls=true] or smtps://...; unset: outbox.",
    )
    smtp_timeout_seconds: float = Field(
        SMTP_TIMEOUT_SECONDS, gt=0, description="Timeout of each SMTP connection step."
    )
    email_from: str = Field(DEFAULT_SENDER, description="From address of Frontline's emails.")
    reset_url_base: str = Field(
        DEFAULT_RESET_URL_BASE,
        description="Password-reset links are this followed by the token.",
    )

    @field_validator("http_config", "smtp_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("http_config")
    @classmethod
    def _http_needs_config(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if info.data.get("kind") == "http" and value is None:
            raise ValueError("required when FRONTLINE_BACKEND_KIND is http")
        return value

    def resolved(self, path: Path) -> Path:
        return path if path.is_absolute() else ROOT / path
