"""A reference server of the HTTP contract, over any ``BusinessSystem``.

It serves the demo backend so that the HTTP adapter can be tried (and is
tested) end to end, and it is the executable form of ``README.md`` for whoever
implements the contract in front of a real system::

    FRONTLINE_CONTRACT_TOKEN=secret python -m actions.backends.contract_server --port 8090

then point the HTTP backend at it (``data/demo/backend-http.example.yml``).
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from actions.backends import contract
from actions.backends.errors import BackendUnavailable, NotAllowed, NotFound
from actions.backends.models import (
    AccountState,
    ActivationEmail,
    Address,
    Customer,
    CustomerProfile,
    DeletionRequest,
    Order,
    Subscription,
    SubscriptionCancellation,
)
from actions.backends.protocols import BusinessSystem

logger = logging.getLogger(__name__)

Handler = Callable[[BusinessSystem, dict[str, str], Any], Awaitable[Any]]


class BadRequest(Exception):
    pass


def _field(body: Any, name: str) -> str:
    if not isinstance(body, dict) or not isinstance(body.get(name), str):
        raise BadRequest(f"{name} missing")
    value: str = body[name]
    return value


async def _find_customer(system: BusinessSystem, params: dict[str, str], body: Any) -> Any:
    customer = await system.find_customer(_field(body, "email"))
    return {"customer": contract.dump(customer, Customer | None)}


async def _verify_customer(system: BusinessSystem, params: dict[str, str], body: Any) -> Any:
    customer = await system.verify_customer(_field(body, "email"), _field(body, "order_number"))
    return {"matched": customer is not None, "customer": contract.dump(customer, Customer | None)}


async def _profile(system: BusinessSystem, params: dict[str, str], body: Any) -> Any:
    return contract.dump(await system.profile(params["customer_id"]), CustomerProfile)


async def _account_status(system: BusinessSystem, params: dict[str, str], body: Any) -> Any:
    return contract.dump(await system.account_status(params["customer_id"]), AccountState)


async def _resend_activation(system: BusinessSystem, params: dict[str, str], body: Any) -> Any:
    return contract.dump(await system.resend_activation(params["customer_id"]), ActivationEmail)


async def _create_password_reset(system: BusinessSystem, params: dict[str, str], body: Any) -> Any:
    reset = await system.create_password_reset(params["customer_id"])
    return {
        "customer_id": reset.customer_id,
        "token": reset.token,
        "expires_at": reset.expires_at.isoformat(),
    }


async def _request_account_deletion(
    system: BusinessSystem, params: dict[str, str], body: Any
) -> Any:
    request = await system.request_account_deletion(params["customer_id"])
    return contract.dump(request, DeletionRequest)


async def _list_orders(system: BusinessSystem, params: dict[str, str], body: Any) -> Any:
    orders = await system.list_orders(params["customer_id"])
    return {"orders": contract.dump(orders, list[Order])}


async def _get_order(system: BusinessSystem, params: dict[str, str], body: Any) -> Any:
    order = await system.get_order(params["customer_id"], params["order_number"])
    return contract.dump(order, Order)


async def _change_shipping_address(
    system: BusinessSystem, params: dict[str, str], body: Any
) -> Any:
    try:
        address = contract.load(body, Address)
    except ValidationError as error:
        raise BadRequest(f"address: {error.error_count()} problems") from error
    order = await system.change_shipping_address(
        params["customer_id"], params["order_number"], address
    )
    return contract.dump(order, Order)


async def _cancel_order(system: BusinessSystem, params: dict[str, str], body: Any) -> Any:
    order = await system.cancel_order(params["customer_id"], params["order_number"])
    return contract.dump(order, Order)


async def _subscription(system: BusinessSystem, params: dict[str, str], body: Any) -> Any:
    subscription = await system.subscription(params["customer_id"])
    return {"subscription": contract.dump(subscription, Subscription | None)}


async def _cancel_subscription(system: BusinessSystem, params: dict[str, str], body: Any) -> Any:
    cancellation = await system.cancel_subscription(params["customer_id"])
    return contract.dump(cancellation, SubscriptionCancellation)


HANDLERS: dict[str, Handler] = {
    "find_customer": _find_customer,
    "verify_customer": _verify_customer,
    "profile": _profile,
    "account_status": _account_status,
    "resend_activation": _resend_activation,
    "create_password_reset": _create_password_reset,
    "request_account_deletion": _request_account_deletion,
    "list_orders": _list_orders,
    "get_order": _get_order,
    "change_shipping_address": _change_shipping_address,
    "cancel_order": _cancel_order,
    "subscription": _subscription,
    "cancel_subscription": _cancel_subscription,
}


def create_contract_app(
    system: BusinessSystem, *, auth_header: str = "Authorization", auth_value: str | None = None
) -> Starlette:
    """The contract's routes (default paths) over ``system``. With ``auth_value``,
    requests without exactly that ``auth_header`` value get 401."""

    def endpoint(operation: str, handler: Handler) -> Callable[[Request], Awaitable[JSONResponse]]:
        async def serve(request: Request) -> JSONResponse:
            if auth_value is not None and not hmac.compare_digest(
                request.headers.get(auth_header, "").encode(), auth_value.encode()
            ):
                return JSONResponse({"error": "unauthorized"}, 401)
            try:
                body = await request.json() if await request.body() else None
                result = await handler(system, dict(request.path_params), body)
            except (BadRequest, ValueError) as error:
                return JSONResponse({"error": "bad_request", "detail": str(error)}, 400)
            except NotFound as error:
                return JSONResponse(
                    {"error": "not_found", "kind": error.kind, "key": error.key}, 404
                )
            except NotAllowed as error:
                return JSONResponse(
                    {
                        "error": "not_allowed",
                        "operation": error.operation,
                        "reason": str(error.reason),
                        "state": None if error.state is None else str(error.state),
                    },
                    409,
                )
            except BackendUnavailable:
                logger.exception("%s failed", operation)
                return JSONResponse({"error": "unavailable"}, 503)
            return JSONResponse(result)

        return serve

    routes = [
        Route(op.path, endpoint(name, HANDLERS[name]), methods=[op.method], name=name)
        for name, op in contract.OPERATIONS.items()
    ]
    return Starlette(routes=routes)


def main(argv: list[str] | None = None) -> None:
    """Serves the demo backend (as configured by ``BackendSettings``) over HTTP."""
    import asyncio

    import uvicorn

    from actions.backends.factory import create_demo_backend, create_email
    from actions.backends.settings import BackendSettings
    from core.runtime import SettingsError, configure_logging, exit_on_settings_error, load_settings

    parser = argparse.ArgumentParser(prog="python -m actions.backends.contract_server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument(
        "--token-env",
        default="FRONTLINE_CONTRACT_TOKEN",
        help="environment variable with the bearer token clients must send (unset: no auth)",
    )
    args = parser.parse_args(argv)
    configure_logging("contract-server")
    try:
        settings = load_settings(BackendSettings, kind="demo")
    except SettingsError as error:
        exit_on_settings_error(error)
        return
    demo = create_demo_backend(settings, create_email(settings))
    token = os.environ.get(args.token_env)
    app = create_contract_app(demo, auth_value=f"Bearer {token}" if token else None)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_config=None, log_level="info")
    finally:
        asyncio.run(demo.aclose())


if __name__ == "__main__":
    main()
