"""Headless Chromium (Debian's package) driven by Playwright, for the widget's
browser tests: launching, the widget's elements inside its shadow root, the
renderer preview page, the socket.io traffic of a page, and screenshots kept as
test artifacts."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.async_api import (
    Browser,
    BrowserContext,
    Page,
    Route,
    WebSocket,
    async_playwright,
)

from launcher.site import BUNDLE_DIR, BUNDLE_NAME

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
SCREENSHOTS = ROOT / "var" / "artifacts" / "screenshots"
# Playwright waits at most this long for anything to appear on the page.
WAIT_MS = 30_000
# The widget's shadow root, in scripts evaluated on the page.
SHADOW = "document.querySelector('[data-frontline-widget]').shadowRoot"
# An origin that exists only inside the browser: the preview page is served by
# Playwright's router, not by a server. localhost counts as a secure context,
# so the Web Locks API (one connection per browser) is there as on HTTPS.
PREVIEW_ORIGIN = "http://localhost:47999"
# A socket.io EVENT (2) or ACK (3) packet in an engine.io MESSAGE (4) frame, on
# the default namespace: type, acknowledgement id, JSON array.
SOCKET_IO_PACKET = re.compile(r"^4([23])(\d*)(\[.*)$", re.DOTALL)


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        raise RuntimeError(
            f"{CHROMIUM} not found: install Debian's chromium package (make setup does)"
        )
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True
        )
        try:
            yield browser
        finally:
            await browser.close()


async def new_context(browser: Browser, width: int = 1280, height: int = 800) -> BrowserContext:
    context = await browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(WAIT_MS)
    return context


def record_dialogs(page: Page) -> list[str]:
    """Messages of every dialog the page opens (each is dismissed)."""
    opened: list[str] = []

    async def on_dialog(dialog: Any) -> None:
        opened.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", on_dialog)
    return opened


@dataclass
class SocketCall:
    """One socket.io event a page emitted, and the server's acknowledgement
    (None until it arrives, or if none was asked for)."""

    event: str
    data: Any
    ack: Any = None


def record_socket_io(page: Page) -> list[SocketCall]:
    """Every socket.io event ``page`` emits over a WebSocket from now on (across
    reloads), in order, with its acknowledgement filled in when it arrives."""
    calls: list[SocketCall] = []

    def on_websocket(websocket: WebSocket) -> None:
        waiting: dict[str, SocketCall] = {}  # acknowledgement ids are per socket

        def sent(payload: str | bytes) -> None:
            match = SOCKET_IO_PACKET.match(payload) if isinstance(payload, str) else None
            if match is None or match[1] != "2":
                return
            event, *args = json.loads(match[3])
            call = SocketCall(event, args[0] if args else None)
            calls.append(call)
            if match[2]:
                waiting[match[2]] = call

        def received(payload: str | bytes) -> None:
            match = SOCKET_IO_PACKET.match(payload) if isinstance(payload, str) else None
            if match is None or match[1] != "3" or match[2] not in waiting:
                return
            args = json.loads(match[3])
            waiting.pop(match[2]).ack = args[0] if args else None

        websocket.on("framesent", sent)
        websocket.on("framereceived", received)

    page.on("websocket", on_websocket)
    return calls


async def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path))
    return path


def preview_html(options: dict[str, Any], script: str = "") -> str:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<title>Widget preview</title></head><body><h1>Widget preview</h1>"
        f"<script src='/{BUNDLE_NAME}'></script>"
        f"<script data-preview>{script}\n"
        f"FrontlineWidget.instance = FrontlineWidget.mount({json.dumps(options)},"
        " window.socketFactory ? {socketFactory: window.socketFactory} : {});</script>"
        "</body></html>"
    )


async def open_preview(context: BrowserContext, script: str = "", **options: Any) -> Page:
    """A page with the built widget mounted without a server (``serverUrl: null``):
    messages are fed in with ``widget.receive(message)``, as the socket would.
    ``script`` runs first; a ``window.socketFactory`` it defines replaces the
    socket.io client."""
    bundle = (BUNDLE_DIR / BUNDLE_NAME).read_bytes()
    page_html = preview_html({"serverUrl": None, "title": "Brightwave support", **options}, script)

    async def serve(route: Route) -> None:
        if route.request.url.endswith(f"/{BUNDLE_NAME}"):
            await route.fulfill(body=bundle, content_type="text/javascript")
        elif route.request.url in (f"{PREVIEW_ORIGIN}/", PREVIEW_ORIGIN):
            await route.fulfill(body=page_html, content_type="text/html")
        else:
            await route.fulfill(status=404, body="")

    await context.route(f"{PREVIEW_ORIGIN}/**", serve)
    page = await context.new_page()
    await page.goto(f"{PREVIEW_ORIGIN}/")
    await page.wait_for_function("FrontlineWidget.instance.isLeader()")
    return page


async def receive(page: Page, *messages: dict[str, Any]) -> None:
    for message in messages:
        await page.evaluate("(message) => FrontlineWidget.instance.receive(message)", message)


async def entries(page: Page) -> list[dict[str, Any]]:
    """The conversation as the widget keeps it (``Widget.entries()``)."""
    result: list[dict[str, Any]] = await page.evaluate("FrontlineWidget.instance.entries()")
    return result


async def session_id(page: Page) -> str:
    result: str = await page.evaluate("FrontlineWidget.instance.sessionId()")
    return result


async def wait_until_sent(page: Page) -> None:
    """Waits until the server acknowledged everything the customer sent; its
    bot messages come before the acknowledgement on the same socket."""
    await page.wait_for_function(
        """() => FrontlineWidget.instance.entries().every(
            (entry) => entry.from !== 'user' || entry.status === 'sent')"""
    )


async def in_widget(page: Page, body: str, arg: Any = None) -> Any:
    """Runs the function ``body`` on the page, with ``root`` (the widget's shadow
    root) and ``arg`` in scope, and returns what it returns."""
    return await page.evaluate(f"(arg) => {{ const root = {SHADOW}; {body} }}", arg)


async def focused(page: Page) -> str | None:
    """The class of the focused element inside the widget, else the page's focused tag."""
    result: str | None = await in_widget(
        page,
        "const inner = document.activeElement === root.host ? root.activeElement : null;"
        "return inner ? inner.className : document.activeElement.tagName;",
    )
    return result


