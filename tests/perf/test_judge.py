"""The scenario judge: each kind of wrong and missed answer is seen."""

from __future__ import annotations

import pytest

from tests.perf.judge import MISSED, RIGHT, WRONG, Played, TurnRecord, judge
from tests.perf.scenarios import NOTHING_EXPECTED, Expectation, Scenario, Turn


def scenario(outcome: str, queue: str | None = None, turns: tuple[Turn, ...] = (), **expect):
    return Scenario(
        id="case",
        summary="",
        outcome=outcome,
        turns=turns or (Turn(text="hi"),),
        queue=queue,
        tier=2 if queue else None,
        expect=Expectation(
            articles=tuple(expect.get("articles", ())),
            says=tuple(tuple(f.split("|")) for f in expect.get("says", ())),
            never=tuple(expect.get("never", ())),
        ),
    )


def reply(*texts: str, articles: tuple[str, ...] = (), expect: Expectation = NOTHING_EXPECTED):
    return TurnRecord(customer="...", texts=list(texts), articles=list(articles), expect=expect)


def test_the_right_article_first_is_right() -> None:
    case = scenario("self_service_article", articles=["return-policy", "return-exceptions"])
    played = Played(turns=[reply("You have 30 days.", articles=("return-exceptions",))])
    assert judge(case, played).verdict == RIGHT
    assert judge(case, played).answer == "article:return-exceptions"


def test_any_other_article_is_wrong_even_if_the_right_one_follows() -> None:
    case = scenario("self_service_article", articles=["return-policy"])
    played = Played(
        turns=[
            reply("refunds", articles=("refund-status",)),
            reply("30 days", articles=("return-policy",)),
        ]
    )
    verdict = judge(case, played)
    assert verdict.verdict == WRONG
    assert verdict.reasons == ("showed article refund-status; right: return-policy",)


def test_no_article_or_a_person_is_missed_not_wrong() -> None:
    case = scenario("self_service_article", articles=["return-policy"])
    assert judge(case, Played(turns=[reply("Sorry?")])).verdict == MISSED
    handed = Played(
        turns=[reply("A person will help")], escalation_turn=1, escalation_queue="tier2-general"
    )
    assert judge(case, handed).verdict == MISSED


def test_a_flow_where_the_article_was_the_answer_is_missed() -> None:
    case = scenario("self_service_article", articles=["share-home-access"])
    played = Played(
        turns=[reply("Your account is active")], resolution_turn=1, resolution="resolved_by_bot"
    )
    verdict = judge(case, played)
    assert (verdict.verdict, verdict.reasons) == (
        MISSED,
        ("a flow's resolution instead of the article",),
    )


def test_escalations_right_queue_wrong_queue_answered_and_missed() -> None:
    case = scenario("escalated", queue="tier2-billing")
    right = Played(turns=[reply("ok")], escalation_turn=1, escalation_queue="tier2-billing")
    assert judge(case, right).verdict == RIGHT
    other = Played(turns=[reply("ok")], escalation_turn=1, escalation_queue="tier2-general")
    assert judge(case, other).reasons == ("escalated to tier2-general, not tier2-billing",)
    answered = Played(turns=[reply("see", articles=("double-charge",))])
    assert judge(case, answered).verdict == WRONG
    assert judge(case, Played(turns=[reply("hm")])).verdict == MISSED


def test_an_article_then_the_right_queue_is_right() -> None:
    case = scenario("escalated", queue="tier2-technical")
    played = Played(
        turns=[reply("x", articles=("damaged-on-arrival",)), reply("person")],
        escalation_turn=2,
        escalation_queue="tier2-technical",
    )
    assert judge(case, played).verdict == RIGHT


def test_a_flow_must_state_the_fact_and_never_the_forbidden_claim() -> None:
    case = scenario("resolved_by_bot", says=["DHL", "shipped|on its way"], never=["delivered"])
    ok = Played(
        turns=[reply("Your order is **on its  way** with DHL")],
        resolution_turn=1,
        resolution="resolved_by_bot",
    )
    assert judge(case, ok).verdict == RIGHT
    silent = Played(
        turns=[reply("Your order is on its way")], resolution_turn=1, resolution="resolved_by_bot"
    )
    assert judge(case, silent).verdict == MISSED
    assert judge(case, silent).reasons == ("the bot did not state 'DHL'",)
    claims = Played(
        turns=[reply("DHL: shipped, delivered")], resolution_turn=1, resolution="resolved_by_bot"
    )
    assert judge(case, claims).verdict == WRONG


