"""What every Frontline entry point does first: logging and settings.

Stdlib only at import time, so the Rasa engine can use ``JsonFormatter`` from
its logging config (``bot/logging.yml``) too.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import Any, TypeVar

# Attributes every LogRecord has; anything else was passed with ``extra=``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}

SettingsT = TypeVar("SettingsT")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any extras
    (``conversation_id`` first among them)."""

    def __init__(self, service: str = "") -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, str | int | float | bool) else str(value)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(
    service: str, level: str = "INFO", *, log_file: Path | None = None, console: str = ""
) -> None:
    """Call once, in an entry point. Without ``log_file``: JSON lines on stderr
    (services, whose stderr the launcher keeps in var/log). With it: JSON lines
    in ``log_file``, and on stderr only what a person at the console needs, in
    words: the ``console`` logger's messages and any other logger's warnings."""
    root = logging.getLogger()
    root.setLevel(level.upper())
    if log_file is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter(service))
        root.handlers[:] = [handler]
        return
    log_file.parent.mkdir(parents=True, exist_ok=True)
    to_file = logging.FileHandler(log_file, encoding="utf-8")
    to_file.setFormatter(JsonFormatter(service))
    to_console = logging.StreamHandler(sys.stderr)
    to_console.setFormatter(ConsoleFormatter())
    to_console.addFilter(
        lambda record: (
            record.levelno >= logging.WARNING
            or record.name == console
            or record.name.startswith(console + ".")
        )
    )
    root.handlers[:] = [to_file, to_console]


class ConsoleFormatter(logging.Formatter):
    """``12:00:01  starting rasa``; warnings and errors name their level and,
    if not the launcher's, the logger."""

    def format(self, record: logging.LogRecord) -> str:
        line = time.strftime("%H:%M:%S", time.localtime(record.created)) + "  "
        if record.levelno >= logging.WARNING:
            line += f"{record.levelname.lower()}: "
            if not record.name.startswith("launcher"):
                line += f"({record.name}) "
        line += record.getMessage()
        if record.exc_info:
            line += " (details in the log file)"
        return line


class SettingsError(Exception):
    """Settings are invalid; the message names the environment variables."""


def load_settings(settings_class: type[SettingsT], **overrides: Any) -> SettingsT:
    """Reads ``settings_class`` from the environment; a ``SettingsError`` names
    every invalid variable and what is wrong with it."""
    from pydantic import ValidationError

    try:
        return settings_class(**overrides)
    except ValidationError as error:
        problems = []
        for issue in error.errors():
            field = str(issue["loc"][0]) if issue["loc"] else "?"
            problems.append(f"{env_name(settings_class, field)}: {issue['msg']}")
        raise SettingsError("invalid settings: " + "; ".join(problems)) from None


def env_name(settings_class: type, field: str) -> str:
    """The environment variable that sets ``field`` of a pydantic-settings class."""
    info = settings_class.model_fields.get(field)  # type: ignore[attr-defined]
    if info is None:  # already an alias
        return field.upper()
    alias = info.validation_alias
    choices = getattr(alias, "choices", None)
    if choices:
        return str(choices[0])
    if isinstance(alias, str):
        return alias.upper()
    prefix = settings_class.model_config.get("env_prefix", "")  # type: ignore[attr-defined]
    return f"{prefix}{field}".upper()


def exit_on_settings_error(error: SettingsError) -> None:
    """Entry points: print the settings problem and stop with exit code 2."""
    print(f"frontline: {error}", file=sys.stderr)
    raise SystemExit(2)
