"""The chat widget in a real browser (Debian's Chromium, driven by Playwright).

The first tests run against the real stack (action server, Rasa, demo site):
the widget's own behaviour with real messages. The rest feed chosen messages
(article cards, handoff states, CSAT, edge cases) straight into the built widget
on a preview page, through the same path a socket message takes. Whole journeys
through the real stack (help-center answers, a password reset by email, a
handoff through Slack) are in test_widget_journeys.py. Screenshots of the main
states go to var/artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any, cast

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page

from launcher.stack import Stack
from tests.e2e.browser import (
    chromium,
    colours,
    contrast,
    elements_everywhere,
    entries,
    focused,
    in_widget,
    log_items,
    new_context,
    open_preview,
    receive,
    record_dialogs,
    record_socket_io,
    screenshot,
    session_id,
    shadow_html,
    wait_until_sent,
)
from tests.e2e.test_conversation import GREETING, push_agent_message, tracker, user_texts

# One browser for the module (it takes seconds to start), a new context (empty
# storage, no shared state) for every test.
pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

# The demo page's own greeting (data-greeting): shown by the widget, never sent.
INTRO = "Welcome to Brightwave! Ask about orders, returns, your account or your devices."
GREETING_ITEM = {
    "kind": "text",
    "text": GREETING["text"],
    "buttons": [button["title"] for button in cast(list[dict[str, str]], GREETING["buttons"])],
}
# How Rasa records an intent triggered through its HTTP API (agent messages).
EXTERNAL = "EXTERNAL: "
LINK = 'target="_blank" rel="noopener noreferrer nofollow"'


@pytest.fixture(scope="module")
def site(stack: Stack) -> Iterator[str]:
    """The demo site, started next to the session's action server and Rasa."""
    service = stack.site_service()
    stack.start([service])
    try:
        yield stack.site_url
    finally:
        service.stop()
        stack.services.remove(service)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as running:
        yield running


@pytest_asyncio.fixture(loop_scope="module")
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    fresh = await new_context(browser)
    yield fresh
    await fresh.close()


async def open_chat(
    context: BrowserContext, site: str, width: int = 1280, height: int = 800
) -> Page:
    page = await context.new_page()
    await page.set_viewport_size({"width": width, "height": height})
    await page.goto(f"{site}/")
    await page.click(".fl-launcher")
    await page.wait_for_selector(".fl-conn[data-state=online]")
    return page


async def say(page: Page, text: str) -> None:
    await say_only(page, text)
    await wait_until_sent(page)


async def say_only(page: Page, text: str) -> None:
    """Types ``text`` and presses Enter, without waiting for the server."""
    await page.fill(".fl-input", text)
    await page.press(".fl-input", "Enter")


def customer_texts(stack: Stack, session: str) -> list[str]:
    """What the customer sent, as Rasa stored it (without the intents that the
    trigger_intent API records as user events)."""
    texts = user_texts(tracker(stack, session))
    return [text for text in texts if not text.startswith(EXTERNAL)]


def conversation_in_tracker(stack: Stack, session: str) -> list[tuple[str, Any]]:
    """Customer texts and bot messages as Rasa stored them."""
    result: list[tuple[str, Any]] = []
    for event in tracker(stack, session)["events"]:
        if event["event"] == "user" and not event["text"].startswith(EXTERNAL):
            result.append(("user", event["text"]))
        elif event["event"] == "bot":
            data = {key: value for key, value in (event.get("data") or {}).items() if value}
            result.append(("bot", {**({"text": event["text"]} if event["text"] else {}), **data}))
    return result


