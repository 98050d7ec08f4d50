"""Which builds a Go file belongs to: its build constraint (a ``//go:build`` line, or the older
``// +build`` lines, above the package clause) and the ``_GOOS`` / ``_GOARCH`` suffixes of its name
(``file_windows.go``, ``file_linux_arm64.go``), as ``go build`` reads them."""

from __future__ import annotations

import posixpath

# ``go tool dist list``, with the names Go reserves for systems and architectures it may add.
_GOOS = frozenset(
    [
        "aix",
        "android",
        "darwin",
        "dragonfly",
        "freebsd",
        "hurd",
        "illumos",
        "ios",
        "js",
        "linux",
        "nacl",
        "netbsd",
        "openbsd",
        "plan9",
        "solaris",
        "wasip1",
        "windows",
        "zos",
    ]
)
_GOARCH = frozenset(
    [
        "386",
        "amd64",
        "amd64p32",
        "arm",
        "armbe",
        "arm64",
        "arm64be",
        "loong64",
        "mips",
        "mipsle",
        "mips64",
        "mips64le",
        "mips64p32",
        "mips64p32le",
        "ppc",
        "ppc64",
        "ppc64le",
        "riscv",
        "riscv64",
        "s390",
        "s390x",
        "sparc",
        "sparc64",
        "wasm",
    ]
)


def _name_tags(path: str) -> list[str]:
    parts = posixpath.basename(path).removesuffix(".go").removesuffix("_test").split("_")[1:]
    if len(parts) >= 2 and parts[-2] in _GOOS and parts[-1] in _GOARCH:
        return parts[-2:]
    if parts and (parts[-1] in _GOOS or parts[-1] in _GOARCH):
        return parts[-1:]
    return []


def _header_constraint(text: str) -> str:
    """The ``//go:build`` expression above the package clause, else the ``// +build`` lines joined."""
    plus: list[str] = []
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped.startswith("package ") or stripped == "package":
            break
        if stripped.startswith("//go:build "):
            return " ".join(stripped.removeprefix("//go:build ").split())
        if stripped.startswith("// +build "):
            plus.append(f"({' || '.join(stripped.removeprefix('// +build ').split())})")
    return " && ".join(plus)


def build_constraint(path: str, text: str) -> str:
    """The builds ``path`` (with ``text``) belongs to, as a readable expression; "" for every build."""
    terms = [*_name_tags(path), _header_constraint(text)]
    return " && ".join(term for term in terms if term)
