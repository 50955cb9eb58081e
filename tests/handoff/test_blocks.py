from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.redact import redact
from handoff.blocks import (
    HEADER_TEXT_LIMIT,
    MESSAGE_CHAR_BUDGET,
    SECTION_TEXT_LIMIT,
    CardStatus,
    Customer,
    block_problems,
    csat_blocks,
    escalation_card,
    parse_escalate_value,
    relay_message,
    sla_reminder,
    transcript_messages,
    transfer_note,
)
from handoff.slack_text import unescape

TEAMS = {2: "Customer care", 3: "Product experts", 4: "External specialists"}


def plain(text: str, emoji: bool = False) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": emoji}


def md(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def card(**overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "escalation_id": "esc-1",
        "tier": 2,
        "priority": "P2",
        "category": "double_charge",
        "team": "Billing",
        "customer": Customer(verified=False, name="Jane", email="jane@example.com"),
        "summary": "Customer was charged twice for BW-104233.",
        "tier_teams": TEAMS,
    }
    arguments.update(overrides)
    return dict(escalation_card(**arguments))


ESCALATE_MENU = {
    "type": "static_select",
    "action_id": "handoff_escalate",
    "placeholder": plain("Escalate to tier…"),
    "options": [
        {"text": plain("Tier 3 · Product experts"), "value": "esc-1:3"},
        {"text": plain("Tier 4 · External specialists"), "value": "esc-1:4"},
    ],
}


# --- Escalation card ------------------------------------------------------------------


def test_queued_card_shows_everything_an_agent_needs() -> None:
    message = card(
        summary="Customer <!channel> was *charged* twice for BW-104233 with card "
        "4111 1111 1111 1111; bot showed 'Double charges' and checked the payment.",
        facts=[("Order", "BW-104233"), ("Amount", "2 x 49 EUR")],
        priority_reasons=["money taken: double_charge"],
        sla_minutes=30,
    )
    assert message == {
        "text": "P2 Tier 2 escalation: Double charge (Billing) · 🕓 Queued · waiting for Billing",
        "blocks": [
            {"type": "header", "text": plain("P2 · Tier 2 · Double charge", emoji=True)},
            {
                "type": "section",
                "text": plain(
                    "Customer &lt;!channel&gt; was *charged* twice for BW-104233 with card "
                    "[card number removed]; bot showed 'Double charges' and checked the payment."
                ),
            },
            {
                "type": "section",
                "fields": [
                    md("*Customer*"),
                    plain("⚠️ Not verified · Jane · j***@example.com"),
                    md("*Queue*"),
                    plain("Billing · Tier 2"),
                    md("*Priority*"),
                    plain("P2 (money taken: double_charge)"),
                    md("*Claim within*"),
                    plain("30 min"),
                    md("*Order*"),
                    plain("BW-104233"),
                ],
            },
            {"type": "section", "fields": [md("*Amount*"), plain("2 x 49 EUR")]},
            {"type": "context", "elements": [plain("🕓 Queued · waiting for Billing")]},
            {
                "type": "actions",
                "block_id": "handoff_actions:esc-1",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "handoff_claim",
                        "text": plain("Claim", emoji=True),
                        "value": "esc-1",
                        "style": "primary",
                    },
                    ESCALATE_MENU,
                ],
            },
        ],
    }
    assert block_problems(message) == []


def test_claimed_card_offers_escalate_resolve_and_return_with_confirmation() -> None:
    message = card(
        customer=Customer(verified=True, name="Jane Doe", email="jane@example.com"),
        status=CardStatus("claimed", agent="Dana"),
    )
    assert message["blocks"][2]["fields"][:2] == [
        md("*Customer*"),
        plain("✅ Verified · Jane Doe · jane@example.com"),
    ]
    assert message["blocks"][-2:] == [
        {"type": "context", "elements": [plain("🙋 Claimed by Dana")]},
        {
            "type": "actions",
            "block_id": "handoff_actions:esc-1",
            "elements": [
                ESCALATE_MENU,
                {
                    "type": "button",
                    "action_id": "handoff_resolve",
                    "text": plain("Resolve", emoji=True),
                    "value": "esc-1",
                    "style": "primary",
                    "confirm": {
                        "title": plain("Resolve this case?"),
                        "text": plain(
                            "The bot takes over again, thanks the customer and asks for a rating."
                        ),
                        "confirm": plain("Resolve"),
                        "deny": plain("Cancel"),
                    },
                },
                {
                    "type": "button",
                    "action_id": "handoff_return",
                    "text": plain("Return to bot", emoji=True),
                    "value": "esc-1",
                    "confirm": {
                        "title": plain("Return to the bot?"),
                        "text": plain(
                            "The bot continues the conversation with what happened so far. "
                            "The case stays open in the records as returned."
                        ),
                        "confirm": plain("Return to bot"),
                        "deny": plain("Cancel"),
                    },
                },
            ],
        },
    ]
    assert message["text"] == "P2 Tier 2 escalation: Double charge (Billing) · 🙋 Claimed by Dana"