def conversation_in_widget(kept: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    return [
        ("user", entry.get("payload", entry["text"])) if entry["from"] == "user"
        else ("bot", entry["message"])
        for entry in kept
    ]  # fmt: skip


# ------------------------------------------------------------ the real stack


async def test_the_greeting_comes_with_its_buttons_and_a_button_sends_its_payload(
    stack: Stack, site: str, context: BrowserContext
) -> None:
    page = await open_chat(context, site)
    await say(page, "hi")
    assert await log_items(page) == [
        {"kind": "user", "text": "hi", "buttons": []},
        GREETING_ITEM,
    ]
    await screenshot(page, "01-greeting")

    await page.click(".fl-choice >> text=Where is my order?")
    await wait_until_sent(page)
    items = await log_items(page)
    assert items[:3] == [
        {"kind": "user", "text": "hi", "buttons": []},
        GREETING_ITEM,
        {"kind": "user", "text": "Where is my order?", "buttons": []},
    ]
    # everything Rasa stored is shown, in order, and nothing else
    session = await session_id(page)
    assert conversation_in_widget(await entries(page)) == conversation_in_tracker(stack, session)
    assert customer_texts(stack, session) == ["hi", "/order_status"]
    assert await page.locator(".fl-entry-bot .fl-choice").first.is_disabled()


async def test_an_agent_message_pushed_through_rasa_shows_the_agent_name_and_style(
    stack: Stack, site: str, context: BrowserContext
) -> None:
    page = await open_chat(context, site)
    await say(page, "hi")
    response = push_agent_message(
        stack, await session_id(page), "Hello, I'm **Alex** from the Tier 2 team.", "Alex"
    )
    assert response.status_code == 200
    await page.wait_for_selector(".fl-entry-agent")
    assert (await log_items(page))[-1] == {
        "kind": "agent_message",
        "text": "Hello, I'm Alex from the Tier 2 team.",
        "buttons": [],
    }
    assert await page.locator(".fl-agent-name").text_content() == "AlexAgent"
    assert await shadow_html(page, ".fl-agent .fl-md") == [
        "<p>Hello, I'm <strong>Alex</strong> from the Tier 2 team.</p>"
    ]
    assert await page.locator(".fl-mode").text_content() == "Chatting with Alex"
    agent_colours = await colours(page, ".fl-agent")
    bot_colours = await colours(page, ".fl-bot")
    assert agent_colours[1] != bot_colours[1]
    await screenshot(page, "02-agent-message")


async def test_reload_another_page_and_a_second_tab_continue_the_conversation(
    stack: Stack, site: str, context: BrowserContext
) -> None:
    page = await open_chat(context, site)
    await say(page, "hi")
    session = await session_id(page)
    shown = await log_items(page)

    await page.reload()
    await page.wait_for_selector(".fl-conn[data-state=online]")
    assert await page.is_visible(".fl-panel")  # the panel stays open in this tab
    assert (await session_id(page), await log_items(page)) == (session, shown)

    await page.goto(f"{site}/help")
    await page.wait_for_selector(".fl-conn[data-state=online]")
    assert (await session_id(page), await log_items(page)) == (session, shown)

    second = await page.context.new_page()
    await second.goto(f"{site}/")
    await second.click(".fl-launcher")
    assert (await session_id(second), await log_items(second)) == (session, shown)
    assert await second.evaluate("FrontlineWidget.instance.isLeader()") is False

    # a message pushed to the session reaches both tabs
    push_agent_message(stack, session, "Both tabs see this.", "Sam")
    for tab in (page, second):
        await tab.wait_for_selector(".fl-entry-agent >> text=Both tabs see this.")

    # the second tab sends through the first one's connection...
    await say(second, "thanks")
    assert await log_items(page) == await log_items(second)
    # ...and takes the connection over when the first tab closes
    await page.close()
    await second.wait_for_function("FrontlineWidget.instance.isLeader()")
    await second.wait_for_selector(".fl-conn[data-state=online]")
    await say(second, "hello")
    assert customer_texts(stack, session) == [
        "hi",
        "thanks",
        "hello",
    ]
    assert conversation_in_widget(await entries(second)) == conversation_in_tracker(stack, session)
    await screenshot(second, "03-second-tab")


async def test_start_over_clears_the_conversation_and_starts_a_new_session(
    stack: Stack, site: str, context: BrowserContext
) -> None:
    page = await open_chat(context, site)
    await say(page, "hi")
    old_session = await session_id(page)

    await page.click(".fl-start-over")
    assert await in_widget(page, "return root.activeElement.textContent;") == "Yes, start over"
    await page.click("text=Yes, start over")
    await page.wait_for_function(f"FrontlineWidget.instance.sessionId() !== {old_session!r}")
    await page.wait_for_selector(".fl-conn[data-state=online]")
    new_session = await session_id(page)
    assert new_session is not None and len(new_session) == 32
    assert await log_items(page) == []
    await screenshot(page, "04-start-over")

    await say(page, "hi")
    assert customer_texts(stack, new_session) == ["hi"]
    assert customer_texts(stack, old_session) == ["hi"]
    assert await log_items(page) == [{"kind": "user", "text": "hi", "buttons": []}, GREETING_ITEM]


INJECTED = (
    "<img src=x onerror=alert(1)> <script>alert(2)</script> "
    "<a href='javascript:alert(3)'>a</a>\n"
    "[click me](javascript:alert(4)) [data](data:text/html,<b>x</b>) "
    "[spoof](https://brightwave.example@evil.example/)\n"
    "<https://evil.example|Click here> <!channel> <@U123> "
    "![pixel](https://tracker.example/p.gif) [ok](https://help.brightwave.example/a)"
)
INJECTED_HTML = (
    "<p>&lt;img src=x onerror=alert(1)&gt; &lt;script&gt;alert(2)&lt;/script&gt; "
    "&lt;a href='javascript:alert(3)'&gt;a&lt;/a&gt;<br>"
    "[click me](javascript:alert(4)) [data](data:text/html,&lt;b&gt;x&lt;/b&gt;) "
    "[spoof](https://brightwave.example@evil.example/)<br>"
    f'&lt;<a href="https://evil.example/" {LINK}>https://evil.example</a>|Click here&gt; '
    "&lt;!channel&gt; &lt;@U123&gt; "
    f'<a href="https://tracker.example/p.gif" {LINK}>pixel</a> '
    f'<a href="https://help.brightwave.example/a" {LINK}>ok</a></p>'
)


async def test_markup_and_tricks_from_an_agent_or_the_customer_stay_inert(
    stack: Stack, site: str, context: BrowserContext
) -> None:
    page = await open_chat(context, site)
    dialogs = record_dialogs(page)
    await say(page, "<img src=x onerror=alert(5)><script>alert(6)</script>")
    push_agent_message(stack, await session_id(page), INJECTED, "<b>Mallory</b>")
    await page.wait_for_selector(".fl-entry-agent")

    assert await shadow_html(page, ".fl-agent .fl-md") == [INJECTED_HTML]
    assert await shadow_html(page, ".fl-user .fl-plain") == [
        "&lt;img src=x onerror=alert(5)&gt;&lt;script&gt;alert(6)&lt;/script&gt;"
    ]
    assert await page.locator(".fl-agent-name").text_content() == "<b>Mallory</b>Agent"
    for selector in ("img", "script:not([src])", "iframe", "object", "embed", "b"):
        assert await elements_everywhere(page, selector) == 0, selector
    hrefs = await in_widget(page, "return Array.from(root.querySelectorAll('a'), (a) => a.href);")
    assert hrefs == [
        "https://evil.example/",
        "https://tracker.example/p.gif",
        "https://help.brightwave.example/a",
    ]
    assert dialogs == []
    await screenshot(page, "05-injection-inert")


async def test_the_widget_works_with_the_keyboard_alone(
    stack: Stack, site: str, context: BrowserContext
) -> None:
    page = await context.new_page()
    await page.goto(f"{site}/")
    # the page's two links come first, then the widget's launcher
    for _ in range(3):
        await page.keyboard.press("Tab")
    assert await focused(page) == "fl-launcher"
    await page.keyboard.press("Enter")
    assert await focused(page) == "fl-input"
    assert await page.get_attribute(".fl-launcher", "aria-expanded") == "true"
    await page.wait_for_selector(".fl-conn[data-state=online]")

    await page.keyboard.type("hi")
    await page.keyboard.press("Enter")
    await wait_until_sent(page)
    assert (await log_items(page))[-1] == GREETING_ITEM

    for _ in range(10):  # back from the input to the greeting's first button
        await page.keyboard.press("Shift+Tab")
        label = await in_widget(page, "return root.activeElement.textContent;")
        if label == "Where is my order?":
            break
    await page.keyboard.press("Enter")
    await wait_until_sent(page)
    assert await focused(page) == "fl-input"
    assert customer_texts(stack, await session_id(page)) == ["hi", "/order_status"]

    await page.keyboard.press("Escape")
    assert await page.is_hidden(".fl-panel")
    assert await focused(page) == "fl-launcher"
    assert await page.get_attribute(".fl-launcher", "aria-expanded") == "false"


async def test_on_a_narrow_phone_screen_the_open_chat_fills_the_screen(
    stack: Stack, site: str, context: BrowserContext
) -> None:
    page = await open_chat(context, site, width=375, height=667)
    await say(page, "hi")
    assert await page.locator(".fl-panel").bounding_box() == {
        "x": 0,
        "y": 0,
        "width": 375,
        "height": 667,
    }
    assert await page.is_hidden(".fl-launcher")
    overflow = await in_widget(
        page,
        "const scroll = root.querySelector('.fl-scroll');"
        "return scroll.scrollWidth - scroll.clientWidth;",
    )
    assert overflow == 0
    assert (await log_items(page))[-1] == GREETING_ITEM
    await screenshot(page, "06-mobile")
    await page.click(".fl-close")
    assert await page.is_visible(".fl-launcher")


async def test_a_message_typed_offline_is_sent_exactly_once_when_the_network_returns(
    stack: Stack, site: str, context: BrowserContext
) -> None:
    page = await open_chat(context, site)
    await say(page, "hi")
    session = await session_id(page)

    await page.context.set_offline(True)
    await page.wait_for_selector(".fl-conn[data-state=offline]")
    await page.fill(".fl-input", "are you there?")
    await page.press(".fl-input", "Enter")
    await page.wait_for_selector(".fl-entry-user[data-status=pending]")
    assert await page.locator(
        ".fl-entry-user[data-status=pending] .fl-status-text"
    ).text_content() == ("Not sent yet")
    assert await page.locator(".fl-conn").text_content() == (
        "Offline: your messages will be sent when the connection is back"
    )
    await screenshot(page, "07-offline")
    assert customer_texts(stack, session) == ["hi"]

    await page.context.set_offline(False)
    await page.wait_for_selector(".fl-conn[data-state=online]")
    await wait_until_sent(page)
    # one more drop and return: nothing is sent again
    await page.context.set_offline(True)
    await page.wait_for_selector(".fl-conn[data-state=offline]")
    await page.context.set_offline(False)
    await page.wait_for_selector(".fl-conn[data-state=online]")
    await say(page, "hi")
    assert customer_texts(stack, session) == ["hi", "are you there?", "hi"]
    assert conversation_in_widget(await entries(page)) == conversation_in_tracker(stack, session)


async def test_an_agent_reply_sent_while_no_tab_was_open_is_shown_when_the_page_opens(
    stack: Stack, site: str, context: BrowserContext
) -> None:
    page = await open_chat(context, site)
    await say(page, "hi")
    session = await session_id(page)
    await page.close()  # no tab of the site is open now
    response = push_agent_message(stack, session, "Sorry for the wait, I'm **Alex**.", "Alex")
    assert response.status_code == 200

    page = await context.new_page()
    await page.goto(f"{site}/")
    # online once the server's history is in the store
    await page.wait_for_selector(".fl-conn[data-state=online]", state="attached")
    assert await page.locator(".fl-badge").text_content() == "1"
    assert await page.get_attribute(".fl-launcher", "aria-label") == "Open chat (1 new)"
    await page.click(".fl-launcher")
    first_shown = await in_widget(
        page, "return root.querySelector('.fl-scroll').firstElementChild.textContent;"
    )
    assert first_shown == INTRO
    assert await log_items(page) == [
        {"kind": "user", "text": "hi", "buttons": []},
        GREETING_ITEM,
        {"kind": "agent_message", "text": "Sorry for the wait, I'm Alex.", "buttons": []},
    ]
    assert await page.locator(".fl-agent-name").text_content() == "AlexAgent"
    assert await shadow_html(page, ".fl-agent .fl-md") == [
        "<p>Sorry for the wait, I'm <strong>Alex</strong>.</p>"
    ]
    assert await page.locator(".fl-mode").text_content() == "Chatting with Alex"
    assert (await colours(page, ".fl-agent"))[1] != (await colours(page, ".fl-bot"))[1]
    assert await session_id(page) == session
    assert conversation_in_widget(await entries(page)) == conversation_in_tracker(stack, session)
    await screenshot(page, "12-history-while-away")


async def test_a_clicked_button_shows_its_title_after_a_reload_though_the_server_has_its_payload(
    stack: Stack, site: str, context: BrowserContext
) -> None:
    page = await open_chat(context, site)
    await say(page, "hi")
    await page.click(".fl-choice >> text=Where is my order?")
    await wait_until_sent(page)
    shown = await log_items(page)
    assert shown[2] == {"kind": "user", "text": "Where is my order?", "buttons": []}
    session = await session_id(page)

    calls = record_socket_io(page)
    await page.reload()
    await page.wait_for_selector(".fl-conn[data-state=online]")
    assert await log_items(page) == shown
    kept = await entries(page)
    said, clicked = [entry for entry in kept if entry["from"] == "user"]
    assert (clicked["text"], clicked["payload"], clicked["status"]) == (
        "Where is my order?",
        "/order_status",
        "sent",
    )
    # the history the widget asked for has what was sent: the payload
    [request] = [call for call in calls if call.event == "history_request"]
    assert request.data == {"session_id": session}
    assert request.ack["status"] == "ok"
    assert len(request.ack["messages"]) == len(kept)
    assert [
        {key: value for key, value in message.items() if key != "ts"}
        for message in request.ack["messages"]
        if message["from"] == "user"
    ] == [
        {"from": "user", "text": "hi", "message_id": said["id"]},
        {"from": "user", "text": "/order_status", "message_id": clicked["id"]},
    ]
    assert [call.event for call in calls] == ["session_request", "history_request"]


# ------------------------------------------------------------ the renderer


@pytest_asyncio.fixture(loop_scope="module")
async def preview(context: BrowserContext) -> Page:
    page = await open_preview(context)
    await page.click(".fl-launcher")
    return page


async def test_markdown_becomes_paragraphs_lists_emphasis_and_safe_links(preview: Page) -> None:
    await receive(
        preview,
        {
            "text": "# Returns\nYou can return **unused** devices within *30 days*:\n"
            "1. Open `Orders`\n2. Pick the item\n\n- free label\n- refund in 5 days\n"
            "Details: https://help.brightwave.example/articles/returns. "
            "Mail [us](mailto:help@example.com)."
        },
    )
    assert await shadow_html(preview, ".fl-bot .fl-md") == [
        "<p><strong>Returns</strong></p>"
        "<p>You can return <strong>unused</strong> devices within <em>30 days</em>:</p>"
        "<ol><li>Open <code>Orders</code></li><li>Pick the item</li></ol>"
        "<ul><li>free label</li><li>refund in 5 days</li></ul>"
        "<p>Details: "
        f'<a href="https://help.brightwave.example/articles/returns" {LINK}>'
        "https://help.brightwave.example/articles/returns</a>. Mail "
        f'<a href="mailto:help@example.com" {LINK}>us</a>.</p>'
    ]


async def test_a_markdown_table_becomes_a_table_not_pipes(preview: Page) -> None:
    """Failure class 10 of issue 23: help-center tables reached the widget as
    raw pipes. A sentence with a pipe in it stays a sentence."""
    await receive(
        preview,
        {
            "text": "Requirements:\n\n| | Android | iPhone |\n|---|:---|---:|\n"
            "| System | **Android 10** or later | iOS 16 |\n| Store | `a|b` | \\| App Store\n\n"
            "Sizes: S | M | L, ask us."
        },
    )
    assert await shadow_html(preview, ".fl-bot .fl-md") == [
        "<p>Requirements:</p>"
        '<div class="fl-table"><table><thead><tr><th scope="col"></th>'
        '<th scope="col">Android</th><th scope="col">iPhone</th></tr></thead>'
        "<tbody><tr><td>System</td><td><strong>Android 10</strong> or later</td>"
        "<td>iOS 16</td></tr>"
        "<tr><td>Store</td><td><code>a|b</code></td><td>| App Store</td></tr></tbody></table></div>"
        "<p>Sizes: S | M | L, ask us.</p>"
    ]


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("<img src=x onerror=alert(1)>", "<p>&lt;img src=x onerror=alert(1)&gt;</p>"),
        ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
        ("[x](javascript:alert(1))", "<p>[x](javascript:alert(1))</p>"),
        ("[x](JaVaScRiPt:alert(1))", "<p>[x](JaVaScRiPt:alert(1))</p>"),
        ("[x](java\tscript:alert(1))", "<p>[x](java\tscript:alert(1))</p>"),
        ("[x](vbscript:msgbox(1))", "<p>[x](vbscript:msgbox(1))</p>"),
        (
            "[x](data:text/html;base64,PHNjcmlwdD4=)",
            "<p>[x](data:text/html;base64,PHNjcmlwdD4=)</p>",
        ),
        ("[x](https://a.example\\@evil.example)", "<p>[x](https://a.example\\@evil.example)</p>"),
        (
            '[x](https://a.example/"onmouseover="alert(1))',
            f'<p><a href="https://a.example/%22onmouseover=%22alert(1)" {LINK}>x</a></p>',
        ),
        ("**<b>bold</b>**", "<p><strong>&lt;b&gt;bold&lt;/b&gt;</strong></p>"),
        ("&lt;script&gt;", "<p>&amp;lt;script&amp;gt;</p>"),
        ("<!here> *<@U1|admin>*", "<p>&lt;!here&gt; <em>&lt;@U1|admin&gt;</em></p>"),
        ("\u202eexe.txt", "<p>exe.txt</p>"),
    ],
)
async def test_unsafe_markup_and_links_from_the_bot_are_shown_as_text(
    preview: Page, text: str, html: str
) -> None:
    dialogs = record_dialogs(preview)
    await receive(preview, {"text": text})
    assert await shadow_html(preview, ".fl-bot .fl-md") == [html]
    assert await elements_everywhere(preview, "img, script:not([src]):not([data-preview]), b") == 0
    assert dialogs == []


