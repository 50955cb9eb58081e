"""What every Tier 1 flow is made of: the ``Flow`` class, the context of one
action run, and the verdicts on a customer's answer. The machinery that runs
flows is ``actions.tier1.flow``."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import deps as shared
from actions.backends import BackendUnavailable, Outcome
from actions.tier1.messages import Message
from actions.tier1.parsing import yes_or_no
from actions.tier1.turn import Turn, identity, turn_of
from core.typed_secrets import IDENTIFIER_SLOTS

if TYPE_CHECKING:
    from actions.deps import Deps

logger = logging.getLogger(__name__)

MAX_FAILURES = 3
REQUESTED_SLOT = "requested_slot"
VERIFY_SLOTS = IDENTIFIER_SLOTS  # where a customer may type a password by mistake
# Slots any flow may own; a snapshot of an interrupted flow keeps them all.
FLOW_SLOTS = (
    "order_number",
    "address_line1",
    "address_postal_code",
    "address_city",
    "flow_confirmed",
    "compat_product",
    "compat_platform",
    "compat_os_version",
)
OFFER_HUMAN = "action_offer_human"
HANDOFF = "action_handoff"
# handoff_reason of a request the routing's triage says only a person can handle.
TRIAGE = "triage"
EXPLICIT_REQUEST = "explicit_request"
# The flow's first message was a question the help center answers (kb_gate).
HELP_CENTER_QUESTION = "help_center_question"
ANSWER_FROM_KB = "action_answer_from_kb"
# Reasons to hand over at once rather than offer a person first.
DIRECT_HANDOFF_REASONS = frozenset({TRIAGE, EXPLICIT_REQUEST})


@dataclass(frozen=True)
class FlowInfo:
    category: str  # outcome category and handoff topic: the flow's intent
    title: str  # how the bot names the flow to the customer ("back to ...")
    # The help-center articles (ids, or a whole category) about the task the
    # flow does: a question whose best article is another one is answered from
    # the help center instead (actions.tier1.kb_gate). None: the flow always runs.
    articles: tuple[str, ...] = ()


# Every Tier 1 form.
FLOWS: dict[str, FlowInfo] = {
    "password_reset_form": FlowInfo(
        "password_reset", "your password reset",
        ("reset-password", "account-locked", "cant-sign-in"),
    ),
    "order_status_form": FlowInfo(
        "order_status", "your order",
        ("track-order", "late-parcel", "lost-parcel", "returned-to-sender"),
    ),
    "cancel_order_form": FlowInfo(
        "cancel_order", "cancelling your order", ("cancel-order", "change-order")
    ),
    "change_address_form": FlowInfo(
        "change_shipping_address", "changing the delivery address",
        ("change-shipping-address", "change-order"),
    ),
    "account_activation_form": FlowInfo(
        "account_activation", "activating your account",
        ("activation-email-not-received", "activation-link-expired"),
    ),
    "account_status_form": FlowInfo(
        "account_status", "your account status",
        ("account-status-explained", "account-locked", "account-suspended"),
    ),
    "cancel_subscription_form": FlowInfo(
        "cancel_subscription", "cancelling Brightwave Plus",
        ("cancel-brightwave-plus", "plus-refunds"),
    ),
    "delete_account_form": FlowInfo(
        "delete_account", "deleting your account", ("delete-account",)
    ),
    # Answers questions itself (from the catalogue, with the article): never
    # replaced by the help center.
    "compatibility_form": FlowInfo("compatibility", "your compatibility question"),
}  # fmt: skip

GAVE_UP = "I'm sorry, I'm not getting this right."
SYSTEM_DOWN = (
    "Sorry, I can't reach the system I need for this right now, so I can't finish it here."
)


class Verification(StrEnum):
    FULL = "full"  # email + order number, or a one-time code
    EMAIL = "email"  # only an email address (nothing is shown or changed)
    NONE = "none"


class Verdict(StrEnum):
    """What became of the customer's answer to the requested slot."""

    ACCEPTED = "accepted"
    RETRY = "retry"  # not accepted, but not the customer's mistake (no strike)
    INVALID = "invalid"  # a strike: MAX_FAILURES of them end the form
    FAILED = "failed"  # a business system did not answer: the form ends


