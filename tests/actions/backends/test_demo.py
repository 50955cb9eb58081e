"""The demo backend's own file: seeding, dates that move with the calendar,
and what it stores."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from actions.backends import BackendConfigError, DemoBackend, OrderStatus, OutboxEmail
from actions.backends import demo_data as t
from tests.actions.backends.conftest import CATALOGUE, DATA_DIR, TODAY, FakeClock, day, make_demo


def table_counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table.name: connection.execute(
                sa.select(sa.func.count()).select_from(table)
            ).scalar_one()
            for table in t.metadata.sorted_tables
        }


SEEDED = {
    "activation_emails": 0,
    "customers": 12,
    "deletion_requests": 1,
    "meta": 2,
    "order_items": 22,
    "orders": 20,
    "password_resets": 0,
    "subscriptions": 8,
}


async def test_the_demo_seeds_itself_on_first_use_from_data_demo(tmp_path: Path) -> None:
    demo = make_demo(tmp_path / "var" / "demo.db", tmp_path / "outbox", FakeClock())
    assert not (tmp_path / "var").exists()  # nothing happens before the first call
    assert (await demo.account_status("C-1001")).status == "active"
    assert table_counts(demo.engine()) == SEEDED
    await demo.aclose()


async def test_every_order_status_is_in_the_demo(demo: DemoBackend) -> None:
    with demo.engine().connect() as connection:
        statuses = set(connection.execute(sa.select(t.orders.c.status)).scalars())
    assert statuses == {status.value for status in OrderStatus}


async def test_seeding_again_keeps_what_happened_until_the_seed_changes(
    tmp_path: Path, clock: FakeClock
) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    path = tmp_path / "demo.db"

    def backend() -> DemoBackend:
        email = OutboxEmail(tmp_path / "outbox")
        return DemoBackend(
            path, data, data / "catalogue.yml", email, reset_url_base="r:", clock=clock
        )

    first = backend()
    await first.cancel_order("C-1001", "BW-104390")
    await first.aclose()
    again = backend()
    assert (await again.get_order("C-1001", "BW-104390")).status == OrderStatus.CANCELLED
    await again.aclose()
    customers = data / "customers.yml"
    customers.write_text(customers.read_text().replace("Emma de Vries", "Emma van Dijk"))
    changed = backend()
    assert (await changed.get_order("C-1001", "BW-104390")).status == OrderStatus.PROCESSING
    assert (await changed.profile("C-1001")).name == "Emma van Dijk"
    await changed.aclose()


def test_two_processes_seeding_at_once_seed_once(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    engines = [t.create_demo_engine(path) for _ in range(4)]
    results: list[bool] = []
    barrier = threading.Barrier(len(engines))

    def seed(engine: sa.Engine) -> None:
        barrier.wait()
        results.append(t.seed(engine, DATA_DIR, CATALOGUE, FakeClock()()))

    threads = [threading.Thread(target=seed, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]
    assert table_counts(engines[0]) == SEEDED
    for engine in engines:
        engine.dispose()


async def test_dates_move_with_the_calendar(demo: DemoBackend, clock: FakeClock) -> None:
    before = await demo.get_order("C-1002", "BW-104201")
    clock.advance(days=40)
    after = await demo.get_order("C-1002", "BW-104201")
    assert (before.expected_delivery, before.days_late(TODAY)) == (day(-3), 3)
    assert (after.expected_delivery, after.days_late(clock.now.date())) == (day(37), 3)


async def test_reset_links_are_stored_hashed_and_only_the_newest_counts(
    demo: DemoBackend,
) -> None:
    first = await demo.create_password_reset("C-1001")
    second = await demo.create_password_reset("C-1001")
    with demo.engine().connect() as connection:
        rows = connection.execute(
            sa.select(t.password_resets.c.token_hash, t.password_resets.c.superseded).order_by(
                t.password_resets.c.superseded
            )
        ).all()
    assert [tuple(row) for row in rows] == [
        (t.token_hash(second.token), False),
        (t.token_hash(first.token), True),
    ]


async def test_broken_seed_data_names_the_file_and_the_problem(
    tmp_path: Path, clock: FakeClock
) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    orders = data / "orders.yml"
    orders.write_text(orders.read_text().replace("product: pulse-2,", "product: pulse-3,", 1))
    email = OutboxEmail(tmp_path / "outbox")
    demo = DemoBackend(
        tmp_path / "demo.db", data, CATALOGUE, email, reset_url_base="r:", clock=clock
    )
    with pytest.raises(BackendConfigError) as raised:
        await demo.account_status("C-1001")
    assert (raised.value.source, raised.value.reason) == (
        str(orders),
        "BW-104233: unknown product pulse-3",
    )
