from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from handoff.routing import (
    DEFAULT_ROUTING_FILE,
    Route,
    Routing,
    RoutingError,
    SlaDeadlines,
    UnknownQueue,
    load_routing,
    parse_routing,
)

ROOT = Path(__file__).parents[2]
DOMAIN = ROOT / "bot" / "domain"
# Categories the triage sets that are not intents of the bot.
TRIAGE_CATEGORIES = {
    "account_locked",
    "account_recovery",
    "profile_change",
    "payment_dispute",
    "technical_investigation",
    "product_consultation",
    "regulated_advice",
    "legal_request",
    "data_protection_request",
}


@pytest.fixture(scope="module")
def routing() -> Routing:
    return load_routing(DEFAULT_ROUTING_FILE)


def _intents() -> set[str]:
    intents: set[str] = set()
    for path in DOMAIN.glob("*.yml"):
        intents.update(yaml.safe_load(path.read_text()).get("intents", []))
    return intents


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# --- The shipped rules ------------------------------------------------------------


def test_every_category_is_an_intent_a_triage_or_a_help_center_category(
    routing: Routing,
) -> None:
    help_center = {path.name for path in (ROOT / "data" / "kb").iterdir() if path.is_dir()}
    assert set(routing.categories) - _intents() == TRIAGE_CATEGORIES | (help_center - _intents())
    assert help_center <= set(routing.categories)


def test_intents_without_a_category_are_conversation_mechanics(routing: Routing) -> None:
    assert _intents() - set(routing.categories) == {
        "greet",
        "goodbye",
        "thanks",
        "bot_challenge",
        "affirm",
        "deny",
        "stop",
        "help",
        "inform",
        "out_of_scope",
        "agent_message",
        "handoff_update",
        "csat",
        "request_code",  # a verification step ("email me a code")
        "other_language",  # answered "English only": the default queue if handed over
    }


def test_tier_two_plus_requests_go_to_their_teams(routing: Routing) -> None:
    routed = {
        category: (route.queue, route.priority)
        for category in (
            "damaged_item",
            "warranty_claim",
            "double_charge",
            "payment_failed",
            "account_status",
            "account_recovery",
            "technical_investigation",
            "compatibility",
            "product_consultation",
            "regulated_advice",
            "legal_request",
            "data_protection_request",
            "complaint",
            "human_handoff",
            "something_new",
        )
        for route in [routing.route(category, "", verified=False, repeat_contact=False)]
    }
    assert routed == {
        "damaged_item": ("tier2-technical", "P3"),
        "warranty_claim": ("tier2-technical", "P3"),
        "double_charge": ("tier2-billing", "P2"),
        "payment_failed": ("tier2-billing", "P3"),
        "account_status": ("tier2-accounts", "P3"),
        "account_recovery": ("tier2-accounts", "P3"),
        "technical_investigation": ("tier2-technical", "P3"),
        "compatibility": ("tier3-product", "P3"),
        "product_consultation": ("tier3-product", "P3"),
        "regulated_advice": ("tier4-specialists", "P3"),
        "legal_request": ("tier4-specialists", "P2"),
        "data_protection_request": ("tier4-specialists", "P3"),
        "complaint": ("tier2-general", "P3"),
        "human_handoff": ("tier2-general", "P3"),
        "something_new": ("tier2-general", "P3"),
    }


def test_smoke_from_a_device_is_a_p1_safety_case(routing: Routing) -> None:
    route = routing.route(
        "damaged_item",
        "My Buds Pro case is smoking and smells burnt, please help asap",
        verified=True,
        repeat_contact=False,
    )
    assert route == Route(
        tier=2,
        queue="tier2-technical",
        channel="#support-technical",
        team="Hardware and technical",
        priority="P1",
        sla_minutes=10,
        usual_wait_minutes=20,
        category="damaged_item",
        reasons=("safety: smoking", "urgent: asap", "verified customer"),
    )


