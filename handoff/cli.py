"""The ``handoff`` command: database migrations and the escalation queue."""

from __future__ import annotations

import click

from bot.runtime import SettingsError, load_settings
from handoff.db import create_engine, upgrade
from handoff.settings import HandoffSettings
from handoff.store import EscalationStore


def _settings() -> HandoffSettings:
    try:
        return load_settings(HandoffSettings)
    except SettingsError as error:
        raise click.ClickException(str(error)) from None


@click.group()
def main() -> None:
    """Frontline handoff: the queue of conversations handed to human agents."""


@main.group()
def db() -> None:
    """The handoff tables in the application database."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the handoff tables to the newest schema."""
    settings = _settings()
    engine = create_engine(settings.database_url)
    try:
        upgrade(engine)
    except Exception as error:  # boundary: any driver error becomes a message
        shown = engine.url.render_as_string(hide_password=True)
        raise click.ClickException(
            f"could not migrate {shown}: {error.__class__.__name__}: {error}. "
            "Check DATABASE_URL and that the database server is running."
        ) from None
    click.echo("handoff tables are up to date")


@main.command("queue")
def queue() -> None:
    """List escalations waiting for or being handled by an agent."""
    store = EscalationStore(create_engine(_settings().database_url))
    rows = store.list(statuses=("queued", "posted", "claimed"))
    if not rows:
        click.echo("no open escalations")
        return
    for escalation in rows:
        click.echo(
            f"{escalation.id}  tier {escalation.tier}  {escalation.priority}  "
            f"{escalation.status:8}  {escalation.category}  {escalation.conversation_id}"
        )
