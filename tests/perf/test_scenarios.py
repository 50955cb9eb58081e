"""The scenario format: the shipped files validate, mistakes are named, and
what a reply shows is read the way the judge needs it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.perf.eval_scenarios import articles_shown, bot_texts
from tests.perf.scenarios import SPLITS, ScenarioError, article_ids, load, parse_scenario
from tests.perf.widget import Reply

TIERS = {"tier2-billing": 2, "tier2-general": 2}
ARTICLES = frozenset({"return-policy", "plus-refunds"})


def parse(raw: dict) -> object:
    return parse_scenario(raw, "test/x.yml", TIERS, ARTICLES, "test")


def test_the_shipped_scenarios_validate_with_a_locked_third() -> None:
    scenarios = load()
    by_split = {split: [s for s in scenarios if s.split == split] for split in SPLITS}
    assert len(scenarios) >= 300
    assert len(by_split["test"]) * 3 >= len(scenarios) - 3
    assert all(s.source.startswith("test/") for s in by_split["test"])
    for s in scenarios:
        if s.outcome == "self_service_article":
            assert s.expect.articles, s.id
        if s.outcome == "escalated":
            assert s.queue, s.id


def test_article_ids_are_the_help_centers_file_names() -> None:
    ids = article_ids()
    assert {"return-policy", "reset-password", "compatibility-buds-pro"} <= ids


def test_a_full_scenario_parses() -> None:
    scenario = parse(
        {
            "id": "a",
            "tags": ["follow-up"],
            "expect": {
                "outcome": "self_service_article",
                "articles": ["return-policy"],
                "never": "x",
            },
            "turns": [
                "hi",
                {"text": "fee?", "expect": {"articles": ["plus-refunds"], "says": ["no|none"]}},
            ],
        }
    )
    assert scenario.expect.articles == ("return-policy",)
    assert scenario.expect.never == ("x",)
    assert scenario.turns[1].expect.says == (("no", "none"),)
    assert scenario.split == "test"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"expect": {"outcome": "self_service_article"}}, "names its expect.articles"),
        (
            {"expect": {"outcome": "self_service_article", "articles": ["nope"]}},
            "not articles of data/kb",
        ),
        ({"expect": {"outcome": "escalated", "queue": "tier9"}}, "not a queue of routing.yml"),
        (
            {"expect": {"outcome": "declined", "articles": ["return-policy"]}},
            "routine outcomes only",
        ),
        ({"expect": {"outcome": "declined", "sayz": ["x"]}}, "unknown keys ['sayz']"),
        ({"expect": {"outcome": "declined"}, "tags": ["tpyo"]}, "unknown tags ['tpyo']"),
        ({"expect": {"outcome": "declined", "says": [""]}}, "non-empty strings"),
    ],
)
def test_mistakes_are_named(raw: dict, message: str) -> None:
    with pytest.raises(ScenarioError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse({"id": "a", "turns": ["hi"], **raw})


def test_a_turns_expect_is_checked_too() -> None:
    with pytest.raises(ScenarioError, match="unknown keys"):
        parse(
            {
                "id": "a",
                "expect": {"outcome": "declined"},
                "turns": [{"text": "x", "expect": {"article": ["return-policy"]}}],
            }
        )


def test_files_outside_a_split_are_refused(tmp_path: Path) -> None:
    (tmp_path / "loose.yml").write_text("scenarios: []\n")
    with pytest.raises(ScenarioError, match=r"loose\.yml"):
        load(tmp_path)


def test_a_reply_shows_article_cards_and_links_not_related_links() -> None:
    reply = Reply(
        messages=[
            {"text": "Sorry, see https://help.brightwave.example/articles/lost-parcel for more"},
            {
                "text": "**Return policy**\n\n30 days.\n\nRead more: x",
                "custom": {
                    "type": "article",
                    "doc_id": "return-policy",
                    "related": [{"doc_id": "refund-status"}],
                },
            },
            {"text": "Did this answer your question?", "buttons": [{"title": "Yes, thanks"}]},
        ],
        ms=1.0,
    )
    assert articles_shown(reply) == ["lost-parcel", "return-policy"]
    assert "Yes, thanks" in bot_texts(reply)
