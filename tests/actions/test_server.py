"""The action server releases the backends' connections when it stops."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from actions import deps
from actions.server import close_backends, create_app
from actions.settings import ActionSettings
from tests.actions.tier1.conftest import Env, clock, env, tier1_seed  # noqa: F401


def test_the_app_closes_the_backends_after_the_server_stops() -> None:
    app = create_app(ActionSettings(_env_file=None))
    assert [
        (route.path, route.handler.keywords["listener"]) for route in app.signal_router.routes
    ] == [("server.shutdown.<__trigger__:str>", close_backends)]


async def test_closing_runs_every_closer_of_the_configured_backends(
    env: Env,  # noqa: F811 (the imported fixture)
) -> None:
    closed: list[str] = []

    async def closer() -> None:
        closed.append("demo")

    backends = dataclasses.replace(env.deps.backends, closers=(closer, closer))
    deps.configure(dataclasses.replace(env.deps, backends=backends))
    await close_backends()
    assert closed == ["demo", "demo"]


async def test_a_failing_closer_is_logged_and_shutdown_goes_on(
    env: Env,  # noqa: F811 (the imported fixture)
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken() -> None:
        raise OSError("connection reset")

    backends = dataclasses.replace(env.deps.backends, closers=(broken,))
    deps.configure(dataclasses.replace(env.deps, backends=backends))
    with caplog.at_level(logging.ERROR):
        await close_backends()
    assert [r.getMessage() for r in caplog.records] == ["backends not closed cleanly"]


async def test_without_configured_deps_there_is_nothing_to_close() -> None:
    deps.configure(None)
    await close_backends()  # no error
