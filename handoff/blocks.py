"""Block Kit messages of the handoff, as pure functions returning plain dicts.

Every builder returns a ``SlackMessage`` (``text`` for notifications plus
``blocks``) ready for ``chat_postMessage(channel=..., **message)`` or
``chat_update(channel=..., ts=..., **message)``.

Callers pass *raw* text. The builders are the one boundary where conversation
text becomes Slack text, so they redact it (``core.redact``: secrets always;
e-mails and phone numbers unless the customer is verified) and escape it
(``handoff.slack_text``). Customer-derived text only goes into ``plain_text``
objects, which Slack never formats or parses for mentions and links; mrkdwn
carries only our own labels and links. Passing text that was already redacted is
harmless (redaction is idempotent); passing already *escaped* text is not (it
would show ``&amp;``).

Slack's limits are constants here and ``block_problems(message)`` checks a
message against them (tests use it on every builder).
"""

from __future__ import annotations

import bisect
import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any, Literal, TypedDict

from core.redact import redact
from handoff.slack_text import escape, escape_mrkdwn, mrkdwn, plain_text

__all__ = [
    "ACTION_CLAIM",
    "ACTION_ESCALATE",
    "ACTION_RESOLVE",
    "ACTION_RETURN",
    "CardStatus",
    "Customer",
    "SlackMessage",
    "block_problems",
    "category_label",
    "csat_blocks",
    "escalation_card",
    "parse_escalate_value",
    "relay_message",
    "sla_reminder",
    "transcript_messages",
    "transfer_note",
]

Block = dict[str, Any]

ACTION_CLAIM = "handoff_claim"
ACTION_ESCALATE = "handoff_escalate"
ACTION_RESOLVE = "handoff_resolve"
ACTION_RETURN = "handoff_return"

# Slack's limits (Block Kit reference; FACTS.md).
MAX_BLOCKS = 50
SECTION_TEXT_LIMIT = 3000
HEADER_TEXT_LIMIT = 150
FIELD_TEXT_LIMIT = 2000
MAX_FIELDS = 10
CONTEXT_ELEMENTS_LIMIT = 10
BUTTON_TEXT_LIMIT = 75
OPTION_TEXT_LIMIT = 75
OPTION_VALUE_LIMIT = 150
ACTION_VALUE_LIMIT = 2000
CONFIRM_TEXT_LIMIT = 300
# About 13,200 characters across a message's blocks makes Slack answer
# msg_blocks_too_long; we stay under this, measured as compact JSON.
MESSAGE_CHAR_BUDGET = 12_000
NOTIFICATION_TEXT_LIMIT = 300  # our own limit for the `text` fallback
# Our limits for the card's label/value rows: key facts are short, and the card
# must fit MESSAGE_CHAR_BUDGET with a full summary.
MAX_CARD_ROWS = 15
CARD_LABEL_LIMIT = 60
CARD_VALUE_LIMIT = 300

_ELLIPSIS = "…"
_SENDERS = {
    "customer": "the customer",
    "bot": "the bot",
    "agent": "the agent",
    "system": "Frontline",
}
_SPEAKERS = {"customer": "🧑 Customer", "bot": "🤖 Bot", "agent": "🎧 Agent", "system": "ℹ️ Note"}  # noqa: RUF001


class SlackMessage(TypedDict):
    """Keyword arguments for chat.postMessage / chat.update."""

    text: str
    blocks: list[Block]


@dataclass(frozen=True)
class Customer:
    """Who the customer is, as far as the bot knows."""

    verified: bool
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    # Where the customer asked to get the answer (left while the queue was
    # closed): shown unmasked, the customer gave it for exactly this.
    contact_email: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Customer:
        """From the escalation's ``customer`` JSON: ``verified``, ``name``, ``email``,
        ``phone``, ``contact_email``."""
        data = data or {}
        return cls(
            verified=bool(data.get("verified")),
            name=data.get("name") or None,
            email=data.get("email") or None,
            phone=data.get("phone") or None,
            contact_email=data.get("contact_email") or None,
        )


REPLY_BY_EMAIL = "Reply by email"

# "posted" (in Slack, unclaimed) shows like "queued".
State = Literal["queued", "posted", "claimed", "resolved", "transferred", "returned"]


