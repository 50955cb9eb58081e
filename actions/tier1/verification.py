"""Checking who the customer is before any personal or order data is shown
or changed.

Two ways: the email address of the account plus the number of one of its
orders (``IdentityBackend.verify_customer``), or a one-time code mailed to the
address on file (``VerificationCodes``: 6 digits, 10 minutes, 5 attempts).
Replies never reveal whether an email address or order exists: a mismatch gets
one answer whatever its cause, and a code is issued for any address but mailed
only when the address has an account (so checking it then fails the same way).

Slots: ``verify_email`` (the address given), ``verify_order`` (the order number
given, or ``"code"`` once a code was sent), ``verify_code`` (asked for, never
stored). Once verified, ``verified_email``, ``customer_id`` and
``customer_name`` hold the identity for the rest of the session.
"""

from __future__ import annotations

from actions.backends import BackendUnavailable, CodeLimitReached, CodeOutcome, Customer
from actions.tier1.base import Flow, FlowContext, Verdict, Verification, system_down
from actions.tier1.messages import button, first_name, message
from actions.tier1.parsing import code_of, email_of, looks_like_an_email_attempt, order_number_of

CODE_CHOICE = "code"
CODE_BUTTON = button("Email me a code", "/request_code")
NEW_CODE_BUTTON = button("Email me a new code", "/request_code")
CODE_SUBJECT = "Your Brightwave verification code"

ASK_EMAIL = (
    "To keep your account safe I first need to check who you are. What's the email address "
    "of your Brightwave account?"
)
ASK_EMAIL_ONLY = "What's the email address you signed up with?"
ASK_ORDER = (
    "Thanks. What's the number of one of your orders with that email address? It looks like "
    "BW-104233. No order number at hand? I can email you a one-time code instead."
)
ASK_CODE = "Please type the 6-digit code from the email."
NOT_AN_EMAIL = "That doesn't look like an email address. It should look like name@example.com."
NOT_AN_EMAIL_AT_ALL = "I need the email address of your account (like name@example.com) to go on."
NOT_AN_ORDER = "That doesn't look like an order number. Order numbers look like BW-104233."
NO_MATCH = (
    "Sorry, I couldn't verify that email address together with that order number. Please "
    "check the order number, type the email address again if it had a typo, or let me email "
    "you a one-time code."
)
CODE_USED_UP = (
    "That code can't be used any more: there were too many wrong tries. I can email you a new one."
)
NOT_A_CODE = "The code is the 6 digits in the email I sent you, like 123456."


def code_email(code: str) -> str:
    return (
        f"Hello,\n\nYour Brightwave verification code is {code}.\n\n"
        "Type it in the chat to continue. It is valid for 10 minutes and works once.\n\n"
        "If you didn't ask for it, you can ignore this email. We will never ask you for "
        "your password.\n\nBrightwave\n"
    )


def code_sent(email: str) -> str:
    return (
        f"If {email} belongs to a Brightwave account, I've just emailed it a 6-digit code. "
        "It's valid for 10 minutes."
    )


def wrong_code(attempts_left: int) -> str:
    tries = "1 more try" if attempts_left == 1 else f"{attempts_left} more tries"
    return f"That code isn't right. You have {tries}."


def wants_code(ctx: FlowContext, slot: str) -> bool:
    """ "Email me a code" (or, asked for an order number, "no, I don't have one")."""
    intent = ctx.turn.intent
    return intent == "request_code" or (slot == "verify_order" and intent == "deny")


async def prefill(flow: Flow, ctx: FlowContext) -> None:
    """Takes an email address and order number from the message that started the flow."""
    if flow.verification is Verification.NONE or ctx.verified is not None:
        return
    email = email_of(ctx.turn)
    if email:
        ctx.set("verify_email", email)
    order = order_number_of(ctx.turn)
    if flow.verification is Verification.FULL and order:
        ctx.set("verify_order", order)


async def next_slot(flow: Flow, ctx: FlowContext) -> str | None:
    """The verification slot to ask for, None once verification is complete
    (or not needed). Checks an email/order pair given at the start."""
    if flow.verification is Verification.NONE or ctx.verified is not None:
        return None
    if not ctx.get("verify_email"):
        return "verify_email"
    if flow.verification is Verification.EMAIL:
        return None
    order = ctx.get("verify_order")
    if order is None:
        return "verify_order"
    if order == CODE_CHOICE:
        return "verify_code"
    try:
        await check_order(flow, ctx)
    except BackendUnavailable as error:
        system_down(ctx, error)
        return None
    return None if ctx.verified is not None else "verify_order"


async def ask(flow: Flow, slot: str, ctx: FlowContext) -> None:
    if slot == "verify_email":
        text = ASK_EMAIL_ONLY if flow.verification is Verification.EMAIL else ASK_EMAIL
        ctx.say(message(text))
    elif slot == "verify_order":
        ctx.say(message(ASK_ORDER, [CODE_BUTTON]))
    else:
        ctx.say(message(ASK_CODE, [NEW_CODE_BUTTON]))


