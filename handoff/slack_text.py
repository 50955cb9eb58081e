"""Text crossing between customers and Slack, made safe in both directions.

Towards Slack (customer text): Slack treats ``&``, ``<`` and ``>`` as control
characters in every text object; ``<!channel>``, ``<!here>``, ``<@U123>`` and
``<http://x|y>`` are markup. ``escape`` turns the three characters into the
entities Slack decodes for display, so such text shows literally.

Formatting (``*bold*``, ``_italic_``, ``~strike~``, `` `code` ``) is neutralised
by *where* customer text goes, not by rewriting it: ``handoff.blocks`` puts every
customer-derived string into ``plain_text`` text objects (built by
``plain_text``), which Slack never formats, links or parses for mentions, so the
text shows exactly as typed. ``mrkdwn`` objects carry only text we write
(labels, links we build) and are sent with ``verbatim: true`` so Slack does not
auto-link or parse mentions in them either. Where an untrusted value must sit
inside mrkdwn anyway (an agent's display name in a sentence), ``escape_mrkdwn``
additionally wraps each formatting character in zero-width spaces so it cannot
open or close a style; this alters the text by invisible characters only.

Towards the widget (agent text from Slack): ``to_widget_text`` turns Slack
markup into plain text: links become ``label (https://x)`` (or Markdown links),
user mentions become names through an optional resolver, entities are decoded.
The result is plain text for the widget to render as text (``textContent``),
never as HTML; only http(s) and mailto links survive.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Literal

__all__ = [
    "escape",
    "escape_mrkdwn",
    "mrkdwn",
    "plain_text",
    "to_widget_text",
    "unescape",
]

_ZWSP = "\u200b"
_FORMATTING = re.compile(r"[*_~`]")
_MARKUP = re.compile(r"<([^<>\n]*)>")
_SAFE_SCHEMES = ("http://", "https://", "mailto:")
# Slack's *bold* and _italic_ (at word edges, not starting or ending with a space),
# written as the widget's Markdown: **bold**, *italic*.
_SLACK_BOLD = re.compile(r"(?<![\w*])\*([^\s*](?:[^*\n]*[^\s*])?)\*(?![\w*])")
_SLACK_ITALIC = re.compile(r"(?<![\w_])_([^\s_](?:[^_\n]*[^\s_])?)_(?![\w_])")


def escape(text: str) -> str:
    """``&``, ``<``, ``>`` as the entities Slack decodes for display."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """The inverse of ``escape`` (Slack sends text with these entities)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def escape_mrkdwn(text: str) -> str:
    """``escape`` plus formatting characters fenced by zero-width spaces, for an
    untrusted value that must appear inside a mrkdwn text object."""
    return _FORMATTING.sub(lambda m: f"{_ZWSP}{m.group(0)}{_ZWSP}", escape(text))


def plain_text(text: str, *, emoji: bool = False) -> dict[str, Any]:
    """A ``plain_text`` object showing ``text`` literally (raw text in, escaped here).

    ``emoji=False`` keeps ``:shortcodes:`` as typed; Unicode emoji still show.
    """
    return {"type": "plain_text", "text": escape(text), "emoji": emoji}


def mrkdwn(text: str) -> dict[str, Any]:
    """A ``mrkdwn`` object for text *we* wrote (already escaped where needed);
    ``verbatim`` stops Slack from auto-linking URLs and parsing mentions in it."""
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def to_widget_text(
    agent_text: str,
    *,
    user_name: Callable[[str], str | None] | None = None,
    link_style: Literal["text", "markdown"] = "text",
) -> str:
    """An agent's Slack message as the Markdown text the customer's widget shows.

    ``<https://x|label>`` -> ``label (https://x)`` (``[label](https://x)`` with
    ``link_style="markdown"``); ``<@U123>`` -> the name ``user_name("U123")``
    returns, else ``a colleague``; ``<#C123|name>`` -> ``#name``; ``<!here>`` ->
    ``@here``; dates -> their fallback text; links with other schemes keep only
    their label; ``&amp;``, ``&lt;``, ``&gt;`` are decoded; ``*bold*`` ->
    ``**bold**``, ``_italic_`` -> ``*italic*``.
    """
    out: list[str] = []
    position = 0
    for match in _MARKUP.finditer(agent_text):
        out.append(unescape(agent_text[position : match.start()]))
        out.append(_render(match.group(1), user_name, link_style))
        position = match.end()
    out.append(unescape(agent_text[position:]))
    return _emphasis("".join(out))


def _emphasis(text: str) -> str:
    """Slack's bold and italic as the widget's Markdown shows them."""
    return _SLACK_ITALIC.sub(r"*\1*", _SLACK_BOLD.sub(r"**\1**", text))


def _render(
    inner: str,
    user_name: Callable[[str], str | None] | None,
    link_style: Literal["text", "markdown"],
) -> str:
    target, _, label = inner.partition("|")
    label = unescape(label)
    if target.startswith("@"):
        name = user_name(target[1:]) if user_name is not None else None
        return name or label.lstrip("@") or "a colleague"
    if target.startswith("#"):
        return "#" + (label or "channel")
    if target.startswith("!"):
        command = target[1:].split("^")[0]
        if command in ("here", "channel", "everyone"):
            return "@" + command
        return label  # subteams (label "@team"), dates (fallback text), others
    url = unescape(target)
    if not url.lower().startswith(_SAFE_SCHEMES):
        return label
    shown = url[len("mailto:") :] if url.lower().startswith("mailto:") else url
    if not label or label in (url, shown) or label == re.sub(r"^https?://", "", url):
        return shown
    if link_style == "markdown":
        safe_label = re.sub(r"([\[\]\\])", r"\\\1", label)
        safe_url = url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
        return f"[{safe_label}]({safe_url})"
    return f"{label} ({shown})"
