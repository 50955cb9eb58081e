"""The account: resend the activation email, say the account's status, delete it.

Resending the activation email needs only an email address: the email goes to
the address on file, the reply is the same whether the address has an account
or not, and nothing is shown. The status and deletion need full verification.
Deletion asks for an explicit yes after explaining the 30-day grace period, and
is recorded in ``AccountRequestStore``.
"""

from __future__ import annotations

from datetime import date

from actions.backends import (
    AccountRequestKind,
    AccountState,
    AccountStatus,
    BilledBy,
    NotAllowed,
    Order,
    OrderStatus,
    Outcome,
    SubscriptionStatus,
    mask_email,
)
from actions.tier1.base import (
    OFFER_HUMAN,
    Completion,
    Flow,
    FlowContext,
    Verdict,
    Verification,
    accept_confirmation,
)
from actions.tier1.flow import FlowSubmit, FlowValidator
from actions.tier1.messages import article_url, button, day, message
from actions.tier1.parsing import yes_or_no

OPEN_ORDER_STATUSES = (
    OrderStatus.PROCESSING,
    OrderStatus.SHIPPED,
    OrderStatus.OUT_FOR_DELIVERY,
    OrderStatus.DELAYED,
)

# --- activation -------------------------------------------------------------


def activation_maybe_sent(email: str) -> str:
    return (
        f"If {email} belongs to a Brightwave account that still needs activating, I've just "
        "sent a new activation link to it. The link works for 48 hours. Nothing after a few "
        "minutes? Check your spam folder. If your account is already active, you can simply "
        "sign in (or reset your password if you've forgotten it)."
    )


def activation_sent(masked_email: str) -> str:
    return (
        f"I've sent a new activation link to {masked_email}. It works for 48 hours. Nothing "
        "after a few minutes? Check your spam folder."
    )


ALREADY_ACTIVE = "Your account is already active, so you can simply sign in."


class AccountActivationFlow(Flow):
    form = "account_activation_form"
    triggers = frozenset({"account_activation"})
    verification = Verification.EMAIL


ACCOUNT_ACTIVATION = AccountActivationFlow()


class ValidateAccountActivationForm(FlowValidator):
    flow = ACCOUNT_ACTIVATION


class ActionResendActivation(FlowSubmit):
    flow = ACCOUNT_ACTIVATION

    def name(self) -> str:
        return "action_resend_activation"

    async def complete(self, ctx: FlowContext) -> Completion:
        identity = ctx.deps.backends.identity
        if ctx.verified is not None:
            try:
                sent = await identity.resend_activation(ctx.customer_id)
            except NotAllowed as refused:
                if refused.reason == "account_closed":
                    ctx.say(message(CLOSED_SHORT))
                else:
                    ctx.say(message(ALREADY_ACTIVE))
                return Completion(Outcome.RESOLVED_BY_BOT, f"not_allowed:{refused.reason}")
            await self.record(ctx, ctx.customer_id)
            ctx.say(message(activation_sent(sent.sent_to)))
            return Completion(Outcome.RESOLVED_BY_BOT, "sent")
        email = str(ctx.get("verify_email") or "")
        customer = await identity.find_customer(email)
        if customer is not None:
            try:
                await identity.resend_activation(customer.customer_id)
                await self.record(ctx, customer.customer_id)
            except NotAllowed:
                pass  # already active or closed: the reply must not say so
        ctx.say(message(activation_maybe_sent(email)))
        return Completion(Outcome.RESOLVED_BY_BOT)

    async def record(self, ctx: FlowContext, customer_id: str) -> None:
        await ctx.deps.account_requests.record(
            ctx.conversation_id, customer_id, AccountRequestKind.RESEND_ACTIVATION
        )


CLOSED_SHORT = "Your account is closed because you asked us to delete it."

# --- status -----------------------------------------------------------------


