"""Scripted customer conversations through the real servers.

    .venv/app/bin/python -m tests.perf.eval_scenarios [--only TEXT] [--verbose]

Starts the action server and the Rasa server (``tests.perf.stack_run``) in a
fresh folder under ``var/eval/run``, plays every scenario of
``tests/scenarios/{tune,test}/*.yml`` (format: ``tests.perf.scenarios``) over the widget's
socket.io channel, one new conversation each, and observes what happened:

* escalated: the run database's ``escalations`` table has a row for the
  conversation (its first row gives the queue and tier);
* resolved_by_bot / self_service_article / abandoned: the outcome the Tier 1
  flows recorded in ``conversation_outcomes``;
* self_service_article (inferred): nothing recorded, but the bot linked a
  help-center article (``help.brightwave.example/articles/``) or sent a
  message whose custom type names an article or KB answer;
* none: none of these.

Each conversation is judged right, wrong or missed by ``tests.perf.judge``
against what its scenario names as right (articles, facts, forbidden claims,
queue, per-turn expectations). Metrics, overall and per split (``tune``,
``test``): the right / wrong / missed rates (wrong is the headline), the
correct-queue rate of escalation cases, containment (routine cases ending
resolved_by_bot or self_service_article); per failure-class tag the verdict
counts; turns to resolution and to handoff. The demo company's records are
restored before each conversation (``DemoState``).
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import re
import sqlite3
import time
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from tests.perf.common import (
    ROOT,
    PerfSettings,
    Section,
    load_perf_settings,
    mean,
    say,
    write_results,
)
from tests.perf.judge import (
    NOT_PLAYED,
    RESOLVED,
    VERDICTS,
    WRONG,
    Played,
    TurnRecord,
    Verdict,
    judge,
)
from tests.perf.scenarios import (
    FROM_EMAIL,
    NOTHING_EXPECTED,
    ROUTINE_OUTCOMES,
    SPLITS,
    TAGS,
    Scenario,
    Turn,
    load,
    select,
)
from tests.perf.stack_run import Run, frontline
from tests.perf.widget import Reply, Widget, WidgetError

ARTICLE_LINK = "help.brightwave.example/articles/"
DEMO_DATA = ROOT / "data" / "demo"
ARTICLE_TYPES = ("kb_answer", "article", "articles", "self_service_article")
CODE = re.compile(r"\b(\d{6})\b")
ARTICLE_ID = re.compile(re.escape(ARTICLE_LINK) + r"([a-z0-9][a-z0-9-]*)")
EXTRA_TURNS = 2  # room for re-asked questions beyond turns + 2 x answers
MAX_ANSWERS_PER_SLOT = 2


@dataclass
class Observation:
    escalations: list[dict[str, Any]]
    outcomes: list[str]
    article_shown: bool

    @property
    def outcome(self) -> str:
        if self.escalations:
            return "escalated"
        for recorded in ("resolved_by_bot", "self_service_article", "abandoned"):
            if recorded in self.outcomes:
                return recorded
        return "self_service_article" if self.article_shown else "none"


@dataclass
class Result:
    scenario: Scenario
    observed: str = "none"
    inferred: bool = False
    queue: str | None = None
    tier: int | None = None
    turns: int = 0
    turns_to_outcome: int | None = None
    fallbacks: int = 0
    error: str | None = None
    transcript: list[dict[str, Any]] = field(default_factory=list)
    intents: list[str] = field(default_factory=list)
    played: Played = field(default_factory=Played)
    verdict: Verdict = NOT_PLAYED

    @property
    def contained(self) -> bool:
        return self.observed in ROUTINE_OUTCOMES

    @property
    def correct_queue(self) -> bool:
        return self.observed == "escalated" and self.queue == self.scenario.queue

    @property
    def wrong_answer(self) -> bool:
        return self.verdict.verdict == WRONG

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.scenario.id,
            "file": self.scenario.source,
            "split": self.scenario.split,
            "tags": list(self.scenario.tags),
            "verdict": self.verdict.verdict,
            "reasons": list(self.verdict.reasons),
            "answer": self.verdict.answer,
            "expected": self.scenario.outcome,
            "expected_queue": self.scenario.queue,
            "observed": self.observed,
            "inferred": self.inferred,
            "queue": self.queue,
            "tier": self.tier,
            "turns": self.turns,
            "turns_to_outcome": self.turns_to_outcome,
            "fallbacks": self.fallbacks,
            "error": self.error,
            "intents": self.intents,
            "transcript": self.transcript,
        }


def rows(engine: sa.Engine, query: str, conversation_id: str) -> list[dict[str, Any]]:
    try:
        with engine.connect() as connection:
            result = connection.execute(sa.text(query), {"conversation_id": conversation_id})
            return [dict(row._mapping) for row in result]
    except sa.exc.DBAPIError:  # table not there (package not migrated yet)
        return []


def observe(engine: sa.Engine, conversation_id: str, article_shown: bool) -> Observation:
    escalations = rows(
        engine,
        "SELECT queue, tier, category, priority FROM escalations "
        "WHERE conversation_id = :conversation_id ORDER BY created_at",
        conversation_id,
    )
    outcomes = rows(
        engine,
        "SELECT outcome FROM conversation_outcomes "
        "WHERE conversation_id = :conversation_id ORDER BY created_at",
        conversation_id,
    )
    return Observation(escalations, [str(row["outcome"]) for row in outcomes], article_shown)


def shows_article(reply: Reply) -> bool:
    return any(ARTICLE_LINK in text for text in reply.texts) or any(
        kind in ARTICLE_TYPES for kind in reply.custom_types
    )


def articles_shown(reply: Reply) -> list[str]:
    """The help-center article ids a reply shows, in order: an article
    card's ``doc_id``, else an article link in the text (related links of a
    card are not answers and are not counted)."""
    shown: list[str] = []
    for message in reply.messages:
        custom = message.get("custom")
        if isinstance(custom, dict) and custom.get("type") in ARTICLE_TYPES:
            doc = custom.get("doc_id")
            if doc and doc not in shown:
                shown.append(str(doc))
            continue
        for doc in ARTICLE_ID.findall(str(message.get("text") or "")):
            if doc not in shown:
                shown.append(doc)
    return shown


def bot_texts(reply: Reply) -> list[str]:
    """Everything the customer reads in a reply: texts, button titles and an
    article card's title and passage."""
    texts: list[str] = []
    for message in reply.messages:
        if message.get("text"):
            texts.append(str(message["text"]))
        texts += [str(b.get("title", "")) for b in message.get("buttons") or []]
        custom = message.get("custom")
        if isinstance(custom, dict) and not message.get("text"):
            texts += [str(custom.get(k)) for k in ("title", "passage", "text") if custom.get(k)]
    return texts


