"""The Rasa domain declares the names bot, actions and handoff agree on."""

from __future__ import annotations

from pathlib import Path

import yaml

from core import contract

DOMAIN = Path(__file__).resolve().parents[2] / "bot" / "domain"


def declared(section: str) -> set[str]:
    names: set[str] = set()
    for path in sorted(DOMAIN.glob("*.yml")):
        entries = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get(section) or []
        names |= {next(iter(entry)) if isinstance(entry, dict) else entry for entry in entries}
    return names


def test_the_domain_declares_the_contracts_names() -> None:
    assert contract.SERVICE_INTENTS - declared("intents") == set()
    entities = {contract.AGENT_TEXT, contract.AGENT_NAME, contract.UPDATE_KIND, contract.TEAM}
    assert entities - declared("entities") == set()
    assert contract.HANDOFF_ACTIVE in declared("slots")
