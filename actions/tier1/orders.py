"""Orders: delivery status, cancelling an order, changing its delivery address.

All three need a verified customer and then an order of theirs. Cancelling and
changing the address are possible only while an order is ``processing`` (and a
new address must be in the same country); otherwise the bot explains why not
and what the customer can do instead.
"""

from __future__ import annotations

import re
from datetime import date

from actions.backends import (
    AccountRequestKind,
    Address,
    DeliveryOption,
    NotAllowed,
    NotFound,
    Order,
    OrderStatus,
    Outcome,
)
from actions.tier1.base import (
    HANDOFF,
    OFFER_HUMAN,
    Completion,
    Flow,
    FlowContext,
    Verdict,
    accept_confirmation,
)
from actions.tier1.flow import FlowSubmit, FlowValidator
from actions.tier1.messages import Message, article_url, button, day, eur, message
from actions.tier1.parsing import clean_line, has_digit, order_number_of, yes_or_no
from actions.transcript import transcript

MAX_ORDER_BUTTONS = 5
# Business days after the expected date before the carrier is asked to investigate.
INVESTIGATE_AFTER_DAYS = 5
# "It says delivered but I never got it": a parcel the record calls delivered
# that the customer does not have is a lost-parcel case for a person.
_NOT_RECEIVED = re.compile(
    r"\b(?:(?:not|never)\s+(?:been\s+)?(?:received|arrived|delivered|got(?:ten)?|came|come|here|there)"
    r"|(?:didn'?t|did\s+not|haven'?t|have\s+not|hasn'?t|has\s+not|never)\s+"
    r"(?:\w+\s+)?(?:get|got|gotten|receive|received|arrive|arrived|come|came|see|seen|turn(?:ed)?\s+up)"
    r"|nothing\s+(?:here|arrived|came)|no\s+(?:parcel|package|box)|(?:parcel|package)\s+(?:is\s+)?missing"
    r"|stolen|(?:lost|missing)\s+(?:parcel|package)|where\s+is\s+it\s+then|(?:says|shows|marked)\s+(?:as\s+)?delivered\s+but)",
    re.IGNORECASE,
)
LOST_PARCEL = (
    "The carrier marked it as delivered, but you don't have it. I'm passing this to our team: "
    "they'll check with the carrier and find your parcel or send a replacement or refund. "
    "Meanwhile, check with neighbours and your building's mail room: "
)

STATUS_WORDS = {
    OrderStatus.PROCESSING: "being prepared",
    OrderStatus.SHIPPED: "on its way",
    OrderStatus.OUT_FOR_DELIVERY: "out for delivery",
    OrderStatus.DELIVERED: "delivered",
    OrderStatus.DELAYED: "delayed",
    OrderStatus.RETURNED_TO_SENDER: "returned to us",
    OrderStatus.CANCELLED: "cancelled",
}
COUNTRIES = {
    "AT": "Austria", "BE": "Belgium", "DE": "Germany", "ES": "Spain", "FR": "France",
    "GB": "the United Kingdom", "IE": "Ireland", "IT": "Italy", "NL": "the Netherlands",
    "PL": "Poland", "SE": "Sweden",
}  # fmt: skip


def country_name(code: str) -> str:
    return COUNTRIES.get(code.upper(), code.upper())


def items_text(order: Order) -> str:
    """``Brightwave Hub Mini, 2 x Brightwave Cam 360``."""
    return ", ".join(
        item.name if item.quantity == 1 else f"{item.quantity} x {item.name}"
        for item in order.items
    )


def address_lines(address: Address) -> str:
    lines = [address.name, address.line1, address.line2, f"{address.postal_code} {address.city}"]
    return "\n".join([*(line for line in lines if line), country_name(address.country)])


def order_button(order: Order) -> dict[str, str]:
    return button(
        f"{order.order_number} ({STATUS_WORDS[order.status]})",
        f'/inform{{"order_number": "{order.order_number}"}}',
    )


