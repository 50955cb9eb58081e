"""Reading values out of what customers type (pure functions)."""

from __future__ import annotations

import re
import unicodedata

from actions.backends import normalize_order_number
from actions.tier1.turn import Turn

_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"
)
_ORDER_IN_TEXT = re.compile(
    r"(?:\b[Bb][Ww][\s#:\-]*|#\s*|\b(?:order|bestelling|number|no\.?|nr\.?)\s*:?\s*#?\s*|\b)(\d{6})\b",
    re.IGNORECASE,
)
# "my iPhone on 17.2", "running 13": a bare number after on/running, only when
# it can be a system's version (a decimal, or 5 to 30: not "with 2 phones").
_BARE_VERSION = re.compile(
    r"\b(?:on|running|runs|with)\s+(\d{1,2}(?:\.\d{1,2}){0,2})(?![\d.]*\d)(?!\s*(?:phones|devices|times|days|x\b))",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\d")
_CODE = re.compile(r"(?<!\d)(\d{3})[ -]?(\d{3})(?!\d)")
_VERSION = re.compile(r"\b\d{1,2}(?:\.\d{1,2}){0,2}\b")
# A version counts only right after an operating system's name or the word
# "version": the 8 of "iPhone 8" or the 2 of "Pulse 2" is no OS version.
_OS_VERSION = re.compile(
    r"\b(?:android|ios|ipados|ipad\s*os|mac\s*os|macos|os\s*x|windows|version|ver\.?|v)"
    r"\s*(\d{1,2}(?:\.\d{1,2}){0,2})(?![\d.]*\d)",
    re.IGNORECASE,
)
MAX_EMAIL_LENGTH = 254
YES_WORDS = frozenset({"yes", "y", "yep", "yeah", "ja", "ok", "okay", "sure", "confirm"})
NO_WORDS = frozenset({"no", "n", "nope", "nah"})


def find_email(text: str) -> str | None:
    """The first email address in ``text``, lower case; None if there is none."""
    match = _EMAIL.search(text)
    if match is None or len(match.group(0)) > MAX_EMAIL_LENGTH:
        return None
    return match.group(0).strip(".").lower()


def email_of(turn: Turn) -> str | None:
    """An email address the customer gave: NLU's entity, else one in the text."""
    entity = turn.entity("email")
    return find_email(entity) if entity else find_email(turn.text)


_AT = re.compile(r"\bat\b", re.IGNORECASE)


def looks_like_an_email_attempt(text: str) -> bool:
    """Text that was meant as an email address but isn't one (``emma@example``,
    ``emma at example dot com``, ``emma(at)example.com``)."""
    return "@" in text or bool(_AT.search(text))


def order_number_of(turn: Turn) -> str | None:
    """An order number (``BW-104233``) the customer gave, normalised."""
    for value in turn.entities.get("order_number", ()):
        number = normalize_order_number(value)
        if number:
            return number
    match = _ORDER_IN_TEXT.search(turn.text)
    return f"BW-{match.group(1)}" if match else None


def code_of(text: str) -> str | None:
    """A 6-digit one-time code in ``text`` (``123456``, ``123 456``, ``123-456``);
    None if there is none or there are several different ones."""
    found = {a + b for a, b in _CODE.findall(text)}
    return found.pop() if len(found) == 1 else None


def yes_or_no(turn: Turn) -> bool | None:
    """True for a yes, False for a no, None for anything else."""
    if turn.intent == "affirm":
        return True
    if turn.intent == "deny":
        return False
    word = turn.text.strip().strip(".!").lower()
    if word in YES_WORDS:
        return True
    if word in NO_WORDS:
        return False
    return None


def os_version_of(turn: Turn) -> str | None:
    """An OS version the customer named with its system (``Android 12``,
    ``iOS 16.4``, ``version 9``): ``12``, ``16.4``, ``9``. A number elsewhere
    (a phone model, a product name) is not one, even if NLU tagged it: a
    verdict from a misread number is worse than no version. A button's payload
    (``/inform{"os_version": "16"}``) gives it as an entity."""
    entity = turn.entity("os_version")
    if turn.text.startswith("/") and entity and _VERSION.fullmatch(entity.strip()):
        return entity.strip()
    match = _OS_VERSION.search(turn.text)
    if match:
        return match.group(1)
    for bare in _BARE_VERSION.finditer(turn.text):
        version = bare.group(1)
        if "." in version or 5 <= int(version) <= 30:
            return version
    return None


_PERSON = (
    r"(?:(?:a|an|the|some|one\s+of\s+your|your)\s+)?(?:real\s+|actual\s+|live\s+|human\s+)?"
    r"(?:person|human(?:\s+being)?|agent|someone|somebody|representative|rep|operator|"
    r"employee|staff(?:\s+member)?|advisor|adviser|supervisor|manager|colleague|people|"
    r"support(?:\s+team)?|customer\s+(?:service|support|care)(?:\s+team)?)\b"
)
# "I'd like a technician to look at it": a person by their trade.
_BY_TRADE = (
    r"|\b(?:like|want|need)\s+(?:a|an|one\s+of\s+your)\s+(?:real\s+|actual\s+)?"
    r"(?:person|human|technician|engineer|specialist|expert)s?\s+to\s+"
    r"(?:look|check|call|contact|help|sort|fix|repair|examine|inspect|get\s+back)\b"
    r"|\b(?:can|could|would|will)\s+(?:a|an|one\s+of\s+your)\s+"
    r"(?:technician|engineer|specialist|expert)s?\s+(?:please\s+)?"
    r"(?:help|look|call|contact|check|sort|fix|repair|examine|inspect)\b"
)
_ASKS_FOR_PERSON = re.compile(
    r"\b(?:speak|talk|chat|write)\s+(?:to|with)\s+"
    + _PERSON
    + r"|\b(?:connect|transfer|put|pass|forward|hand)\s+me\s+(?:on\s+)?(?:to|with|through\s+to)\s+"
    + _PERSON
    + r"|\b(?:want|need|get|have|like)\s+(?:me\s+)?(?:a|an)\s+(?:real\s+|live\s+)?"
    r"(?:person|human|agent|representative|operator)\b"
    + r"|\b(?:human|real\s+person|live\s+agent|(?:an?\s+)?agent)\s+(?:please|pls|plz|now)\b"
    + r"|\b(?:escalate|forward|pass)\s+(?:this|it|my\s+\w+)\s+to\s+"
    + _PERSON
    + r"|\b(?:can|could|would|will)\s+(?:a|an|some)\s+(?:real\s+|actual\s+|live\s+)?"
    r"(?:person|human|agent|one|body)\s+(?:please\s+)?(?:help|look|call|contact|check|sort)"
    r"|\b(?:someone|somebody|a\s+person|a\s+human)\s+(?:i|we)\s+can\s+(?:talk|speak|chat)\b"
    + _BY_TRADE,
    re.IGNORECASE,
)
_NOT_A_REQUEST = re.compile(
    r"\b(?:do(?:n't| not)|no need to|without|never)\s+(?:\w+\s+){0,2}(?:speak|talk|chat)\b"
    r"|\b(?:spoke|talked|chatted)\s+(?:to|with)\b",
    re.IGNORECASE,
)


def asks_for_person(text: str) -> bool:
    """Whether the customer explicitly asks for a person ("I want to speak with
    an agent about my invoice", "connect me to support"), whatever topic the
    message also names; not "I already talked to an agent" or "I don't want to
    talk to anyone"."""
    return bool(_ASKS_FOR_PERSON.search(text)) and not _NOT_A_REQUEST.search(text)


def has_words(text: str) -> bool:
    """Whether ``text`` has any letter or digit (emoji and punctuation alone don't)."""
    return any(unicodedata.category(ch)[0] in ("L", "N") for ch in text)


def clean_line(text: str, limit: int) -> str | None:
    """One line of free text (an address part): trimmed, single spaces, at most
    ``limit`` characters and with at least one letter or digit; else None."""
    line = " ".join(text.split())
    if not line or len(line) > limit or not has_words(line):
        return None
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in line):
        return None
    return line


def has_digit(text: str) -> bool:
    return bool(_DIGITS.search(text))
