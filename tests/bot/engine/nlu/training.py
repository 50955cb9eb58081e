"""Training and using a small NLU model inside the engine for the NLU
components' tests: like ``rasa train nlu``, then a parse of each text. Each
training runs in a fresh engine process (``in_fresh_engine``), with a
training cache of its own that keeps nothing."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from rasa.core.agent import Agent
from rasa.model_training import train_nlu

from tests.bot.engine.harness import in_fresh_engine

DATA = """version: "3.1"
nlu:
- intent: password_reset
  examples: |
    - I forgot my password
    - reset my password
    - password reset please
    - how do I change my password
- intent: order_status
  examples: |
    - where is my order
    - track my order
    - order status
    - has my order shipped
- intent: greet
  examples: |
    - hello
    - hi there
    - good morning
    - hey
"""

# Two messages that share no word with DATA's examples of their intents.
PARAPHRASES = ("I can't remember my login credentials", "when will my parcel arrive")


def _train(folder: Path, config_text: str) -> str:
    """Trains ``config_text`` on DATA into ``folder``; the model's path."""
    os.environ["RASA_CACHE_DIRECTORY"] = str(folder / "cache")
    os.environ["RASA_MAX_CACHE_SIZE"] = "0"
    (folder / "config.yml").write_text(config_text)
    (folder / "nlu.yml").write_text(DATA)
    model = train_nlu(
        str(folder / "config.yml"), str(folder / "nlu.yml"), str(folder), fixed_model_name="nlu"
    )
    if not model:
        raise RuntimeError(f"training in {folder} produced no model")
    return str(model)


async def _parse_all(model: str, texts: tuple[str, ...]) -> list[dict[str, Any]]:
    agent = Agent.load(model)
    rows = []
    for number, text in enumerate(texts, start=1):
        parsed = await agent.parse_message(text)
        intent = parsed.get("intent") or {}
        rows.append(
            {
                "id": number,
                "text": text,
                "intent": intent.get("name"),
                "confidence": round(float(intent.get("confidence") or 0.0), 6),
                "ranking": [
                    [entry["name"], round(float(entry.get("confidence") or 0.0), 6)]
                    for entry in (parsed.get("intent_ranking") or [])[:10]
                ],
            }
        )
    return rows


def _train_and_parse(
    folder: Path, config_text: str, texts: tuple[str, ...]
) -> list[dict[str, Any]]:
    return asyncio.run(_parse_all(_train(folder, config_text), texts))


def _training_errors(folder: Path, config_text: str) -> list[list[str]]:
    try:
        _train(folder, config_text)
    except Exception as error:
        chain: list[list[str]] = []
        cause: BaseException | None = error
        while cause is not None:
            chain.append([type(cause).__name__, str(cause)])
            cause = cause.__cause__ or cause.__context__
        return chain
    return []


def train_and_parse(
    folder: Path, config_text: str, texts: tuple[str, ...] = PARAPHRASES
) -> list[dict[str, Any]]:
    """Trains ``config_text`` on DATA in a fresh engine process and parses
    ``texts`` with the model: one row per text, ``id`` (from 1), ``text``,
    ``intent`` and ``confidence`` as the bot sees them (``nlu_fallback`` when
    the FallbackClassifier fires), and the top ten of the ``ranking`` as
    ``[name, confidence]`` (confidences rounded to 6 places)."""
    folder.mkdir(parents=True, exist_ok=True)
    return in_fresh_engine(_train_and_parse, folder, config_text, texts, timeout=600)


def training_errors(folder: Path, config_text: str) -> list[list[str]]:
    """Trains ``config_text`` on DATA in a fresh engine process: the
    exception training raised and its causes, each as ``[class name,
    message]``; empty if it trained."""
    folder.mkdir(parents=True, exist_ok=True)
    return in_fresh_engine(_training_errors, folder, config_text, timeout=600)