def order_status_text(order: Order, today: date) -> str:
    """Status, carrier, tracking number and link, expected or delivery date."""
    number, shipment = order.order_number, order.shipment
    lines: list[str]
    if order.status is OrderStatus.PROCESSING:
        lines = [f"Order {number} ({items_text(order)}) is being prepared and hasn't shipped yet."]
        if order.expected_delivery:
            lines.append(f"Expected delivery: {day(order.expected_delivery, today)}.")
        lines.append("You'll get an email with the tracking link as soon as it ships.")
    elif order.status is OrderStatus.DELIVERED:
        when = f" on {day(order.delivered_on, today)}" if order.delivered_on else ""
        by = f" by {shipment.carrier}" if shipment is not None else ""
        lines = [f"Order {number} ({items_text(order)}) was delivered{by}{when}."]
        if shipment is not None:
            # Who delivered it and the proof: what a customer who cannot find
            # the parcel needs next.
            lines.append(
                f"Tracking number {shipment.tracking_number}: [see the delivery on the "
                f"{shipment.carrier} website]({shipment.tracking_url})"
            )
    elif order.status is OrderStatus.CANCELLED:
        lines = [f"Order {number} ({items_text(order)}) was cancelled."]
    elif order.status is OrderStatus.RETURNED_TO_SENDER:
        lines = [
            f"Order {number} ({items_text(order)}) couldn't be delivered and was returned to "
            "us. What happens next: " + article_url("returned-to-sender")
        ]
    else:
        state = {
            OrderStatus.SHIPPED: "is on its way",
            OrderStatus.OUT_FOR_DELIVERY: "is out for delivery",
            OrderStatus.DELAYED: "is delayed: the carrier reported a delay",
        }[order.status]
        lines = [f"Order {number} ({items_text(order)}) {state}."]
        if shipment is not None:
            lines.append(
                f"Carrier: {shipment.carrier}, tracking number {shipment.tracking_number}."
            )
            lines.append(f"[Track it on the {shipment.carrier} website]({shipment.tracking_url})")
        if order.expected_delivery:
            expected = day(order.expected_delivery, today)
            if order.is_late(today):
                lines.append(f"It was expected on {expected}.")
            else:
                lines.append(f"Expected delivery: {expected}.")
    return "\n".join(lines)


def not_received(ctx: FlowContext) -> bool:
    """Whether the customer said in this conversation that the parcel never came."""
    return any(
        turn["from"] == "customer" and _NOT_RECEIVED.search(turn["text"])
        for turn in transcript(ctx.events)
    )


def late_text(order: Order, today: date) -> str:
    late = order.days_late(today)
    days = "1 day" if late == 1 else f"{late} days"
    if late < INVESTIGATE_AFTER_DAYS:
        advice = (
            "Most late parcels turn up within 5 business days of the expected date, so it "
            "will very likely arrive soon. After that we ask the carrier to investigate."
        )
    else:
        advice = "That's long enough for us to ask the carrier to investigate."
    return f"It's {days} late. {advice} More: {article_url('late-parcel')}"


class OrderFlow(Flow):
    """A flow about one of the verified customer's orders (``order_number``)."""

    def after_verification(self, ctx: FlowContext, order_number: str | None) -> None:
        if order_number and not ctx.get("order_number"):
            ctx.set("order_number", order_number)

    async def prefill(self, ctx: FlowContext) -> None:
        number = order_number_of(ctx.turn)
        if number and ctx.verified is not None:
            ctx.set("order_number", number)

    async def answers(self, slot: str, ctx: FlowContext) -> bool:
        if slot == "order_number":
            return order_number_of(ctx.turn) is not None
        if slot == "flow_confirmed":
            return yes_or_no(ctx.turn) is not None
        return False

    async def orders(self, ctx: FlowContext) -> list[Order]:
        if "orders" not in ctx.cache:
            ctx.cache["orders"] = await ctx.deps.backends.orders.list_orders(ctx.customer_id)
        orders: list[Order] = ctx.cache["orders"]
        return orders

    async def order(self, ctx: FlowContext) -> Order | None:
        """The order in ``order_number`` (None if it is not the customer's)."""
        number = ctx.get("order_number")
        if not number:
            return None
        if ctx.cache.get("order_number") != number:
            try:
                ctx.cache["order"] = await ctx.deps.backends.orders.get_order(
                    ctx.customer_id, number
                )
            except NotFound:
                ctx.cache["order"] = None
            ctx.cache["order_number"] = number
        order: Order | None = ctx.cache["order"]
        return order

    async def next_slot(self, ctx: FlowContext) -> str | None:
        if ctx.get("order_number") is None:
            return "order_number" if await self.orders(ctx) else None
        return await self.next_after_order(ctx)

    async def next_after_order(self, ctx: FlowContext) -> str | None:
        return None

    async def ask(self, slot: str, ctx: FlowContext) -> None:
        if slot == "order_number":
            orders = await self.orders(ctx)
            ctx.say(
                message(
                    "Which order is it about? Pick one or type its number.",
                    [order_button(order) for order in orders[:MAX_ORDER_BUTTONS]],
                )
            )
        elif slot == "flow_confirmed":
            ctx.say(await self.confirmation(ctx))
        else:
            await self.ask_more(slot, ctx)

    async def confirmation(self, ctx: FlowContext) -> Message:
        raise NotImplementedError

    async def ask_more(self, slot: str, ctx: FlowContext) -> None:
        raise NotImplementedError(slot)

    async def accept(self, slot: str, ctx: FlowContext) -> Verdict:
        if slot == "order_number":
            number = order_number_of(ctx.turn)
            if number is None:
                ctx.say(
                    message("That doesn't look like an order number. They look like BW-104233.")
                )
                return Verdict.INVALID
            ctx.set("order_number", number)
            if await self.order(ctx) is None:
                ctx.set("order_number", None)
                ctx.say(
                    message(
                        f"I can't find {number} among the orders of your account. "
                        "Please check the number."
                    )
                )
                return Verdict.INVALID
            return Verdict.ACCEPTED
        if slot == "flow_confirmed":
            return accept_confirmation(ctx, "Please answer yes or no.")
        return await self.accept_more(slot, ctx)

    async def accept_more(self, slot: str, ctx: FlowContext) -> Verdict:
        raise NotImplementedError(slot)


