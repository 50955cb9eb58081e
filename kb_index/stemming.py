"""A small English suffix stemmer for keyword search (plural and common verb
endings), so "passwords" finds "password" and "charged" finds "charge"."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    if len(word) <= 3 or not word.isalpha():
        return word
    for suffix, replacement, minimum in RULES:
        if word.endswith(suffix) and len(word) - len(suffix) >= minimum:
            word = word[: len(word) - len(suffix)] + replacement
            break
    # "charge", "charges", "charged" and "charging" all become "charg"
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]
    return word


# (suffix, replacement, shortest stem kept), first match wins.
RULES: tuple[tuple[str, str, int], ...] = (
    ("ies", "y", 2),
    ("sses", "ss", 2),
    ("ss", "ss", 0),
    ("us", "us", 0),
    ("is", "is", 0),
    ("ing", "", 3),
    ("ed", "", 3),
    ("es", "e", 3),
    ("s", "", 3),
)
