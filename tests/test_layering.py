"""The layer rules of docs/architecture.md, checked on the source: context/ knows no models and no LSP,
engine/ knows no graph and no LSP, lsp/ runs no torch and parses nothing itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

FORBIDDEN = {
    "context": ("roost.engine", "roost.lsp", "torch", "transformers", "pygls", "lsprotocol"),
    "engine": ("roost.context", "roost.lsp", "pygls", "lsprotocol", "tree_sitter"),
    # doctor reports torch's device; that is the one place lsp/ may look at torch.
    "lsp": ("torch", "transformers", "tree_sitter"),
}
ALLOWED = {("lsp", "cli/commands/doctor.py", "torch")}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_only_what_it_may(layer: str) -> None:
    violations = []
    for path in sorted((REPO_ROOT / layer).rglob("*.py")):
        relative = path.relative_to(REPO_ROOT / layer).as_posix()
        for module in imported_modules(path):
            for banned in FORBIDDEN[layer]:
                if (module == banned or module.startswith(banned + ".")) and (
                    layer,
                    relative,
                    banned,
                ) not in ALLOWED:
                    violations.append(f"{layer}/{relative} imports {module}")
    assert not violations, "\n".join(violations)


# What `pip install roost` (no extra) must be able to import: the language server with every feature and
# command, the index, retrieval, the gate, prompt formats and the OpenAI-compatible backend.
LIGHT_PATH_MODULES = (
    "roost.lsp.server",
    "roost.lsp.features",
    "roost.lsp.services",
    "roost.lsp.engine_adapter",
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
    import subprocess
    import sys

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
