"""Scripted customer conversations (``tests/scenarios/{tune,test}/*.yml``): the
file format, loading and validation against ``handoff/routing.yml`` and the
help center's article ids (``data/kb``).

Two splits, one folder each: ``tune/`` (look at what the bot answers, tune on
it) and ``test/`` (locked: written before anyone looked at the bot's answers;
never tuned on; see docs/benchmarks.md). A file holds ``scenarios:``, a list of::

    - id: order-status-shipped            # unique across all files
      summary: Emma asks where her shipped watch is
      tags: [typo, follow-up]             # optional: failure classes, for per-class figures
      expect:
        outcome: resolved_by_bot          # | self_service_article | escalated | declined
        queue: tier2-technical            # escalated only: a queue of routing.yml
        tier: 2                           # optional; must match the queue's tier
        articles: [track-order]           # the article ids that answer it (any other = wrong)
        says: ["DHL", "shipped|on its way"]  # facts the bot must state (| = alternatives)
        never: ["iOS 8"]                  # what the bot must not claim
      answers:                            # what the customer answers when asked
        email: emma.devries@example.com
        order_number: BW-104233
        verification_code: from_email     # read the code the bot mailed (outbox)
      turns:                              # what the customer says on their own
        - hi, where is my order? it should come tomorrow
        - button: "Yes"                   # click a button of the bot's last message
        - payload: /affirm                # send a payload as the widget does
        - text: and is there a fee?       # a turn with its own expectation, judged
          expect:                         # on the bot's reply to this turn alone
            articles: [cancel-brightwave-plus, plus-refunds]
            says: ["no fee|free"]
            never: ["€"]

Outcomes: ``self_service_article`` (the help center answers it: ``articles``
required), ``resolved_by_bot`` (a Tier 1 flow does it; ``articles`` optional,
``says`` names the fact the reply must state), ``escalated`` (a person must:
``queue`` required) and ``declined`` (nothing we offer answers it: the bot must
say so, not answer; a handoff is acceptable too). Matching of ``says`` and
``never`` ignores case and runs of white space; ``|`` separates alternatives
of which one must (``says``) or none may (``never``) appear.

``turns`` are sent in order; once the conversation is escalated, the rest
are sent only if one of them has its own ``expect`` (what the bot tells a
customer who writes while waiting for a person). Before each one, when the bot has just asked for
something listed in ``answers``, the runner answers it first (at most twice per
key), like a customer would. What the bot asks for is the running form's
``requested_slot``, mapped by its words (first match): ``postal``/``postcode``/
``zip`` -> ``postal_code``, ``code`` -> ``verification_code``, ``email`` ->
``email``, ``city`` -> ``city``, ``address`` -> ``address``, ``order`` ->
``order_number``, ``confirm`` -> ``confirm``; any other slot name is looked up
as is. Without a form, the last bot message: buttons ask to ``confirm`` (the
button whose title is the answer is clicked), words ask for an ``order
number``, a ``code`` or an ``email``. The verdict of each conversation (right,
wrong, missed) is ``tests.perf.judge``'s.
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
KB_DIR = ROOT / "data" / "kb"
SPLITS = ("tune", "test")
ROUTINE_OUTCOMES = ("resolved_by_bot", "self_service_article")
OUTCOMES = (*ROUTINE_OUTCOMES, "escalated", "declined")
FROM_EMAIL = "from_email"
TAGS = (
    "typo",
    "slang",
    "indirect",
    "two-questions",
    "rambling",
    "follow-up",
    "topic-change",
    "person-with-topic",
    "after-rating",
    "phone-model",
    "oos-lookalike",
    "complaint",
    "neighbour-articles",
    "flow-exit",
    "product-question",
    "record-fact",
    "sensitive-topic",
    "queue-wait",
)


class ScenarioError(Exception):
    """A scenario file is invalid; the message names the file and scenario."""


@dataclass(frozen=True)
class Expectation:
    """What counts as right: article ids that answer, facts that must be
    stated (each a tuple of alternatives), claims that must not be made."""

    articles: tuple[str, ...] = ()
    says: tuple[tuple[str, ...], ...] = ()
    never: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.articles or self.says or self.never)


NOTHING_EXPECTED = Expectation()


@dataclass(frozen=True)
class Turn:
    text: str | None = None
    button: str | None = None
    payload: str | None = None
    expect: Expectation = Expectation()


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
    split: str = "tune"
    expect: Expectation = Expectation()
    tags: tuple[str, ...] = ()

    @property
    def routine(self) -> bool:
        return self.outcome in ROUTINE_OUTCOMES


def queue_tiers(routing: Path = ROUTING) -> dict[str, int]:
    document = yaml.safe_load(routing.read_text(encoding="utf-8"))
    return {str(name): int(queue["tier"]) for name, queue in document["queues"].items()}


def article_ids(kb: Path = KB_DIR) -> frozenset[str]:
    """The help center's article ids (a file's name is its id)."""
    return frozenset(path.stem for path in kb.rglob("*.md"))


def strings(raw: Any, where: str, key: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(v, str) and v.strip() for v in raw):
        raise ScenarioError(f"{where}: {key} must be a list of non-empty strings: {raw!r}")
    return tuple(v.strip() for v in raw)


def parse_expectation(raw: dict[str, Any], where: str, articles: frozenset[str]) -> Expectation:
    ids = strings(raw.get("articles"), where, "articles")
    unknown = [doc for doc in ids if doc not in articles]
    if unknown:
        raise ScenarioError(f"{where}: articles {unknown} are not articles of data/kb")
    says = tuple(
        tuple(alt.strip() for alt in fact.split("|") if alt.strip())
        for fact in strings(raw.get("says"), where, "says")
    )
    return Expectation(articles=ids, says=says, never=strings(raw.get("never"), where, "never"))


def parse_turn(raw: Any, where: str, articles: frozenset[str] = frozenset()) -> Turn:
    if isinstance(raw, str) and raw.strip():
        return Turn(text=raw)
    if isinstance(raw, dict):
        kinds = [k for k in ("text", "button", "payload") if k in raw]
        extra = set(raw) - {"text", "button", "payload", "expect"}
        if len(kinds) == 1 and not extra:
            value = raw[kinds[0]]
            expect = raw.get("expect") or {}
            if isinstance(value, str) and value and isinstance(expect, dict):
                unknown = set(expect) - {"articles", "says", "never"}
                if unknown:
                    raise ScenarioError(
                        f"{where}: a turn's expect has unknown keys {sorted(unknown)}"
                    )
                return Turn(**{kinds[0]: value}, expect=parse_expectation(expect, where, articles))
    raise ScenarioError(
        f"{where}: a turn is a string, or one of text/button/payload (and expect): {raw!r}"
    )


def parse_scenario(
    raw: Any,
    source: str,
    tiers: dict[str, int],
    articles: frozenset[str] | None = None,
    split: str = "tune",
) -> Scenario:
    articles = article_ids() if articles is None else articles
    if not isinstance(raw, dict) or not raw.get("id"):
        raise ScenarioError(f"{source}: every scenario needs an id: {raw!r}")
    where = f"{source}: {raw['id']}"
    unknown = set(raw) - {"id", "summary", "expect", "answers", "turns", "tags"}
    if unknown:
        raise ScenarioError(f"{where}: unknown keys {sorted(unknown)}")
    expect = raw.get("expect") or {}
    unknown = set(expect) - {"outcome", "queue", "tier", "articles", "says", "never"}
    if unknown:
        raise ScenarioError(f"{where}: expect has unknown keys {sorted(unknown)}")
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
    expectation = parse_expectation(expect, where, articles)
    if outcome == "self_service_article" and not expectation.articles:
        raise ScenarioError(f"{where}: a self_service_article case names its expect.articles")
    if outcome in ("escalated", "declined") and expectation.articles:
        raise ScenarioError(f"{where}: expect.articles go with routine outcomes only")
    turns = raw.get("turns")
    if not isinstance(turns, list) or not turns:
        raise ScenarioError(f"{where}: turns must be a non-empty list")
    answers = raw.get("answers") or {}
    if not isinstance(answers, dict):
        raise ScenarioError(f"{where}: answers must be a mapping of slot -> text")
    tags = strings(raw.get("tags"), where, "tags")
    unknown_tags = sorted(set(tags) - set(TAGS))
    if unknown_tags:
        raise ScenarioError(f"{where}: unknown tags {unknown_tags}; known: {', '.join(TAGS)}")
    return Scenario(
        id=str(raw["id"]),
        summary=str(raw.get("summary", "")),
        outcome=str(outcome),
        turns=tuple(parse_turn(turn, where, articles) for turn in turns),
        answers={str(k): str(v) for k, v in answers.items()},
        queue=queue,
        tier=tier,
        source=source,
        split=split,
        expect=expectation,
        tags=tags,
    )


def load(
    folder: Path = SCENARIOS_DIR, routing: Path = ROUTING, kb: Path = KB_DIR
) -> list[Scenario]:
    """Every scenario of every ``<split>/*.yml`` in ``folder``, validated."""
    tiers = queue_tiers(routing)
    articles = article_ids(kb)
    stray = sorted(p.name for p in folder.glob("*.yml"))
    if stray:
        raise ScenarioError(f"{folder}: scenario files go in {'/ or '.join(SPLITS)}/: {stray}")
    scenarios: list[Scenario] = []
    for split in SPLITS:
        for path in sorted((folder / split).glob("*.yml")):
            document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            source = f"{split}/{path.name}"
            for raw in document.get("scenarios") or []:
                scenarios.append(parse_scenario(raw, source, tiers, articles, split))
    counts: dict[str, int] = {}
    for scenario in scenarios:
        counts[scenario.id] = counts.get(scenario.id, 0) + 1
    duplicates = sorted(key for key, count in counts.items() if count > 1)
    if duplicates:
        raise ScenarioError(f"duplicate scenario ids: {duplicates}")
    return scenarios


def select(scenarios: Iterable[Scenario], pattern: str | None) -> list[Scenario]:
    if not pattern:
        return list(scenarios)
    return [s for s in scenarios if pattern in s.id or pattern in s.source]


def load_file(path: Path, routing: Path = ROUTING, kb: Path = KB_DIR) -> list[Scenario]:
    """The scenarios of one file, validated (its split is its folder's name)."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    split = path.parent.name if path.parent.name in SPLITS else "tune"
    tiers, articles = queue_tiers(routing), article_ids(kb)
    return [
        parse_scenario(raw, f"{split}/{path.name}", tiers, articles, split)
        for raw in document.get("scenarios") or []
    ]


def main(argv: list[str] | None = None) -> int:
    """Validate the scenario files (all, or those named) and print counts per
    split and tag; no bot needed."""
    import sys
    from collections import Counter

    paths = sys.argv[1:] if argv is None else argv
    try:
        scenarios = [s for path in paths for s in load_file(Path(path))] if paths else load()
    except (ScenarioError, yaml.YAMLError) as error:
        print(f"invalid: {error}", file=sys.stderr)
        return 1
    for split in SPLITS:
        part = [s for s in scenarios if s.split == split]
        if not part:
            continue
        outcomes = Counter(s.outcome for s in part)
        tags = Counter(tag for s in part for tag in s.tags)
        print(f"{split}: {len(part)} scenarios {dict(sorted(outcomes.items()))}")
        print(f"  tags: {dict(sorted(tags.items()))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