def status_text(state: AccountState, email: str, today: date) -> str:
    if state.status is AccountStatus.ACTIVE:
        return (
            f"Your account ({mask_email(email)}) is active: everything works as it should. "
            "Trouble signing in? I can send you a password reset link."
        )
    if state.status is AccountStatus.PENDING_ACTIVATION:
        return (
            "Your account isn't activated yet: open the link in the activation email we sent "
            "you. I can send you a new one."
        )
    if state.status is AccountStatus.LOCKED:
        return (
            "Your account is temporarily locked after too many failed sign-in attempts. The "
            "lock lifts by itself after 30 minutes, and a password reset unlocks it straight "
            "away. More: " + article_url("account-locked")
        )
    if state.status is AccountStatus.SUSPENDED:
        return (
            "Your account is suspended, almost always because of a payment issue; we've sent "
            "you an email explaining why. Only our support team can lift a suspension. More: "
            + article_url("account-suspended")
        )
    when = (
        f" on {day(state.deletion_effective_on, today)}"
        if state.deletion_effective_on
        else " after the 30-day grace period"
    )
    return (
        "Your account is closed because you asked us to delete it. Its data will be deleted "
        f"for good{when}; until then you can sign in and choose Keep my account. More: "
        + article_url("delete-account")
    )


STATUS_BUTTONS = {
    AccountStatus.ACTIVE: [button("Reset my password", "/password_reset")],
    AccountStatus.PENDING_ACTIVATION: [
        button("Send a new activation email", "/account_activation")
    ],
    AccountStatus.LOCKED: [button("Reset my password", "/password_reset")],
}


class AccountStatusFlow(Flow):
    form = "account_status_form"
    triggers = frozenset({"account_status"})


ACCOUNT_STATUS = AccountStatusFlow()


class ValidateAccountStatusForm(FlowValidator):
    flow = ACCOUNT_STATUS


class ActionAccountStatus(FlowSubmit):
    flow = ACCOUNT_STATUS

    def name(self) -> str:
        return "action_account_status"

    async def complete(self, ctx: FlowContext) -> Completion:
        state = await ctx.deps.backends.identity.account_status(ctx.customer_id)
        email = ctx.verified["email"] if ctx.verified else ""
        ctx.say(message(status_text(state, email, ctx.today), STATUS_BUTTONS.get(state.status)))
        if state.status is AccountStatus.SUSPENDED:
            ctx.set("handoff_reason", "tier2_topic")
            return Completion(Outcome.RESOLVED_BY_BOT, state.status.value, OFFER_HUMAN)
        return Completion(Outcome.RESOLVED_BY_BOT, state.status.value)


# --- deletion ---------------------------------------------------------------

DELETION_EXPLAINED = (
    "Before you decide: deleting your account closes it now, and 30 days later your data is "
    "deleted for good (profile, devices and their settings, health and fitness data, camera "
    "clips). During those 30 days you can sign in and choose Keep my account to undo it. "
    "Brightwave Plus paid to us stops straight away; orders and invoices are kept for 7 years "
    "because the law says so. Export anything you want to keep first: "
    + article_url("export-your-data")
    + "\n\nDo you want to delete your account?"
)


def deleted_text(request_id: str, effective: date, today: date) -> str:
    return (
        f"Done: your account is closed and will be deleted for good on {day(effective, today)} "
        f"(request {request_id}). Changed your mind? Until then, sign in and choose Keep my "
        "account. You've been signed out everywhere."
    )


def open_orders_text(orders: list[Order]) -> str:
    listed = ", ".join(order.order_number for order in orders)
    return (
        f"You can't delete your account while an order is still on its way or being prepared "
        f"({listed}). Once it has been delivered, ask me again."
    )


APP_STORE_PLUS = (
    "Your Brightwave Plus is paid through the {store}: cancel it there, because deleting your "
    "account doesn't stop those payments. How: " + article_url("cancel-brightwave-plus")
)


