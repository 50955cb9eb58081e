"""The imitation of Slack's Web API, driven by the real slack_sdk clients."""

from __future__ import annotations

import threading
import urllib.error
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
import yaml
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import async_handler, builtin_async_handlers, builtin_handlers, handler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from handoff.blocks import transcript_messages
from tests.handoff.mock_slack import BOT_ID, BOT_USER_ID, Call, MockSlack, slack_api

__all__ = ["slack_api"]  # the fixture, used by parameter name below

MANIFEST = Path(__file__).parents[2] / "handoff" / "manifest.yml"
SECTION = {"type": "section", "text": {"type": "plain_text", "text": "A case"}}


def client(server: MockSlack, **kwargs: Any) -> WebClient:
    return WebClient(token=server.token, base_url=server.url, **kwargs)


def async_client(server: MockSlack, **kwargs: Any) -> AsyncWebClient:
    return AsyncWebClient(token=server.token, base_url=server.url, **kwargs)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Records the pauses slack_sdk's retry handlers ask for instead of sleeping."""
    asked: list[float] = []

    async def async_sleep(seconds: float) -> None:
        asked.append(seconds)

    fake_time = SimpleNamespace(sleep=asked.append)
    monkeypatch.setattr(builtin_handlers, "time", fake_time)
    monkeypatch.setattr(handler, "time", fake_time)
    fake_asyncio = SimpleNamespace(sleep=async_sleep)
    monkeypatch.setattr(builtin_async_handlers, "asyncio", fake_asyncio)
    monkeypatch.setattr(async_handler, "asyncio", fake_asyncio)
    return asked


# --- Messages -------------------------------------------------------------------------


def test_posts_replies_updates_permalinks_and_reactions(slack_api: MockSlack) -> None:
    web = client(slack_api)
    parent = web.chat_postMessage(channel="C0TIER2", text="New case", blocks=[SECTION])
    reply = web.chat_postMessage(channel="C0TIER2", text="Transcript", thread_ts=parent["ts"])
    updated = web.chat_update(channel="C0TIER2", ts=parent["ts"], text="Claimed", blocks=[])
    parent_link = web.chat_getPermalink(channel="C0TIER2", message_ts=parent["ts"])
    reply_link = web.chat_getPermalink(channel="C0TIER2", message_ts=reply["ts"])
    web.reactions_add(channel="C0TIER2", timestamp=reply["ts"], name="eyes")

    assert (parent.status_code, parent.data) == (
        200,
        {
            "ok": True,
            "channel": "C0TIER2",
            "ts": "1700000001.000001",
            "message": {
                "type": "message",
                "user": BOT_USER_ID,
                "bot_id": BOT_ID,
                "text": "New case",
                "ts": "1700000001.000001",
                "blocks": [SECTION],
            },
        },
    )
    assert reply["ts"] == "1700000002.000002"
    assert updated.data == {
        "ok": True,
        "channel": "C0TIER2",
        "ts": "1700000001.000001",
        "text": "Claimed",
        "message": {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "text": "Claimed",
            "ts": "1700000001.000001",
            "blocks": [],
        },
    }
    assert [parent_link["permalink"], reply_link["permalink"]] == [
        "https://brightwave-mock.slack.com/archives/C0TIER2/p1700000001000001",
        "https://brightwave-mock.slack.com/archives/C0TIER2/p1700000002000002"
        "?thread_ts=1700000001.000001&cid=C0TIER2",
    ]
    assert slack_api.calls == [
        Call("chat.postMessage", {"channel": "C0TIER2", "text": "New case", "blocks": [SECTION]}),
        Call(
            "chat.postMessage",
            {"channel": "C0TIER2", "text": "Transcript", "thread_ts": "1700000001.000001"},
        ),
        Call(
            "chat.update",
            {"channel": "C0TIER2", "ts": "1700000001.000001", "text": "Claimed", "blocks": []},
        ),
        Call("chat.getPermalink", {"channel": "C0TIER2", "message_ts": "1700000001.000001"}),
        Call("chat.getPermalink", {"channel": "C0TIER2", "message_ts": "1700000002.000002"}),
        Call(
            "reactions.add",
            {"channel": "C0TIER2", "timestamp": "1700000002.000002", "name": "eyes"},
        ),
    ]
    assert slack_api.replies("C0TIER2", parent["ts"]) == [
        {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "text": "Transcript",
            "ts": "1700000002.000002",
            "thread_ts": "1700000001.000001",
            "channel": "C0TIER2",
        }
    ]
    assert slack_api.reactions("C0TIER2", reply["ts"]) == [("eyes", BOT_USER_ID)]


