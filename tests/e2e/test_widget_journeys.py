"""Whole customer journeys in the widget, in a real browser (Debian's Chromium,
driven by Playwright), against the whole stack started here: the action server,
Rasa, the handoff service and the demo site, with this module's own demo
company, a real SMTP server (aiosmtpd) for the emails, and the imitation of
Slack; agents' clicks and thread replies reach the handoff service as signed
Slack requests. Every queue is open around the clock here, so what the customer
is told does not depend on the time the tests run.

Screenshots of the main states go to var/artifacts/screenshots/ (13-...)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import pytest_asyncio
import sqlalchemy as sa
import yaml
from playwright.async_api import Browser, BrowserContext, Page

from actions import BackendSettings
from core.database import create_engine
from handoff.settings import DEFAULT_ROUTING
from handoff.store import Escalation, EscalationStore
from kb_index.tables import feedback
from launcher.stack import Stack
from tests.actions.backends.servers import Inbox, Received, SmtpServer
from tests.actions.tier1.helpers import body
from tests.e2e.browser import (
    SHADOW,
    chromium,
    colours,
    elements_everywhere,
    entries,
    in_widget,
    log_items,
    new_context,
    record_dialogs,
    screenshot,
    session_id,
    shadow_html,
    wait_until_sent,
)
from tests.e2e.conftest import stack_settings
from tests.e2e.test_handoff_slack import (
    ALEX,
    SAM,
    SECRET,
    click,
    prepare,
    texts,
    thread_event,
)
from tests.e2e.test_widget_browser import LINK, open_chat, say
from tests.handoff.mock_slack import MockSlack

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

T = TypeVar("T")
# How long anything that happens in another process may take to show up.
WAIT_SECONDS = 60.0
GENERAL = "C0GENERAL"  # "#support-tier2": the queue of an explicit request for a person
HELP = "https://help.brightwave.example/articles/"
EMMA = "emma.devries@example.com"
ASK_EMAIL = (
    "To keep your account safe I first need to check who you are. What's the email address "
    "of your Brightwave account?"
)
ASK_ORDER = (
    "Thanks. What's the number of one of your orders with that email address? It looks like "
    "BW-104233. No order number at hand? I can email you a one-time code instead."
)
FEEDBACK_ITEM = {
    "kind": "text",
    "text": "Did this answer your question?",
    "buttons": ["Yes, thanks", "No"],
}
QUEUED = "Connecting you to our Customer care team… Usual wait: 10 min."


async def eventually(check: Callable[[], T | None], what: str, timeout: float = WAIT_SECONDS) -> T:
    """Waits until ``check()`` returns something truthy (work done by another
    process), and returns it; fails naming ``what`` after a generous time."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what} after {timeout:.0f}s")
        await asyncio.sleep(0.1)


def always_open(path: Path) -> Path:
    """The product's routing, with every schedule open every day, all day."""
    routing = yaml.safe_load(DEFAULT_ROUTING.read_text())
    for name, schedule in routing["schedules"].items():
        routing["schedules"][name] = {
            "timezone": schedule["timezone"],
            **dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), "00:00-24:00"),
        }
    path.write_text(yaml.safe_dump(routing))
    return path


# ------------------------------------------------------------------ the stack


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    server = SmtpServer(inbox)
    server.start()
    try:
        yield inbox, server.port
    finally:
        server.stop()


@pytest.fixture(scope="module")
def slack() -> Iterator[MockSlack]:
    with MockSlack() as server:
        prepare(server)
        server.set_members(GENERAL, [ALEX, SAM])
        yield server


@pytest.fixture(scope="module")
def whole_stack(
    model: Path,
    tmp_path_factory: pytest.TempPathFactory,
    smtp: tuple[Inbox, int],
    slack: MockSlack,
) -> Iterator[Stack]:
    var = tmp_path_factory.mktemp("journeys")
    routing = str(always_open(var / "routing.yml"))
    backend = BackendSettings(_env_file=None, smtp_url=f"smtp://127.0.0.1:{smtp[1]}")
    running = Stack(stack_settings(var), backend)
    running.migrate()
    running.refresh_kb()
    actions = running.actions_service()
    actions.env["FRONTLINE_ACTIONS_HANDOFF_ROUTING"] = routing
    handoff = running.handoff_service()
    handoff.env.update(
        {
            "SLACK_BOT_TOKEN": slack.token,
            "SLACK_SIGNING_SECRET": SECRET,
            "FRONTLINE_HANDOFF_SLACK_API_URL": slack.url,
            "FRONTLINE_HANDOFF_ROUTING": routing,
        }
    )
    try:
        running.start([actions, running.rasa_service(model), handoff, running.site_service()])
        yield running
    finally:
        running.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as running:
        yield running


