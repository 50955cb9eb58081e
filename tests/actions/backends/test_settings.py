"""Settings and the factory that turns them into backends."""

from __future__ import annotations

from pathlib import Path

import pytest

from actions.backends import (
    BackendConfigError,
    BackendSettings,
    DemoBackend,
    HttpBackend,
    OutboxEmail,
    SmtpConfig,
    SmtpEmail,
    YamlCatalogue,
    create_backends,
)
from actions.backends.settings import ROOT
from core.runtime import SettingsError, load_settings
from tests.actions.backends.conftest import EMMA_EMAIL
from tests.actions.backends.servers import ContractServer


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    for name in ("SMTP_URL", "FRONTLINE_BACKEND_KIND", "FRONTLINE_BACKEND_HTTP_CONFIG"):
        monkeypatch.delenv(name, raising=False)


def test_defaults_run_the_demo_with_files_under_var() -> None:
    settings = BackendSettings()
    assert (settings.kind, settings.reset_url_base, settings.smtp_url) == (
        "demo",
        "https://brightwave.example/reset?token=",
        None,
    )
    assert settings.resolved(settings.demo_db_path) == ROOT / "var" / "demo-backend.db"
    assert settings.resolved(settings.outbox_dir) == ROOT / "var" / "outbox"


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTP_URL", "smtp://u:p@mail.example.com:2525")
    monkeypatch.setenv("FRONTLINE_BACKEND_KIND", "http")
    monkeypatch.setenv("FRONTLINE_BACKEND_HTTP_CONFIG", "/etc/frontline/backend.yml")
    settings = BackendSettings()
    assert settings.smtp_url is not None
    assert settings.smtp_url.get_secret_value() == "smtp://u:p@mail.example.com:2525"
    assert "u:p" not in repr(settings)
    assert (settings.kind, settings.http_config) == ("http", Path("/etc/frontline/backend.yml"))


def test_empty_variables_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTP_URL", "")
    monkeypatch.setenv("FRONTLINE_BACKEND_HTTP_CONFIG", " ")
    settings = BackendSettings()
    assert (settings.smtp_url, settings.http_config) == (None, None)


def test_the_http_kind_needs_a_config_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRONTLINE_BACKEND_KIND", "http")
    monkeypatch.setenv("FRONTLINE_BACKEND_HTTP_CONFIG", "")
    with pytest.raises(SettingsError) as raised:
        load_settings(BackendSettings)
    assert str(raised.value) == (
        "invalid settings: FRONTLINE_BACKEND_HTTP_CONFIG: "
        "Value error, required when FRONTLINE_BACKEND_KIND is http"
    )


def test_the_demo_bundle_touches_nothing_until_used(tmp_path: Path) -> None:
    settings = BackendSettings(demo_db_path=tmp_path / "demo.db", outbox_dir=tmp_path / "outbox")
    backends = create_backends(settings)
    assert isinstance(backends.identity, DemoBackend)
    assert backends.orders is backends.identity is backends.subscriptions
    assert isinstance(backends.catalogue, YamlCatalogue)
    assert isinstance(backends.email, OutboxEmail)
    assert list(tmp_path.iterdir()) == []


def test_smtp_url_switches_email_to_smtp(tmp_path: Path) -> None:
    settings = BackendSettings(
        smtp_url="smtps://bot:secret@mail.example.com",
        smtp_timeout_seconds=3.5,  # type: ignore[arg-type]
    )
    email = create_backends(settings).email
    assert isinstance(email, SmtpEmail)
    assert email.config == SmtpConfig("mail.example.com", 465, "tls", "bot", "secret", 3.5)


async def test_the_http_bundle_reads_its_config_and_secret(
    served: ContractServer, tmp_path: Path
) -> None:
    config = tmp_path / "backend.yml"
    config.write_text(
        f"base_url: {served.url}\nauth: {{header: Authorization, secret_env: BW_TOKEN}}\n"
    )
    settings = BackendSettings(kind="http", http_config=config)
    with pytest.raises(BackendConfigError) as raised:
        create_backends(settings, environ={})
    assert (raised.value.source, raised.value.reason) == (
        "BW_TOKEN",
        "not set: the HTTP backend config takes its secret from it",
    )
    backends = create_backends(settings, environ={"BW_TOKEN": "test-secret"})
    assert isinstance(backends.identity, HttpBackend)
    try:
        customer = await backends.identity.find_customer(EMMA_EMAIL)
    finally:
        await backends.aclose()
    assert customer is not None and customer.customer_id == "C-1001"