def test_channel_names_resolve_to_ids(slack_api: MockSlack) -> None:
    slack_api.add_channel("C0BILLING", "#support-billing")
    posted = client(slack_api).chat_postMessage(channel="#support-billing", text="x")
    assert posted["channel"] == "C0BILLING"
    assert [m["channel"] for m in slack_api.messages()] == ["C0BILLING"]


@pytest.mark.parametrize(
    ("method", "arguments", "error"),
    [
        ("chat.postMessage", {"channel": "C1"}, "no_text"),
        ("chat.postMessage", {"text": "x"}, "channel_not_found"),
        ("chat.postMessage", {"channel": "C1", "blocks": [SECTION] * 51}, "invalid_blocks"),
        (
            "chat.postMessage",
            {"channel": "C1", "blocks": [{"type": "header", "text": {"text": "h" * 151}}]},
            "invalid_blocks",
        ),
        (
            "chat.postMessage",
            {"channel": "C1", "blocks": [{"type": "section", "text": {"text": "s" * 3001}}]},
            "invalid_blocks",
        ),
        (
            "chat.postMessage",
            {"channel": "C1", "blocks": [{"type": "section", "text": {"text": "s" * 2900}}] * 5},
            "msg_blocks_too_long",
        ),
        ("chat.update", {"channel": "C1", "ts": "1.000001", "text": "x"}, "message_not_found"),
        ("chat.getPermalink", {"channel": "C1", "message_ts": "1.1"}, "message_not_found"),
        (
            "reactions.add",
            {"channel": "C1", "timestamp": "1.1", "name": "eyes"},
            "message_not_found",
        ),
        ("users.info", {"user": "U0NOBODY"}, "user_not_found"),
        ("conversations.members", {"channel": "C0NOWHERE"}, "channel_not_found"),
        ("conversations.info", {"channel": "C0NOWHERE"}, "channel_not_found"),
        ("views.open", {}, "unknown_method"),
    ],
)
def test_api_errors_come_back_as_slack_sends_them(
    slack_api: MockSlack, method: str, arguments: dict[str, Any], error: str
) -> None:
    with pytest.raises(SlackApiError) as raised:
        client(slack_api).api_call(method, json=arguments)
    assert (raised.value.response.status_code, raised.value.response.data) == (
        200,
        {"ok": False, "error": error},
    )


def test_everything_our_transcript_builder_makes_is_accepted(slack_api: MockSlack) -> None:
    web = client(slack_api)
    parent = web.chat_postMessage(channel="C1", text="case")
    transcript = [{"from": "customer", "text": "lorem ipsum " * 1000}] * 3
    for message in transcript_messages(transcript):
        web.chat_postMessage(channel="C1", thread_ts=parent["ts"], **message)
    assert [m["text"] for m in slack_api.replies("C1", parent["ts"])] == [
        f"Transcript, part {n} of 4" for n in (1, 2, 3, 4)
    ]


def test_a_reaction_is_added_once(slack_api: MockSlack) -> None:
    web = client(slack_api)
    posted = web.chat_postMessage(channel="C1", text="x")
    web.reactions_add(channel="C1", timestamp=posted["ts"], name="eyes")
    with pytest.raises(SlackApiError, match="already_reacted"):
        web.reactions_add(channel="C1", timestamp=posted["ts"], name="eyes")


def test_ephemeral_messages_are_answered_with_a_message_ts(slack_api: MockSlack) -> None:
    answer = client(slack_api).chat_postEphemeral(channel="C1", user="U2", text="Already taken")
    assert answer.data == {"ok": True, "message_ts": "1700000001.000001"}


# --- Channels, members, users ------------------------------------------------------------


def test_members_are_paginated_like_slack(slack_api: MockSlack) -> None:
    slack_api.set_members("C0TIER2", ["U1", "U2", "U3", "U4", "U5"])
    pages = [
        page["members"]
        for page in client(slack_api).conversations_members(channel="C0TIER2", limit=2)
    ]
    assert pages == [["U1", "U2"], ["U3", "U4"], ["U5"]]
    assert [call.args for call in slack_api.calls] == [
        {"channel": "C0TIER2", "limit": "2"},
        {"channel": "C0TIER2", "limit": "2", "cursor": "b2Zmc2V0OjI="},
        {"channel": "C0TIER2", "limit": "2", "cursor": "b2Zmc2V0OjQ="},
    ]


