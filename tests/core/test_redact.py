from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.redact import iban_valid, luhn_valid, mask_email, mask_phone, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Visa test number, grouped and ungrouped, with dashes, inside a sentence.
        (
            "My card is 4111 1111 1111 1111 exp 12/27",
            "My card is [card number removed] exp 12/27",
        ),
        ("card 4111-1111-1111-1111.", "card [card number removed]."),
        ("4111111111111111", "[card number removed]"),
        ("Mastercard 5555555555554444, thanks", "Mastercard [card number removed], thanks"),
        # Amex is 15 digits grouped 4-6-5.
        ("Amex 3782 822463 10005 please", "Amex [card number removed] please"),
        # A number typed right after the card: only the valid span goes.
        ("4111 1111 1111 1111 123", "[card number removed] 123"),
        (
            "cards 4111111111111111 and 5555 5555 5555 4444",
            "cards [card number removed] and [card number removed]",
        ),
        # "100000 4111 1111" passes Luhn too; the card's own grouping wins.
        ("order 100000 4111 1111 1111 1111", "order 100000 [card number removed]"),
    ],
)
def test_card_numbers_that_pass_luhn_are_removed(text: str, expected: str) -> None:
    assert redact(text, verified=False) == expected
    assert redact(text, verified=True) == expected


@pytest.mark.parametrize(
    "text",
    [
        "1234 5678 9012 3456",  # 16 digits, fails Luhn
        "4111 1111 1111 1112",
        "order BW-104233, also #104233, order 104233 and bw104233",
        "It cost €1,299.00 on 2026-08-25 (25/08/2026) and 49 EUR a year",
        "Pulse 2 firmware v3.1.0 on iOS 17.4.1 since 12 May at 14:05",
        "Brightwave Pulse 2, Buds Pro, Cam 360, serial P2K7X94M0Q1R",
        "dates 01-05-2024, 01.05.2024 10:30 and 2026-11-24T04:21:23Z",
        "ip 192.168.1.10, 20% off, +1 for this idea, 3 x 4.99 EUR",
        "session 550e8400-e29b-41d4-a716-446655440000",
        "https://help.brightwave.example/articles/pairing-buds-pro",
        "error code 1234, zip code 90210, discount code 123456, postcode 3011 AB",
        "The code expired at 10:45 and the code on order BW-104233 never came",
        "the verification in 2024 failed, my code from 2023 too",
        "my password is wrong",
        "my password is not working since yesterday",
        "my password expired",
        "password reset didn't work",
        "my password reset link is broken",
        "token is valid",
        "pass: yes",
        "I want to pass this on to my boarding pass",
    ],
)
def test_ordinary_text_stays_untouched(text: str) -> None:
    assert redact(text, verified=False) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my code is 123456", "my code is [one-time code removed]"),
        ("OTP: 482 913", "OTP: [one-time code removed]"),
        ("OTP: 482-913", "OTP: [one-time code removed]"),
        ("verification code 4829", "verification code [one-time code removed]"),
        ("the 2FA code I got was 99812345", "the 2FA code I got was [one-time code removed]"),
        ("482913 is my code", "[one-time code removed] is my code"),
        ("482913 was the verification code", "[one-time code removed] was the verification code"),
        ("PIN 1234", "PIN [one-time code removed]"),
        ("my pin is 2024", "my pin is [one-time code removed]"),
        ("cvv 123", "cvv [one-time code removed]"),
        ("Security code: 0042", "Security code: [one-time code removed]"),
    ],
)
def test_one_time_codes_and_pins_are_removed(text: str, expected: str) -> None:
    assert redact(text, verified=False) == expected
    assert redact(text, verified=True) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("password is hunter2", "password is [password removed]"),
        ("my password is now Summer2024!", "my password is now [password removed]"),
        ("pw: s3cret!", "pw: [password removed]"),
        ("pwd=abc", "pwd=[password removed]"),
        ("Password: correct horse", "Password: [password removed] horse"),
        ('password is "correct horse battery staple"', "password is [password removed]"),
        ("password was 'my dog rex'", "password was [password removed]"),
        ("my pass Tr0ub4dor&3", "my pass [password removed]"),
        ("my password Summer2024! doesn't work", "my password [password removed] doesn't work"),
        ("my new password Welkom01", "my new password [password removed]"),
        ("wachtwoord: Geheim123", "wachtwoord: [password removed]"),
        ("Passwort = Sommer2024", "Passwort = [password removed]"),
        ("api key: abc", "api key: [secret removed]"),
        ("the token = 9f8e7d", "the token = [secret removed]"),
        ("client_secret: hello", "client_secret: [secret removed]"),
    ],
)
def test_anything_typed_as_a_password_or_secret_is_removed(text: str, expected: str) -> None:
    assert redact(text, verified=False) == expected
    assert redact(text, verified=True) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sk_live_51HqLyjWDarjtT1zdp7dcXYZ", "[secret removed]"),
        ("key rk_test_abcdefghij1234 here", "key [secret removed] here"),
        ("xox" + "b-1234567890-abcdefghij", "[secret removed]"),  # split: not a real token
        ("xapp-1-A0123-456-abcdef", "[secret removed]"),
        ("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "[secret removed]"),
        ("github_pat_11ABCDEFG0123456789_abcdefghij", "[secret removed]"),
        ("AKIAIOSFODNN7EXAMPLE is my key id", "[secret removed] is my key id"),
        ("AIzaSyA-1234567890abcdefghijklmnopqrstu", "[secret removed]"),
        ("sk-proj-abcdefghijklmnopqrstuvwx", "[secret removed]"),
        (
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "[secret removed]",
        ),
        ("Authorization: Bearer abcdef123456789", "Authorization: Bearer [secret removed]"),
        ("key 9aF3kL0pQz7Xw2RtY8uVb1NcM4hJ6gDs ok", "key [secret removed] ok"),
        ("hash d41d8cd98f00b204e9800998ecf8427e", "hash [secret removed]"),
        (
            "https://brightwave.example/reset?token=Ab3dEf9hIj2kLm5nOp8qRs1tUv4w",
            "https://brightwave.example/reset?token=[secret removed]",
        ),
        (
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAK\n-----END RSA PRIVATE KEY-----\nthanks",
            "[secret removed]\nthanks",
        ),
    ],
)
def test_secrets_and_tokens_are_removed_by_shape(text: str, expected: str) -> None:
    assert redact(text, verified=False) == expected
    assert redact(text, verified=True) == expected


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("mail me at jane.doe@example.com", "mail me at j***@example.com"),
        ("Jane@Example.org, ok?", "J***@Example.org, ok?"),
        ("call +31 612 345 678", "call +31 6** *** *78"),
        ("or +31 6 12345678.", "or +31 6 ******78."),
        ("+31612345678", "+316******78"),
        ("0031 6 1234 5678", "0031 6 **** **78"),
        ("+44 20 7946 0958", "+44 2* **** **58"),
        ("mobile 06-12345678", "mobile 06-1*****78"),
        ("(020) 123 4567", "(020) *** **67"),
        ("US 555-123-4567", "US 555-***-**67"),
        ("my phone is 612345678", "my phone is 612****78"),
        ("whatsapp: 612 345 678", "whatsapp: 612 *** *78"),
        (
            "jane@example.com or +31 612 345 678, order BW-104233",
            "j***@example.com or +31 6** *** *78, order BW-104233",
        ),
    ],
)
def test_contact_details_are_masked_unless_verified(text: str, masked: str) -> None:
    assert redact(text, verified=False) == masked
    assert redact(text, verified=True) == text


