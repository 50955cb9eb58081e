"""Resources the actions share, created once when the action server starts.

rasa-sdk instantiates actions with no arguments, so they cannot be given their
collaborators; ``actions.server`` calls ``configure(build(settings))`` at start
and actions call ``get()``. Tests configure their own ``Deps``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from actions.backends.models import utc_now

if TYPE_CHECKING:
    from actions.backends import (
        AccountRequestStore,
        Backends,
        BackendSettings,
        Clock,
        OutcomeStore,
        VerificationCodes,
    )
    from actions.settings import ActionSettings
    from handoff import HandoffService
    from kb_index import KnowledgeBase


@dataclass(frozen=True)
class Deps:
    handoff: HandoffService
    # The company's systems (identity, orders, subscriptions, catalogue, email).
    backends: Backends
    # Frontline's own Tier 1 records, in the application database.
    codes: VerificationCodes
    outcomes: OutcomeStore
    account_requests: AccountRequestStore
    # The help center (loads its index lazily; picks up new versions itself).
    kb: KnowledgeBase | None = None
    # "Now" for every Tier 1 answer (dates such as "expected tomorrow").
    clock: Clock = field(default=utc_now)


_deps: Deps | None = None


def configure(deps: Deps | None) -> None:
    global _deps
    _deps = deps


def get() -> Deps:
    if _deps is None:
        raise RuntimeError("actions.deps.configure() was not called at server start")
    return _deps


def build(settings: ActionSettings, backend_settings: BackendSettings | None = None) -> Deps:
    """Creates every shared resource from ``settings`` (no network calls).

    ``backend_settings`` default to ``BackendSettings()`` read from the
    environment here, once (``FRONTLINE_BACKEND_*``, ``SMTP_URL``)."""
    from actions.backends import (
        AccountRequestStore,
        BackendSettings,
        OutcomeStore,
        VerificationCodes,
        create_backends,
    )
    from core.database import create_engine
    from core.runtime import load_settings
    from handoff import EscalationStore, HandoffService, load_routing
    from kb_index import KBSettings, KnowledgeBase

    engine = create_engine(settings.database_url)
    routing = load_routing(settings.handoff_routing)
    backends = create_backends(backend_settings or load_settings(BackendSettings))
    return Deps(
        handoff=HandoffService(EscalationStore(engine), routing),
        backends=backends,
        codes=VerificationCodes(engine),
        outcomes=OutcomeStore(engine),
        account_requests=AccountRequestStore(engine),
        kb=KnowledgeBase(load_settings(KBSettings), engine=engine),
    )
