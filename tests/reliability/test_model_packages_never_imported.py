"""Trust point 2: the model data packages are anonymous; locating and verifying their files reads package
metadata only and never imports or runs any of their code.

Each check runs the locator in a fresh interpreter with an audit hook that records every import, so an
import of a part package, even one that fails, is seen; the fake distributions' ``__init__.py`` also
writes a marker file, so code of theirs that ran is seen too."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from roost.engine.models.default import QWEN_CODER_0_5B, installed_packaged_models

LOCATE_AND_VERIFY = textwrap.dedent(
    """
    import json, sys
    imported = []
    sys.addaudithook(lambda event, args: imported.append(args[0]) if event == "import" else None)
    from roost.engine.models.default import PackagedModel, join_and_verify, locate_part_files
    spec = PackagedModel(**json.loads(sys.argv[1]))
    paths = locate_part_files(spec)
    join_and_verify(paths, spec.sha256, __import__("pathlib").Path(sys.argv[2]))
    prefix = spec.distribution_prefix.replace("-", "_")
    print(json.dumps({
        "imported": sorted({n for n in imported if n.split(".")[0].startswith(prefix)}),
        "loaded": sorted(n for n in sys.modules if n.split(".")[0].startswith(prefix)),
        "paths": [str(p) for p in paths],
    }))
    """
)


def locate_in_fresh_interpreter(spec_fields: dict[str, object], joined: Path, pythonpath: str) -> dict:
    env = {**os.environ, "PYTHONPATH": pythonpath}
    result = subprocess.run(
        [sys.executable, "-c", LOCATE_AND_VERIFY, json.dumps(spec_fields), str(joined)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def write_booby_trapped_distribution(site: Path, name: str, content: bytes, marker: Path) -> None:
    """An installed distribution like the real parts (``get_part_path()`` works), whose code leaves a
    marker when it runs."""
    package = site / name
    (package / "data").mkdir(parents=True)
    (package / "data" / "part01.bin").write_bytes(content)
    (package / "__init__.py").write_text(
        f"import os\nopen({str(marker)!r}, 'a').write('executed\\n')\n"
        "def get_part_path():\n"
        "    return os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data', 'part01.bin')\n"
    )
    info = site / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "top_level.txt").write_text(f"{name}\n")
    (info / "RECORD").write_text(f"{name}/__init__.py,,\n{name}/data/part01.bin,,\n{info.name}/RECORD,,\n")


def test_a_part_distribution_s_code_never_runs_while_its_file_is_located_and_verified(tmp_path: Path) -> None:
    site, marker = tmp_path / "site", tmp_path / "executed.txt"
    content = b"weights" * 1000
    write_booby_trapped_distribution(site, "roosttrap_part1", content, marker)
    spec = {
        "name": "trap",
        "distribution_prefix": "roosttrap-part",
        "part_count": 1,
        "version": "1.0",
        "sha256": hashlib.sha256(content).hexdigest(),
        "description": "a booby-trapped part",
    }
    joined = tmp_path / "joined.bin"
    report = locate_in_fresh_interpreter(spec, joined, str(site))
    assert not marker.exists(), "the part package's code ran"
    assert report["imported"] == [] and report["loaded"] == []
    assert joined.read_bytes() == content  # found and verified all the same


@pytest.mark.skipif(
    QWEN_CODER_0_5B.name not in installed_packaged_models(), reason="the default model is not installed"
)
def test_the_installed_default_model_parts_are_found_and_verified_without_importing_them(
    tmp_path: Path,
) -> None:
    joined = tmp_path / "joined.gguf"
    report = locate_in_fresh_interpreter(
        {k: getattr(QWEN_CODER_0_5B, k) for k in QWEN_CODER_0_5B.__dataclass_fields__}, joined, ""
    )
    assert report["imported"] == [] and report["loaded"] == []
    assert len(report["paths"]) == QWEN_CODER_0_5B.part_count  # sha256 matched the pinned value
    joined.unlink()