async def test_an_article_card_shows_title_passage_and_links(preview: Page) -> None:
    await receive(
        preview,
        {
            "text": "Reset your password: https://help.brightwave.example/articles/reset-password",
            "custom": {
                "type": "article",
                "title": "Reset your password",
                "url": "https://help.brightwave.example/articles/reset-password",
                "passage": "Open the app, tap **Account** and then *Reset password*.",
                "source": "Help center",
                "related": [
                    {
                        "title": "Can't sign in",
                        "url": "https://help.brightwave.example/articles/cant-sign-in",
                    },
                    {"title": "Bad link", "url": "javascript:alert(1)"},
                ],
            },
            "buttons": [{"title": "That helped", "payload": "/affirm"}],
        },
    )
    url = "https://help.brightwave.example/articles/reset-password"
    assert await shadow_html(preview, ".fl-card") == [
        f'<h3 class="fl-card-title"><a href="{url}" {LINK}>Reset your password</a></h3>'
        '<p class="fl-card-source">Help center</p>'
        '<div class="fl-md fl-card-passage"><p>Open the app, tap <strong>Account</strong> '
        "and then <em>Reset password</em>.</p></div>"
        f'<a href="{url}" {LINK} class="fl-card-more">Read the article'
        '<span class="fl-sr">: Reset your password</span></a>'
        '<p class="fl-card-related-title">Related articles</p>'
        '<ul class="fl-card-related"><li><a href="https://help.brightwave.example/articles/'
        f"cant-sign-in\" {LINK}>Can't sign in</a></li></ul>"
    ]
    assert (await log_items(preview))[0]["buttons"] == ["That helped"]
    await screenshot(preview, "08-article-card")


