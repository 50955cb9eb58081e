"""Conversation data is tested like code: Rasa's own validator on our files."""

from __future__ import annotations

import subprocess

import pytest

from launcher.stack import ROOT, StackSettings, engine_env, rasa_executable

pytestmark = pytest.mark.e2e


def test_rasa_data_validate_passes_on_the_product_bot() -> None:
    rasa = rasa_executable(StackSettings(_env_file=None))
    result = subprocess.run(
        [str(rasa), "data", "validate", "--config", "config.yml", "--domain", "bot/domain",
         "--data", "data/nlu", "data/rules", "data/stories", "--fail-on-warnings"],
        cwd=ROOT, env=engine_env(), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
