"""The ``handoff`` command: migrations, and working the queue from a terminal.

Without Slack (the ``make run`` default) agents use these commands; they call
the same ``HandoffService`` operations as the Slack buttons, and the running
handoff service delivers the results to the customer's widget. Everything they
print of the conversation is redacted like the Slack card (``handoff.terminal``).

``handoff show ID --follow`` is the terminal's live thread: it prints what the
customer writes after the handoff as it arrives (polling the database) and
sends each line typed on its standard input as a reply, until the case closes.
"""

from __future__ import annotations

import getpass
import json
import os
import select
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import IO, Any

import click
import sqlalchemy as sa

from core.database import create_engine, shown
from core.runtime import SettingsError, load_settings
from handoff.db import upgrade
from handoff.errors import HandoffError, NotOpen
from handoff.report import build_report, format_report
from handoff.routing import RoutingError, load_routing
from handoff.service import Agent, HandoffService
from handoff.settings import HandoffSettings
from handoff.store import OPEN_STATUSES, EscalationStore
from handoff.terminal import queue_line, record, show_lines, thread


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
        click.echo(queue_line(escalation))


FOLLOW_INTERVAL_SECONDS = 1.0


@main.command("show")
@click.argument("escalation_id")
@click.option("--json", "as_json", is_flag=True, help="Print the whole record as JSON.")
@click.option(
    "--follow",
    is_flag=True,
    help="Keep printing what is said after the handoff until the case closes (Ctrl-C "
    "stops); every line you type is sent to the customer as your reply.",
)
@click.option(
    "--interval",
    type=click.FloatRange(0.05, 60),
    default=FOLLOW_INTERVAL_SECONDS,
    show_default=True,
    help="With --follow: seconds between looks at the database.",
)
@agent_option
def show(escalation_id: str, as_json: bool, follow: bool, interval: float, agent_name: str) -> None:
    """Show an escalation: summary, customer, the whole transcript and what was
    said after the handoff. Text is redacted as on the Slack card.

    \b
    With --follow it stays open like the case's Slack thread:
      handoff show ID --follow --as Alex
    New customer messages, your replies and changes to the case appear as they
    happen; type a line and press Enter to reply ("note: ..." stays internal).
    It ends when the case is resolved, returned or transferred."""
    if as_json and follow:
        raise click.UsageError("--json and --follow cannot be combined")
    service = _service()
    escalation = _run(lambda: service.store.get(escalation_id))
    jobs = service.store.jobs(escalation_id)
    if as_json:
        click.echo(json.dumps(record(escalation, jobs), default=str, indent=2))
        return
    for line in show_lines(escalation, jobs):
        click.echo(line)
    if follow:
        _follow(service, escalation_id, _agent(agent_name), interval, {job.id for job in jobs})


def _follow(
    service: HandoffService,
    escalation_id: str,
    agent: Agent,
    interval: float,
    seen: set[int | None],
) -> None:
    """Prints thread entries of jobs not ``seen`` until the escalation closes;
    sends each line of standard input as ``agent``'s reply. Ctrl-C stops
    following (exit 0). Jobs are remembered by id, not by the highest id: on
    PostgreSQL a lower id can commit after a higher one."""
    escalation = service.store.get(escalation_id)
    if not escalation.is_open:
        click.echo(_closed(service, escalation_id))
        return
    click.echo(
        f"following {escalation_id}: new messages appear below. Type a reply and press "
        'Enter to send it to the customer ("note: ..." stays internal); Ctrl-C stops. '
        f'From another terminal: handoff reply {escalation_id} "..."'
    )
    if escalation.status != "claimed":
        click.echo(f"(claim it to reply: handoff claim {escalation_id} --as {agent.name})")
    typed = _TypedLines(sys.stdin)
    try:
        while True:
            escalation = service.store.get(escalation_id)  # before the jobs: none missed
            jobs = service.store.jobs(escalation_id)
            for entry in thread(escalation, [job for job in jobs if job.id not in seen]):
                click.echo(f"  {entry.line()}")
            seen.update(job.id for job in jobs)
            if not escalation.is_open:
                click.echo(_closed(service, escalation_id))
                return
            for line in typed.wait(interval):  # returns early when a line is typed
                if line.strip():
                    _reply_from_follow(service, escalation_id, agent, line.strip())
    except KeyboardInterrupt:
        click.echo(f"stopped following {escalation_id}")


class _TypedLines:
    """Lines typed on standard input, read without blocking the follow loop:
    ``select`` on the file descriptor (Linux, macOS), no reader thread (a thread
    blocked in a read of ``sys.stdin`` crashes the interpreter at exit). A stream
    without a descriptor (click's test runner) is read whole at once."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.pending = b""
        self.ended = False
        try:
            self.fd: int | None = stream.fileno()
        except (OSError, ValueError):
            self.fd = None

    def wait(self, timeout: float) -> list[str]:
        """Complete lines typed within ``timeout`` seconds (sooner if there are)."""
        if self.ended:
            time.sleep(timeout)
            return []
        if self.fd is None:
            self.ended = True
            return self.stream.read().splitlines()
        readable, _, _ = select.select([self.fd], [], [], timeout)
        if not readable:
            return []
        chunk = os.read(self.fd, 65536)
        if not chunk:  # end of input: keep following, stop reading
            self.ended = True
            chunk, self.pending = self.pending + b"\n", b""
        *lines, self.pending = (self.pending + chunk).split(b"\n")
        return [line.decode("utf-8", errors="replace") for line in lines]


def _reply_from_follow(
    service: HandoffService, escalation_id: str, agent: Agent, text: str
) -> None:
    try:
        outcome = service.reply(escalation_id, agent, text, uuid.uuid4().hex)
    except NotOpen as error:
        hint = ""
        if error.status in ("queued", "posted"):
            hint = f"; claim it first: handoff claim {escalation_id} --as {agent.name}"
        click.echo(f"  not sent: {error}{hint}", err=True)
        return
    except HandoffError as error:
        click.echo(f"  not sent: {error}", err=True)
        return
    if outcome == "note":
        click.echo("  (kept as an internal note)")


def _closed(service: HandoffService, escalation_id: str) -> str:
    escalation = service.store.get(escalation_id)
    line = f"escalation {escalation_id} is {escalation.status}"
    if escalation.status == "transferred":
        successors = [
            e for e in service.store.for_conversation(escalation.conversation_id)
            if e.parent_id == escalation_id
        ]  # fmt: skip
        if successors:
            new = successors[-1]
            line += f" to tier {new.tier} as {new.id}: handoff show {new.id} --follow"
    return line


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
    settings = _settings()
    end = until.replace(tzinfo=UTC) if until else datetime.now(UTC)
    app = create_engine(settings.database_url)
    tracker = create_engine(settings.rasa_tracker_store_url)
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
