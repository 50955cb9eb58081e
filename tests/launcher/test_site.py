from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from launcher.site import BUNDLE_DIR, BUNDLE_NAME, SiteError, SiteSettings, create_app


@pytest.fixture
def bundle_dir(tmp_path: Path) -> Path:
    (tmp_path / BUNDLE_NAME).write_text("/* the widget */", encoding="utf-8")
    return tmp_path


def test_every_page_embeds_the_widget_with_one_script_tag_pointing_at_rasa(
    bundle_dir: Path,
) -> None:
    settings = SiteSettings(rasa_url='http://rasa.test:5005/"x', port=8080)
    client = TestClient(create_app(settings, bundle_dir))
    for path, title in (("/", "Shop"), ("/help", "Help")):
        page = client.get(path)
        assert page.status_code == 200
        assert f"<title>{title} - Brightwave</title>" in page.text
        assert page.text.count("<script") == 1
        assert (
            '<script src="/widget/frontline-widget.js"\n'
            '          data-server-url="http://rasa.test:5005/&quot;x"\n'
            '          data-title="Brightwave support"\n'
        ) in page.text


def test_the_built_bundle_is_served_under_widget(bundle_dir: Path) -> None:
    client = TestClient(create_app(SiteSettings(), bundle_dir))
    bundle = client.get("/widget/frontline-widget.js")
    assert (bundle.status_code, bundle.text) == (200, "/* the widget */")
    assert bundle.headers["content-type"].startswith("text/javascript")
    assert client.get("/health").json() == {"status": "ok", "service": "site"}


def test_a_missing_bundle_stops_the_site_with_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(SiteError) as raised:
        create_app(SiteSettings(), tmp_path)
    assert raised.value.hint == "run `make setup` (or `npm ci && npm run build` in bot/widget)"
    assert str(raised.value) == (
        f"the widget bundle {tmp_path / BUNDLE_NAME} is missing: "
        "run `make setup` (or `npm ci && npm run build` in bot/widget)"
    )


# The real bundle, built by `make setup` (npm ci && npm run build in bot/widget).


def test_the_built_bundle_stays_under_its_size_budget() -> None:
    bundle = (BUNDLE_DIR / BUNDLE_NAME).read_bytes()
    assert len(gzip.compress(bundle, 9)) < 100 * 1024


def test_the_built_bundle_never_parses_html() -> None:
    """No HTML sink anywhere in the built file, the socket.io client included."""
    source = (BUNDLE_DIR / BUNDLE_NAME).read_text(encoding="utf-8")
    sinks = r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|srcdoc"
    assert re.findall(sinks, source) == []
