"""The machinery that runs every Tier 1 form.

A flow is a Rasa form ``<name>_form`` whose slots are all filled here, never
by Rasa's own mappings: its validation action (a ``FlowValidator``) reads the
customer's message, fills or refuses the requested slot, decides which slot
comes next (``requested_slot``) and asks for it; its submit action (a
``FlowSubmit``) does the work once the form is done. One ``Flow`` object per
flow (``actions.tier1.base``) holds what the flow knows; the Rasa side stays
small: one rule starts the form, one submits it.

Shared behaviour:

* verification first, where the flow needs it (``actions.tier1.verification``);
* a question in the middle of a form (``INTERRUPTING_INTENTS``) is no answer:
  the validation action returns no events, Rasa rejects the form, the
  question's own rule answers it and the form asks its question again;
* another flow started in the middle of a form replaces it; when that one is
  done the first resumes where it was (``interrupted_flows``, a stack of slot
  snapshots);
* ``MAX_FAILURES`` invalid answers end the form and its submit action offers a
  person (``handoff_reason`` ``form_failed``); a business system that does not
  answer does the same with ``backend_error``;
* a question the help center answers better than the flow ("how do I turn
  on 2-step verification?" for account activation) ends the form before it
  asks anything, and the article is shown (``actions.tier1.kb_gate``);
* a request the routing's triage says only a person can handle (``hand_over``
  keyword rules in ``handoff/routing.yml``: GDPR, legal threats, a hacked
  account...) ends the form before it asks anything and hands over at once
  (``handoff_reason`` ``triage``).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.backends import BackendUnavailable, Outcome
from actions.kb_answer import article_message, earlier_customer_texts
from actions.tier1 import outcomes, typed_secrets, verification
from actions.tier1.base import (
    ANSWER_FROM_KB,
    DIRECT_HANDOFF_REASONS,
    EXPLICIT_REQUEST,
    FLOW_SLOTS,
    FLOWS,
    GAVE_UP,
    HANDOFF,
    HELP_CENTER_QUESTION,
    MAX_FAILURES,
    OFFER_HUMAN,
    REQUESTED_SLOT,
    SYSTEM_DOWN,
    TRIAGE,
    VERIFY_SLOTS,
    Completion,
    Flow,
    FlowContext,
    Verdict,
    Verification,
    context,
    give_up,
    system_down,
    utter,
)
from actions.tier1.intents import INTERRUPT_CONFIDENCE, INTERRUPTING_INTENTS, LEAVING_INTENTS
from actions.tier1.kb_gate import help_center_hit
from actions.tier1.parsing import asks_for_person
from actions.tier1.turn import IDENTITY_SLOTS, FormTurn, form_turn, previous_active_loop

logger = logging.getLogger(__name__)


def snapshot(form: str, slots: dict[str, Any]) -> dict[str, Any]:
    """What an interrupted flow had collected, to resume it later."""
    kept = {slot: slots.get(slot) for slot in (*FLOW_SLOTS, *VERIFY_SLOTS)}
    return {"form": form, "slots": {k: v for k, v in kept.items() if v is not None}}


async def start(flow: Flow, ctx: FlowContext) -> None:
    """A form starts: fresh slots, or the saved ones when it resumes."""
    ctx.set("flow_failures", 0.0)
    ctx.set("flow_category", flow.category)
    if ctx.get("resuming_flow") == flow.form:
        ctx.set("resuming_flow", None)
        ctx.log("flow %s resumed", flow.form)
        return
    ctx.clear("resuming_flow", "flow_failed", "handoff_reason", *flow.slots)
    stack = list(ctx.get("interrupted_flows") or [])
    previous = previous_active_loop(ctx.events)
    if previous in FLOWS and previous != flow.form:
        # Another flow was in the middle of something: keep it for later, and
        # keep a verification in progress (this flow continues it).
        stack.append(snapshot(previous, ctx.slots))
        ctx.set("interrupted_flows", stack)
    else:
        if stack:
            ctx.set("interrupted_flows", [])
        ctx.clear(*VERIFY_SLOTS)
    if ctx.verified is None and any(ctx.get(slot) for slot in IDENTITY_SLOTS):
        ctx.clear(*IDENTITY_SLOTS)  # verified in an earlier session
    ctx.log("flow %s started", flow.form)
    if ctx.turn.intent in flow.triggers or flow.follows_up(ctx):
        if typed_secrets.typed_password(ctx.turn):
            ctx.say({"text": typed_secrets.WARNING})
        if ctx.deps.handoff.triage(ctx.turn.text):
            # A request only a person can handle (a data-protection request,
            # a hacked account...), whatever it resembles: no self-service.
            give_up(ctx, TRIAGE)
            return
        if asks_for_person(ctx.turn.text):
            # "Can I talk to someone about my order BW-104233": a person was
            # asked for; the flow's topic picks the queue.
            give_up(ctx, EXPLICIT_REQUEST)
            return
        own, history = FLOWS[flow.form].articles, earlier_customer_texts(ctx.events)
        if (
            own
            and ctx.turn.intent in flow.triggers
            and await help_center_hit(ctx.turn, own, ctx.deps.kb, history)
        ):
            # "How do I turn on 2-step verification?" is no request to act:
            # the help center answers it, nobody's identity is checked.
            give_up(ctx, HELP_CENTER_QUESTION)
            ctx.clear("flow_category")
            return
        await verification.prefill(flow, ctx)
        await flow.prefill(ctx)


async def answer(flow: Flow, slot: str, ctx: FlowContext) -> bool:
    """Handles the customer's reply to ``slot``. False: it was no answer but a
    request of its own (the form is then rejected and its rule runs)."""
    turn = ctx.turn
    confident = turn.confidence >= INTERRUPT_CONFIDENCE
    if turn.intent in LEAVING_INTENTS and confident:
        return False
    failures = int(ctx.get("flow_failures") or 0)
    verifying = slot in VERIFY_SLOTS
    if typed_secrets.typed_password(turn, bare=verifying):
        ctx.say({"text": typed_secrets.WARNING})
        verdict = Verdict.INVALID
    else:
        if verifying:
            holds_value = await verification.answers(slot, ctx)
        else:
            holds_value = await flow.answers(slot, ctx)
        if not holds_value:
            if turn.intent in flow.triggers:
                hit = None
                if FLOWS[flow.form].articles:
                    # Read alone: mixed with the flow's first message ("cancel
                    # my Plus") it would find the flow's article, not the part
                    # about the question.
                    hit = await help_center_hit(turn, (), ctx.deps.kb)
                if hit is not None:
                    # A question about something next to the flow: answered,
                    # then the flow asks its question again.
                    ctx.say(article_message(hit, []))
                ctx.set("flow_failures", float(failures))  # asked again: no strike
                return True
            if turn.intent in INTERRUPTING_INTENTS and confident:
                return False
        if verifying:
            verdict = await verification.accept(flow, slot, ctx)
        else:
            verdict = await flow.accept(slot, ctx)
    if verdict is Verdict.INVALID:
        failures += 1
        if failures >= MAX_FAILURES:
            ctx.say({"text": GAVE_UP})
            give_up(ctx, "form_failed")
    elif verdict is Verdict.ACCEPTED:
        failures = 0
    ctx.set("flow_failures", float(failures))
    return True


async def next_required(flow: Flow, ctx: FlowContext) -> str | None:
    """The next slot to ask for: verification first, then the flow's own."""
    if ctx.get("flow_failed"):
        return None
    slot = await verification.next_slot(flow, ctx)
    if slot is not None or ctx.get("flow_failed"):
        return slot
    if flow.verification is Verification.FULL and ctx.verified is None:
        return None  # defensive: a flow's own slots never come before verification
    try:
        slot = await flow.next_slot(ctx)
    except BackendUnavailable as error:
        system_down(ctx, error)
        return None
    return None if ctx.get("flow_failed") else slot


