"""A Redis lock store for several Rasa replicas that really excludes (runs
inside the Rasa engine).

Rasa 3.6's ``RedisLockStore`` keeps each conversation's ticket queue as one
JSON value and changes it by reading it, editing it in Python and writing it
back. Two replicas taking a ticket at the same moment both read the same queue,
both get the same ticket and both process the conversation at once: the later
tracker save loses the other's turn. (Measured here: four processes taking the
lock ten times each held it four at a time, and a counter guarded by it reached
3 instead of 40.)

``RedisTicketLockStore`` keeps Rasa's ticket-lock behaviour (first come, first
served; a ticket lives ``lock_lifetime`` seconds, so a replica that dies while
holding one blocks the conversation for at most that long; a turn whose ticket
expires while waiting fails with Rasa's ``LockError``) with every change made
by one Redis command or Lua script, which Redis runs atomically. Per
conversation it uses:

* ``<prefix>:<id>:seq``: the last ticket number issued (``INCR``);
* ``<prefix>:<id>:queue``: the numbers of tickets not yet finished (a sorted set);
* ``<prefix>:<id>:ticket:<n>``: ticket ``n``, alive until it expires.

The holder is the lowest number in the queue whose ticket is alive. Waiters
poll with a short back-off (Rasa's store sleeps a whole second between tries).

Configured in ``bot/endpoints-replicas.yml`` with the same keys as Rasa's store
(``url``, ``port``, ``db``, ``username``, ``password``, ``use_ssl``,
``key_prefix``, ``socket_timeout``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import (
    DEFAULT_SOCKET_TIMEOUT_IN_SECONDS,
    LOCK_LIFETIME,
    LockError,
    LockStore,
)

logger = logging.getLogger(__name__)

DEFAULT_KEY_PREFIX = "lock"
FIRST_WAIT_SECONDS = 0.005
MAX_WAIT_SECONDS = 0.1

# KEYS: seq, queue. ARGV: ticket key prefix, ticket lifetime (ms), how long the
# sequence and queue outlive the last ticket issued (ms). Returns the number.
ISSUE = """
local n = redis.call('INCR', KEYS[1])
redis.call('SET', ARGV[1] .. n, '1', 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], n, n)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return n
"""

# KEYS: queue. ARGV: ticket key prefix. Drops expired tickets from the front of
# the queue and returns the number of the first live one (-1 when none).
FRONT = """
while true do
  local first = redis.call('ZRANGE', KEYS[1], 0, 0)
  if #first == 0 then return -1 end
  if redis.call('EXISTS', ARGV[1] .. first[1]) == 1 then return tonumber(first[1]) end
  redis.call('ZREM', KEYS[1], first[1])
end
"""


class RedisTicketLockStore(LockStore):
    """Rasa's ticket lock on Redis, with atomic changes (see the module doc)."""

    def __init__(self, endpoint_config: Any = None, **kwargs: Any) -> None:
        import redis.asyncio

        options = dict(getattr(endpoint_config, "kwargs", None) or {})
        options.update(kwargs)
        url, host = options.pop("url", None), options.pop("host", None)
        host = getattr(endpoint_config, "url", None) or url or host or "localhost"
        self.key_prefix = str(options.pop("key_prefix", None) or DEFAULT_KEY_PREFIX)
        if not self.key_prefix.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"lock_store.key_prefix must be alphanumeric, got {self.key_prefix!r}")
        connection = {
            "host": host,
            "port": int(options.pop("port", 6379)),
            "db": int(options.pop("db", 1)),
            "username": options.pop("username", None),
            "password": options.pop("password", None),
            "ssl": bool(options.pop("use_ssl", False)),
            "socket_timeout": float(
                options.pop("socket_timeout", DEFAULT_SOCKET_TIMEOUT_IN_SECONDS)
            ),
        }
        options.pop("type", None)
        if options:
            logger.warning("lock store: ignoring unknown settings %s", sorted(options))
        _check_reachable(connection)
        self.red = redis.asyncio.Redis(**connection)
        self._issue = self.red.register_script(ISSUE)
        self._front = self.red.register_script(FRONT)
        super().__init__()

    def _keys(self, conversation_id: str) -> tuple[str, str, str]:
        base = f"{self.key_prefix}:{conversation_id}"
        return f"{base}:seq", f"{base}:queue", f"{base}:ticket:"

    async def take_ticket(self, conversation_id: str, lifetime: float) -> int:
        """A new ticket at the end of the conversation's queue."""
        seq, queue, ticket = self._keys(conversation_id)
        lifetime_ms = max(int(lifetime * 1000), 1)
        return int(
            await self._issue(keys=[seq, queue], args=[ticket, lifetime_ms, 2 * lifetime_ms])
        )

    async def now_serving(self, conversation_id: str) -> int | None:
        """The ticket holding the conversation's lock (None when free)."""
        _, queue, ticket = self._keys(conversation_id)
        front = int(await self._front(keys=[queue], args=[ticket]))
        return None if front < 0 else front

    async def finish(self, conversation_id: str, number: int) -> None:
        _, queue, ticket = self._keys(conversation_id)
        async with self.red.pipeline(transaction=True) as pipe:
            # A pipeline's commands chain; redis types them as the client's awaitables.
            await pipe.delete(f"{ticket}{number}").zrem(queue, number).execute()  # type: ignore[attr-defined]

    @asynccontextmanager
    async def lock(  # type: ignore[override]
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = MAX_WAIT_SECONDS,
    ) -> AsyncIterator[TicketLock]:
        """Holds the conversation's lock for the block (first come, first
        served). Raises ``LockError`` if Redis cannot be reached or the ticket
        expires before its turn comes."""
        try:
            number = await self.take_ticket(conversation_id, lock_lifetime)
        except Exception as error:  # a Redis outage: Rasa's own error type
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error
        expires = time.time() + lock_lifetime
        try:
            await self._wait_for_turn(conversation_id, number, wait_time_in_seconds)
            yield TicketLock(conversation_id, deque([Ticket(number, expires)]))
        finally:
            try:
                await self.finish(conversation_id, number)
            except Exception:  # the ticket still expires by itself
                logger.exception("could not release the lock of %s", conversation_id)

    async def _wait_for_turn(self, conversation_id: str, number: int, max_wait: float) -> None:
        wait = min(FIRST_WAIT_SECONDS, max_wait)
        while True:
            serving = await self.now_serving(conversation_id)
            if serving == number:
                return
            if serving is None or serving > number:  # our own ticket expired
                raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
            await asyncio.sleep(wait)
            wait = min(wait * 2, max_wait)


class LockStoreUnavailable(RuntimeError):
    """The lock store's Redis cannot be reached at start."""


def _check_reachable(connection: dict[str, Any]) -> None:
    import redis

    client = redis.Redis(**{**connection, "socket_connect_timeout": 5})
    try:
        client.ping()
    except redis.RedisError as error:
        where = f"redis://{connection['host']}:{connection['port']}/{connection['db']}"
        raise LockStoreUnavailable(
            f"cannot reach the lock store's Redis at {where}: {error.__class__.__name__}. "
            "Check REDIS_URL and that Redis is running."
        ) from error
    finally:
        client.close()