def test_everything_at_once() -> None:
    text = (
        "Hi, I'm jane@example.com (+31 612 345 678). Order BW-104233 was charged twice on "
        "card 4111 1111 1111 1111, my code is 123456 and my password is Hunter2!"
    )
    assert redact(text, verified=False) == (
        "Hi, I'm j***@example.com (+31 6** *** *78). Order BW-104233 was charged twice on "
        "card [card number removed], my code is [one-time code removed] and my password is "
        "[password removed]"
    )
    assert redact(text, verified=True) == (
        "Hi, I'm jane@example.com (+31 612 345 678). Order BW-104233 was charged twice on "
        "card [card number removed], my code is [one-time code removed] and my password is "
        "[password removed]"
    )


@pytest.mark.parametrize(
    "text",
    [
        "jane@example.com +31 612 345 678",
        "card 4111 1111 1111 1111 code 123456",
        "password: hunter2 token=Ab3dEf9hIj2kLm5nOp8qRs1tUv4w",
        "my pass Tr0ub4dor&3 and sk_live_51HqLyjWDarjtT1zdp7dcXYZ",
    ],
)
def test_redaction_is_idempotent(text: str) -> None:
    once = redact(text, verified=False)
    assert redact(once, verified=False) == once
    assert redact(once, verified=True) == once


def test_luhn_checksum() -> None:
    assert [luhn_valid(n) for n in ("4111111111111111", "79927398713", "79927398710")] == [
        True,
        True,
        False,
    ]


def test_iban_check_is_the_registry_length_and_mod_97() -> None:
    assert [
        iban_valid(iban)
        for iban in (
            "NL91 ABNA 0417 1643 00",  # the registry's examples, any case and spacing
            "gb29nwbk60161331926819",
            "DE89-3704-0044-0532-0130-00",
            "NL91 ABNA 0417 1643 01",  # wrong check
            "NL91 ABNA 0417 1643 000",  # too long for NL
            "XX91 ABNA 0417 1643 00",  # no such country
        )
    ] == [True, True, True, False, False, False]


def test_masks_keep_what_identifies_nothing() -> None:
    assert mask_email("jane.doe@example.com") == "j***@example.com"
    assert mask_phone("+31 612 345 678") == "+31 6** *** *78"
    assert mask_phone("0031612345678") == "00316******78"


_PIECES = st.sampled_from(
    [
        *"0123456789 abcXYZ@.-+:=\"'\n",
        *("code ", "password ", "is ", "my ", "pin ", "@example.com", "4111 1111 1111 1111"),
        *("+31 ", "sk_live_", "token", "BW-104233", "49 EUR "),
    ]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(_PIECES, max_size=40).map("".join), st.booleans())
def test_redaction_is_idempotent_on_any_text(text: str, verified: bool) -> None:
    once = redact(text, verified=verified)
    assert redact(once, verified=verified) == once


def _with_check_digit(body: str) -> str:
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


@settings(max_examples=300, deadline=None)
@given(
    # No payment card starts with 0 (ISO/IEC 7812); tracking numbers do.
    st.text("0123456789", min_size=14, max_size=14).flatmap(
        lambda rest: st.sampled_from("123456789").map(lambda first: _with_check_digit(first + rest))
    ),
    st.sampled_from(["", " ", "-"]),
    st.sampled_from(["", "my card ", "paid with "]),
    st.sampled_from(["", " thanks", ", order BW-104233"]),
)
def test_no_card_number_survives(card: str, separator: str, before: str, after: str) -> None:
    grouped = separator.join(card[i : i + 4] for i in range(0, 16, 4))
    assert redact(f"{before}{grouped}{after}", verified=True) == (
        f"{before}[card number removed]{after}"
    )
