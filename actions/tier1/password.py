"""Password reset: after verification, a reset link goes to the address on file.

The bot never asks for, accepts or echoes a password (``typed_secrets``).
Locked and suspended accounts go to the accounts team (Tier 2).
"""

from __future__ import annotations

from datetime import date, datetime

from actions.backends import AccountRequestKind, AccountStatus, NotAllowed, Outcome, mask_email
from actions.tier1.base import HANDOFF, OFFER_HUMAN, Completion, Flow, FlowContext
from actions.tier1.flow import FlowSubmit, FlowValidator
from actions.tier1.messages import button, day, first_name, message

RESET_SUBJECT = "Reset your Brightwave password"


class PasswordResetFlow(Flow):
    form = "password_reset_form"
    triggers = frozenset({"password_reset"})


PASSWORD_RESET = PasswordResetFlow()


def reset_email(name: str, url: str, expires_at: datetime) -> str:
    greeting = f"Hi {first_name(name)}," if first_name(name) else "Hello,"
    return (
        f"{greeting}\n\nYou asked our chat assistant for a new password. Choose one here:\n\n"
        f"{url}\n\n"
        f"The link works until {expires_at:%H:%M} UTC (60 minutes) and stops working when "
        "you ask for a new one.\n\n"
        "If you didn't ask for this, ignore this email: your password stays the same.\n\n"
        "Brightwave\n"
    )


def closed(effective: date | None, today: date) -> str:
    when = f" on {day(effective, today)}" if effective else " after the 30-day grace period"
    return (
        "Your account is closed because you asked us to delete it, so its password can't be "
        f"reset here. Its data will be deleted for good{when}. If you'd like to keep your "
        "account, our accounts team can help."
    )


def link_sent(email: str) -> str:
    return (
        f"Done! I've sent a password reset link to {mask_email(email)}. It works for 60 "
        "minutes. Open it, choose a new password, and you can sign in again (also in the "
        "app). Nothing there? Check your spam folder, or ask me for a new link."
    )


LOCKED = (
    "Your account is locked at the moment, so I'm passing you to our accounts team: "
    "they can check what happened and help you back in."
)
SUSPENDED = (
    "Your account is suspended at the moment, so I'm passing you to our accounts team: "
    "only they can help with a suspended account."
)
ACTIVATION_BUTTON = button("Send a new activation email", "/account_activation")
NOT_POSSIBLE = "Sorry, I can't reset the password of this account here."
NOT_ACTIVATED = (
    "Your account isn't activated yet, so there's no password to reset. Activate it with the "
    "link in the activation email; I can send you a new one."
)


class ValidatePasswordResetForm(FlowValidator):
    flow = PASSWORD_RESET


class ActionSendPasswordReset(FlowSubmit):
    flow = PASSWORD_RESET

    def name(self) -> str:
        return "action_send_password_reset"

    async def complete(self, ctx: FlowContext) -> Completion:
        identity = ctx.deps.backends.identity
        state = await identity.account_status(ctx.customer_id)
        if state.status in (AccountStatus.LOCKED, AccountStatus.SUSPENDED):
            locked = state.status is AccountStatus.LOCKED
            ctx.say(message(LOCKED if locked else SUSPENDED))
            ctx.set("handoff_reason", "tier2_topic")
            # action_handoff records the outcome (escalated).
            return Completion(None, f"account_{state.status.value}", HANDOFF)
        if state.status is AccountStatus.PENDING_ACTIVATION:
            ctx.say(message(NOT_ACTIVATED, [ACTIVATION_BUTTON]))
            return Completion(Outcome.RESOLVED_BY_BOT, "account_not_activated")
        if state.status is AccountStatus.CLOSED:
            ctx.say(message(closed(state.deletion_effective_on, ctx.today)))
            ctx.set("handoff_reason", "tier2_topic")
            return Completion(Outcome.RESOLVED_BY_BOT, "account_closed", OFFER_HUMAN)
        try:
            reset = await identity.create_password_reset(ctx.customer_id)
        except NotAllowed as refused:  # the account changed since we looked
            ctx.say(message(NOT_POSSIBLE))
            ctx.set("handoff_reason", "tier2_topic")
            return Completion(None, f"not_allowed:{refused.reason}", OFFER_HUMAN)
        verified = ctx.verified or {}
        email, name = verified.get("email", ""), verified.get("name", "")
        await ctx.deps.backends.email.send(
            email, RESET_SUBJECT, reset_email(name, reset.url, reset.expires_at)
        )
        await ctx.deps.account_requests.record(
            ctx.conversation_id, ctx.customer_id, AccountRequestKind.PASSWORD_RESET
        )
        ctx.say(message(link_sent(email)))
        ctx.log("password reset link sent")
        return Completion(Outcome.RESOLVED_BY_BOT)
