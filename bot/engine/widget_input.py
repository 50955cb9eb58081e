"""What a widget may send, checked and normalised before any work is done on it.

Standard library only: the channel (``bot.engine.channel``) uses it inside the Rasa
engine, and the application environment's tests check it directly.

* ``clean_text``: a customer's text as NLU, the tracker and every log may hold
  it (lone UTF-16 surrogates, which JSON allows and UTF-8 cannot encode, become
  U+FFFD; control characters other than newline and tab are dropped; line
  ends become ``\\n``; Unicode NFC).
* ``check_message_id`` / ``check_metadata``: a client's message id and metadata,
  or ``InputRefused`` with the reason the client is told.
* ``resume_token``: the secret that lets a browser resume its session, derived
  from the session id with the deployment's key (nothing is stored).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import unicodedata
from typing import Any

# A client's message id: what the widget sends (32 hex characters) and any
# other short printable ASCII id; anything else is refused, never cut.
MAX_MESSAGE_ID_CHARS = 100
MESSAGE_ID = re.compile(rf"^[\x21-\x7e]{{1,{MAX_MESSAGE_ID_CHARS}}}$")
MESSAGE_ID_REASON = (
    f"message_id must be 1 to {MAX_MESSAGE_ID_CHARS} printable ASCII characters without spaces"
)
DEFAULT_MAX_METADATA_BYTES = 4096
# Control characters (Unicode category Cc) except tab and newline; CR is
# turned into a newline before.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
RESUME_CONTEXT = b"frontline-widget-resume:"


class InputRefused(ValueError):
    """A widget's input that is refused; ``reason`` is what the client is told."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def clean_text(text: str) -> str:
    """``text`` with lone surrogates replaced by U+FFFD (a well-formed pair
    becomes its character), CR LF and CR as LF, other control characters
    except tab removed, in Unicode NFC."""
    text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    text = CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return unicodedata.normalize("NFC", text)


def check_message_id(value: Any) -> str | None:
    """The client's message id, ``None`` if it sent none; refuses a malformed one."""
    if value is None:
        return None
    if isinstance(value, str) and MESSAGE_ID.match(value):
        return value
    raise InputRefused(MESSAGE_ID_REASON)


def check_metadata(value: Any, max_bytes: int = DEFAULT_MAX_METADATA_BYTES) -> dict[str, Any]:
    """A copy of the client's metadata made of plain JSON values (``{}`` if it
    sent none); refuses anything else, or more than ``max_bytes`` of UTF-8 JSON."""
    if value is None:
        return {}
    reason = f"metadata must be a JSON object of at most {max_bytes} bytes"
    if not isinstance(value, dict):
        raise InputRefused(reason)
    try:
        encoded = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        data = encoded.encode("utf-8")  # a lone surrogate anywhere fails here
    except (TypeError, ValueError, RecursionError) as error:
        raise InputRefused(reason) from error
    if len(data) > max_bytes:
        raise InputRefused(reason)
    copy: dict[str, Any] = json.loads(data)
    return copy


def resume_token(key: bytes, session_id: str) -> str:
    """The secret a browser shows to resume ``session_id``: HMAC-SHA256 of the
    session id under the deployment's key, URL-safe base64 (43 characters)."""
    digest = hmac.new(key, RESUME_CONTEXT + session_id.encode("ascii"), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode("ascii")


def resume_allowed(key: bytes, session_id: str, token: Any) -> bool:
    """Whether ``token`` is ``session_id``'s resume token (constant-time)."""
    if not isinstance(token, str) or not token.isascii():
        return False
    return hmac.compare_digest(token, resume_token(key, session_id))