async def log_items(page: Page) -> list[dict[str, Any]]:
    """What the conversation shows, entry by entry: its kind, its text (without
    screen-reader labels) and its buttons."""
    result: list[dict[str, Any]] = await in_widget(
        page,
        """
        const shown = (node) => {
            if (!node) return null;
            const copy = node.cloneNode(true);
            copy.querySelectorAll('.fl-sr, .fl-agent-name').forEach((label) => label.remove());
            return copy.textContent;
        };
        return Array.from(root.querySelectorAll('.fl-log > .fl-entry'))
            .filter((node) => !node.hidden)
            .map((node) => ({
                kind: node.classList.contains('fl-entry-user') ? 'user' : node.dataset.kind,
                text: shown(node.querySelector(
                    '.fl-plain, .fl-md, .fl-notice, .fl-card, .fl-csat')),
                buttons: Array.from(node.querySelectorAll('.fl-choice')).map((b) => b.textContent),
            }));
        """,
    )
    return result


async def shadow_html(page: Page, selector: str) -> list[str]:
    """innerHTML of every element matching ``selector`` inside the widget."""
    result: list[str] = await in_widget(
        page,
        "return Array.from(root.querySelectorAll(arg)).map((node) => node.innerHTML);",
        selector,
    )
    return result


async def elements_everywhere(page: Page, selector: str) -> int:
    """How many elements match ``selector`` in the page and the widget's shadow root."""
    count: int = await in_widget(
        page,
        "return document.querySelectorAll(arg).length + root.querySelectorAll(arg).length;",
        selector,
    )
    return count


async def colours(page: Page, selector: str) -> tuple[str, str]:
    """The text colour of the first element matching ``selector`` in the widget
    and the background it is drawn on (the nearest non-transparent one)."""
    result: list[str] = await in_widget(
        page,
        """
        const node = root.querySelector(arg);
        let element = node;
        let background = 'rgb(255, 255, 255)';
        while (element && element.nodeType === 1) {
            const candidate = getComputedStyle(element).backgroundColor;
            if (candidate !== 'rgba(0, 0, 0, 0)' && candidate !== 'transparent') {
                background = candidate;
                break;
            }
            element = element.parentElement;
        }
        return [getComputedStyle(node).color, background];
        """,
        selector,
    )
    return result[0], result[1]


def contrast(foreground: str, background: str) -> float:
    """WCAG contrast ratio of two CSS ``rgb(...)`` colours."""

    def luminance(css: str) -> float:
        parts = css[css.index("(") + 1 : css.index(")")].split(",")
        channels = []
        for part in parts[:3]:
            value = float(part) / 255
            channels.append(value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4)
        return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]

    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return round((light + 0.05) / (dark + 0.05), 2)
