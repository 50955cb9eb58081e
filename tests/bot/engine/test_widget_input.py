"""What the widget channel accepts from a client, and how it cleans it
(``bot/engine/widget_input.py``; the channel's use of it: test_channel.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.engine.widget_input import (
    MESSAGE_ID_REASON,
    InputRefused,
    check_message_id,
    check_metadata,
    clean_text,
    resume_allowed,
    resume_token,
)


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [
        ("where is my order?", "where is my order?"),
        ("half an emoji \ud83d", "half an emoji \ufffd"),
        ("\udc00 a low half first", "\ufffd a low half first"),
        ("\ud83d\ud83d\ude00", "\ufffd\U0001f600"),  # a lone half, then a pair
        ("\ud83d\ude00", "\U0001f600"),  # a pair kept as two code points joins
        ("a\x00b\x07c\x1bd\x7fe\x85f", "abcdef"),
        (
            "line one\r\nline two\rline three\n\tindented",
            "line one\nline two\nline three\n\tindented",
        ),
        ("cafe\u0301", "caf\u00e9"),  # NFC
        (  # bidi marks around Hebrew are text, kept
            "\u202b\u05e9\u05dc\u05d5\u05dd\u202c \u200f",
            "\u202b\u05e9\u05dc\u05d5\u05dd\u202c \u200f",
        ),
        (  # a zero-width joiner in an emoji and a Devanagari conjunct
            "\U0001f469\u200d\U0001f4bb \u0915\u094d\u0937",
            "\U0001f469\u200d\U0001f4bb \u0915\u094d\u0937",
        ),
        ("\x00\x01", ""),
        ("", ""),
    ],
)
def test_text_is_cleaned_for_nlu_storage_and_logs(text: str, cleaned: str) -> None:
    assert clean_text(text) == cleaned
    cleaned.encode("utf-8")  # whatever comes in, the result can be stored


@pytest.mark.parametrize("message_id", [None, "0f" * 16, "m-1", "x" * 100, "a:b/c?d=e"])
def test_well_formed_message_ids_are_kept(message_id: str | None) -> None:
    assert check_message_id(message_id) == message_id


@pytest.mark.parametrize(
    "message_id", ["", "x" * 101, "x" * 900_000, "has space", "tab\t", "\ud83d", "é", 5, [], {}]
)
def test_malformed_message_ids_are_refused(message_id: Any) -> None:
    with pytest.raises(InputRefused) as refused:
        check_message_id(message_id)
    assert refused.value.reason == MESSAGE_ID_REASON


def test_metadata_is_a_plain_copy() -> None:
    metadata = {"language": "en", "nested": {"list": [1, 2.5, None, True, "ü"]}}
    copied = check_metadata(metadata)
    assert copied == metadata and copied is not metadata
    assert copied["nested"] is not metadata["nested"]
    assert check_metadata(None) == {}


@pytest.mark.parametrize(
    "metadata",
    [
        [1, 2],
        "en",
        7,
        {"big": "x" * 4096},
        {"big": "é" * 2044},  # 2,054 characters, 4,098 bytes of UTF-8
        {"surrogate": "\ud83d"},
        {"\udc00": "key"},
        {"nan": float("nan")},
        {"inf": float("inf")},
        {"object": object()},
        {"set": {1, 2}},
    ],
)
def test_metadata_that_is_not_small_plain_json_is_refused(metadata: Any) -> None:
    with pytest.raises(InputRefused) as refused:
        check_metadata(metadata)
    assert refused.value.reason == "metadata must be a JSON object of at most 4096 bytes"


def test_metadata_at_the_limit_is_accepted() -> None:
    metadata = {"k": "x" * (4096 - len(json.dumps({"k": ""}, separators=(",", ":"))))}
    assert check_metadata(metadata) == metadata


def test_a_resume_token_belongs_to_one_session_under_one_key() -> None:
    session, other = "ab" * 16, "cd" * 16
    token = resume_token(b"key one", session)
    assert len(token) == 43 and token == resume_token(b"key one", session)
    assert resume_allowed(b"key one", session, token)
    assert not resume_allowed(b"key one", other, token)
    assert not resume_allowed(b"key two", session, token)
    flipped = ("B" if token[0] == "A" else "A") + token[1:]
    for wrong in (None, "", token[:-1], token + "A", flipped, 42, "é" * 43):
        assert not resume_allowed(b"key one", session, wrong)
