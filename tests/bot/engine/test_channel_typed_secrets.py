"""Passwords typed into the chat are recognised and masked before Rasa sees them
(and ordinary sentences about passwords, and identifiers, are left alone)."""

from __future__ import annotations

import pytest

from core.typed_secrets import MASK, Masked, looks_like_password, mask_passwords


@pytest.mark.parametrize(
    "text",
    [
        "my password is Hunter2!",
        "password: banana",
        "pw=letmein",
        "my pw is s3cret",
        "my password Summer2024",
        "Mein Passwort ist Sommer2024",
        "het wachtwoord is geheim123",
        "my password is still qwerty",
    ],
)
def test_labelled_passwords_are_recognised(text: str) -> None:
    assert looks_like_password(text)


@pytest.mark.parametrize(
    "text",
    [
        "I forgot my password",
        "my password is wrong",
        "my password is not working",
        "the password reset link doesn't work",
        "my password expired",
        "I forgot my password and can't log in",
        "reset password for emma.devries@example.com",
        "Hunter2!",
    ],
)
def test_sentences_about_passwords_are_not_passwords(text: str) -> None:
    assert not looks_like_password(text)


@pytest.mark.parametrize("text", ["Hunter2!", "hunter22", "S3cure#pass", "p@ssw0rd"])
def test_a_bare_password_like_word_counts_where_the_bot_expects_an_identifier(text: str) -> None:
    assert looks_like_password(text, bare=True)


@pytest.mark.parametrize(
    "text",
    [
        "emma.devries@example.com",
        "BW-104233",
        "bw104233",
        "123456",
        "https://brightwave.example/x1",
        "hello",
        "emma.devries",
        "two words1",
        "ab1",
        "/request_code",
        '/inform{"order_number": "BW-104233"}',
        "emma(at)example.com",
        "bw-12345x",
        "#10423x",
    ],
)
def test_identifiers_and_words_are_not_bare_passwords(text: str) -> None:
    assert not looks_like_password(text, bare=True)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("my password is Hunter2! please help", f"my password is {MASK} please help"),
        ("pw=letmein", f"pw={MASK}"),
        ("my password Summer2024 and pw: x9y8", f"my password {MASK} and pw: {MASK}"),
        ("Mein Passwort ist Sommer2024.", f"Mein Passwort ist {MASK}"),
    ],
)
def test_only_the_password_is_masked(text: str, masked: str) -> None:
    assert mask_passwords(text) == Masked(masked, True)


def test_a_bare_password_is_masked_whole_only_where_an_identifier_was_asked_for() -> None:
    assert mask_passwords("Hunter2!") == Masked("Hunter2!", False)
    assert mask_passwords("Hunter2!", bare=True) == Masked(MASK, True)


@pytest.mark.parametrize(
    "text", ["I forgot my password", "emma.devries@example.com", "/request_code", "BW-104233"]
)
def test_messages_without_a_password_are_kept_as_typed(text: str) -> None:
    assert mask_passwords(text, bare=True) == Masked(text, False)


@pytest.mark.parametrize("text", [f"my password is {MASK}", MASK, f"pw: {MASK}"])
def test_a_masked_message_is_not_masked_again(text: str) -> None:
    assert mask_passwords(text, bare=True) == Masked(text, False)