def test_history_lists_top_level_messages_newest_first_with_metadata_on_request(
    slack_api: MockSlack,
) -> None:
    slack_api.add_channel("C0TIER2", "support-tier2")
    web = client(slack_api)
    marker = {"event_type": "frontline_escalation", "event_payload": {"escalation_id": "e1"}}
    first = web.chat_postMessage(channel="C0TIER2", text="Case 1", metadata=marker)
    web.chat_postMessage(channel="C0TIER2", text="Transcript", thread_ts=first["ts"])
    web.chat_postMessage(channel="C0OTHER", text="Elsewhere")
    second = web.chat_postMessage(channel="C0TIER2", text="Case 2")
    plain = web.conversations_history(channel="C0TIER2")
    pages = [
        page["messages"]
        for page in web.conversations_history(channel="C0TIER2", include_all_metadata=True, limit=1)
    ]
    base = {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID}
    assert plain.data == {
        "ok": True,
        "messages": [
            {**base, "text": "Case 2", "ts": second["ts"]},
            {**base, "text": "Case 1", "ts": first["ts"]},
        ],
        "has_more": False,
        "response_metadata": {"next_cursor": ""},
    }
    assert pages == [
        [{**base, "text": "Case 2", "ts": second["ts"]}],
        [{**base, "text": "Case 1", "ts": first["ts"], "metadata": marker}],
    ]
    assert web.conversations_history(channel="C0TIER2", oldest=second["ts"])["messages"] == [
        {**base, "text": "Case 2", "ts": second["ts"]}
    ]


def test_history_needs_a_channel_id_like_slack(slack_api: MockSlack) -> None:
    slack_api.add_channel("C0TIER2", "support-tier2")
    with pytest.raises(SlackApiError) as error:
        client(slack_api).conversations_history(channel="#support-tier2")
    assert error.value.response.data == {"ok": False, "error": "channel_not_found"}


def test_channel_info_and_list(slack_api: MockSlack) -> None:
    slack_api.add_channel("C0TIER2", "support-tier2", members=["U1"])
    slack_api.add_channel("G0LEADS", "support-leads", members=["U1", "U2"], private=True)
    web = client(slack_api)
    assert web.conversations_info(channel="G0LEADS")["channel"] == {
        "id": "G0LEADS",
        "name": "support-leads",
        "is_channel": False,
        "is_group": True,
        "is_private": True,
        "is_member": True,
        "is_archived": False,
        "num_members": 2,
    }
    listed = web.conversations_list(types="public_channel,private_channel")["channels"]
    assert [channel["id"] for channel in listed] == ["C0TIER2", "G0LEADS"]
    assert [c["id"] for c in web.conversations_list()["channels"]] == ["C0TIER2"]


def test_users_have_real_and_display_names(slack_api: MockSlack) -> None:
    slack_api.add_user("U0DANA", "Dana Kuipers", "dana")
    assert client(slack_api).users_info(user="U0DANA")["user"] == {
        "id": "U0DANA",
        "team_id": "T0BRIGHTWAVE",
        "name": "dana.kuipers",
        "real_name": "Dana Kuipers",
        "deleted": False,
        "is_bot": False,
        "tz": "Europe/Amsterdam",
        "profile": {
            "real_name": "Dana Kuipers",
            "real_name_normalized": "Dana Kuipers",
            "display_name": "dana",
            "display_name_normalized": "dana",
        },
    }


def test_tokens_are_checked(slack_api: MockSlack) -> None:
    assert client(slack_api).auth_test().data == {
        "ok": True,
        "url": "https://brightwave-mock.slack.com/",
        "team": "Brightwave",
        "user": "frontline",
        "team_id": "T0BRIGHTWAVE",
        "user_id": BOT_USER_ID,
        "bot_id": BOT_ID,
        "is_enterprise_install": False,
    }
    with pytest.raises(SlackApiError, match="invalid_auth"):
        WebClient(token="xoxb-wrong", base_url=slack_api.url).auth_test()
    with pytest.raises(SlackApiError, match="not_authed"):
        WebClient(base_url=slack_api.url).auth_test()
    assert [call.token for call in slack_api.calls] == [slack_api.token, "xoxb-wrong", None]


