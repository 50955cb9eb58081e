"""Scripted customer conversations (``tests/scenarios/*.yml``): the file format,
loading and validation against ``handoff/routing.yml``.

A file holds ``scenarios:``, a list of::

    - id: order-status-shipped            # unique across all files
      summary: Emma asks where her shipped watch is
      expect:
        outcome: resolved_by_bot          # | self_service_article | escalated
        queue: tier2-technical            # escalated only: a queue of routing.yml
        tier: 2                           # optional; must match the queue's tier
      answers:                            # what the customer answers when asked
        email: emma.devries@example.com
        order_number: BW-104233
        verification_code: from_email     # read the code the bot mailed (outbox)
      turns:                              # what the customer says on their own
        - hi, where is my order? it should come tomorrow
        - button: "Yes"                   # click a button of the bot's last message
        - payload: /affirm                # send a payload as the widget does

``turns`` are sent in order. Before each one, when the bot has just asked for
something listed in ``answers``, the runner answers it first (at most twice per
key), like a customer would. What the bot asks for is the running form's
``requested_slot``, mapped by its words (first match): ``postal``/``postcode``/
``zip`` -> ``postal_code``, ``code`` -> ``verification_code``, ``email`` ->
``email``, ``city`` -> ``city``, ``address`` -> ``address``, ``order`` ->
``order_number``, ``confirm`` -> ``confirm``; any other slot name is looked up
as is. Without a form, the last bot message: buttons ask to ``confirm`` (the
button whose title is the answer is clicked), words ask for an ``order
number``, a ``code`` or an ``email``. A routine case expects ``resolved_by_bot`` or
``self_service_article``; every other case expects ``escalated`` with its queue.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.perf.common import ROOT

SCENARIOS_DIR = ROOT / "tests" / "scenarios"
ROUTING = ROOT / "handoff" / "routing.yml"
ROUTINE_OUTCOMES = ("resolved_by_bot", "self_service_article")
OUTCOMES = (*ROUTINE_OUTCOMES, "escalated")
FROM_EMAIL = "from_email"


class ScenarioError(Exception):
    """A scenario file is invalid; the message names the file and scenario."""


@dataclass(frozen=True)
class Turn:
    text: str | None = None
    button: str | None = None
    payload: str | None = None


@dataclass(frozen=True)
class Scenario:
    id: str
    summary: str
    outcome: str
    turns: tuple[Turn, ...]
    answers: dict[str, str] = field(default_factory=dict)
    queue: str | None = None
    tier: int | None = None
    source: str = ""

    @property
    def routine(self) -> bool:
        return self.outcome in ROUTINE_OUTCOMES


def queue_tiers(routing: Path = ROUTING) -> dict[str, int]:
    document = yaml.safe_load(routing.read_text(encoding="utf-8"))
    return {str(name): int(queue["tier"]) for name, queue in document["queues"].items()}


def parse_turn(raw: Any, where: str) -> Turn:
    if isinstance(raw, str) and raw.strip():
        return Turn(text=raw)
    if isinstance(raw, dict) and len(raw) == 1:
        ((kind, value),) = raw.items()
        if kind in ("text", "button", "payload") and isinstance(value, str) and value:
            return Turn(**{kind: value})
    raise ScenarioError(f"{where}: a turn is a string, or one of text/button/payload: {raw!r}")


def parse_scenario(raw: Any, source: str, tiers: dict[str, int]) -> Scenario:
    if not isinstance(raw, dict) or not raw.get("id"):
        raise ScenarioError(f"{source}: every scenario needs an id: {raw!r}")
    where = f"{source}: {raw['id']}"
    unknown = set(raw) - {"id", "summary", "expect", "answers", "turns"}
    if unknown:
        raise ScenarioError(f"{where}: unknown keys {sorted(unknown)}")
    expect = raw.get("expect") or {}
    outcome = expect.get("outcome")
    if outcome not in OUTCOMES:
        raise ScenarioError(f"{where}: expect.outcome must be one of {OUTCOMES}, not {outcome!r}")
    queue, tier = expect.get("queue"), expect.get("tier")
    if outcome == "escalated":
        if queue not in tiers:
            raise ScenarioError(f"{where}: expect.queue {queue!r} is not a queue of routing.yml")
        if tier is not None and tier != tiers[queue]:
            raise ScenarioError(f"{where}: {queue} is tier {tiers[queue]}, not {tier}")
        tier = tiers[queue]
    elif queue is not None or tier is not None:
        raise ScenarioError(f"{where}: queue/tier only go with outcome escalated")
    turns = raw.get("turns")
    if not isinstance(turns, list) or not turns:
        raise ScenarioError(f"{where}: turns must be a non-empty list")
    answers = raw.get("answers") or {}
    if not isinstance(answers, dict):
        raise ScenarioError(f"{where}: answers must be a mapping of slot -> text")
    return Scenario(
        id=str(raw["id"]),
        summary=str(raw.get("summary", "")),
        outcome=str(outcome),
        turns=tuple(parse_turn(turn, where) for turn in turns),
        answers={str(k): str(v) for k, v in answers.items()},
        queue=queue,
        tier=tier,
        source=source,
    )


def load(folder: Path = SCENARIOS_DIR, routing: Path = ROUTING) -> list[Scenario]:
    """Every scenario of every ``*.yml`` in ``folder``, validated."""
    tiers = queue_tiers(routing)
    scenarios: list[Scenario] = []
    for path in sorted(folder.glob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for raw in document.get("scenarios") or []:
            scenarios.append(parse_scenario(raw, path.name, tiers))
    duplicates = sorted({s.id for s in scenarios if [t.id for t in scenarios].count(s.id) > 1})
    if duplicates:
        raise ScenarioError(f"duplicate scenario ids: {duplicates}")
    return scenarios


def select(scenarios: Iterable[Scenario], pattern: str | None) -> list[Scenario]:
    if not pattern:
        return list(scenarios)
    return [s for s in scenarios if pattern in s.id or pattern in s.source]
