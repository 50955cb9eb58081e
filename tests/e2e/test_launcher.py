"""`make run`: the launcher brings the whole stack up, answers through the
widget channel, and stops every process on Ctrl-C."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from launcher.stack import ROOT
from tests.e2e.conftest import WidgetClient

pytestmark = pytest.mark.e2e

URL_LINE = re.compile(r"^\s+(Rasa server|action server|handoff service)\s+(\S+)$", re.M)


def read_until_ready(process: subprocess.Popen[str], timeout: float) -> str:
    """The launcher's output up to its "Press Ctrl-C" line."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    output = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        if line is None:
            break
        output += line
        if "Press Ctrl-C to stop." in line:
            return output
    raise AssertionError(f"stack did not come up:\n{output}")


async def test_make_run_serves_the_widget_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "FRONTLINE_RASA_PORT": "0",
        "FRONTLINE_ACTIONS_PORT": "0",
        "FRONTLINE_HANDOFF_PORT": "0",
        "FRONTLINE_SITE_PORT": "0",
        "FRONTLINE_VAR_DIR": str(tmp_path / "var"),
    }
    for name in ("DATABASE_URL", "FRONTLINE_DATABASE_URL", "REDIS_URL", "FRONTLINE_REDIS_URL"):
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "launcher.stack", "run"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        output = read_until_ready(process, timeout=240)
        # A person reads the console: timestamped sentences, no JSON; the
        # JSON lines are in the launcher's log file.
        progress = output.split("Frontline is running")[0].strip().splitlines()
        assert progress and all(re.match(r"^\d\d:\d\d:\d\d  \S", line) for line in progress), output
        for expected in ("database ready", "help center", "starting rasa", "rasa ready"):
            assert any(expected in line for line in progress), (expected, output)
        logged = (tmp_path / "var" / "log" / "launcher.log").read_text().splitlines()
        assert logged and all(json.loads(line)["service"] == "launcher" for line in logged)
        site = re.search(r"Open (http://\S+)/ and chat", output)
        assert site is not None, output
        urls = dict(URL_LINE.findall(output))
        page = httpx.get(site.group(1) + "/", timeout=10)
        assert page.status_code == 200
        assert f'data-server-url="{urls["Rasa server"]}"' in page.text
        assert httpx.get(urls["handoff service"] + "/ready", timeout=10).json() == {
            "status": "ok",
            "database": "ok",
        }

        widget = WidgetClient(urls["Rasa server"])
        await widget.connect()
        messages = await widget.say("hi!")
        await widget.close()
        assert [m["text"] for m in messages] == [
            "Hi! I'm Brightwave's virtual assistant. What can I help you with today?"
        ]

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
        for url in [site.group(1), *urls.values()]:
            with pytest.raises(httpx.TransportError):
                httpx.get(url + "/health", timeout=2)
    finally:
        if process.poll() is None:
            process.kill()
