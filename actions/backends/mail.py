"""Email: ``.eml`` files in an outbox folder (default) or SMTP (``SMTP_URL``).

``SMTP_URL`` forms (user and password percent-encoded if they contain ``@:/``)::

    smtp://host                       plain SMTP, port 25
    smtp://user:pass@host:587?starttls=true    STARTTLS before AUTH (port 587 by default)
    smtps://user:pass@host            implicit TLS, port 465

Messages are plain text (UTF-8) with From, To, Subject, Date and Message-ID.
Nothing here logs a body: bodies carry codes and reset links.
"""

from __future__ import annotations

import asyncio
import logging
import os
import smtplib
import ssl
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

from actions.backends.errors import BackendConfigError, BackendUnavailable
from actions.backends.models import Clock, mask_email, utc_now

logger = logging.getLogger(__name__)

DEFAULT_SENDER = "Brightwave <no-reply@brightwave.example>"
MESSAGE_ID_DOMAIN = "brightwave.example"
SMTP_TIMEOUT_SECONDS = 10.0

Security = Literal["none", "starttls", "tls"]
_TRUE = {"1", "true", "yes", "on"}


def build_message(
    sender: str, to: str, subject: str, text_body: str, clock: Clock = utc_now
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(clock())
    message["Message-ID"] = make_msgid(domain=MESSAGE_ID_DOMAIN)
    message.set_content(text_body)
    return message


class OutboxEmail:
    """``EmailSender`` that writes each message to ``<outbox>/<time>-<id>.eml``
    (for the demo and for development: nothing leaves the machine)."""

    def __init__(self, outbox: Path, sender: str = DEFAULT_SENDER, clock: Clock = utc_now) -> None:
        self.outbox = outbox
        self.sender = sender
        self.clock = clock

    async def send(self, to: str, subject: str, text_body: str) -> str:
        message = build_message(self.sender, to, subject, text_body, self.clock)
        name = f"{self.clock():%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}.eml"
        try:
            path = await asyncio.to_thread(self._write, name, message.as_bytes())
        except OSError as error:
            raise BackendUnavailable(
                "outbox", f"cannot write {self.outbox} ({error.strerror})", operation="send"
            ) from error
        logger.info("email to %s written to %s", mask_email(to), path.name)
        return str(message["Message-ID"])

    def _write(self, name: str, data: bytes) -> Path:
        self.outbox.mkdir(parents=True, exist_ok=True)
        temporary = self.outbox / f".{name}.tmp"
        temporary.write_bytes(data)
        path = self.outbox / name
        os.replace(temporary, path)  # readers never see half a message
        return path


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: Security = "none"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = SMTP_TIMEOUT_SECONDS


def parse_smtp_url(url: str, timeout: float = SMTP_TIMEOUT_SECONDS) -> SmtpConfig:
    """``SmtpConfig`` from an ``SMTP_URL``; ``BackendConfigError`` (without the
    password in it) if the URL is not usable."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise BackendConfigError("SMTP_URL", f"not a URL ({error})") from None
    if parts.scheme not in ("smtp", "smtps"):
        raise BackendConfigError("SMTP_URL", "scheme must be smtp:// or smtps://")
    if not parts.hostname:
        raise BackendConfigError("SMTP_URL", "no host")
    options = {key.lower(): values[-1] for key, values in parse_qs(parts.query).items()}
    unknown = set(options) - {"starttls"}
    if unknown:
        raise BackendConfigError("SMTP_URL", f"unknown options {sorted(unknown)}")
    starttls = options.get("starttls", "false").lower() in _TRUE
    if parts.scheme == "smtps":
        if starttls:
            raise BackendConfigError("SMTP_URL", "smtps:// is TLS already; drop starttls")
        security: Security = "tls"
        default_port = 465
    else:
        security = "starttls" if starttls else "none"
        default_port = 587 if starttls else 25
    return SmtpConfig(
        host=parts.hostname,
        port=port or default_port,
        security=security,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        timeout=timeout,
    )


class SmtpEmail:
    """``EmailSender`` over SMTP (stdlib ``smtplib`` in a worker thread).

    ``ssl_context`` defaults to the system's trusted certificates."""

    def __init__(
        self,
        config: SmtpConfig,
        sender: str = DEFAULT_SENDER,
        ssl_context: ssl.SSLContext | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.config = config
        self.sender = sender
        self.ssl_context = ssl_context
        self.clock = clock

    async def send(self, to: str, subject: str, text_body: str) -> str:
        message = build_message(self.sender, to, subject, text_body, self.clock)
        await asyncio.to_thread(self._send, message)
        logger.info("email to %s sent through %s", mask_email(to), self.config.host)
        return str(message["Message-ID"])

    def _send(self, message: EmailMessage) -> None:
        config = self.config
        context = self.ssl_context or ssl.create_default_context()
        try:
            client: smtplib.SMTP
            if config.security == "tls":
                client = smtplib.SMTP_SSL(
                    config.host, config.port, timeout=config.timeout, context=context
                )
            else:
                client = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
            with client:
                if config.security == "starttls":
                    client.starttls(context=context)
                if config.username:
                    client.login(config.username, config.password or "")
                client.send_message(message)
        except smtplib.SMTPAuthenticationError as error:
            raise self._unavailable(f"authentication failed ({error.smtp_code})") from error
        except smtplib.SMTPRecipientsRefused as error:
            codes = sorted({code for code, _ in error.recipients.values()})
            raise self._unavailable(f"recipient refused ({', '.join(map(str, codes))})") from error
        except smtplib.SMTPResponseException as error:
            raise self._unavailable(f"server answered {error.smtp_code}") from error
        except (TimeoutError, smtplib.SMTPServerDisconnected) as error:
            raise self._unavailable(f"no answer within {config.timeout:g} s or hung up") from error
        except ssl.SSLError as error:
            raise self._unavailable(f"TLS failed ({error.reason})") from error
        except (OSError, smtplib.SMTPException) as error:
            raise self._unavailable(f"{error.__class__.__name__}: {error}") from error

    def _unavailable(self, reason: str) -> BackendUnavailable:
        where = f"smtp {self.config.host}:{self.config.port}"
        return BackendUnavailable(where, reason, operation="send")