@pytest.mark.parametrize(
    ("text", "priority", "reasons"),
    [
        ("The hub caught fire", "P1", ("safety: caught fire",)),
        ("the charger is BURNING hot", "P1", ("safety: burning",)),
        ("battery looks swollen", "P1", ("safety: swollen",)),
        # Whole words only: no P1 for a firewall, a burner phone or a spark plug story.
        ("my firewall blocks the Hub Mini", "P3", ()),
        ("I'd like this fixed today", "P2", ("urgent: today",)),
        ("URGENT: app crashes", "P2", ("urgent: urgent",)),
        ("no rush, just a suggestion", "P4", ("low impact: no rush",)),
        # The most urgent rule wins over a low-impact one.
        ("no rush but I see sparks", "P1", ("safety: sparks", "low impact: no rush")),
        ("someone else logged in to my account", "P2", ("security: someone else logged in",)),
    ],
)
def test_priority_from_impact_and_urgency_words(
    routing: Routing, text: str, priority: str, reasons: tuple[str, ...]
) -> None:
    route = routing.route("troubleshooting", text, verified=False, repeat_contact=False)
    assert (route.priority, route.reasons) == (priority, reasons)


@pytest.mark.parametrize(
    ("text", "verified", "repeat", "priority", "reasons"),
    [
        ("", True, False, "P2", ("verified customer",)),
        ("", False, True, "P2", ("repeat contact",)),
        # Raising stops at P2: only an impact rule makes a case P1.
        ("asap", True, True, "P2", ("urgent: asap", "verified customer", "repeat contact")),
        ("no hurry", True, False, "P3", ("low impact: no hurry", "verified customer")),
        (
            "no hurry",
            True,
            True,
            "P2",
            ("low impact: no hurry", "verified customer", "repeat contact"),
        ),
        ("smoke", True, True, "P1", ("safety: smoke", "verified customer", "repeat contact")),
    ],
)
def test_verified_customers_and_repeat_contacts_raise_priority_one_step_each(
    routing: Routing,
    text: str,
    verified: bool,
    repeat: bool,
    priority: str,
    reasons: tuple[str, ...],
) -> None:
    route = routing.route("complaint", text, verified=verified, repeat_contact=repeat)
    assert (route.priority, route.reasons) == (priority, reasons)


def test_words_reveal_the_category_of_a_generic_request(routing: Routing) -> None:
    gdpr = routing.route("human_handoff", "I want a copy of my personal data (GDPR)", False, False)
    lawyer = routing.route("complaint", "My lawyer will contact you", False, False)
    unknown = routing.route(
        "something_new", "Which model should I buy? recommend one", False, False
    )
    # A specific category is kept when only a refining rule's words match.
    damaged = routing.route("damaged_item", "refund me, it arrived cracked", False, False)
    assert [
        (r.category, r.queue, r.tier, r.priority) for r in (gdpr, lawyer, unknown, damaged)
    ] == [
        ("data_protection_request", "tier4-specialists", 4, "P3"),
        ("legal_request", "tier4-specialists", 4, "P2"),
        ("product_consultation", "tier3-product", 3, "P3"),
        ("damaged_item", "tier2-technical", 2, "P3"),
    ]


def test_requests_only_a_person_can_handle_win_over_what_the_bot_understood(
    routing: Routing,
) -> None:
    routed = [
        routing.route(category, text, False, False)
        for category, text in (
            ("delete_account", "I invoke my right to be forgotten, erase my data"),
            ("refund_status", "no refund yet? I'm taking you to small claims court"),
            ("account_activation", "I think I've been hacked, someone changed my email"),
            ("compatibility", "which one should i buy, pulse 2 or pulse lite?"),
            ("refund_status", "my sleep data hasn't synced for a week"),
            ("troubleshooting", "the battery looks swollen"),
        )
    ]
    assert [(r.category, r.queue) for r in routed] == [
        ("data_protection_request", "tier4-specialists"),
        ("legal_request", "tier4-specialists"),
        ("account_recovery", "tier2-accounts"),
        ("product_consultation", "tier3-product"),
        ("technical_investigation", "tier2-technical"),
        ("damaged_item", "tier2-technical"),
    ]