HANDOFF: list[dict[str, Any]] = [
    {
        "text": "Connecting you...",
        "custom": {"type": "handoff_queued", "tier": 2, "team": "Tier 2", "wait_minutes": 5},
    },
    {"custom": {"type": "agent_joined", "agent": {"name": "Alex"}}},
    {
        "text": "Hi, Alex here.",
        "custom": {
            "type": "agent_message",
            "agent": {"name": "Alex"},
            "text": "Hi, Alex here. Let me check your order.",
        },
    },
    {"custom": {"type": "agent_left", "agent": {"name": "Alex"}}},
    {"custom": {"type": "bot_resumed"}},
]


async def test_the_handoff_shows_each_state_change_and_who_is_talking(preview: Page) -> None:
    modes = []
    for message in HANDOFF:
        await receive(preview, message)
        modes.append(await preview.locator(".fl-mode").text_content())
        if message["custom"]["type"] == "agent_message":
            await screenshot(preview, "09-handoff-agent")
    assert modes == [
        "Waiting for our Tier 2 team",
        "Chatting with Alex",
        "Chatting with Alex",
        "",
        "",
    ]
    assert [(item["kind"], item["text"]) for item in await log_items(preview)] == [
        ("handoff_queued", "Connecting you to our Tier 2 team… Usual wait: 5 min."),
        ("agent_joined", "Alex joined the conversation"),
        ("agent_message", "Hi, Alex here. Let me check your order."),
        ("agent_left", "Alex left the conversation"),
        ("bot_resumed", "The assistant is back."),
    ]
    await receive(preview, {"custom": {"type": "handoff_queued", "tier": 3, "wait_minutes": 1}})
    assert (await log_items(preview))[-1]["text"] == (
        "Connecting you to our Tier 3 team… Usual wait: about a minute."
    )


