"""Building the bot's messages (pure functions).

A message is the keyword arguments of ``dispatcher.utter_message``: ``text``,
optional ``buttons`` and ``json_message`` (the widget's ``custom``, see
docs/widget.md)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

Message = dict[str, Any]

HELP_CENTER = "https://help.brightwave.example/articles/"


def message(
    text: str, buttons: list[dict[str, str]] | None = None, custom: dict[str, Any] | None = None
) -> Message:
    out: Message = {"text": text}
    if buttons:
        out["buttons"] = buttons
    if custom:
        out["json_message"] = custom
    return out


def button(title: str, payload: str) -> dict[str, str]:
    return {"title": title, "payload": payload}


YES_NO = [button("Yes", "/affirm"), button("No", "/deny")]


def article_url(article_id: str) -> str:
    return HELP_CENTER + article_id


def day(value: date, today: date) -> str:
    """``Wednesday 11 March`` (with the year when it is not this year), and
    ``today`` / ``tomorrow`` / ``yesterday`` where they apply."""
    text = f"{value:%A} {value.day} {value:%B}"
    if value.year != today.year:
        text += f" {value.year}"
    relative = {0: "today", 1: "tomorrow", -1: "yesterday"}.get((value - today).days)
    return f"{relative}, {text}" if relative else text


def eur(amount: Decimal) -> str:
    return f"{amount:.2f} EUR"


def first_name(name: str | None) -> str:
    parts = (name or "").split()
    return parts[0] if parts else ""
