"""bot/engine/locks.py runs inside the Rasa engine (Python 3.10): these tests run a
script with the engine's Python against the local Redis, several processes
standing in for several Rasa replicas, and check what it prints."""

from __future__ import annotations

import textwrap
import uuid

from tests.bot.engine.harness import run_script

REDIS_DB = 4

ENGINE_SCRIPT = textwrap.dedent(
    """
    import asyncio, json, multiprocessing, sys, time

    import redis
    from rasa.core.lock_store import LockError, LockStore
    from rasa.utils.endpoints import EndpointConfig

    from bot.engine.locks import LockStoreUnavailable, RedisTicketLockStore

    PREFIX, DB = sys.argv[1], int(sys.argv[2])
    CONFIG = dict(type="bot.engine.locks.RedisTicketLockStore", url="127.0.0.1", port=6379, db=DB,
                  key_prefix=PREFIX)


    def store():
        # the way Rasa builds it from endpoints.yml
        return LockStore.create(EndpointConfig(**CONFIG))


    def replica(conversation, turns, start_at):
        # Each turn reads a counter, yields, writes it back: a lost update if
        # two turns ever hold the lock together.
        lock_store, red = store(), redis.Redis(db=DB)

        async def turn():
            async with lock_store.lock(conversation):
                holders = red.incr(f"{PREFIX}:test:holders")
                red.rpush(f"{PREFIX}:test:seen", holders)
                value = int(red.get(f"{PREFIX}:test:counter") or 0)
                await asyncio.sleep(0.003)
                red.set(f"{PREFIX}:test:counter", value + 1)
                red.decr(f"{PREFIX}:test:holders")

        async def main():
            await asyncio.sleep(max(start_at - time.time(), 0))
            await asyncio.gather(*(turn() for _ in range(turns)))

        asyncio.run(main())


    def replicas():
        start_at = time.time() + 1.5
        processes = [
            multiprocessing.Process(target=replica, args=("c-replicas", 10, start_at))
            for _ in range(4)
        ]
        for process in processes:
            process.start()
        for process in processes:
            process.join(60)
        red = redis.Redis(db=DB)
        seen = [int(x) for x in red.lrange(f"{PREFIX}:test:seen", 0, -1)]
        return {
            "exit_codes": [p.exitcode for p in processes],
            "counter": int(red.get(f"{PREFIX}:test:counter") or 0),
            "most_holders": max(seen, default=0),
            "turns": len(seen),
        }


    async def order():
        # tickets are served in the order they were taken: each turn starts once
        # the one before it is queued behind a turn that holds the lock
        lock_store, red, served = store(), redis.Redis(db=DB), []
        queue = f"{PREFIX}:c-order:queue"

        async def turn(n, hold=None):
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


    async def dead_holder():
        # a replica took the lock and died: the next turn waits for the ticket
        # to expire, then goes ahead
        lock_store = store()
        dead = await lock_store.take_ticket("c-dead", 0.4)
        serving_before = await lock_store.now_serving("c-dead")
        async with lock_store.lock("c-dead") as lock:
            held = lock.now_serving
        return {"dead": dead, "serving_before": serving_before, "then_held": held,
                "serving_after": await lock_store.now_serving("c-dead")}


    async def expired_waiter():
        # a turn whose own ticket expires before its turn comes fails like Rasa's
        lock_store = store()
        await lock_store.take_ticket("c-wait", 5)
        try:
            async with lock_store.lock("c-wait", lock_lifetime=0.3):
                return "acquired"
        except LockError as error:
            return str(error)


    def unreachable():
        try:
            RedisTicketLockStore(url="127.0.0.1", port=1, db=DB)
        except LockStoreUnavailable as error:
            return str(error)
        return "created"


    outcome = {
        "class": type(store()).__name__,
        "replicas": replicas(),
        "order": asyncio.run(order()),
        "dead_holder": asyncio.run(dead_holder()),
        "expired_waiter": asyncio.run(expired_waiter()),
        "unreachable": unreachable(),
    }
    red = redis.Redis(db=DB)
    red.delete(*red.keys(f"{PREFIX}:*"))
    print(json.dumps(outcome))
    """
)


def test_lock_store_excludes_across_processes_in_order() -> None:
    prefix = f"t{uuid.uuid4().hex[:12]}"
    outcome = run_script(ENGINE_SCRIPT, prefix, str(REDIS_DB))

    assert outcome["class"] == "RedisTicketLockStore"
    # 4 processes x 10 simultaneous turns: never two holders, no lost update
    assert outcome["replicas"] == {
        "exit_codes": [0, 0, 0, 0],
        "counter": 40,
        "most_holders": 1,
        "turns": 40,
    }
    assert outcome["order"] == [-1, *range(8)]
    dead = outcome["dead_holder"]
    assert dead == {
        "dead": dead["dead"],
        "serving_before": dead["dead"],
        "then_held": dead["dead"] + 1,
        "serving_after": None,
    }
    assert outcome["expired_waiter"] == "Could not acquire lock for conversation_id 'c-wait'."
    assert outcome["unreachable"].startswith(
        "cannot reach the lock store's Redis at redis://127.0.0.1:1/4: ConnectionError."
    )
