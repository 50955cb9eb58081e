"""One-time codes on SQLite and PostgreSQL: 6 digits, 10 minutes, 5 attempts,
single use, newest replaces older, never stored in plain text."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from actions.backends import (
    BackendUnavailable,
    CodeCheck,
    CodeLimitReached,
    CodeOutcome,
    VerificationCodes,
)
from actions.backends.tables import verification_codes
from actions.db import create_engine, upgrade
from tests.actions.backends.conftest import NOW, FakeClock

CONVERSATION = "c0ffee00c0ffee00c0ffee00c0ffee00"
EMAIL = "emma.devries@example.com"


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = create_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def codes(engine: sa.Engine, clock: FakeClock) -> VerificationCodes:
    return VerificationCodes(engine, clock=clock)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def test_a_code_is_six_digits_valid_for_ten_minutes_and_works_once(
    codes: VerificationCodes, clock: FakeClock
) -> None:
    issued = await codes.issue(CONVERSATION, EMAIL)
    assert (len(issued.code), issued.code.isdigit()) == (6, True)
    assert issued.expires_at == NOW + timedelta(minutes=10)
    assert issued.code not in repr(issued)
    clock.advance(minutes=9, seconds=59)
    spaced = f"{issued.code[:3]} {issued.code[3:]}"
    assert await codes.verify(CONVERSATION, " Emma.DeVries@example.com", spaced) == CodeCheck(
        CodeOutcome.OK, 0
    )
    assert await codes.verify(CONVERSATION, EMAIL, issued.code) == CodeCheck(CodeOutcome.NO_CODE, 0)


async def test_a_code_expires_after_ten_minutes(codes: VerificationCodes, clock: FakeClock) -> None:
    issued = await codes.issue(CONVERSATION, EMAIL)
    clock.advance(minutes=10)
    assert await codes.verify(CONVERSATION, EMAIL, issued.code) == CodeCheck(CodeOutcome.EXPIRED, 0)


async def test_five_wrong_attempts_use_up_the_code(codes: VerificationCodes) -> None:
    issued = await codes.issue(CONVERSATION, EMAIL)
    checks = [await codes.verify(CONVERSATION, EMAIL, wrong(issued.code)) for _ in range(4)]
    checks.append(await codes.verify(CONVERSATION, EMAIL, "not a code"))
    checks.append(await codes.verify(CONVERSATION, EMAIL, issued.code))  # right, but too late
    assert checks == [
        CodeCheck(CodeOutcome.WRONG, 4),
        CodeCheck(CodeOutcome.WRONG, 3),
        CodeCheck(CodeOutcome.WRONG, 2),
        CodeCheck(CodeOutcome.WRONG, 1),
        CodeCheck(CodeOutcome.TOO_MANY_ATTEMPTS, 0),
        CodeCheck(CodeOutcome.TOO_MANY_ATTEMPTS, 0),
    ]


async def test_a_new_code_replaces_every_older_code_of_the_conversation(
    codes: VerificationCodes,
) -> None:
    first = await codes.issue(CONVERSATION, "someone@example.org")
    second = await codes.issue(CONVERSATION, EMAIL)
    third = await codes.issue(CONVERSATION, EMAIL)
    assert [
        await codes.verify(CONVERSATION, "someone@example.org", first.code),
        await codes.verify(CONVERSATION, EMAIL, second.code if second.code != third.code else "x"),
        await codes.verify(CONVERSATION, EMAIL, third.code),
    ] == [
        CodeCheck(CodeOutcome.NO_CODE, 0),
        CodeCheck(CodeOutcome.WRONG, 4),
        CodeCheck(CodeOutcome.OK, 0),
    ]


async def test_codes_belong_to_their_conversation_and_email(codes: VerificationCodes) -> None:
    issued = await codes.issue(CONVERSATION, EMAIL)
    assert [
        await codes.verify("another-conversation", EMAIL, issued.code),
        await codes.verify(CONVERSATION, "lukas.schneider@example.org", issued.code),
        await codes.verify("never-issued", EMAIL, "123456"),
    ] == [CodeCheck(CodeOutcome.NO_CODE, 0)] * 3


async def test_codes_and_emails_are_stored_only_as_hashes(
    codes: VerificationCodes, engine: sa.Engine
) -> None:
    issued = await codes.issue(CONVERSATION, EMAIL)
    with engine.connect() as connection:
        rows = [dict(row._mapping) for row in connection.execute(verification_codes.select())]
    assert len(rows) == 1
    stored = " ".join(str(value) for value in rows[0].values())
    assert issued.code not in stored
    assert "emma" not in stored
    assert (len(rows[0]["code_hash"]), len(rows[0]["email_hash"]), rows[0]["attempts"]) == (
        64,
        64,
        0,
    )


async def test_at_most_five_codes_an_hour_per_conversation(
    codes: VerificationCodes, clock: FakeClock
) -> None:
    for _ in range(5):
        await codes.issue(CONVERSATION, EMAIL)
        clock.advance(minutes=1)
    with pytest.raises(CodeLimitReached) as raised:
        await codes.issue(CONVERSATION, EMAIL)
    assert (raised.value.conversation_id, raised.value.retry_after) == (
        CONVERSATION,
        NOW + timedelta(hours=1),
    )
    await codes.issue("another-conversation", EMAIL)
    clock.now = NOW + timedelta(hours=1, seconds=1)
    issued = await codes.issue(CONVERSATION, EMAIL)
    assert await codes.verify(CONVERSATION, EMAIL, issued.code) == CodeCheck(CodeOutcome.OK, 0)


async def test_expired_codes_are_purged(codes: VerificationCodes, clock: FakeClock) -> None:
    await codes.issue(CONVERSATION, EMAIL)
    clock.advance(minutes=30)
    await codes.issue("another-conversation", EMAIL)
    assert await codes.purge(expired_before=clock.now) == 1
    assert await codes.purge(expired_before=clock.now) == 0


async def test_a_database_without_the_tables_is_unavailable(tmp_path: object) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/empty.db")
    with pytest.raises(BackendUnavailable) as raised:
        await VerificationCodes(engine).issue(CONVERSATION, EMAIL)
    assert (raised.value.system, raised.value.operation, raised.value.reason) == (
        "frontline-database",
        "issue_code",
        "database error (OperationalError)",
    )
    engine.dispose()