async def answers(slot: str, ctx: FlowContext) -> bool:
    turn = ctx.turn
    if slot == "verify_email":
        return email_of(turn) is not None
    if slot == "verify_order":
        return bool(order_number_of(turn) or email_of(turn) or wants_code(ctx, slot))
    return bool(code_of(turn.text) or wants_code(ctx, slot))


async def accept(flow: Flow, slot: str, ctx: FlowContext) -> Verdict:
    turn = ctx.turn
    email = email_of(turn)
    order = order_number_of(turn) if flow.verification is Verification.FULL else None
    if slot == "verify_email":
        if email is None:
            attempt = looks_like_an_email_attempt(turn.text)
            ctx.say(message(NOT_AN_EMAIL if attempt else NOT_AN_EMAIL_AT_ALL))
            return Verdict.INVALID
        ctx.set("verify_email", email)
        if order is None:
            return Verdict.ACCEPTED
        ctx.set("verify_order", order)
        return await check_order(flow, ctx)
    if slot == "verify_order":
        if email is not None:
            ctx.set("verify_email", email)  # a corrected address
        if wants_code(ctx, slot):
            return await send_code(ctx)
        if order is None:
            if email is not None:
                return Verdict.ACCEPTED
            ctx.say(message(NOT_AN_ORDER))
            return Verdict.INVALID
        ctx.set("verify_order", order)
        return await check_order(flow, ctx)
    if wants_code(ctx, slot):
        return await send_code(ctx)
    code = code_of(turn.text)
    if code is None:
        ctx.say(message(NOT_A_CODE, [NEW_CODE_BUTTON]))
        return Verdict.INVALID
    return await check_code(flow, code, ctx)


async def check_order(flow: Flow, ctx: FlowContext) -> Verdict:
    """Verifies the email address and order number given so far."""
    email, order = ctx.get("verify_email"), ctx.get("verify_order")
    customer = await ctx.deps.backends.identity.verify_customer(email, order)
    if customer is None:
        ctx.set("verify_order", None)
        ctx.say(message(NO_MATCH, [CODE_BUTTON]))
        ctx.log("verification by order number failed")
        return Verdict.INVALID
    verified(flow, ctx, customer, order)
    return Verdict.ACCEPTED


async def send_code(ctx: FlowContext) -> Verdict:
    """Issues a code for the address given and mails it if the address has an
    account. The reply is the same either way."""
    email = ctx.get("verify_email")
    try:
        issued = await ctx.deps.codes.issue(ctx.conversation_id, email)
    except CodeLimitReached as error:
        ctx.set("verify_order", None)
        ctx.say(
            message(
                "I've already sent the most codes I can for now. You can ask for a new one "
                f"after {error.retry_after:%H:%M} UTC, or use an order number instead."
            )
        )
        return Verdict.INVALID
    customer = await ctx.deps.backends.identity.find_customer(email)
    if customer is not None:
        try:
            await ctx.deps.backends.email.send(
                customer.email, CODE_SUBJECT, code_email(issued.code)
            )
        except BackendUnavailable:
            # Saying so would reveal that the address has an account.
            ctx.log("one-time code not delivered")
    ctx.set("verify_order", "code")
    ctx.say(message(code_sent(email)))
    return Verdict.ACCEPTED


async def check_code(flow: Flow, code: str, ctx: FlowContext) -> Verdict:
    email = ctx.get("verify_email")
    check = await ctx.deps.codes.verify(ctx.conversation_id, email, code)
    if check.outcome is CodeOutcome.OK:
        customer = await ctx.deps.backends.identity.find_customer(email)
        if customer is not None:
            verified(flow, ctx, customer, None)
            return Verdict.ACCEPTED
        # A guessed code for an address without an account: no different from a wrong one.
        ctx.say(message(CODE_USED_UP, [NEW_CODE_BUTTON]))
        return Verdict.INVALID
    if check.outcome is CodeOutcome.WRONG:
        ctx.say(message(wrong_code(check.attempts_left), [NEW_CODE_BUTTON]))
        return Verdict.RETRY
    if check.outcome is CodeOutcome.TOO_MANY_ATTEMPTS:
        ctx.say(message(CODE_USED_UP, [NEW_CODE_BUTTON]))
        return Verdict.INVALID
    ctx.say(message("That code has expired. I can email you a new one.", [NEW_CODE_BUTTON]))
    return Verdict.RETRY


def verified(flow: Flow, ctx: FlowContext, customer: Customer, order: str | None) -> None:
    ctx.set("verified_email", customer.email)
    ctx.set("customer_id", customer.customer_id)
    ctx.set("customer_name", customer.name)
    ctx.clear("verify_email", "verify_order")
    ctx.verified = {
        "email": customer.email,
        "customer_id": customer.customer_id,
        "name": customer.name,
    }
    name = first_name(customer.name)
    ctx.say(message(f"Thanks{', ' + name if name else ''}, that's confirmed."))
    ctx.log("customer verified (%s)", "order number" if order else "one-time code")
    flow.after_verification(ctx, order)
