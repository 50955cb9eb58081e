"""The ``handoff`` command: migrations, and working the queue from a terminal.

Without Slack (the ``make run`` default) agents use these commands; they call
the same ``HandoffService`` operations as the Slack buttons, and the running
handoff service delivers the results to the customer's widget.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import click
import sqlalchemy as sa

from bot.database import create_engine, shown
from bot.runtime import SettingsError, load_settings
from handoff.db import upgrade
from handoff.errors import HandoffError
from handoff.report import build_report, format_report
from handoff.routing import RoutingError, load_routing
from handoff.service import Agent, HandoffService
from handoff.settings import HandoffSettings
from handoff.store import OPEN_STATUSES, Escalation, EscalationStore


def _settings() -> HandoffSettings:
    try:
        return load_settings(HandoffSettings)
    except SettingsError as error:
        raise click.ClickException(str(error)) from None


def _service() -> HandoffService:
    settings = _settings()
    try:
        routing = load_routing(settings.routing)
    except RoutingError as error:
        raise click.ClickException(f"{settings.routing}: {error}") from None
    return HandoffService(EscalationStore(create_engine(settings.database_url)), routing)


def _run(operation: Callable[[], Any]) -> Any:
    try:
        return operation()
    except HandoffError as error:
        raise click.ClickException(str(error)) from None


def _line(escalation: Escalation) -> str:
    owner = f"  {escalation.claimed_by_name}" if escalation.claimed_by_name else ""
    return (
        f"{escalation.id}  tier {escalation.tier}  {escalation.priority}  "
        f"{escalation.status:11} {escalation.category}{owner}"
    )


agent_option = click.option(
    "--as", "agent_name", default=lambda: getpass.getuser(), show_default="your login name",
    help="Your name as the customer sees it.",
)  # fmt: skip


def _agent(name: str) -> Agent:
    return Agent(f"cli:{name}", name)


@click.group()
def main() -> None:
    """Frontline handoff: the queue of conversations handed to human agents."""


@main.group()
def db() -> None:
    """The handoff tables in the application database."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the handoff tables to the newest schema."""
    engine = create_engine(_settings().database_url)
    try:
        upgrade(engine)
    except Exception as error:  # boundary: any driver error becomes a message
        raise click.ClickException(
            f"could not migrate {shown(engine)}: {error.__class__.__name__}. "
            "Check DATABASE_URL and that the database server is running."
        ) from None
    click.echo("handoff tables are up to date")


@main.command("queue")
@click.option("--all", "show_all", is_flag=True, help="Include closed escalations.")
def queue(show_all: bool) -> None:
    """List escalations waiting for or being handled by an agent, oldest first."""
    store = _service().store
    rows = store.list() if show_all else store.list(statuses=OPEN_STATUSES)
    if not rows:
        click.echo("no open escalations")
        return
    for escalation in rows:
        click.echo(_line(escalation))


@main.command("show")
@click.argument("escalation_id")
@click.option("--json", "as_json", is_flag=True, help="Print the whole record as JSON.")
def show(escalation_id: str, as_json: bool) -> None:
    """Show an escalation: summary, customer and the whole transcript."""
    escalation = _run(lambda: _service().store.get(escalation_id))
    if as_json:
        record = {k: v for k, v in vars(escalation).items()}
        click.echo(json.dumps(record, default=str, indent=2))
        return
    click.echo(_line(escalation))
    click.echo(f"queue: {escalation.queue} ({escalation.team})")
    contact = (escalation.customer or {}).get("contact_email")
    if contact:
        click.echo(f"reply by email: {contact}")
    click.echo(f"summary: {escalation.summary}")
    click.echo("transcript:")
    for turn in escalation.transcript:
        who = turn.get("name") or turn.get("from")
        click.echo(f"  [{turn.get('ts', '')}] {who}: {turn.get('text', '')}")


@main.command("claim")
@click.argument("escalation_id")
@agent_option
def claim(escalation_id: str, agent_name: str) -> None:
    """Take an escalation: the customer sees that you joined."""
    _run(lambda: _service().claim(escalation_id, _agent(agent_name)))
    click.echo(f"claimed {escalation_id}")


@main.command("reply")
@click.argument("escalation_id")
@click.argument("text")
@agent_option
def reply(escalation_id: str, text: str, agent_name: str) -> None:
    """Send TEXT to the customer (text starting with "note:" stays internal)."""
    import uuid

    outcome = _run(
        lambda: _service().reply(escalation_id, _agent(agent_name), text, uuid.uuid4().hex)
    )
    click.echo("kept as an internal note" if outcome == "note" else "sent to the customer")


@main.command("resolve")
@click.argument("escalation_id")
@agent_option
def resolve(escalation_id: str, agent_name: str) -> None:
    """Close the case: the bot thanks the customer and asks for a rating."""
    _run(lambda: _service().resolve(escalation_id, _agent(agent_name)))
    click.echo(f"resolved {escalation_id}")


@main.command("return")
@click.argument("escalation_id")
@agent_option
def return_to_bot(escalation_id: str, agent_name: str) -> None:
    """Hand the conversation back to the bot."""
    _run(lambda: _service().return_to_bot(escalation_id, _agent(agent_name)))
    click.echo(f"returned {escalation_id} to the bot")


@main.command("transfer")
@click.argument("escalation_id")
@click.option("--tier", type=click.IntRange(2, 4), required=True, help="Tier to pass it to.")
@agent_option
def transfer(escalation_id: str, tier: int, agent_name: str) -> None:
    """Pass the case to another tier's queue with its history."""
    new = _run(lambda: _service().transfer(escalation_id, tier, _agent(agent_name)))
    click.echo(f"transferred to tier {tier} as {new.id}")


@main.command("report")
@click.option(
    "--days",
    type=click.IntRange(1, 3660),
    default=7,
    show_default=True,
    help="Length of the period, ending now (or at --until).",
)
@click.option(
    "--until",
    "until",
    type=click.DateTime(),
    default=None,
    help="End of the period, UTC (default: now).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def report(days: int, until: datetime | None, as_json: bool) -> None:
    """The support lead's numbers: containment, escalations per tier, time to
    claim and resolve, CSAT, Tier 1 outcomes."""
    from bot.stack import StackSettings  # the launcher's defaults for both databases

    try:
        stack = load_settings(StackSettings)
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    end = until.replace(tzinfo=UTC) if until else datetime.now(UTC)
    app = create_engine(stack.app_database_url)
    tracker = create_engine(stack.rasa_tracker_store_url)
    try:
        result = build_report(app, tracker, end - timedelta(days=days), end)
    except sa.exc.SQLAlchemyError as error:
        raise click.ClickException(
            f"database error: {error.__class__.__name__} ({shown(app)}, {shown(tracker)})"
        ) from None
    finally:
        app.dispose()
        tracker.dispose()
    click.echo(json.dumps(result.as_json(), indent=2) if as_json else format_report(result))


if __name__ == "__main__":
    main()
