"""Frontline's widget channel (``bot.engine.channel``) on a real Sanic server, without
a model: what Rasa would do with a message is played by a small handler.

Runs on the engine's Python 3.10 (``rasa`` importable). The application's
``tests/bot/test_channel.py`` starts it and talks to it over socket.io (the
socket.io client needs a newer aiohttp than Rasa allows in the engine):

    .venv/engine/bin/python tests/bot/engine/channel_server.py PORT CREDENTIALS_JSON

The handler answers ``echo: <text>``, except for these texts:

* ``boom``: raises on the first attempt of each message id (Rasa failing on
  a message), answers on the next;
* ``hold`` / ``hold-boom``: waits until ``POST /test/release``, then answers
  (``hold``) or does what ``boom`` does.

``GET /test/attempts`` lists every call of the handler in order:
``{"sender_id", "text", "metadata", "outcome": "answered" | "raised"}``;
``GET /test/holding`` how many are waiting for the release.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from rasa.core.channels.channel import UserMessage
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.engine.channel import FrontlineChannel


class Handler:
    """Plays Rasa's ``on_new_message`` for the channel."""

    def __init__(self) -> None:
        self.attempts: list[dict[str, Any]] = []
        self.failed: set[str] = set()
        self.holding = 0
        self.release = asyncio.Event()

    async def __call__(self, message: UserMessage) -> None:
        metadata = dict(message.metadata or {})
        attempt = {"sender_id": message.sender_id, "text": message.text, "metadata": metadata}
        self.attempts.append(attempt)
        if message.text in ("hold", "hold-boom"):
            self.holding += 1
            await self.release.wait()
            self.holding -= 1
        if message.text in ("boom", "hold-boom"):
            key = f"{message.sender_id}:{metadata.get('message_id')}"
            if key not in self.failed:
                self.failed.add(key)
                attempt["outcome"] = "raised"
                raise RuntimeError("the model could not parse this")
        attempt["outcome"] = "answered"
        await message.output_channel.send_text_message(message.sender_id, f"echo: {message.text}")


def create_app(credentials: dict[str, Any]) -> Sanic:
    app = Sanic("frontline_channel_test")
    handler = Handler()
    channel = FrontlineChannel.from_credentials(credentials)
    app.blueprint(channel.blueprint(handler), url_prefix="/webhooks/frontline")

    @app.get("/test/attempts")
    async def attempts(_: Request) -> HTTPResponse:
        return response.json(handler.attempts)

    @app.get("/test/holding")
    async def holding(_: Request) -> HTTPResponse:
        return response.json({"holding": handler.holding})

    @app.post("/test/release")
    async def release(_: Request) -> HTTPResponse:
        handler.release.set()
        return response.json({"released": True})

    return app


def main(argv: list[str]) -> None:
    port, credentials = int(argv[0]), json.loads(argv[1])
    create_app(credentials).run(host="127.0.0.1", port=port, access_log=False, workers=1)


if __name__ == "__main__":
    main(sys.argv[1:])