@dataclass
class FlowContext:
    """One run of a Tier 1 action: what it knows and what it will return."""

    deps: Deps
    conversation_id: str
    slots: dict[str, Any]
    turn: Turn
    events: list[dict[str, Any]]
    today: date
    verified: dict[str, str] | None
    updates: dict[str, Any] = field(default_factory=dict)
    messages: list[Message] = field(default_factory=list)
    cache: dict[str, Any] = field(default_factory=dict)

    def get(self, slot: str) -> Any:
        return self.slots.get(slot)

    def set(self, slot: str, value: Any) -> None:
        self.slots[slot] = value
        self.updates[slot] = value

    def clear(self, *slots: str) -> None:
        """Sets each of ``slots`` to None if it holds anything."""
        for slot in slots:
            if self.slots.get(slot) is not None:
                self.set(slot, None)

    def say(self, message: Message) -> None:
        self.messages.append(message)

    @property
    def customer_id(self) -> str:
        if self.verified is None:
            raise RuntimeError("no verified customer in this conversation")
        return self.verified["customer_id"]

    def slot_events(self) -> list[EventType]:
        return [SlotSet(slot, value) for slot, value in self.updates.items()]

    def log(self, text: str, *args: Any) -> None:
        logger.info(text, *args, extra={"conversation_id": self.conversation_id})


def context(tracker: Tracker, deps: Deps | None = None) -> FlowContext:
    resources = deps or shared.get()
    return FlowContext(
        deps=resources,
        conversation_id=tracker.sender_id,
        slots=dict(tracker.slots),
        turn=turn_of(tracker),
        events=list(tracker.events),
        today=resources.clock().date(),
        verified=identity(tracker),
    )


def utter(dispatcher: CollectingDispatcher, messages: list[Message]) -> None:
    for item in messages:
        dispatcher.utter_message(**item)


def give_up(ctx: FlowContext, reason: str) -> None:
    """Ends the form; its submit action will offer a person (``reason``)."""
    ctx.set("flow_failed", True)
    ctx.set("handoff_reason", reason)
    ctx.log("flow gave up: %s", reason)


def accept_confirmation(ctx: FlowContext, reprompt: str) -> Verdict:
    """The customer's yes or no to a flow's confirmation question, into
    ``flow_confirmed``; anything else is asked again with ``reprompt``."""
    confirmed = yes_or_no(ctx.turn)
    if confirmed is None:
        ctx.say({"text": reprompt})
        return Verdict.INVALID
    ctx.set("flow_confirmed", confirmed)
    return Verdict.ACCEPTED


def system_down(ctx: FlowContext, error: BackendUnavailable) -> Verdict:
    """A business system did not answer: apologise and end the form."""
    logger.error("backend unavailable: %s", error, extra={"conversation_id": ctx.conversation_id})
    ctx.say({"text": SYSTEM_DOWN})
    give_up(ctx, "backend_error")
    return Verdict.FAILED


class Flow:
    """What one Tier 1 flow knows: its slots, how to ask for them and how to
    read the answers. Subclasses set the class attributes and implement
    ``ask`` and ``accept`` for their own slots."""

    form: ClassVar[str]
    slots: ClassVar[tuple[str, ...]] = ()
    triggers: ClassVar[frozenset[str]]  # intents whose rule starts this form
    verification: ClassVar[Verification] = Verification.FULL

    @property
    def category(self) -> str:
        return FLOWS[self.form].category

    async def prefill(self, ctx: FlowContext) -> None:
        """Fills slots from the message that started the flow (its entities)."""

    def follows_up(self, ctx: FlowContext) -> bool:
        """Whether this start is a follow-up of the flow's previous answer
        ("and the pulse lite?"): then the message prefills it whatever its intent."""
        return False

    def after_verification(self, ctx: FlowContext, order_number: str | None) -> None:
        """Called once the customer is verified (with the order number used, if any)."""

    async def next_slot(self, ctx: FlowContext) -> str | None:
        """The flow's next slot to ask for, None when it is done. Verification
        is complete when this is called."""
        return next((slot for slot in self.slots if ctx.get(slot) is None), None)

    async def answers(self, slot: str, ctx: FlowContext) -> bool:
        """Whether the message holds a value for ``slot`` whatever its intent
        (an order number in "where is BW-104233?"): then it is an answer, not
        an interruption."""
        return False

    async def ask(self, slot: str, ctx: FlowContext) -> None:
        raise NotImplementedError(f"{type(self).__name__} cannot ask for {slot}")

    async def accept(self, slot: str, ctx: FlowContext) -> Verdict:
        raise NotImplementedError(f"{type(self).__name__} cannot fill {slot}")


@dataclass(frozen=True)
class Completion:
    """How a flow ended: the outcome to record and what runs next, if anything."""

    outcome: Outcome | None
    detail: str | None = None
    followup: str | None = None
