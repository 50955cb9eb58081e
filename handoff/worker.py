"""The outbox worker: delivers queued jobs to Slack and to the customer.

Jobs are taken oldest first. A failed job is retried with exponential backoff
(Slack's ``Retry-After`` wins when it answers 429) and holds back the later
jobs of the same escalation, so a thread never shows messages out of order.
Nothing is dropped while Slack or Rasa is down; a 4xx from Rasa (an unknown
conversation) gives the job up and logs it.

Each escalation's card is posted exactly once. Before ``chat.postMessage`` the
job records that a post was attempted; the card carries the escalation id in
its message metadata (the idempotency marker). If the worker died after Slack
accepted a card but before the database recorded its ``ts``, the retry finds
the card in the channel's recent history (``conversations.history`` with
metadata) and adopts it instead of posting a second one.

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
from handoff.store import Escalation, EscalationStore, Job, now_utc

logger = logging.getLogger(__name__)

CARD_EVENT = "frontline_escalation"  # message metadata event_type of a card
# How far back a retried card post looks for a card that already went out.
HISTORY_PAGE_SIZE = 200
HISTORY_PAGES = 5
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
BACKOFF_FIRST_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 300.0
RASA_TIMEOUT_SECONDS = 10.0


class Retry(Exception):
    """Deliver later: at ``after`` seconds, or by the backoff schedule."""

    def __init__(self, reason: str, after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.after = after


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
            raise GiveUp(f"rasa refused with {response.status_code}: {response.text[:300]}")


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
    ) -> None:
        self.store = store
        self.rasa = rasa
        self.slack = slack
        self.tier_teams = tier_teams or {}
        self.clock = clock
        self.tick = tick  # run before each pass (the SLA check)
        self.wake = asyncio.Event()
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
        blocked: set[str] = set()
        delivered = 0
        for job in jobs:
            if job.escalation_id in blocked:
                continue
            if await self._deliver(job):
                delivered += 1
            else:
                blocked.add(job.escalation_id)
        return delivered

    async def _deliver(self, job: Job) -> bool:
        escalation = await asyncio.to_thread(self.store.get, job.escalation_id)
        log = {"conversation_id": escalation.conversation_id, "job": job.kind}
        if job.kind.startswith("slack.") and self.slack is None:
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
        try:
            response = await self.slack.api_call(method, json=kwargs)
        except SlackApiError as error:
            status = error.response.status_code
            if status == 429:
                after = float(error.response.headers.get("Retry-After", "1") or 1)
                raise Retry("slack rate limited", after=after) from error
            if status >= 500:
                raise Retry(f"slack answered {status}") from error
            raise GiveUp(f"slack refused {method}: {error.response.get('error')}") from error
        except (OSError, TimeoutError) as error:
            raise Retry(f"slack unreachable: {error.__class__.__name__}") from error
        except Exception as error:  # aiohttp client errors and the like
            if error.__class__.__module__.startswith("aiohttp"):
                raise Retry(f"slack unreachable: {error.__class__.__name__}") from error
            raise
        return dict(response.data) if isinstance(response.data, dict) else {}

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
        posted: tuple[str, str] | None = None
        if job.payload.get("attempted"):
            # An earlier attempt may have reached Slack before it died.
            posted = await self._find_card(escalation)
        else:
            await asyncio.to_thread(self.store.set_job_payload, job, {"attempted": True})
        if posted is None:
            response = await self._slack(
                "chat.postMessage",
                channel=escalation.slack_channel,
                metadata={
                    "event_type": CARD_EVENT,
                    "event_payload": {"escalation_id": escalation.id},
                },
                **self.card(escalation),
            )
            posted = (str(response.get("channel") or escalation.slack_channel), response["ts"])
        else:
            logger.warning(
                "card %s was already in Slack; not posted again",
                escalation.id,
                extra={"conversation_id": escalation.conversation_id},
            )
        changes: dict[str, Any] = {"slack_channel": posted[0], "slack_ts": posted[1]}
        if escalation.status == "queued":
            changes["status"] = "posted"
        return changes

    async def _find_card(self, escalation: Escalation) -> tuple[str, str] | None:
        """``(channel id, ts)`` of the escalation's card if Slack already has it:
        the channel's latest top-level messages, by their metadata."""
        if not escalation.slack_channel:
            return None
        channel = await self._channel_id(escalation.slack_channel)
        if channel is None:
            return None
        cursor = ""
        for _ in range(HISTORY_PAGES):
            page = await self._slack(
                "conversations.history",
                channel=channel,
                limit=HISTORY_PAGE_SIZE,
                include_all_metadata=True,
                **({"cursor": cursor} if cursor else {}),
            )
            for message in page.get("messages") or []:
                metadata = message.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if (
                    metadata.get("event_type") == CARD_EVENT
                    and payload.get("escalation_id") == escalation.id
                ):
                    return channel, str(message["ts"])
            cursor = str((page.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor:
                break
        return None

    async def _channel_id(self, channel: str) -> str | None:
        """The id of a channel given by id or ``#name`` (history needs the id)."""
        if _CHANNEL_ID.match(channel):
            return channel
        name = channel.removeprefix("#")
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
            await self._slack(
                "chat.postMessage",
                channel=escalation.slack_channel,
                thread_ts=escalation.slack_ts,
                **message,
            )
            # Remember progress, so a retry after a failure posts only the rest.
            await asyncio.to_thread(self.store.set_job_payload, job, {"posted": number})
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
        await self._slack(
            "chat.postMessage",
            channel=escalation.slack_channel,
            thread_ts=escalation.slack_ts,
            **message,
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
        await self._slack(
            "chat.postMessage",
            channel=job.payload["channel"],
            **blocks.sla_reminder(
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
