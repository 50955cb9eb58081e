"""One-time codes mailed to the address on file to verify a customer.

A code is 6 digits, valid for 10 minutes, allows 5 attempts and works once.
Issuing a code replaces every older code of the conversation. Codes are stored
only as salted scrypt hashes and email addresses only as SHA-256 hashes; the
plain code exists only in ``IssuedCode`` (to put in the email) and is never
logged. At most 5 codes per conversation per hour (``CodeLimitReached``).

So that replies never reveal whether an address has an account, issue a code
for every address the customer gives and mail it only if the address is on
file: ``verify`` then answers the same way (``wrong``, then
``too_many_attempts``) for unknown addresses.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa

from actions.backends.errors import CodeLimitReached
from actions.backends.models import Clock, normalize_email, utc_now
from actions.backends.tables import aware, run, verification_codes

logger = logging.getLogger(__name__)

CODE_DIGITS = 6
CODE_LIFETIME = timedelta(minutes=10)
MAX_ATTEMPTS = 5
MAX_CODES_PER_HOUR = 5
# scrypt with 16 MiB of memory per hash: guessing a stolen 6-digit hash costs hours, not ms.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


class CodeOutcome(StrEnum):
    OK = "ok"
    WRONG = "wrong"
    EXPIRED = "expired"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    NO_CODE = "no_code"  # none issued, already used, or replaced by a newer one


@dataclass(frozen=True)
class IssuedCode:
    code: str = field(repr=False)  # to mail; never log or store it
    expires_at: datetime


@dataclass(frozen=True)
class CodeCheck:
    outcome: CodeOutcome
    attempts_left: int  # on this code; 0 once used, expired or exhausted


def email_hash(email: str) -> str:
    return hashlib.sha256(normalize_email(email).encode()).hexdigest()


def code_hash(code: str, salt: bytes) -> str:
    return hashlib.scrypt(
        code.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    ).hex()


def clean_code(text: str) -> str:
    """What the customer typed, without spaces and dashes (``123 456``)."""
    return "".join(ch for ch in text if ch not in " -\t")


class VerificationCodes:
    """Issues and checks one-time codes in Frontline's database."""

    def __init__(
        self,
        engine: sa.Engine,
        *,
        clock: Clock = utc_now,
        lifetime: timedelta = CODE_LIFETIME,
        max_attempts: int = MAX_ATTEMPTS,
        max_codes_per_hour: int = MAX_CODES_PER_HOUR,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.lifetime = lifetime
        self.max_attempts = max_attempts
        self.max_codes_per_hour = max_codes_per_hour

    async def issue(self, conversation_id: str, email: str) -> IssuedCode:
        """A new code for ``email`` in this conversation; older codes stop working."""
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        salt = secrets.token_bytes(16)
        hashed = code_hash(code, salt)
        now = aware(self.clock())
        expires_at = now + self.lifetime

        def work(connection: sa.Connection) -> None:
            window = now - timedelta(hours=1)
            recent = (
                connection.execute(
                    sa.select(verification_codes.c.created_at)
                    .where(
                        verification_codes.c.conversation_id == conversation_id,
                        verification_codes.c.created_at > window,
                    )
                    .order_by(verification_codes.c.created_at)
                )
                .scalars()
                .all()
            )
            if len(recent) >= self.max_codes_per_hour:
                oldest = aware(recent[len(recent) - self.max_codes_per_hour])
                raise CodeLimitReached(conversation_id, oldest + timedelta(hours=1))
            connection.execute(
                verification_codes.update()
                .where(
                    verification_codes.c.conversation_id == conversation_id,
                    verification_codes.c.superseded_at.is_(None),
                )
                .values(superseded_at=now)
            )
            connection.execute(
                verification_codes.insert().values(
                    id=str(uuid.uuid4()),
                    conversation_id=conversation_id,
                    email_hash=email_hash(email),
                    salt=salt.hex(),
                    code_hash=hashed,
                    attempts=0,
                    created_at=now,
                    expires_at=expires_at,
                )
            )

        await run(self.engine, "issue_code", work)
        logger.info("one-time code issued", extra={"conversation_id": conversation_id})
        return IssuedCode(code=code, expires_at=expires_at)

    async def verify(self, conversation_id: str, email: str, code: str) -> CodeCheck:
        """Checks ``code`` against the newest code issued for ``email`` here.
        Every check of a live code counts as an attempt, well-formed or not."""
        now = aware(self.clock())
        typed = clean_code(code)

        def work(connection: sa.Connection) -> CodeCheck:
            row = connection.execute(
                sa.select(verification_codes)
                .where(
                    verification_codes.c.conversation_id == conversation_id,
                    verification_codes.c.email_hash == email_hash(email),
                    verification_codes.c.superseded_at.is_(None),
                )
                .order_by(verification_codes.c.created_at.desc())
                .limit(1)
                .with_for_update()
            ).first()
            if row is None or row.used_at is not None:
                return CodeCheck(CodeOutcome.NO_CODE, 0)
            if now >= aware(row.expires_at):
                return CodeCheck(CodeOutcome.EXPIRED, 0)
            if row.attempts >= self.max_attempts:
                return CodeCheck(CodeOutcome.TOO_MANY_ATTEMPTS, 0)
            attempts = row.attempts + 1
            matches = hmac.compare_digest(code_hash(typed, bytes.fromhex(row.salt)), row.code_hash)
            counted = connection.execute(
                verification_codes.update()
                .where(
                    verification_codes.c.id == row.id,
                    verification_codes.c.attempts == row.attempts,
                    verification_codes.c.used_at.is_(None),
                )
                .values(attempts=attempts, used_at=now if matches else None)
            )
            if counted.rowcount != 1:  # a parallel check got there first
                return CodeCheck(CodeOutcome.WRONG, 0)
            if matches:
                return CodeCheck(CodeOutcome.OK, 0)
            left = self.max_attempts - attempts
            return CodeCheck(CodeOutcome.WRONG if left else CodeOutcome.TOO_MANY_ATTEMPTS, left)

        check = await run(self.engine, "verify_code", work)
        logger.info(
            "one-time code check: %s",
            check.outcome.value,
            extra={"conversation_id": conversation_id},
        )
        return check

    async def purge(self, expired_before: datetime) -> int:
        """Deletes codes that expired before ``expired_before``; returns how many."""

        def work(connection: sa.Connection) -> int:
            result = connection.execute(
                verification_codes.delete().where(
                    verification_codes.c.expires_at < aware(expired_before)
                )
            )
            return int(result.rowcount)

        return await run(self.engine, "purge_codes", work)
