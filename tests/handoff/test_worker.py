"""The outbox worker against the imitation of Slack's Web API: outages, rate
limits and restarts delay deliveries but never lose or repeat them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from handoff.blocks import transcript_messages
from handoff.db import create_engine, upgrade
from handoff.routing import load_routing
from handoff.server import slack_client
from handoff.service import EscalationRequest, HandoffService
from handoff.settings import HandoffSettings
from handoff.store import EscalationStore, Job
from handoff.worker import CARD_EVENT, OutboxWorker, RasaClient
from tests.handoff.mock_slack import MockSlack

TECH = "C0TECHNICAL"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # a Tuesday, queues open

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def slack(slack_api: MockSlack) -> MockSlack:
    slack_api.add_channel(TECH, "#support-technical", members=["U0ALEX"])
    return slack_api


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(database_url: str) -> Iterator[EscalationStore]:
    engine = create_engine(database_url)
    upgrade(engine)
    yield EscalationStore(engine)
    engine.dispose()


def worker_for(
    store: EscalationStore, slack: MockSlack, clock: Clock, rasa: httpx.AsyncClient | None = None
) -> OutboxWorker:
    settings = HandoffSettings(
        _env_file=None,
        slack_bot_token=slack.token,
        slack_api_url=slack.url,  # type: ignore[arg-type]
    )
    return OutboxWorker(
        store,
        RasaClient("http://rasa.invalid", None, rasa or httpx.AsyncClient()),
        slack_client(settings),
        {2: "Customer care", 3: "Product experts", 4: "Specialists"},
        clock=clock,
    )


def open_escalations(store: EscalationStore, clock: Clock, count: int) -> list[str]:
    service = HandoffService(store, load_routing(), clock=clock)
    ids = []
    for n in range(count):
        ticket = service.open(
            EscalationRequest(
                conversation_id=f"conv{n}",
                reason="tier2_topic",
                category="damaged_item",
                transcript=[{"from": "customer", "text": f"my watch {n} arrived broken", "ts": ""}],
            )
        )
        ids.append(ticket.escalation_id)
    return ids


def top_level_posts(slack: MockSlack) -> list[str]:
    """The escalation ids of the cards Slack holds, in posting order."""
    return [
        m["metadata"]["event_payload"]["escalation_id"]
        for m in slack.messages(TECH)
        if "thread_ts" not in m and m.get("metadata", {}).get("event_type") == CARD_EVENT
    ]


async def deliver_all(worker: OutboxWorker, clock: Clock, passes: int = 20) -> None:
    for _ in range(passes):
        await worker.run_once()
        clock.advance(301)  # past the longest backoff


async def test_a_slack_outage_delays_but_delivers_each_escalation_once(
    store: EscalationStore, slack: MockSlack, clock: Clock
) -> None:
    ids = open_escalations(store, clock, 3)
    worker = worker_for(store, slack, clock)
    slack.down()
    assert await worker.run_once() == 0
    assert [(j.kind, j.status, j.attempts) for j in store.jobs()] == [
        ("slack.post_escalation", "pending", 1),
        ("slack.post_transcript", "pending", 0),
    ] * 3
    slack.up()
    await deliver_all(worker, clock)
    # Escalations go out concurrently: each card once, in any order.
    assert sorted(top_level_posts(slack)) == sorted(ids)
    assert {(j.kind, j.status) for j in store.jobs()} == {
        ("slack.post_escalation", "done"),
        ("slack.post_transcript", "done"),
    }
    assert [store.get(i).status for i in ids] == ["posted"] * 3


async def test_rate_limits_are_honoured_with_retry_after(
    store: EscalationStore, slack: MockSlack, clock: Clock
) -> None:
    [escalation_id] = open_escalations(store, clock, 1)
    worker = worker_for(store, slack, clock)
    slack.fail_next(429, count=3, retry_after=7, method="chat.postMessage")
    for expected_attempts in (1, 2, 3):
        start = clock.now
        await worker.run_once()
        job = store.jobs(escalation_id)[0]  # the card; the transcript waits for it
        assert (job.status, job.attempts, job.next_attempt_at) == (
            "pending",
            expected_attempts,
            start + timedelta(seconds=7),
        )
        clock.advance(6)
        assert await worker.run_once() == 0  # not due yet
        clock.advance(1)
    await deliver_all(worker, clock, passes=3)
    assert top_level_posts(slack) == [escalation_id]


async def test_a_restarted_service_delivers_what_the_old_one_could_not(
    database_url: str, slack: MockSlack, clock: Clock
) -> None:
    engine = create_engine(database_url)
    upgrade(engine)
    ids = open_escalations(EscalationStore(engine), clock, 2)
    slack.fail_next(503, count=10)
    await worker_for(EscalationStore(engine), slack, clock).run_once()
    engine.dispose()  # the old process is gone

    fresh = EscalationStore(create_engine(database_url))
    slack.reset()
    slack.add_channel(TECH, "#support-technical")
    await deliver_all(worker_for(fresh, slack, clock), clock)
    # Escalations go out concurrently: each card once, in any order.
    assert sorted(top_level_posts(slack)) == sorted(ids)


async def test_thread_messages_wait_for_their_card_and_keep_order(
    store: EscalationStore, slack: MockSlack, clock: Clock
) -> None:
    [escalation_id] = open_escalations(store, clock, 1)
    service = HandoffService(store, load_routing(), clock=clock)
    service.customer_message("conv0", "first", "m1")
    service.customer_message("conv0", "second", "m2")
    service.customer_message("conv0", "second", "m2")  # a resend: queued once
    worker = worker_for(store, slack, clock)
    slack.fail_next(500, count=1, method="chat.postMessage")
    await worker.run_once()
    assert slack.calls_to("chat.postMessage")[0].status == 500
    assert len(slack.calls_to("chat.postMessage")) == 1  # the rest waited
    await deliver_all(worker, clock)
    card_ts = store.get(escalation_id).slack_ts
    replies = [m["text"] for m in slack.replies(TECH, card_ts or "")]
    assert replies[-2:] == ["New message from the customer"] * 2
    bodies = [str(m.get("blocks")) for m in slack.replies(TECH, card_ts or "")]
    assert ["first" in b for b in bodies[-2:]] == [True, False]
    assert ["second" in b for b in bodies[-2:]] == [False, True]


async def test_a_conversation_rasa_does_not_know_is_given_up_not_retried(
    store: EscalationStore, slack: MockSlack, clock: Clock
) -> None:
    from handoff.service import Agent

    [escalation_id] = open_escalations(store, clock, 1)
    HandoffService(store, load_routing(), clock=clock).claim(escalation_id, Agent("U0ALEX", "Alex"))
    requests: list[str] = []

    def rasa(request: httpx.Request) -> httpx.Response:
        requests.append(request.url.path)
        return httpx.Response(404, json={"message": "conversation not found"})

    worker = worker_for(store, slack, clock, httpx.AsyncClient(transport=httpx.MockTransport(rasa)))
    await deliver_all(worker, clock, passes=3)
    customer_jobs = [j for j in store.jobs(escalation_id) if j.kind == "rasa.trigger_intent"]
    assert [(j.status, j.attempts) for j in customer_jobs] == [("failed", 1)]
    assert requests == ["/conversations/conv0/trigger_intent"]


async def test_unclaimed_escalations_remind_the_queue_then_the_leads_once(
    store: EscalationStore, slack: MockSlack, clock: Clock
) -> None:
    slack.add_channel("C0LEADS", "#support-leads")
    service = HandoffService(store, load_routing(), clock=clock)
    [escalation_id] = open_escalations(store, clock, 1)
    worker = worker_for(store, slack, clock)
    worker.tick = service.check_sla
    await worker.run_once()
    escalation = store.get(escalation_id)
    # P3 technical: 120 business minutes to the reminder, twice that to the leads.
    assert escalation.sla_due_at == clock.now + timedelta(minutes=120)
    assert escalation.sla_lead_at == clock.now + timedelta(minutes=240)

    def reminders() -> list[tuple[str, str]]:
        return [
            (c.args["channel"], c.args["text"])
            for c in slack.calls_to("chat.postMessage")
            if "unclaimed" in c.args["text"]
        ]

    clock.advance(119 * 60)
    await worker.run_once()
    assert reminders() == []
    clock.advance(60)
    await worker.run_once()
    await worker.run_once()
    assert reminders() == [
        (
            TECH,
            "Still unclaimed: P3 · Damaged item (Hardware and technical) "
            "unclaimed for 2 h (SLA 2 h)",
        )
    ]
    clock.advance(120 * 60)
    await worker.run_once()
    await worker.run_once()
    assert [channel for channel, _ in reminders()] == [TECH, "#support-leads"]
    clock.advance(600 * 60)
    await worker.run_once()
    assert len(reminders()) == 2  # each once


async def test_a_claimed_escalation_gets_no_reminder(
    store: EscalationStore, slack: MockSlack, clock: Clock
) -> None:
    from handoff.service import Agent

    service = HandoffService(store, load_routing(), clock=clock)
    [escalation_id] = open_escalations(store, clock, 1)
    service.claim(escalation_id, Agent("U0ALEX", "Alex"))
    clock.advance(10 * 3600)
    assert service.check_sla() == 0


class Crash(Exception):
    """The process dies (here: right after Slack accepted the card)."""


class CrashingStore(EscalationStore):
    """Dies when it would record that a job of ``kind`` was delivered (by
    default: that the card was posted)."""

    def __init__(self, engine: Any, kind: str = "slack.post_escalation") -> None:
        super().__init__(engine)
        self.kind = kind

    def job_done(self, job: Job, now: datetime, escalation_changes: Any = None) -> None:
        if job.kind == self.kind:
            raise Crash(job.kind)
        super().job_done(job, now, escalation_changes)


async def test_a_card_posted_just_before_a_crash_is_found_not_posted_again(
    database_url: str, slack: MockSlack, clock: Clock
) -> None:
    engine = create_engine(database_url)
    upgrade(engine)
    [escalation_id] = open_escalations(EscalationStore(engine), clock, 1)
    with pytest.raises(Crash):
        await worker_for(CrashingStore(engine), slack, clock).run_once()
    [card] = slack.messages(TECH)
    # Slack has the card; the database does not know its ts.
    assert EscalationStore(engine).get(escalation_id).slack_ts is None

    restarted = EscalationStore(engine)
    await deliver_all(worker_for(restarted, slack, clock), clock)
    assert top_level_posts(slack) == [escalation_id]
    assert (restarted.get(escalation_id).slack_ts, restarted.get(escalation_id).status) == (
        card["ts"],
        "posted",
    )
    stored = restarted.get(escalation_id)
    transcript = transcript_messages(stored.transcript, verified=False)
    assert [m["text"] for m in slack.replies(TECH, card["ts"])] == [
        m["text"] for m in transcript
    ]  # the transcript went into the thread of the one card
    lookups = [
        (c.method, c.args.get("channel"), c.args.get("types"))
        for c in slack.calls
        if c.method.startswith("conversations.")
    ]
    assert lookups == [
        ("conversations.list", None, "public_channel,private_channel"),
        ("conversations.history", TECH, None),
    ]
    engine.dispose()


async def test_a_card_that_never_reached_slack_is_posted_on_the_retry(
    store: EscalationStore, slack: MockSlack, clock: Clock
) -> None:
    [escalation_id] = open_escalations(store, clock, 1)
    slack.fail_next(503, method="chat.postMessage")
    worker = worker_for(store, slack, clock)
    await deliver_all(worker, clock)
    assert top_level_posts(slack) == [escalation_id]
    assert [c.method for c in slack.calls if "thread_ts" not in c.args][:4] == [
        "chat.postMessage",  # 503: Slack did not take it
        "conversations.list",
        "conversations.history",  # not there: post it
        "chat.postMessage",
    ]


# -- order, once, rate limits and concurrency under faults (issue 16) ------------------


def thread_texts(slack: MockSlack, store: EscalationStore, escalation_id: str) -> list[str]:
    """The customer's words in the card's thread, as agents see them, in order."""
    card_ts = store.get(escalation_id).slack_ts or ""
    found = []
    for message in slack.replies(TECH, card_ts):
        for block in message.get("blocks") or []:
            text = (block.get("text") or {}).get("text") or ""
            for word in ("first", "second", "third", "fourth"):
                if word in text:
                    found.append(word)
    return found


async def posted_card(store: EscalationStore, slack: MockSlack, clock: Clock) -> str:
    [escalation_id] = open_escalations(store, clock, 1)
    await deliver_all(worker_for(store, slack, clock), clock, passes=2)
    assert store.get(escalation_id).slack_ts is not None
    return escalation_id


async def test_a_message_waiting_for_its_retry_is_not_overtaken(
    store: EscalationStore, slack: MockSlack, clock: Clock
) -> None:
    escalation_id = await posted_card(store, slack, clock)
    service = HandoffService(store, load_routing(), clock=clock)
    worker = worker_for(store, slack, clock)
    service.customer_message("conv0", "first", "m1")
    slack.fail_next(429, retry_after=5, method="chat.postMessage")
    await worker.run_once()
    service.customer_message("conv0", "second", "m2")
    for _ in range(4):  # the first waits 5 s for its retry; the second waits behind it
        clock.advance(1)
        await worker.run_once()
        assert thread_texts(slack, store, escalation_id) == []
    clock.advance(1)
    await deliver_all(worker, clock, passes=2)
    assert thread_texts(slack, store, escalation_id) == ["first", "second"]


async def test_agent_replies_reach_the_customer_in_order_across_retries(
    store: EscalationStore, slack: MockSlack, clock: Clock
) -> None:
    from handoff.service import Agent

    escalation_id = await posted_card(store, slack, clock)
    service = HandoffService(store, load_routing(), clock=clock)
    alex = Agent("U0ALEX", "Alex")
    service.claim(escalation_id, alex)
    answers = iter([503] + [200] * 10)
    pushed: list[str] = []

    def rasa(request: httpx.Request) -> httpx.Response:
        status = next(answers)
        if status == 200:
            entities = json.loads(request.read())["entities"]
            pushed.append(entities.get("agent_text") or entities["kind"])
        return httpx.Response(status, json={})

    worker = worker_for(store, slack, clock, httpx.AsyncClient(transport=httpx.MockTransport(rasa)))
    await worker.run_once()  # the claim notice: 503, retried in 1 s
    service.reply(escalation_id, alex, "first", "1.1")
    service.reply(escalation_id, alex, "second", "1.2")
    await worker.run_once()  # nothing may overtake the notice
    assert pushed == []
    clock.advance(2)
    await deliver_all(worker, clock, passes=2)
    assert pushed == ["agent_joined", "first", "second"]


async def test_posts_whose_answers_were_lost_are_not_posted_twice(
    store: EscalationStore, slack: MockSlack, clock: Clock
) -> None:
    [escalation_id] = open_escalations(store, clock, 1)
    service = HandoffService(store, load_routing(), clock=clock)
    for n, word in enumerate(("first", "second", "third")):
        service.customer_message("conv0", word, f"m{n}")
    worker = worker_for(store, slack, clock)
    # Slack takes the card, the transcript and two messages, but every answer is lost.
    slack.lose_next(4, method="chat.postMessage")
    await deliver_all(worker, clock)
    stored = store.get(escalation_id)
    transcript = [m["text"] for m in transcript_messages(stored.transcript, verified=False)]
    assert top_level_posts(slack) == [escalation_id]
    assert [m["text"] for m in slack.replies(TECH, stored.slack_ts or "")] == transcript + [
        "New message from the customer"
    ] * 3
    assert thread_texts(slack, store, escalation_id) == ["first", "second", "third"]
    assert {j.status for j in store.jobs(escalation_id)} == {"done"}


async def test_a_thread_post_made_just_before_a_crash_is_not_posted_again(
    database_url: str, slack: MockSlack, clock: Clock
) -> None:
    engine = create_engine(database_url)
    upgrade(engine)
    escalation_id = await posted_card(EscalationStore(engine), slack, clock)
    HandoffService(EscalationStore(engine), load_routing(), clock=clock).customer_message(
        "conv0", "first", "m1"
    )
    with pytest.raises(Crash):
        await worker_for(CrashingStore(engine, "slack.thread_message"), slack, clock).run_once()
    assert thread_texts(slack, EscalationStore(engine), escalation_id) == ["first"]
    restarted = EscalationStore(engine)
    await deliver_all(worker_for(restarted, slack, clock), clock)
    assert thread_texts(slack, restarted, escalation_id) == ["first"]
    assert [j.status for j in restarted.jobs(escalation_id)][-1] == "done"
    engine.dispose()


async def test_a_refused_post_is_retried_without_searching_slack(
    store: EscalationStore, slack: MockSlack, clock: Clock
) -> None:
    """A 429 proves Slack did not take the post: no history lookup per retry."""
    [escalation_id] = open_escalations(store, clock, 1)
    slack.fail_next(429, count=5, retry_after=1, method="chat.postMessage")
    await deliver_all(worker_for(store, slack, clock), clock)
    assert top_level_posts(slack) == [escalation_id]
    assert [c.method for c in slack.calls if c.method.startswith("conversations.")] == []


async def test_a_channel_name_is_looked_up_once(
    store: EscalationStore, slack: MockSlack, clock: Clock
) -> None:
    """Uncertain failures (5xx) search for the card; the channel list is read once."""
    open_escalations(store, clock, 3)
    slack.fail_next(503, count=6, method="chat.postMessage")
    worker = worker_for(store, slack, clock)
    await deliver_all(worker, clock)
    assert len(top_level_posts(slack)) == 3
    assert len(slack.calls_to("conversations.list")) == 1
    assert len(slack.calls_to("conversations.history")) >= 3


async def test_retry_after_holds_back_the_method_for_every_escalation(
    store: EscalationStore, slack: MockSlack, clock: Clock
) -> None:
    open_escalations(store, clock, 1)
    slack.fail_next(429, retry_after=30, method="chat.postMessage")
    worker = worker_for(store, slack, clock)
    await worker.run_once()
    service = HandoffService(store, load_routing(), clock=clock)
    service.open(
        EscalationRequest(
            conversation_id="late",
            reason="tier2_topic",
            category="damaged_item",
            transcript=[{"from": "customer", "text": "mine too", "ts": ""}],
        )
    )
    for _ in range(29):
        clock.advance(1)
        await worker.run_once()
    assert len(slack.calls_to("chat.postMessage")) == 1  # only the refused one
    clock.advance(1)
    await deliver_all(worker, clock)
    assert len(top_level_posts(slack)) == 2


async def test_different_escalations_are_delivered_concurrently_each_in_order(
    store: EscalationStore, slack: MockSlack, clock: Clock
) -> None:
    ids = open_escalations(store, clock, 8)
    slack.delay = 0.2  # a slow Slack
    worker = worker_for(store, slack, clock)
    await deliver_all(worker, clock, passes=3)
    assert sorted(top_level_posts(slack)) == sorted(ids)
    assert 2 <= slack.max_in_flight <= 8
    for escalation_id in ids:  # each card's transcript is in its own thread
        stored = store.get(escalation_id)
        expected = [m["text"] for m in transcript_messages(stored.transcript, verified=False)]
        assert [m["text"] for m in slack.replies(TECH, stored.slack_ts or "")] == expected
