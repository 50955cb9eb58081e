"""The demo company's system: its SQLite schema and the seed from ``data/demo/``.

Every date is stored as a day offset from "today" and turned into a date when
read, with the clock of the moment: the demo world moves with the calendar, so
an order expected tomorrow is expected tomorrow whenever the demo runs, and the
late order stays late. Timestamps of things done while the demo runs (reset
links, activation emails) are real times.

The database is seeded on first use and again whenever the seed files
(``customers.yml``, ``orders.yml``, ``catalogue.yml``) or the schema change:
changes made through the demo (cancelled orders, ...) are then reset.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from actions.backends.catalogue import load_catalogue
from actions.backends.errors import BackendConfigError
from actions.backends.models import (
    AccountStatus,
    BilledBy,
    DeliveryOption,
    OrderStatus,
    Plan,
    SubscriptionStatus,
    normalize_email,
)
from core.sqlite_wal import enable_wal

SCHEMA_VERSION = "1"
BUSY_TIMEOUT_SECONDS = 15
SEED_FILES = ("customers.yml", "orders.yml", "catalogue.yml")
PLUS_PRICES_EUR = {Plan.MONTHLY: Decimal("4.99"), Plan.YEARLY: Decimal("49.00")}

metadata = sa.MetaData()

meta = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String(50), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
customers = sa.Table(
    "customers",
    metadata,
    sa.Column("customer_id", sa.String(20), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("email", sa.String(320), nullable=False, unique=True),  # normalised
    sa.Column("status", sa.String(30), nullable=False),
    sa.Column("status_reason", sa.String(100)),
    sa.Column("created_offset", sa.Integer, nullable=False),
    sa.Column("address", sa.JSON, nullable=False),
)
subscriptions = sa.Table(
    "subscriptions",
    metadata,
    sa.Column("customer_id", sa.String(20), primary_key=True),
    sa.Column("plan", sa.String(20), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("billed_by", sa.String(20), nullable=False),
    sa.Column("price_eur", sa.String(20), nullable=False),
    sa.Column("started_offset", sa.Integer, nullable=False),
    sa.Column("period_end_offset", sa.Integer, nullable=False),
    sa.Column("confirmation_id", sa.String(40)),
)
orders = sa.Table(
    "orders",
    metadata,
    sa.Column("order_number", sa.String(20), primary_key=True),
    sa.Column("customer_id", sa.String(20), nullable=False, index=True),
    sa.Column("status", sa.String(30), nullable=False),
    sa.Column("placed_offset", sa.Integer, nullable=False),
    sa.Column("delivery_option", sa.String(20), nullable=False),
    sa.Column("ship_to", sa.JSON, nullable=False),
    sa.Column("carrier", sa.String(50)),
    sa.Column("tracking_number", sa.String(50)),
    sa.Column("tracking_url", sa.String(500)),
    sa.Column("shipped_offset", sa.Integer),
    sa.Column("expected_offset", sa.Integer),
    sa.Column("delivered_offset", sa.Integer),
)
order_items = sa.Table(
    "order_items",
    metadata,
    sa.Column("order_number", sa.String(20), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("product_id", sa.String(50), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("unit_price_eur", sa.String(20), nullable=False),
)
deletion_requests = sa.Table(
    "deletion_requests",
    metadata,
    sa.Column("request_id", sa.String(40), primary_key=True),
    sa.Column("customer_id", sa.String(20), nullable=False, unique=True),
    sa.Column("requested_offset", sa.Integer, nullable=False),
    sa.Column("effective_offset", sa.Integer, nullable=False),
)
password_resets = sa.Table(
    "password_resets",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),  # sha256, never the token
    sa.Column("customer_id", sa.String(20), nullable=False, index=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("superseded", sa.Boolean, nullable=False, default=False),
)
activation_emails = sa.Table(
    "activation_emails",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("customer_id", sa.String(20), nullable=False, index=True),
    sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
)


class _SeedAddress(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    line1: str
    line2: str = ""
    postal_code: str
    city: str
    country: str


class _SeedSubscription(BaseModel):
    model_config = ConfigDict(extra="forbid")
    plan: Plan
    status: SubscriptionStatus
    billed_by: BilledBy
    started: int
    period_end: int


class _SeedCustomer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    name: str
    email: str
    status: AccountStatus
    status_reason: str | None = None
    deletion_requested: int | None = None
    created: int
    address: _SeedAddress
    subscription: _SeedSubscription | None = None


class _SeedCustomers(BaseModel):
    customers: list[_SeedCustomer]


class _SeedCarrier(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    tracking_url: str


class _SeedItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product: str
    quantity: int = 1


class _SeedShipment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    carrier: str
    tracking_number: str
    shipped: int


class _SeedOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: str
    customer: str
    status: OrderStatus
    placed: int
    delivery: DeliveryOption = DeliveryOption.STANDARD
    items: list[_SeedItem]
    ship_to: _SeedAddress | None = None
    shipment: _SeedShipment | None = None
    expected: int | None = None
    delivered: int | None = None


class _SeedOrders(BaseModel):
    carriers: dict[str, _SeedCarrier]
    orders: list[_SeedOrder]


def fingerprint(data_dir: Path, catalogue_path: Path) -> str:
    digest = hashlib.sha256(f"schema {SCHEMA_VERSION}\n".encode())
    for path in (data_dir / "customers.yml", data_dir / "orders.yml", catalogue_path):
        try:
            digest.update(path.read_bytes())
        except OSError as error:
            raise BackendConfigError(str(path), f"cannot read ({error.strerror})") from error
    return digest.hexdigest()


def token_hash(token: str) -> str:
    """What is stored instead of a link token."""
    return hashlib.sha256(token.encode()).hexdigest()


def stable_id(prefix: str, *parts: str) -> str:
    """A deterministic reference for seeded rows (same seed, same ids)."""
    digest = hmac.new(b"brightwave-demo", "|".join(parts).encode(), hashlib.sha256)
    return f"{prefix}{digest.hexdigest()[:8].upper()}"


def _load(path: Path, model: type[BaseModel]) -> Any:
    try:
        return model.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except OSError as error:
        raise BackendConfigError(str(path), f"cannot read ({error.strerror})") from error
    except (yaml.YAMLError, ValidationError) as error:
        raise BackendConfigError(str(path), f"invalid demo data: {error}") from error


def seed_rows(data_dir: Path, catalogue_path: Path) -> dict[str, list[dict[str, Any]]]:
    """The rows of every table, from the seed files (validated)."""
    seed_customers: _SeedCustomers = _load(data_dir / "customers.yml", _SeedCustomers)
    seed_orders: _SeedOrders = _load(data_dir / "orders.yml", _SeedOrders)
    catalogue = load_catalogue(catalogue_path)
    source = str(data_dir / "orders.yml")
    rows: dict[str, list[dict[str, Any]]] = {
        "customers": [],
        "subscriptions": [],
        "deletion_requests": [],
        "orders": [],
        "order_items": [],
    }
    addresses: dict[str, dict[str, str]] = {}
    for customer in seed_customers.customers:
        address = customer.address.model_dump()
        address["name"] = address["name"] or customer.name
        addresses[customer.id] = address
        rows["customers"].append(
            {
                "customer_id": customer.id,
                "name": customer.name,
                "email": normalize_email(customer.email),
                "status": customer.status.value,
                "status_reason": customer.status_reason,
                "created_offset": customer.created,
                "address": address,
            }
        )
        if customer.deletion_requested is not None:
            rows["deletion_requests"].append(
                {
                    "request_id": stable_id("DEL-", customer.id),
                    "customer_id": customer.id,
                    "requested_offset": customer.deletion_requested,
                    "effective_offset": customer.deletion_requested + 30,
                }
            )
        plus = customer.subscription
        if plus is not None:
            cancelled = plus.status == SubscriptionStatus.CANCELLED
            rows["subscriptions"].append(
                {
                    "customer_id": customer.id,
                    "plan": plus.plan.value,
                    "status": plus.status.value,
                    "billed_by": plus.billed_by.value,
                    "price_eur": str(PLUS_PRICES_EUR[plus.plan]),
                    "started_offset": plus.started,
                    "period_end_offset": plus.period_end,
                    "confirmation_id": stable_id("PLUS-", customer.id) if cancelled else None,
                }
            )
    for order in seed_orders.orders:
        if order.customer not in addresses:
            raise BackendConfigError(source, f"{order.number}: unknown customer {order.customer}")
        ship_to = (
            order.ship_to.model_dump() if order.ship_to is not None else addresses[order.customer]
        )
        ship_to["name"] = ship_to["name"] or addresses[order.customer]["name"]
        shipment = order.shipment
        carrier = None if shipment is None else seed_orders.carriers.get(shipment.carrier)
        if shipment is not None and carrier is None:
            raise BackendConfigError(source, f"{order.number}: unknown carrier {shipment.carrier}")
        tracking_url = None
        if shipment is not None and carrier is not None:
            tracking_url = carrier.tracking_url.format(
                tracking_number=shipment.tracking_number,
                country=ship_to["country"],
                postal_code=ship_to["postal_code"].replace(" ", ""),
            )
        rows["orders"].append(
            {
                "order_number": order.number,
                "customer_id": order.customer,
                "status": order.status.value,
                "placed_offset": order.placed,
                "delivery_option": order.delivery.value,
                "ship_to": ship_to,
                "carrier": carrier.name if carrier else None,
                "tracking_number": shipment.tracking_number if shipment else None,
                "tracking_url": tracking_url,
                "shipped_offset": shipment.shipped if shipment else None,
                "expected_offset": order.expected,
                "delivered_offset": order.delivered,
            }
        )
        for position, item in enumerate(order.items):
            product = catalogue.products.get(item.product)
            if product is None:
                raise BackendConfigError(source, f"{order.number}: unknown product {item.product}")
            rows["order_items"].append(
                {
                    "order_number": order.number,
                    "position": position,
                    "product_id": product.product_id,
                    "name": product.name,
                    "quantity": item.quantity,
                    "unit_price_eur": str(product.price_eur),
                }
            )
    return rows


def create_demo_engine(path: Path) -> sa.Engine:
    """The demo system's own SQLite file. Every transaction starts with
    ``BEGIN IMMEDIATE``: writers (and seeding, DDL included) run one at a time,
    also across processes, waiting up to the busy timeout."""
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": BUSY_TIMEOUT_SECONDS})

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        enable_wal(dbapi_connection, BUSY_TIMEOUT_SECONDS)

    @sa.event.listens_for(engine, "begin")
    def _begin(connection):  # type: ignore[no-untyped-def]
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def seed(engine: sa.Engine, data_dir: Path, catalogue_path: Path, now: datetime) -> bool:
    """Seeds the demo database unless it holds this seed already; returns
    whether it (re)seeded. Safe to run from several processes at once."""
    wanted = fingerprint(data_dir, catalogue_path)
    with engine.connect() as connection:
        if _current_fingerprint(connection) == wanted:
            return False
    rows = seed_rows(data_dir, catalogue_path)
    with engine.begin() as connection:
        if _current_fingerprint(connection) == wanted:  # another process was quicker
            return False
        metadata.drop_all(connection)
        metadata.create_all(connection)
        for table in metadata.sorted_tables:
            if rows.get(table.name):
                connection.execute(table.insert(), rows[table.name])
        connection.execute(
            meta.insert(),
            [
                {"key": "fingerprint", "value": wanted},
                {"key": "seeded_at", "value": now.isoformat()},
            ],
        )
    return True


def _current_fingerprint(connection: sa.Connection) -> str | None:
    if not sa.inspect(connection).has_table("meta"):
        return None
    return connection.execute(
        sa.select(meta.c.value).where(meta.c.key == "fingerprint")
    ).scalar_one_or_none()