@dataclass(frozen=True)
class CardStatus:
    """Where an escalation stands; ``agent`` is who claimed, resolved, moved or returned it."""

    state: State = "queued"
    agent: str | None = None
    to_tier: int | None = None
    to_team: str | None = None

    def line(self, team: str) -> str:
        by = f" by {self.agent}" if self.agent else ""
        if self.state in ("queued", "posted"):
            return f"🕓 Queued · waiting for {team}"
        if self.state == "claimed":
            return f"🙋 Claimed{by}"
        if self.state == "resolved":
            return f"✅ Resolved{by}"
        if self.state == "returned":
            return f"🤖 Returned to the bot{by}"
        where = f"Tier {self.to_tier}" if self.to_tier else "another queue"
        if self.to_team:
            where += f" · {self.to_team}"
        return f"↪️ Transferred to {where}{by}"


# --- Escalation card --------------------------------------------------------------


def escalation_card(
    *,
    escalation_id: str,
    tier: int,
    priority: str,
    category: str,
    team: str,
    customer: Customer,
    summary: str,
    facts: Sequence[tuple[str, str]] = (),
    priority_reasons: Sequence[str] = (),
    sla_minutes: int | None = None,
    status: CardStatus = CardStatus(),
    tier_teams: Mapping[int, str] | None = None,
) -> SlackMessage:
    """The one message per escalation in its queue's channel.

    Header (priority, tier, category), customer (verified or not; contact
    details masked unless verified; the address the customer left for a reply
    by email, unmasked), the summary, key facts as label/value rows,
    the status line and, while the case is open, the buttons: queued cases offer
    Claim and Escalate; claimed cases Escalate, Resolve and Return to bot; closed
    cases none. Every action carries ``escalation_id`` as its value (the
    escalate menu's options carry ``"<id>:<tier>"``, see ``parse_escalate_value``).
    ``tier_teams`` names the team of each tier in the escalate menu.

    Limits: labels 60 and values 300 characters, at most 15 rows (the rest
    counted in a last "More" row), summary 3,000; the card as a whole stays
    under ``MESSAGE_CHAR_BUDGET``.
    """
    verified = customer.verified
    label = category_label(category)
    rows: list[tuple[str, str]] = [
        ("Customer", _customer_line(customer)),
        ("Queue", f"{team} · Tier {tier}"),
    ]
    if priority_reasons:
        rows.append(("Priority", f"{priority} ({'; '.join(priority_reasons)})"))
    if sla_minutes is not None:
        rows.append(("Claim within", _minutes(sla_minutes)))
    if customer.contact_email:
        rows.insert(1, (REPLY_BY_EMAIL, customer.contact_email))
    standard = len(rows)
    rows.extend(facts)
    if len(rows) > MAX_CARD_ROWS:
        hidden = len(rows) - (MAX_CARD_ROWS - 1)
        rows = [*rows[: MAX_CARD_ROWS - 1], ("More", f"{hidden} more facts not shown")]
    summary_text = redact(summary, verified=verified).strip() or "(no summary)"

    head: list[Block] = [
        {
            "type": "header",
            "text": _plain(f"{priority} · Tier {tier} · {label}", HEADER_TEXT_LIMIT, emoji=True),
        }
    ]
    tail: list[Block] = [
        {"type": "context", "elements": [_plain(status.line(team), SECTION_TEXT_LIMIT)]}
    ]
    elements = _card_actions(escalation_id, tier, status.state, tier_teams or {})
    if elements:
        tail.append(
            {
                "type": "actions",
                "block_id": f"handoff_actions:{escalation_id}"[:255],
                "elements": elements,
            }
        )
    summary_limit = SECTION_TEXT_LIMIT
    while True:
        blocks = [
            *head,
            {"type": "section", "text": _plain(summary_text, summary_limit)},
            *_rows(rows, verified=verified),
            *tail,
        ]
        overflow = _size(blocks) - MESSAGE_CHAR_BUDGET
        if overflow <= 0:
            break
        # Only text full of characters JSON escapes gets here: shorten the
        # summary, then drop facts from the end.
        if summary_limit > 500:
            summary_limit = max(500, summary_limit - overflow)
        elif len(rows) > standard:
            rows = rows[:-1]
        else:
            summary_limit = max(50, summary_limit - overflow)
    text = f"{priority} Tier {tier} escalation: {label} ({team}) · {status.line(team)}"
    return {"text": _fallback(text), "blocks": blocks}


