"""The HTTP/JSON contract between Frontline and the company's system.

Shared by the adapter (``http.HttpBackend``) and the reference server
(``contract_server``), so both speak exactly what ``README.md`` documents.
JSON shapes are the dataclasses of ``models`` (dates ISO 8601, money as
decimal strings), converted with pydantic.
"""

from __future__ import annotations

import functools
import string
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from pydantic import TypeAdapter

T = TypeVar("T")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # default path; ``{customer_id}`` and ``{order_number}`` are filled in

    @property
    def placeholders(self) -> frozenset[str]:
        return frozenset(
            name for _, name, _, _ in string.Formatter().parse(self.path) if name is not None
        )


OPERATIONS: dict[str, Operation] = {
    "find_customer": Operation("POST", "/customers/search"),
    "verify_customer": Operation("POST", "/customers/verify"),
    "profile": Operation("GET", "/customers/{customer_id}/profile"),
    "account_status": Operation("GET", "/customers/{customer_id}/account"),
    "resend_activation": Operation("POST", "/customers/{customer_id}/activation-email"),
    "create_password_reset": Operation("POST", "/customers/{customer_id}/password-resets"),
    "request_account_deletion": Operation("POST", "/customers/{customer_id}/deletion-request"),
    "list_orders": Operation("GET", "/customers/{customer_id}/orders"),
    "get_order": Operation("GET", "/customers/{customer_id}/orders/{order_number}"),
    "change_shipping_address": Operation(
        "PUT", "/customers/{customer_id}/orders/{order_number}/shipping-address"
    ),
    "cancel_order": Operation(
        "POST", "/customers/{customer_id}/orders/{order_number}/cancellation"
    ),
    "subscription": Operation("GET", "/customers/{customer_id}/subscription"),
    "cancel_subscription": Operation("POST", "/customers/{customer_id}/subscription/cancellation"),
}


@functools.cache
def _adapter(kind: Any) -> TypeAdapter[Any]:
    return TypeAdapter(kind)


def dump(value: Any, kind: Any) -> Any:
    """``value`` (of type ``kind``) as JSON-ready data."""
    return _adapter(kind).dump_python(value, mode="json")


def load(data: Any, kind: type[T]) -> T:
    """JSON data as ``kind``; raises ``pydantic.ValidationError`` if it doesn't fit."""
    result: T = _adapter(cast(Any, kind)).validate_python(data)
    return result