class DeleteAccountFlow(Flow):
    form = "delete_account_form"
    slots = ("flow_confirmed",)
    triggers = frozenset({"delete_account"})

    async def state(self, ctx: FlowContext) -> AccountState:
        if "state" not in ctx.cache:
            ctx.cache["state"] = await ctx.deps.backends.identity.account_status(ctx.customer_id)
        state: AccountState = ctx.cache["state"]
        return state

    async def open_orders(self, ctx: FlowContext) -> list[Order]:
        if "open_orders" not in ctx.cache:
            orders = await ctx.deps.backends.orders.list_orders(ctx.customer_id)
            ctx.cache["open_orders"] = [o for o in orders if o.status in OPEN_ORDER_STATUSES]
        found: list[Order] = ctx.cache["open_orders"]
        return found

    async def next_slot(self, ctx: FlowContext) -> str | None:
        if ctx.get("flow_confirmed") is not None:
            return None
        state = await self.state(ctx)
        if state.status in (AccountStatus.CLOSED, AccountStatus.SUSPENDED):
            return None
        return None if await self.open_orders(ctx) else "flow_confirmed"

    async def answers(self, slot: str, ctx: FlowContext) -> bool:
        return yes_or_no(ctx.turn) is not None

    async def ask(self, slot: str, ctx: FlowContext) -> None:
        ctx.say(
            message(
                DELETION_EXPLAINED,
                [button("Yes, delete my account", "/affirm"), button("No, keep it", "/deny")],
            )
        )

    async def accept(self, slot: str, ctx: FlowContext) -> Verdict:
        return accept_confirmation(ctx, "Please answer yes (delete my account) or no (keep it).")


DELETE_ACCOUNT = DeleteAccountFlow()


class ValidateDeleteAccountForm(FlowValidator):
    flow = DELETE_ACCOUNT


class ActionDeleteAccount(FlowSubmit):
    flow = DELETE_ACCOUNT

    def name(self) -> str:
        return "action_delete_account"

    async def complete(self, ctx: FlowContext) -> Completion:
        state = await DELETE_ACCOUNT.state(ctx)
        if state.status is AccountStatus.CLOSED:
            ctx.say(message(status_text(state, "", ctx.today)))
            return Completion(Outcome.RESOLVED_BY_BOT, "already_closed")
        if state.status is AccountStatus.SUSPENDED:
            ctx.say(
                message(
                    "Your account is suspended, so it can't be deleted until the suspension is "
                    "resolved. Our support team can help with that."
                )
            )
            ctx.set("handoff_reason", "tier2_topic")
            return Completion(Outcome.RESOLVED_BY_BOT, "not_allowed:account_suspended", OFFER_HUMAN)
        open_orders = await DELETE_ACCOUNT.open_orders(ctx)
        if open_orders:
            ctx.say(message(open_orders_text(open_orders)))
            return Completion(Outcome.RESOLVED_BY_BOT, "not_allowed:open_orders")
        if not ctx.get("flow_confirmed"):
            ctx.say(message("OK, your account stays as it is."))
            return Completion(Outcome.ABANDONED, "declined")
        subscription = await ctx.deps.backends.subscriptions.subscription(ctx.customer_id)
        try:
            request = await ctx.deps.backends.identity.request_account_deletion(ctx.customer_id)
        except NotAllowed as refused:
            ctx.say(message("Sorry, your account can't be deleted here right now."))
            ctx.set("handoff_reason", "tier2_topic")
            return Completion(None, f"not_allowed:{refused.reason}", OFFER_HUMAN)
        await ctx.deps.account_requests.record(
            ctx.conversation_id,
            ctx.customer_id,
            AccountRequestKind.DELETE_ACCOUNT,
            reference=request.request_id,
            effective_on=request.effective_on,
        )
        ctx.say(message(deleted_text(request.request_id, request.effective_on, ctx.today)))
        if (
            subscription is not None
            and subscription.billed_by is not BilledBy.BRIGHTWAVE
            and subscription.status in (SubscriptionStatus.TRIAL, SubscriptionStatus.ACTIVE)
        ):
            store = "App Store" if subscription.billed_by is BilledBy.APPLE else "Google Play Store"
            ctx.say(message(APP_STORE_PLUS.format(store=store)))
        ctx.log("account deletion requested")
        return Completion(Outcome.RESOLVED_BY_BOT)
