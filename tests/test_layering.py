"""The layer rules of docs/architecture.md, checked on the source: context/ knows no models and no LSP,
engine/ knows no graph and no LSP, lsp/ runs no torch and parses nothing itself. The rules are
import-linter contracts in pyproject.toml; these tests run `lint-imports` so the test command enforces
them, and check at run time that the light install's import path never reaches torch."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _tool(name: str) -> str:
    """A console script of the test environment (beside this Python, as `.venv/bin/...`)."""
    beside_python = Path(sys.executable).with_name(name)
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which(name)
    assert found, f"{name} is not installed (it is in the `test` extra)"
    return found


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    """import-linter with the contracts of pyproject.toml, on the packages importable from `cwd`
    (lint-imports puts its working directory first on sys.path)."""
    return subprocess.run(
        [_tool("lint-imports"), str(REPO_ROOT / "pyproject.toml"), "--no-cache"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_import_contracts_are_kept() -> None:
    """The layer rules of docs/architecture.md as import-linter contracts (pyproject.toml): lsp above
    context and engine, which never import each other; pygls/lsprotocol only in lsp's protocol modules,
    never in lsp's core (nor the server, handlers or CLI there); torch and the local engine's libraries only in engine; tree-sitter only in context."""
    result = _lint_imports(REPO_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


# One module per contract that breaks it, as a newcomer might write it.
VIOLATIONS = {
    "context/_probe_layers.py": "import roost.engine.types\n",
    "engine/_probe_layers.py": "from roost.context import facts\n",
    "context/languages/_probe_upward.py": "from roost.context.retrieval import retriever\n",
    "engine/_probe_protocol.py": "import lsprotocol.types\n",
    "lsp/_probe_new_handler.py": "from pygls.lsp.server import LanguageServer\n",
    "lsp/_probe_torch.py": "def device():\n    import torch\n\n    return torch.device('cpu')\n",
    "engine/_probe_parse.py": "import tree_sitter\n",
    "lsp/core/_probe_protocol.py": "from roost.lsp.server import RoostServer\n",
}


def test_import_contracts_catch_each_kind_of_violation(tmp_path: Path) -> None:
    """The contracts are not vacuous: a copy of the three packages with one offending module per rule
    (including a new, unlisted protocol module, a lazy torch import inside a function and a use case
    that reaches for the server) breaks all six contracts, each naming its offender."""
    copy = tmp_path / "roost"
    for layer in ("lsp", "context", "engine"):
        shutil.copytree(REPO_ROOT / layer, copy / layer, ignore=shutil.ignore_patterns("__pycache__"))
    for relative, source in VIOLATIONS.items():
        (copy / relative).write_text(source, encoding="utf-8")

    result = _lint_imports(tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "0 kept, 6 broken" in output, output
    for relative in VIOLATIONS:
        module = "roost." + relative.removesuffix(".py").replace("/", ".")
        assert module in output, f"{module} not reported:\n{output}"


# What `pip install roost` (no extra) must be able to import: the language server with every feature and
# command, the index, retrieval, the gate, prompt formats and the OpenAI-compatible backend.
LIGHT_PATH_MODULES = (
    "roost.lsp.server",
    "roost.lsp.handlers",
    "roost.lsp.core.services",
    "roost.lsp.core.engine_adapter",
    "roost.lsp.core.shared_engine",
    "roost.lsp.cli",
    "roost.context.index",
    "roost.context.retrieval.retriever",
    "roost.engine.backends",
    "roost.engine.backends.openai_http",
    "roost.engine.backends.redacting",
    "roost.engine.gate.gate",
    "roost.engine.gate.secrets",
    "roost.engine.postprocess",
    "roost.engine.prompts.family",
    "roost.engine.prompts.packer",
    "roost.engine.models.default",
    "roost.engine.models.catalog",
    "roost.engine.shared",
    "roost.engine.server",
)
HEAVY_MODULES = ("torch", "transformers", "accelerate", "gguf", "safetensors")

_LIGHT_IMPORT_PROBE = """
import importlib, sys

heavy, light = sys.argv[1].split(","), sys.argv[2].split(",")


class RefuseHeavy:
    # Stands in for the light install inside the full test environment: importing these fails, as
    # there, and every attempt is remembered even when the importer catches the error.
    attempts = []

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in heavy:
            self.attempts.append(name)
            raise ModuleNotFoundError(f"No module named {name!r} (refused by the layering test)")
        return None


sys.meta_path.insert(0, RefuseHeavy())
for module in light:
    importlib.import_module(module)
from roost.lsp.cli.registry import discover_commands
from roost.lsp.server import create_server

discover_commands()  # every command module, as `roost --help` imports them
create_server()  # every feature module registered
loaded = sorted(name for name in sys.modules if name.split(".")[0] in heavy)
print("attempted:", ",".join(RefuseHeavy.attempts) or "-", "loaded:", ",".join(loaded) or "-")
"""


def test_the_light_path_imports_no_torch_or_transformers(tmp_path: Path) -> None:
    """`pip install roost` has no torch or transformers: importing the server, its features and commands,
    the index, retrieval, the gate and the OpenAI backend must neither load nor even try them."""
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            _LIGHT_IMPORT_PROBE,
            ",".join(HEAVY_MODULES),
            ",".join(LIGHT_PATH_MODULES),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert probe.returncode == 0, probe.stderr[-4000:]
    assert probe.stdout.strip().splitlines()[-1] == "attempted: - loaded: -", probe.stdout
