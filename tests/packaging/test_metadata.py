"""The package's declared shape (pyproject.toml): what the light install pulls, what each extra adds,
the capped majors, and the files a published package carries (LICENSE, py.typed, project metadata)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
LOCAL_ONLY = {"torch", "transformers", "accelerate", "gguf", "safetensors"}
# Majors whose internals Roost uses, each with a version that must stay allowed and the next major.
CAPPED = {
    "pygls": ("2.1.1", "3"),
    "lsprotocol": ("2025.0.0", "2026"),
    "tree-sitter": ("0.26.1", "0.27"),
    "httpx2": ("2.17.0", "3"),
    "transformers": ("5.25.0", "6"),
}


def _requirements(names: list[str]) -> dict[str, Requirement]:
    parsed = [Requirement(text) for text in names]
    return {requirement.name.lower(): requirement for requirement in parsed}


def test_the_light_install_pulls_nothing_only_the_local_engine_needs() -> None:
    light = _requirements(PROJECT["dependencies"])
    assert not LOCAL_ONLY & light.keys(), LOCAL_ONLY & light.keys()
    assert {"tokenizers", "mistral-common", "httpx2", "pygls"} <= light.keys()  # exact counts, no torch
    extras = PROJECT["optional-dependencies"]
    assert _requirements(extras["local"]).keys() >= LOCAL_ONLY
    for extra in ("demo", "quant", "lora"):
        assert "roost[local]" in extras[extra], f"roost[{extra}] runs the local engine"


def test_majors_we_depend_on_the_internals_of_are_capped() -> None:
    every = _requirements(
        PROJECT["dependencies"] + [r for extra in PROJECT["optional-dependencies"].values() for r in extra]
    )
    for name, (tested, next_major) in CAPPED.items():
        specifier = every[name].specifier
        assert Version(tested) in specifier, f"{name} {specifier} excludes the tested {tested}"
        assert Version(next_major) not in specifier, f"{name} {specifier} lets {next_major} in"


def test_license_classifiers_urls_and_type_markers_are_published() -> None:
    license_text = (REPO_ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in license_text and "Version 2.0, January 2004" in license_text
    assert "END OF TERMS AND CONDITIONS" in license_text  # the full text, not a pointer to it
    assert PROJECT["license"] == "Apache-2.0" and "LICENSE" in PROJECT["license-files"]
    assert any(c.startswith("Programming Language :: Python :: 3.11") for c in PROJECT["classifiers"])
    assert {"Homepage", "Changelog", "Security"} <= PROJECT["urls"].keys()
    for package in ("lsp", "context", "engine"):
        assert (REPO_ROOT / package / "py.typed").is_file(), f"roost.{package} has no py.typed"
    for document in ("CHANGELOG.md", "CONTRIBUTING.md", "SECURITY.md"):
        assert (REPO_ROOT / document).is_file(), document


def test_the_shared_engine_check_reads_processes_through_psutil(tmp_path: Path) -> None:
    """A pid is the shared engine only while it runs ``roost.engine.server``: a reused pid, a zombie and
    a gone process are not (psutil, not /proc parsed by hand, so it holds on macOS too)."""
    from roost.engine.shared import _is_engine_process

    assert not _is_engine_process(os.getpid())  # alive, but not an engine
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)", "roost.engine.server"]
    engine_like = subprocess.Popen(sleeper, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 20
        while not _is_engine_process(engine_like.pid) and time.monotonic() < deadline:
            time.sleep(0.05)  # until the child has exec'd and shows its command line
        assert _is_engine_process(engine_like.pid)
        engine_like.kill()
        deadline = time.monotonic() + 20
        while _is_engine_process(engine_like.pid) and time.monotonic() < deadline:
            time.sleep(0.05)  # killed, not yet reaped: a zombie
        assert not _is_engine_process(engine_like.pid)
    finally:
        engine_like.kill()
        engine_like.wait(timeout=20)
    assert not _is_engine_process(engine_like.pid)
