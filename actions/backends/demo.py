"""The embedded demo backend: Brightwave's accounts, orders and subscriptions in
their own SQLite file (default ``var/demo-backend.db``), seeded from
``data/demo/`` on first use (see ``demo_data``). It imitates the company's
system, so it follows the rules of the help center: orders change only while
processing, reset links last 60 minutes, activation links 48 hours, deletion
has a 30-day grace period, Plus ends at the end of the paid period.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa

from actions.backends import demo_data as t
from actions.backends.errors import BackendUnavailable, NotAllowed, NotFound
from actions.backends.models import (
    AccountState,
    AccountStatus,
    ActivationEmail,
    Address,
    BilledBy,
    Clock,
    Customer,
    CustomerProfile,
    DeletionRequest,
    DeliveryOption,
    Order,
    OrderItem,
    OrderStatus,
    PasswordReset,
    Plan,
    Refusal,
    Shipment,
    Subscription,
    SubscriptionCancellation,
    SubscriptionStatus,
    mask_email,
    normalize_email,
    normalize_order_number,
    utc_now,
)
from actions.backends.protocols import EmailSender

logger = logging.getLogger(__name__)

SYSTEM = "demo-backend"
ACTIVATION_URL_BASE = "https://brightwave.example/activate?token="
ACTIVATION_VALID = timedelta(hours=48)
RESET_VALID = timedelta(minutes=60)
DELETION_GRACE_DAYS = 30
OPEN_ORDER_STATUSES = (
    OrderStatus.PROCESSING,
    OrderStatus.SHIPPED,
    OrderStatus.OUT_FOR_DELIVERY,
    OrderStatus.DELAYED,
)
_REFUSAL_BY_ORDER_STATUS = {
    OrderStatus.SHIPPED: Refusal.ORDER_SHIPPED,
    OrderStatus.OUT_FOR_DELIVERY: Refusal.ORDER_SHIPPED,
    OrderStatus.DELAYED: Refusal.ORDER_SHIPPED,
    OrderStatus.DELIVERED: Refusal.ORDER_DELIVERED,
    OrderStatus.CANCELLED: Refusal.ORDER_CANCELLED,
    OrderStatus.RETURNED_TO_SENDER: Refusal.ORDER_RETURNED,
}
_RESET_REFUSALS = {
    AccountStatus.PENDING_ACTIVATION: Refusal.ACCOUNT_NOT_ACTIVATED,
    AccountStatus.SUSPENDED: Refusal.ACCOUNT_SUSPENDED,
    AccountStatus.CLOSED: Refusal.ACCOUNT_CLOSED,
}

T = TypeVar("T")


class DemoBackend:
    """``IdentityBackend``, ``OrdersBackend`` and ``SubscriptionsBackend`` of the
    demo company. Activation emails go out through ``email``."""

    def __init__(
        self,
        db_path: Path,
        data_dir: Path,
        catalogue_path: Path,
        email: EmailSender,
        *,
        reset_url_base: str,
        activation_url_base: str = ACTIVATION_URL_BASE,
        clock: Clock = utc_now,
    ) -> None:
        self.db_path = db_path
        self.data_dir = data_dir
        self.catalogue_path = catalogue_path
        self.email = email
        self.reset_url_base = reset_url_base
        self.activation_url_base = activation_url_base
        self.clock = clock
        self._engine: sa.Engine | None = None
        self._lock = threading.Lock()

    def engine(self) -> sa.Engine:
        """The demo database, seeded (on first use)."""
        with self._lock:
            if self._engine is None:
                engine = t.create_demo_engine(self.db_path)
                try:
                    if t.seed(engine, self.data_dir, self.catalogue_path, self.clock()):
                        logger.info("demo backend seeded at %s", self.db_path)
                except BaseException:
                    engine.dispose()
                    raise
                self._engine = engine
            return self._engine

    async def aclose(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None

    async def _run(self, operation: str, work: Callable[[sa.Connection, date], T]) -> T:
        """Runs ``work(connection, today)`` in one transaction, in a worker thread."""

        def in_thread() -> T:
            today = self.clock().date()
            with self.engine().begin() as connection:
                return work(connection, today)

        try:
            return await asyncio.to_thread(in_thread)
        except sa.exc.SQLAlchemyError as error:
            raise BackendUnavailable(
                SYSTEM, f"database error ({error.__class__.__name__})", operation=operation
            ) from error

    # --- identity -----------------------------------------------------------

    async def find_customer(self, email: str) -> Customer | None:
        def work(connection: sa.Connection, today: date) -> Customer | None:
            row = connection.execute(
                sa.select(t.customers).where(t.customers.c.email == normalize_email(email))
            ).first()
            return None if row is None else _customer(row)

        return await self._run("find_customer", work)

    async def verify_customer(self, email: str, order_number: str) -> Customer | None:
        number = normalize_order_number(order_number)
        if number is None:
            return None

        def work(connection: sa.Connection, today: date) -> Customer | None:
            row = connection.execute(
                sa.select(t.customers)
                .join(t.orders, t.orders.c.customer_id == t.customers.c.customer_id)
                .where(
                    t.customers.c.email == normalize_email(email),
                    t.orders.c.order_number == number,
                )
            ).first()
            return None if row is None else _customer(row)

        return await self._run("verify_customer", work)

    async def account_status(self, customer_id: str) -> AccountState:
        def work(connection: sa.Connection, today: date) -> AccountState:
            row = _customer_row(connection, customer_id)
            deletion = _deletion_row(connection, customer_id)
            return AccountState(
                customer_id=customer_id,
                status=AccountStatus(row.status),
                reason=row.status_reason,
                deletion_effective_on=(
                    None if deletion is None else _day(today, deletion.effective_offset)
                ),
            )

        return await self._run("account_status", work)

    async def resend_activation(self, customer_id: str) -> ActivationEmail:
        def check(connection: sa.Connection, today: date) -> sa.Row[Any]:
            row = _customer_row(connection, customer_id)
            status = AccountStatus(row.status)
            if status == AccountStatus.CLOSED:
                raise NotAllowed("resend_activation", Refusal.ACCOUNT_CLOSED, status)
            if status != AccountStatus.PENDING_ACTIVATION:
                raise NotAllowed("resend_activation", Refusal.ACCOUNT_ALREADY_ACTIVE, status)
            return row

        row = await self._run("resend_activation", check)
        token = secrets.token_urlsafe(32)
        sent_at = self.clock()
        valid_until = sent_at + ACTIVATION_VALID
        first_name = row.name.split()[0]
        await self.email.send(
            row.email,
            "Activate your Brightwave account",
            f"Hi {first_name},\n\n"
            "Please confirm your email address to activate your Brightwave account:\n\n"
            f"{self.activation_url_base}{token}\n\n"
            "The link is valid for 48 hours. If you didn't create a Brightwave account, "
            "you can ignore this email.\n\nBrightwave\n",
        )

        def record(connection: sa.Connection, today: date) -> None:
            connection.execute(
                t.activation_emails.insert().values(
                    token_hash=t.token_hash(token),
                    customer_id=customer_id,
                    sent_at=sent_at,
                    valid_until=valid_until,
                )
            )

        await self._run("resend_activation", record)
        return ActivationEmail(
            customer_id=customer_id,
            sent_to=mask_email(row.email),
            sent_at=sent_at,
            valid_until=valid_until,
        )

    async def create_password_reset(self, customer_id: str) -> PasswordReset:
        def work(connection: sa.Connection, today: date) -> PasswordReset:
            row = _customer_row(connection, customer_id)
            status = AccountStatus(row.status)
            if status in _RESET_REFUSALS:
                raise NotAllowed("create_password_reset", _RESET_REFUSALS[status], status)
            token = secrets.token_urlsafe(32)
            now = self.clock()
            connection.execute(
                t.password_resets.update()
                .where(t.password_resets.c.customer_id == customer_id)
                .values(superseded=True)
            )
            connection.execute(
                t.password_resets.insert().values(
                    token_hash=t.token_hash(token),
                    customer_id=customer_id,
                    created_at=now,
                    expires_at=now + RESET_VALID,
                    superseded=False,
                )
            )
            return PasswordReset(
                customer_id=customer_id,
                token=token,
                url=self.reset_url_base + token,
                expires_at=now + RESET_VALID,
            )

        return await self._run("create_password_reset", work)

    async def request_account_deletion(self, customer_id: str) -> DeletionRequest:
        operation = "request_account_deletion"

        def work(connection: sa.Connection, today: date) -> DeletionRequest:
            row = _customer_row(connection, customer_id)
            existing = _deletion_row(connection, customer_id)
            if existing is not None:
                return _deletion(existing, today)
            status = AccountStatus(row.status)
            if status == AccountStatus.SUSPENDED:
                raise NotAllowed(operation, Refusal.ACCOUNT_SUSPENDED, status)
            open_orders = connection.execute(
                sa.select(sa.func.count())
                .select_from(t.orders)
                .where(
                    t.orders.c.customer_id == customer_id,
                    t.orders.c.status.in_([s.value for s in OPEN_ORDER_STATUSES]),
                )
            ).scalar_one()
            if open_orders:
                raise NotAllowed(operation, Refusal.OPEN_ORDERS, status)
            request_id = "DEL-" + secrets.token_hex(4).upper()
            connection.execute(
                t.deletion_requests.insert().values(
                    request_id=request_id,
                    customer_id=customer_id,
                    requested_offset=0,
                    effective_offset=DELETION_GRACE_DAYS,
                )
            )
            connection.execute(
                t.customers.update()
                .where(t.customers.c.customer_id == customer_id)
                .values(status=AccountStatus.CLOSED.value, status_reason="deletion_requested")
            )
            # Plus billed by Brightwave stops at once (help center: delete-account).
            connection.execute(
                t.subscriptions.update()
                .where(
                    t.subscriptions.c.customer_id == customer_id,
                    t.subscriptions.c.billed_by == BilledBy.BRIGHTWAVE.value,
                    t.subscriptions.c.status != SubscriptionStatus.EXPIRED.value,
                )
                .values(status=SubscriptionStatus.EXPIRED.value, period_end_offset=0)
            )
            return DeletionRequest(
                customer_id=customer_id,
                request_id=request_id,
                requested_on=today,
                effective_on=_day(today, DELETION_GRACE_DAYS),
            )

        return await self._run(operation, work)

    async def profile(self, customer_id: str) -> CustomerProfile:
        def work(connection: sa.Connection, today: date) -> CustomerProfile:
            row = _customer_row(connection, customer_id)
            return CustomerProfile(customer_id, row.name, mask_email(row.email))

        return await self._run("profile", work)

    # --- orders -------------------------------------------------------------

    async def get_order(self, customer_id: str, order_number: str) -> Order:
        def work(connection: sa.Connection, today: date) -> Order:
            return _order(connection, _order_row(connection, customer_id, order_number), today)

        return await self._run("get_order", work)

    async def list_orders(self, customer_id: str) -> list[Order]:
        def work(connection: sa.Connection, today: date) -> list[Order]:
            _customer_row(connection, customer_id)
            rows = connection.execute(
                sa.select(t.orders)
                .where(t.orders.c.customer_id == customer_id)
                .order_by(t.orders.c.placed_offset.desc(), t.orders.c.order_number.desc())
            ).all()
            return [_order(connection, row, today) for row in rows]

        return await self._run("list_orders", work)

    async def change_shipping_address(
        self, customer_id: str, order_number: str, address: Address
    ) -> Order:
        operation = "change_shipping_address"

        def work(connection: sa.Connection, today: date) -> Order:
            row = _order_row(connection, customer_id, order_number)
            _refuse_unless_processing(operation, OrderStatus(row.status))
            new = {
                "name": address.name.strip(),
                "line1": address.line1.strip(),
                "line2": address.line2.strip(),
                "postal_code": address.postal_code.strip(),
                "city": address.city.strip(),
                "country": address.country.strip().upper(),
            }
            if not all(value for key, value in new.items() if key != "line2"):
                raise NotAllowed(operation, Refusal.INVALID_ADDRESS, row.status)
            if new["country"] != row.ship_to["country"]:
                raise NotAllowed(operation, Refusal.COUNTRY_CHANGE, row.status)
            connection.execute(
                t.orders.update()
                .where(t.orders.c.order_number == row.order_number)
                .values(ship_to=new)
            )
            return _order(connection, _order_row(connection, customer_id, order_number), today)

        return await self._run(operation, work)

    async def cancel_order(self, customer_id: str, order_number: str) -> Order:
        operation = "cancel_order"

        def work(connection: sa.Connection, today: date) -> Order:
            row = _order_row(connection, customer_id, order_number)
            _refuse_unless_processing(operation, OrderStatus(row.status))
            connection.execute(
                t.orders.update()
                .where(t.orders.c.order_number == row.order_number)
                .values(status=OrderStatus.CANCELLED.value, expected_offset=None)
            )
            return _order(connection, _order_row(connection, customer_id, order_number), today)

        return await self._run(operation, work)

    # --- subscriptions ------------------------------------------------------

    async def subscription(self, customer_id: str) -> Subscription | None:
        def work(connection: sa.Connection, today: date) -> Subscription | None:
            _customer_row(connection, customer_id)
            row = _subscription_row(connection, customer_id)
            return None if row is None else _subscription(row, today)

        return await self._run("subscription", work)

    async def cancel_subscription(self, customer_id: str) -> SubscriptionCancellation:
        operation = "cancel_subscription"

        def work(connection: sa.Connection, today: date) -> SubscriptionCancellation:
            _customer_row(connection, customer_id)
            row = _subscription_row(connection, customer_id)
            if row is None:
                raise NotFound("subscription", customer_id)
            status = SubscriptionStatus(row.status)
            end = _day(today, row.period_end_offset)
            if status == SubscriptionStatus.CANCELLED and row.confirmation_id:
                return SubscriptionCancellation(customer_id, row.confirmation_id, end)
            if row.billed_by != BilledBy.BRIGHTWAVE:
                raise NotAllowed(operation, Refusal.BILLED_BY_APP_STORE, status)
            if status not in (SubscriptionStatus.TRIAL, SubscriptionStatus.ACTIVE):
                raise NotAllowed(operation, Refusal.SUBSCRIPTION_ENDED, status)
            confirmation_id = "PLUS-" + secrets.token_hex(4).upper()
            connection.execute(
                t.subscriptions.update()
                .where(t.subscriptions.c.customer_id == customer_id)
                .values(status=SubscriptionStatus.CANCELLED.value, confirmation_id=confirmation_id)
            )
            return SubscriptionCancellation(customer_id, confirmation_id, end)

        return await self._run(operation, work)


def _day(today: date, offset: int) -> date:
    return today + timedelta(days=offset)


def _maybe_day(today: date, offset: int | None) -> date | None:
    return None if offset is None else _day(today, offset)


def _customer(row: sa.Row[Any]) -> Customer:
    return Customer(customer_id=row.customer_id, name=row.name, email=row.email)


def _customer_row(connection: sa.Connection, customer_id: str) -> sa.Row[Any]:
    row = connection.execute(
        sa.select(t.customers).where(t.customers.c.customer_id == customer_id)
    ).first()
    if row is None:
        raise NotFound("customer", customer_id)
    return row


def _deletion_row(connection: sa.Connection, customer_id: str) -> sa.Row[Any] | None:
    return connection.execute(
        sa.select(t.deletion_requests).where(t.deletion_requests.c.customer_id == customer_id)
    ).first()


def _deletion(row: sa.Row[Any], today: date) -> DeletionRequest:
    return DeletionRequest(
        customer_id=row.customer_id,
        request_id=row.request_id,
        requested_on=today + timedelta(days=row.requested_offset),
        effective_on=today + timedelta(days=row.effective_offset),
    )


def _order_row(connection: sa.Connection, customer_id: str, order_number: str) -> sa.Row[Any]:
    number = normalize_order_number(order_number)
    row = None
    if number is not None:
        row = connection.execute(
            sa.select(t.orders).where(
                t.orders.c.order_number == number, t.orders.c.customer_id == customer_id
            )
        ).first()
    if row is None:
        raise NotFound("order", number or order_number)
    return row


def _order(connection: sa.Connection, row: sa.Row[Any], today: date) -> Order:
    items = connection.execute(
        sa.select(t.order_items)
        .where(t.order_items.c.order_number == row.order_number)
        .order_by(t.order_items.c.position)
    ).all()
    shipment = None
    if row.carrier is not None:
        shipped_on = _day(today, row.shipped_offset)
        shipment = Shipment(row.carrier, row.tracking_number, row.tracking_url, shipped_on)
    return Order(
        order_number=row.order_number,
        customer_id=row.customer_id,
        status=OrderStatus(row.status),
        placed_on=_day(today, row.placed_offset),
        items=tuple(
            OrderItem(item.product_id, item.name, item.quantity, Decimal(item.unit_price_eur))
            for item in items
        ),
        shipping_address=Address(**row.ship_to),
        delivery_option=DeliveryOption(row.delivery_option),
        shipment=shipment,
        expected_delivery=_maybe_day(today, row.expected_offset),
        delivered_on=_maybe_day(today, row.delivered_offset),
    )


def _refuse_unless_processing(operation: str, status: OrderStatus) -> None:
    if status != OrderStatus.PROCESSING:
        raise NotAllowed(operation, _REFUSAL_BY_ORDER_STATUS[status], status)


def _subscription_row(connection: sa.Connection, customer_id: str) -> sa.Row[Any] | None:
    return connection.execute(
        sa.select(t.subscriptions).where(t.subscriptions.c.customer_id == customer_id)
    ).first()


def _subscription(row: sa.Row[Any], today: date) -> Subscription:
    status = SubscriptionStatus(row.status)
    started_on = _day(today, row.started_offset)
    period_end = _day(today, row.period_end_offset)
    running = status in (SubscriptionStatus.TRIAL, SubscriptionStatus.ACTIVE)
    return Subscription(
        customer_id=row.customer_id,
        plan=Plan(row.plan),
        status=status,
        billed_by=BilledBy(row.billed_by),
        price_eur=Decimal(row.price_eur),
        started_on=started_on,
        renews_on=period_end if running else None,
        ends_on=None if running else period_end,
    )
