"""The Slack app: buttons on escalation cards and agents' replies in threads.

Listeners are small: each acks first (Slack wants an answer within 3 s), then
calls ``HandoffService`` (the same operations the ``handoff`` terminal
commands use) and wakes the outbox worker so deliveries go out at once.

Nothing an agent does is lost silently. Slack does not resend an event or a
button press once it was acknowledged, so:

* an agent's thread reply needs no Slack call to be queued (the agent's name
  comes from the claim), is queued idempotently (keyed by the message ts), and
  its event is marked handled only after that; if queuing fails, the agent is
  told in the thread to send it again;
* a button whose work fails (Slack did not answer the membership check, the
  database is away) tells the agent that nothing changed and to press again;
* a reply with a file, or also sent to the channel, relays its text and tells
  the agent what was not relayed (files); an edit of a relayed reply tells the
  agent the customer keeps the first version.
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
from handoff.store import Escalation, now_utc
from handoff.worker import OutboxWorker

logger = logging.getLogger(__name__)

# Thread replies whose text reaches the customer; other subtypes (joins, bot
# posts, deletions) are not an agent's words.
RELAYED_SUBTYPES = (None, "thread_broadcast", "file_share")
TRY_AGAIN = "Nothing changed; please try again in a moment."


class Directory:
    """Slack user names and channel members, looked up once per process."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self._names: dict[str, str] = {}

    async def name(self, user_id: str, fallback: str | None = None) -> str:
        """The user's display name; ``fallback`` (else the id) when Slack does
        not answer, so a lookup never blocks an agent's action."""
        if user_id not in self._names:
            try:
                return await self._lookup(user_id)
            except Exception as error:  # boundary: Slack away or refusing
                logger.warning("users.info failed for %s: %s", user_id, error)
                return fallback or user_id
        return self._names[user_id]

    async def _lookup(self, user_id: str) -> str:
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

    async def tell(
        client: AsyncWebClient, channel: str, user: str, text: str, thread_ts: str | None = None
    ) -> None:
        """An ephemeral note to one agent; best effort (Slack may be away)."""
        try:
            await client.chat_postEphemeral(
                channel=channel, user=user, text=text, thread_ts=thread_ts
            )
        except Exception as error:  # boundary: nothing more we can do than log
            logger.error("could not tell %s in %s: %s (%s)", user, channel, text, error)

    async def agent_for(user_id: str, body: dict[str, Any] | None = None) -> Agent:
        user = (body or {}).get("user") or {}
        fallback = user.get("name") or user.get("username")
        return Agent(user_id, await directory.name(user_id, fallback))

    async def failed(
        client: AsyncWebClient, body: dict[str, Any], doing: str, error: Exception
    ) -> None:
        logger.error("slack action failed while %s: %s", doing, error, exc_info=error)
        await tell(
            client,
            (body.get("channel") or {}).get("id", ""),
            body["user"]["id"],
            f"Sorry, that did not work: {doing} failed on our side. {TRY_AGAIN}",
        )

    @app.action("handoff_claim")
    async def claim(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        try:
            await claim_for(body, client)
        except Exception as error:  # boundary: the agent must hear about it
            await failed(client, body, "claiming the conversation", error)

    async def claim_for(body: dict[str, Any], client: AsyncWebClient) -> None:
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
            await asyncio.to_thread(service.claim, escalation_id, await agent_for(user_id, body))
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
        try:
            await close_for(body, client, how)
        except Exception as error:  # boundary: the agent must hear about it
            doing = "resolving" if how == "resolve" else "returning it to the bot"
            await failed(client, body, doing, error)

    async def close_for(body: dict[str, Any], client: AsyncWebClient, how: str) -> None:
        escalation_id = body["actions"][0]["value"]
        user_id = body["user"]["id"]
        agent = await agent_for(user_id, body)
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
            agent = await agent_for(user_id, body)
            await asyncio.to_thread(service.transfer, escalation_id, tier, agent)
        except (NotOpen, ValueError, HandoffError) as error:
            await tell(client, body["channel"]["id"], user_id, f"Could not transfer: {error}")
            return
        except Exception as error:  # boundary: the agent must hear about it
            await failed(client, body, "transferring the conversation", error)
            return
        worker.wake.set()

    @app.event("message")
    async def thread_reply(
        event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        if event.get("subtype") == "message_changed":
            await edited(event, client)
            return
        if event.get("bot_id") or event.get("subtype") not in RELAYED_SUBTYPES:
            return  # our own posts, joins, deletions
        thread_ts = event.get("thread_ts")
        if not thread_ts or thread_ts == event.get("ts"):
            return  # not a reply in a thread
        event_id = str(body.get("event_id") or f"{event.get('channel')}:{event.get('ts')}")
        if await asyncio.to_thread(service.store.event_seen, event_id):
            return  # Slack retried an event we already handled
        channel = str(event.get("channel") or "")
        escalation = await asyncio.to_thread(service.store.by_slack_thread, channel, thread_ts)
        user_id = event.get("user")
        if escalation is None or not user_id or user_id != escalation.claimed_by:
            return  # not ours, or a colleague consulting in the thread: stays internal
        try:
            outcome = await relay(escalation, user_id, event)
        except NotOpen as error:
            outcome = "closed"
            await tell(
                client, channel, user_id,
                f"Not sent: this conversation is already {error.status}.", thread_ts,
            )  # fmt: skip
        except Exception as error:  # boundary: tell the agent, keep the event unhandled
            logger.error("agent reply not queued: %s", error, exc_info=error)
            await tell(
                client, channel, user_id,
                "Your reply did not reach the customer because of a problem on our side. "
                "Please send it again.", thread_ts,
            )  # fmt: skip
            return
        files = [str(f.get("name") or f.get("title") or "a file") for f in event.get("files") or []]
        if files and outcome != "closed":
            said = "Your text was sent; files" if outcome == "relayed" else "Files"
            await tell(
                client, channel, user_id,
                f"{said} are not sent to the customer ({', '.join(files)}). "
                "Share a help-center link or describe it in words.", thread_ts,
            )  # fmt: skip
        await asyncio.to_thread(service.store.first_time_seen, event_id, now_utc())
        if outcome == "relayed":
            worker.wake.set()

    async def relay(escalation: Escalation, user_id: str, event: dict[str, Any]) -> str:
        """Queues the reply for the customer; "relayed", "note" or "empty"."""
        text = to_widget_text(event.get("text") or "")
        if not text.strip():
            return "empty"  # a file alone: nothing to relay
        name = escalation.claimed_by_name or await directory.name(user_id)
        return await asyncio.to_thread(
            service.reply, escalation.id, Agent(user_id, name), text, str(event["ts"])
        )

    async def edited(event: dict[str, Any], client: AsyncWebClient) -> None:
        message = event.get("message") or {}
        before = event.get("previous_message") or {}
        thread_ts = message.get("thread_ts")
        if not thread_ts or thread_ts == message.get("ts") or message.get("bot_id"):
            return
        if message.get("text") == before.get("text"):
            return  # an unfurl or an attachment change, not an edit of the words
        channel = str(event.get("channel") or "")
        escalation = await asyncio.to_thread(service.store.by_slack_thread, channel, thread_ts)
        user_id = message.get("user")
        if escalation is None or not user_id or user_id != escalation.claimed_by:
            return
        if str(message.get("text") or "").strip().lower().startswith("note:"):
            return
        await tell(
            client, channel, user_id,
            "Edits are not sent: the customer keeps the first version. "
            "Send a new message to correct it.", thread_ts,
        )  # fmt: skip

    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        logger.error("slack listener failed: %s", error, exc_info=error)
