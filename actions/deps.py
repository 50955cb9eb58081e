"""Resources the actions share, created once when the action server starts.

rasa-sdk instantiates actions with no arguments, so they cannot be given their
collaborators; ``actions.server`` calls ``configure(build(settings))`` at start
and actions call ``get()``. Tests configure their own ``Deps``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from actions.settings import ActionSettings
    from handoff import HandoffService


@dataclass(frozen=True)
class Deps:
    handoff: HandoffService


_deps: Deps | None = None


def configure(deps: Deps | None) -> None:
    global _deps
    _deps = deps


def get() -> Deps:
    if _deps is None:
        raise RuntimeError("actions.deps.configure() was not called at server start")
    return _deps


def build(settings: ActionSettings) -> Deps:
    """Creates every shared resource from ``settings`` (no network calls)."""
    from bot.database import create_engine
    from handoff import EscalationStore, HandoffService, load_routing

    engine = create_engine(settings.database_url)
    routing = load_routing(settings.handoff_routing)
    return Deps(handoff=HandoffService(EscalationStore(engine), routing))
