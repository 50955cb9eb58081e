from __future__ import annotations

import pytest

from handoff.slack_text import (
    escape,
    escape_mrkdwn,
    mrkdwn,
    plain_text,
    to_widget_text,
    unescape,
)


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("<!channel> come here", "&lt;!channel&gt; come here"),
        ("<!here|here> and <!everyone>", "&lt;!here|here&gt; and &lt;!everyone&gt;"),
        ("ping <@U0123ABC> please", "ping &lt;@U0123ABC&gt; please"),
        ("see <#C0123|general>", "see &lt;#C0123|general&gt;"),
        ("<http://evil.example|your invoice>", "&lt;http://evil.example|your invoice&gt;"),
        ("Tom & Jerry &amp; co", "Tom &amp; Jerry &amp;amp; co"),
        ("> quoted\n>>> all quoted", "&gt; quoted\n&gt;&gt;&gt; all quoted"),
        ("*bold* _it_ ~s~ `c`", "*bold* _it_ ~s~ `c`"),
        ("", ""),
    ],
)
def test_escape_turns_slack_control_characters_into_entities(text: str, escaped: str) -> None:
    assert escape(text) == escaped
    assert unescape(escaped) == text


def test_escape_mrkdwn_fences_formatting_characters_with_zero_width_spaces() -> None:
    z = "\u200b"
    assert escape_mrkdwn("*Dana* <@U1> _k_") == f"{z}*{z}Dana{z}*{z} &lt;@U1&gt; {z}_{z}k{z}_{z}"
    assert escape_mrkdwn("~`") == f"{z}~{z}{z}`{z}"


def test_customer_text_goes_into_plain_text_objects_escaped() -> None:
    assert plain_text("*hi* <!channel> :tada:") == {
        "type": "plain_text",
        "text": "*hi* &lt;!channel&gt; :tada:",
        "emoji": False,
    }
    assert mrkdwn("*Customer*") == {"type": "mrkdwn", "text": "*Customer*", "verbatim": True}


@pytest.mark.parametrize(
    ("slack", "widget"),
    [
        (
            "See <https://help.brightwave.example/a/1|this article>",
            "See this article (https://help.brightwave.example/a/1)",
        ),
        ("<https://brightwave.example>", "https://brightwave.example"),
        ("<https://brightwave.example|brightwave.example>", "https://brightwave.example"),
        ("<https://brightwave.example|https://brightwave.example>", "https://brightwave.example"),
        (
            "mail <mailto:help@brightwave.example|help@brightwave.example>",
            "mail help@brightwave.example",
        ),
        ("<mailto:help@brightwave.example|our team>", "our team (help@brightwave.example)"),
        (
            "<https://x.example/?a=1&amp;b=2|both &amp; more>",
            "both & more (https://x.example/?a=1&b=2)",
        ),
        ("Tom &amp; Jerry: 3 &lt; 4 &gt; 2", "Tom & Jerry: 3 < 4 > 2"),
        ("&lt;script&gt;alert(1)&lt;/script&gt;", "<script>alert(1)</script>"),
        ("ask <@U0AGENT2>", "ask a colleague"),
        ("ask <@U0AGENT2|piet>", "ask piet"),
        ("in <#C0123|billing> and <#C0456>", "in #billing and #channel"),
        ("<!here> and <!channel>", "@here and @channel"),
        ("<!subteam^S0123|@leads> know", "@leads know"),
        ("on <!date^1392734382^{date_short}|Feb 18, 2014>", "on Feb 18, 2014"),
        ("<javascript:alert(1)|click me>", "click me"),
        ("<ftp://files.example>", ""),
        ("*Please* restart the _hub_", "**Please** restart the *hub*"),
        ("2*3*4 and snake_case_name", "2*3*4 and snake_case_name"),
    ],
)
def test_agent_markup_becomes_plain_text_for_the_widget(slack: str, widget: str) -> None:
    assert to_widget_text(slack) == widget


def test_mentions_become_names_through_the_resolver() -> None:
    names = {"U0AGENT2": "Piet de Vries"}
    assert to_widget_text("<@U0AGENT2> and <@U0NOBODY> will call", user_name=names.get) == (
        "Piet de Vries and a colleague will call"
    )


def test_links_as_markdown_for_a_markdown_widget() -> None:
    assert to_widget_text(
        "See <https://help.brightwave.example/a (1)|the [pairing] guide> and <https://b.example>",
        link_style="markdown",
    ) == (
        r"See [the \[pairing\] guide](https://help.brightwave.example/a%20%281%29) and "
        "https://b.example"
    )
    assert to_widget_text("<javascript:alert(1)|x>", link_style="markdown") == "x"
