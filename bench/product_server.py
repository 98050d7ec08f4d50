"""How the benchmarks start the product as an editor does: the ``roost serve --stdio`` command of this
interpreter's environment, and the environment that lets every run share the converted default model."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs


def serve_command() -> list[str]:
    """The ``roost`` console script beside this interpreter, or ``python -m`` where none is installed."""
    script = Path(sys.executable).with_name("roost")
    if script.exists():
        return [str(script), "serve", "--stdio"]
    return [sys.executable, "-m", "roost.lsp.cli", "serve", "--stdio"]


def model_cache_dir() -> str:
    """The user's cache (or ``$ROOST_CACHE_DIR``): the converted default model is kept there, so a
    benchmark's temporary state directory does not cost a minute of conversion."""
    return os.environ.get("ROOST_CACHE_DIR") or platformdirs.user_cache_dir("roost")
