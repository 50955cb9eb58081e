"""Whether a played scenario was answered right, wrong or missed.

A conversation's *answer* is the first of: an article the bot showed, a
resolution a Tier 1 flow recorded, an escalation (ties in one turn go in that
order: the customer reads the article first; but an article a flow links in
the reply that resolves the request is part of that resolution). Judged against the scenario's
``expect`` (format: ``tests.perf.scenarios``):

* **wrong** (the headline figure): a confident wrong answer. An article that
  is not one of ``articles``; a claim of ``never``; an answer (article or
  resolution) and no escalation where a person was needed, or where nothing
  we offer applies (``declined``); an escalation to another queue.
* **missed**: no wrong answer, but not the right one either: nothing shown, a
  person where the bot could have answered, a flow where the article was the
  answer, a resolution that does not state a fact of ``says``.
* **right**: everything else, including an escalation to the right queue
  after an article (the customer reached the right people).

A turn with its own ``expect`` is judged on the reply to that turn alone, with
the same rules for ``articles``, ``says`` and ``never``; the scenario's verdict
is the worst of all its checks (wrong, then missed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tests.perf.scenarios import NOTHING_EXPECTED, Expectation, Scenario

RIGHT, WRONG, MISSED = "right", "wrong", "missed"
VERDICTS = (RIGHT, WRONG, MISSED)
RESOLVED = ("resolved_by_bot", "self_service_article")
MARKUP = re.compile(r"[*_`#>]+")
SPACE = re.compile(r"\s+")


@dataclass
class TurnRecord:
    """One customer message and the bot's reply to it."""

    customer: str
    texts: list[str] = field(default_factory=list)
    articles: list[str] = field(default_factory=list)  # doc ids, in the order shown
    expect: Expectation = NOTHING_EXPECTED
    scripted: bool = True  # False: the harness answered a question of the bot's


@dataclass
class Played:
    """What a conversation did, turn by turn (turn numbers start at 1)."""

    turns: list[TurnRecord] = field(default_factory=list)
    escalation_turn: int | None = None
    escalation_queue: str | None = None
    resolution_turn: int | None = None
    resolution: str | None = None


@dataclass(frozen=True)
class Verdict:
    verdict: str
    reasons: tuple[str, ...] = ()
    answer: str = "nothing"  # what the first answer was: article:<id>, resolved, escalated:<queue>


def normalise(text: str) -> str:
    return SPACE.sub(" ", MARKUP.sub(" ", text)).strip().lower()


def says(text: str, fact: tuple[str, ...]) -> bool:
    """Whether ``text`` states one of the fact's alternatives."""
    return any(normalise(alternative) in text for alternative in fact)


def first_answer(played: Played) -> tuple[int, str, str] | None:
    """(turn, kind, detail) of the first answer: article, resolved or escalated.
    In one turn an article comes first, except beside a flow's resolution
    (``resolved_by_bot``): a link in a flow's reply is part of its answer."""
    found: list[tuple[int, int, str, str]] = []
    for number, turn in enumerate(played.turns, start=1):
        if turn.articles:
            found.append((number, 1, "article", turn.articles[0]))
            break
    if played.resolution_turn is not None:
        rank = 0 if played.resolution == "resolved_by_bot" else 2
        found.append((played.resolution_turn, rank, "resolved", played.resolution or ""))
    if played.escalation_turn is not None:
        found.append((played.escalation_turn, 3, "escalated", played.escalation_queue or ""))
    if not found:
        return None
    number, _, kind, detail = min(found)
    return number, kind, detail


def check_text(expect: Expectation, text: str, where: str) -> tuple[list[str], list[str]]:
    """(wrong reasons, missed reasons) of ``says`` and ``never`` on ``text``."""
    wrong = [f"{where} said {claim!r}" for claim in expect.never if normalise(claim) in text]
    missed = [
        f"{where} did not state {' | '.join(fact)!r}"
        for fact in expect.says
        if not says(text, fact)
    ]
    return wrong, missed


def check_outcome(scenario: Scenario, played: Played) -> tuple[list[str], list[str], str]:
    answer = first_answer(played)
    described = "nothing" if answer is None else f"{answer[1]}:{answer[2]}".rstrip(":")
    expected = scenario.outcome
    wrong: list[str] = []
    missed: list[str] = []
    escalated = played.escalation_turn is not None
    if expected == "escalated":
        if escalated and played.escalation_queue != scenario.queue:
            wrong.append(f"escalated to {played.escalation_queue}, not {scenario.queue}")
        elif not escalated and answer is not None:
            wrong.append(f"answered ({described}) where a person was needed")
        elif not escalated:
            missed.append("no escalation")
        return wrong, missed, described
    if expected == "declined":
        if answer is not None and answer[1] != "escalated":
            wrong.append(f"answered ({described}) a question nothing we offer answers")
        return wrong, missed, described
    if answer is None:
        missed.append("no answer")
    elif answer[1] == "escalated":
        missed.append(f"handed to a person ({answer[2]}) although the bot could answer")
    elif answer[1] == "article":
        if answer[2] not in scenario.expect.articles:
            accepted = ", ".join(scenario.expect.articles) or "none (a flow's answer)"
            wrong.append(f"showed article {answer[2]}; right: {accepted}")
    elif expected == "self_service_article":
        missed.append("a flow's resolution instead of the article")
    return wrong, missed, described


def judge(scenario: Scenario, played: Played) -> Verdict:
    wrong, missed, described = check_outcome(scenario, played)
    everything = normalise(" ".join(text for turn in played.turns for text in turn.texts))
    more_wrong, more_missed = check_text(scenario.expect, everything, "the bot")
    wrong += more_wrong
    if scenario.outcome != "escalated" or played.escalation_turn is None:
        missed += more_missed  # a person was needed: the facts are theirs to give
    scripted = [turn for turn in played.turns if turn.scripted]
    for number, turn in enumerate(scripted, start=1):
        if not turn.expect:
            continue
        where = f"reply to turn {number} ({turn.customer[:40]!r})"
        if turn.expect.articles:
            if not turn.articles:
                missed.append(f"{where}: no article")
            elif turn.articles[0] not in turn.expect.articles:
                wrong.append(f"{where}: article {turn.articles[0]}")
        more_wrong, more_missed = check_text(turn.expect, normalise(" ".join(turn.texts)), where)
        wrong += more_wrong
        missed += more_missed
    missing_turns = [
        t for t in scenario.turns if t.expect and not any(r.expect is t.expect for r in scripted)
    ]
    if missing_turns:
        missed.append(f"{len(missing_turns)} judged turn(s) never sent (the conversation ended)")
    if wrong:
        return Verdict(WRONG, tuple(wrong + missed), described)
    if missed:
        return Verdict(MISSED, tuple(missed), described)
    return Verdict(RIGHT, (), described)


NOT_PLAYED = Verdict(MISSED, ("not played",))
