"""The HTTP adapter when the company's system is down, slow, or misconfigured:
against the real contract server, told to fail, counting what arrived."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from actions.backends import (
    BackendConfigError,
    BackendUnavailable,
    HttpBackend,
    NotAllowed,
    NotFound,
    Refusal,
    load_http_config,
)
from actions.backends.http import read_secret
from actions.backends.settings import ROOT
from tests.actions.backends.conftest import RESET_URL_BASE, http_config
from tests.actions.backends.servers import ContractServer, closed_port


def backend(client: httpx.AsyncClient, base_url: str, **overrides: object) -> HttpBackend:
    return HttpBackend(
        http_config(base_url, **overrides),
        client,
        secret="test-secret",
        reset_url_base=RESET_URL_BASE,
    )


async def test_requests_carry_the_auth_header_and_no_email_in_the_url(
    served: ContractServer, http_backend: HttpBackend
) -> None:
    await http_backend.verify_customer("emma.devries@example.com", "BW-104233")
    await http_backend.get_order("C-1001", "BW-104233")
    await http_backend.cancel_order("C-1001", "BW-104390")
    assert served.paths() == [
        "POST /customers/verify",
        "GET /customers/C-1001/orders/BW-104233",
        "POST /customers/C-1001/orders/BW-104390/cancellation",
    ]
    assert [seen.headers["authorization"] for seen in served.requests] == ["Bearer test-secret"] * 3
    assert ["idempotency-key" in seen.headers for seen in served.requests] == [True, False, True]


async def test_server_errors_are_retried_until_an_answer_comes(
    served: ContractServer, http_backend: HttpBackend
) -> None:
    served.faults.status, served.faults.status_times = 503, 2
    order = await http_backend.cancel_order("C-1001", "BW-104390")
    assert order.status == "cancelled"
    assert served.paths() == ["POST /customers/C-1001/orders/BW-104390/cancellation"] * 3
    keys = {seen.headers["idempotency-key"] for seen in served.requests}
    assert len(keys) == 1  # one logical call: the server can tell retries apart


async def test_a_system_that_keeps_failing_is_unavailable_after_the_retries(
    served: ContractServer, http_backend: HttpBackend
) -> None:
    served.faults.status, served.faults.status_times = 500, 99
    with pytest.raises(BackendUnavailable) as raised:
        await http_backend.get_order("C-1001", "BW-104233")
    error = raised.value
    assert (error.system, error.operation, error.reason, error.attempts) == (
        "backoffice",
        "get_order",
        "answered HTTP 500",
        3,
    )
    assert str(error) == "backoffice (get_order) unavailable after 3 attempts: answered HTTP 500"
    assert served.paths() == ["GET /customers/C-1001/orders/BW-104233"] * 3


async def test_a_slow_system_times_out_on_every_attempt(served: ContractServer) -> None:
    served.faults.hang = True
    async with httpx.AsyncClient() as client:
        slow = backend(
            client,
            served.url,
            timeouts={"connect_seconds": 1.0, "read_seconds": 0.2},
            retries={"attempts": 2, "backoff_initial_seconds": 0.01, "backoff_max_seconds": 0.01},
        )
        with pytest.raises(BackendUnavailable) as raised:
            await slow.account_status("C-1001")
    assert (raised.value.reason, raised.value.attempts) == ("no answer within 0.2 s", 2)
    assert served.paths() == ["GET /customers/C-1001/account"] * 2


async def test_a_system_that_is_down_is_unavailable_after_the_retries() -> None:
    async with httpx.AsyncClient() as client:
        down = backend(client, f"http://127.0.0.1:{closed_port()}")
        with pytest.raises(BackendUnavailable) as raised:
            await down.find_customer("emma.devries@example.com")
    error = raised.value
    assert (error.operation, error.attempts) == ("find_customer", 3)
    assert error.reason.startswith("cannot connect (")
    assert "emma" not in str(error)


async def test_answers_about_the_request_are_not_retried(
    served: ContractServer, http_backend: HttpBackend
) -> None:
    with pytest.raises(NotFound) as missing:
        await http_backend.get_order("C-1001", "BW-999999")
    with pytest.raises(NotAllowed) as refused:
        await http_backend.cancel_order("C-1001", "BW-104233")
    assert (missing.value.kind, missing.value.key) == ("order", "BW-999999")
    assert (refused.value.reason, refused.value.state) == (Refusal.ORDER_SHIPPED, "shipped")
    assert type(refused.value.reason) is Refusal
    assert len(served.requests) == 2


async def test_refused_credentials_are_reported_without_retrying(served: ContractServer) -> None:
    async with httpx.AsyncClient() as client:
        wrong = HttpBackend(
            http_config(served.url), client, secret="wrong", reset_url_base=RESET_URL_BASE
        )
        with pytest.raises(BackendUnavailable) as raised:
            await wrong.profile("C-1001")
    assert (raised.value.reason, raised.value.attempts) == (
        "refused our credentials (HTTP 401)",
        1,
    )
    assert len(served.requests) == 1


async def test_a_malformed_answer_is_reported_not_passed_on(
    served: ContractServer, http_backend: HttpBackend
) -> None:
    served.faults.malformed = True
    with pytest.raises(BackendUnavailable) as raised:
        await http_backend.get_order("C-1001", "BW-104233")
    assert raised.value.reason.startswith("malformed answer (")


async def test_malformed_order_numbers_never_reach_the_system(
    served: ContractServer, http_backend: HttpBackend
) -> None:
    assert await http_backend.verify_customer("emma.devries@example.com", "../../admin") is None
    with pytest.raises(NotFound):
        await http_backend.get_order("C-1001", "BW-1/../x")
    assert served.requests == []


async def test_paths_come_from_the_config(served: ContractServer) -> None:
    async with httpx.AsyncClient() as client:
        # The reference server only knows the default paths: a configured path shows up there.
        custom = backend(client, served.url, paths={"account_status": "/v2/{customer_id}/state"})
        with pytest.raises(NotFound):
            await custom.account_status("C-1001")
    assert served.paths() == ["GET /v2/C-1001/state"]


def test_the_example_config_loads_and_takes_its_secret_from_the_environment() -> None:
    config = load_http_config(ROOT / "data" / "demo" / "backend-http.example.yml")
    assert config.base_url == "http://127.0.0.1:8090"
    assert config.auth is not None
    assert read_secret(config, {config.auth.secret_env: " s3cret "}) == "s3cret"
    with pytest.raises(BackendConfigError) as raised:
        read_secret(config, {})
    assert raised.value.source == config.auth.secret_env


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("base_url: ftp://x\n", "must start with http:// or https://"),
        ('base_url: http://x\npaths: {get_order: "/orders/{order_number}"}\n', "exactly"),
        ("base_url: http://x\npaths: {launch: /x}\n", "unknown operation 'launch'"),
        ("base_url: http://x\nretries: {attempts: 0}\n", "greater than or equal to 1"),
        ("base_url: http://x\nauth: {header: X-Key}\n", "secret_env"),
    ],
)
def test_invalid_configs_say_what_is_wrong(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "backend.yml"
    path.write_text(text)
    with pytest.raises(BackendConfigError) as raised:
        load_http_config(path)
    assert raised.value.source == str(path)
    assert problem in raised.value.reason
