"""Shared test configuration. Area-specific fixtures live in each area's own conftest."""

from __future__ import annotations

import sys
from pathlib import Path

# The end-to-end harness (tests/lsp_harness.py) is imported by tests of every area.
sys.path.insert(0, str(Path(__file__).resolve().parent))
