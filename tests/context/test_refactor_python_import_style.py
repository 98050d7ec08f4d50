"""A Python move writes its new imports in the style of the file they go into: relative where the file's
imports of its own package are relative (its standard-library imports, absolute in any style, do not count),
absolute where they are absolute, and where the file has none of its own, as most of the package's files
touched by the move do. Each moved package is imported for real afterwards."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from index_support import apply_replacements, make_index, write_files

from roost.context.refactor.move import FileText, move_dependents, plan_move


def _move(tmp_path: Path, files: dict[str, str], symbol: str, source: str, target: str) -> dict[str, str]:
    """``files`` after moving ``symbol``, the dependents as the editor gives them; the result is written to
    ``tmp_path/after`` and every module of it imported."""
    root = write_files(tmp_path / "before", files)
    index = make_index(root, tmp_path / "cache")
    try:
        index.index()
        exists = files.__contains__
        plan = plan_move(
            symbol,
            FileText(source, files[source]),
            FileText(target, files[target]),
            move_dependents(source, index.dependents(source), list(files), exists, index.dependents),
            files.__getitem__,
            index.resolve_import,
            exists,
        )
    finally:
        index.close()
    after = dict(files)
    for change in plan.changes:
        after[change.path] = apply_replacements(change.text, change.replacements)
    moved = write_files(tmp_path / "after", after)
    modules = sorted(path.removesuffix(".py").removesuffix("/__init__").replace("/", ".") for path in after)
    script = f"import importlib\nfor m in {modules!r}:\n    importlib.import_module(m)\n"
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=moved,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return after


RELATIVE_PACKAGE = {
    "pkg/__init__.py": "from .a import use\nfrom .c import X\n",
    "pkg/a.py": (
        "import os\nimport sys\n\nfrom .b import helper\n\n\n"
        "def Sym():\n    return helper() + len(os.sep) + len(sys.argv)\n\n\n"
        "def use():\n    return Sym()\n"
    ),
    "pkg/b.py": "def helper():\n    return 1\n",
    "pkg/c.py": "import json\n\nX = json.dumps(1)\n",
}


def test_the_source_imports_the_moved_name_relatively_as_it_imports_its_package(tmp_path: Path) -> None:
    # Two standard-library imports and one of its package: the file's style is relative.
    after = _move(tmp_path, RELATIVE_PACKAGE, "Sym", "pkg/a.py", "pkg/c.py")
    assert "from .c import Sym\n" in after["pkg/a.py"]
    assert "from .b import helper\n" in after["pkg/c.py"]


def test_a_target_without_imports_of_its_package_follows_the_package(tmp_path: Path) -> None:
    files = {
        **RELATIVE_PACKAGE,
        "pkg/__init__.py": "from .a import Sym, use\nfrom .c import X\n",
        "pkg/a.py": (
            "import os\nimport sys\n\nfrom .b import helper\n\n\n"
            "def twice():\n    return 2 * helper()\n\n\n"
            "def Sym():\n    return twice() + len(os.sep) + len(sys.argv)\n\n\n"
            "def use():\n    return twice()\n"
        ),
    }
    after = _move(tmp_path, files, "Sym", "pkg/a.py", "pkg/c.py")
    # pkg/c.py imports only json: the package (pkg/a.py, pkg/__init__.py) imports itself relatively.
    assert "from .a import twice\n" in after["pkg/c.py"]
    assert "from .c import Sym\n" in after["pkg/__init__.py"]


def test_a_package_importing_itself_absolutely_keeps_absolute_imports(tmp_path: Path) -> None:
    files = {
        "pkg/__init__.py": "",
        "pkg/a.py": (
            "import os\n\nfrom pkg.b import helper\n\n\n"
            "def twice():\n    return 2 * helper()\n\n\n"
            "def Sym():\n    return twice() + len(os.sep)\n\n\n"
            "def use():\n    return twice()\n"
        ),
        "pkg/b.py": "def helper():\n    return 1\n",
        "pkg/c.py": "import json\n\nX = json.dumps(1)\n",
        "pkg/d.py": "from pkg.a import Sym\n\nY = Sym()\n",
    }
    after = _move(tmp_path, files, "Sym", "pkg/a.py", "pkg/c.py")
    assert "from pkg.a import twice\n" in after["pkg/c.py"]
    assert "from pkg.c import Sym\n" in after["pkg/d.py"]
