"""The demo shop page with the chat widget (``python -m bot.site``).

Serves ``bot/widget/`` (the page, the widget script and its npm dependencies)
and tells the page where the Rasa server is. Endpoints: ``GET /`` (demo shop),
``GET /widget/...`` (static files), ``GET /health``.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path
from string import Template

import uvicorn
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot.runtime import SettingsError, configure_logging, exit_on_settings_error, load_settings

logger = logging.getLogger(__name__)

WIDGET_DIR = Path(__file__).parent / "widget"


class SiteSettings(BaseSettings):
    """Settings of the demo site; see .env.example."""

    model_config = SettingsConfigDict(env_prefix="FRONTLINE_SITE_", env_file=".env", extra="ignore")

    host: str = Field("127.0.0.1", description="Interface the demo site listens on.")
    port: int = Field(8080, ge=1, le=65535, description="Port of the demo site.")
    rasa_url: str = Field(
        "http://127.0.0.1:5005", description="Rasa server the widget connects to."
    )


def demo_page(settings: SiteSettings) -> str:
    template = Template((WIDGET_DIR / "demo.html").read_text(encoding="utf-8"))
    return template.substitute(rasa_url=html.escape(settings.rasa_url, quote=True))


def create_app(settings: SiteSettings) -> Starlette:
    page = demo_page(settings)

    async def index(request: Request) -> HTMLResponse:
        return HTMLResponse(page)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "service": "site"})

    return Starlette(
        routes=[
            Route("/", index),
            Route("/health", health),
            Mount("/widget", StaticFiles(directory=WIDGET_DIR, follow_symlink=False)),
        ]
    )


def main() -> None:
    configure_logging("site")
    try:
        settings = load_settings(SiteSettings)
    except SettingsError as error:
        exit_on_settings_error(error)
        return
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    main()
