"""The labelled PII set (``pii_cases.yml``) through ``core.redact.redact``:
no value that must go may stay, and nothing else may be masked unless the set
accepts it with a reason.

``python -m tests.core.test_pii_cases`` prints the counts and every finding.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from core.redact import redact

CASES_FILE = Path(__file__).with_name("pii_cases.yml")
KINDS = ("card", "iban", "code", "phone", "email", "secret", "mixed", "keep")
# Separators a leaked value may come back with: "4111 1111" is "4111-1111".
_LAYOUT = re.compile(r"[\s.\-/()]")

Redactor = Callable[..., str]


@dataclass(frozen=True)
class Case:
    kind: str
    text: str
    leaks: list[str] = field(default_factory=list)
    contacts: list[str] = field(default_factory=list)
    keep: list[str] = field(default_factory=list)
    accepted: str | None = None


@dataclass(frozen=True)
class Finding:
    case: Case
    verified: bool
    value: str
    output: str

    def __str__(self) -> str:
        who = "verified" if self.verified else "unverified"
        return f"[{self.case.kind}, {who}] {self.value!r} in {self.case.text!r} -> {self.output!r}"


@dataclass
class Result:
    cases: int
    leaks: list[Finding]
    false_masks: list[Finding]  # not accepted
    accepted: list[Finding]  # false masks the set accepts
    stale: list[Case]  # accepted cases that are no longer false masks


def load_cases(path: Path = CASES_FILE) -> list[Case]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [Case(**entry) for entry in data["cases"]]


def _compact(text: str) -> str:
    return _LAYOUT.sub("", text).casefold()


def _leaked(value: str, output: str) -> bool:
    return value in output or _compact(value) in _compact(output)


def evaluate(cases: list[Case], redactor: Redactor = redact) -> Result:
    leaks: list[Finding] = []
    false_masks: list[Finding] = []
    accepted: list[Finding] = []
    stale: list[Case] = []
    for case in cases:
        found: list[Finding] = []
        for verified in (False, True):
            output = redactor(case.text, verified=verified)
            must_go = case.leaks + ([] if verified else case.contacts)
            must_stay = case.keep + (case.contacts if verified else [])
            leaks += [Finding(case, verified, v, output) for v in must_go if _leaked(v, output)]
            found += [Finding(case, verified, v, output) for v in must_stay if v not in output]
            if not (case.leaks or case.contacts) and output != case.text:
                found.append(Finding(case, verified, "(the text changed)", output))
        if case.accepted:
            accepted += found
            if not found:
                stale.append(case)
        else:
            false_masks += found
    return Result(len(cases), leaks, false_masks, accepted, stale)


def test_the_labelled_set_is_well_formed() -> None:
    cases = load_cases()
    assert len(cases) >= 150
    assert len({case.text for case in cases}) == len(cases), "a case is listed twice"
    for case in cases:
        assert case.kind in KINDS, case
        for value in case.leaks + case.contacts + case.keep:
            assert value in case.text, f"{value!r} is not in {case.text!r}"
        if case.kind == "keep":
            assert not (case.leaks or case.contacts), case
        else:
            assert case.leaks or case.contacts, case
    assert Counter(case.kind for case in cases)["keep"] >= 50


@pytest.fixture(scope="module")
def result() -> Result:
    return evaluate(load_cases())


def test_no_labelled_pii_reaches_an_agent(result: Result) -> None:
    assert [str(f) for f in result.leaks] == []


def test_nothing_else_is_masked_unless_accepted(result: Result) -> None:
    assert [str(f) for f in result.false_masks] == []


def test_every_accepted_false_mask_still_happens(result: Result) -> None:
    assert [case.text for case in result.stale] == []


def test_the_evaluation_sees_leaks_and_false_masks() -> None:
    """The check itself: a redactor that does nothing leaks every value, one that
    removes every digit masks what must stay."""
    cases = load_cases()
    nothing = evaluate(cases, lambda text, verified: text)
    assert len(nothing.leaks) == sum(2 * len(c.leaks) + len(c.contacts) for c in cases)
    assert nothing.false_masks == []
    digits = evaluate(cases, lambda text, verified: re.sub(r"\d", "#", text))
    assert any(f.case.text == "BW-104233" for f in digits.false_masks)


def main() -> None:  # pragma: no cover - a report for people
    cases = load_cases()
    result = evaluate(cases)
    per_kind = Counter(case.kind for case in cases)
    print(f"{result.cases} cases ({', '.join(f'{k} {n}' for k, n in per_kind.items())})")
    print(f"leaks: {len(result.leaks)}")
    for finding in result.leaks:
        print(f"  {finding}")
    print(f"false masks: {len(result.false_masks)} (+ {len(result.accepted)} accepted)")
    for finding in result.false_masks + result.accepted:
        print(f"  {finding}")


if __name__ == "__main__":  # pragma: no cover
    main()