async def ask(flow: Flow, slot: str, ctx: FlowContext) -> None:
    try:
        if slot in VERIFY_SLOTS:
            await verification.ask(flow, slot, ctx)
        else:
            await flow.ask(slot, ctx)
    except BackendUnavailable as error:
        system_down(ctx, error)


async def validate(flow: Flow, kind: FormTurn, ctx: FlowContext) -> list[EventType] | None:
    """One run of a flow's validation action: its events, or None to reject
    the form (the message was a request of its own)."""
    try:
        if kind is FormTurn.ACTIVATION:
            await start(flow, ctx)
        elif kind is FormTurn.ANSWER:
            slot = ctx.get(REQUESTED_SLOT)
            if slot and not await answer(flow, slot, ctx):
                return None
    except BackendUnavailable as error:
        system_down(ctx, error)
    slot = await next_required(flow, ctx)
    if slot is not None:
        await ask(flow, slot, ctx)
        if ctx.get("flow_failed"):
            slot = None
    return [*ctx.slot_events(), SlotSet(REQUESTED_SLOT, slot)]


class FlowValidator(Action, ABC):
    """``validate_<form>``: Rasa runs it on every turn of the form."""

    @property
    @abstractmethod
    def flow(self) -> Flow: ...

    def name(self) -> str:
        return f"validate_{self.flow.form}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        ctx = context(tracker)
        events = await validate(self.flow, form_turn(ctx.events, self.flow.form), ctx)
        utter(dispatcher, ctx.messages)
        return [] if events is None else events


