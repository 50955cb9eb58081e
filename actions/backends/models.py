"""What the business systems answer: frozen dataclasses and string enums.

Every value is immutable and compares by value, so tests compare whole results
with ``==``. The same classes are the JSON shapes of the HTTP contract (see
``README.md``): dates are ISO 8601 strings, money is a decimal string.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum

Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware (UTC); injected so tests control time."""

HELP_CENTER_URL = "https://help.brightwave.example/articles/"


def utc_now() -> datetime:
    """The default ``Clock``."""
    return datetime.now(UTC)


class AccountStatus(StrEnum):
    ACTIVE = "active"
    PENDING_ACTIVATION = "pending_activation"
    LOCKED = "locked"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class OrderStatus(StrEnum):
    PROCESSING = "processing"
    SHIPPED = "shipped"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    DELAYED = "delayed"
    RETURNED_TO_SENDER = "returned_to_sender"
    CANCELLED = "cancelled"


IN_TRANSIT = frozenset({OrderStatus.SHIPPED, OrderStatus.OUT_FOR_DELIVERY, OrderStatus.DELAYED})
"""Statuses in which the carrier has the parcel."""


class DeliveryOption(StrEnum):
    STANDARD = "standard"
    EXPRESS = "express"
    PICKUP_POINT = "pickup_point"


class Plan(StrEnum):
    MONTHLY = "monthly"
    YEARLY = "yearly"


class SubscriptionStatus(StrEnum):
    TRIAL = "trial"
    ACTIVE = "active"
    CANCELLED = "cancelled"  # still running until ``ends_on``
    EXPIRED = "expired"


class BilledBy(StrEnum):
    BRIGHTWAVE = "brightwave"
    APPLE = "apple"  # App Store: only Apple can cancel it
    GOOGLE = "google"  # Google Play: only Google can cancel it


class CompatibilityStatus(StrEnum):
    SUPPORTED = "supported"
    LIMITED = "limited"
    UNSUPPORTED = "unsupported"


class Refusal(StrEnum):
    """Why a system refuses an operation (``NotAllowed.reason``)."""

    ORDER_SHIPPED = "order_shipped"  # shipped, out for delivery or delayed
    ORDER_DELIVERED = "order_delivered"
    ORDER_CANCELLED = "order_cancelled"
    ORDER_RETURNED = "order_returned_to_sender"
    COUNTRY_CHANGE = "country_change"  # a new address must be in the same country
    INVALID_ADDRESS = "invalid_address"  # a required address field is empty
    ACCOUNT_NOT_ACTIVATED = "account_not_activated"
    ACCOUNT_ALREADY_ACTIVE = "account_already_active"
    ACCOUNT_SUSPENDED = "account_suspended"
    ACCOUNT_CLOSED = "account_closed"
    OPEN_ORDERS = "open_orders"  # deletion needs every order finished
    BILLED_BY_APP_STORE = "billed_by_app_store"  # cancel with Apple or Google
    SUBSCRIPTION_ENDED = "subscription_ended"


@dataclass(frozen=True)
class Customer:
    customer_id: str
    name: str
    email: str


@dataclass(frozen=True)
class CustomerProfile:
    """What an agent sees on handoff: never the full email address."""

    customer_id: str
    name: str
    masked_email: str


@dataclass(frozen=True)
class AccountState:
    customer_id: str
    status: AccountStatus
    reason: str | None = None  # e.g. too_many_failed_sign_ins, chargeback, deletion_requested
    deletion_effective_on: date | None = None  # closed accounts: when the data is deleted


@dataclass(frozen=True)
class ActivationEmail:
    customer_id: str
    sent_to: str  # masked
    sent_at: datetime
    valid_until: datetime


@dataclass(frozen=True)
class PasswordReset:
    """A reset link for the customer's mailbox only: never show or log it."""

    customer_id: str
    token: str = field(repr=False)
    url: str = field(repr=False)
    expires_at: datetime


@dataclass(frozen=True)
class DeletionRequest:
    customer_id: str
    request_id: str
    requested_on: date
    effective_on: date  # end of the 30-day grace period


