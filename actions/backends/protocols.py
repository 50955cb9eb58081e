"""The interfaces Frontline's actions use to reach the company's systems.

Every method is a coroutine. Implementations: ``DemoBackend`` (SQLite, seeded
from ``data/demo/``) and ``HttpBackend`` (the HTTP/JSON contract in ``README.md``)
for identity, orders and subscriptions; ``YamlCatalogue`` for the catalogue;
``OutboxEmail`` and ``SmtpEmail`` for email.

Errors: ``NotFound``, ``NotAllowed`` (with a ``Refusal`` reason) and
``BackendUnavailable`` (see ``errors``). Methods that take a ``customer_id``
act only on that customer's data: another customer's order is ``NotFound``.
"""

from __future__ import annotations

from typing import Protocol

from actions.backends.models import (
    AccountState,
    ActivationEmail,
    Address,
    Compatibility,
    Customer,
    CustomerProfile,
    DeletionRequest,
    Device,
    Order,
    PasswordReset,
    Platform,
    Product,
    Subscription,
    SubscriptionCancellation,
)


class IdentityBackend(Protocol):
    async def find_customer(self, email: str) -> Customer | None:
        """The customer with this email address, if any (case-insensitive).

        Used to mail a one-time code to the address on file; the reply to the
        customer must not depend on the answer."""
        ...

    async def verify_customer(self, email: str, order_number: str) -> Customer | None:
        """The customer if ``order_number`` is one of the orders of the account
        with ``email``; None otherwise, whatever the reason (unknown email,
        unknown or malformed order number, or an order of someone else)."""
        ...

    async def account_status(self, customer_id: str) -> AccountState: ...

    async def resend_activation(self, customer_id: str) -> ActivationEmail:
        """Sends a new activation email (48 hours valid); ``NotAllowed`` unless
        the account is ``pending_activation``."""
        ...

    async def create_password_reset(self, customer_id: str) -> PasswordReset:
        """A reset link valid for 60 minutes; older links stop working.
        ``NotAllowed`` for pending, suspended and closed accounts."""
        ...

    async def request_account_deletion(self, customer_id: str) -> DeletionRequest:
        """Closes the account; data is deleted after a 30-day grace period.
        Asking again returns the same request. ``NotAllowed`` while an order is
        open (``open_orders``) or the account is suspended."""
        ...

    async def profile(self, customer_id: str) -> CustomerProfile: ...


class OrdersBackend(Protocol):
    async def get_order(self, customer_id: str, order_number: str) -> Order:
        """``NotFound`` for an unknown or malformed number or another customer's order."""
        ...

    async def list_orders(self, customer_id: str) -> list[Order]:
        """The customer's orders, newest first."""
        ...

    async def change_shipping_address(
        self, customer_id: str, order_number: str, address: Address
    ) -> Order:
        """Only while ``processing`` and within the same country; otherwise
        ``NotAllowed`` with the reason."""
        ...

    async def cancel_order(self, customer_id: str, order_number: str) -> Order:
        """Only while ``processing``; otherwise ``NotAllowed`` with the reason."""
        ...


class SubscriptionsBackend(Protocol):
    async def subscription(self, customer_id: str) -> Subscription | None:
        """The customer's Brightwave Plus subscription, if they ever had one."""
        ...

    async def cancel_subscription(self, customer_id: str) -> SubscriptionCancellation:
        """Stops renewal; Plus stays active until the end of the paid period.
        Cancelling again returns the same confirmation. ``NotFound`` without a
        subscription; ``NotAllowed`` if billed by Apple or Google or already ended."""
        ...


class CatalogueBackend(Protocol):
    async def products(self) -> list[Product]: ...

    async def find_product(self, text: str) -> Product | None:
        """By id, name or alias, ignoring case, spaces and hyphens."""
        ...

    async def find_platform(self, text: str) -> Platform | None:
        """By id, name or a common alias (``iphone`` is iOS), like ``find_product``."""
        ...

    async def find_device(self, text: str) -> Device | None:
        """A phone or tablet model by name or alias (``iphone 8``, ``galaxy s9``),
        like ``find_product``; None if the catalogue does not list it."""
        ...

    async def other_brand_in(self, text: str) -> str | None:
        """The first brand or product of another company (``other_brands``: ones
        we neither sell nor support) that ``text`` names, as written there."""
        ...

    async def compatibility(
        self, product: str, platform: str, os_version: str | None = None
    ) -> Compatibility:
        """``product`` and ``platform`` as for ``find_*``; ``NotFound`` if unknown."""
        ...

    async def compatibilities(self, product: str) -> list[Compatibility]:
        """Every platform listed for ``product``, in matrix order."""
        ...


class EmailSender(Protocol):
    async def send(self, to: str, subject: str, text_body: str) -> str:
        """Sends a plain-text email; returns its Message-ID.
        ``BackendUnavailable`` if it could not be handed over."""
        ...


class BusinessSystem(IdentityBackend, OrdersBackend, SubscriptionsBackend, Protocol):
    """One system answering for identity, orders and subscriptions (both the
    demo backend and the HTTP adapter are one)."""
