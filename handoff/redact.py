"""Redaction of conversation text before anything leaves for Slack.

``redact(text, verified=...)`` removes what an agent must never see and masks
personal contact details of customers whose identity was not verified:

* card numbers: 13 to 19 digits, optionally grouped by single spaces or dashes,
  that pass the Luhn check (so order numbers such as BW-104233, prices, dates
  and other long numbers stay; card-like groupings win over other valid spans)
  -> ``[card number removed]``;
* one-time codes and PINs: 4 to 8 digits (also ``123 456``; 3 for CVC/CVV) next
  to words such as code, OTP, PIN, passcode, verification, 2FA (not error, zip or
  discount codes, nor a year after "code"/"verification")
  -> ``[one-time code removed]``;
* anything typed as a password (``password is X``, ``pw: X``, ``my pass X``) or as
  a secret (``api key: X``, ``token = X``) -> ``[password removed]``/``[secret removed]``.
  The value is one word or a quoted phrase (an unquoted passphrase keeps its
  second word); "my password is wrong"-style sentences stay, and after "my
  password X" only an X with a digit, symbol or inner capital counts;
* secrets and tokens by shape: Stripe, Slack, GitHub, AWS, Google and OpenAI
  keys, JWTs, bearer tokens, private-key blocks, and long high-entropy strings
  -> ``[secret removed]``;
* unless ``verified``: e-mail addresses (``j***@example.com``) and phone numbers
  (``+31 6** *** *78``: the first three and last two digits stay).

Redaction is idempotent: markers and masks are not matched again.
Patterns are heuristics for chat text, biased towards removing too much; they
are documented by ``tests/handoff/test_redact.py``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence

from bot.typed_secrets import MASK

__all__ = [
    "CARD_MARKER",
    "CODE_MARKER",
    "PASSWORD_MARKER",
    "SECRET_MARKER",
    "luhn_valid",
    "mask_email",
    "mask_phone",
    "redact",
]

CARD_MARKER = "[card number removed]"
CODE_MARKER = "[one-time code removed]"
PASSWORD_MARKER = MASK  # what the channel replaces a typed password with
SECRET_MARKER = "[secret removed]"
_MARKERS = (CARD_MARKER, CODE_MARKER, PASSWORD_MARKER, SECRET_MARKER)


def redact(text: str, *, verified: bool) -> str:
    """``text`` with secrets removed and, unless ``verified``, contacts masked."""
    for step in _STEPS:
        text = step(text)
    if not verified:
        text = _EMAIL.sub(lambda m: mask_email(m.group(0)), text)
        text = _mask_phones(text)
    return text


def luhn_valid(digits: str) -> bool:
    """Whether the digit string passes the Luhn checksum used by card numbers."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def mask_email(email: str) -> str:
    """``jane.doe@example.com`` -> ``j***@example.com``."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_phone(phone: str) -> str:
    """Masks every digit but the first three (after a ``+`` or ``00`` prefix) and
    the last two, keeping the layout (``+31 612 345 678`` -> ``+31 6** *** *78``)."""
    prefix = "00" if phone.startswith("00") else ""  # international prefix, like "+"
    rest = phone[len(prefix) :]
    count = sum(char.isdigit() for char in rest)
    seen = 0
    out = [prefix]
    for char in rest:
        if char.isdigit():
            seen += 1
            out.append(char if seen <= 3 or seen > count - 2 else "*")
        else:
            out.append(char)
    return "".join(out)


# --- Secrets by shape ---------------------------------------------------------

_SECRET_SHAPES = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)"
    r"|\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{10,}"  # Stripe
    r"|\bwhsec_[A-Za-z0-9]{16,}"  # Stripe webhook secret
    r"|\bxox[abposre]-[A-Za-z0-9-]{10,}"  # Slack tokens
    r"|\bxapp-[A-Za-z0-9-]{10,}"  # Slack app-level token
    r"|\bgh[pousr]_[A-Za-z0-9]{20,}|\bgithub_pat_[A-Za-z0-9_]{20,}"  # GitHub
    r"|\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"  # AWS access key id
    r"|\bAIza[0-9A-Za-z_-]{35}"  # Google API key
    r"|\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}"  # OpenAI / Anthropic style
    r"|\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*",  # JWT
    re.DOTALL,
)
_BEARER = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}", re.IGNORECASE)
# A long run of token characters; judged by _looks_random.
_TOKEN = re.compile(r"(?<![\w+/=-])[A-Za-z0-9_+/=-]{24,}(?![\w+/=-])")
_HEX = re.compile(r"^[0-9a-fA-F]+$")


def _entropy(value: str) -> float:
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def _looks_random(token: str) -> bool:
    """Keys and tokens: mixed case with digits and high entropy, or long hex."""
    if _HEX.match(token):
        return (
            len(token) >= 32 and any(c.isdigit() for c in token) and any(c.isalpha() for c in token)
        )
    has_classes = (
        any(c.isupper() for c in token)
        and any(c.islower() for c in token)
        and any(c.isdigit() for c in token)
    )
    return has_classes and _entropy(token) >= 3.5


def _remove_secret_shapes(text: str) -> str:
    text = _SECRET_SHAPES.sub(SECRET_MARKER, text)
    return _BEARER.sub(lambda m: f"{m.group(1)} {SECRET_MARKER}", text)


def _remove_random_tokens(text: str) -> str:
    return _TOKEN.sub(lambda m: SECRET_MARKER if _looks_random(m.group(0)) else m.group(0), text)


# --- Anything typed as a password or secret -----------------------------------

_VALUE = r"(?P<value>\"[^\"\n]{1,200}\"|'[^'\n]{1,200}'|“[^”\n]{1,200}”|[^\s\"']+)"
# "password: X", "pw = X", "password is X" (any value after ':' or '=').
_LABELLED = re.compile(
    r"(?P<label>\b(?P<kind>password|passwd|passphrase|pwd|pw|pass|wachtwoord|passwort|"
    r"mot de passe|contraseña|api[ _-]?key|secret(?:[ _-]key)?|access[ _-]key|"
    r"client[ _-]secret|token|access[ _-]token|auth[ _-]token)\b)"
    r"(?P<sep>\s*[:=]\s*|\s+(?:is|was|=)\s+(?:now\s+|still\s+)?)" + _VALUE,
    re.IGNORECASE,
)
# "my password X", "my pass X": only when X looks like a password (has a digit,
# a symbol or mixed case) so "my password expired" stays.
_POSSESSIVE = re.compile(
    r"(?P<label>\b(?:my|the|our)\s+(?:new\s+|old\s+)?(?P<kind>password|passwd|pass|pw|pwd)\b)"
    r"(?P<sep>\s+)" + _VALUE,
    re.IGNORECASE,
)
# Words that follow "password is" in ordinary sentences about passwords.
_ORDINARY_WORDS = """
a an the not no wrong incorrect invalid expired correct right ok okay fine same different
too very really still being also definitely working rejected accepted blocked locked reset
changed new old unknown forgotten lost empty required missing case sensitive weak strong
long short valid saved stored correctly there here what mine yours my your it that this
and or but so because which when if for to of in on at with from by
"""
_NOT_A_PASSWORD = frozenset(_ORDINARY_WORDS.split())


def _looks_like_password(value: str) -> bool:
    bare = value.strip("\"'“”.,!?;")
    return bool(bare) and (
        any(c.isdigit() for c in bare)
        or any(not c.isalnum() for c in bare)
        or (any(c.isupper() for c in bare[1:]) and any(c.islower() for c in bare))
    )


def _marker_for(kind: str) -> str:
    kind = kind.casefold()
    secret = any(word in kind for word in ("key", "secret", "token"))
    return SECRET_MARKER if secret else PASSWORD_MARKER


def _remove_typed_passwords(text: str) -> str:
    def labelled(match: re.Match[str]) -> str:
        value = match.group("value")
        if match.string.startswith(_MARKERS, match.start("value")):
            return match.group(0)
        separator = match.group("sep")
        ordinary = value.strip(".,!?;").casefold() in _NOT_A_PASSWORD
        if ordinary and ":" not in separator and "=" not in separator:
            return match.group(0)
        if match.group("kind").casefold() in ("pass", "token") and not _looks_like_password(value):
            return match.group(0)  # "pass: yes", "token is valid"
        return match.group("label") + match.group("sep") + _marker_for(match.group("kind"))

    def possessive(match: re.Match[str]) -> str:
        value = match.group("value")
        if match.string.startswith(_MARKERS, match.start("value")):
            return match.group(0)
        if not _looks_like_password(value):
            return match.group(0)
        return match.group("label") + match.group("sep") + PASSWORD_MARKER

    text = _LABELLED.sub(labelled, text)
    return _POSSESSIVE.sub(possessive, text)


# --- Card numbers ---------------------------------------------------------------

# Digit groups joined by single spaces or dashes, not part of a word or a
# longer number (BW-104233 is preceded by a letter and a dash: not a candidate).
_DIGIT_RUN = re.compile(r"(?<![\w-])\d+(?:[ -]\d+)*(?![\w])")


def _card_like(sizes: Sequence[int]) -> bool:
    """Groupings cards are written in: one block, 4-4-4-4(-3), 4-6-5 or 4-6-4."""
    return (
        len(sizes) == 1
        or all(size == 4 for size in sizes[:-1])
        or tuple(sizes) in ((4, 6, 5), (4, 6, 4))
    )


def _remove_cards(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        run = match.group(0)
        groups = [(m.start(), m.end()) for m in re.finditer(r"\d+", run)]
        candidates = []  # (card-like, digits, -start, start, end) of every valid span
        for start in range(len(groups)):
            digits = ""
            for end in range(start, len(groups)):
                digits += run[groups[end][0] : groups[end][1]]
                if len(digits) > 19:
                    break
                if len(digits) >= 13 and luhn_valid(digits):
                    sizes = [e - s for s, e in groups[start : end + 1]]
                    candidates.append((_card_like(sizes), len(digits), -start, start, end))
        # Card-like spans first, then longer ones, then the leftmost.
        taken: list[tuple[int, int]] = []
        for *_, start, end in sorted(candidates, reverse=True):
            if all(end < s or start > e for s, e in taken):
                taken.append((start, end))
        out, position = [], 0
        for start, end in sorted(taken):
            out.append(run[position : groups[start][0]] + CARD_MARKER)
            position = groups[end][1]
        out.append(run[position:])
        return "".join(out)

    return _DIGIT_RUN.sub(replace, text)


# --- One-time codes and PINs --------------------------------------------------

_CODE_WORDS = (
    r"one[- ]time (?:pass)?code|one[- ]time password|otp|pin(?: code| number)?|passcode|"
    r"verification code|verification|verify code|security code|sms code|login code|"
    r"sign[- ]in code|2fa(?: code)?|two[- ]factor code|auth(?:entication)? code|cvc|cvv|code"
)
# Codes whose number an agent needs (or that are not secret).
_HARMLESS_BEFORE = re.compile(
    r"(?:zip|post|postal|area|country|error|status|discount|promo|promotion|voucher|coupon|"
    r"product|model|tracking|region|dial|qr|bar|exit|http|response|reference|ref)\s*$",
    re.IGNORECASE,
)
_CODE_AFTER_WORD = re.compile(
    r"\b(?P<word>" + _CODE_WORDS + r")\b(?P<gap>[^\d\n\[\]]{0,25}?)"
    r"(?<![\w-])(?P<code>\d{3}[ -]\d{3}|\d{3,8})(?![\w-])",
    re.IGNORECASE,
)
_CODE_BEFORE_WORD = re.compile(
    r"(?<![\w-])(?P<code>\d{3}[ -]\d{3}|\d{4,8})(?![\w-])"
    r"(?P<gap>\s+(?:is|was)\s+(?:my|the|your)\s+(?:\w+\s+)?)"
    r"(?P<word>" + _CODE_WORDS + r")\b",
    re.IGNORECASE,
)


_YEAR = re.compile(r"(?:19|20)\d\d")


def _remove_codes(text: str) -> str:
    def after_word(match: re.Match[str]) -> str:
        if _HARMLESS_BEFORE.search(match.string, 0, match.start()):
            return match.group(0)
        code = match.group("code")
        word = match.group("word").casefold()
        digits = sum(c.isdigit() for c in code)
        if digits < (3 if word in ("cvc", "cvv") else 4):
            return match.group(0)
        if _YEAR.fullmatch(code) and not word.startswith(("pin", "passcode", "cvc", "cvv")):
            return match.group(0)  # "the verification in 2024 failed"
        return match.group(0)[: match.start("code") - match.start()] + CODE_MARKER

    def before_word(match: re.Match[str]) -> str:
        return CODE_MARKER + match.group("gap") + match.group("word")

    text = _CODE_AFTER_WORD.sub(after_word, text)
    return _CODE_BEFORE_WORD.sub(before_word, text)


# --- Contact details ------------------------------------------------------------

_EMAIL = re.compile(r"(?<![\w.%+*@-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
_SEP = r"[ .\-]?"
_PHONE = re.compile(
    # International: +31 6 12345678, 0031 (0)6-1234 5678, +44 20 7946 0958
    r"(?<![\w+])(?:\+|00)\d{1,3}(?:[ .\-]?\(0\))?(?:[ .\-]?\(?\d{1,4}\)?){2,6}(?![\w])"
    # National (leading 0): 06-12345678, 020 123 4567, (020) 123 4567
    r"|(?<![\w(])\(?0\d{1,4}\)?(?:[ .\-]?\d{2,4}){1,4}(?![\w])"
    # North American: (555) 123-4567, 555-123-4567
    r"|(?<![\w(])(?:\(\d{3}\)\s?|\d{3}[.\-])\d{3}[.\-]\d{4}(?![\w])"
)
_PHONE_CONTEXT = re.compile(
    r"\b(?:phone|mobile|cell|tel|telephone|whatsapp|call me (?:on|at)|text me (?:on|at)|"
    r"reach me (?:on|at))\b[^\d\n\[\]]{0,20}?(?P<number>(?<![\w-])\d(?:[ .\-]?\d){7,14})(?![\w-])",
    re.IGNORECASE,
)


_DATE = re.compile(r"\d{1,2}([./-])\d{1,2}\1\d{2,4}|\d{4}([./-])\d{1,2}\2\d{1,2}")


def _is_phone(candidate: str) -> bool:
    digits = sum(c.isdigit() for c in candidate)
    if candidate.startswith(("+", "00")):
        return 8 <= digits - (2 if candidate.startswith("00") else 0) <= 15
    if candidate.lstrip("(").startswith("0"):
        return 9 <= digits <= 12 and not _DATE.search(candidate)
    return digits == 10


def _mask_phones(text: str) -> str:
    text = _PHONE.sub(
        lambda m: mask_phone(m.group(0)) if _is_phone(m.group(0)) else m.group(0), text
    )

    def contextual(match: re.Match[str]) -> str:
        start = match.start("number") - match.start()
        return match.group(0)[:start] + mask_phone(match.group("number"))

    return _PHONE_CONTEXT.sub(contextual, text)


_STEPS: tuple[Callable[[str], str], ...] = (
    _remove_secret_shapes,
    _remove_typed_passwords,
    _remove_cards,
    _remove_codes,
    _remove_random_tokens,
)
