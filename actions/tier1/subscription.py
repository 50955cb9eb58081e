"""Cancelling Brightwave Plus: after verification, with the date it ends and
an explicit yes. Plus paid through the App Store or Google Play can only be
cancelled there: the bot says how (a help-center article)."""

from __future__ import annotations

from datetime import date

from actions.backends import (
    AccountRequestKind,
    BilledBy,
    NotAllowed,
    Outcome,
    Plan,
    Subscription,
    SubscriptionStatus,
)
from actions.tier1.base import Completion, Flow, FlowContext, Verdict, accept_confirmation
from actions.tier1.flow import FlowSubmit, FlowValidator
from actions.tier1.messages import Message, article_url, button, day, eur, message
from actions.tier1.parsing import yes_or_no

RUNNING = (SubscriptionStatus.TRIAL, SubscriptionStatus.ACTIVE)
STORES = {BilledBy.APPLE: "the App Store", BilledBy.GOOGLE: "Google Play"}


def cancellable(subscription: Subscription | None) -> bool:
    return (
        subscription is not None
        and subscription.billed_by is BilledBy.BRIGHTWAVE
        and subscription.status in RUNNING
    )


def confirmation(subscription: Subscription, today: date) -> Message:
    end = day(subscription.renews_on, today) if subscription.renews_on else "the end of the period"
    if subscription.status is SubscriptionStatus.TRIAL:
        text = (
            f"Your free Brightwave Plus trial ends on {end}. If you cancel, you keep Plus until "
            "then and won't be charged."
        )
    else:
        period = "month" if subscription.plan is Plan.MONTHLY else "year"
        text = (
            f"Your Brightwave Plus {subscription.plan.value} plan ({eur(subscription.price_eur)} "
            f"a {period}) renews on {end}. If you cancel, you keep all Plus features until then "
            "and won't be charged again."
        )
    return message(
        f"{text} Camera clips older than 24 hours are deleted when Plus ends. Shall I cancel it?",
        [button("Yes, cancel Plus", "/affirm"), button("No, keep it", "/deny")],
    )


def not_cancellable_text(subscription: Subscription | None, today: date) -> str:
    if subscription is None:
        return "You don't have Brightwave Plus on this account, so there's nothing to cancel."
    if subscription.billed_by is not BilledBy.BRIGHTWAVE and subscription.status in RUNNING:
        return (
            f"Your Brightwave Plus is paid through {STORES[subscription.billed_by]}, so only "
            "they can cancel it: open your subscriptions there and choose Brightwave. "
            "Step by step: " + article_url("cancel-brightwave-plus")
        )
    end = day(subscription.ends_on, today) if subscription.ends_on else "the end of the period"
    if subscription.status is SubscriptionStatus.CANCELLED:
        return f"Your Brightwave Plus is already cancelled: it ends on {end} and won't renew."
    return f"Your Brightwave Plus has already ended ({end}), so there's nothing to cancel."


class CancelSubscriptionFlow(Flow):
    form = "cancel_subscription_form"
    slots = ("flow_confirmed",)
    triggers = frozenset({"cancel_subscription"})

    async def subscription(self, ctx: FlowContext) -> Subscription | None:
        if "subscription" not in ctx.cache:
            subscriptions = ctx.deps.backends.subscriptions
            ctx.cache["subscription"] = await subscriptions.subscription(ctx.customer_id)
        found: Subscription | None = ctx.cache["subscription"]
        return found

    async def next_slot(self, ctx: FlowContext) -> str | None:
        if ctx.get("flow_confirmed") is not None:
            return None
        return "flow_confirmed" if cancellable(await self.subscription(ctx)) else None

    async def answers(self, slot: str, ctx: FlowContext) -> bool:
        return yes_or_no(ctx.turn) is not None

    async def ask(self, slot: str, ctx: FlowContext) -> None:
        subscription = await self.subscription(ctx)
        assert subscription is not None
        ctx.say(confirmation(subscription, ctx.today))

    async def accept(self, slot: str, ctx: FlowContext) -> Verdict:
        return accept_confirmation(ctx, "Please answer yes (cancel Plus) or no (keep it).")


CANCEL_SUBSCRIPTION = CancelSubscriptionFlow()


class ValidateCancelSubscriptionForm(FlowValidator):
    flow = CANCEL_SUBSCRIPTION


class ActionCancelSubscription(FlowSubmit):
    flow = CANCEL_SUBSCRIPTION

    def name(self) -> str:
        return "action_cancel_subscription"

    async def complete(self, ctx: FlowContext) -> Completion:
        subscription = await CANCEL_SUBSCRIPTION.subscription(ctx)
        if not cancellable(subscription):
            ctx.say(message(not_cancellable_text(subscription, ctx.today)))
            if subscription is not None and subscription.billed_by is not BilledBy.BRIGHTWAVE:
                return Completion(
                    Outcome.SELF_SERVICE_ARTICLE, f"billed_by:{subscription.billed_by.value}"
                )
            state = "none" if subscription is None else subscription.status.value
            return Completion(Outcome.RESOLVED_BY_BOT, f"not_cancellable:{state}")
        if not ctx.get("flow_confirmed"):
            ctx.say(message("OK, your Brightwave Plus stays as it is."))
            return Completion(Outcome.ABANDONED, "declined")
        try:
            done = await ctx.deps.backends.subscriptions.cancel_subscription(ctx.customer_id)
        except NotAllowed as refused:
            ctx.say(message("Sorry, I can't cancel this subscription here."))
            return Completion(Outcome.RESOLVED_BY_BOT, f"not_allowed:{refused.reason}")
        await ctx.deps.account_requests.record(
            ctx.conversation_id,
            ctx.customer_id,
            AccountRequestKind.CANCEL_SUBSCRIPTION,
            reference=done.confirmation_id,
            effective_on=done.effective_on,
        )
        ctx.say(
            message(
                f"Done: Brightwave Plus is cancelled (confirmation {done.confirmation_id}). You "
                f"keep all Plus features until {day(done.effective_on, ctx.today)} and won't be "
                "charged again. Changed your mind? Choose Resume subscription under Account > "
                "Subscription before then."
            )
        )
        return Completion(Outcome.RESOLVED_BY_BOT)
