"""The support lead's numbers: containment, escalations per tier and queue,
time to claim, time to resolve, CSAT, and what the Tier 1 flows achieved.

Read-only queries over the databases the services already write, each
through its owner's reader:

- conversations: Rasa's tracker store (``handoff.tracker_store``: a
  conversation counts when the customer wrote in it during the period);
- escalations: ``escalations`` (this package's ``handoff.store``);
- Tier 1 outcomes: ``actions.outcome_counts`` (the actions package's surface).

A table that does not exist yet (nothing happened, or the service never ran)
counts as empty and is named in ``missing``, so a report never fails on a new
installation.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

import actions
from handoff import tracker_store
from handoff.store import OPEN_STATUSES, escalations

COLUMNS = (
    "id",
    "conversation_id",
    "tier",
    "queue",
    "category",
    "status",
    "parent_id",
    "created_at",
    "claimed_at",
    "closed_at",
    "csat_score",
)


@dataclass(frozen=True)
class Durations:
    """Minutes: how many, median and 90th percentile (nearest rank)."""

    count: int
    median_minutes: float | None
    p90_minutes: float | None

    @classmethod
    def of(cls, minutes: list[float]) -> Durations:
        if not minutes:
            return cls(0, None, None)
        ordered = sorted(minutes)
        return cls(len(ordered), round(_median(ordered), 1), round(_rank(ordered, 0.9), 1))


@dataclass(frozen=True)
class Csat:
    responses: int
    average: float | None
    scores: dict[int, int]
    response_rate: float | None  # of resolved escalations


@dataclass
class SupportReport:
    start: datetime
    end: datetime
    conversations: int
    escalated_conversations: int
    containment: float | None
    escalations: int
    escalations_by_tier: dict[int, int]
    escalations_by_queue: dict[str, int]
    escalations_by_category: dict[str, int]
    open_escalations: int
    time_to_claim: Durations
    time_to_resolve: Durations
    csat: Csat
    outcomes: dict[str, dict[str, int]]
    missing: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["start"] = self.start.isoformat(timespec="seconds")
        data["end"] = self.end.isoformat(timespec="seconds")
        return data


def build_report(
    app_engine: sa.Engine, tracker_engine: sa.Engine, start: datetime, end: datetime
) -> SupportReport:
    """The report for conversations and escalations in ``[start, end)``."""
    start, end = _utc(start), _utc(end)
    missing: list[str] = []
    conversations = _conversations(tracker_engine, start, end, missing)
    rows = _escalations(app_engine, start, end, missing)
    chains = _chains(app_engine, rows, missing) if rows else {}

    escalated = {row["conversation_id"] for row in rows}
    counted = conversations | escalated  # an escalation without a stored turn still counts
    containment = (len(counted) - len(escalated)) / len(counted) if counted else None

    claim = [_minutes(row["created_at"], row["claimed_at"]) for row in rows if row["claimed_at"]]
    resolve = []
    for root in (row for row in rows if row["parent_id"] is None):
        last = chains.get(root["id"], root)
        if last["status"] == "resolved" and last["closed_at"] is not None:
            resolve.append(_minutes(root["created_at"], last["closed_at"]))
    scores = [row["csat_score"] for row in rows if row["csat_score"] is not None]
    resolved = sum(1 for row in rows if row["status"] == "resolved")

    return SupportReport(
        start=start,
        end=end,
        conversations=len(counted),
        escalated_conversations=len(escalated),
        containment=None if containment is None else round(containment, 4),
        escalations=len(rows),
        escalations_by_tier=dict(sorted(Counter(row["tier"] for row in rows).items())),
        escalations_by_queue=dict(sorted(Counter(row["queue"] for row in rows).items())),
        escalations_by_category=dict(sorted(Counter(row["category"] for row in rows).items())),
        open_escalations=sum(1 for row in rows if row["status"] in OPEN_STATUSES),
        time_to_claim=Durations.of(claim),
        time_to_resolve=Durations.of(resolve),
        csat=Csat(
            responses=len(scores),
            average=round(sum(scores) / len(scores), 2) if scores else None,
            scores={score: scores.count(score) for score in range(1, 6)},
            response_rate=round(len(scores) / resolved, 4) if resolved else None,
        ),
        outcomes=_outcomes(app_engine, start, end, missing),
        missing=missing,
    )


def format_report(report: SupportReport) -> str:
    """The report as text for a terminal."""

    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value * 100:.1f}%"

    def mins(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.1f} min"

    lines = [
        f"Support report {report.start:%Y-%m-%d %H:%M} to {report.end:%Y-%m-%d %H:%M} UTC",
        "",
        f"Conversations          {report.conversations}",
        f"Handed to people       {report.escalated_conversations}",
        f"Containment            {pct(report.containment)}",
        "",
        f"Escalations            {report.escalations} ({report.open_escalations} still open)",
    ]
    lines += [f"  tier {tier}               {n}" for tier, n in report.escalations_by_tier.items()]
    lines += [f"  {queue:21}{n}" for queue, n in report.escalations_by_queue.items()]
    claim, resolve = report.time_to_claim, report.time_to_resolve
    lines += [
        f"Time to claim          median {mins(claim.median_minutes)}, "
        f"90% within {mins(claim.p90_minutes)} ({claim.count} claimed)",
        f"Time to resolve        median {mins(resolve.median_minutes)}, "
        f"90% within {mins(resolve.p90_minutes)} ({resolve.count} resolved)",
    ]
    csat = report.csat
    average = "n/a" if csat.average is None else f"{csat.average:.2f} / 5"
    distribution = "  ".join(f"{score}:{n}" for score, n in csat.scores.items())
    lines.append(
        f"CSAT                   {average} from {csat.responses} answers "
        f"(response rate {pct(csat.response_rate)}; {distribution})"
    )
    if report.outcomes:
        lines += ["", "Tier 1 outcomes by topic"]
        for category, counts in report.outcomes.items():
            shown = ", ".join(f"{outcome} {n}" for outcome, n in counts.items())
            lines.append(f"  {category:21}{shown}")
    if report.missing:
        lines += ["", "Not found (counted as empty): " + ", ".join(report.missing)]
    return "\n".join(lines)


def _conversations(
    engine: sa.Engine, start: datetime, end: datetime, missing: list[str]
) -> set[str]:
    found = tracker_store.customers_who_wrote(engine, start, end)
    if found is None:
        missing.append(f"Rasa's {tracker_store.events.name} table")
        return set()
    return found


def _escalations(
    engine: sa.Engine, start: datetime, end: datetime, missing: list[str]
) -> list[dict[str, Any]]:
    if not sa.inspect(engine).has_table("escalations"):
        missing.append("escalations table")
        return []
    table = escalations
    query = sa.select(*(table.c[name] for name in COLUMNS)).where(
        table.c.created_at >= start, table.c.created_at < end
    )
    with engine.connect() as connection:
        return [_row(row) for row in connection.execute(query).mappings()]


def _chains(
    engine: sa.Engine, rows: list[dict[str, Any]], missing: list[str]
) -> dict[str, dict[str, Any]]:
    """The last escalation of each transfer chain, by the chain's first id.

    A transfer closes an escalation and opens its successor (``parent_id``);
    the successor may be created after the period ends, so all rows of the
    conversations in the period are read."""
    table = escalations
    ids = sorted({row["conversation_id"] for row in rows})
    with engine.connect() as connection:
        everything = [
            _row(row)
            for row in connection.execute(
                sa.select(*(table.c[name] for name in COLUMNS)).where(
                    table.c.conversation_id.in_(ids)
                )
            ).mappings()
        ]
    children: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in everything:
        if row["parent_id"] is not None:
            children[row["parent_id"]].append(row)
    last: dict[str, dict[str, Any]] = {}
    for row in everything:
        if row["parent_id"] is None:
            current = row
            while children.get(current["id"]):
                current = max(children[current["id"]], key=lambda child: child["created_at"])
            last[row["id"]] = current
    return last


def _outcomes(
    engine: sa.Engine, start: datetime, end: datetime, missing: list[str]
) -> dict[str, dict[str, int]]:
    found = actions.outcome_counts(engine, start, end)
    if found is None:
        missing.append("conversation_outcomes table")
        return {}
    return found


def _row(row: Any) -> dict[str, Any]:
    values = dict(row)
    for key in ("created_at", "claimed_at", "closed_at"):
        if values[key] is not None:
            values[key] = _utc(values[key])
    return values


def _utc(value: datetime) -> datetime:
    # SQLite returns naive datetimes; everything Frontline stores is UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _minutes(start: datetime, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds() / 60)


def _median(ordered: list[float]) -> float:
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def _rank(ordered: list[float], share: float) -> float:
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]
