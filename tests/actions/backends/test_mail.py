"""Email: .eml files in the outbox, and SMTP to a real local aiosmtpd server
(plain, STARTTLS and implicit TLS, with and without login)."""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from actions.backends import (
    BackendConfigError,
    BackendUnavailable,
    OutboxEmail,
    SmtpConfig,
    SmtpEmail,
    parse_smtp_url,
)
from tests.actions.backends.conftest import FakeClock, read_outbox
from tests.actions.backends.servers import (
    Inbox,
    SmtpServer,
    authenticator,
    closed_port,
    server_tls_context,
)

BODY = "Hi Emma,\n\nYour code is 123456. It is valid for 10 minutes.\n\nGrüße, Brightwave\n"


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 (made with the openssl tool)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return str(cert), str(key)


def trusting(cert: str) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=cert)


@pytest.fixture
def inbox() -> Inbox:
    return Inbox(refuse={"gone@example.net"})


@pytest.fixture
def smtp(inbox: Inbox) -> Iterator[SmtpServer]:
    server = SmtpServer(inbox, authenticator=authenticator("frontline", "p@ss:word"),
                        auth_require_tls=False)  # fmt: skip
    server.start()
    yield server
    server.stop()


async def test_the_outbox_gets_one_eml_file_per_message(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    sender = OutboxEmail(outbox, clock=FakeClock())
    message_id = await sender.send("emma.devries@example.com", "Your Brightwave code", BODY)
    [message] = read_outbox(outbox)
    assert [path.name.endswith(".eml") for path in outbox.iterdir()] == [True]
    assert (message["From"], message["To"], message["Subject"], message["Message-ID"]) == (
        "Brightwave <no-reply@brightwave.example>",
        "emma.devries@example.com",
        "Your Brightwave code",
        message_id,
    )
    assert message["Date"] == "Tue, 10 Mar 2026 09:30:00 +0000"
    assert message.get_content() == BODY


async def test_an_unwritable_outbox_is_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(BackendUnavailable) as raised:
        await OutboxEmail(blocker / "outbox").send("a@example.com", "s", "b")
    assert (raised.value.system, raised.value.operation) == ("outbox", "send")


async def test_smtp_delivers_subject_recipient_and_body(smtp: SmtpServer, inbox: Inbox) -> None:
    config = parse_smtp_url(f"smtp://frontline:p%40ss%3Aword@127.0.0.1:{smtp.port}")
    sender = SmtpEmail(config, sender="Brightwave Support <support@brightwave.example>")
    message_id = await sender.send("emma.devries@example.com", "Your Brightwave code", BODY)
    [received] = inbox.received
    assert (received.mail_from, received.rcpt_tos, received.login) == (
        "support@brightwave.example",
        ["emma.devries@example.com"],
        "frontline",
    )
    message = received.message
    assert (message["To"], message["Subject"], message["Message-ID"]) == (
        "emma.devries@example.com",
        "Your Brightwave code",
        message_id,
    )
    assert message.get_content() == BODY


async def test_smtp_with_starttls(certificate: tuple[str, str], inbox: Inbox) -> None:
    cert, key = certificate
    server = SmtpServer(inbox, tls_context=server_tls_context(cert, key), require_starttls=True,
                        authenticator=authenticator("frontline", "secret"))  # fmt: skip
    server.start()
    try:
        config = parse_smtp_url(f"smtp://frontline:secret@127.0.0.1:{server.port}?starttls=true")
        await SmtpEmail(config, ssl_context=trusting(cert)).send("a@example.org", "Hello", BODY)
    finally:
        server.stop()
    assert [(r.rcpt_tos, r.login, r.message.get_content()) for r in inbox.received] == [
        (["a@example.org"], "frontline", BODY)
    ]


async def test_smtps_with_implicit_tls(certificate: tuple[str, str], inbox: Inbox) -> None:
    cert, key = certificate
    server = SmtpServer(inbox, ssl_context=server_tls_context(cert, key))
    server.start()
    try:
        config = parse_smtp_url(f"smtps://127.0.0.1:{server.port}")
        await SmtpEmail(config, ssl_context=trusting(cert)).send("b@example.net", "Hi", BODY)
    finally:
        server.stop()
    assert [(r.rcpt_tos, r.message["Subject"]) for r in inbox.received] == [
        (["b@example.net"], "Hi")
    ]


async def test_an_untrusted_certificate_is_refused(
    certificate: tuple[str, str], inbox: Inbox
) -> None:
    cert, key = certificate
    server = SmtpServer(inbox, ssl_context=server_tls_context(cert, key))
    server.start()
    try:
        config = parse_smtp_url(f"smtps://127.0.0.1:{server.port}")
        with pytest.raises(BackendUnavailable) as raised:
            await SmtpEmail(config).send("b@example.net", "Hi", BODY)  # system trust store
    finally:
        server.stop()
    assert raised.value.reason.startswith("TLS failed")
    assert inbox.received == []


async def test_smtp_failures_are_unavailable_with_the_reason(
    smtp: SmtpServer, inbox: Inbox
) -> None:
    reasons = []
    for config, to in (
        (SmtpConfig("127.0.0.1", smtp.port, username="frontline", password="wrong"), "a@x.org"),
        (SmtpConfig("127.0.0.1", smtp.port), "gone@example.net"),
        (SmtpConfig("127.0.0.1", closed_port(), timeout=2), "a@example.org"),
    ):
        with pytest.raises(BackendUnavailable) as raised:
            await SmtpEmail(config).send(to, "Subject", BODY)
        reasons.append(raised.value.reason)
    assert reasons[:2] == ["authentication failed (535)", "recipient refused (550)"]
    assert reasons[2].startswith("ConnectionRefusedError: ")
    assert inbox.received == []
    assert "wrong" not in repr(SmtpConfig("h", 1, password="wrong"))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.com", SmtpConfig("mail.example.com", 25)),
        (
            "smtp://u:p@mail.example.com?starttls=true",
            SmtpConfig("mail.example.com", 587, "starttls", "u", "p"),
        ),
        ("smtps://u%40x:p%2Fq@mail.example.com",
         SmtpConfig("mail.example.com", 465, "tls", "u@x", "p/q")),
        ("smtp://mail.example.com:2525?starttls=1",
         SmtpConfig("mail.example.com", 2525, "starttls")),
    ],
)  # fmt: skip
def test_smtp_urls(url: str, expected: SmtpConfig) -> None:
    assert parse_smtp_url(url) == expected


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://mail.example.com", "scheme must be smtp:// or smtps://"),
        ("smtp://", "no host"),
        ("smtp://h?tls=1", "unknown options ['tls']"),
        ("smtps://h?starttls=true", "smtps:// is TLS already; drop starttls"),
        ("smtp://u:secret@h:notaport",
         "not a URL (Port could not be cast to integer value as 'notaport')"),
    ],
)  # fmt: skip
def test_bad_smtp_urls_say_why_without_the_password(url: str, reason: str) -> None:
    with pytest.raises(BackendConfigError) as raised:
        parse_smtp_url(url)
    assert (raised.value.source, raised.value.reason) == ("SMTP_URL", reason)
    assert "secret" not in str(raised.value)
