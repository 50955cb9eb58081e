"""The handoff HTTP service.

``create_app(settings)`` builds the Starlette app; ``main()`` runs it with
uvicorn: ``python -m handoff.server``. It runs the outbox worker (deliveries
to Slack and to customers) and, when Slack is configured, the Slack app: HTTP
mode at ``POST /slack/events`` (every request's signature is verified), or
Socket Mode when ``SLACK_APP_TOKEN`` is set. Endpoints: ``GET /health`` (the
process answers), ``GET /ready`` (database reachable, schema current) and
``POST /conversations/{id}/presence`` (the widget channel reports a customer
leaving or coming back; bearer token = ``FRONTLINE_RASA_TOKEN``).

``/slack/events`` refuses before reading a body: a request without Slack's
signature headers or with a stale timestamp (401), and one whose body is
larger than ``SLACK_BODY_LIMIT`` (413, by its declared length or while
reading). Only then does Bolt verify the signature over the body.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

import httpx
import uvicorn
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message

from core.runtime import SettingsError, configure_logging, exit_on_settings_error, load_settings
from handoff.db import SCHEMA, create_engine
from handoff.errors import DatabaseUnavailable
from handoff.routing import load_routing
from handoff.service import HandoffService
from handoff.settings import HandoffSettings
from handoff.store import EscalationStore
from handoff.worker import OutboxWorker, RasaClient

logger = logging.getLogger(__name__)

# Slack's own payloads are far smaller (a block_actions payload carries the
# message, at most ~50 blocks); anything larger is not from Slack.
SLACK_BODY_LIMIT = 1_000_000
SLACK_MAX_AGE_SECONDS = 300  # Slack's own replay window


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok", "service": "handoff"})


async def presence(request: Request) -> JSONResponse:
    """The widget channel reports that a customer left or came back."""
    token = request.app.state.settings.rasa_token
    expected = f"Bearer {token.get_secret_value()}" if token else None
    if expected is None or request.headers.get("authorization") != expected:
        return JSONResponse({"error": "unauthorized"}, status_code=401)
    try:
        body = await request.json()
        present = body["present"]
        if not isinstance(present, bool):
            raise TypeError("present must be true or false")
    except (ValueError, KeyError, TypeError) as error:
        return JSONResponse({"error": f'expected {{"present": bool}}: {error}'}, status_code=400)
    conversation_id = request.path_params["conversation_id"]
    service = request.app.state.service
    relayed = await asyncio.to_thread(service.customer_presence, conversation_id, present)
    if relayed:
        request.app.state.worker.wake.set()
    return JSONResponse({"relayed": relayed})


async def ready(request: Request) -> JSONResponse:
    try:
        await asyncio.to_thread(SCHEMA.check_current, request.app.state.store.engine)
    except DatabaseUnavailable as error:
        return JSONResponse({"status": "unavailable", "database": error.reason}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


async def bounded_slack_body(request: Request) -> bytes | Response:
    """The body of a request that may be from Slack, or the refusal: checked
    for Slack's headers, their age and the size before and while reading."""
    stamp = request.headers.get("x-slack-request-timestamp", "")
    if not request.headers.get("x-slack-signature") or not stamp.isdigit():
        return JSONResponse({"error": "not signed by Slack"}, status_code=401)
    if abs(time.time() - int(stamp)) > SLACK_MAX_AGE_SECONDS:
        return JSONResponse({"error": "stale request"}, status_code=401)
    declared = request.headers.get("content-length", "")
    too_large = JSONResponse({"error": "request body too large"}, status_code=413)
    if declared.isdigit() and int(declared) > SLACK_BODY_LIMIT:
        return too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > SLACK_BODY_LIMIT:
            return too_large
    return bytes(body)


def slack_client(settings: HandoffSettings) -> AsyncWebClient | None:
    if settings.slack_bot_token is None:
        return None
    # No built-in retries: the outbox retries and honours Retry-After itself.
    return AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout=10,
        retry_handlers=[],
    )


def create_app(settings: HandoffSettings) -> Starlette:
    store = EscalationStore(create_engine(settings.database_url))
    routing = load_routing(settings.routing)
    service = HandoffService(store, routing)
    http = httpx.AsyncClient()
    token = settings.rasa_token.get_secret_value() if settings.rasa_token else None
    slack = slack_client(settings)
    tier_teams = {tier: routing.queue_for_tier(tier).team for tier in (2, 3, 4)}
    worker = OutboxWorker(
        store, RasaClient(settings.rasa_url, token, http), slack, tier_teams, tick=service.check_sla
    )
    routes = [
        Route("/health", health),
        Route("/ready", ready),
        Route("/conversations/{conversation_id}/presence", presence, methods=["POST"]),
    ]

    bolt = None
    if slack is not None:
        from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
        from slack_bolt.async_app import AsyncApp

        from handoff.slack_app import register

        if settings.slack_signing_secret is None and settings.slack_app_token is None:
            raise SettingsError(
                "invalid settings: SLACK_SIGNING_SECRET: required with SLACK_BOT_TOKEN "
                "(or set SLACK_APP_TOKEN for Socket Mode)"
            )
        bolt = AsyncApp(
            client=slack,
            signing_secret=(
                settings.slack_signing_secret.get_secret_value()
                if settings.slack_signing_secret
                else None
            ),
            process_before_response=False,
        )
        register(bolt, service, worker)
        handler = AsyncSlackRequestHandler(bolt)

        async def slack_events(request: Request) -> Response:
            body = await bounded_slack_body(request)
            if isinstance(body, Response):
                return body

            async def replay() -> Message:
                return {"type": "http.request", "body": body, "more_body": False}

            return await handler.handle(Request(request.scope, replay))

        routes.append(Route("/slack/events", slack_events, methods=["POST"]))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop, settings.worker_interval))
        socket_mode = None
        if bolt is not None and settings.slack_app_token is not None:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            socket_mode = AsyncSocketModeHandler(bolt, settings.slack_app_token.get_secret_value())
            await socket_mode.connect_async()
        try:
            yield
        finally:
            stop.set()
            worker.wake.set()
            await task
            if socket_mode is not None:
                await socket_mode.close_async()
            await http.aclose()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.settings = settings
    app.state.store = store
    app.state.service = service
    app.state.worker = worker
    return app


def main() -> None:
    configure_logging("handoff")
    try:
        settings = load_settings(HandoffSettings)
        app = create_app(settings)
    except SettingsError as error:
        exit_on_settings_error(error)
        return
    except Exception as error:  # boundary: e.g. an invalid routing file
        logger.error("cannot start: %s", error)
        raise SystemExit(f"handoff: {error}") from None
    try:
        SCHEMA.check_current(app.state.store.engine)
    except DatabaseUnavailable as error:
        logger.error("cannot start: %s", error)
        raise SystemExit(f"handoff: {error}") from None
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