def test_profile_changes_go_to_the_accounts_team(routing: Routing) -> None:
    routed = [
        routing.route("human_handoff", text, False, False)
        for text in (
            "I need to change my email address",
            "I got married and need to change my surname on the account",
            "the name on my profile is spelt wrong",
            "how do I update my personal details",
            # Not a profile change: a data-protection request wins, a refund
            # stays with billing, a plain request for a person stays general.
            "delete all my data and my account details",
            "I want a refund, and update my email while you're at it",
            "I want to talk to a person",
        )
    ]
    assert [(r.category, r.queue) for r in routed] == [
        ("profile_change", "tier2-accounts"),
        ("profile_change", "tier2-accounts"),
        ("profile_change", "tier2-accounts"),
        ("profile_change", "tier2-accounts"),
        ("data_protection_request", "tier4-specialists"),
        ("payment_dispute", "tier2-billing"),
        ("human_handoff", "tier2-general"),
    ]


@pytest.mark.parametrize(
    ("text", "category"),
    [
        (
            "Under the GDPR I request a copy of all personal data you hold",
            "data_protection_request",
        ),
        ("My lawyer will contact you", "legal_request"),
        ("I lost my phone with the 2-step verification app", "account_recovery"),
        ("does the cam outdoor support RTSP for my synology NAS?", "product_consultation"),
        ("it got hot and the back is bulging", "damaged_item"),
        # Routine requests and how-tos stay with the bot.
        ("I forgot my password and I'm locked out", None),
        ("how do I turn on 2-step verification?", None),
        ("where is my refund for BW-104233", None),
        ("my watch arrived cracked", None),
        ("the app logs me out all the time", None),
    ],
)
def test_triage_names_requests_only_a_person_can_handle(
    routing: Routing, text: str, category: str | None
) -> None:
    assert routing.triage(text) == category


def test_queues_by_name_and_by_tier(routing: Routing) -> None:
    assert routing.queue("tier2-billing").channel == "#support-billing"
    assert [routing.queue_for_tier(tier).name for tier in (2, 3, 4)] == [
        "tier2-general",
        "tier3-product",
        "tier4-specialists",
    ]
    with pytest.raises(UnknownQueue) as error:
        routing.queue("tier9")
    assert (error.value.name, str(error.value)) == (
        "tier9",
        "no queue named 'tier9' in the routing rules",
    )
    with pytest.raises(ValueError, match=r"tier must be one of \(2, 3, 4\), not 1"):
        routing.queue_for_tier(1)


# --- Business hours and SLA ------------------------------------------------------


@pytest.mark.parametrize(
    ("queue", "now", "expected"),
    [
        # Tuesday 11:00 in Amsterdam: open.
        ("tier2-general", "2026-11-24T11:00:00+01:00", (True, None)),
        # Tuesday 05:00: opens at 08:00.
        ("tier2-general", "2026-11-24T05:00:00+01:00", (False, "2026-11-24T07:00:00+00:00")),
        # Opening and closing minutes: open at 08:00, closed at 20:00.
        ("tier2-general", "2026-11-24T08:00:00+01:00", (True, None)),
        ("tier2-general", "2026-11-24T20:00:00+01:00", (False, "2026-11-25T07:00:00+00:00")),
        # Saturday evening: customer care opens again on Monday.
        ("tier2-general", "2026-11-28T20:30:00+01:00", (False, "2026-11-30T07:00:00+00:00")),
        # Christmas Eve evening: 25 and 26 December are holidays, 27th a Sunday.
        ("tier2-billing", "2026-12-24T21:00:00+01:00", (False, "2026-12-28T07:00:00+00:00")),
        # Product experts work office hours on weekdays only.
        ("tier3-product", "2026-11-28T11:00:00+01:00", (False, "2026-11-30T08:00:00+00:00")),
        # Summer time: Thursday 09:30 CEST is open; after Friday 17:00 CEST the next
        # opening is Monday 09:00 CET, after the clocks went back.
        ("tier3-product", "2026-10-22T09:30:00+02:00", (True, None)),
        ("tier3-product", "2026-10-23T18:00:00+02:00", (False, "2026-10-26T08:00:00+00:00")),
    ],
)
def test_queues_are_open_in_their_business_hours(
    routing: Routing, queue: str, now: str, expected: tuple[bool, str | None]
) -> None:
    is_open, opens = routing.is_open(queue, datetime.fromisoformat(now))
    assert (is_open, opens.isoformat() if opens else None) == expected


def test_times_without_a_zone_are_refused(routing: Routing) -> None:
    with pytest.raises(ValueError, match="has no time zone"):
        routing.is_open("tier2-general", datetime(2026, 11, 24, 10, 0))


