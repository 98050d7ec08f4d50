"""Fixtures for the security gate's tests."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from importlib.metadata import version
from pathlib import Path

import pytest

from roost.engine.gate import Gate


@pytest.fixture(scope="session")
def gate() -> Gate:
    return Gate()


def _fixture_cache() -> Path:
    configured = os.environ.get("ROOST_TEST_CACHE")
    if configured:
        return Path(configured)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("roost")) / "test-fixtures"


@pytest.fixture(scope="session")
def bandit_sdist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """bandit's sdist for the installed version, extracted: its ``examples/`` and functional test file.

    Downloaded with pip from PyPI (cached in the user cache dir), never committed to this repository.
    """
    bandit_version = version("bandit")
    cache = _fixture_cache()
    cache.mkdir(parents=True, exist_ok=True)
    archive = cache / f"bandit-{bandit_version}.tar.gz"
    if not archive.exists():
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--no-binary",
                ":all:",
                f"bandit=={bandit_version}",
                "-d",
                str(cache),
            ],
            capture_output=True,
            text=True,
            timeout=180,
        )
        if result.returncode != 0 or not archive.exists():
            pytest.skip(
                f"cannot download bandit {bandit_version}'s sdist from PyPI: {result.stderr.strip()[-400:]}"
            )
    target = tmp_path_factory.mktemp("bandit-sdist")
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")
    root = target / f"bandit-{bandit_version}"
    assert (root / "examples").is_dir(), "bandit's sdist has no examples/ folder"
    return root
