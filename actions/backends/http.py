"""The real adapter: the company's system over HTTP/JSON (contract in ``README.md``).

Configured in YAML (``data/demo/backend-http.example.yml``): base URL, a path
per operation, the auth header and the environment variable holding its secret,
timeouts and retries. Timeouts, connection errors and HTTP 5xx are retried with
exponential backoff (tenacity) and end in ``BackendUnavailable`` naming the
operation, the reason and the number of attempts; 4xx answers are not retried:
404 is ``NotFound``, 409 ``NotAllowed``, 401/403 and any other 4xx
``BackendUnavailable``. POST and PUT carry an ``Idempotency-Key`` header that
stays the same across the retries of one call.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from actions.backends import contract
from actions.backends.errors import BackendConfigError, BackendUnavailable, NotAllowed, NotFound
from actions.backends.models import (
    AccountState,
    ActivationEmail,
    Address,
    Customer,
    CustomerProfile,
    DeletionRequest,
    Order,
    PasswordReset,
    Refusal,
    Subscription,
    SubscriptionCancellation,
    mask_email,
    normalize_email,
    normalize_order_number,
)

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 2.0
READ_TIMEOUT_SECONDS = 5.0
ATTEMPTS = 3
BACKOFF_INITIAL_SECONDS = 0.25
BACKOFF_MAX_SECONDS = 2.0

T = TypeVar("T")
_REFUSALS = {refusal.value for refusal in Refusal}


class AuthConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    header: str = "Authorization"
    scheme: str | None = "Bearer"  # sent as "<scheme> <secret>"; null: the secret alone
    secret_env: str  # the environment variable holding the secret (never the secret)


class TimeoutConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    connect_seconds: float = Field(CONNECT_TIMEOUT_SECONDS, gt=0)
    read_seconds: float = Field(READ_TIMEOUT_SECONDS, gt=0)


class RetryConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    attempts: int = Field(ATTEMPTS, ge=1, le=10)
    backoff_initial_seconds: float = Field(BACKOFF_INITIAL_SECONDS, ge=0)
    backoff_max_seconds: float = Field(BACKOFF_MAX_SECONDS, ge=0)


class HttpConfig(BaseModel):
    """The YAML file of the HTTP backend."""

    model_config = ConfigDict(extra="forbid")
    name: str = "business-system"  # how logs and errors call the system
    base_url: str
    auth: AuthConfig | None = None
    timeouts: TimeoutConfig = Field(default_factory=lambda: TimeoutConfig.model_validate({}))
    retries: RetryConfig = Field(default_factory=lambda: RetryConfig.model_validate({}))
    paths: dict[str, str] = {}  # operation -> path; unset operations use the defaults

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("paths")
    @classmethod
    def _known_paths(cls, value: dict[str, str]) -> dict[str, str]:
        for name, path in value.items():
            if name not in contract.OPERATIONS:
                raise ValueError(f"unknown operation {name!r}")
            wanted = contract.OPERATIONS[name].placeholders
            given = contract.Operation("GET", path).placeholders
            if given != wanted or not path.startswith("/"):
                raise ValueError(f"{name}: path must start with / and use exactly {sorted(wanted)}")
        return value

    def route(self, operation: str) -> contract.Operation:
        default = contract.OPERATIONS[operation]
        return contract.Operation(default.method, self.paths.get(operation, default.path))


def load_http_config(path: Path) -> HttpConfig:
    try:
        return HttpConfig.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except OSError as error:
        raise BackendConfigError(str(path), f"cannot read ({error.strerror})") from error
    except (yaml.YAMLError, ValidationError) as error:
        raise BackendConfigError(str(path), f"invalid HTTP backend config: {error}") from error


def read_secret(config: HttpConfig, environ: Mapping[str, str]) -> str | None:
    """The auth secret from the environment variable the config names."""
    if config.auth is None:
        return None
    secret = environ.get(config.auth.secret_env, "").strip()
    if not secret:
        raise BackendConfigError(
            config.auth.secret_env, "not set: the HTTP backend config takes its secret from it"
        )
    return secret


class _ServerError(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


class _ResetResponse(BaseModel):
    token: str
    expires_at: datetime
    url: str | None = None


class _MaybeCustomer(BaseModel):
    customer: Customer | None = None


class _Matched(BaseModel):
    matched: bool
    customer: Customer | None = None


class HttpBackend:
    """``IdentityBackend``, ``OrdersBackend`` and ``SubscriptionsBackend`` over the
    HTTP contract. ``client`` is injected (one per process, closed by the owner);
    timeouts, auth and retries come from ``config``."""

    def __init__(
        self,
        config: HttpConfig,
        client: httpx.AsyncClient,
        *,
        secret: str | None,
        reset_url_base: str,
    ) -> None:
        if config.auth is not None and not secret:
            raise BackendConfigError(config.auth.secret_env, "no secret given")
        self.config = config
        self.client = client
        self.reset_url_base = reset_url_base
        self._headers = {"Accept": "application/json"}
        if config.auth is not None and secret:
            value = f"{config.auth.scheme} {secret}" if config.auth.scheme else secret
            self._headers[config.auth.header] = value
        self._timeout = httpx.Timeout(
            config.timeouts.read_seconds, connect=config.timeouts.connect_seconds
        )

    async def _call(self, operation: str, *, json: Any = None, **params: str) -> tuple[int, Any]:
        """Status and JSON body of a 2xx, 404 or 409 answer; anything else raises."""
        route = self.config.route(operation)
        url = self.config.base_url + route.path.format(
            **{key: quote(value, safe="") for key, value in params.items()}
        )
        headers = dict(self._headers)
        if route.method != "GET":
            headers["Idempotency-Key"] = uuid.uuid4().hex
        retries = self.config.retries
        attempts = 0
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(retries.attempts),
                wait=wait_exponential_jitter(
                    initial=retries.backoff_initial_seconds,
                    max=retries.backoff_max_seconds,
                    jitter=retries.backoff_initial_seconds,
                ),
                retry=retry_if_exception_type((httpx.TransportError, _ServerError)),
                before_sleep=self._log_retry(operation),
                reraise=True,
            ):
                with attempt:
                    attempts += 1
                    response = await self.client.request(
                        route.method, url, json=json, headers=headers, timeout=self._timeout
                    )
                    if response.status_code >= 500:
                        raise _ServerError(response.status_code)
        except httpx.TimeoutException as error:
            raise self._unavailable(
                operation, _timeout_reason(error, self.config), attempts
            ) from error
        except httpx.ConnectError as error:
            raise self._unavailable(operation, f"cannot connect ({error})", attempts) from error
        except httpx.TransportError as error:
            raise self._unavailable(
                operation, f"{error.__class__.__name__}: {error}", attempts
            ) from error
        except _ServerError as error:
            raise self._unavailable(operation, f"answered HTTP {error.status}", attempts) from error
        return response.status_code, self._body(operation, response, attempts)

    def _body(self, operation: str, response: httpx.Response, attempts: int) -> Any:
        status = response.status_code
        if status in (401, 403):
            raise self._unavailable(operation, f"refused our credentials (HTTP {status})", attempts)
        if not (200 <= status < 300 or status in (404, 409)):
            raise self._unavailable(operation, f"rejected the request (HTTP {status})", attempts)
        try:
            return response.json()
        except ValueError:
            if status == 404:
                return {}
            raise self._unavailable(
                operation, f"answered HTTP {status} without JSON", attempts
            ) from None

    def _unavailable(self, operation: str, reason: str, attempts: int) -> BackendUnavailable:
        return BackendUnavailable(self.config.name, reason, operation=operation, attempts=attempts)

    def _log_retry(self, operation: str):  # type: ignore[no-untyped-def]
        def log(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            logger.warning(
                "%s %s: attempt %d failed (%s), retrying",
                self.config.name,
                operation,
                state.attempt_number,
                error.__class__.__name__ if error else "?",
            )

        return log

    async def _fetch(self, operation: str, kind: type[T], *, json: Any = None, **params: str) -> T:
        status, body = await self._call(operation, json=json, **params)
        details = body if isinstance(body, dict) else {}
        if status == 404:
            key = params.get("order_number") or params.get("customer_id") or ""
            default_kind = "order" if "order_number" in params else "customer"
            raise NotFound(str(details.get("kind", default_kind)), str(details.get("key", key)))
        if status == 409:
            reason = str(details.get("reason", "not_allowed"))
            raise NotAllowed(
                str(details.get("operation", operation)),
                Refusal(reason) if reason in _REFUSALS else reason,
                None if details.get("state") is None else str(details["state"]),
            )
        try:
            return contract.load(body, kind)
        except ValidationError as error:
            raise self._unavailable(
                operation, f"malformed answer ({error.error_count()} problems)", 1
            ) from error

    # --- identity -----------------------------------------------------------

    async def find_customer(self, email: str) -> Customer | None:
        answer = await self._fetch(
            "find_customer", _MaybeCustomer, json={"email": normalize_email(email)}
        )
        return answer.customer

    async def verify_customer(self, email: str, order_number: str) -> Customer | None:
        number = normalize_order_number(order_number)
        if number is None:
            return None
        answer = await self._fetch(
            "verify_customer",
            _Matched,
            json={"email": normalize_email(email), "order_number": number},
        )
        return answer.customer if answer.matched else None

    async def account_status(self, customer_id: str) -> AccountState:
        return await self._fetch("account_status", AccountState, customer_id=customer_id)

    async def resend_activation(self, customer_id: str) -> ActivationEmail:
        sent = await self._fetch(
            "resend_activation", ActivationEmail, json={}, customer_id=customer_id
        )
        if "***" in sent.sent_to:
            return sent
        return ActivationEmail(
            sent.customer_id, mask_email(sent.sent_to), sent.sent_at, sent.valid_until
        )

    async def create_password_reset(self, customer_id: str) -> PasswordReset:
        reset = await self._fetch(
            "create_password_reset", _ResetResponse, json={}, customer_id=customer_id
        )
        return PasswordReset(
            customer_id=customer_id,
            token=reset.token,
            url=reset.url or self.reset_url_base + reset.token,
            expires_at=reset.expires_at,
        )

    async def request_account_deletion(self, customer_id: str) -> DeletionRequest:
        return await self._fetch(
            "request_account_deletion", DeletionRequest, json={}, customer_id=customer_id
        )

    async def profile(self, customer_id: str) -> CustomerProfile:
        profile = await self._fetch("profile", CustomerProfile, customer_id=customer_id)
        if "***" in profile.masked_email:
            return profile
        # Agents never see a whole address, even if the system sends one.
        return CustomerProfile(profile.customer_id, profile.name, mask_email(profile.masked_email))

    # --- orders -------------------------------------------------------------

    async def get_order(self, customer_id: str, order_number: str) -> Order:
        number = normalize_order_number(order_number)
        if number is None:
            raise NotFound("order", order_number)
        return await self._fetch("get_order", Order, customer_id=customer_id, order_number=number)

    async def list_orders(self, customer_id: str) -> list[Order]:
        answer = await self._fetch("list_orders", _Orders, customer_id=customer_id)
        return list(answer.orders)

    async def change_shipping_address(
        self, customer_id: str, order_number: str, address: Address
    ) -> Order:
        number = normalize_order_number(order_number)
        if number is None:
            raise NotFound("order", order_number)
        return await self._fetch(
            "change_shipping_address",
            Order,
            json=contract.dump(address, Address),
            customer_id=customer_id,
            order_number=number,
        )

    async def cancel_order(self, customer_id: str, order_number: str) -> Order:
        number = normalize_order_number(order_number)
        if number is None:
            raise NotFound("order", order_number)
        return await self._fetch(
            "cancel_order", Order, json={}, customer_id=customer_id, order_number=number
        )

    # --- subscriptions ------------------------------------------------------

    async def subscription(self, customer_id: str) -> Subscription | None:
        answer = await self._fetch("subscription", _MaybeSubscription, customer_id=customer_id)
        return answer.subscription

    async def cancel_subscription(self, customer_id: str) -> SubscriptionCancellation:
        return await self._fetch(
            "cancel_subscription", SubscriptionCancellation, json={}, customer_id=customer_id
        )


class _Orders(BaseModel):
    orders: list[Order]


class _MaybeSubscription(BaseModel):
    subscription: Subscription | None = None


def _timeout_reason(error: httpx.TimeoutException, config: HttpConfig) -> str:
    if isinstance(error, httpx.ConnectTimeout):
        return f"no connection within {config.timeouts.connect_seconds:g} s"
    return f"no answer within {config.timeouts.read_seconds:g} s"