def test_reset_forgets_everything(slack_api: MockSlack) -> None:
    slack_api.add_user("U1", "A")
    slack_api.set_members("C1", ["U1"])
    slack_api.fail_next(500)
    slack_api.reset()
    web = client(slack_api)
    assert web.auth_test()["ok"] is True
    assert web.chat_postMessage(channel="C1", text="x")["ts"] == "1700000001.000001"
    with pytest.raises(SlackApiError, match="user_not_found"):
        web.users_info(user="U1")
    assert [call.method for call in slack_api.calls] == [
        "auth.test",
        "chat.postMessage",
        "users.info",
    ]


# --- The async client ------------------------------------------------------------------------


async def test_the_async_client_sends_get_for_reads_and_json_for_posts(
    slack_api: MockSlack,
) -> None:
    slack_api.add_user("U0DANA", "Dana Kuipers")
    slack_api.set_members("C0TIER2", ["U0DANA"])
    web = async_client(slack_api)
    posted = await web.chat_postMessage(channel="C0TIER2", text="case", blocks=[SECTION])
    user = await web.users_info(user="U0DANA")
    members = await web.conversations_members(channel="C0TIER2")
    assert (posted["ts"], user["user"]["real_name"], members["members"]) == (
        "1700000001.000001",
        "Dana Kuipers",
        ["U0DANA"],
    )
    assert [(call.http_method, call) for call in slack_api.calls] == [
        (
            "POST",
            Call("chat.postMessage", {"channel": "C0TIER2", "text": "case", "blocks": [SECTION]}),
        ),
        ("GET", Call("users.info", {"user": "U0DANA"})),
        ("GET", Call("conversations.members", {"channel": "C0TIER2"})),
    ]


# --- Faults ------------------------------------------------------------------------------------


def test_rate_limit_retry_handler_waits_the_retry_after_seconds(
    slack_api: MockSlack, sleeps: list[float]
) -> None:
    slack_api.fail_next(429, 2, retry_after=7)
    web = client(slack_api, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)])
    assert web.chat_postMessage(channel="C1", text="case")["ts"] == "1700000001.000001"
    assert [int(seconds) for seconds in sleeps] == [7, 7]
    assert all(7 <= seconds < 8 for seconds in sleeps)
    posted = {"channel": "C1", "text": "case"}
    assert slack_api.calls == [
        Call("chat.postMessage", posted, 429),
        Call("chat.postMessage", posted, 429),
        Call("chat.postMessage", posted),
    ]


async def test_async_rate_limit_retry_handler_waits_the_retry_after_seconds(
    slack_api: MockSlack, sleeps: list[float]
) -> None:
    slack_api.add_user("U1", "Anna")
    slack_api.fail_next(429, 1, retry_after=3)
    web = async_client(slack_api, retry_handlers=[AsyncRateLimitErrorRetryHandler()])
    answer = await web.users_info(user="U1")
    assert answer["user"]["real_name"] == "Anna"
    assert [int(seconds) for seconds in sleeps] == [3]
    assert [(call.method, call.status) for call in slack_api.calls] == [
        ("users.info", 429),
        ("users.info", 200),
    ]


def test_a_429_without_a_retry_handler_reaches_the_caller_with_retry_after(
    slack_api: MockSlack,
) -> None:
    slack_api.fail_next(429, 1, retry_after=30)
    with pytest.raises(SlackApiError) as raised:
        client(slack_api).chat_postMessage(channel="C1", text="x")
    response = raised.value.response
    assert (response.status_code, response.headers["Retry-After"], response.data) == (
        429,
        "30",
        {"ok": False, "error": "ratelimited"},
    )


def test_server_errors_are_retried_by_the_server_error_handler(
    slack_api: MockSlack, sleeps: list[float]
) -> None:
    slack_api.fail_next(503, 1)
    slack_api.fail_next(500, 1)
    web = client(slack_api, retry_handlers=[ServerErrorRetryHandler(max_retry_count=2)])
    assert web.auth_test()["ok"] is True
    assert len(sleeps) == 2
    assert [(call.method, call.status) for call in slack_api.calls] == [
        ("auth.test", 503),
        ("auth.test", 500),
        ("auth.test", 200),
    ]
    slack_api.fail_next(503, 1)
    with pytest.raises(SlackApiError) as raised:
        client(slack_api).auth_test()
    assert raised.value.response.status_code == 503


