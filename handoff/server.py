"""The handoff HTTP service.

``create_app(settings)`` builds the Starlette app; ``main()`` runs it with
uvicorn: ``python -m handoff.server``. It runs the outbox worker (deliveries
to Slack and to customers) and, when Slack is configured, the Slack app: HTTP
mode at ``POST /slack/events`` (every request's signature is verified), or
Socket Mode when ``SLACK_APP_TOKEN`` is set. Endpoints: ``GET /health`` (the
process answers), ``GET /ready`` (database reachable, schema current) and
``POST /conversations/{id}/presence`` (the widget channel reports a customer
leaving or coming back; bearer token = ``FRONTLINE_RASA_TOKEN``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import httpx
import uvicorn
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.runtime import SettingsError, configure_logging, exit_on_settings_error, load_settings
from handoff.db import check_current, create_engine
from handoff.errors import DatabaseUnavailable
from handoff.routing import load_routing
from handoff.service import HandoffService
from handoff.settings import HandoffSettings
from handoff.store import EscalationStore
from handoff.worker import OutboxWorker, RasaClient

logger = logging.getLogger(__name__)


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
        await asyncio.to_thread(check_current, request.app.state.store.engine)
    except DatabaseUnavailable as error:
        return JSONResponse({"status": "unavailable", "database": error.reason}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


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
            return await handler.handle(request)

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
        check_current(app.state.store.engine)
    except DatabaseUnavailable as error:
        logger.error("cannot start: %s", error)
        raise SystemExit(f"handoff: {error}") from None
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
