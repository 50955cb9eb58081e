"""Passwords typed into the chat are recognised (and ordinary sentences about
passwords are not)."""

from __future__ import annotations

import pytest

from actions.tier1.typed_secrets import looks_like_password


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