@pytest_asyncio.fixture(loop_scope="module")
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    fresh = await new_context(browser)
    yield fresh
    await fresh.close()


@pytest_asyncio.fixture(loop_scope="module")
async def page(whole_stack: Stack, context: BrowserContext) -> Page:
    """The demo shop with the chat open, after "hi" and the bot's greeting."""
    opened = await open_chat(context, whole_stack.site_url)
    await say(opened, "hi")
    return opened


# ------------------------------------------------------------------ helpers


async def choose(page: Page, title: str) -> None:
    """Clicks the button ``title`` of the newest bot message and waits until sent."""
    await page.locator(".fl-entry-bot .fl-choice", has_text=title).last.click()
    await wait_until_sent(page)


async def card(page: Page, index: int = -1) -> dict[str, Any]:
    """What an article card shows: its title and links, passage, source, related."""
    result: dict[str, Any] = await in_widget(
        page,
        """
        const card = Array.from(root.querySelectorAll('.fl-card')).at(arg);
        const link = (a) => a && [a.textContent, a.getAttribute('href')];
        const more = card.querySelector('.fl-card-more').cloneNode(true);
        more.querySelectorAll('.fl-sr').forEach((label) => label.remove());
        return {
            title: link(card.querySelector('.fl-card-title a')),
            source: card.querySelector('.fl-card-source').textContent,
            passage: card.querySelector('.fl-card-passage').innerText,
            more: [more.textContent, more.getAttribute('href')],
            related: Array.from(card.querySelectorAll('.fl-card-related a'), link),
        };
        """,
        index,
    )
    return result


async def article_messages(page: Page) -> list[dict[str, Any]]:
    """The article messages the widget received, as the action server sent them."""
    return [
        entry["message"]["custom"]
        for entry in await entries(page)
        if entry["from"] == "bot"
        and (entry["message"].get("custom") or {}).get("type") == "article"
    ]


def shown_card(article: dict[str, Any]) -> dict[str, Any]:
    """What the card of ``article`` must show (its passage as plain text)."""
    return {
        "title": [article["title"], article["url"]],
        "source": article["source"],
        "passage": words(article["passage"], markdown=True),
        "more": ["Read the article", article["url"]],
        "related": [[related["title"], related["url"]] for related in article["related"]],
    }


def words(text: str, markdown: bool = False) -> list[str]:
    """The words of ``text`` in order; of Markdown, as shown: without heading
    and list markers (bold lines, list items) and link targets (the label is
    the link)."""
    if markdown:
        text = re.sub(r"^\s*(?:[-*+]|\d+\.|#{1,6})\s+", "", text, flags=re.M)
        text = re.sub(r"\[([^\]]+)\]\((?:https?|mailto):[^)\s]+\)", r"\1", text)
    return re.sub(r"[*`]", "", text).split()


def feedback_rows(stack: Stack, conversation: str) -> list[tuple[list[str], bool]]:
    engine = sa.create_engine(stack.settings.app_database_url)
    query = sa.select(feedback.c.doc_ids_shown, feedback.c.helpful).where(
        feedback.c.conversation_id == conversation
    )
    try:
        with engine.connect() as connection:
            rows = connection.execute(query.order_by(feedback.c.id)).all()
    finally:
        engine.dispose()
    return [(list(row[0]), bool(row[1])) for row in rows]


def mails(inbox: Inbox, address: str, subject: str) -> list[Received]:
    return [
        received
        for received in inbox.received
        if received.rcpt_tos == [address] and received.message["Subject"] == subject
    ]


def escalations(stack: Stack, conversation: str) -> list[Escalation]:
    engine = create_engine(stack.settings.app_database_url)
    try:
        return EscalationStore(engine).for_conversation(conversation)
    finally:
        engine.dispose()


