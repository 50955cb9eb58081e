"""Handoff to human agents: triage, the durable escalation queue and the Slack app.

Public surface (other packages import only this):

* ``HandoffSettings``: the service's settings.
* ``HandoffService`` with ``EscalationRequest``, ``Agent``, ``Ticket``: what
  can happen to an escalation (open, relay, claim, reply, resolve, transfer).
* ``Escalation``, ``EscalationStore``: the durable queue and its outbox.
* ``load_routing``: the routing rules (queues, tiers, business hours, SLAs).
* ``create_app(settings)``: the HTTP service (``python -m handoff.server``).
* ``SCHEMA``: the handoff tables' migrations (``SCHEMA.upgrade(engine)``;
  ``core.database.Schema``).

Errors: ``HandoffError`` is the base of this package's exceptions:
``EscalationNotFound`` (``escalation_id``), ``AlreadyClaimed`` (``owner``),
``NotOpen`` (``status``), ``NotAMember``, ``DatabaseUnavailable`` (``url``,
``reason``); ``RoutingError`` lists every problem of a routing file.
"""

from handoff.db import SCHEMA
from handoff.errors import (
    AlreadyClaimed,
    DatabaseUnavailable,
    EscalationNotFound,
    HandoffError,
    NotAMember,
    NotOpen,
)
from handoff.routing import RoutingError, load_routing
from handoff.service import Agent, EscalationRequest, HandoffService, Ticket
from handoff.settings import HandoffSettings
from handoff.store import Escalation, EscalationStore

__all__ = [
    "SCHEMA",
    "Agent",
    "AlreadyClaimed",
    "DatabaseUnavailable",
    "Escalation",
    "EscalationNotFound",
    "EscalationRequest",
    "EscalationStore",
    "HandoffError",
    "HandoffService",
    "HandoffSettings",
    "NotAMember",
    "NotOpen",
    "RoutingError",
    "Ticket",
    "create_app",
    "load_routing",
]


def create_app(settings: HandoffSettings):  # type: ignore[no-untyped-def]
    """The handoff HTTP service (imported lazily: Starlette is not needed by the CLI)."""
    from handoff.server import create_app as _create_app

    return _create_app(settings)
