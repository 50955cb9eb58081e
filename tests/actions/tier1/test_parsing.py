"""Reading emails, order numbers, codes, yes/no and versions out of messages."""

from __future__ import annotations

import pytest

from actions.tier1.parsing import (
    asks_for_person,
    clean_line,
    code_of,
    email_of,
    find_email,
    has_words,
    looks_like_an_email_attempt,
    order_number_of,
    os_version_of,
    yes_or_no,
)
from actions.tier1.turn import Turn


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("emma.devries@example.com", "emma.devries@example.com"),
        ("my email is Emma.DeVries@Example.COM.", "emma.devries@example.com"),
        ("it's j_o+shop@mail.example.org, thanks", "j_o+shop@mail.example.org"),
        ("emma@example", None),
        ("emma at example dot com", None),
        ("@example.com", None),
        ("no email here", None),
        ("a" * 250 + "@example.com", None),
    ],
)
def test_emails_are_found_in_text_and_lower_cased(text: str, expected: str | None) -> None:
    assert find_email(text) == expected


def test_the_nlu_email_entity_wins_over_the_text() -> None:
    turn = Turn(text="x a@example.com", entities={"email": ("b@example.org",)})
    assert email_of(turn) == "b@example.org"
    assert email_of(Turn(text="write to A@Example.com")) == "a@example.com"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("emma@example", True),
        ("emma at example dot com", True),
        ("emma(at)example.com", True),
        ("hello there", False),
        ("what is that", False),
    ],
)
def test_a_malformed_email_is_told_apart_from_other_text(text: str, expected: bool) -> None:
    assert looks_like_an_email_attempt(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("BW-104233", "BW-104233"),
        ("bw104233", "BW-104233"),
        ("it's #104233", "BW-104233"),
        ("order 104233 please", "BW-104233"),
        ("order number: 104233", "BW-104233"),
        ("104233", "BW-104233"),
        ("BW-10423", None),
        ("1042334", None),
        ("postcode 1016 GV", None),
        ("", None),
    ],
)
def test_order_numbers_are_normalised(text: str, expected: str | None) -> None:
    assert order_number_of(Turn(text=text)) == expected


def test_an_order_number_entity_is_normalised_too() -> None:
    turn = Turn(text="that one", entities={"order_number": ("bw-104390",)})
    assert order_number_of(turn) == "BW-104390"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("123456", "123456"),
        ("my code is 123 456", "123456"),
        ("123-456", "123456"),
        ("12345", None),
        ("1234567", None),
        ("123456 or 654321?", None),
        ("123456 123456", "123456"),
    ],
)
def test_one_time_codes_are_six_digits(text: str, expected: str | None) -> None:
    assert code_of(text) == expected


@pytest.mark.parametrize(
    ("turn", "expected"),
    [
        (Turn(text="yes please", intent="affirm"), True),
        (Turn(text="nope", intent="deny"), False),
        (Turn(text="Yes.", intent="nlu_fallback"), True),
        (Turn(text="n", intent="inform"), False),
        (Turn(text="maybe", intent="inform"), None),
    ],
)
def test_yes_and_no(turn: Turn, expected: bool | None) -> None:
    assert yes_or_no(turn) is expected


def test_os_versions_come_from_the_entity_or_the_text() -> None:
    payload = '/inform{"os_version": "16.4"}'
    assert os_version_of(Turn(text=payload, entities={"os_version": ("16.4",)})) == "16.4"
    assert os_version_of(Turn(text="I'm on Android 12")) == "12"
    assert os_version_of(Turn(text="does it run on iOS16.4?")) == "16.4"
    assert os_version_of(Turn(text="my phone is on version 9")) == "9"
    assert os_version_of(Turn(text="an iPhone")) is None


@pytest.mark.parametrize(
    "text",
    [
        "Buds Pro with an iPhone 8?",
        "will the pulse 2 work with my android phone",
        "does the buds 2 work on a galaxy s10",
        "iphone 11 and ios",
        "is the cam 360 ok with my pixel 7 on android",
    ],
)
def test_a_model_or_product_number_is_no_os_version(text: str) -> None:
    """Failure class 1 of issue 23: "iPhone 8" was answered as iOS 8; NLU's
    entity for such a number is not trusted either."""
    assert os_version_of(Turn(text=text, entities={"os_version": ("8",)})) is None


def test_emoji_and_symbols_are_not_words() -> None:
    assert [has_words(t) for t in ["😀😀", "?!…", "ok 👍", "123"]] == [False, False, True, True]


def test_free_text_lines_are_trimmed_bounded_and_printable() -> None:
    assert clean_line("  Keizersgracht   12 ", 100) == "Keizersgracht 12"
    assert clean_line("x" * 101, 100) is None
    assert clean_line("👍", 100) is None
    assert clean_line("Main\u200bStreet 1", 100) is None


@pytest.mark.parametrize(
    "text",
    [
        "I want to speak with an agent about my invoice",
        "can i talk to a real person about my refund pls",
        "connect me to customer service, my order BW-104233 is wrong",
        "put me through to someone about the hub",
        "i need a human, the app keeps logging me out",
        "agent please",
        "Can I chat with a live agent about my plus subscription?",
        "please escalate this to your support team",
        "I'd like to talk to somebody about a warranty claim",
        "can a real person help me with a delivery?",
        "is there someone I can talk to about my subscription",
        "I already tried restarting it. I'd like a technician to look at it",
        "could one of your engineers check my hub remotely?",
        "I need a specialist to examine the burnt charger",
    ],
)
def test_an_explicit_request_for_a_person_is_seen_whatever_the_topic(text: str) -> None:
    """Failure class 4 of issue 23: the topic intent won over the request."""
    assert asks_for_person(text)


@pytest.mark.parametrize(
    "text",
    [
        "how do I reset my password",
        "I already spoke to an agent yesterday and nothing happened",
        "I don't want to talk to anyone, just tell me where my order is",
        "can my wife also see the cameras?",
        "does support cover water damage",
        "the agent app shows an error",
        "does a technician need to install the outdoor cam?",
        "is an expert mode available in the app",
    ],
)
def test_other_messages_are_no_request_for_a_person(text: str) -> None:
    assert not asks_for_person(text)