def test_a_posted_card_looks_queued_and_customers_come_from_the_stored_json() -> None:
    stored = {"verified": True, "name": "Jane Doe", "email": "jane@example.com"}
    assert card(status=CardStatus("posted"), customer=Customer.from_dict(stored)) == card(
        status=CardStatus("queued"),
        customer=Customer(verified=True, name="Jane Doe", email="jane@example.com"),
    )
    assert Customer.from_dict(None) == Customer(verified=False)


def test_an_email_left_for_the_reply_is_shown_unmasked_below_the_customer() -> None:
    stored = {"verified": False, "name": "Jane", "contact_email": "jane.reply@example.com"}
    message = card(customer=Customer.from_dict(stored))
    assert message["blocks"][2] == {
        "type": "section",
        "fields": [
            md("*Customer*"),
            plain("⚠️ Not verified · Jane"),
            md("*Reply by email*"),
            plain("jane.reply@example.com"),
            md("*Queue*"),
            plain("Billing · Tier 2"),
        ],
    }


@pytest.mark.parametrize(
    ("status", "line"),
    [
        (CardStatus("resolved", agent="Dana"), "✅ Resolved by Dana"),
        (CardStatus("returned", agent="Dana"), "🤖 Returned to the bot by Dana"),
        (
            CardStatus("transferred", agent="Dana", to_tier=3, to_team="Product experts"),
            "↪️ Transferred to Tier 3 · Product experts by Dana",
        ),
        (CardStatus("transferred"), "↪️ Transferred to another queue"),
    ],
)
def test_closed_cards_show_the_outcome_and_no_buttons(status: CardStatus, line: str) -> None:
    message = card(status=status)
    assert [block["type"] for block in message["blocks"]] == [
        "header",
        "section",
        "section",
        "context",
    ]
    assert message["blocks"][-1] == {"type": "context", "elements": [plain(line)]}


def test_escalate_menu_offers_the_other_tiers() -> None:
    message = card(tier=3, tier_teams={})
    menu = message["blocks"][-1]["elements"][1]
    assert menu["options"] == [
        {"text": plain("Tier 2"), "value": "esc-1:2"},
        {"text": plain("Tier 4"), "value": "esc-1:4"},
    ]
    assert [parse_escalate_value(option["value"]) for option in menu["options"]] == [
        ("esc-1", 2),
        ("esc-1", 4),
    ]
    for bad in ("esc-1", ":3", "esc-1:x"):
        with pytest.raises(ValueError, match="not an escalate option value"):
            parse_escalate_value(bad)


def test_card_text_is_cut_to_slack_limits() -> None:
    message = card(
        category="x" * 400,
        summary="& " * 2000,
        facts=[(f"Fact {n} " + "l" * 100, "<" * 3000) for n in range(12)],
    )
    header = message["blocks"][0]["text"]["text"]
    assert (len(header), header[-1]) == (HEADER_TEXT_LIMIT, "…")
    summary = message["blocks"][1]["text"]["text"]
    assert (len(summary), summary[-6:]) == (3000, "&amp;…")
    rows = [b["fields"] for b in message["blocks"] if "fields" in b]
    assert [len(fields) for fields in rows] == [10, 10, 8]
    label, value = rows[0][4]["text"], rows[0][5]["text"]
    assert (len(label), label[-2:], len(value), value[-2:]) == (62, "…*", 297, ";…")
    assert block_problems(message) == []


def test_facts_beyond_fifteen_rows_are_counted_not_shown() -> None:
    message = card(facts=[(f"Fact {n}", str(n)) for n in range(20)])
    rows = [field for b in message["blocks"] if "fields" in b for field in b["fields"]]
    assert len(rows) == 30
    assert rows[-4:] == [
        md("*Fact 11*"),
        plain("11"),
        md("*More*"),
        plain("8 more facts not shown"),
    ]


def test_a_card_full_of_characters_json_escapes_still_fits() -> None:
    message = card(
        summary='"' * 3000,
        facts=[(f"Fact {n}", '"' * 300) for n in range(13)],
    )
    assert block_problems(message) == []
    assert len(message["blocks"][1]["text"]["text"]) < 3000


