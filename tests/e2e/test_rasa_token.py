"""Rasa's API token is passed so that any token works, including a random one
that starts with "-" (argparse once read it as an option and Rasa refused to
start, about one run in 64)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import WidgetClient, stack_settings, started_stack

pytestmark = pytest.mark.e2e

TOKEN = "-starts-with-a-dash_like-token_urlsafe-can"


async def test_a_token_starting_with_a_dash_starts_rasa_and_guards_its_api(
    model: Path, tmp_path: Path
) -> None:
    with started_stack(stack_settings(tmp_path, rasa_token=TOKEN), model) as running:
        assert running.token == TOKEN
        client = WidgetClient(running.rasa_url)
        await client.connect()
        greeting = await client.say("hello")
        await client.close()
        async with httpx.AsyncClient() as http:
            allowed = await http.get(f"{running.rasa_url}/status", params={"token": TOKEN})
            refused = await http.get(f"{running.rasa_url}/status", params={"token": "wrong"})
    assert greeting[0]["text"].startswith("Hi! I'm Brightwave's virtual assistant.")
    assert (allowed.status_code, refused.status_code) == (200, 401)