CLOSED = (
    "Our Customer care is offline right now. Your request is saved and they will pick it up "
    "when they're back (Wednesday 08:00 CET). You can keep writing here and they will see it."
)


async def test_a_team_that_is_closed_now_is_not_shown_with_a_usual_wait(preview: Page) -> None:
    # what action_handoff sends outside the queue's hours (actions/handoff.py)
    await receive(
        preview,
        {
            "text": CLOSED,
            "custom": {
                "type": "handoff_queued",
                "tier": 2,
                "team": "Customer care",
                "wait_minutes": 10,
                "open_now": False,
                "opens_at": "2026-11-25T08:00:00+01:00",
            },
        },
    )
    assert await preview.locator(".fl-mode").text_content() == "Waiting for our Customer care team"
    assert await log_items(preview) == [{"kind": "handoff_queued", "text": CLOSED, "buttons": []}]


async def test_csat_buttons_send_the_score_and_then_thank_the_customer(preview: Page) -> None:
    await receive(preview, {"text": "Rate us", "custom": {"type": "csat_request"}})
    labels = await in_widget(
        preview,
        "return Array.from(root.querySelectorAll('.fl-csat-score'),"
        " (b) => b.getAttribute('aria-label'));",
    )
    assert labels == ["1: Very poor", "2: Poor", "3: OK", "4: Good", "5: Excellent"]
    await preview.click(".fl-csat-score >> text=4")
    kept = await entries(preview)
    assert [(e["from"], e.get("text"), e.get("payload"), e.get("status")) for e in kept] == [
        ("bot", None, None, None),
        ("user", "Rated 4 out of 5", '/csat{"score": 4}', "pending"),
    ]
    pressed = await in_widget(
        preview,
        "return Array.from(root.querySelectorAll('.fl-csat-score'),"
        " (b) => [b.disabled, b.getAttribute('aria-pressed')]);",
    )
    assert pressed == [[True, "false"]] * 3 + [[True, "true"], [True, "false"]]
    assert await preview.locator(".fl-csat-thanks").text_content() == (
        "Thank you for your rating! You can add a comment below if you like."
    )
    assert await focused(preview) == "fl-input"
    await screenshot(preview, "10-csat")