# --- Transcript ---------------------------------------------------------------------


def test_short_transcript_is_one_message_with_speakers_and_times() -> None:
    messages = transcript_messages(
        [
            {"from": "customer", "text": "Hi <!here>, I'm jane@example.com", "ts": 1795514400.0},
            {"from": "bot", "text": "Sorry, I can't help with that.", "ts": "2026-11-24T10:00:05Z"},
            {"from": "agent", "name": "Dana", "text": "Hello *Jane*", "ts": 1795514460},
            {"from": "system", "text": "The customer left the chat.", "ts": 1795600860},
            {"from": "customer", "text": "   "},
        ],
        verified=False,
        tz=ZoneInfo("Europe/Amsterdam"),
    )
    assert messages == [
        {
            "text": "Transcript, part 1 of 1",
            "blocks": [
                {
                    "type": "context",
                    "elements": [md("*Transcript* · part 1 of 1 · times in Europe/Amsterdam")],
                },
                {"type": "context", "elements": [plain("🧑 Customer · 2026-11-24 11:00:00", True)]},
                {"type": "section", "text": plain("Hi &lt;!here&gt;, I'm j***@example.com")},
                {"type": "context", "elements": [plain("🤖 Bot · 11:00:05", True)]},
                {"type": "section", "text": plain("Sorry, I can't help with that.")},
                {"type": "context", "elements": [plain("🎧 Dana (agent) · 11:01:00", True)]},
                {"type": "section", "text": plain("Hello *Jane*")},
                {"type": "context", "elements": [plain("ℹ️ Note · 2026-11-25 11:01:00", True)]},  # noqa: RUF001
                {"type": "section", "text": plain("The customer left the chat.")},
                {"type": "context", "elements": [plain("🧑 Customer", True)]},
                {"type": "section", "text": plain("(no text)")},
            ],
        }
    ]


def test_a_long_message_is_split_at_whitespace_into_sections() -> None:
    words = " ".join(f"word{n:04d}" for n in range(700))  # 6,299 characters
    [message] = transcript_messages([{"from": "customer", "text": words}])
    sections = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    assert [len(s) for s in sections] == [2997, 2997, 305]
    assert all(s.endswith(" ") for s in sections[:-1])
    assert "".join(sections) == words


def test_escaping_counts_towards_the_section_limit() -> None:
    text = "&" * 1000  # 5,000 characters once escaped
    [message] = transcript_messages([{"from": "customer", "text": text}])
    sections = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    assert [len(s) for s in sections] == [3000, 2000]
    assert unescape("".join(sections)) == text


def test_a_long_transcript_is_split_into_parts_within_slack_limits() -> None:
    transcript = [
        {"from": "customer" if n % 2 else "bot", "text": f"message {n} " + "x" * 2500}
        for n in range(12)
    ]
    messages = transcript_messages(transcript)
    assert [m["text"] for m in messages] == [
        "Transcript, part 1 of 3",
        "Transcript, part 2 of 3",
        "Transcript, part 3 of 3",
    ]
    assert [len(m["blocks"]) for m in messages] == [9, 9, 9]
    assert [block_problems(m) for m in messages] == [[], [], []]
    assert messages[1]["blocks"][0] == {
        "type": "context",
        "elements": [md("*Transcript* · part 2 of 3 · times in UTC")],
    }


def test_an_entry_split_across_messages_repeats_its_speaker_as_continued() -> None:
    text = " ".join(["lorem"] * 4000)  # 23,999 characters: 9 sections over 3 messages
    messages = transcript_messages([{"from": "customer", "text": text, "ts": 1795514400}])
    speakers = [
        [b["elements"][0]["text"] for b in m["blocks"][1:] if b["type"] == "context"]
        for m in messages
    ]
    assert speakers == [
        ["🧑 Customer · 2026-11-24 10:00:00"],
        ["🧑 Customer · 2026-11-24 10:00:00 (continued)"],
        ["🧑 Customer · 2026-11-24 10:00:00 (continued)"],
    ]
    assert [block_problems(m) for m in messages] == [[], [], []]


def test_many_short_messages_respect_the_block_limit() -> None:
    messages = transcript_messages([{"from": "customer", "text": "ok"}] * 60)
    assert [len(m["blocks"]) for m in messages] == [49, 49, 25]


def test_unknown_speakers_are_refused() -> None:
    with pytest.raises(ValueError, match="transcript entry from 'robot'"):
        transcript_messages([{"from": "robot", "text": "beep"}])


