"""Exceptions of the backends package.

::

    BackendError                  base of everything raised here on purpose
    ├── BackendUnavailable        system down, slow, refusing us or answering nonsense
    ├── BackendConfigError        a configuration file or URL is invalid
    ├── NotFound                  no such order / customer / product / platform / subscription
    ├── NotAllowed                the system refuses because of the current state
    └── CodeLimitReached          too many one-time codes issued for one conversation

Every error has structured fields; ``str(error)`` is for logs and never contains
a password, a code, a token or an email address.
"""

from __future__ import annotations

from datetime import datetime


class BackendError(Exception):
    """Base of every error the backends package raises on purpose."""


class BackendUnavailable(BackendError):
    """``system`` could not answer ``operation``: down, too slow, an HTTP 5xx
    after ``attempts`` tries, credentials refused or a malformed answer.

    Callers apologise and offer a human; the ``reason`` is for logs only.
    """

    def __init__(
        self, system: str, reason: str, *, operation: str | None = None, attempts: int = 1
    ) -> None:
        where = f"{system} ({operation})" if operation else system
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        super().__init__(f"{where} unavailable{tries}: {reason}")
        self.system = system
        self.reason = reason
        self.operation = operation
        self.attempts = attempts


class BackendConfigError(BackendError):
    """The configuration in ``source`` (a file or a setting) is invalid."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class NotFound(BackendError):
    """No ``kind`` (``customer``, ``order``, ``product``, ``platform``,
    ``subscription``) is known by ``key`` (to the caller who asked)."""

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"no {kind} {key!r}")
        self.kind = kind
        self.key = key


class NotAllowed(BackendError):
    """``operation`` is refused; ``reason`` is one of ``Refusal`` and ``state``
    the current state that explains it (an order or account status), if any."""

    def __init__(self, operation: str, reason: str, state: str | None = None) -> None:
        in_state = f" (state {state})" if state else ""
        super().__init__(f"{operation} not allowed: {reason}{in_state}")
        self.operation = operation
        self.reason = reason
        self.state = state


class CodeLimitReached(BackendError):
    """Too many one-time codes were issued for ``conversation_id`` in the last
    hour; a new one can be issued at ``retry_after``."""

    def __init__(self, conversation_id: str, retry_after: datetime) -> None:
        super().__init__(
            f"conversation {conversation_id}: code limit reached until {retry_after.isoformat()}"
        )
        self.conversation_id = conversation_id
        self.retry_after = retry_after
