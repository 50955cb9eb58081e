"""The outbox worker: delivers queued jobs to Slack and to the customer.

**Order.** Jobs travel in lanes: each escalation has one lane to Slack and one
to the customer (``handoff.store.lane_of``). A lane delivers strictly in order:
a failed job is retried with exponential backoff (Slack's ``Retry-After`` wins
when it answers 429) and everything behind it in its lane waits, also across
passes, so a thread never shows messages out of order and the customer gets
agent replies in the order they were written. Different lanes are delivered
concurrently, at most ``concurrency`` at a time, so one slow Slack call does not
hold up every other escalation. Nothing is dropped while Slack or Rasa is
down; a 4xx from Rasa (an unknown conversation) gives the job up and logs it.

**Once.** Every message posted to Slack carries a marker in its message
metadata: the card its escalation id, every other post its job's dedupe key
and part number. Before ``chat.postMessage`` the job records which part it is
sending. If the outcome of that attempt is unknown (the answer was lost, Slack
answered 5xx, the worker died), the retry first looks for the marker (the
channel's recent history for a card or reminder, the thread's replies for a
thread post) and adopts what it finds instead of posting again. A refusal
that proves nothing was posted (429, a connection that never opened, a method
we are still backing off from) clears the record, so it costs no lookup.

**Rate limits.** A 429 holds back the whole method for ``Retry-After`` seconds
(Slack's limits are per method and workspace), not only the job that got it.
A channel's id (history needs ids; routing may name channels ``#name``) is
looked up once per process.

Without Slack credentials (the ``make run`` default) Slack jobs are marked
``skipped``: the escalation stays in the queue for the ``handoff`` terminal
commands, and pushes to the customer still go out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handoff import blocks
from handoff.service import (
    POST_ESCALATION,
    POST_TRANSCRIPT,
    SLA_REMINDER,
    THREAD_MESSAGE,
    TO_CUSTOMER,
    UPDATE_CARD,
)
from handoff.store import SLACK_LANE, Escalation, EscalationStore, Job, lane_of, now_utc

logger = logging.getLogger(__name__)

CARD_EVENT = "frontline_escalation"  # message metadata event_type of a card
POST_EVENT = "frontline_post"  # of every other post: {"job": dedupe key, "part": n}
# How far back a retried post looks for a copy that already went out.
HISTORY_PAGE_SIZE = 200
HISTORY_PAGES = 5
DEFAULT_CONCURRENCY = 8  # lanes delivered at once
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
BACKOFF_FIRST_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 300.0
RASA_TIMEOUT_SECONDS = 10.0


class Retry(Exception):
    """Deliver later: at ``after`` seconds, or by the backoff schedule.
    ``maybe_sent`` False says the request certainly did not take effect."""

    def __init__(self, reason: str, after: float | None = None, maybe_sent: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.after = after
        self.maybe_sent = maybe_sent


class GiveUp(Exception):
    """The job can never succeed (e.g. Rasa does not know the conversation)."""


@dataclass
class RasaClient:
    """Pushes messages into a customer's conversation through Rasa's HTTP API."""

    base_url: str
    token: str | None
    http: httpx.AsyncClient

    async def trigger(self, conversation_id: str, intent: str, entities: dict[str, Any]) -> None:
        params = {"output_channel": "latest"}
        if self.token:
            params["token"] = self.token
        try:
            response = await self.http.post(
                f"{self.base_url}/conversations/{conversation_id}/trigger_intent",
                params=params,
                json={"name": intent, "entities": entities},
                timeout=RASA_TIMEOUT_SECONDS,
            )
        except httpx.TransportError as error:
            raise Retry(f"rasa unreachable: {error.__class__.__name__}") from error
        if response.status_code >= 500:
            raise Retry(f"rasa answered {response.status_code}")
        if response.status_code >= 400:
            # Only the status: Rasa's answer may quote the conversation, and this is logged.
            raise GiveUp(f"rasa refused with {response.status_code}")


def backoff(attempts: int) -> float:
    return float(min(BACKOFF_FIRST_SECONDS * 2**attempts, BACKOFF_MAX_SECONDS))


class OutboxWorker:
    """Delivers due outbox jobs; ``slack`` None means Slack is not configured."""

    def __init__(
        self,
        store: EscalationStore,
        rasa: RasaClient,
        slack: AsyncWebClient | None,
        tier_teams: dict[int, str] | None = None,
        clock: Callable[[], datetime] = now_utc,
        tick: Callable[[], Any] | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        self.store = store
        self.rasa = rasa
        self.slack = slack
        self.tier_teams = tier_teams or {}
        self.clock = clock
        self.tick = tick  # run before each pass (the SLA check)
        self.wake = asyncio.Event()
        self._lanes = asyncio.Semaphore(max(1, concurrency))
        self._resume_at: dict[str, datetime] = {}  # Slack method -> end of its 429 backoff
        self._channel_ids: dict[str, str] = {}  # "#name" -> id
        self._channel_lookup = asyncio.Lock()  # concurrent lanes share one lookup
        self._handlers: dict[str, Callable[[Job, Escalation], Awaitable[dict[str, Any] | None]]] = {
            POST_ESCALATION: self._post_escalation,
            POST_TRANSCRIPT: self._post_transcript,
            THREAD_MESSAGE: self._thread_message,
            UPDATE_CARD: self._update_card,
            SLA_REMINDER: self._sla_reminder,
            TO_CUSTOMER: self._to_customer,
        }

    async def run(self, stop: asyncio.Event, interval: float = 0.2) -> None:
        """Delivers until ``stop`` is set; ``wake`` skips the wait."""
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:  # the loop must survive a database hiccup
                logger.exception("outbox pass failed")
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), interval)

    async def run_once(self) -> int:
        """One pass over the due jobs; returns how many were delivered."""
        if self.tick is not None:
            await asyncio.to_thread(self.tick)
        now = self.clock()
        jobs = await asyncio.to_thread(self.store.due_jobs, now)
        lanes: dict[tuple[str, str], list[Job]] = {}
        for job in jobs:
            lanes.setdefault((job.escalation_id, lane_of(job.kind)), []).append(job)
        delivered = await asyncio.gather(*(self._deliver_lane(lane) for lane in lanes.values()))
        return sum(delivered)

    async def _deliver_lane(self, jobs: list[Job]) -> int:
        """Delivers one lane's jobs in order, stopping at the first failure."""
        async with self._lanes:
            delivered = 0
            for job in jobs:
                if not await self._deliver(job):
                    break
                delivered += 1
            return delivered

    async def _deliver(self, job: Job) -> bool:
        escalation = await asyncio.to_thread(self.store.get, job.escalation_id)
        log = {"conversation_id": escalation.conversation_id, "job": job.kind}
        if lane_of(job.kind) == SLACK_LANE and self.slack is None:
            await asyncio.to_thread(self.store.job_skipped, job, "slack not configured")
            return True
        try:
            changes = await self._handlers[job.kind](job, escalation)
        except Retry as retry:
            delay = retry.after if retry.after is not None else backoff(job.attempts)
            logger.warning("delivery failed, retrying in %.0fs: %s", delay, retry.reason, extra=log)
            await asyncio.to_thread(
                self.store.job_failed, job, retry.reason, self.clock() + timedelta(seconds=delay)
            )
            return False
        except GiveUp as error:
            logger.error("delivery given up: %s", error, extra=log)
            await asyncio.to_thread(self.store.job_failed, job, str(error), None)
            return True
        await asyncio.to_thread(self.store.job_done, job, self.clock(), changes)
        return True

    # -- Slack -------------------------------------------------------------------

    async def _slack(self, method: str, **kwargs: Any) -> dict[str, Any]:
        assert self.slack is not None
        resume_at = self._resume_at.get(method)
        if resume_at is not None and resume_at > self.clock():
            wait = (resume_at - self.clock()).total_seconds()
            raise Retry(f"slack rate limited {method}", after=wait, maybe_sent=False)
        try:
            response = await self.slack.api_call(method, json=kwargs)
        except SlackApiError as error:
            status = error.response.status_code
            if status == 429:
                after = _retry_after(error.response.headers)
                self._resume_at[method] = self.clock() + timedelta(seconds=after)
                raise Retry(
                    f"slack rate limited {method}", after=after, maybe_sent=False
                ) from error
            if status >= 500:
                raise Retry(f"slack answered {status}") from error
            raise GiveUp(f"slack refused {method}: {error.response.get('error')}") from error
        except Exception as error:  # OSError, TimeoutError, aiohttp client errors
            if isinstance(error, OSError | TimeoutError) or error.__class__.__module__.startswith(
                "aiohttp"
            ):
                raise Retry(
                    f"slack unreachable: {error.__class__.__name__}",
                    maybe_sent=not _never_connected(error),
                ) from error
            raise
        return dict(response.data) if isinstance(response.data, dict) else {}

    async def _progress(self, job: Job, **changes: Any) -> None:
        """Records a job's progress durably (``None`` removes a key); the job's
        own payload follows, so later steps of this attempt see it."""
        for key, value in changes.items():
            if value is None:
                job.payload.pop(key, None)
            else:
                job.payload[key] = value
        await asyncio.to_thread(self.store.set_job_payload, job, dict(job.payload))

    async def _post_once(
        self,
        job: Job,
        part: int,
        channel: str,
        message: blocks.SlackMessage,
        *,
        thread_ts: str | None = None,
        marker: tuple[str, dict[str, Any]] | None = None,
    ) -> tuple[str, str]:
        """Posts ``message`` unless an earlier attempt of this job's ``part``
        already reached Slack; returns ``(channel id, ts)`` of the post."""
        event_type, payload = marker or (POST_EVENT, {"job": job.dedupe_key, "part": part})
        if _sending(job) == part:
            found = await self._find_post(channel, thread_ts, event_type, payload)
            if found is not None:
                logger.warning(
                    "%s part %d was already in Slack; not posted again",
                    job.kind,
                    part,
                    extra={"escalation_id": job.escalation_id},
                )
                return found
        else:
            await self._progress(job, sending=part, attempted=None)
        try:
            response = await self._slack(
                "chat.postMessage",
                channel=channel,
                metadata={"event_type": event_type, "event_payload": payload},
                **({"thread_ts": thread_ts} if thread_ts else {}),
                **message,
            )
        except Retry as retry:
            if not retry.maybe_sent:
                await self._progress(job, sending=None)  # the retry needs no lookup
            raise
        return str(response.get("channel") or channel), str(response["ts"])

    async def _find_post(
        self, channel: str, thread_ts: str | None, event_type: str, payload: dict[str, Any]
    ) -> tuple[str, str] | None:
        """``(channel id, ts)`` of a post carrying this marker, if Slack has it:
        among a thread's replies, or the channel's latest top-level messages."""
        channel_id = await self._channel_id(channel)
        if channel_id is None:
            return None
        method = "conversations.replies" if thread_ts else "conversations.history"
        cursor = ""
        for _ in range(HISTORY_PAGES):
            page = await self._slack(
                method,
                channel=channel_id,
                limit=HISTORY_PAGE_SIZE,
                include_all_metadata=True,
                **({"ts": thread_ts} if thread_ts else {}),
                **({"cursor": cursor} if cursor else {}),
            )
            for message in page.get("messages") or []:
                metadata = message.get("metadata") or {}
                if (
                    metadata.get("event_type") == event_type
                    and (metadata.get("event_payload") or {}) == payload
                ):
                    return channel_id, str(message["ts"])
            cursor = str((page.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor:
                break
        return None

    def _verified(self, escalation: Escalation) -> bool:
        return bool((escalation.customer or {}).get("verified"))

    def card(self, escalation: Escalation) -> blocks.SlackMessage:
        """The escalation's card as it should look now (redacted inside)."""
        context = escalation.context or {}
        facts = [
            (label, ", ".join(context[key]))
            for label, key in (
                ("Bot understood", "intents"),
                ("Articles shown", "kb_articles"),
                ("Bot ran", "actions"),
            )
            if context.get(key)
        ]
        facts.append(("Conversation", escalation.conversation_id))
        return blocks.escalation_card(
            escalation_id=escalation.id,
            tier=escalation.tier,
            priority=escalation.priority,
            category=escalation.category,
            team=escalation.team,
            customer=blocks.Customer.from_dict(escalation.customer),
            summary=escalation.summary,
            facts=facts,
            status=blocks.CardStatus(
                state=escalation.status,  # type: ignore[arg-type]
                agent=escalation.claimed_by_name,
            ),
            tier_teams=self.tier_teams,
        )

    async def _post_escalation(self, job: Job, escalation: Escalation) -> dict[str, Any]:
        if job.payload.get("attempted"):  # recorded by earlier versions
            job.payload["sending"] = 1
        if not escalation.slack_channel:
            raise GiveUp("the escalation has no Slack channel")
        posted = await self._post_once(
            job,
            1,
            escalation.slack_channel,
            self.card(escalation),
            marker=(CARD_EVENT, {"escalation_id": escalation.id}),
        )
        changes: dict[str, Any] = {"slack_channel": posted[0], "slack_ts": posted[1]}
        if escalation.status == "queued":
            changes["status"] = "posted"
        return changes

    async def _channel_id(self, channel: str) -> str | None:
        """The id of a channel given by id or ``#name`` (history needs the id);
        names are looked up once per process."""
        if _CHANNEL_ID.match(channel):
            return channel
        async with self._channel_lookup:
            if channel not in self._channel_ids:
                found = await self._list_channel(channel.removeprefix("#"))
                if found is None:
                    return None
                self._channel_ids[channel] = found
        return self._channel_ids[channel]

    async def _list_channel(self, name: str) -> str | None:
        cursor = ""
        while True:
            page = await self._slack(
                "conversations.list",
                types="public_channel,private_channel",
                exclude_archived=True,
                limit=1000,
                **({"cursor": cursor} if cursor else {}),
            )
            for found in page.get("channels") or []:
                if found.get("name") == name:
                    return str(found["id"])
            cursor = str((page.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor:
                return None

    async def _post_transcript(self, job: Job, escalation: Escalation) -> None:
        if escalation.slack_ts is None:
            raise Retry("escalation not posted yet")
        messages = blocks.transcript_messages(
            escalation.transcript, verified=self._verified(escalation)
        )
        posted = int(job.payload.get("posted", 0))
        for number, message in enumerate(messages[posted:], start=posted + 1):
            await self._post_once(
                job, number, escalation.slack_channel or "", message, thread_ts=escalation.slack_ts
            )
            # Remember progress, so a retry after a failure posts only the rest.
            await self._progress(job, posted=number, sending=None)
        return None

    async def _thread_message(self, job: Job, escalation: Escalation) -> None:
        if escalation.slack_ts is None:
            raise Retry("escalation not posted yet")
        payload = job.payload
        verified = self._verified(escalation)
        if payload.get("from") == "csat":
            message = blocks.csat_blocks(
                int(payload["score"]), payload.get("comment") or None, verified=verified
            )
        else:
            speaker = "system" if payload.get("from") == "system" else "customer"
            message = blocks.relay_message(
                {"from": speaker, "text": str(payload.get("text", "")), "ts": job.created_at},
                verified=verified,
            )
        await self._post_once(
            job, 1, escalation.slack_channel or "", message, thread_ts=escalation.slack_ts
        )
        return None

    async def _update_card(self, job: Job, escalation: Escalation) -> None:
        if escalation.slack_ts is None:
            raise Retry("escalation not posted yet")
        await self._slack(
            "chat.update",
            channel=escalation.slack_channel,
            ts=escalation.slack_ts,
            **self.card(escalation),
        )
        return None

    async def _sla_reminder(self, job: Job, escalation: Escalation) -> None:
        if escalation.status not in ("queued", "posted"):
            return None  # claimed or closed since: no reminder needed
        permalink = None
        if escalation.slack_ts is not None:
            link = await self._slack(
                "chat.getPermalink",
                channel=escalation.slack_channel,
                message_ts=escalation.slack_ts,
            )
            permalink = link.get("permalink")
        waited = int((self.clock() - escalation.created_at).total_seconds() // 60)
        await self._post_once(
            job,
            1,
            str(job.payload["channel"]),
            blocks.sla_reminder(
                priority=escalation.priority,
                category=escalation.category,
                team=escalation.team,
                waited_minutes=waited,
                sla_minutes=int(job.payload["sla_minutes"]),
                permalink=permalink,
                lead=bool(job.payload.get("lead")),
            ),
        )
        return None

    # -- the customer --------------------------------------------------------------

    async def _to_customer(self, job: Job, escalation: Escalation) -> None:
        await self.rasa.trigger(
            escalation.conversation_id, job.payload["intent"], job.payload.get("entities", {})
        )
        return None


def _sending(job: Job) -> int | None:
    part = job.payload.get("sending")
    return part if isinstance(part, int) else None


def _retry_after(headers: Any) -> float:
    """Slack's ``Retry-After`` in seconds (at least 1)."""
    try:
        return max(1.0, float(headers.get("Retry-After", "1") or 1))
    except (TypeError, ValueError):
        return 1.0


def _never_connected(error: BaseException) -> bool:
    """Whether a transport error happened before the request could reach
    Slack (connection refused, no route, DNS): then it certainly did not post."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        name = current.__class__.__name__
        if isinstance(current, ConnectionRefusedError) or name in (
            "ClientConnectorError",
            "ClientConnectorDNSError",
            "ClientConnectorCertificateError",
        ):
            return True
        current = current.__cause__ or current.__context__
    return False
