"""Redaction of conversation text wherever it leaves the bot for people.

One policy for every outlet: the Slack card, transcript and thread
(``handoff.blocks``), the terminal (``handoff show``, ``handoff queue``, the
followed thread) and JSON printed for agents. ``redact(text, verified=...)``
removes what an agent must never see and masks personal contact details of
customers whose identity was not verified:

* card numbers: 13 to 19 digits that pass the Luhn check, in any grouping
  (spaces, dashes, dots or slashes, doubled or spaced: ``4111 - 1111``), also
  glued to a word (``visa4111...``); a number after ``+`` (a phone) or starting
  with 0 (no payment card does, ISO/IEC 7812: tracking numbers such as DPD's
  01905104322317 do) is no card; card-like groupings win over other valid
  spans; after a card word ("card", "visa", ...) any 13-19 digits go, so a
  mistyped card goes too -> ``[card number removed]``;
* IBANs (ISO 13616) of every country in the IBAN registry, at that country's
  length and passing the mod-97 check, upper or lower case, compact or grouped
  by spaces, dashes or dots; after the word "IBAN" also one with a wrong check
  -> ``[IBAN removed]``;
* one-time codes and PINs:
  - a message or line that is only a 4-8 digit number (``482913``, ``482 913``,
    ``48 29 13``, ``"0042"``), dates excepted: a bare order number (``104233``)
    or postcode goes with it, as the bot asks for ``BW-104233``;
  - 4 to 8 digits (3 for CVC/CVV) after words such as code, OTP, PIN, passcode,
    verification, 2FA (not error, zip or discount codes, nor a year after
    "code"/"verification", nor across an order word), or before "is my code";
  - a 6-digit number anywhere (the length of our codes and most others:
    ``it says 482913``, ``4829 13``), unless the nearest cue before it is an
    order, tracking, build, postcode or similar word (``order 104233``,
    ``#104233``, ``BW 104233``, ``build 104233``), it is a price, date or
    quantity (``104233 steps``) -> ``[one-time code removed]``;
* anything typed as a password (``password is X``, ``pw: X``, ``my pass X``) or as
  a secret (``api key: X``, ``token = X``) -> ``[password removed]``/``[secret removed]``.
  The value is one word or a quoted phrase (an unquoted passphrase keeps its
  second word); "my password is wrong"-style sentences stay, and after "my
  password X" only an X with a digit, symbol or inner capital counts;
* secrets and tokens by shape: Stripe, Slack, GitHub, AWS, Google and OpenAI
  keys, JWTs, bearer tokens, private-key blocks, and long high-entropy strings
  -> ``[secret removed]``;
* unless ``verified``: e-mail addresses (``j***@example.com``) and phone numbers
  (``+31 6** *** *78``: the first three and last two digits stay), international
  (``+``/``00``), national (leading 0, also ``030/1234567``), North American
  (``555 123 4567``) or any 8-15 digits after phone words ("phone", "mobile",
  "my number", ...). A verified customer's own contact details stay visible,
  as their name and e-mail are on the card anyway.

Redaction is idempotent: markers and masks are not matched again.
Patterns are heuristics for chat text, biased towards removing too much; they
are documented by ``tests/core/test_redact.py`` and measured on the labelled
set ``tests/core/pii_cases.yml`` (``tests/core/test_pii_cases.py``).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence

from core.typed_secrets import MASK

__all__ = [
    "CARD_MARKER",
    "CODE_MARKER",
    "IBAN_MARKER",
    "PASSWORD_MARKER",
    "SECRET_MARKER",
    "iban_valid",
    "luhn_valid",
    "mask_email",
    "mask_phone",
    "redact",
]

CARD_MARKER = "[card number removed]"
CODE_MARKER = "[one-time code removed]"
IBAN_MARKER = "[IBAN removed]"
PASSWORD_MARKER = MASK  # what the channel replaces a typed password with
SECRET_MARKER = "[secret removed]"
_MARKERS = (CARD_MARKER, CODE_MARKER, IBAN_MARKER, PASSWORD_MARKER, SECRET_MARKER)


def redact(text: str, *, verified: bool) -> str:
    """``text`` with secrets removed and, unless ``verified``, contacts masked.

    Repeated until nothing changes: a marker can open a word boundary that was
    not there before (``1111password: x``), so one pass may uncover more."""
    for _ in range(_MAX_PASSES):
        redacted = _redact_once(text, verified)
        if redacted == text:
            break
        text = redacted
    return text


_MAX_PASSES = 4


def _redact_once(text: str, verified: bool) -> str:
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


def iban_valid(iban: str) -> bool:
    """Whether ``iban`` (any case, spaces allowed) has its country's length in
    the IBAN registry and passes the ISO 13616 mod-97 check."""
    compact = re.sub(r"[\s.-]", "", iban).upper()
    length = IBAN_LENGTHS.get(compact[:2])
    return (
        length == len(compact)
        and compact[2:4].isdigit()
        and compact.isalnum()
        and compact.isascii()
        and _mod97(compact) == 1
    )


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


# --- IBANs ----------------------------------------------------------------------

# Length of the IBAN of each country in the SWIFT IBAN registry (ISO 13616).
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24,
    "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
    "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
    "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27,
    "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27,
    "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28,
    "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
    "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip
# Where an IBAN may start: two letters not glued to a word, then (after at most
# two separators) the check digits.
_IBAN_START = re.compile(r"(?<![A-Za-z0-9\]])[A-Za-z]{2}(?=[ .\-]{0,2}\d\d)")
_IBAN_SEPARATORS = " .-"
_IBAN_LABEL = re.compile(r"(?<![\[\]])\biban\b[^\n\w]*(?:\w+\W+){0,2}$", re.IGNORECASE)


def _mod97(compact: str) -> int:
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97


def _iban_end(text: str, start: int) -> tuple[str, list[int]]:
    """The letters and digits from ``start`` (at most 34, at most two separators
    between two of them) and the end offset of each."""
    chars: list[str] = []
    ends: list[int] = []
    position = start
    while position < len(text) and len(chars) < 34:
        gap = position
        while gap < len(text) and gap - position < 3 and text[gap] in _IBAN_SEPARATORS:
            gap += 1
        if gap - position > 2 or gap >= len(text) or not text[gap].isalnum():
            break
        if not text[gap].isascii():
            break
        chars.append(text[gap])
        ends.append(gap + 1)
        position = gap + 1
    return "".join(chars).upper(), ends


def _remove_ibans(text: str) -> str:
    out: list[str] = []
    position = 0
    for match in _IBAN_START.finditer(text):
        start = match.start()
        if start < position:
            continue
        compact, ends = _iban_end(text, start)
        length = IBAN_LENGTHS.get(compact[:2])
        if length is None or not compact[2:4].isdigit():
            continue
        labelled = bool(_IBAN_LABEL.search(text, max(0, start - 30), start))
        if len(compact) >= length:
            end = ends[length - 1]
            glued = end < len(text) and text[end].isalnum()
            if not glued and _mod97(compact[:length]) == 1:
                out += [text[position:start], IBAN_MARKER]
                position = end
                continue
        written_as_iban = ends[1] == ends[2] - 1  # "NL91", not "is 06"
        if labelled and written_as_iban and len(compact) >= length - 2:
            # "my IBAN is ..." with a typo: mask it all the same.
            end = ends[min(length, len(compact)) - 1]
            out += [text[position:start], IBAN_MARKER]
            position = end
    out.append(text[position:])
    return "".join(out)


# --- Card numbers ---------------------------------------------------------------

# Digit groups joined by spaces (at most two), or a dash, dot or slash with
# spaces around it, not part of a longer number. A leading "+" is taken in so
# that a phone number is seen whole (and left alone).
_CARD_SEP = r"(?:[ ]{0,2}[-./][ ]{0,2}|[ ]{1,2})"
_DIGIT_RUN = re.compile(r"(?<![\d+])\+?\d+(?:" + _CARD_SEP + r"\d+)*(?![\d@*])")
_CARD_WORDS = re.compile(
    r"(?<![\[\]])\b(?:card|cards|creditcard|debit|visa|mastercard|master card|amex|maestro|"
    r"discover|jcb|diners|kaart|karte|carte|tarjeta|carta)\b[^\n\d]{0,25}$",
    re.IGNORECASE,
)


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
        if run.startswith("+"):
            return run  # a phone number
        groups = [(m.start(), m.end()) for m in re.finditer(r"\d+", run)]
        candidates = []  # (card-like, digits, -start, start, end) of every valid span
        for start in range(len(groups)):
            if run[groups[start][0]] == "0":
                continue  # no card number starts with 0
            digits = ""
            for end in range(start, len(groups)):
                digits += run[groups[end][0] : groups[end][1]]
                if len(digits) > 19:
                    break
                if len(digits) >= 13 and luhn_valid(digits):
                    sizes = [e - s for s, e in groups[start : end + 1]]
                    candidates.append((_card_like(sizes), len(digits), -start, start, end))
        if not candidates:
            total = sum(e - s for s, e in groups)
            labelled = _CARD_WORDS.search(match.string, max(0, match.start() - 40), match.start())
            if labelled and 13 <= total <= 19 and not run.startswith("0"):
                return CARD_MARKER  # a card number with a typo, after "card"
            return run
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
    r"gift|product|model|tracking|region|dial|qr|bar|exit|http|response|reference|ref)\s*$",
    re.IGNORECASE,
)
# A code: 3 to 8 digits, or groups of 2 to 8 digits joined by a space or dash.
_CODE = r"\d{2,8}(?:[ -]\d{2,8}){0,3}"
_CODE_AFTER_WORD = re.compile(
    r"\b(?P<word>" + _CODE_WORDS + r")\b(?P<gap>[^\d\n\[\]]{0,25}?)"
    r"(?<![\w-])(?P<code>" + _CODE + r")(?![\w-])(?![ -]\d)(?![.,:]\d)",
    re.IGNORECASE,
)
_CODE_BEFORE_WORD = re.compile(
    r"(?<![\w-])(?P<code>\d{3}[ -]\d{3}|\d{4,8})(?![\w-])"
    r"(?P<gap>\s+(?:is|was)\s+(?:my|the|your)\s+(?:\w+\s+)?)"
    r"(?P<word>" + _CODE_WORDS + r")\b",
    re.IGNORECASE,
)
# A line that is nothing but a number (and quotes or punctuation).
_QUOTES = "\"'\u201c\u201d\u2018\u2019\u00ab\u00bb"
_LINE_CODE = re.compile(
    r"^[ \t(\[" + _QUOTES + r"]*(?P<code>\d+(?:[ -]\d+)*)[ \t.,:;!?)\]" + _QUOTES + r"]*$",
    re.MULTILINE,
)
# A number in a sentence: digit groups joined by a space or dash, whole.
_NUMBER_IN_TEXT = re.compile(
    r"(?<![\w+\-/*])(?<![\d*][.,: -])(?P<code>\d+(?:[ -]\d+)*)(?![\w@*])(?![ -]\d)(?![.,:/]\d)"
)
# Words after which a number is not a code ("order 104233", "#104233", "build
# 104233") and words after which it is ("it says 482913"); the nearer one wins.
_NOT_A_CODE_CUE = (
    r"orders?|order number|bestell(?:ung|nummer)|bestelling|commande|pedido|ordine|bw|"
    r"tracking|track|parcel|package|shipment|pakket|sendung|dhl|dpd|postnl|ups|"
    r"post ?code|postal code|zip|plz|postleitzahl|invoice|ticket|case|reference|ref|"
    r"build|version|firmware|serial|model|customer|account|item|sku|"
    r"(?:discount|promo|voucher|coupon|gift|error|status|zip|post|postal) ?code"
)
_CODE_CUE = (
    _CODE_WORDS + r"|says?|said|shows?|showed|got|get|received?|sent|typed|type|entered|"
    r"enter|tried|try|it'?s|is it"
)
_CUES = re.compile(
    r"(?P<keep>#|\b(?:" + _NOT_A_CODE_CUE + r")\b)|(?P<code>\b(?:" + _CODE_CUE + r")\b)",
    re.IGNORECASE,
)
_MONEY_BEFORE = re.compile(r"[€$£¥]\s*$|\b(?:eur|usd|gbp|chf)\s*$", re.IGNORECASE)
_UNIT_AFTER = re.compile(
    r"\s*(?:[€$£%]|(?:eur|euros?|usd|dollars?|gbp|pounds?|chf|sek|pln|dkk|steps?|km|kms|"
    r"miles?|mi|m|cm|mm|ft|kg|g|lbs?|mah|px|hz|rpm|w|v|bytes?|kb|mb|gb|tb|ms|s|x|times|"
    r"days?|hours?|minutes?|seconds?|mins?|secs?|people|customers|users|orders|items|"
    r"pieces|pcs|units|points|pts|calories|kcal|views|downloads|followers)\b)",
    re.IGNORECASE,
)
_CODE_LENGTH = 6  # of the codes the bot emails, and of most OTPs
_YEAR = re.compile(r"(?:19|20)\d\d")
_DATE = re.compile(r"\d{1,2}([./-])\d{1,2}\1\d{2,4}|\d{4}([./-])\d{1,2}\2\d{1,2}")
_CUE_WINDOW = 30
_MARKER_TEXT = re.compile(r"\[[^\[\]\n]*\]|^[^\[\]\n]*\]")


def _digits(value: str) -> int:
    return sum(char.isdigit() for char in value)


def _not_a_code_before(text: str, start: int) -> bool:
    """Whether the nearest cue before ``start`` on its line says "not a code"."""
    line_start = text.rfind("\n", 0, start) + 1
    window = text[max(line_start, start - _CUE_WINDOW) : start]
    window = _MARKER_TEXT.sub(" ", window)  # "[one-time code removed]" is no cue
    cues = list(_CUES.finditer(window))
    return bool(cues) and cues[-1].group("keep") is not None


def _remove_codes(text: str) -> str:
    def after_word(match: re.Match[str]) -> str:
        if _HARMLESS_BEFORE.search(match.string, max(0, match.start() - 40), match.start()):
            return match.group(0)
        if _CUES.search(match.group("gap")) and _not_a_code_before(
            match.string, match.start("code")
        ):
            return match.group(0)  # "the code for order 104233"
        code = match.group("code")
        word = match.group("word").casefold()
        digits = _digits(code)
        if not (3 if word in ("cvc", "cvv") else 4) <= digits <= 8:
            return match.group(0)
        if _DATE.fullmatch(code):
            return match.group(0)
        if _YEAR.fullmatch(code) and not word.startswith(("pin", "passcode", "cvc", "cvv")):
            return match.group(0)  # "the verification in 2024 failed"
        return match.group(0)[: match.start("code") - match.start()] + CODE_MARKER

    def before_word(match: re.Match[str]) -> str:
        return CODE_MARKER + match.group("gap") + match.group("word")

    def whole_line(match: re.Match[str]) -> str:
        code = match.group("code")
        if not 4 <= _digits(code) <= 8 or _DATE.fullmatch(code):
            return match.group(0)
        start = match.start("code") - match.start()
        return match.group(0)[:start] + CODE_MARKER + match.group(0)[start + len(code) :]

    def in_text(match: re.Match[str]) -> str:
        number = match.group(0)
        groups = re.split(r"[ -]", number)
        several = len(groups) > 1 and all(len(g) == _CODE_LENGTH for g in groups)
        if _digits(number) != _CODE_LENGTH and not several:
            return number
        text = match.string
        if (
            _DATE.fullmatch(number)
            or _not_a_code_before(text, match.start())
            or _MONEY_BEFORE.search(text, max(0, match.start() - 5), match.start())
            or _UNIT_AFTER.match(text, match.end())
        ):
            return number
        # "482913 482913": each of them.
        return re.sub(r"\d+", CODE_MARKER, number) if several else CODE_MARKER

    text = _CODE_AFTER_WORD.sub(after_word, text)
    text = _CODE_BEFORE_WORD.sub(before_word, text)
    text = _LINE_CODE.sub(whole_line, text)
    return _NUMBER_IN_TEXT.sub(in_text, text)


# --- Contact details ------------------------------------------------------------

_EMAIL = re.compile(r"(?<![\w.%+*@-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
_PHONE = re.compile(
    # International: +31 6 12345678, 0031 (0)6-1234 5678, +44 20 7946 0958
    r"(?<![\w+*])(?:\+|00)\d{1,3}(?:[ .\-]?\(0\))?(?:[ .\-]?\(?\d{1,4}\)?){2,6}(?![\w])"
    # National (leading 0): 06-12345678, 020 123 4567, (020) 123 4567, 030/1234567
    r"|(?<![\w(*])\(?0\d{1,4}\)?(?:[ .\-/]?\d{2,4}){1,4}(?![\w])"
    # North American: (555) 123-4567, 555-123-4567, 555 123 4567
    r"|(?<![\w(*])(?:\(\d{3}\)\s?|\d{3}[. \-])\d{3}[. \-]\d{4}(?![\w])"
)
_PHONE_CONTEXT = re.compile(
    r"\b(?:phone|mobile|cell|tel|telephone|whatsapp|call me (?:on|at)|text me (?:on|at)|"
    r"reach me (?:on|at)|(?:my|phone|mobile|cell|telephone) number|telefoon|telefon|"
    r"handy|nummer)\b[^\d\n\[\]]{0,20}?"
    r"(?P<number>(?<![\w*-])\d(?:[ .\-/]?\d){7,14})(?![\w*-])(?![ .\-/]\d)",
    re.IGNORECASE,
)


def _is_phone(candidate: str) -> bool:
    digits = _digits(candidate)
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
    _remove_ibans,
    _remove_cards,
    _remove_codes,
    _remove_random_tokens,
)
