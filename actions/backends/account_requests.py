"""Account requests the bot carried out (deletion, cancellations, ...), with
the conversation they came from: Frontline's own record, next to the
company system's."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from actions.backends.models import Clock, utc_now
from actions.backends.tables import account_requests, aware, run


class AccountRequestKind(StrEnum):
    DELETE_ACCOUNT = "delete_account"
    CANCEL_SUBSCRIPTION = "cancel_subscription"
    CANCEL_ORDER = "cancel_order"
    CHANGE_SHIPPING_ADDRESS = "change_shipping_address"
    PASSWORD_RESET = "password_reset"
    RESEND_ACTIVATION = "resend_activation"


@dataclass(frozen=True)
class AccountRequest:
    conversation_id: str
    customer_id: str
    kind: AccountRequestKind
    created_at: datetime
    reference: str | None = None  # the system's id: request, confirmation or order number
    effective_on: date | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))


def _from_row(row: sa.Row[Any]) -> AccountRequest:
    return AccountRequest(
        conversation_id=row.conversation_id,
        customer_id=row.customer_id,
        kind=AccountRequestKind(row.kind),
        created_at=aware(row.created_at),
        reference=row.reference,
        effective_on=row.effective_on,
        id=row.id,
    )


class AccountRequestStore:
    def __init__(self, engine: sa.Engine, *, clock: Clock = utc_now) -> None:
        self.engine = engine
        self.clock = clock

    async def record(
        self,
        conversation_id: str,
        customer_id: str,
        kind: AccountRequestKind | str,
        reference: str | None = None,
        effective_on: date | None = None,
    ) -> AccountRequest:
        """Stores one request; ``ValueError`` for an unknown kind."""
        request = AccountRequest(
            conversation_id=conversation_id,
            customer_id=customer_id,
            kind=AccountRequestKind(kind),
            created_at=aware(self.clock()),
            reference=reference,
            effective_on=effective_on,
        )

        def work(connection: sa.Connection) -> None:
            connection.execute(
                account_requests.insert().values(
                    id=request.id,
                    conversation_id=request.conversation_id,
                    customer_id=request.customer_id,
                    kind=request.kind.value,
                    reference=request.reference,
                    effective_on=request.effective_on,
                    created_at=request.created_at,
                )
            )

        await run(self.engine, "record_account_request", work)
        return request

    async def list(
        self, conversation_id: str | None = None, customer_id: str | None = None
    ) -> list[AccountRequest]:
        """Requests, oldest first, optionally of one conversation or customer."""
        query = account_requests.select().order_by(
            account_requests.c.created_at, account_requests.c.id
        )
        if conversation_id is not None:
            query = query.where(account_requests.c.conversation_id == conversation_id)
        if customer_id is not None:
            query = query.where(account_requests.c.customer_id == customer_id)

        def work(connection: sa.Connection) -> list[AccountRequest]:
            return [_from_row(row) for row in connection.execute(query)]

        return await run(self.engine, "list_account_requests", work)
