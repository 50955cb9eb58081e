from __future__ import annotations

from kb_index.html_source import parse_html


def test_body_is_used_without_main_and_links_code_and_lists_survive() -> None:
    article = parse_html(
        "<html><head><title> Fix   sync </title>\n"
        '<meta name="kb:id" content="fix-sync"><meta name="kb:tier" content="2">\n'
        '<meta name="kb:locale" content="en-GB"><meta name="kb:url" content="https://x.example/a">\n'
        "<script>var x = 1;</script></head>\n"
        "<body>\n<h2>Steps</h2>\n"
        "<ul><li>Open <a href='https://x.example/b'>settings</a></li>"
        "<li>Tap <b>Sync</b></li></ul>\n"
        "<pre>adb logcat\n  | grep sync</pre>\n"
        "<p>Done.<br>Really.</p>\n</body></html>"
    )
    assert article.raw == {
        "id": "fix-sync",
        "tier": 2,
        "locale": "en-GB",
        "url": "https://x.example/a",
        "title": "Fix sync",
    }
    assert article.lines == {"id": 2, "tier": 2, "locale": 3, "url": 3, "title": 1}
    assert article.body_line == 5
    assert article.body == (
        "## Steps\n\n"
        "- Open [settings](https://x.example/b)\n"
        "- Tap **Sync**\n\n"
        "```\nadb logcat\n  | grep sync\n```\n\n"
        "Done.\nReally."
    )