def parse_escalate_value(value: str) -> tuple[str, int]:
    """``"<escalation id>:<tier>"`` from the escalate menu -> ``(id, tier)``."""
    escalation_id, separator, tier = value.rpartition(":")
    if not separator or not escalation_id or not tier.isdigit():
        raise ValueError(f"not an escalate option value: {value!r}")
    return escalation_id, int(tier)


def category_label(category: str) -> str:
    """``double_charge`` -> ``Double charge``."""
    words = category.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:] if words else "Uncategorised"


def _customer_line(customer: Customer) -> str:
    parts = [
        "✅ Verified" if customer.verified else "⚠️ Not verified",
        *(value for value in (customer.name, customer.email, customer.phone) if value),
    ]
    return " · ".join(parts)


def _minutes(minutes: int) -> str:
    if minutes < 60 or minutes % 60:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 24 or hours % 24 else f"{hours // 24} d"


def _rows(rows: Sequence[tuple[str, str]], *, verified: bool) -> list[Block]:
    """Label/value rows as sections of two-column fields (5 rows per section)."""
    fields: list[Block] = []
    for label, value in rows:
        fields.append(mrkdwn(f"*{escape_mrkdwn(_truncate(label, CARD_LABEL_LIMIT))}*"))
        # The reply address is the customer's wish: not masked like other contact details.
        shown = value if label == REPLY_BY_EMAIL else redact(value, verified=verified)
        fields.append(_plain(shown.strip() or "-", CARD_VALUE_LIMIT))
    return [
        {"type": "section", "fields": fields[start : start + MAX_FIELDS]}
        for start in range(0, len(fields), MAX_FIELDS)
    ]


def _confirm(title: str, text: str, confirm: str) -> Block:
    return {
        "title": plain_text(title),
        "text": plain_text(text),
        "confirm": plain_text(confirm),
        "deny": plain_text("Cancel"),
    }