def posted(stack: Stack, conversation: str) -> Escalation | None:
    """The conversation's escalation once its card is in Slack."""
    found = escalations(stack, conversation)
    return found[0] if found and found[0].slack_ts else None


def thread_says(slack: MockSlack, escalation: Escalation, words: str) -> list[dict[str, Any]]:
    assert escalation.slack_channel is not None and escalation.slack_ts is not None
    return [
        reply
        for reply in slack.replies(escalation.slack_channel, escalation.slack_ts)
        if words in texts(reply.get("blocks", [])) or words in reply.get("text", "")
    ]


async def mode(page: Page) -> str | None:
    return await page.locator(".fl-mode").text_content()


# ------------------------------------------------------------ knowledge base


async def test_a_help_center_answer_shows_the_passage_its_card_and_link_then_yes_is_thanked(
    whole_stack: Stack, page: Page
) -> None:
    await say(page, "how many days do I have to send something back?")
    items = await log_items(page)
    assert [item["kind"] for item in items[-3:]] == ["user", "article", "text"]
    assert items[-1] == FEEDBACK_ITEM

    [article] = await article_messages(page)
    assert (article["doc_id"], article["url"]) == ("return-policy", f"{HELP}return-policy")
    shown = await card(page)
    shown["passage"] = words(shown["passage"])
    expected = shown_card(article)
    assert " ".join(shown["passage"]) == " ".join(expected["passage"])
    assert shown == expected
    assert "30 days" in " ".join(shown["passage"])
    assert all(url.startswith(HELP) for _, url in shown["related"])
    assert len(shown["related"]) <= 2
    # the article's links open outside the chat, safely
    assert await shadow_html(page, ".fl-card-title") == [
        f'<a href="{article["url"]}" {LINK}>{article["title"]}</a>'
    ]
    await screenshot(page, "13-kb-answer")

    await choose(page, "Yes, thanks")
    assert (await log_items(page))[-2:] == [
        {"kind": "user", "text": "Yes, thanks", "buttons": []},
        {"kind": "text", "text": "Great! Is there anything else I can help with?", "buttons": []},
    ]
    # the feedback buttons were used: they cannot be pressed again
    assert await page.locator(".fl-entry-bot .fl-choice", has_text="No").last.is_disabled()
    assert feedback_rows(whole_stack, await session_id(page)) == [(["return-policy"], True)]


async def test_no_to_a_help_center_answer_shows_the_next_article_and_asks_again(
    whole_stack: Stack, page: Page
) -> None:
    await say(page, "how many days do I have to send something back?")
    [first] = await article_messages(page)
    assert first["related"], "the return policy has related articles to offer next"

    await choose(page, "No")
    items = await log_items(page)
    assert items[-4] == {"kind": "user", "text": "No", "buttons": []}
    assert items[-3] == {
        "kind": "text",
        "text": "Sorry about that. Maybe this article helps:",
        "buttons": [],
    }
    assert (items[-2]["kind"], items[-1]) == ("article", FEEDBACK_ITEM)
    second = (await article_messages(page))[-1]
    assert second["doc_id"] == first["related"][0]["doc_id"]
    shown = await card(page)
    assert {**shown, "passage": words(shown["passage"])} == shown_card(second)
    assert feedback_rows(whole_stack, await session_id(page)) == [(["return-policy"], False)]
    await screenshot(page, "14-kb-next-article")


# ------------------------------------------------------------ Tier 1