async def test_quick_replies_go_once_answered_and_url_buttons_are_links(preview: Page) -> None:
    await receive(
        preview,
        {
            "text": "Anything else?",
            "quick_replies": [
                {"content_type": "text", "title": "No, thanks", "payload": "/deny"},
                {"title": "Track it", "url": "https://track.example/BW-104233"},
                {"title": "Evil", "url": "javascript:alert(1)"},
            ],
        },
    )
    assert await shadow_html(preview, ".fl-quick-replies") == [
        '<button type="button" class="fl-choice">No, thanks</button>'
        f'<a href="https://track.example/BW-104233" {LINK} class="fl-choice fl-choice-link">'
        "Track it</a>"
    ]
    await preview.click("text=No, thanks")
    assert await preview.is_hidden(".fl-quick-replies")
    assert [(e["from"], e.get("payload")) for e in await entries(preview)] == [
        ("bot", None),
        ("user", "/deny"),
    ]


async def test_the_trouble_notice_is_shown_in_its_warning_style(preview: Page) -> None:
    await receive(
        preview,
        {
            "text": "Sorry, something went wrong on our side and I couldn't answer that.",
            "custom": {"type": "service_trouble"},
        },
    )
    assert await log_items(preview) == [
        {
            "kind": "service_trouble",
            "text": "Sorry, something went wrong on our side and I couldn't answer that.",
            "buttons": [],
        }
    ]
    assert await colours(preview, ".fl-trouble") == ("rgb(122, 23, 18)", "rgb(253, 236, 234)")


async def test_every_kind_of_text_meets_the_contrast_minimum(preview: Page) -> None:
    await receive(
        preview,
        *HANDOFF[:3],
        {
            "text": "A [link](https://x.example)",
            "buttons": [{"title": "Yes", "payload": "/affirm"}],
        },
    )
    await preview.fill(".fl-input", "my question")
    await preview.press(".fl-input", "Enter")
    ratios = {}
    for selector in (
        ".fl-title", ".fl-user", ".fl-bot", ".fl-bot a", ".fl-agent", ".fl-agent-name",
        ".fl-agent-tag", ".fl-notice", ".fl-time", ".fl-status-text", ".fl-choice", ".fl-input",
    ):  # fmt: skip
        ratios[selector] = contrast(*await colours(preview, selector))
    assert {selector: ratio >= 4.5 for selector, ratio in ratios.items()} == dict.fromkeys(
        ratios, True
    ), ratios


async def test_embed_options_set_title_greeting_colours_language_and_side(
    context: BrowserContext,
) -> None:
    page = await open_preview(
        context,
        title="Kundenservice",
        greeting="Hallo! Wie können wir helfen?",
        language="de",
        position="left",
        primaryColor="#FFCC00",
    )
    assert await page.get_attribute(".fl-launcher", "aria-label") == "Chat öffnen"
    await page.click(".fl-launcher")
    assert await page.locator(".fl-title").text_content() == "Kundenservice"
    assert await page.locator(".fl-greeting").text_content() == "Hallo! Wie können wir helfen?"
    assert await page.get_attribute(".fl-input", "placeholder") == "Nachricht eingeben…"
    # a light brand colour gets dark text
    assert await colours(page, ".fl-title") == ("rgb(17, 17, 17)", "rgb(255, 204, 0)")
    box = await page.locator(".fl-launcher").bounding_box()
    assert box is not None and box["x"] == 16


# A socket that records what the widget emits and answers only when told to
# (window.answer(ack)): the states between a message and its acknowledgement.
HELD_SOCKET = """
window.emitted = [];
window.socketFactory = () => {
  const handlers = {};
  const socket = {
    connected: false,
    io: { on() {} },
    on(event, handler) { handlers[event] = handler; },
    emit(event, data) {
      window.emitted.push([event, data]);
      if (event === 'session_request') handlers.session_confirm('ab'.repeat(16));
    },
    timeout() {
      return { emitWithAck(event, data) {
        window.emitted.push([event, data]);
        if (event === 'history_request') return Promise.resolve({status: 'ok', messages: []});
        return new Promise((resolve) => { window.answer = resolve; });
      } };
    },
    connect() { socket.connected = true; handlers.connect(); },
    disconnect() { socket.connected = false; },
  };
  setTimeout(() => socket.connect());
  return socket;
};
"""


