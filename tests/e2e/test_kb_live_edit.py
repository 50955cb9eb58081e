"""An editor's `kb refresh` reaches the running bot without a restart, and a
broken edit never replaces the version that is serving.

The running stack's action server polls for new versions; these tests publish
into the same storage folder and database from a copy of the help center, as
an editor's command would, then ask through the widget channel."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from launcher.stack import ROOT, Stack
from tests.e2e.conftest import WidgetClient

pytestmark = pytest.mark.e2e

QUESTION = "how many days do I have to send something back?"
ARTICLE = Path("returns-refunds/return-policy.md")
# Generous: the action server polls every 2 s; this bounds a hung test, it is
# not the speed target (docs/benchmarks.md measures edit-to-live time).
PICKUP_DEADLINE_SECONDS = 90


def kb_command(stack: Stack, source_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = stack.app_env()
    env["FRONTLINE_KB_SOURCE_DIR"] = str(source_dir)
    return subprocess.run(
        [sys.executable, "-m", "kb_index.cli", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip


async def ask(stack: Stack) -> dict:
    client = WidgetClient(stack.rasa_url)
    await client.connect()
    try:
        article, *_ = await client.say(QUESTION)
    finally:
        await client.close()
    return article["custom"]


async def wait_for_passage(stack: Stack, fragment: str) -> dict:
    deadline = time.monotonic() + PICKUP_DEADLINE_SECONDS
    while True:
        card = await ask(stack)
        if fragment in card["passage"] or time.monotonic() > deadline:
            return card
        await asyncio.sleep(0.5)


@pytest.fixture
async def edited_kb(stack: Stack, tmp_path: Path) -> AsyncIterator[Path]:
    """A copy of data/kb to edit; afterwards the stack serves data/kb again."""
    source = tmp_path / "kb"
    shutil.copytree(ROOT / "data" / "kb", source)
    yield source
    restored = kb_command(stack, ROOT / "data" / "kb", "refresh", "--quiet")
    assert restored.returncode == 0, restored.stderr
    assert "30 days" in (await wait_for_passage(stack, "30 days"))["passage"]


async def test_an_edited_article_is_answered_from_without_a_restart(
    stack: Stack, edited_kb: Path
) -> None:
    before = await ask(stack)
    assert (before["doc_id"], "30 days" in before["passage"]) == ("return-policy", True)

    article = edited_kb / ARTICLE
    article.write_text(article.read_text().replace("30 days", "45 days"))
    result = kb_command(stack, edited_kb, "refresh", "--quiet")
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.splitlines()[0] == "articles: 0 added, 1 changed (return-policy), 0 removed"
    )

    after = await wait_for_passage(stack, "45 days")
    assert (after["doc_id"], after["url"]) == (
        "return-policy",
        "https://help.brightwave.example/articles/return-policy",
    )
    assert "45 days" in after["passage"] and "30 days" not in after["passage"]


async def test_a_broken_article_is_refused_and_the_current_version_keeps_answering(
    stack: Stack, edited_kb: Path
) -> None:
    serving = await wait_for_passage(stack, "30 days")
    assert "30 days" in serving["passage"]
    article = edited_kb / ARTICLE
    text = article.read_text()
    # An editor deletes the id line and rewrites the answer in the same save.
    broken = "\n".join(line for line in text.splitlines() if not line.startswith("id:"))
    article.write_text(broken.replace("30 days", "60 days"))

    result = kb_command(stack, edited_kb, "refresh", "--quiet")

    assert result.returncode == 1
    assert "not published, the current version keeps serving" in result.stderr
    assert "return-policy.md" in result.stderr
    card = await ask(stack)
    assert (card["doc_id"], "30 days" in card["passage"], "60 days" in card["passage"]) == (
        "return-policy",
        True,
        False,
    )