async def test_a_password_reset_verified_with_a_code_from_the_smtp_server(
    whole_stack: Stack, smtp: tuple[Inbox, int], page: Page
) -> None:
    inbox, _ = smtp
    await choose(page, "Reset my password")
    assert (await log_items(page))[-2:] == [
        {"kind": "user", "text": "Reset my password", "buttons": []},
        {"kind": "text", "text": ASK_EMAIL, "buttons": []},
    ]
    await say(page, EMMA)
    assert (await log_items(page))[-1] == {
        "kind": "text",
        "text": ASK_ORDER,
        "buttons": ["Email me a code"],
    }
    await screenshot(page, "15-verification")

    await choose(page, "Email me a code")
    assert (await log_items(page))[-3:] == [
        {"kind": "user", "text": "Email me a code", "buttons": []},
        {
            "kind": "text",
            "text": f"If {EMMA} belongs to a Brightwave account, I've just emailed it a "
            "6-digit code. It's valid for 10 minutes.",
            "buttons": [],
        },
        {
            "kind": "text",
            "text": "Please type the 6-digit code from the email.",
            "buttons": ["Email me a new code"],
        },
    ]
    [mail] = await eventually(
        lambda: mails(inbox, EMMA, "Your Brightwave verification code"), "the code's email"
    )
    match = re.search(r"code is (\d{6})\.", body(mail.message))
    assert match is not None, body(mail.message)
    code = match.group(1)

    await say(page, code)
    assert (await log_items(page))[-3:] == [
        {"kind": "user", "text": code, "buttons": []},
        {"kind": "text", "text": "Thanks, Emma, that's confirmed.", "buttons": []},
        {
            "kind": "text",
            "text": "Done! I've sent a password reset link to e***s@example.com. It works for "
            "60 minutes. Open it, choose a new password, and you can sign in again (also in the "
            "app). Nothing there? Check your spam folder, or ask me for a new link.",
            "buttons": [],
        },
    ]
    [reset] = await eventually(
        lambda: mails(inbox, EMMA, "Reset your Brightwave password"), "the reset link's email"
    )
    assert re.search(r"https://brightwave\.example/reset\?token=\S+", body(reset.message))
    await screenshot(page, "16-password-reset-done")
    # this stack's own demo company and SMTP server: nothing went to a file outbox
    assert whole_stack.backend.demo_db_path.is_file()
    assert not whole_stack.backend.outbox_dir.exists()


# ------------------------------------------------------------ handoff


async def hand_off(stack: Stack, slack: MockSlack, page: Page) -> Escalation:
    """Asks for a person and waits for the escalation's card in Slack."""
    await choose(page, "Talk to a person")
    assert (await log_items(page))[-1] == {"kind": "handoff_queued", "text": QUEUED, "buttons": []}
    assert await mode(page) == "Waiting for our Customer care team"
    conversation = await session_id(page)
    escalation = await eventually(lambda: posted(stack, conversation), "the card in Slack")
    assert (escalation.queue, escalation.slack_channel) == ("tier2-general", GENERAL)
    return escalation