def _button(text: str, action_id: str, value: str, style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "action_id": action_id,
        "text": plain_text(text, emoji=True),
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def _card_actions(
    escalation_id: str, tier: int, state: State, tier_teams: Mapping[int, str]
) -> list[Block]:
    if state not in ("queued", "posted", "claimed"):
        return []
    escalate: Block = {
        "type": "static_select",
        "action_id": ACTION_ESCALATE,
        "placeholder": plain_text("Escalate to tier…"),
        "options": [
            {
                "text": _plain(
                    f"Tier {other}" + (f" · {tier_teams[other]}" if other in tier_teams else ""),
                    OPTION_TEXT_LIMIT,
                ),
                "value": f"{escalation_id}:{other}",
            }
            for other in (2, 3, 4)
            if other != tier
        ],
    }
    if state != "claimed":
        return [_button("Claim", ACTION_CLAIM, escalation_id, "primary"), escalate]
    resolve = _button("Resolve", ACTION_RESOLVE, escalation_id, "primary")
    resolve["confirm"] = _confirm(
        "Resolve this case?",
        "The bot takes over again, thanks the customer and asks for a rating.",
        "Resolve",
    )
    back = _button("Return to bot", ACTION_RETURN, escalation_id)
    back["confirm"] = _confirm(
        "Return to the bot?",
        "The bot continues the conversation with what happened so far. The case stays open "
        "in the records as returned.",
        "Return to bot",
    )
    return [escalate, resolve, back]


# --- Transcript ---------------------------------------------------------------------


def transcript_messages(
    transcript: Sequence[Mapping[str, Any]],
    *,
    verified: bool = False,
    tz: tzinfo = UTC,
) -> list[SlackMessage]:
    """The full transcript as thread replies, as many messages as Slack's limits need.

    ``transcript``: ``{"from": "customer" | "bot" | "agent" | "system", "text": str,
    "ts": float (epoch seconds) | ISO string | datetime, "name": agent name
    (optional)}``. Each entry becomes a speaker line and its text in
    ``plain_text`` sections of at most 3,000 characters (long texts split at
    whitespace where possible); entries split across messages repeat their
    speaker line marked "(continued)". Each message starts with "Transcript ·
    part i of n", has at most 50 blocks and stays under ``MESSAGE_CHAR_BUDGET``.
    Text is redacted here; ``verified`` keeps the customer's e-mail and phone.
    """
    units: list[tuple[Block, list[Block]]] = []
    previous_day = None
    for entry in transcript:
        moment = _moment(entry.get("ts"), tz)
        day = moment.date() if moment else None
        units.append(_entry_blocks(entry, moment, verified, full_date=day != previous_day))
        previous_day = day if moment else previous_day

    zone = _zone_name(tz)
    pages: list[list[Block]] = []
    page: list[Block] = []
    reserve = _size(_part_header(999, 999, zone)) + 1  # the "part i of n" line, added later

    def fits(blocks: list[Block]) -> bool:
        return (
            len(page) + len(blocks) <= MAX_BLOCKS - 1
            and _size(page + blocks) + reserve <= MESSAGE_CHAR_BUDGET
        )

    for speaker_line, sections in units:
        first = True
        for section in sections:
            head = speaker_line if first else _continued(speaker_line)
            if first and fits([head, section]):
                page.extend([head, section])
            elif not first and fits([section]):
                page.append(section)
            else:
                if page:
                    pages.append(page)
                page = [head, section]
            first = False
    if page or not pages:
        pages.append(page)

    count = len(pages)
    return [
        {
            "text": f"Transcript, part {number} of {count}",
            "blocks": [_part_header(number, count, zone), *blocks],
        }
        for number, blocks in enumerate(pages, start=1)
    ]


def relay_message(
    entry: Mapping[str, Any], *, verified: bool = False, tz: tzinfo = UTC
) -> SlackMessage:
    """One live message for the case's thread (a customer message relayed while an
    agent works the case), rendered like a transcript entry."""
    moment = _moment(entry.get("ts"), tz)
    speaker_line, sections = _entry_blocks(entry, moment, verified, full_date=False)
    who = _SENDERS[str(entry["from"])]
    return {"text": f"New message from {who}", "blocks": [speaker_line, *sections]}


def _entry_blocks(
    entry: Mapping[str, Any], moment: datetime | None, verified: bool, *, full_date: bool
) -> tuple[Block, list[Block]]:
    speaker = entry.get("from")
    if speaker not in _SPEAKERS:
        raise ValueError(f"transcript entry from {speaker!r}; expected one of {sorted(_SPEAKERS)}")
    who = _SPEAKERS[speaker]
    if speaker == "agent" and entry.get("name"):
        who = f"🎧 {entry['name']} (agent)"
    line = who
    if moment is not None:
        line += " · " + moment.strftime("%Y-%m-%d %H:%M:%S" if full_date else "%H:%M:%S")
    text = redact(str(entry.get("text") or ""), verified=verified)
    chunks = _split(text.strip() or "(no text)", SECTION_TEXT_LIMIT)
    return (
        {"type": "context", "elements": [_plain(line, SECTION_TEXT_LIMIT, emoji=True)]},
        [{"type": "section", "text": plain_text(chunk)} for chunk in chunks],
    )


def _part_header(number: int, count: int, zone: str) -> Block:
    return {
        "type": "context",
        "elements": [mrkdwn(f"*Transcript* · part {number} of {count} · times in {escape(zone)}")],
    }


def _continued(speaker_line: Block) -> Block:
    element = speaker_line["elements"][0]
    return {"type": "context", "elements": [{**element, "text": element["text"] + " (continued)"}]}


def _zone_name(tz: tzinfo) -> str:
    return str(getattr(tz, "key", None) or tz.tzname(None) or "UTC")


def _moment(value: Any, tz: tzinfo) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    elif isinstance(value, int | float):
        moment = datetime.fromtimestamp(value, UTC)
    else:
        moment = datetime.fromisoformat(str(value))
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(tz)


def _cost(char: str) -> int:
    return 5 if char == "&" else 4 if char in "<>" else 1


def _split(text: str, limit: int) -> list[str]:
    """``text`` in pieces whose *escaped* length is at most ``limit``, cut after
    whitespace where one lies in the second half of a piece."""
    cumulative = list(itertools.accumulate((_cost(c) for c in text), initial=0))
    pieces = []
    start = 0
    while start < len(text):
        end = bisect.bisect_right(cumulative, cumulative[start] + limit) - 1
        if end < len(text):
            window = text[start:end]
            cut = max(window.rfind("\n"), window.rfind(" "))
            if cut >= len(window) // 2:
                end = start + cut + 1
        pieces.append(text[start:end])
        start = end
    return pieces


# --- CSAT, SLA, transfer ------------------------------------------------------------


def csat_blocks(score: int, comment: str | None = None, *, verified: bool = False) -> SlackMessage:
    """The customer's rating (1-5) and optional comment, for the case's thread."""
    if not 1 <= score <= 5:
        raise ValueError(f"score must be 1 to 5, not {score!r}")
    stars = "★" * score + "☆" * (5 - score)
    blocks: list[Block] = [
        {"type": "section", "text": mrkdwn(f"*Customer rating:* {stars} {score}/5")}
    ]
    if comment and comment.strip():
        blocks.append(
            {
                "type": "section",
                "text": _plain(redact(comment.strip(), verified=verified), SECTION_TEXT_LIMIT),
            }
        )
    else:
        blocks.append({"type": "context", "elements": [plain_text("No comment.")]})
    return {"text": f"Customer rating: {score}/5", "blocks": blocks}


def sla_reminder(
    *,
    priority: str,
    category: str,
    team: str,
    waited_minutes: int,
    sla_minutes: int,
    permalink: str | None = None,
    lead: bool = False,
) -> SlackMessage:
    """Reminder that a case is unclaimed past its SLA: in the queue's channel, or,
    with ``lead=True``, the post to the lead channel."""
    case = f"{priority} · {category_label(category)}"
    waited = f"unclaimed for {_minutes(waited_minutes)} (SLA {_minutes(sla_minutes)})"
    if lead:
        headline = f"🚨 *Needs a lead:* {escape_mrkdwn(case)} in {escape_mrkdwn(team)} is {waited}"
    else:
        headline = f"⏰ *Still unclaimed:* {escape_mrkdwn(case)} is {waited}"
    blocks: list[Block] = [{"type": "section", "text": mrkdwn(headline)}]
    if permalink:
        blocks.append({"type": "context", "elements": [mrkdwn(_link(permalink, "Open the case"))]})
    plain = f"{'Needs a lead' if lead else 'Still unclaimed'}: {case} ({team}) {waited}"
    return {"text": _fallback(plain), "blocks": blocks}


def transfer_note(
    *,
    from_tier: int,
    from_team: str,
    to_tier: int,
    to_team: str,
    summary: str,
    tried: Sequence[str] = (),
    agent: str | None = None,
    reason: str | None = None,
    previous_permalink: str | None = None,
    verified: bool = False,
) -> SlackMessage:
    """What the new tier needs when a case moves: who moved it and why, the
    summary, what was already tried and a link to the earlier thread."""
    by = f" by {escape_mrkdwn(agent)}" if agent else ""
    blocks: list[Block] = [
        {
            "type": "section",
            "text": mrkdwn(
                f"↪️ *Transferred from Tier {from_tier} · {escape_mrkdwn(from_team)}*"
                f" to Tier {to_tier} · {escape_mrkdwn(to_team)}{by}"
            ),
        }
    ]
    if reason and reason.strip():
        blocks.append(
            {
                "type": "section",
                "text": _plain(
                    f"Reason: {redact(reason.strip(), verified=verified)}", SECTION_TEXT_LIMIT
                ),
            }
        )
    blocks.append(
        {
            "type": "section",
            "text": _plain(
                redact(summary, verified=verified) or "(no summary)", SECTION_TEXT_LIMIT
            ),
        }
    )
    if tried:
        blocks.append({"type": "context", "elements": [mrkdwn("*Already tried*")]})
        blocks.append(
            {
                "type": "section",
                "text": _plain(
                    _bullets([redact(t, verified=verified) for t in tried]), SECTION_TEXT_LIMIT
                ),
            }
        )
    if previous_permalink:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    mrkdwn(_link(previous_permalink, f"Earlier thread in Tier {from_tier}"))
                ],
            }
        )
    text = f"Transferred from Tier {from_tier} ({from_team}) to Tier {to_tier} ({to_team})"
    return {"text": _fallback(text), "blocks": blocks}


