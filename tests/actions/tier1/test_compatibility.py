"""Compatibility answered from the catalogue's matrix, with the article."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.events import FollowupAction, SlotSet

from actions.backends import Outcome
from actions.tier1.compatibility import ActionCompatibility, ValidateCompatibilityForm, phrases
from tests.actions.tier1.conftest import Env
from tests.actions.tier1.helpers import SENDER, form_tracker, run_action, tracker

FORM = "compatibility_form"
CLEARED = [
    SlotSet("compat_product", None),
    SlotSet("compat_platform", None),
    SlotSet("compat_os_version", None),
    SlotSet("flow_failures", 0.0),
]


def article(title: str, article_id: str, passage: str) -> dict[str, str]:
    return {
        "type": "article",
        "title": title,
        "url": f"https://help.brightwave.example/articles/{article_id}",
        "passage": passage,
        "source": "Help center",
        "doc_id": article_id,
    }


async def validate(*args: Any, **kwargs: Any) -> tuple[list[Any], list[Any]]:
    return await run_action(ValidateCompatibilityForm(), form_tracker(FORM, *args, **kwargs))


async def test_a_complete_question_needs_no_more_questions(env: Env) -> None:
    events, messages = await validate(
        "activation", "does the pulse 2 work with android 12?", "compatibility",
        entities={"product": "pulse-2", "platform": "android", "os_version": "12"},
    )  # fmt: skip
    assert events == [
        SlotSet("flow_failures", 0.0),
        SlotSet("flow_category", "compatibility"),
        SlotSet("compat_product", "pulse-2"),
        SlotSet("compat_platform", "android"),
        SlotSet("compat_os_version", "12"),
        SlotSet("requested_slot", None),
    ]
    assert messages == []


async def test_missing_product_and_platform_are_asked_with_buttons(env: Env) -> None:
    events, messages = await validate("activation", "will it work with my phone?", "compatibility")
    assert events[-1] == SlotSet("requested_slot", "compat_product")
    assert [b["title"] for b in messages[0]["buttons"]] == [
        "Pulse 2", "Pulse Lite", "Buds Pro", "Buds 2", "Hub Mini", "Cam 360", "Cam Outdoor",
        "Soundbar S", "Scale One", "The Brightwave app",
    ]  # fmt: skip
    assert messages[0]["text"] == "Which Brightwave product is it about?"
    events, messages = await validate("answer", "the cam outdoor", requested="compat_product")
    assert events == [
        SlotSet("compat_product", "cam-outdoor"),
        SlotSet("flow_failures", 0.0),
        SlotSet("requested_slot", "compat_platform"),
    ]
    assert messages == [
        {
            "text": "What do you want to use the Brightwave Cam Outdoor with? Pick one or type "
            "it (like Android 12).",
            "buttons": [
                {"title": name, "payload": f'/inform{{"platform": "{pid}"}}'}
                for pid, name in [
                    ("android", "Android"), ("ios", "iOS"), ("alexa", "Amazon Alexa"),
                    ("google-home", "Google Home"), ("apple-home", "Apple Home"),
                    ("matter", "Matter"), ("web", "Web browser (brightwave.example)"),
                ]
            ],
        }
    ]  # fmt: skip
    events, messages = await validate(
        "answer", "my iPhone on 17.2", requested="compat_platform",
        slots={"compat_product": "cam-outdoor"},
    )  # fmt: skip
    assert events == [
        SlotSet("compat_platform", "ios"),
        SlotSet("compat_os_version", "17.2"),
        SlotSet("flow_failures", 0.0),
        SlotSet("requested_slot", None),
    ]


async def test_an_unknown_product_is_an_invalid_answer(env: Env) -> None:
    events, messages = await validate("answer", "my toaster", requested="compat_product")
    assert events == [SlotSet("flow_failures", 1.0), SlotSet("requested_slot", "compat_product")]
    assert messages[0] == {"text": "Sorry, I don't know that product. Which one of ours is it?"}


@pytest.mark.parametrize(
    ("product", "platform", "version", "text"),
    [
        ("pulse-2", "android", "12", (
            "Yes, the Brightwave Pulse 2 works with Android 12. Blood-oxygen readings need "
            "Android 11 or later. Replying to messages from the watch is available on Android "
            "only. Phones without Google Play services are not supported."
        )),
        ("pulse-2", "ios", "15", (
            "No: the Brightwave Pulse 2 needs iOS 17 or later, so it won't work with iOS 15. "
            "Needs iOS 17 or later, although the app itself runs on iOS 16. You can read and "
            "dismiss notifications on the watch, but not reply to them."
        )),
        ("hub-mini", "alexa", None, (
            "Yes, the Brightwave Hub Mini works with Amazon Alexa. Enable the Brightwave skill "
            "in the Alexa app. Zigbee lights, plugs and sensors paired to the Hub Mini can be "
            "used in Alexa routines."
        )),
        ("buds-2", "android", None, (
            "Partly: the Brightwave Buds 2 works with Android, with limits. Multipoint "
            "(connected to two devices at once) needs Android 12 or later. On Android 10 and "
            "11, Buds 2 connect to one device at a time."
        )),
        ("cam-outdoor", "apple-home", None, (
            "No: the Brightwave Cam Outdoor doesn't work with Apple Home. Cam Outdoor doesn't "
            "support Apple Home or HomeKit Secure Video. Use the Brightwave app on your iPhone "
            "or iPad instead."
        )),
        ("pulse-2", "alexa", None, (
            "No: the Brightwave Pulse 2 isn't made to work with Amazon Alexa."
        )),
    ],
)  # fmt: skip
async def test_answers_come_from_the_matrix_with_the_article(
    env: Env, product: str, platform: str, version: str | None, text: str
) -> None:
    slots = {"compat_product": product, "compat_platform": platform, "compat_os_version": version}
    events, messages = await run_action(ActionCompatibility(), tracker("", slots=slots))
    assert events == [e for e in CLEARED if e["name"] != "compat_os_version" or version]
    article_id = f"compatibility-{product}"
    name = {"pulse-2": "Pulse 2", "hub-mini": "Hub Mini", "buds-2": "Buds 2",
            "cam-outdoor": "Cam Outdoor"}[product]  # fmt: skip
    assert messages == [
        {
            "text": f"{text}\nhttps://help.brightwave.example/articles/{article_id}",
            "custom": article(f"Brightwave {name}: compatibility", article_id, text),
        }
    ]
    [outcome] = await env.deps.outcomes.list(SENDER)
    assert (outcome.category, outcome.outcome, outcome.detail) == (
        "compatibility",
        Outcome.SELF_SERVICE_ARTICLE,
        article_id,
    )


@pytest.mark.parametrize(
    ("platform", "version", "text"),
    [
        ("android", "12", "Yes, the Brightwave app runs on Android 12 (10 or later is needed)."),
        ("android", "9", (
            "No: the Brightwave app needs Android 10 or later, so it won't run on Android 9."
        )),
        ("ios", None, (
            "The Brightwave app runs on iOS 16 or later. Some devices need more: the "
            "Brightwave Pulse 2 needs iOS 17."
        )),
    ],
)  # fmt: skip
async def test_the_app_needs_the_lowest_version_of_any_device(
    env: Env, platform: str, version: str | None, text: str
) -> None:
    slots = {"compat_product": "app", "compat_platform": platform, "compat_os_version": version}
    _, messages = await run_action(ActionCompatibility(), tracker("", slots=slots))
    assert messages == [
        {
            "text": f"{text}\nhttps://help.brightwave.example/articles/which-phones-work",
            "custom": article(
                "Which phones and tablets work with Brightwave", "which-phones-work", text
            ),
        }
    ]


def test_phrases_are_longest_first() -> None:
    assert phrases("the pulse 2") == ["the pulse 2", "the pulse", "pulse 2", "the", "pulse", "2"]


async def test_a_phone_model_is_a_device_not_an_os_version(env: Env) -> None:
    """Failure class 1 of issue 23: "Buds Pro with an iPhone 8?" was answered
    "won't work with iOS 8". The model sets the platform and the device; its
    number is no OS version."""
    events, _ = await validate(
        "activation", "do the Buds Pro work with an iPhone 8?", "compatibility",
        entities={"product": "buds-pro", "os_version": "8"},
    )  # fmt: skip
    assert events == [
        SlotSet("flow_failures", 0.0),
        SlotSet("flow_category", "compatibility"),
        SlotSet("compat_product", "buds-pro"),
        SlotSet("compat_platform", "ios"),
        SlotSet("compat_device", "iPhone 8"),
        SlotSet("requested_slot", None),
    ]


@pytest.mark.parametrize(
    ("product", "device", "text"),
    [
        ("buds-pro", "iPhone 8", (
            "Yes, the Brightwave Buds Pro works with the iPhone 8 once it's updated to iOS 16 or "
            "later (it can be updated up to iOS 16)."
        )),
        ("pulse-2", "iPhone 8", (
            "No: the Brightwave Pulse 2 needs iOS 17 or later, and the iPhone 8 can only be "
            "updated to iOS 16."
        )),
        ("pulse-2", "iPhone 13", (
            "Yes, the Brightwave Pulse 2 works with the iPhone 13 once it's updated to iOS 17 or "
            "later."
        )),
        ("buds-2", "Samsung Galaxy S9", (
            "Yes, the Brightwave Buds 2 works with limits with the Samsung Galaxy S9 once it's "
            "updated to Android 10 or later (it can be updated up to Android 10)."
        )),
        ("pulse-lite", "Samsung Galaxy S8", (
            "No: the Brightwave Pulse Lite needs Android 10 or later, and the Samsung Galaxy S8 "
            "can only be updated to Android 9."
        )),
    ],
)  # fmt: skip
async def test_a_device_is_answered_by_the_newest_os_it_can_run(
    env: Env, product: str, device: str, text: str
) -> None:
    platform = "ios" if device.startswith("iPhone") else "android"
    slots = {"compat_product": product, "compat_platform": platform, "compat_device": device}
    _, messages = await run_action(ActionCompatibility(), tracker("", slots=slots))
    [shown] = messages
    assert shown["text"].startswith(text)
    assert "iOS 8" not in shown["text"] and "Android 8" not in shown["text"]
    assert shown["custom"]["doc_id"] == f"compatibility-{product}"


async def test_the_app_on_a_phone_that_cannot_update_far_enough(env: Env) -> None:
    slots = {"compat_product": "app", "compat_platform": "ios", "compat_device": "iPhone 7"}
    _, messages = await run_action(ActionCompatibility(), tracker("", slots=slots))
    assert messages[0]["text"].startswith(
        "No: the Brightwave app needs iOS 16 or later, and the iPhone 7 can only be updated to "
        "iOS 15."
    )


async def test_an_explicit_os_version_wins_over_the_model(env: Env) -> None:
    slots = {
        "compat_product": "pulse-2",
        "compat_platform": "ios",
        "compat_device": "iPhone 13",
        "compat_os_version": "16",
    }
    _, messages = await run_action(ActionCompatibility(), tracker("", slots=slots))
    assert messages[0]["text"].startswith(
        "No: the Brightwave Pulse 2 needs iOS 17 or later, so it won't work with iOS 16."
    )


def answered_before(product: str, platform: str, device: str | None = None) -> list[dict[str, Any]]:
    """A compatibility question answered earlier in the conversation."""
    slots = [("compat_product", product), ("compat_platform", platform)]
    if device:
        slots.append(("compat_device", device))
    return [
        {
            "event": "user",
            "text": "will it work?",
            "parse_data": {"intent": {"name": "compatibility"}},
        },
        *({"event": "slot", "name": name, "value": value} for name, value in slots),
        {"event": "action", "name": "action_compatibility"},
        *({"event": "slot", "name": name, "value": None} for name, _ in slots),
        {"event": "action", "name": "action_listen"},
    ]


async def test_a_follow_up_naming_another_product_keeps_the_phone(env: Env) -> None:
    """Failure class 3 of issue 23: "and the pulse lite?" after an answer about
    the Pulse 2 on an iPhone 8 got the Pulse 2 again. The follow-up is the same
    question about the new product, on the same phone."""
    history = answered_before("pulse-2", "ios", "iPhone 8")
    events, messages = await validate("activation", "and the pulse lite?", history=history)
    assert events == [
        SlotSet("flow_failures", 0.0),
        SlotSet("flow_category", "compatibility"),
        SlotSet("compat_product", "pulse-lite"),
        SlotSet("compat_platform", "ios"),
        SlotSet("compat_device", "iPhone 8"),
        SlotSet("requested_slot", None),
    ]
    assert messages == []  # nothing to ask: the answer comes next
    # a newly named system replaces the old phone, the product stays
    events, _ = await validate("activation", "and with android?", history=history)
    assert events[2:-1] == [
        SlotSet("compat_platform", "android"),
        SlotSet("compat_product", "pulse-2"),
    ]


async def test_a_follow_up_of_a_compatibility_answer_starts_the_flow(env: Env) -> None:
    from actions.tier1.fallback import ActionClarify, ActionOutOfScope

    history = answered_before("cam-outdoor", "apple-home")
    for action, intent in ((ActionClarify(), "nlu_fallback"), (ActionOutOfScope(), "out_of_scope")):
        asked = tracker("and the indoor cam?", intent, history=history)
        assert await run_action(action, asked) == ([FollowupAction("compatibility_form")], [])
    # naming nothing of the catalogue, it is a help-center follow-up
    vague = tracker("and what about the other one", "out_of_scope", history=history)
    assert await run_action(ActionOutOfScope(), vague) == (
        [FollowupAction("action_answer_from_kb")],
        [],
    )
