"""Handoff to human agents: triage, the durable escalation queue and the Slack app.

Public surface (other packages import only this):

* ``HandoffSettings``: the service's settings.
* ``Escalation``, ``EscalationStore``: the durable queue.
* ``create_app(settings)``: the HTTP service (``python -m handoff.server``).

Errors: ``HandoffError`` is the base of this package's exceptions;
``EscalationNotFound`` (``escalation_id``) when an id is unknown.
"""

from handoff.errors import EscalationNotFound, HandoffError
from handoff.settings import HandoffSettings
from handoff.store import Escalation, EscalationStore

__all__ = [
    "Escalation",
    "EscalationNotFound",
    "EscalationStore",
    "HandoffError",
    "HandoffSettings",
    "create_app",
]


def create_app(settings: HandoffSettings):  # type: ignore[no-untyped-def]
    """The handoff HTTP service (imported lazily: Starlette is not needed by the CLI)."""
    from handoff.server import create_app as _create_app

    return _create_app(settings)