NO_ORDERS = "I can't see any orders on your account."


# --- order status -----------------------------------------------------------


class OrderStatusFlow(OrderFlow):
    form = "order_status_form"
    slots = ("order_number",)
    triggers = frozenset({"order_status"})


ORDER_STATUS = OrderStatusFlow()


class ValidateOrderStatusForm(FlowValidator):
    flow = ORDER_STATUS


class ActionOrderStatus(FlowSubmit):
    flow = ORDER_STATUS

    def name(self) -> str:
        return "action_order_status"

    async def complete(self, ctx: FlowContext) -> Completion:
        order = await ORDER_STATUS.order(ctx)
        if order is None:
            ctx.say(message(NO_ORDERS))
            return Completion(Outcome.RESOLVED_BY_BOT, "no_orders")
        ctx.say(message(order_status_text(order, ctx.today)))
        if order.status is OrderStatus.DELIVERED and not_received(ctx):
            # Failure class 9 of issue 23: the record says delivered, the
            # customer says it never came: no resolution, a person.
            ctx.say(message(LOST_PARCEL + article_url("lost-parcel")))
            ctx.set("handoff_reason", "tier2_topic")
            return Completion(None, f"{order.status.value}:not_received", HANDOFF)
        if order.is_late(ctx.today):
            ctx.say(message(late_text(order, ctx.today)))
            ctx.set("handoff_reason", "tier2_topic")
            return Completion(Outcome.RESOLVED_BY_BOT, f"{order.status.value}:late", OFFER_HUMAN)
        return Completion(Outcome.RESOLVED_BY_BOT, order.status.value)


# --- refusals by order state ------------------------------------------------


def cannot_change(order: Order, what: str) -> str:
    """Why ``what`` ("cancel it", "change its address") is no longer possible."""
    number = order.order_number
    if order.status in (OrderStatus.SHIPPED, OrderStatus.OUT_FOR_DELIVERY, OrderStatus.DELAYED):
        if what == "cancel it":
            return (
                f"Order {number} has already shipped, so I can't cancel it any more. You can "
                "refuse the parcel when it's delivered (it comes back to us and you're refunded "
                "automatically), or return it within 30 days of delivery: "
                + article_url("start-a-return")
            )
        tracking = f" ({order.shipment.tracking_url})" if order.shipment else ""
        return (
            f"Order {number} has already shipped, so its address can't be changed any more. "
            f"The carrier may let you pick another day, a neighbour or a pickup point on its "
            f"tracking page{tracking}."
        )
    if order.status is OrderStatus.DELIVERED:
        return (
            f"Order {number} has already been delivered, so I can't {what}. You can return it "
            "within 30 days of delivery: " + article_url("start-a-return")
        )
    if order.status is OrderStatus.CANCELLED:
        return f"Order {number} is already cancelled."
    return (
        f"Order {number} was returned to us by the carrier, so I can't {what}. What happens "
        "next: " + article_url("returned-to-sender")
    )


REFUSALS = {
    "country_change": "The new address must be in the same country as the original one.",
    "invalid_address": "That address is incomplete, so I couldn't save it.",
}


# --- cancel an order ----------------------------------------------------------


