"""``create_backends(settings)``: every backend Frontline's actions need, bundled.

Nothing connects here: databases are opened, seeded and files read on first use.
Close the bundle with ``await backends.aclose()`` when the process stops.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

import httpx

from actions.backends.catalogue import YamlCatalogue
from actions.backends.demo import DemoBackend
from actions.backends.http import HttpBackend, load_http_config, read_secret
from actions.backends.mail import OutboxEmail, SmtpEmail, parse_smtp_url
from actions.backends.models import Clock, utc_now
from actions.backends.protocols import (
    BusinessSystem,
    CatalogueBackend,
    EmailSender,
    IdentityBackend,
    OrdersBackend,
    SubscriptionsBackend,
)
from actions.backends.settings import BackendSettings

Closer = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Backends:
    identity: IdentityBackend
    orders: OrdersBackend
    subscriptions: SubscriptionsBackend
    catalogue: CatalogueBackend
    email: EmailSender
    closers: tuple[Closer, ...] = field(default=(), repr=False, compare=False)

    async def aclose(self) -> None:
        """Releases connections (database engine, HTTP client)."""
        for close in self.closers:
            await close()


def create_email(settings: BackendSettings) -> EmailSender:
    """SMTP if ``SMTP_URL`` is set, else ``.eml`` files in the outbox folder."""
    if settings.smtp_url is not None and settings.smtp_url.get_secret_value().strip():
        config = parse_smtp_url(
            settings.smtp_url.get_secret_value(), timeout=settings.smtp_timeout_seconds
        )
        return SmtpEmail(config, sender=settings.email_from)
    return OutboxEmail(settings.resolved(settings.outbox_dir), sender=settings.email_from)


def create_demo_backend(
    settings: BackendSettings, email: EmailSender, clock: Clock = utc_now
) -> DemoBackend:
    return DemoBackend(
        settings.resolved(settings.demo_db_path),
        settings.resolved(settings.demo_data_dir),
        settings.resolved(settings.catalogue_path),
        email,
        reset_url_base=settings.reset_url_base,
        clock=clock,
    )


def create_backends(
    settings: BackendSettings,
    *,
    environ: Mapping[str, str] | None = None,
    clock: Clock = utc_now,
    http_client: httpx.AsyncClient | None = None,
) -> Backends:
    """The backends ``settings`` describe. ``kind=http`` reads the YAML config and
    the secret from the environment variable it names (``environ``, default
    ``os.environ``), raising ``BackendConfigError`` if either is wrong.
    ``http_client`` replaces the client this creates (and closes)."""
    email = create_email(settings)
    catalogue = YamlCatalogue(settings.resolved(settings.catalogue_path))
    system: BusinessSystem
    closers: list[Closer] = []
    if settings.kind == "http":
        assert settings.http_config is not None  # checked by BackendSettings
        config = load_http_config(settings.resolved(settings.http_config))
        secret = read_secret(config, os.environ if environ is None else environ)
        client = http_client
        if client is None:
            client = httpx.AsyncClient()
            closers.append(client.aclose)
        system = HttpBackend(config, client, secret=secret, reset_url_base=settings.reset_url_base)
    else:
        demo = create_demo_backend(settings, email, clock)
        closers.append(demo.aclose)
        system = demo
    return Backends(
        identity=system,
        orders=system,
        subscriptions=system,
        catalogue=catalogue,
        email=email,
        closers=tuple(closers),
    )
