"""The company's systems as Frontline's actions see them, plus Frontline's own
Tier 1 records.

Business systems (coroutine protocols, see ``protocols``):

* ``IdentityBackend``, ``OrdersBackend``, ``SubscriptionsBackend``: implemented by
  ``DemoBackend`` (embedded SQLite demo company, the default) and ``HttpBackend``
  (HTTP/JSON contract, ``README.md``);
* ``CatalogueBackend``: ``YamlCatalogue`` over ``data/demo/catalogue.yml``;
* ``EmailSender``: ``OutboxEmail`` (``.eml`` files) or ``SmtpEmail`` (``SMTP_URL``).

``create_backends(BackendSettings())`` bundles them as ``Backends``.

Frontline's own tables (``actions.db.SCHEMA`` migrates them): ``VerificationCodes``
(one-time codes), ``OutcomeStore`` (category and outcome of every request;
``outcome_counts`` reads them for reports) and ``AccountRequestStore``.

Errors (``errors``): ``BackendError`` > ``BackendUnavailable`` (system, reason,
operation, attempts), ``BackendConfigError`` (source, reason), ``NotFound``
(kind, key), ``NotAllowed`` (operation, reason: a ``Refusal``, state),
``CodeLimitReached`` (conversation_id, retry_after).

Nothing here does work at import time.
"""

from actions.backends.account_requests import (
    AccountRequest,
    AccountRequestKind,
    AccountRequestStore,
)
from actions.backends.catalogue import YamlCatalogue, whole_words
from actions.backends.codes import CodeCheck, CodeOutcome, IssuedCode, VerificationCodes
from actions.backends.demo import DemoBackend
from actions.backends.errors import (
    BackendConfigError,
    BackendError,
    BackendUnavailable,
    CodeLimitReached,
    NotAllowed,
    NotFound,
)
from actions.backends.factory import Backends, create_backends
from actions.backends.http import HttpBackend, HttpConfig, load_http_config
from actions.backends.mail import OutboxEmail, SmtpConfig, SmtpEmail, parse_smtp_url
from actions.backends.models import (
    IN_TRANSIT,
    AccountState,
    AccountStatus,
    ActivationEmail,
    Address,
    BilledBy,
    Clock,
    Compatibility,
    CompatibilityStatus,
    Customer,
    CustomerProfile,
    DeletionRequest,
    DeliveryOption,
    Device,
    Order,
    OrderItem,
    OrderStatus,
    PasswordReset,
    Plan,
    Platform,
    Product,
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
from actions.backends.outcomes import ConversationOutcome, Outcome, OutcomeStore, outcome_counts
from actions.backends.protocols import (
    BusinessSystem,
    CatalogueBackend,
    EmailSender,
    IdentityBackend,
    OrdersBackend,
    SubscriptionsBackend,
)
from actions.backends.settings import BackendSettings

__all__ = [
    "IN_TRANSIT",
    "AccountRequest",
    "AccountRequestKind",
    "AccountRequestStore",
    "AccountState",
    "AccountStatus",
    "ActivationEmail",
    "Address",
    "BackendConfigError",
    "BackendError",
    "BackendSettings",
    "BackendUnavailable",
    "Backends",
    "BilledBy",
    "BusinessSystem",
    "CatalogueBackend",
    "Clock",
    "CodeCheck",
    "CodeLimitReached",
    "CodeOutcome",
    "Compatibility",
    "CompatibilityStatus",
    "ConversationOutcome",
    "Customer",
    "CustomerProfile",
    "DeletionRequest",
    "DeliveryOption",
    "DemoBackend",
    "Device",
    "EmailSender",
    "HttpBackend",
    "HttpConfig",
    "IdentityBackend",
    "IssuedCode",
    "NotAllowed",
    "NotFound",
    "Order",
    "OrderItem",
    "OrderStatus",
    "OrdersBackend",
    "OutboxEmail",
    "Outcome",
    "OutcomeStore",
    "PasswordReset",
    "Plan",
    "Platform",
    "Product",
    "Refusal",
    "Shipment",
    "SmtpConfig",
    "SmtpEmail",
    "Subscription",
    "SubscriptionCancellation",
    "SubscriptionStatus",
    "SubscriptionsBackend",
    "VerificationCodes",
    "YamlCatalogue",
    "create_backends",
    "load_http_config",
    "mask_email",
    "normalize_email",
    "normalize_order_number",
    "outcome_counts",
    "parse_smtp_url",
    "utc_now",
    "whole_words",
]
