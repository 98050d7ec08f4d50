"""Options of the workspace index (the lead maps the user configuration onto these)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

# Files that hold credentials are never read for context, whatever the user's excludes say.
DEFAULT_SECRET_PATTERNS: tuple[str, ...] = (
    ".env",
    ".env.*",
    "*.env",
    ".envrc",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "*.kdbx",
    "*.gpg",
    "*.asc",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    "credentials*",
    "*.credentials",
    ".netrc",
    ".npmrc",
    ".pypirc",
    ".git-credentials",
    "secrets.*",
    "*.secret",
    "*.secrets",
    "service-account*.json",
    # Credential stores of common tools (PostgreSQL, Windows curl, PuTTY, Apache, Vault, s3cmd, boto,
    # old Docker, Google OAuth clients) and Terraform state, which holds every resource's secrets.
    ".pgpass",
    "_netrc",
    "*.ppk",
    ".htpasswd",
    ".vault-token",
    ".s3cfg",
    ".boto",
    ".dockercfg",
    "client_secret*.json",
    "*.tfstate",
    "*.tfstate.backup",
)

# Directories nobody wants indexed even without a .gitignore.
DEFAULT_EXCLUDES: tuple[str, ...] = (
    ".git/",
    ".hg/",
    ".svn/",
    "node_modules/",
    "__pycache__/",
    ".venv/",
    "venv/",
    ".tox/",
    ".nox/",
    ".mypy_cache/",
    ".pytest_cache/",
    ".ruff_cache/",
    "build/",
    "dist/",
    "target/",
    ".idea/",
    ".vscode/",
    "*.egg-info/",
)


def default_cache_dir() -> Path:
    """``$ROOST_CACHE_DIR`` when set (tests, sandboxes), else the platform's user cache directory."""
    override = os.environ.get("ROOST_CACHE_DIR")
    if override:
        return Path(override)
    return Path(platformdirs.user_cache_dir("roost", appauthor=False))


@dataclass(frozen=True)
class IndexOptions:
    # gitignore-style patterns on top of .gitignore and DEFAULT_EXCLUDES.
    excludes: tuple[str, ...] = ()
    use_default_excludes: bool = True
    respect_gitignore: bool = True
    # Extra patterns treated as secrets (never read), added to DEFAULT_SECRET_PATTERNS.
    secret_patterns: tuple[str, ...] = ()
    max_file_bytes: int = 1_000_000
    # Additional Python source roots, workspace-relative (``lib``, ``packages/core/src``).
    python_roots: tuple[str, ...] = ()
    # Other languages' extra roots by language name, same meaning.
    extra_roots: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Worker processes for cold indexing; 0 = one per CPU. 1 parses in-process (no pool).
    workers: int = 0
    # Files per task sent to a worker: big enough to amortise IPC, small enough to balance.
    batch_size: int = 64
    # None = default_cache_dir(); the store lives in a per-workspace file under it.
    cache_dir: Path | None = None
    persist: bool = True
    # Disk watching: quiet time before a batch of changes is applied, and the longest a burst may delay it.
    watch_debounce_s: float = 0.3
    watch_max_delay_s: float = 2.0

    def over_limit(self, text: str) -> bool:
        """True for a text over ``max_file_bytes`` in UTF-8: an open buffer that size is not parsed or indexed,
        like such a file on disk, and completes with its local context only."""
        limit = self.max_file_bytes
        # A character takes one to four UTF-8 bytes: only a text near the limit needs encoding to tell.
        if len(text) > limit or len(text) * 4 <= limit:
            return len(text) > limit
        return len(text.encode("utf-8", "surrogatepass")) > limit

    def roots_for(self, language: str) -> tuple[str, ...]:
        if language == "python":
            return self.python_roots + self.extra_roots.get("python", ())
        return self.extra_roots.get(language, ())
