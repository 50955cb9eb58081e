from __future__ import annotations

from starlette.testclient import TestClient

from bot.site import SiteSettings, create_app


def test_the_demo_page_embeds_the_widget_pointing_at_rasa() -> None:
    client = TestClient(create_app(SiteSettings(rasa_url='http://rasa.test:5005/"x', port=8080)))
    page = client.get("/")
    assert page.status_code == 200
    assert (
        '<script src="/widget/frontline-widget.js"\n'
        '          data-server-url="http://rasa.test:5005/&quot;x"'
    ) in page.text
    assert client.get("/widget/frontline-widget.js").status_code == 200
    assert client.get("/health").json() == {"status": "ok", "service": "site"}
