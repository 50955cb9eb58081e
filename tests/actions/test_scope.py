"""A question about another company's product is declined with a reason, not
answered with our article that sounds alike (``actions.scope``), with the
demo catalogue's ``other_brands``."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa_sdk.events import SlotSet

from actions.backends import YamlCatalogue
from actions.kb_answer import ActionAnswerFromKB
from actions.scope import not_ours_reply, other_company_product
from tests.actions.backends.conftest import CATALOGUE

# The Tier 1 fixtures: real demo backend and catalogue, application database.
from tests.actions.tier1.conftest import Env, clock, env, tier1_seed  # noqa: F401
from tests.actions.tier1.helpers import run_action, tracker


@pytest.mark.parametrize(
    ("text", "brand"),
    [
        ("where do I see my sleep score on my fitbit charge 6?", "fitbit"),
        ("my Galaxy-Watch won't show notifications", "Galaxy-Watch"),
        ("can I reset my apple watch from the app", "apple watch"),
        # one of ours named too: a question about how they work together
        ("does the pulse 2 sync with garmin connect?", None),
        ("can the Brightwave app import my Withings weight history?", None),
        ("my galaxy buds pro keep disconnecting", None),  # "buds pro" is ours too
        # no other brand: ours, or an app our devices work with
        ("how do I get whatsapp messages on my pulse lite", None),
        ("where do I see my sleep score?", None),
        ("the polaroid photo frame", None),  # whole words only
    ],
)
async def test_another_companys_product_is_recognised_unless_ours_is_named(
    text: str, brand: str | None
) -> None:
    assert await other_company_product(YamlCatalogue(CATALOGUE), text) == brand


async def test_without_other_brands_in_the_catalogue_nothing_is_declined(tmp_path: Path) -> None:
    plain = tmp_path / "catalogue.yml"
    plain.write_text(CATALOGUE.read_text().split("\nother_brands:")[0])
    assert await other_company_product(YamlCatalogue(plain), "my fitbit is broken") is None


async def test_the_help_center_is_not_asked_about_another_companys_product(
    env: Env,  # noqa: F811 (the imported fixture)
) -> None:
    asked = tracker("where do I see my sleep score on my fitbit charge 6?", "app_feature_question")
    assert await run_action(ActionAnswerFromKB(), asked) == (
        [SlotSet("kb_awaiting_feedback", False)],
        [{"text": not_ours_reply("fitbit")}],
    )
