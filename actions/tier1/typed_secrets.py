"""Spotting passwords customers type into the chat (pure functions).

The bot never asks for a password. When a message looks like one, the flows
warn the customer, never echo it, and never copy it into a slot, a log line or
a record. Rasa's tracker store still keeps the raw message: masking it has to
happen before Rasa sees the text (in the channel); see actions/tier1/README.md.
"""

from __future__ import annotations

import re

from actions.backends import normalize_order_number
from actions.tier1.parsing import code_of, find_email

WARNING = (
    "That looks like it could be a password, so I haven't used it. Please never type your "
    "password here: I will never ask for it, and nobody at Brightwave will. If it was your "
    "real password, please change it soon."
)

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
    which when if for to of in on at with from by gone broken""".split()  # noqa: SIM905
)
_URL = re.compile(r"^(?:https?://|www\.)", re.IGNORECASE)
# Ends like a domain name (``emma(at)example.com``): an address, typed oddly.
_DOMAIN_END = re.compile(r"\w\.[a-z]{2,6}$", re.IGNORECASE)
# Starts like an order number (``bw-12345x``): a mistyped one.
_ORDER_START = re.compile(r"^(?:bw|#)[\s#:-]*\d", re.IGNORECASE)
_HARMLESS_SYMBOLS = set(".-_@'\u2019")


def _password_like(value: str) -> bool:
    """Has a digit or symbol besides letters, or mixed case inside the word."""
    bare = value.strip("\"'“”.,!?;()")
    if not bare or bare.lower() in _ORDINARY:
        return False
    has_digit = any(c.isdigit() for c in bare)
    has_symbol = any(not c.isalnum() and c not in _HARMLESS_SYMBOLS for c in bare)
    inner_capital = any(c.isupper() for c in bare[1:]) and any(c.islower() for c in bare)
    return has_digit or has_symbol or inner_capital


def looks_like_password(text: str, *, bare: bool = False) -> bool:
    """Whether ``text`` seems to contain a password.

    Always: a value labelled as a password (``my password is X``, ``pw: X``).
    With ``bare``: also a message that is a single password-like word (letters
    with digits or symbols, 6 to 64 characters) and not an email address,
    order number, one-time code or URL: where the bot asked for one of those,
    a confused customer may type their password instead.

    Button payloads (``/request_code``) are never passwords."""
    if text.startswith("/"):
        return False
    for match in _LABELLED.finditer(text):
        value = match.group("value").strip("\"'“”.,!?;")
        if value and value.lower() not in _ORDINARY:
            return True
    if any(_password_like(m.group("value")) for m in _POSSESSIVE.finditer(text)):
        return True
    if not bare:
        return False
    word = text.strip()
    if not (6 <= len(word) <= 64) or any(c.isspace() for c in word):
        return False
    if find_email(word) or normalize_order_number(word) or code_of(word):
        return False
    if _URL.match(word) or _DOMAIN_END.search(word) or _ORDER_START.match(word):
        return False
    has_letter = any(c.isalpha() for c in word)
    has_other = any(c.isdigit() or (not c.isalnum() and c not in _HARMLESS_SYMBOLS) for c in word)
    return has_letter and has_other
