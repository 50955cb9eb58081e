"""The demo shop site with the chat widget (``python -m launcher.site``).

Two pages of a fictional shop (``GET /`` and ``GET /help``) that embed the
widget with one script tag pointing at the Rasa server, the built widget bundle
(``GET /widget/frontline-widget.js``, built into ``bot/widget/dist/`` by
``npm ci && npm run build`` in ``bot/widget``, which ``make setup`` runs) and
``GET /health``.
"""

from __future__ import annotations

import html
import logging
import sys
from pathlib import Path
from string import Template

import uvicorn
from pydantic import Field
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from core.runtime import SettingsError, configure_logging, exit_on_settings_error, load_settings
from core.settings import FrontlineSettings, SettingsConfigDict

logger = logging.getLogger(__name__)

WIDGET_DIR = Path(__file__).resolve().parent.parent / "bot" / "widget"
BUNDLE_DIR = WIDGET_DIR / "dist"
BUNDLE_NAME = "frontline-widget.js"
# path -> (page title, fragment in bot/widget/pages/)
PAGES = {"/": ("Shop", "shop.html"), "/help": ("Help", "help.html")}


class SiteSettings(FrontlineSettings):
    """Settings of the demo site; see .env.example."""

    model_config = SettingsConfigDict(env_prefix="FRONTLINE_SITE_")

    host: str = Field("127.0.0.1", description="Interface the demo site listens on.")
    port: int = Field(8080, ge=1, le=65535, description="Port of the demo site.")
    rasa_url: str = Field(
        "http://127.0.0.1:5005", description="Rasa server the widget connects to."
    )


class SiteError(Exception):
    """The site cannot start; ``hint`` says what to do."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(f"{message}: {hint}")
        self.hint = hint


def demo_page(settings: SiteSettings, title: str, fragment: str) -> str:
    template = Template((WIDGET_DIR / "demo.html").read_text(encoding="utf-8"))
    return template.substitute(
        page_title=html.escape(title),
        main=(WIDGET_DIR / "pages" / fragment).read_text(encoding="utf-8").rstrip("\n"),
        rasa_url=html.escape(settings.rasa_url, quote=True),
    )


def create_app(settings: SiteSettings, bundle_dir: Path = BUNDLE_DIR) -> Starlette:
    """The site; raises ``SiteError`` if the widget bundle has not been built."""
    if not (bundle_dir / BUNDLE_NAME).is_file():
        raise SiteError(
            f"the widget bundle {bundle_dir / BUNDLE_NAME} is missing",
            "run `make setup` (or `npm ci && npm run build` in bot/widget)",
        )
    pages = {path: demo_page(settings, title, name) for path, (title, name) in PAGES.items()}

    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(pages[request.url.path])

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "service": "site"})

    return Starlette(
        routes=[
            *(Route(path, page) for path in pages),
            Route("/health", health),
            Mount("/widget", StaticFiles(directory=bundle_dir, follow_symlink=False)),
        ]
    )


def main() -> None:
    configure_logging("site")
    try:
        settings = load_settings(SiteSettings)
        app = create_app(settings)
    except SettingsError as error:
        exit_on_settings_error(error)
        return
    except SiteError as error:
        print(f"frontline: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