@dataclass(frozen=True)
class Address:
    name: str
    line1: str
    postal_code: str
    city: str
    country: str  # ISO 3166-1 alpha-2, e.g. NL, GB
    line2: str = ""


@dataclass(frozen=True)
class OrderItem:
    product_id: str
    name: str
    quantity: int
    unit_price_eur: Decimal


@dataclass(frozen=True)
class Shipment:
    carrier: str
    tracking_number: str
    tracking_url: str
    shipped_on: date


@dataclass(frozen=True)
class Order:
    order_number: str
    customer_id: str
    status: OrderStatus
    placed_on: date
    items: tuple[OrderItem, ...]
    shipping_address: Address
    delivery_option: DeliveryOption = DeliveryOption.STANDARD
    shipment: Shipment | None = None
    expected_delivery: date | None = None
    delivered_on: date | None = None

    @property
    def total_eur(self) -> Decimal:
        return sum((item.unit_price_eur * item.quantity for item in self.items), Decimal("0"))

    def days_late(self, today: date) -> int:
        """Days past the expected delivery date while the carrier still has it."""
        if self.status not in IN_TRANSIT or self.expected_delivery is None:
            return 0
        return max(0, (today - self.expected_delivery).days)

    def is_late(self, today: date) -> bool:
        return self.days_late(today) > 0


@dataclass(frozen=True)
class Subscription:
    """Brightwave Plus. ``renews_on`` is set while it renews; ``ends_on`` once cancelled
    or expired."""

    customer_id: str
    plan: Plan
    status: SubscriptionStatus
    billed_by: BilledBy
    price_eur: Decimal
    started_on: date
    renews_on: date | None = None
    ends_on: date | None = None


@dataclass(frozen=True)
class SubscriptionCancellation:
    customer_id: str
    confirmation_id: str
    effective_on: date  # Plus stays active until this date


@dataclass(frozen=True)
class Product:
    product_id: str
    name: str
    kind: str
    aliases: tuple[str, ...]
    price_eur: Decimal
    warranty_months: int


@dataclass(frozen=True)
class Platform:
    platform_id: str
    name: str


@dataclass(frozen=True)
class Device:
    """A phone or tablet model (``iPhone 8``): its platform and the newest OS
    version it can be updated to (None: it still gets the current one)."""

    name: str
    platform_id: str
    max_os_version: str | None


@dataclass(frozen=True)
class Compatibility:
    """Whether ``product`` works with ``platform`` (at ``os_version``, if asked).

    ``status`` is the answer for the asked version: a listed ``supported`` pair
    is ``unsupported`` when ``os_version`` is below ``min_version``.
    ``matrix_status`` is the matrix entry itself, or None if the pair is not
    listed (then ``status`` is ``unsupported``).
    """

    product: Product
    platform: Platform
    status: CompatibilityStatus
    matrix_status: CompatibilityStatus | None
    min_version: str | None
    os_version: str | None
    meets_min_version: bool | None  # None: no version asked, or no minimum
    notes: str
    article_id: str

    @property
    def article_url(self) -> str:
        return HELP_CENTER_URL + self.article_id


_ORDER_NUMBER = re.compile(
    r"^(?:order\s*(?:number|no\.?|nr\.?)?\s*:?\s*)?#?\s*(?:bw)?[\s#:\-]*(\d{6})$", re.IGNORECASE
)


def normalize_order_number(text: str) -> str | None:
    """``BW-104233`` for ``BW-104233``, ``bw104233``, ``#104233``, ``order 104233``;
    None if ``text`` is not an order number."""
    match = _ORDER_NUMBER.match(text.strip())
    return f"BW-{match.group(1)}" if match else None


def normalize_email(text: str) -> str:
    """Email addresses compare without surrounding space and case."""
    return text.strip().lower()


def mask_email(email: str) -> str:
    """``e***s@example.com`` for ``emma.devries@example.com``."""
    local, at, domain = email.strip().partition("@")
    if not at:
        return "***"
    if len(local) <= 2:
        return f"{local[:1]}***@{domain}"
    return f"{local[0]}***{local[-1]}@{domain}"
