"""What the trust tests share besides fixtures, importable under its own name (``from conftest import``
resolves to whichever directory's conftest pytest imported last)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

_TESTS = Path(__file__).resolve().parent.parent
if str(_TESTS / "lsp_features") not in sys.path:
    sys.path.insert(0, str(_TESTS / "lsp_features"))

from fake_openai import FakeOpenAI, fake_backend_options  # noqa: E402

# The console script editors start: ``python -m`` would itself put the working directory on sys.path.
ROOST_SCRIPT = Path(sys.executable).parent / "roost"
SERVE_COMMAND = [str(ROOST_SCRIPT), "serve", "--stdio"]

__all__ = ["ROOST_SCRIPT", "SERVE_COMMAND", "FakeOpenAI", "every_prompt_text", "fake_backend_options"]


def every_prompt_text(fake: FakeOpenAI) -> str:
    """Everything any request sent to the backend, as one string to search for planted secrets."""
    return "\n".join(json.dumps(body) for body in fake.requests)