async def test_async_server_errors_are_retried(slack_api: MockSlack, sleeps: list[float]) -> None:
    slack_api.fail_next(500, 1)
    web = async_client(slack_api, retry_handlers=[AsyncServerErrorRetryHandler()])
    assert (await web.auth_test())["ok"] is True
    assert len(sleeps) == 1
    assert [call.status for call in slack_api.calls] == [500, 200]


def test_faults_can_target_one_method(slack_api: MockSlack) -> None:
    slack_api.fail_next(503, 1, method="chat.postMessage")
    slack_api.error_next("not_in_channel", 1, method="chat.postMessage")
    web = client(slack_api)
    assert web.auth_test()["ok"] is True
    with pytest.raises(SlackApiError) as first:
        web.chat_postMessage(channel="C1", text="x")
    with pytest.raises(SlackApiError) as second:
        web.chat_postMessage(channel="C1", text="x")
    assert web.chat_postMessage(channel="C1", text="x")["ok"] is True
    assert (first.value.response.status_code, second.value.response.data) == (
        503,
        {"ok": False, "error": "not_in_channel"},
    )
    assert [(call.method, call.status) for call in slack_api.calls] == [
        ("auth.test", 200),
        ("chat.postMessage", 503),
        ("chat.postMessage", 200),
        ("chat.postMessage", 200),
    ]


async def test_an_outage_refuses_connections_until_slack_is_back(slack_api: MockSlack) -> None:
    port = slack_api.port
    web = client(slack_api, retry_handlers=[])
    web.chat_postMessage(channel="C1", text="before")
    with slack_api.outage():
        assert slack_api.is_down
        with pytest.raises(urllib.error.URLError) as refused:
            web.chat_postMessage(channel="C1", text="during")
        assert isinstance(refused.value.reason, ConnectionRefusedError)
        with pytest.raises(aiohttp.ClientConnectorError):
            await async_client(slack_api, retry_handlers=[]).auth_test()
    assert (slack_api.is_down, slack_api.port) == (False, port)
    web.chat_postMessage(channel="C1", text="after")
    assert [call.args["text"] for call in slack_api.calls] == ["before", "after"]


def test_wait_for_calls_returns_once_they_arrived(slack_api: MockSlack) -> None:
    web = client(slack_api)
    thread = threading.Thread(
        target=lambda: [web.chat_postMessage(channel="C1", text=str(n)) for n in range(3)]
    )
    thread.start()
    arrived = slack_api.wait_for_calls(3, method="chat.postMessage")
    thread.join()
    assert [call.args["text"] for call in arrived] == ["0", "1", "2"]
    with pytest.raises(TimeoutError, match=r"3 of 4 calls to chat\.postMessage after 0\.05 s"):
        slack_api.wait_for_calls(4, method="chat.postMessage", timeout=0.05)


# --- The app manifest ----------------------------------------------------------------------

# The bot scope each Web API method the handoff uses needs (Slack's method reference).
SCOPES = {
    "chat.postMessage": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.update": "chat:write",
    "conversations.members": "channels:read",
    "conversations.info": "channels:read",
    "conversations.list": "channels:read",
    "conversations.history": "channels:history",
    "users.info": "users:read",
    "reactions.add": "reactions:write",
}


def test_the_manifest_grants_what_the_app_uses_and_nothing_more() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    scopes = manifest["oauth_config"]["scopes"]["bot"]
    assert set(scopes) == {
        *SCOPES.values(),
        "groups:read",  # members of private queue channels
        "channels:history",  # message.channels events: replies in case threads
        "groups:history",  # message.groups events
    }
    settings = manifest["settings"]
    assert settings["event_subscriptions"] == {"bot_events": ["message.channels", "message.groups"]}
    assert settings["interactivity"] == {"is_enabled": True}
    assert settings["socket_mode_enabled"] is True
    assert manifest["display_information"]["name"] == "Frontline"
    assert 175 <= len(manifest["display_information"]["long_description"]) <= 4000
    assert len(manifest["display_information"]["description"]) <= 140
    assert "request_url: https://<host>/slack/events" in MANIFEST.read_text()
