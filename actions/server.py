"""The action server: rasa-sdk's HTTP app serving the actions of this package.

``create_app(settings)`` builds the app (tests use it); ``main()`` reads
settings, checks the database and runs it: ``python -m actions.server``.
Endpoints: ``POST /webhook`` (Rasa's action protocol), ``GET /health``,
``GET /actions``.
"""

from __future__ import annotations

import logging

from rasa_sdk.endpoint import create_app as create_sdk_app
from sanic import Sanic

from actions import deps
from actions.acknowledge import AcknowledgingExecutor
from actions.settings import ActionSettings
from core.runtime import SettingsError, configure_logging, exit_on_settings_error, load_settings

logger = logging.getLogger(__name__)

ACTIONS_PACKAGE = "actions"


def create_app(settings: ActionSettings) -> Sanic:
    """The Sanic app with every action of the ``actions`` package registered,
    complaints acknowledged before their first reply (``actions.acknowledge``).

    When the server stops it releases the shared backends' connections
    (database engine, HTTP client), if ``actions.deps`` was configured."""
    executor = AcknowledgingExecutor()
    executor.register_package(ACTIONS_PACKAGE)
    app = create_sdk_app(executor, cors_origins=None)
    app.ctx.settings = settings
    app.register_listener(close_backends, "after_server_stop")
    return app


async def close_backends(*_: object) -> None:
    """Closes the backends of the configured ``Deps`` (a no-op without them)."""
    try:
        resources = deps.get()
    except RuntimeError:
        return
    try:
        await resources.backends.aclose()
    except Exception:  # boundary: shutting down must go on
        logger.exception("backends not closed cleanly")


def _warm_up(kb: object) -> None:
    try:
        kb.answer("warm up")  # type: ignore[attr-defined]
    except Exception as error:  # no index yet: questions get the "unavailable" reply
        logger.warning("knowledge base not ready: %s", error)


def main() -> None:
    configure_logging("actions")
    try:
        settings = load_settings(ActionSettings)
    except SettingsError as error:
        exit_on_settings_error(error)
        return
    try:
        deps.configure(deps.build(settings))
    except Exception as error:  # boundary: a bad routing file or URL stops the start
        logger.error("cannot start: %s", error)
        raise SystemExit(f"actions: {error}") from None
    app = create_app(settings)
    kb = deps.get().kb
    if kb is not None:
        # Load the index and embedding model off the request path, so the
        # first question is as fast as the rest.
        import threading

        threading.Thread(target=_warm_up, args=(kb,), daemon=True).start()
    logger.info("action server listening on %s:%d", settings.host, settings.port)
    app.run(
        host=settings.host,
        port=settings.port,
        single_process=True,
        access_log=False,
        motd=False,
    )


if __name__ == "__main__":
    main()
