"""bot/engine/locks.py against the local Redis: several processes standing in
for several Rasa replicas never hold one conversation's lock together, and
tickets are served in order, expire, and fail like Rasa's."""

from __future__ import annotations

import asyncio
import multiprocessing
import uuid
from collections.abc import Iterator
from multiprocessing.synchronize import Barrier
from typing import Any

import pytest
import redis
from rasa.core.lock_store import LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

from bot.engine.locks import LockStoreUnavailable, RedisTicketLockStore

REDIS_DB = 4
REPLICAS = 4
TURNS_PER_REPLICA = 10


def store(prefix: str) -> Any:
    """The lock store, built the way Rasa builds it from endpoints.yml."""
    return LockStore.create(
        EndpointConfig(
            type="bot.engine.locks.RedisTicketLockStore",
            url="127.0.0.1",
            port=6379,
            db=REDIS_DB,
            key_prefix=prefix,
        )
    )


def replica(prefix: str, conversation: str, turns: int, start: Barrier) -> None:
    """One replica (in its own process): once every replica is ready,
    ``turns`` simultaneous turns, each reads a counter, yields, writes it
    back: a lost update if two turns ever hold the lock together."""
    lock_store, red = store(prefix), redis.Redis(db=REDIS_DB)

    async def turn() -> None:
        async with lock_store.lock(conversation):
            holders = red.incr(f"{prefix}:test:holders")
            red.rpush(f"{prefix}:test:seen", holders)
            value = int(red.get(f"{prefix}:test:counter") or 0)
            await asyncio.sleep(0.003)
            red.set(f"{prefix}:test:counter", value + 1)
            red.decr(f"{prefix}:test:holders")

    async def main() -> None:
        await asyncio.gather(*(turn() for _ in range(turns)))

    start.wait(60)
    asyncio.run(main())


def replicas(prefix: str) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(REPLICAS)
    processes = [
        context.Process(target=replica, args=(prefix, "c-replicas", TURNS_PER_REPLICA, start))
        for _ in range(REPLICAS)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
    exit_codes = [p.exitcode for p in processes]
    for process in processes:
        if process.is_alive():
            process.kill()
    red = redis.Redis(db=REDIS_DB)
    seen = [int(x) for x in red.lrange(f"{prefix}:test:seen", 0, -1)]
    return {
        "exit_codes": exit_codes,
        "counter": int(red.get(f"{prefix}:test:counter") or 0),
        "most_holders": max(seen, default=0),
        "turns": len(seen),
    }


async def order(prefix: str) -> list[int]:
    """Tickets are served in the order they were taken: each turn starts once
    the one before it is queued behind a turn that holds the lock."""
    lock_store, red = store(prefix), redis.Redis(db=REDIS_DB)
    served: list[int] = []
    queue = f"{prefix}:c-order:queue"

    async def turn(n: int, hold: asyncio.Event | None = None) -> None:
        async with lock_store.lock("c-order"):
            if hold is not None:
                await hold.wait()
            served.append(n)

    release = asyncio.Event()
    tasks = [asyncio.create_task(turn(-1, release))]
    for n in range(8):
        while red.zcard(queue) < n + 1:
            await asyncio.sleep(0.001)
        tasks.append(asyncio.create_task(turn(n)))
    while red.zcard(queue) < 9:
        await asyncio.sleep(0.001)
    release.set()
    await asyncio.gather(*tasks)
    return served


async def dead_holder(prefix: str) -> dict[str, Any]:
    """A replica took the lock and died: the next turn waits for the ticket
    to expire, then goes ahead."""
    lock_store = store(prefix)
    dead = await lock_store.take_ticket("c-dead", 0.4)
    serving_before = await lock_store.now_serving("c-dead")
    async with lock_store.lock("c-dead") as lock:
        held = lock.now_serving
    return {
        "dead": dead,
        "serving_before": serving_before,
        "then_held": held,
        "serving_after": await lock_store.now_serving("c-dead"),
    }


async def expired_waiter(prefix: str) -> str:
    """A turn whose own ticket expires before its turn comes fails like Rasa's."""
    lock_store = store(prefix)
    await lock_store.take_ticket("c-wait", 5)
    try:
        async with lock_store.lock("c-wait", lock_lifetime=0.3):
            return "acquired"
    except LockError as error:
        return str(error)


def unreachable() -> str:
    try:
        RedisTicketLockStore(url="127.0.0.1", port=1, db=REDIS_DB)
    except LockStoreUnavailable as error:
        return str(error)
    return "created"


@pytest.fixture
def prefix() -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    name = f"t{uuid.uuid4().hex[:12]}"
    yield name
    red = redis.Redis(db=REDIS_DB)
    keys = red.keys(f"{name}:*")
    if keys:
        red.delete(*keys)


def test_lock_store_excludes_across_processes_in_order(prefix: str) -> None:
    assert type(store(prefix)).__name__ == "RedisTicketLockStore"
    # 4 processes x 10 simultaneous turns: never two holders, no lost update
    assert replicas(prefix) == {
        "exit_codes": [0, 0, 0, 0],
        "counter": 40,
        "most_holders": 1,
        "turns": 40,
    }
    assert asyncio.run(order(prefix)) == [-1, *range(8)]
    dead = asyncio.run(dead_holder(prefix))
    assert dead == {
        "dead": dead["dead"],
        "serving_before": dead["dead"],
        "then_held": dead["dead"] + 1,
        "serving_after": None,
    }
    assert asyncio.run(expired_waiter(prefix)) == (
        "Could not acquire lock for conversation_id 'c-wait'."
    )
    assert unreachable().startswith(
        "cannot reach the lock store's Redis at redis://127.0.0.1:1/4: ConnectionError."
    )