async def test_typing_shows_until_the_server_acknowledges_and_a_rejected_message_can_be_retried(
    context: BrowserContext,
) -> None:
    page = await open_preview(context, HELD_SOCKET, serverUrl="http://chat.test")
    await page.click(".fl-launcher")
    await page.wait_for_selector(".fl-conn[data-state=online]")
    await page.fill(".fl-input", "where is my parcel?")
    await page.press(".fl-input", "Enter")
    await page.wait_for_selector(".fl-typing:not([hidden])")
    assert await page.locator(".fl-typing").text_content() == "The assistant is typing…"
    assert await page.locator(".fl-status-text").text_content() == "Sending…"
    await screenshot(page, "11-typing")
    [entry] = await entries(page)
    message = {
        "session_id": "ab" * 16,
        "message": "where is my parcel?",
        "message_id": entry["id"],
        "metadata": {"language": "en"},
    }
    assert await page.evaluate("window.emitted") == [
        ["session_request", {"session_id": None}],
        ["history_request", {"session_id": "ab" * 16}],
        ["user_uttered", message],
    ]

    await page.evaluate("window.answer({status: 'rejected', reason: 'too long'})")
    await page.wait_for_selector(".fl-entry-user[data-status=failed]")
    assert await page.is_hidden(".fl-typing")
    assert await page.locator(".fl-status-text").text_content() == "Not delivered"
    await page.click(".fl-retry")
    await page.wait_for_selector(".fl-typing:not([hidden])")
    await page.evaluate("window.answer({status: 'accepted'})")
    await page.wait_for_selector(".fl-entry-user[data-status=sent]")
    assert await page.is_hidden(".fl-typing")
    assert await page.locator(".fl-status-text").text_content() == ""
    # the retry went out with the same id: the server would drop a repeat
    assert (await page.evaluate("window.emitted"))[2:] == [
        ["user_uttered", message],
        ["user_uttered", message],
    ]


# A socket that plays a small server: it keeps the conversation as the channel's
# history would give it, answers every message ("!..." is rejected), and can be
# dropped (window.drop()) and brought back (window.back()); window.server.push
# adds a bot message that reaches no browser (sent while the socket was away).
SERVER_SOCKET = """
const server = {messages: [], emitted: []};
window.server = server;
const now = () => Date.now() / 1000;
server.push = (message) => server.messages.push({from: 'bot', ts: now(), message});
server.answer = (text) => text === '/track'
  ? {text: 'It is on its way.'}
  : {text: 'Hi! What can I do?', buttons: [{title: 'Track my parcel', payload: '/track'}]};
window.socketFactory = () => {
  const handlers = {};
  const socket = {
    connected: false,
    io: { on() {} },
    on(event, handler) { handlers[event] = handler; },
    emit(event, data) {
      server.emitted.push(event);
      if (event === 'session_request') handlers.session_confirm('cd'.repeat(16));
    },
    timeout() {
      return { emitWithAck(event, data) {
        server.emitted.push(event);
        if (!socket.connected) return Promise.reject(new Error('disconnected'));
        if (event === 'history_request') {
          return Promise.resolve({status: 'ok', messages: server.messages.slice()});
        }
        if (data.message.startsWith('!')) return Promise.resolve({status: 'rejected'});
        server.messages.push(
          {from: 'user', ts: now(), text: data.message, message_id: data.message_id});
        const answer = server.answer(data.message);
        server.push(answer);
        handlers.bot_uttered(answer);
        return Promise.resolve({status: 'accepted', message_id: data.message_id});
      } };
    },
    connect() { socket.connected = true; handlers.connect(); },
    disconnect() { socket.connected = false; handlers.disconnect(); },
  };
  window.drop = () => socket.disconnect();
  window.back = () => socket.connect();
  setTimeout(() => socket.connect());
  return socket;
};
"""


