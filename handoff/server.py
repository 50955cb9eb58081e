"""The handoff HTTP service.

``create_app(settings)`` builds the Starlette app; ``main()`` runs it with
uvicorn: ``python -m handoff.server``. Endpoints: ``GET /health`` (the process
answers) and ``GET /ready`` (database reachable, schema current).
"""

from __future__ import annotations

import logging

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.runtime import SettingsError, configure_logging, exit_on_settings_error, load_settings
from handoff.db import check_current, create_engine
from handoff.errors import DatabaseUnavailable
from handoff.settings import HandoffSettings
from handoff.store import EscalationStore

logger = logging.getLogger(__name__)


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok", "service": "handoff"})


async def ready(request: Request) -> JSONResponse:
    try:
        check_current(request.app.state.store.engine)
    except DatabaseUnavailable as error:
        return JSONResponse({"status": "unavailable", "database": error.reason}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


def create_app(settings: HandoffSettings) -> Starlette:
    app = Starlette(routes=[Route("/health", health), Route("/ready", ready)])
    app.state.settings = settings
    app.state.store = EscalationStore(create_engine(settings.database_url))
    return app


def main() -> None:
    configure_logging("handoff")
    try:
        settings = load_settings(HandoffSettings)
    except SettingsError as error:
        exit_on_settings_error(error)
        return
    app = create_app(settings)
    try:
        check_current(app.state.store.engine)
    except DatabaseUnavailable as error:
        logger.error("cannot start: %s", error)
        raise SystemExit(f"handoff: {error}") from None
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