async def test_an_agents_slack_reply_appears_with_name_and_style_and_ends_with_csat(
    whole_stack: Stack, slack: MockSlack, page: Page
) -> None:
    dialogs = record_dialogs(page)
    escalation = await hand_off(whole_stack, slack, page)
    await screenshot(page, "17-handoff-waiting")

    claim = {"action_id": "handoff_claim", "value": escalation.id}
    assert click(whole_stack, ALEX, GENERAL, claim).status_code == 200
    await page.wait_for_selector(".fl-notice >> text=Alex joined the conversation")
    assert (await log_items(page))[-1] == {
        "kind": "agent_joined",
        "text": "Alex joined the conversation",
        "buttons": [],
    }
    assert await mode(page) == "Chatting with Alex"

    url = f"{HELP}return-policy"
    reply = f"Hi, I'm Alex from customer care. Returns are free within 30 days: <{url}|policy>"
    assert escalation.slack_ts is not None
    response = thread_event(whole_stack, "EvJourney1", ALEX, GENERAL, escalation.slack_ts, reply)
    assert response.status_code == 200
    await page.wait_for_selector(".fl-entry-agent")
    assert (await log_items(page))[-1] == {
        "kind": "agent_message",
        "text": f"Hi, I'm Alex from customer care. Returns are free within 30 days: policy ({url})",
        "buttons": [],
    }
    assert await page.locator(".fl-agent-name").text_content() == "AlexAgent"
    assert await shadow_html(page, ".fl-agent .fl-md") == [
        "<p>Hi, I'm Alex from customer care. Returns are free within 30 days: policy "
        f'(<a href="{url}" {LINK}>{url}</a>)</p>'
    ]
    assert (await colours(page, ".fl-agent"))[1] != (await colours(page, ".fl-bot"))[1]
    assert await mode(page) == "Chatting with Alex"
    await screenshot(page, "18-agent-message")

    # as Slack delivers what an agent typed: < > escaped; <!channel> is markup
    tricks = "&lt;img src=x onerror=alert(1)&gt; &lt;script&gt;alert(2)&lt;/script&gt; <!channel>"
    thread_event(whole_stack, "EvJourney2", ALEX, GENERAL, escalation.slack_ts, tricks)
    await page.wait_for_function(f"{SHADOW}.querySelectorAll('.fl-entry-agent').length === 2")
    assert (await shadow_html(page, ".fl-agent .fl-md"))[-1] == (
        "<p>&lt;img src=x onerror=alert(1)&gt; &lt;script&gt;alert(2)&lt;/script&gt; @channel</p>"
    )
    assert await elements_everywhere(page, "img, script:not([src])") == 0
    assert dialogs == []

    # the customer's answer goes to the agent's thread; the bot stays quiet
    await say(page, "thanks, the order is BW-104233")
    assert (await log_items(page))[-1] == {
        "kind": "user",
        "text": "thanks, the order is BW-104233",
        "buttons": [],
    }
    await eventually(lambda: thread_says(slack, escalation, "BW-104233"), "the relayed message")

    click(whole_stack, ALEX, GENERAL, {"action_id": "handoff_resolve", "value": escalation.id})
    await page.wait_for_selector(".fl-csat")
    assert [(item["kind"], item["text"]) for item in (await log_items(page))[-2:]] == [
        ("agent_left", "Alex left the conversation"),
        (
            "csat_request",
            "How would you rate the help you got?12345Very poorExcellent"
            "Thank you for your rating! You can add a comment below if you like.",
        ),
    ]
    assert await mode(page) == ""
    await screenshot(page, "19-csat")
    csat_entry = (await log_items(page))[-1]

    await page.locator(".fl-csat-score", has_text="4").click()
    await wait_until_sent(page)
    await page.wait_for_selector(".fl-csat-thanks:not([hidden])")
    await eventually(lambda: thread_says(slack, escalation, "4/5"), "the rating in the thread")
    [closed] = escalations(whole_stack, await session_id(page))
    assert (closed.status, closed.csat_score, closed.claimed_by_name) == ("resolved", 4, "Alex")

    # the rating is asked once: its own five score buttons, no second row of choices
    assert csat_entry["buttons"] == []


async def test_an_agent_handing_back_returns_the_customer_to_the_assistant(
    whole_stack: Stack, slack: MockSlack, page: Page
) -> None:
    escalation = await hand_off(whole_stack, slack, page)
    click(whole_stack, SAM, GENERAL, {"action_id": "handoff_claim", "value": escalation.id})
    await page.wait_for_selector(".fl-notice >> text=Sam joined the conversation")
    assert await mode(page) == "Chatting with Sam"
    # Slack's own formatting: *bold*, _italic_, ~strike~
    assert escalation.slack_ts is not None
    formatted = "*Good news*: your refund is _on its way_. ~Ignore my last message~"
    thread_event(whole_stack, "EvJourney3", SAM, GENERAL, escalation.slack_ts, formatted)
    await page.wait_for_selector(".fl-entry-agent")
    formatted_html = await shadow_html(page, ".fl-agent .fl-md")

    click(whole_stack, SAM, GENERAL, {"action_id": "handoff_return", "value": escalation.id})
    await page.wait_for_selector(".fl-notice >> text=The assistant is back.")
    assert (await log_items(page))[-1] == {
        "kind": "bot_resumed",
        "text": "The assistant is back.",
        "buttons": [],
    }
    assert await mode(page) == ""
    assert await page.locator(".fl-csat").count() == 0
    await say(page, "hi")  # the assistant answers again, nothing goes to the thread
    assert (await log_items(page))[-1]["buttons"][-1] == "Talk to a person"
    assert [
        escalation.status for escalation in escalations(whole_stack, await session_id(page))
    ] == ["returned"]

    # an agent's Slack formatting keeps its meaning in the widget (Slack's *x* is bold)
    assert formatted_html == [
        "<p><strong>Good news</strong>: your refund is <em>on its way</em>. "
        "~Ignore my last message~</p>"
    ]
