"""Two Rasa replicas and two action servers on one PostgreSQL database and one
Redis lock store: a conversation continues whichever replica a turn reaches.

This is the documented way to grow past one machine (docs/architecture.md,
"Several machines"): the launcher's own code starts each replica with
``REDIS_URL`` set, which switches Rasa to bot/endpoints-replicas.yml."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from launcher.stack import Stack
from tests.conftest import postgres_database
from tests.e2e.conftest import WidgetClient, stack_settings, started_stack

pytestmark = pytest.mark.e2e

REDIS_URL = "redis://127.0.0.1:6379/3"
ASK_EMAIL = (
    "To keep your account safe I first need to check who you are. What's the email address "
    "of your Brightwave account?"
)
ASK_ORDER = (
    "Thanks. What's the number of one of your orders with that email address? It looks like "
    "BW-104233. No order number at hand? I can email you a one-time code instead."
)


@pytest.fixture(scope="module")
def replicas(
    model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Stack, Stack]]:
    """Replicas a and b (each an action server + a Rasa server) on a fresh
    PostgreSQL database and the local Redis."""
    with postgres_database() as url, ExitStack() as running:
        first, second = (
            running.enter_context(
                started_stack(
                    stack_settings(
                        tmp_path_factory.mktemp(f"replica-{name}"),
                        database_url=url,
                        redis_url=REDIS_URL,
                        # one key for every replica: a session resumes on either
                        widget_session_key="replicas' widget session key",
                    ),
                    model,
                    migrate=name == "a",  # one migration for the shared database
                )
            )
            for name in ("a", "b")
        )
        yield first, second


async def turn(stack: Stack, session_id: str, text: str) -> list[str]:
    """One customer message through ``stack``'s replica, as a reconnecting widget."""
    client = WidgetClient(stack.rasa_url)
    await client.connect(session_id)
    try:
        return [message.get("text", "") for message in await client.say(text)]
    finally:
        await client.close()


async def user_turns(stack: Stack, session_id: str) -> list[str]:
    async with httpx.AsyncClient() as http:
        response = await http.get(
            f"{stack.rasa_url}/conversations/{session_id}/tracker",
            params={"token": stack.token},
            timeout=30,
        )
    response.raise_for_status()
    return [e["text"] for e in response.json()["events"] if e["event"] == "user"]


async def test_a_form_continues_across_replicas(replicas: tuple[Stack, Stack]) -> None:
    first, second = replicas
    client = WidgetClient(first.rasa_url)
    session_id = await client.connect()
    await client.close()

    assert await turn(first, session_id, "where is my order?") == [ASK_EMAIL]
    assert await turn(second, session_id, "emma.devries@example.com") == [ASK_ORDER]
    reply = await turn(first, session_id, "BW-104233")
    assert reply[0] == "Thanks, Emma, that's confirmed."
    assert reply[1].startswith("Order BW-104233 (Brightwave Pulse 2) is on its way.\n")

    # Both replicas read the same conversation from PostgreSQL.
    expected = ["where is my order?", "emma.devries@example.com", "BW-104233"]
    assert await user_turns(first, session_id) == expected
    assert await user_turns(second, session_id) == expected


async def test_simultaneous_turns_on_two_replicas_are_both_kept(
    replicas: tuple[Stack, Stack],
) -> None:
    first, second = replicas
    client = WidgetClient(first.rasa_url)
    session_id = await client.connect()
    await client.close()
    await turn(first, session_id, "hi")

    # Without the Redis lock store the two replicas would each load the same
    # tracker and the later save would lose the other's turn.
    await asyncio.gather(turn(first, session_id, "thanks"), turn(second, session_id, "thank you"))

    turns = await user_turns(second, session_id)
    assert turns[0] == "hi"
    assert sorted(turns[1:]) == ["thank you", "thanks"]