def _entry_texts(messages: list[Any]) -> list[str]:
    """Rebuilds each entry's text from the messages (inverse of the splitting)."""
    texts: list[str] = []
    for message in messages:
        for block in message["blocks"][1:]:
            if block["type"] == "context":
                if not block["elements"][0]["text"].endswith("(continued)"):
                    texts.append("")
            else:
                texts[-1] += unescape(block["text"]["text"])
    return texts


_TEXT = st.lists(
    st.sampled_from([*"abc &<>*_~`\n", "é", "😀", "<!channel>", "4111 1111 1111 1111", "word "]),
    max_size=2500,
).map("".join)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {"from": st.sampled_from(["customer", "bot", "agent"]), "text": _TEXT}
        ),
        max_size=40,
    )
)
def test_any_transcript_fits_slack_and_loses_nothing(transcript: list[dict[str, str]]) -> None:
    messages = transcript_messages(transcript)
    assert [block_problems(m) for m in messages] == [[] for _ in messages]
    assert all(
        len(json.dumps(m["blocks"], ensure_ascii=False, separators=(",", ":")))
        <= MESSAGE_CHAR_BUDGET
        for m in messages
    )
    assert _entry_texts(messages) == [
        redact(entry["text"], verified=False).strip() or "(no text)" for entry in transcript
    ]


def test_a_relayed_customer_message_looks_like_a_transcript_entry() -> None:
    assert relay_message(
        {"from": "customer", "text": "It's still <b>broken</b>, call 0612345678", "ts": 1795514400}
    ) == {
        "text": "New message from the customer",
        "blocks": [
            {"type": "context", "elements": [plain("🧑 Customer · 10:00:00", True)]},
            {
                "type": "section",
                "text": plain("It's still &lt;b&gt;broken&lt;/b&gt;, call 061*****78"),
            },
        ],
    }


def test_bare_codes_ibans_and_spaced_cards_never_reach_the_slack_thread() -> None:
    """Even for a verified customer (whose phone stays): the relayed message and
    the transcript go through the same policy as every other outlet."""
    relayed = relay_message(
        {"from": "customer", "text": "482 913", "ts": 1795514400}, verified=True
    )
    assert relayed["blocks"][1] == {"type": "section", "text": plain("[one-time code removed]")}
    [message] = transcript_messages(
        [
            {"from": "customer", "text": "it says 482913", "ts": 1795514400},
            {"from": "customer", "text": "refund to nl91 abna 0417 1643 00", "ts": 1795514400},
            {"from": "customer", "text": "card 4111 - 1111 - 1111 - 1111", "ts": 1795514400},
            {"from": "customer", "text": "or call 06-12345678", "ts": 1795514400},
        ],
        verified=True,
    )
    assert [b["text"] for b in message["blocks"] if b["type"] == "section"] == [
        plain("it says [one-time code removed]"),
        plain("refund to [IBAN removed]"),
        plain("card [card number removed]"),
        plain("or call 06-12345678"),
    ]


# --- CSAT, SLA, transfer ----------------------------------------------------------------


def test_csat_shows_stars_and_the_redacted_comment() -> None:
    assert csat_blocks(4, "Quick help! Mail me at jane@example.com <!channel>") == {
        "text": "Customer rating: 4/5",
        "blocks": [
            {"type": "section", "text": md("*Customer rating:* ★★★★☆ 4/5")},
            {
                "type": "section",
                "text": plain("Quick help! Mail me at j***@example.com &lt;!channel&gt;"),
            },
        ],
    }
    assert csat_blocks(1, None)["blocks"][1] == {
        "type": "context",
        "elements": [plain("No comment.")],
    }
    with pytest.raises(ValueError, match="score must be 1 to 5, not 6"):
        csat_blocks(6)


def test_sla_reminders_in_the_queue_and_for_the_lead() -> None:
    link = "https://brightwave.slack.com/archives/C0TIER2/p1700000001000001?thread_ts=1&cid=C0"
    assert sla_reminder(
        priority="P2",
        category="double_charge",
        team="Billing",
        waited_minutes=35,
        sla_minutes=30,
        permalink=link,
    ) == {
        "text": "Still unclaimed: P2 · Double charge (Billing) unclaimed for 35 min (SLA 30 min)",
        "blocks": [
            {
                "type": "section",
                "text": md(
                    "⏰ *Still unclaimed:* P2 · Double charge is unclaimed for 35 min (SLA 30 min)"
                ),
            },
            {
                "type": "context",
                "elements": [
                    md(
                        "<https://brightwave.slack.com/archives/C0TIER2/p1700000001000001"
                        "?thread_ts=1&amp;cid=C0|Open the case>"
                    )
                ],
            },
        ],
    }
    assert sla_reminder(
        priority="P1",
        category="damaged_item",
        team="R&D_team",
        waited_minutes=120,
        sla_minutes=60,
        lead=True,
    ) == {
        "text": "Needs a lead: P1 · Damaged item (R&amp;D_team) unclaimed for 2 h (SLA 1 h)",
        "blocks": [
            {
                "type": "section",
                "text": md(
                    "🚨 *Needs a lead:* P1 · Damaged item in R&amp;D\u200b_\u200bteam is "
                    "unclaimed for 2 h (SLA 1 h)"
                ),
            }
        ],
    }
    with pytest.raises(ValueError, match="not a Slack permalink"):
        sla_reminder(
            priority="P2",
            category="x",
            team="t",
            waited_minutes=1,
            sla_minutes=1,
            permalink="https://evil.example|click",
        )