def test_sla_counts_only_minutes_while_the_queue_is_open(routing: Routing) -> None:
    # Saturday 19:30: 30 of 120 minutes before closing, the rest from Monday 08:00.
    assert routing.sla_deadlines(
        "tier2-general", "P3", at("2026-11-28T19:30:00+01:00")
    ) == SlaDeadlines(
        reminder_at=at("2026-11-30T09:30:00+01:00"), lead_at=at("2026-11-30T11:30:00+01:00")
    )
    # Within opening hours it is plain arithmetic.
    assert routing.sla_deadlines(
        routing.queue("tier2-billing"), "P1", at("2026-11-24T10:00:00+01:00")
    ) == SlaDeadlines(
        reminder_at=at("2026-11-24T10:10:00+01:00"), lead_at=at("2026-11-24T10:20:00+01:00")
    )
    with pytest.raises(ValueError, match="priority must be one of"):
        routing.sla_deadlines("tier2-general", "P0", at("2026-11-24T10:00:00+01:00"))


# --- Validation ---------------------------------------------------------------------

MINIMAL: dict[str, Any] = {
    "version": 1,
    "sla": {"lead_channel": "#leads", "lead_after": 1.5, "business_minutes": False},
    "schedules": {
        "weekdays": {
            "timezone": "Europe/Amsterdam",
            "mon": "09:00-17:00",
            "tue": "09:00-17:00",
            "wed": "09:00-17:00",
            "thu": "09:00-17:00",
            "fri": ["09:00-12:00", "13:00-17:00"],
        },
        "always": {
            "timezone": "UTC",
            **{day: "00:00-24:00" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
        },
    },
    "queues": {
        f"t{tier}": {
            "tier": tier,
            "channel": f"C0TIER{tier}00",
            "team": f"Team {tier}",
            "hours": "weekdays" if tier < 4 else "always",
            "sla_minutes": {"P1": 5, "P2": 10, "P3": 20, "P4": 40},
            "usual_wait_minutes": 7,
        }
        for tier in (2, 3, 4)
    },
    "tiers": {2: "t2", 3: "t3", 4: "t4"},
    "default_queue": "t2",
}


def _parse(data: dict[str, Any]) -> Routing:
    return parse_routing(yaml.safe_dump(data, sort_keys=False), source="test.yml")


def _problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(RoutingError) as error:
        _parse(data)
    assert error.value.source == "test.yml"
    return list(error.value.problems)


def test_minimal_rules_route_everything_to_the_default_queue() -> None:
    routing = _parse(MINIMAL)
    assert routing.route("anything", "hello", verified=False, repeat_contact=False) == Route(
        tier=2,
        queue="t2",
        channel="C0TIER200",
        team="Team 2",
        priority="P3",
        sla_minutes=20,
        usual_wait_minutes=7,
        category="anything",
    )
    # Without business_minutes the SLA is wall-clock time, also when closed.
    assert routing.sla_deadlines("t2", "P4", at("2026-11-28T12:00:00+00:00")) == SlaDeadlines(
        reminder_at=at("2026-11-28T12:40:00+00:00"), lead_at=at("2026-11-28T13:00:00+00:00")
    )
    # A lunch break splits Friday; a 24-hour schedule is always open.
    assert routing.is_open("t2", at("2026-11-27T12:30:00+01:00")) == (
        False,
        at("2026-11-27T13:00:00+01:00"),
    )
    assert routing.is_open("t4", at("2026-11-29T03:00:00+00:00")) == (True, None)


def test_every_problem_is_reported_with_its_path() -> None:
    data = copy.deepcopy(MINIMAL)
    data["colour"] = "blue"
    data["sla"]["lead_channel"] = "leads"
    data["schedules"]["weekdays"]["timezone"] = "Europe/Atlantis"
    data["schedules"]["weekdays"]["mon"] = "9-17"
    data["schedules"]["weekdays"]["tue"] = "17:00-09:00"
    data["schedules"]["weekdays"]["wed"] = ["09:00-13:00", "12:00-17:00"]
    data["schedules"]["weekdays"]["holidays"] = ["2026-12-25"]
    billing = data["queues"]["t2"]
    billing["sla_minutes"] = {"P1": 5, "P2": 10, "P3": 20, "P5": 40}
    billing["tier"] = 5
    billing["hours"] = "nights"
    data["queues"]["t3"]["usual_wait_minutes"] = 0
    data["tiers"] = {2: "t3", 3: "t3", 7: "t4"}
    data["default_queue"] = "general"
    data["categories"] = {"double_charge": "billing"}
    data["category_keywords"] = [{"category": "legal_request", "words": ["law*yer"]}]
    data["priority"] = {
        "default": "P0",
        "rules": [{"name": "empty", "priority": "P1"}],
        "raise_one_step": {"limit": "P2", "verified": True},
    }
    assert _problems(data) == [
        "sla.lead_channel: 'leads' is neither a Slack channel id (C0123ABCD) nor a #channel-name",
        "schedules.weekdays.timezone: unknown time zone 'Europe/Atlantis' "
        "(use an IANA name like Europe/Amsterdam)",
        "schedules.weekdays.mon: '9-17' is not a time range like 08:00-17:30",
        "schedules.weekdays.tue: '17:00-09:00' ends before it starts; split ranges at midnight",
        "schedules.weekdays.wed: time ranges overlap in ['09:00-13:00', '12:00-17:00']",
        "schedules.weekdays.holidays: unknown key (weekdays are mon, tue, wed, thu, fri, sat, "
        "sun; also timezone, closed_on)",
        "queues.t2.tier: Input should be 2, 3 or 4 (got 5)",
        "queues.t2.sla_minutes.P4: required",
        "queues.t2.sla_minutes.P5: unknown priority (expected P1, P2, P3 or P4)",
        "queues.t3.usual_wait_minutes: Input should be greater than 0 (got 0)",
        "category_keywords[0].words: 'law*yer': '*' is allowed once, at the end of a word",
        "priority.default: Input should be 'P1', 'P2', 'P3' or 'P4' (got 'P0')",
        "priority.raise_one_step.verified: unknown key",
        "colour: unknown key",
        "queues.t2.hours: no schedule named 'nights'",
        "tiers[2]: queue 't3' is tier 3, not 2",
        "tiers[7]: unknown tier (expected 2, 3 or 4)",
        "tiers[4]: required (the queue for escalations to tier 4)",
        "default_queue: no queue named 'general'",
        "categories.double_charge: no queue named 'billing'",
        "category_keywords[0].category: 'legal_request' has no queue in categories",
        "priority.rules[0]: needs words or categories to match",
    ]


def test_the_error_message_lists_every_problem() -> None:
    data = copy.deepcopy(MINIMAL)
    del data["default_queue"]
    data["queues"]["t2"]["channel"] = "#Support"
    with pytest.raises(RoutingError) as error:
        _parse(data)
    assert str(error.value) == (
        "test.yml: 2 problems in the routing rules:\n"
        "  - queues.t2.channel: '#Support' is neither a Slack channel id (C0123ABCD) "
        "nor a #channel-name\n"
        "  - default_queue: required"
    )


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        (
            "version: 1\nqueues: [\n",
            ["line 3, column 1: expected the node content, but found '<stream end>'"],
        ),
        (
            "version: 1\nqueues:\n  a: 1\n  a: 2\n",
            ["line 4, column 3: duplicate key 'a'"],
        ),
        ("- just\n- a list\n", ["the file must be a mapping (version, sla, queues, ...)"]),
        ("", ["the file must be a mapping (version, sla, queues, ...)"]),
    ],
)
def test_files_that_are_not_valid_yaml_mappings_are_refused(text: str, problems: list[str]) -> None:
    with pytest.raises(RoutingError) as error:
        parse_routing(text, source="test.yml")
    assert list(error.value.problems) == problems


def test_a_missing_file_is_a_routing_error(tmp_path: Path) -> None:
    with pytest.raises(RoutingError) as error:
        load_routing(tmp_path / "routing.yml")
    assert error.value.problems == ("cannot read the file: No such file or directory",)


def test_a_copied_file_loads_like_the_default(tmp_path: Path) -> None:
    copied = tmp_path / "routing.yml"
    copied.write_text(DEFAULT_ROUTING_FILE.read_text())
    assert load_routing(copied) == load_routing()
