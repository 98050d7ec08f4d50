"""Logging: a rotating file in the user's state directory, and warnings forwarded to the editor.

stdout belongs to the protocol when serving over stdio, so nothing is ever printed there.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from collections.abc import Callable
from pathlib import Path

import platformdirs

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def default_log_dir() -> Path:
    override = os.environ.get("ROOST_STATE_DIR")
    base = Path(override) if override else Path(platformdirs.user_state_dir("roost", appauthor=False))
    return base / "logs"


def configure_file_logging(level: str = "info", log_dir: Path | None = None) -> Path | None:
    """Attach a rotating file handler to the root logger; returns the file, or None if not writable."""
    directory = log_dir or default_log_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            directory / "roost.log", maxBytes=5_000_000, backupCount=3, encoding="utf-8"
        )
    except OSError:
        return None
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level.upper())
    # pygls logs every message it sends at INFO ("Sending data: …": suggestions, code edits, whole moved
    # files) and the client's answers to its requests: the user's code in the log file at the default
    # level. Only a debug log (asked for) keeps them.
    logging.getLogger("pygls").setLevel(logging.NOTSET if level.upper() == "DEBUG" else logging.WARNING)
    return directory / "roost.log"


class ForwardingHandler(logging.Handler):
    """Sends records (warnings and up by default) to a callback, e.g. ``window/logMessage``."""

    def __init__(self, send: Callable[[logging.LogRecord, str], None], level: int = logging.WARNING) -> None:
        super().__init__(level)
        self._send = send
        self._sending = False

    def emit(self, record: logging.LogRecord) -> None:
        if self._sending:  # a failure while sending must not recurse through logging
            return
        self._sending = True
        try:
            self._send(record, self.format(record))
        except Exception:  # noqa: BLE001 - logging must never raise into the caller
            pass
        finally:
            self._sending = False