def test_transfer_note_gives_the_new_tier_history_summary_and_the_earlier_thread() -> None:
    note = transfer_note(
        from_tier=2,
        from_team="Hardware and technical",
        to_tier=3,
        to_team="Product experts",
        agent="Dana",
        reason="Needs a product expert for Zigbee",
        summary="Hub Mini loses Zigbee devices after firmware 2.14; customer jane@example.com.",
        tried=["Bot: article 'Reset the Hub Mini' (did not help)", "Dana: factory reset, same"],
        previous_permalink="https://brightwave.slack.com/archives/C0TECH/p1700000001000001",
    )
    assert note == {
        "text": "Transferred from Tier 2 (Hardware and technical) to Tier 3 (Product experts)",
        "blocks": [
            {
                "type": "section",
                "text": md(
                    "↪️ *Transferred from Tier 2 · Hardware and technical* to Tier 3 · "
                    "Product experts by Dana"
                ),
            },
            {"type": "section", "text": plain("Reason: Needs a product expert for Zigbee")},
            {
                "type": "section",
                "text": plain(
                    "Hub Mini loses Zigbee devices after firmware 2.14; customer j***@example.com."
                ),
            },
            {"type": "context", "elements": [md("*Already tried*")]},
            {
                "type": "section",
                "text": plain(
                    "• Bot: article 'Reset the Hub Mini' (did not help)\n"
                    "• Dana: factory reset, same"
                ),
            },
            {
                "type": "context",
                "elements": [
                    md(
                        "<https://brightwave.slack.com/archives/C0TECH/p1700000001000001"
                        "|Earlier thread in Tier 2>"
                    )
                ],
            },
        ],
    }


def test_a_long_history_is_cut_with_a_pointer_to_the_earlier_thread() -> None:
    note = transfer_note(
        from_tier=2,
        from_team="a",
        to_tier=4,
        to_team="b",
        summary="s",
        tried=[f"step {n}: " + "y" * 90 for n in range(100)],
    )
    history = note["blocks"][-1]["text"]["text"]
    assert len(history) <= SECTION_TEXT_LIMIT
    assert history.splitlines()[-1] == "… and 71 more in the earlier thread"
    assert block_problems(note) == []


# --- The limit checker itself ------------------------------------------------------------


def test_block_problems_names_every_broken_limit() -> None:
    message = {
        "text": "",
        "blocks": [
            {"type": "header", "text": plain("h" * 151)},
            {"type": "section", "text": plain(" ")},
            {"type": "section", "fields": [plain("f")] * 11},
            {"type": "context", "elements": []},
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": plain("b" * 76), "value": "v" * 2001},
                    {
                        "type": "static_select",
                        "options": [{"text": plain("o"), "value": "v" * 151}],
                    },
                ],
            },
            {"type": "hologram"},
        ]
        + [{"type": "section", "text": plain("x" * 3001)}] * 45,
    }
    problems = block_problems(message)
    assert problems[:12] == [
        "51 blocks (limit 50)",
        f"{len(json.dumps(message['blocks'], separators=(',', ':')))} characters of blocks "
        "(budget 12000)",
        "no notification text",
        "blocks[0].text: 151 characters (limit 150)",
        "blocks[1].text: empty text",
        "blocks[2]: 11 fields (limit 10)",
        "blocks[3]: 0 elements (1 to 10)",
        "blocks[4].elements[0].text: 76 characters (limit 75)",
        "blocks[4].elements[0].value: longer than 2000",
        "blocks[4].elements[1].options[0].value: longer than 150",
        "blocks[5]: unknown block type 'hologram'",
        "blocks[6].text: 3001 characters (limit 3000)",
    ]
    assert len(problems) == 12 + 44
