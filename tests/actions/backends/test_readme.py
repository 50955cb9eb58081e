"""actions/backends/README.md documents exactly what the code does."""

from __future__ import annotations

import re

from actions.backends import BackendSettings
from actions.backends.contract import OPERATIONS
from actions.backends.settings import ROOT
from core.runtime import env_name

README = ROOT / "actions" / "backends" / "README.md"


def test_the_contract_table_lists_every_operation_with_its_method_and_path() -> None:
    rows = re.findall(r"^\| `(\w+)` \| (GET|POST|PUT) \| `([^`]+)` \|", README.read_text(), re.M)
    assert {name: (method, path) for name, method, path in rows} == {
        name: (op.method, op.path) for name, op in OPERATIONS.items()
    }


def test_the_settings_table_lists_every_setting() -> None:
    documented = set(re.findall(r"^\| `([A-Z_]+)`", README.read_text(), re.M))
    accepted = {
        field: {env_name(BackendSettings, field), *getattr(info.validation_alias, "choices", ())}
        for field, info in BackendSettings.model_fields.items()
    }
    assert {field for field, names in accepted.items() if not names & documented} == set()
    assert documented - set().union(*accepted.values()) == set()