Complete = Callable[[FlowContext], Awaitable[Completion]]


async def finish(flow: Flow, ctx: FlowContext, complete: Complete) -> list[EventType]:
    """Runs ``complete`` (unless the form gave up), records the outcome, clears
    the flow's slots, then runs the followup or resumes an interrupted flow."""
    if ctx.get("flow_failed") and ctx.get("handoff_reason") == HELP_CENTER_QUESTION:
        ctx.clear("handoff_reason")  # nobody is handed anything
        done = Completion(None, followup=ANSWER_FROM_KB)
    elif ctx.get("flow_failed"):
        direct = ctx.get("handoff_reason") in DIRECT_HANDOFF_REASONS
        done = Completion(None, followup=HANDOFF if direct else OFFER_HUMAN)
    else:
        try:
            done = await complete(ctx)
        except BackendUnavailable as error:
            logger.error(
                "backend unavailable: %s", error, extra={"conversation_id": ctx.conversation_id}
            )
            ctx.say({"text": SYSTEM_DOWN})
            ctx.set("handoff_reason", "backend_error")
            done = Completion(None, followup=OFFER_HUMAN)
    if done.outcome is not None:
        await outcomes.record(ctx, flow.category, done.outcome, done.detail)
    ctx.clear(*flow.slots, *VERIFY_SLOTS, "flow_failed")
    ctx.set("flow_failures", 0.0)
    stack = list(ctx.get("interrupted_flows") or [])
    if done.followup is not None:
        for dropped in stack:
            info = FLOWS.get(dropped.get("form", ""))
            if info is not None:
                await outcomes.record(ctx, info.category, Outcome.ABANDONED, "interrupted")
        if stack:
            ctx.set("interrupted_flows", [])
        return [*ctx.slot_events(), FollowupAction(done.followup)]
    if not stack:
        return ctx.slot_events()
    resumed = stack.pop()
    saved = resumed.get("slots") or {}
    for slot in (*FLOW_SLOTS, *VERIFY_SLOTS):
        if ctx.get(slot) != saved.get(slot):
            ctx.set(slot, saved.get(slot))
    ctx.set("interrupted_flows", stack)
    ctx.set("resuming_flow", resumed["form"])
    info = FLOWS.get(resumed["form"])
    ctx.say({"text": f"Now, back to {info.title if info else 'what we were doing'}."})
    return [*ctx.slot_events(), FollowupAction(resumed["form"])]


class FlowSubmit(Action, ABC):
    """The action a completed form runs (its rule: form done -> this action)."""

    @property
    @abstractmethod
    def flow(self) -> Flow: ...

    @abstractmethod
    async def complete(self, ctx: FlowContext) -> Completion:
        """Does the flow's work and says the result."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        ctx = context(tracker)
        events = await finish(self.flow, ctx, self.complete)
        utter(dispatcher, ctx.messages)
        return events