def _bullets(items: Sequence[str]) -> str:
    lines = [f"• {item.strip()}" for item in items if item.strip()]
    text = "\n".join(lines)
    if len(escape(text)) <= SECTION_TEXT_LIMIT:
        return text
    kept: list[str] = []
    for index, line in enumerate(lines):
        rest = f"\n… and {len(lines) - index} more in the earlier thread"
        if len(escape("\n".join([*kept, line]) + rest)) > SECTION_TEXT_LIMIT:
            return "\n".join(kept) + rest
        kept.append(line)
    return "\n".join(kept)


def _link(url: str, label: str) -> str:
    if not url.startswith("https://") or any(c in url for c in "|<> \n"):
        raise ValueError(f"not a Slack permalink: {url!r}")
    return f"<{escape(url)}|{escape(label)}>"


# --- Helpers and limits ---------------------------------------------------------------


def _truncate(text: str, limit: int) -> str:
    """``text`` cut so that its escaped form fits ``limit`` (with an ellipsis)."""
    if len(escape(text)) <= limit:
        return text
    cumulative = list(itertools.accumulate((_cost(c) for c in text), initial=0))
    end = bisect.bisect_right(cumulative, limit - len(_ELLIPSIS)) - 1
    return text[:end].rstrip() + _ELLIPSIS