def test_a_misread_compatibility_verdict_is_wrong() -> None:
    case = scenario("self_service_article", articles=["compatibility-buds-pro"], never=["iOS 8"])
    played = Played(
        turns=[reply("Buds Pro won't work with iOS 8.", articles=("compatibility-buds-pro",))]
    )
    assert judge(case, played).verdict == WRONG


def test_declined_questions_must_not_be_answered() -> None:
    case = scenario("declined")
    assert judge(case, Played(turns=[reply("I can't help with that")])).verdict == RIGHT
    handed = Played(turns=[reply("x")], escalation_turn=1, escalation_queue="tier2-general")
    assert judge(case, handed).verdict == RIGHT
    answered = Played(turns=[reply("x", articles=("pair-device",))])
    assert judge(case, answered).verdict == WRONG
    flowed = Played(turns=[reply("x")], resolution_turn=1, resolution="resolved_by_bot")
    assert judge(case, flowed).verdict == WRONG


@pytest.mark.parametrize(
    ("articles", "texts", "verdict"),
    [
        (("plus-refunds",), ("No fee.",), RIGHT),
        (("cancel-order",), ("No fee.",), WRONG),
        ((), ("That's out of scope",), MISSED),
        (("plus-refunds",), ("A fee of 5 €",), WRONG),
    ],
)
def test_a_follow_up_is_judged_on_its_own_reply(articles, texts, verdict) -> None:
    follow = Expectation(articles=("plus-refunds", "cancel-brightwave-plus"), never=("€",))
    case = scenario(
        "self_service_article",
        turns=(Turn(text="cancel plus?"), Turn(text="is there a fee?", expect=follow)),
        articles=["cancel-brightwave-plus"],
    )
    played = Played(
        turns=[
            reply("How to cancel", articles=("cancel-brightwave-plus",)),
            reply(*texts, articles=articles, expect=follow),
        ]
    )
    assert judge(case, played).verdict == verdict


def test_a_judged_turn_never_sent_is_missed() -> None:
    follow = Expectation(articles=("plus-refunds",))
    case = scenario(
        "self_service_article",
        turns=(Turn(text="cancel plus?"), Turn(text="fee?", expect=follow)),
        articles=["cancel-brightwave-plus"],
    )
    played = Played(turns=[reply("How", articles=("cancel-brightwave-plus",))])
    verdict = judge(case, played)
    assert verdict.verdict == MISSED
    assert verdict.reasons == ("1 judged turn(s) never sent (the conversation ended)",)


def test_answers_the_harness_gave_are_not_judged_as_scripted_turns() -> None:
    follow = Expectation(says=(("DHL",),))
    case = scenario(
        "resolved_by_bot",
        turns=(Turn(text="where is my order"), Turn(text="which carrier?", expect=follow)),
    )
    auto = TurnRecord(customer="emma@example.com", texts=["Thanks"], scripted=False)
    played = Played(
        turns=[reply("Which email?"), auto, reply("It's with DHL", expect=follow)],
        resolution_turn=3,
        resolution="resolved_by_bot",
    )
    assert judge(case, played).verdict == RIGHT


def test_an_article_linked_in_a_flows_resolution_is_part_of_it() -> None:
    case = scenario("resolved_by_bot", says=["returned"])
    played = Played(
        turns=[reply("It was returned to us. What next: link", articles=("returned-to-sender",))],
        resolution_turn=1,
        resolution="resolved_by_bot",
    )
    assert judge(case, played).verdict == RIGHT
    # a compatibility answer records self_service_article with its article: the article counts
    compat = scenario("self_service_article", articles=["compatibility-pulse-2"])
    shown = Played(
        turns=[reply("Yes", articles=("compatibility-pulse-2",))],
        resolution_turn=1,
        resolution="self_service_article",
    )
    assert judge(compat, shown).answer == "article:compatibility-pulse-2"
    # an article in an earlier turn still comes first
    early = Played(
        turns=[reply("x", articles=("late-parcel",)), reply("done")],
        resolution_turn=2,
        resolution="resolved_by_bot",
    )
    assert judge(case, early).verdict == WRONG