class CancelOrderFlow(OrderFlow):
    form = "cancel_order_form"
    slots = ("order_number", "flow_confirmed")
    triggers = frozenset({"cancel_order"})

    async def next_after_order(self, ctx: FlowContext) -> str | None:
        order = await self.order(ctx)
        if order is None or order.status is not OrderStatus.PROCESSING:
            return None  # the submit action explains
        return None if ctx.get("flow_confirmed") is not None else "flow_confirmed"

    async def confirmation(self, ctx: FlowContext) -> Message:
        order = await self.order(ctx)
        assert order is not None
        return message(
            f"Order {order.order_number} ({items_text(order)}, {eur(order.total_eur)}) hasn't "
            "shipped yet, so it can still be cancelled. Shall I cancel the whole order?",
            [button("Yes, cancel it", "/affirm"), button("No, keep it", "/deny")],
        )


CANCEL_ORDER = CancelOrderFlow()


class ValidateCancelOrderForm(FlowValidator):
    flow = CANCEL_ORDER


class ActionCancelOrder(FlowSubmit):
    flow = CANCEL_ORDER

    def name(self) -> str:
        return "action_cancel_order"

    async def complete(self, ctx: FlowContext) -> Completion:
        order = await CANCEL_ORDER.order(ctx)
        if order is None:
            ctx.say(message(NO_ORDERS))
            return Completion(Outcome.RESOLVED_BY_BOT, "no_orders")
        if order.status is not OrderStatus.PROCESSING:
            ctx.say(message(cannot_change(order, "cancel it")))
            return Completion(Outcome.RESOLVED_BY_BOT, f"not_allowed:{order.status.value}")
        if not ctx.get("flow_confirmed"):
            ctx.say(message(f"OK, I haven't changed anything: order {order.order_number} stays."))
            return Completion(Outcome.ABANDONED, "declined")
        try:
            await ctx.deps.backends.orders.cancel_order(ctx.customer_id, order.order_number)
        except NotAllowed as refused:  # it shipped in the meantime
            current = await ctx.deps.backends.orders.get_order(ctx.customer_id, order.order_number)
            ctx.say(message(cannot_change(current, "cancel it")))
            return Completion(Outcome.RESOLVED_BY_BOT, f"not_allowed:{refused.reason}")
        await ctx.deps.account_requests.record(
            ctx.conversation_id,
            ctx.customer_id,
            AccountRequestKind.CANCEL_ORDER,
            reference=order.order_number,
        )
        ctx.say(
            message(
                f"Done: order {order.order_number} is cancelled. You won't be charged; if you "
                "already paid, the money goes back the way you paid (how long that takes: "
                f"{article_url('cancel-order')})."
            )
        )
        return Completion(Outcome.RESOLVED_BY_BOT)


# --- change the delivery address --------------------------------------------

ADDRESS_SLOTS = ("address_line1", "address_postal_code", "address_city")
# A street, postcode or town in another language looks to NLU like a message in
# another language or off-topic text; with these intents an address part that
# parses is an answer, not an interruption ("Calle de Alcala 45" mid-form).
ADDRESS_LOOKALIKE_INTENTS = frozenset({"other_language", "out_of_scope", "inform"})


def postal_code_of(text: str) -> str | None:
    line = clean_line(text, 12)
    if line is None or not has_digit(line):
        return None
    if not all(ch.isalnum() or ch in " -" for ch in line):
        return None
    return line.upper()


def city_of(text: str) -> str | None:
    line = clean_line(text, 60)
    if line is None or has_digit(line):
        return None
    if not all(ch.isalpha() or ch in " -'\u2019." for ch in line):
        return None
    return line


def street_of(text: str) -> str | None:
    line = clean_line(text, 100)
    if line is None or not has_digit(line) or not any(ch.isalpha() for ch in line):
        return None
    if "@" in line:
        return None
    return line