async def test_the_servers_history_is_merged_keeping_titles_unsent_messages_and_shown_nodes(
    context: BrowserContext,
) -> None:
    page = await open_preview(context, SERVER_SOCKET, serverUrl="http://chat.test")
    await page.click(".fl-launcher")
    await page.wait_for_selector(".fl-conn[data-state=online]")
    await say(page, "hello")
    await page.click(".fl-choice >> text=Track my parcel")
    await wait_until_sent(page)
    await say_only(page, "!refused")
    await page.wait_for_selector(".fl-entry-user[data-status=failed]")

    await page.evaluate("window.drop()")
    await page.wait_for_selector(".fl-conn[data-state=connecting]")
    await say_only(page, "are you there?")
    await in_widget(page, "window.shown = Array.from(root.querySelectorAll('.fl-entry'));")
    await page.evaluate(
        """server.push({text: 'Back in a minute.', custom: {type: 'agent_message',
            agent: {name: 'Alex'}, text: 'Back in a minute.'}})"""
    )
    await page.evaluate("window.back()")
    await page.wait_for_function(
        "FrontlineWidget.instance.entries().every((entry) => entry.status !== 'pending')"
    )
    assert await log_items(page) == [
        {"kind": "user", "text": "hello", "buttons": []},
        {"kind": "text", "text": "Hi! What can I do?", "buttons": ["Track my parcel"]},
        {"kind": "user", "text": "Track my parcel", "buttons": []},
        {"kind": "text", "text": "It is on its way.", "buttons": []},
        {"kind": "user", "text": "!refused", "buttons": []},
        {"kind": "agent_message", "text": "Back in a minute.", "buttons": []},
        {"kind": "user", "text": "are you there?", "buttons": []},
        {"kind": "text", "text": "Hi! What can I do?", "buttons": ["Track my parcel"]},
    ]
    assert [(entry.get("payload"), entry.get("status")) for entry in await entries(page)] == [
        (None, "sent"),
        (None, None),
        ("/track", "sent"),
        (None, None),
        (None, "failed"),
        (None, None),
        (None, "sent"),
        (None, None),
    ]
    # what was shown before keeps its node (the unsent message moved): nothing is
    # announced again
    kept_nodes = await in_widget(
        page,
        "const now = Array.from(root.querySelectorAll('.fl-entry'));"
        "return window.shown.map((node) => now.indexOf(node));",
    )
    assert kept_nodes == [0, 1, 2, 3, 4, 6]
    assert await page.evaluate("server.emitted") == [
        "session_request",
        "history_request",
        "user_uttered",
        "user_uttered",
        "user_uttered",
        "session_request",
        "history_request",
        "user_uttered",
    ]


# A socket that plays the channel's sessions: a new session comes with a resume
# token, and only a session_request with that token resumes it (window.forget()
# plays a server whose key changed). Every session_request is kept.
RESUMING_SOCKET = """
const server = {requests: [], tokens: {}, next: 0};
window.server = server;
window.socketFactory = () => {
  const handlers = {};
  const socket = {
    connected: false,
    io: { on() {} },
    on(event, handler) { handlers[event] = handler; },
    emit(event, data) {
      if (event !== 'session_request') return;
      server.requests.push(data);
      const asked = data.session_id;
      const resumed = asked !== null && server.tokens[asked] === data.resume_token;
      let id = asked;
      if (!resumed) {
        server.next += 1;
        id = String(server.next).repeat(32);
        server.tokens[id] = 'token-' + server.next;
      }
      handlers.session_confirm(id, {resume_token: server.tokens[id], resumed});
    },
    timeout() {
      return { emitWithAck(event, data) {
        if (event === 'history_request') return Promise.resolve({status: 'ok', messages: []});
        handlers.bot_uttered({text: 'Hi!'});
        return Promise.resolve({status: 'accepted', message_id: data.message_id});
      } };
    },
    connect() { socket.connected = true; handlers.connect(); },
    disconnect() { socket.connected = false; handlers.disconnect(); },
  };
  window.drop = () => socket.disconnect();
  window.back = () => socket.connect();
  window.forget = () => { server.tokens = {}; };
  setTimeout(() => socket.connect());
  return socket;
};
"""


async def reconnect(page: Page) -> None:
    await page.evaluate("window.drop()")
    await page.wait_for_selector(".fl-conn[data-state=connecting]")
    await page.evaluate("window.back()")
    await page.wait_for_selector(".fl-conn[data-state=online]")


async def test_the_session_is_resumed_with_the_token_the_server_gave_it(
    context: BrowserContext,
) -> None:
    page = await open_preview(context, RESUMING_SOCKET, serverUrl="http://chat.test")
    await page.click(".fl-launcher")
    await page.wait_for_selector(".fl-conn[data-state=online]")
    await say(page, "hello")
    assert await session_id(page) == "1" * 32

    await reconnect(page)
    assert await session_id(page) == "1" * 32
    assert await log_items(page) == [
        {"kind": "user", "text": "hello", "buttons": []},
        {"kind": "text", "text": "Hi!", "buttons": []},
    ]

    # the server no longer knows the token (its key changed): a new conversation
    await page.evaluate("window.forget()")
    await reconnect(page)
    assert await session_id(page) == "2" * 32
    assert await log_items(page) == []
    await reconnect(page)
    assert await page.evaluate("server.requests") == [
        {"session_id": None},
        {"session_id": "1" * 32, "resume_token": "token-1"},
        {"session_id": "1" * 32, "resume_token": "token-1"},
        {"session_id": "2" * 32, "resume_token": "token-2"},
    ]


async def test_messages_arriving_while_closed_are_counted_on_the_launcher(
    context: BrowserContext,
) -> None:
    page = await open_preview(context)
    await receive(page, {"text": "one"}, {"text": "two"})
    assert await page.locator(".fl-badge").text_content() == "2"
    assert await page.get_attribute(".fl-launcher", "aria-label") == "Open chat (2 new)"
    await page.click(".fl-launcher")
    assert await page.is_hidden(".fl-badge")
    assert await page.get_attribute(".fl-launcher", "aria-label") == "Close chat"
    await page.reload()  # what was already seen is not counted again
    await page.wait_for_function("FrontlineWidget.instance.isLeader()")
    assert await page.is_hidden(".fl-badge")


async def test_the_kept_history_is_bounded_to_the_newest_entries(preview: Page) -> None:
    await receive(preview, *({"text": f"m{i}"} for i in range(205)))
    kept = await entries(preview)
    assert [entry["message"]["text"] for entry in kept] == [f"m{i}" for i in range(5, 205)]
    assert len(await log_items(preview)) == 200