def _plain(text: str, limit: int, *, emoji: bool = False) -> Block:
    return plain_text(_truncate(text, limit), emoji=emoji)


def _fallback(text: str) -> str:
    return escape(_truncate(text, NOTIFICATION_TEXT_LIMIT))


def _size(blocks: Any) -> int:
    return len(json.dumps(blocks, ensure_ascii=False, separators=(",", ":")))


_OTHER_BLOCK_TYPES = frozenset({"divider", "image", "rich_text", "file", "video", "input"})


def block_problems(message: Mapping[str, Any]) -> list[str]:
    """Every way ``message`` breaks Slack's limits (empty when it fits)."""
    problems: list[str] = []
    blocks = message.get("blocks", [])
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"{len(blocks)} blocks (limit {MAX_BLOCKS})")
    if _size(blocks) > MESSAGE_CHAR_BUDGET:
        problems.append(f"{_size(blocks)} characters of blocks (budget {MESSAGE_CHAR_BUDGET})")
    if not message.get("text"):
        problems.append("no notification text")

    def text_ok(obj: Mapping[str, Any] | None, limit: int, where: str) -> None:
        if obj is None:
            return
        value = obj.get("text", "")
        if not value.strip():
            problems.append(f"{where}: empty text")
        if len(value) > limit:
            problems.append(f"{where}: {len(value)} characters (limit {limit})")

    for index, block in enumerate(blocks):
        where = f"blocks[{index}]"
        kind = block.get("type")
        if kind == "header":
            text_ok(block["text"], HEADER_TEXT_LIMIT, f"{where}.text")
        elif kind == "section":
            text_ok(block.get("text"), SECTION_TEXT_LIMIT, f"{where}.text")
            fields = block.get("fields", [])
            if len(fields) > MAX_FIELDS:
                problems.append(f"{where}: {len(fields)} fields (limit {MAX_FIELDS})")
            for number, field in enumerate(fields):
                text_ok(field, FIELD_TEXT_LIMIT, f"{where}.fields[{number}]")
        elif kind == "context":
            elements = block.get("elements", [])
            if not 1 <= len(elements) <= CONTEXT_ELEMENTS_LIMIT:
                problems.append(
                    f"{where}: {len(elements)} elements (1 to {CONTEXT_ELEMENTS_LIMIT})"
                )
            for number, element in enumerate(elements):
                text_ok(element, SECTION_TEXT_LIMIT, f"{where}.elements[{number}]")
        elif kind == "actions":
            for number, element in enumerate(block.get("elements", [])):
                at = f"{where}.elements[{number}]"
                if element["type"] == "button":
                    text_ok(element["text"], BUTTON_TEXT_LIMIT, f"{at}.text")
                    if len(element.get("value", "")) > ACTION_VALUE_LIMIT:
                        problems.append(f"{at}.value: longer than {ACTION_VALUE_LIMIT}")
                    if "confirm" in element:
                        text_ok(
                            element["confirm"]["text"], CONFIRM_TEXT_LIMIT, f"{at}.confirm.text"
                        )
                for option_number, option in enumerate(element.get("options", [])):
                    text_ok(
                        option["text"], OPTION_TEXT_LIMIT, f"{at}.options[{option_number}].text"
                    )
                    if len(option["value"]) > OPTION_VALUE_LIMIT:
                        problems.append(
                            f"{at}.options[{option_number}].value: longer than {OPTION_VALUE_LIMIT}"
                        )
        elif kind not in _OTHER_BLOCK_TYPES:
            problems.append(f"{where}: unknown block type {kind!r}")
    return problems
