"""What an agent working from a terminal sees of an escalation (pure functions).

The terminal is an outlet like Slack, so it shows conversation text only after
``core.redact`` with the same policy as the Slack card and thread: card
numbers, IBANs, one-time codes, passwords and secrets are always removed; the
customer's e-mail addresses and phone numbers are masked unless the escalation's
``customer.verified`` says the bot checked who they are. The address a customer
left for the answer (``customer.contact_email``) is shown as given, as on the
card.

After the handoff the conversation goes on in the escalation's outbox (the
jobs that would go to a Slack thread and to the customer): ``thread(escalation,
jobs)`` reads it as ``ThreadEntry`` lines, oldest first: what the customer
wrote (``slack.thread_message``), that they left or came back, their rating,
the agents' replies and what happened to the case (``rasa.trigger_intent``).
Those jobs are there with or without Slack, so ``handoff show`` lists them and
``handoff show --follow`` prints new ones as they arrive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.contract import AGENT_MESSAGE, AGENT_NAME, AGENT_TEXT, UPDATE_KIND
from core.redact import redact
from handoff.service import THREAD_MESSAGE, TO_CUSTOMER
from handoff.store import Escalation, Job

__all__ = [
    "SNIPPET_CHARS",
    "ThreadEntry",
    "is_verified",
    "queue_line",
    "record",
    "show_lines",
    "status_line",
    "thread",
]

SNIPPET_CHARS = 60  # of the customer's latest message on a queue line

# What an agent sees of a change pushed to the customer (``handoff_update``).
_EVENTS = {
    "agent_joined": "{agent} joined the chat",
    "resolved": "{agent} resolved the case",
    "returned": "{agent} handed the conversation back to the bot",
    "transferred": "passed to {team}",
}


@dataclass(frozen=True)
class ThreadEntry:
    """One line of the conversation after the handoff, already redacted.

    ``speaker``: ``customer``, ``agent`` (``name`` set), ``system`` (the customer
    left or came back), ``rating`` (``text`` is "4/5" and the comment) or
    ``event`` (the case changed: joined, resolved, returned, transferred)."""

    job_id: int
    at: datetime
    speaker: str
    text: str
    name: str | None = None

    def line(self) -> str:
        stamp = self.at.isoformat(timespec="seconds")
        if self.speaker == "event":
            return f"[{stamp}] -- {self.text}"
        if self.speaker == "rating":
            return f"[{stamp}] customer rated {self.text}"
        who = f"{self.name or 'agent'} (agent)" if self.speaker == "agent" else self.speaker
        return f"[{stamp}] {who}: {self.text}"

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "from": self.speaker,
            "name": self.name,
            "text": self.text,
        }


def is_verified(escalation: Escalation) -> bool:
    """Whether the customer's contact details may be shown (as on the card)."""
    return bool((escalation.customer or {}).get("verified"))


def _redact(escalation: Escalation, text: Any) -> str:
    return redact(str(text or ""), verified=is_verified(escalation))


def thread(escalation: Escalation, jobs: Sequence[Job]) -> list[ThreadEntry]:
    """The conversation after the handoff, from the escalation's outbox jobs."""
    entries: list[ThreadEntry] = []
    for job in jobs:
        entry = _entry(escalation, job)
        if entry is not None:
            entries.append(entry)
    return entries


def _entry(escalation: Escalation, job: Job) -> ThreadEntry | None:
    payload = job.payload or {}
    if job.id is None:
        return None
    if job.kind == THREAD_MESSAGE:
        speaker = str(payload.get("from") or "")
        if speaker == "csat":
            comment = _redact(escalation, payload.get("comment")).strip()
            text = f"{payload.get('score')}/5" + (f": {comment}" if comment else "")
            return ThreadEntry(job.id, job.created_at, "rating", text)
        if speaker in ("customer", "system"):
            text = _redact(escalation, payload.get("text"))
            return ThreadEntry(job.id, job.created_at, speaker, text)
        return None
    if job.kind == TO_CUSTOMER:
        entities = payload.get("entities") or {}
        agent = str(entities.get(AGENT_NAME) or "an agent")
        if payload.get("intent") == AGENT_MESSAGE:
            text = _redact(escalation, entities.get(AGENT_TEXT))
            return ThreadEntry(job.id, job.created_at, "agent", text, name=agent)
        template = _EVENTS.get(str(entities.get(UPDATE_KIND)))
        if template is not None:
            team = str(entities.get("team") or "another team")
            return ThreadEntry(
                job.id, job.created_at, "event", template.format(agent=agent, team=team)
            )
    return None


def status_line(escalation: Escalation) -> str:
    """``<id>  tier 2  P2  claimed     damaged_item  Alex``."""
    owner = f"  {escalation.claimed_by_name}" if escalation.claimed_by_name else ""
    return (
        f"{escalation.id}  tier {escalation.tier}  {escalation.priority}  "
        f"{escalation.status:11} {escalation.category}{owner}"
    )


def queue_line(escalation: Escalation) -> str:
    """The status line and the customer's latest message before the handoff,
    redacted, then cut to ``SNIPPET_CHARS``."""
    said = [t.get("text") for t in escalation.transcript if t.get("from") == "customer"]
    if not said:
        return status_line(escalation)
    snippet = " ".join(_redact(escalation, said[-1]).split())
    if len(snippet) > SNIPPET_CHARS:
        snippet = snippet[: SNIPPET_CHARS - 1].rstrip() + "…"
    return f'{status_line(escalation)}  "{snippet}"'


def _customer_line(escalation: Escalation) -> str:
    customer = escalation.customer or {}
    parts = ["verified" if is_verified(escalation) else "not verified"]
    parts += [str(customer[key]) for key in ("name", "email", "phone") if customer.get(key)]
    return _redact(escalation, " · ".join(parts))


def transcript_line(escalation: Escalation, turn: dict[str, Any]) -> str:
    who = turn.get("name") or turn.get("from")
    if turn.get("from") == "agent" and turn.get("name"):
        who = f"{turn['name']} (agent)"
    return f"[{turn.get('ts', '')}] {who}: {_redact(escalation, turn.get('text'))}"


def show_lines(escalation: Escalation, jobs: Sequence[Job]) -> list[str]:
    """``handoff show``: summary, customer, the transcript and what was said after."""
    lines = [
        status_line(escalation),
        f"queue: {escalation.queue} ({escalation.team})",
        f"customer: {_customer_line(escalation)}",
    ]
    contact = (escalation.customer or {}).get("contact_email")
    if contact:
        lines.append(f"reply by email: {contact}")
    lines.append(f"summary: {_redact(escalation, escalation.summary)}")
    lines.append("transcript:")
    lines += [f"  {transcript_line(escalation, turn)}" for turn in escalation.transcript]
    after = thread(escalation, jobs)
    if after:
        lines.append("after the handoff:")
        lines += [f"  {entry.line()}" for entry in after]
    return lines


def record(escalation: Escalation, jobs: Sequence[Job]) -> dict[str, Any]:
    """``handoff show --json``: the escalation's fields with every customer text
    redacted (summary, transcript, CSAT comment) and the thread after the handoff."""
    data = dict(vars(escalation))
    data["summary"] = _redact(escalation, escalation.summary)
    data["transcript"] = [
        {**turn, "text": _redact(escalation, turn.get("text"))} for turn in escalation.transcript
    ]
    if escalation.csat_comment is not None:
        data["csat_comment"] = _redact(escalation, escalation.csat_comment)
    data["thread"] = [entry.as_json() for entry in thread(escalation, jobs)]
    return data
