"""The Slack app: buttons on escalation cards and agents' replies in threads.

Listeners are small: each acks first (Slack wants an answer within 3 s), then
calls ``HandoffService`` (the same operations the ``handoff`` terminal
commands use) and wakes the outbox worker so deliveries go out at once.
Event retries from Slack are recognised by event id and ignored.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from handoff.blocks import parse_escalate_value
from handoff.errors import AlreadyClaimed, HandoffError, NotOpen
from handoff.service import Agent, HandoffService
from handoff.slack_text import to_widget_text
from handoff.store import now_utc
from handoff.worker import OutboxWorker

logger = logging.getLogger(__name__)


class Directory:
    """Slack user names and channel members, looked up once per process."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self._names: dict[str, str] = {}

    async def name(self, user_id: str) -> str:
        if user_id not in self._names:
            response = await self.client.users_info(user=user_id)
            user = response.get("user") or {}
            profile = user.get("profile") or {}
            self._names[user_id] = (
                profile.get("display_name") or user.get("real_name") or user.get("name") or user_id
            )
        return self._names[user_id]

    async def is_member(self, channel: str, user_id: str) -> bool:
        cursor = None
        while True:
            response = await self.client.conversations_members(channel=channel, cursor=cursor)
            if user_id in (response.get("members") or []):
                return True
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return False


def register(app: AsyncApp, service: HandoffService, worker: OutboxWorker) -> None:
    """Adds Frontline's listeners to a Bolt app."""
    directory = Directory(app.client)

    async def tell(client: AsyncWebClient, channel: str, user: str, text: str) -> None:
        await client.chat_postEphemeral(channel=channel, user=user, text=text)

    async def agent_for(user_id: str) -> Agent:
        return Agent(user_id, await directory.name(user_id))

    @app.action("handoff_claim")
    async def claim(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        escalation_id = body["actions"][0]["value"]
        user_id = body["user"]["id"]
        channel = body["channel"]["id"]
        escalation = await asyncio.to_thread(service.store.get, escalation_id)
        if not await directory.is_member(escalation.slack_channel or channel, user_id):
            await tell(
                client, channel, user_id,
                "Only members of this queue's channel can claim its conversations.",
            )  # fmt: skip
            return
        try:
            await asyncio.to_thread(service.claim, escalation_id, await agent_for(user_id))
        except AlreadyClaimed as error:
            await tell(
                client, channel, user_id,
                f"Thanks! {error.owner or 'Someone'} is already on this one.",
            )  # fmt: skip
            return
        except NotOpen as error:
            await tell(client, channel, user_id, f"This conversation is already {error.status}.")
            return
        worker.wake.set()

    async def close(body: dict[str, Any], client: AsyncWebClient, how: str) -> None:
        escalation_id = body["actions"][0]["value"]
        user_id = body["user"]["id"]
        agent = await agent_for(user_id)
        operation = service.resolve if how == "resolve" else service.return_to_bot
        try:
            await asyncio.to_thread(operation, escalation_id, agent)
        except NotOpen as error:
            await tell(
                client, body["channel"]["id"], user_id,
                f"This conversation is already {error.status}.",
            )  # fmt: skip
            return
        worker.wake.set()

    @app.action("handoff_resolve")
    async def resolve(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await close(body, client, "resolve")

    @app.action("handoff_return")
    async def return_to_bot(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await close(body, client, "return")

    @app.action("handoff_escalate")
    async def escalate(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        action = body["actions"][0]
        selected = (action.get("selected_option") or {}).get("value") or action.get("value", "")
        user_id = body["user"]["id"]
        try:
            escalation_id, tier = parse_escalate_value(selected)
            await asyncio.to_thread(service.transfer, escalation_id, tier, await agent_for(user_id))
        except (NotOpen, ValueError, HandoffError) as error:
            await tell(client, body["channel"]["id"], user_id, f"Could not transfer: {error}")
            return
        worker.wake.set()

    @app.event("message")
    async def thread_reply(event: dict[str, Any], body: dict[str, Any]) -> None:
        if event.get("bot_id") or event.get("subtype"):
            return  # our own posts, edits, joins
        thread_ts = event.get("thread_ts")
        if not thread_ts or thread_ts == event.get("ts"):
            return  # not a reply in a thread
        event_id = str(body.get("event_id") or f"{event.get('channel')}:{event.get('ts')}")
        if not await asyncio.to_thread(service.store.first_time_seen, event_id, now_utc()):
            return  # Slack retried an event we already handled
        escalation = await asyncio.to_thread(
            service.store.by_slack_thread, event.get("channel", ""), thread_ts
        )
        if escalation is None or escalation.status != "claimed":
            return
        user_id = event.get("user")
        if not user_id or user_id != escalation.claimed_by:
            return  # a colleague consulting in the thread: stays internal
        text = to_widget_text(event.get("text") or "")
        outcome = await asyncio.to_thread(
            service.reply, escalation.id, await agent_for(user_id), text, event["ts"]
        )
        if outcome == "relayed":
            worker.wake.set()

    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        logger.error("slack listener failed: %s", error, exc_info=error)