def asked_from_reply(reply: Reply | None) -> str | None:
    """What the bot's last message asks for, by its words and buttons (when
    no form says so): a question with buttons asks to confirm."""
    if reply is None or not reply.messages:
        return None
    if reply.messages[-1].get("buttons"):
        return "confirm"
    texts = reply.texts
    if not texts:
        return None
    last = texts[-1].lower()
    if "order number" in last or "number of one of your orders" in last:
        return "order_number"
    if "code" in last:
        return "verification_code"
    if "email" in last or "e-mail" in last:
        return "email"
    return None


# Words of a form's requested slot -> the answers key (first match wins).
SLOT_WORDS = (
    ("postal", "postal_code"),
    ("postcode", "postal_code"),
    ("zip", "postal_code"),
    ("code", "verification_code"),
    ("email", "email"),
    ("city", "city"),
    ("address", "address"),
    ("order", "order_number"),
    ("confirm", "confirm"),
)


def slot_key(requested: str) -> str:
    """The answers key for a form's requested slot (its own name if unknown)."""
    name = requested.lower()
    for word, key in SLOT_WORDS:
        if word in name:
            return key
    return requested


def code_from_outbox(outbox: Path, address: str | None) -> str | None:
    """The code in the newest email to ``address`` in the run's outbox."""
    if not outbox.exists():
        return None
    for path in sorted(outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if address and address.lower() not in str(message.get("To", "")).lower():
            continue
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        found = CODE.search(text)
        if found:
            return found.group(1)
    return None


class DemoState:
    """The demo company's records as seeded, restored before each scenario: a
    conversation that cancels an order or a subscription must not change what
    the next one finds (each scenario is judged against the seeded data)."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.snapshot = db_path.with_name(db_path.stem + "-seeded.db")

    def seed(self) -> None:
        from datetime import UTC, datetime

        from actions.backends import demo_data

        engine = demo_data.create_demo_engine(self.db_path)
        try:
            demo_data.seed(engine, DEMO_DATA, DEMO_DATA / "catalogue.yml", datetime.now(UTC))
        finally:
            engine.dispose()
        self.snapshot.unlink(missing_ok=True)
        with closing(sqlite3.connect(self.db_path, timeout=30)) as connection:
            connection.execute("VACUUM INTO ?", (str(self.snapshot),))

    def restore(self) -> None:
        with closing(sqlite3.connect(self.db_path, timeout=30)) as connection:
            connection.execute("ATTACH DATABASE ? AS seeded", (str(self.snapshot),))
            tables = [
                str(row[0])
                for row in connection.execute(
                    "SELECT name FROM seeded.sqlite_master "
                    "WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                )
            ]
            with connection:  # one transaction: the action server sees before or after
                for table in tables:
                    connection.execute(f'DELETE FROM main."{table}"')
                    connection.execute(f'INSERT INTO main."{table}" SELECT * FROM seeded."{table}"')
            connection.execute("DETACH DATABASE seeded")


class Player:
    """Plays scenarios against a running stack."""

    def __init__(
        self, run: Run, http: httpx.AsyncClient, engine: sa.Engine, demo: DemoState | None = None
    ) -> None:
        self.run = run
        self.http = http
        self.engine = engine
        self.demo = demo

    async def tracker(self, conversation_id: str, events: str = "NONE") -> dict[str, Any]:
        response = await self.http.get(
            f"{self.run.stack.rasa_url}/conversations/{conversation_id}/tracker",
            params={"token": self.run.stack.token, "include_events": events},
        )
        response.raise_for_status()
        return dict(response.json())

    async def asked(self, conversation_id: str, last: Reply | None) -> str | None:
        tracker = await self.tracker(conversation_id)
        requested = (tracker.get("slots") or {}).get("requested_slot")
        if (tracker.get("active_loop") or {}).get("name") and requested:
            return slot_key(str(requested))
        return asked_from_reply(last)

    def answer(self, scenario: Scenario, key: str, last: Reply | None) -> str | None:
        value = scenario.answers.get(key)
        if value == FROM_EMAIL:
            return code_from_outbox(self.run.outbox, scenario.answers.get("email"))
        if value is not None and key == "confirm":
            return self.turn_text(Turn(button=value), last)
        return value

    @staticmethod
    def turn_text(turn: Turn, last: Reply | None) -> str:
        if turn.payload:
            return turn.payload
        if turn.button:
            wanted = turn.button.strip().lower()
            buttons = [b for m in (last.messages if last else []) for b in m.get("buttons") or []]
            titles = [str(b.get("title", "")).strip().lower() for b in buttons]
            for match in (wanted.__eq__, lambda title: title.startswith(wanted)):
                for button, title in zip(buttons, titles, strict=True):
                    if match(title):
                        return str(button.get("payload") or button["title"])
            return turn.button  # no such button: the customer types it
        return turn.text or ""

    async def play(self, scenario: Scenario) -> Result:
        result = Result(scenario)
        played = result.played
        if self.demo is not None:
            self.demo.restore()
        widget = Widget(self.run.stack.rasa_url)
        conversation_id = await widget.connect()
        pending = list(scenario.turns)
        answered: Counter[str] = Counter()
        limit = len(scenario.turns) + 2 * len(scenario.answers) + EXTRA_TURNS
        last: Reply | None = None
        article_shown = False
        try:
            while result.turns < limit:
                asked = await self.asked(conversation_id, last)
                text: str | None = None
                turn: Turn | None = None
                if asked in scenario.answers and answered[asked] < MAX_ANSWERS_PER_SLOT:
                    answered[asked] += 1
                    text = self.answer(scenario, asked, last)
                if text is None:
                    if not pending:
                        break
                    turn = pending.pop(0)
                    text = self.turn_text(turn, last)
                scripted = turn is not None
                last = await widget.say(text)
                result.turns += 1
                article_shown = article_shown or shows_article(last)
                played.turns.append(
                    TurnRecord(
                        customer=text,
                        texts=bot_texts(last),
                        articles=articles_shown(last),
                        expect=turn.expect if turn is not None else NOTHING_EXPECTED,
                        scripted=scripted,
                    )
                )
                result.transcript.append(
                    {
                        "customer": text,
                        "bot": [m.get("text") or m.get("custom") for m in last.messages],
                        "ms": round(last.ms, 1),
                    }
                )
                seen = observe(self.engine, conversation_id, article_shown)
                if seen.outcome != "none" and result.turns_to_outcome is None:
                    result.turns_to_outcome = result.turns
                if seen.escalations and played.escalation_turn is None:
                    played.escalation_turn = result.turns
                    played.escalation_queue = str(seen.escalations[0]["queue"])
                resolved = [o for o in seen.outcomes if o in RESOLVED]
                if resolved and played.resolution_turn is None:
                    played.resolution_turn, played.resolution = result.turns, resolved[0]
                if seen.escalations and not any(t.expect for t in pending):
                    # A person has the conversation now; turns that expect
                    # something (what the bot says while the customer waits)
                    # are still sent.
                    break
        except (WidgetError, httpx.HTTPError) as error:
            result.error = f"{error.__class__.__name__}: {error}"
        finally:
            await widget.close()
        final = observe(self.engine, conversation_id, article_shown)
        result.observed = final.outcome
        result.inferred = final.outcome == "self_service_article" and not final.outcomes
        if final.escalations:
            result.queue = str(final.escalations[0]["queue"])
            result.tier = int(final.escalations[0]["tier"])
        await self.summarise(conversation_id, result)
        result.verdict = judge(scenario, played)
        return result

    async def summarise(self, conversation_id: str, result: Result) -> None:
        try:
            events = (await self.tracker(conversation_id, "ALL")).get("events") or []
        except httpx.HTTPError:
            return
        result.intents = [
            str(((event.get("parse_data") or {}).get("intent") or {}).get("name"))
            for event in events
            if event.get("event") == "user"
        ]
        result.fallbacks = sum(
            event.get("event") == "action"
            and event.get("name") in ("action_default_fallback", "utter_default")
            for event in events
        )


def share(part: list[Result], whole: list[Result]) -> float:
    return len(part) / len(whole) if whole else float("nan")


def verdict_metrics(results: list[Result], prefix: str) -> dict[str, float]:
    """Right / wrong / missed, correct queue and containment of ``results``."""
    routine = [r for r in results if r.scenario.routine]
    escalations = [r for r in results if r.scenario.outcome == "escalated"]
    metrics: dict[str, float] = {f"{prefix}count": len(results)}
    for verdict in VERDICTS:
        part = [r for r in results if r.verdict.verdict == verdict]
        metrics[f"{prefix}{verdict}"] = len(part)
        metrics[f"{prefix}{verdict}_rate"] = share(part, results)
    metrics[f"{prefix}correct_queue_rate"] = share(
        [r for r in escalations if r.correct_queue], escalations
    )
    metrics[f"{prefix}containment"] = share([r for r in routine if r.contained], routine)
    return metrics


def summarise(results: list[Result], section: Section) -> None:
    routine = [r for r in results if r.scenario.routine]
    escalations = [r for r in results if r.scenario.outcome == "escalated"]
    contained = [r for r in routine if r.contained]
    handed = [r for r in results if r.observed == "escalated" and r.turns_to_outcome]
    metrics = verdict_metrics(results, "scenarios.")
    for split in SPLITS:
        metrics.update(
            verdict_metrics(
                [r for r in results if r.scenario.split == split], f"scenarios.{split}."
            )
        )
    metrics.update(
        {
            "scenarios.routine_count": len(routine),
            "scenarios.escalation_count": len(escalations),
            "scenarios.declined_count": sum(r.scenario.outcome == "declined" for r in results),
            "scenarios.correct_tier_rate": share(
                [r for r in escalations if r.observed == "escalated" and r.tier == r.scenario.tier],
                escalations,
            ),
            "scenarios.escalation_recall": share(
                [r for r in escalations if r.observed == "escalated"], escalations
            ),
            "scenarios.unneeded_escalations": sum(r.observed == "escalated" for r in routine),
            "scenarios.avg_turns_to_resolution": mean(
                r.turns_to_outcome for r in contained if r.turns_to_outcome
            ),
            "scenarios.avg_turns_to_handoff": mean(r.turns_to_outcome or 0 for r in handed),
            "scenarios.fallback_turns_per_conversation": mean(r.fallbacks for r in results),
            "scenarios.errors": sum(r.error is not None for r in results),
            "scenarios.turn_p50_ms": median_turn_ms(results),
        }
    )
    section.put(metrics)
    section.details["observed"] = dict(Counter(r.observed for r in results))
    section.details["queues"] = dict(
        Counter(f"{r.scenario.queue} -> {r.queue or 'no escalation'}" for r in escalations)
    )
    section.details["tags"] = {
        split: {
            tag: dict(
                Counter(
                    r.verdict.verdict
                    for r in results
                    if tag in r.scenario.tags and split in ("all", r.scenario.split)
                )
            )
            for tag in TAGS
        }
        for split in ("all", *SPLITS)
    }
    section.details["results"] = [r.as_dict() for r in results]


def median_turn_ms(results: list[Result]) -> float:
    from tests.perf.common import percentile

    return percentile([t["ms"] for r in results for t in r.transcript], 50)


async def play_all(run: Run, scenarios: list[Scenario], verbose: bool) -> list[Result]:
    from core.database import create_engine

    engine = create_engine(run.stack.settings.app_database_url)
    results = []
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            demo = DemoState(run.run_dir / "demo-backend.db")
            demo.seed()
            player = Player(run, http, engine, demo)
            for number, scenario in enumerate(scenarios, start=1):
                result = await player.play(scenario)
                results.append(result)
                if verbose or result.error:
                    say(
                        f"{result.verdict.verdict:6} {number:3}/{len(scenarios)} {scenario.id}: "
                        f"expected {scenario.outcome}"
                        f"{' ' + scenario.queue if scenario.queue else ''}, got "
                        f"{result.verdict.answer}"
                        f"{' (' + result.error + ')' if result.error else ''}"
                        + (
                            " -- " + "; ".join(result.verdict.reasons)
                            if result.verdict.reasons
                            else ""
                        )
                    )
    finally:
        engine.dispose()
    return results


def run(settings: PerfSettings, only: str | None = None, verbose: bool = False) -> Section:
    section = Section("scenarios")
    started = time.monotonic()
    scenarios = select(load(), only)
    say(f"scenarios: {len(scenarios)} conversations")
    eval_dir = settings.resolved(settings.eval_dir)
    run_dir = eval_dir / "run" / time.strftime("%Y%m%d-%H%M%S")
    with frontline(run_dir, eval_dir / "state", section) as running:
        results = asyncio.run(play_all(running, scenarios, verbose))
    summarise(results, section)
    section.details["run_dir"] = str(run_dir)
    section.seconds = time.monotonic() - started
    return section


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="scenarios whose id or file name contains this")
    parser.add_argument("--verbose", action="store_true", help="one line per scenario")
    args = parser.parse_args(argv)
    settings = load_perf_settings()
    section = run(settings, args.only, args.verbose)
    path = write_results(settings.resolved(settings.eval_dir), [section], merge=True)
    say(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
