"""Spotting and masking passwords customers type into the chat (pure functions).

The bot never asks for a password. A customer may still type one ("my password
is Hunter2!", or their password where the bot asked for an email address or
order number). The channel (``bot.engine.channel``) masks it before Rasa sees the
message, so it is in no tracker event, log line, transcript or record, and
flags the message (``MASKED_METADATA`` in its metadata) so the flows warn the
customer (``actions.tier1.typed_secrets``).

Runs inside the Rasa engine (Python 3.10) and in the action server: standard
library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# What a masked password is replaced with: the marker the handoff service's
# redaction uses too (``core.redact.PASSWORD_MARKER``), so agents see one form.
MASK = "[password removed]"
# Metadata key the channel sets on a message whose password it masked.
MASKED_METADATA = "password_masked"
# Form slots that ask for an identifier, where a confused customer may type
# their password instead (the Tier 1 verification steps).
IDENTIFIER_SLOTS = ("verify_email", "verify_order", "verify_code")

# "password: X", "pw = X", "my password is X", "passwort ist X", "wachtwoord is X"
_LABELLED = re.compile(
    r"\b(?:password|passwd|passphrase|pwd|pw|pass|passcode|passwort|wachtwoord|mot de passe|"
    r"contraseña)\b(?:\s*[:=]\s*|\s+(?:is|was|ist|=)\s+(?:now\s+|still\s+)?)(?P<value>\S+)",
    re.IGNORECASE,
)
# "my password X" (no verb): only when X looks like a password itself.
_POSSESSIVE = re.compile(
    r"\b(?:my|the)\s+(?:new\s+|old\s+)?(?:password|passwd|pass|pw|pwd)\s+(?P<value>\S+)",
    re.IGNORECASE,
)
# Words that follow "password is" in sentences about passwords, not in passwords.
_ORDINARY = frozenset(
    """a an the not no wrong incorrect invalid expired correct right ok okay fine same
    different too very really still being also definitely working rejected accepted blocked
    locked reset changed new old unknown forgotten lost empty required missing weak strong
    long short valid saved stored there here what mine it that this and or but so because
    which when if for to of in on at with from by gone broken [password""".split()  # noqa: SIM905
)
_QUOTES = "\"'“”"
_URL = re.compile(r"^(?:https?://|www\.)", re.IGNORECASE)
# Identifiers the bot asks for, typed alone: an email address (also with a
# long top-level domain), an order number (``BW-104233``, ``bw104233``,
# ``#104233``, ``order104233``, ``bw-12345x`` mistyped), a one-time code.
_EMAIL_WORD = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)
_DOMAIN_END = re.compile(r"\w\.[a-z]{2,6}$", re.IGNORECASE)  # emma(at)example.com
_ORDER_START = re.compile(r"^(?:bw|#|order|no\.?|nr\.?)[\s#:.-]*\d", re.IGNORECASE)
_HARMLESS_SYMBOLS = set(".-_@'\u2019")


@dataclass(frozen=True)
class Masked:
    """A message with its passwords replaced by ``MASK``."""

    text: str
    masked: bool


def _password_like(value: str) -> bool:
    """Has a digit or symbol besides letters, or mixed case inside the word."""
    bare = value.strip(_QUOTES + ".,!?;()")
    if not bare or bare.lower() in _ORDINARY:
        return False
    has_digit = any(c.isdigit() for c in bare)
    has_symbol = any(not c.isalnum() and c not in _HARMLESS_SYMBOLS for c in bare)
    inner_capital = any(c.isupper() for c in bare[1:]) and any(c.islower() for c in bare)
    return has_digit or has_symbol or inner_capital


def _labelled_value(value: str) -> bool:
    stripped = value.strip(_QUOTES + ".,!?;")
    return bool(stripped) and stripped.lower() not in _ORDINARY


def _bare_password(text: str) -> bool:
    word = text.strip()
    if not (6 <= len(word) <= 64) or any(c.isspace() for c in word):
        return False
    if _EMAIL_WORD.match(word) or _URL.match(word) or _DOMAIN_END.search(word):
        return False
    if _ORDER_START.match(word):
        return False
    has_letter = any(c.isalpha() for c in word)
    has_other = any(c.isdigit() or (not c.isalnum() and c not in _HARMLESS_SYMBOLS) for c in word)
    return has_letter and has_other


def looks_like_password(text: str, *, bare: bool = False) -> bool:
    """Whether ``text`` seems to contain a password.

    Always: a value labelled as a password (``my password is X``, ``pw: X``).
    With ``bare``: also a message that is a single password-like word (letters
    with digits or symbols, 6 to 64 characters) and not an email address,
    order number, one-time code or URL: where the bot asked for one of those,
    a confused customer may type their password instead.

    Button payloads (``/request_code``) are never passwords."""
    return mask_passwords(text, bare=bare).masked


def mask_passwords(text: str, *, bare: bool = False) -> Masked:
    """``text`` with every password ``looks_like_password`` finds replaced by
    ``MASK`` (the rest of the message is kept for NLU and the transcript)."""
    if text.startswith("/"):
        return Masked(text, False)
    spans: list[tuple[int, int]] = []
    for match in _LABELLED.finditer(text):
        if _labelled_value(match.group("value")):
            spans.append(match.span("value"))
    for match in _POSSESSIVE.finditer(text):
        if _password_like(match.group("value")):
            spans.append(match.span("value"))
    if not spans and bare and _bare_password(text):
        return Masked(MASK, True)
    if not spans:
        return Masked(text, False)
    masked, end = [], 0
    for start, stop in sorted(set(spans)):
        if start < end:
            continue  # the same value found by both patterns
        masked.append(text[end:start])
        masked.append(MASK)
        end = stop
    masked.append(text[end:])
    return Masked("".join(masked), True)