class ChangeAddressFlow(OrderFlow):
    form = "change_address_form"
    slots = ("order_number", *ADDRESS_SLOTS, "flow_confirmed")
    triggers = frozenset({"change_shipping_address"})

    async def answers(self, slot: str, ctx: FlowContext) -> bool:
        if slot in ADDRESS_SLOTS and ctx.turn.intent in ADDRESS_LOOKALIKE_INTENTS:
            parse = {
                "address_line1": street_of,
                "address_postal_code": postal_code_of,
                "address_city": city_of,
            }[slot]
            return parse(ctx.turn.text) is not None
        return await super().answers(slot, ctx)

    async def next_after_order(self, ctx: FlowContext) -> str | None:
        order = await self.order(ctx)
        if order is None or order.status is not OrderStatus.PROCESSING:
            return None
        if order.delivery_option is DeliveryOption.PICKUP_POINT:
            return None
        return next(
            (slot for slot in (*ADDRESS_SLOTS, "flow_confirmed") if ctx.get(slot) is None), None
        )

    async def ask_more(self, slot: str, ctx: FlowContext) -> None:
        order = await self.order(ctx)
        assert order is not None
        if slot == "address_line1":
            country = country_name(order.shipping_address.country)
            ctx.say(
                message(
                    f"Order {order.order_number} hasn't shipped yet, so its address can still be "
                    f"changed (within {country}). What's the new street and house number?"
                )
            )
        elif slot == "address_postal_code":
            ctx.say(message("And the postcode?"))
        else:
            ctx.say(message("And the town or city?"))

    async def accept_more(self, slot: str, ctx: FlowContext) -> Verdict:
        text = ctx.turn.text
        if slot == "address_line1":
            value, problem = (
                street_of(text),
                "Please type the street and house number, like Prinsengracht 263.",
            )
        elif slot == "address_postal_code":
            value, problem = (
                postal_code_of(text),
                "That doesn't look like a postcode (like 1016 GV).",
            )
        else:
            value, problem = city_of(text), "Please type just the name of the town or city."
        if value is None:
            ctx.say(message(problem))
            return Verdict.INVALID
        ctx.set(slot, value)
        return Verdict.ACCEPTED

    def new_address(self, ctx: FlowContext, order: Order) -> Address:
        current = order.shipping_address
        return Address(
            name=current.name,
            line1=str(ctx.get("address_line1")),
            postal_code=str(ctx.get("address_postal_code")),
            city=str(ctx.get("address_city")),
            country=current.country,
        )

    async def confirmation(self, ctx: FlowContext) -> Message:
        order = await self.order(ctx)
        assert order is not None
        return message(
            f"Shall I change the delivery address of {order.order_number} to:\n"
            f"{address_lines(self.new_address(ctx, order))}",
            [button("Yes, change it", "/affirm"), button("No, leave it", "/deny")],
        )


CHANGE_ADDRESS = ChangeAddressFlow()


class ValidateChangeAddressForm(FlowValidator):
    flow = CHANGE_ADDRESS


class ActionChangeAddress(FlowSubmit):
    flow = CHANGE_ADDRESS

    def name(self) -> str:
        return "action_change_address"

    async def complete(self, ctx: FlowContext) -> Completion:
        order = await CHANGE_ADDRESS.order(ctx)
        if order is None:
            ctx.say(message(NO_ORDERS))
            return Completion(Outcome.RESOLVED_BY_BOT, "no_orders")
        if order.status is not OrderStatus.PROCESSING:
            ctx.say(message(cannot_change(order, "change its address")))
            return Completion(Outcome.RESOLVED_BY_BOT, f"not_allowed:{order.status.value}")
        if order.delivery_option is DeliveryOption.PICKUP_POINT:
            ctx.say(
                message(
                    f"Order {order.order_number} goes to a pickup point. You can choose another "
                    "pickup point in your account (Account > Orders); to switch to home delivery, "
                    "cancel the order and place a new one: "
                    + article_url("change-shipping-address")
                )
            )
            return Completion(Outcome.SELF_SERVICE_ARTICLE, "pickup_point")
        if not ctx.get("flow_confirmed"):
            ctx.say(
                message(f"OK, I haven't changed anything: {order.order_number} keeps its address.")
            )
            return Completion(Outcome.ABANDONED, "declined")
        new = CHANGE_ADDRESS.new_address(ctx, order)
        try:
            changed = await ctx.deps.backends.orders.change_shipping_address(
                ctx.customer_id, order.order_number, new
            )
        except NotAllowed as refused:
            if refused.reason in REFUSALS:
                ctx.say(message(REFUSALS[refused.reason]))
            else:
                current = await ctx.deps.backends.orders.get_order(
                    ctx.customer_id, order.order_number
                )
                ctx.say(message(cannot_change(current, "change its address")))
            return Completion(Outcome.RESOLVED_BY_BOT, f"not_allowed:{refused.reason}")
        await ctx.deps.account_requests.record(
            ctx.conversation_id,
            ctx.customer_id,
            AccountRequestKind.CHANGE_SHIPPING_ADDRESS,
            reference=order.order_number,
        )
        ctx.say(
            message(
                f"Done: order {order.order_number} will be delivered to:\n"
                f"{address_lines(changed.shipping_address)}"
            )
        )
        return Completion(Outcome.RESOLVED_BY_BOT)
