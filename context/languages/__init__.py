"""Per-language knowledge: one module per language (plus its ``queries/*.scm``), each defining
``LANGUAGE``, an instance of :class:`~roost.context.languages.base.LanguageSupport`.

The registry discovers the modules, so adding a language touches nothing outside its own module.
"""

from __future__ import annotations

import importlib
import pkgutil
import posixpath
from functools import cache

from roost.context.languages.base import LanguageSupport


@cache
def all_languages() -> tuple[LanguageSupport, ...]:
    found: list[LanguageSupport] = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name == "base":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        language = getattr(module, "LANGUAGE", None)
        if isinstance(language, LanguageSupport):
            found.append(language)
    return tuple(sorted(found, key=lambda lang: lang.name))


@cache
def _by_extension() -> dict[str, LanguageSupport]:
    return {ext: lang for lang in all_languages() for ext in lang.extensions}


def language_for_path(path: str) -> LanguageSupport | None:
    """The language that handles ``path`` by its extension, or None for files we do not index."""
    # splitext, not PurePosixPath(...).suffix: the same answer for every registered extension at a fifth of
    # the cost, and the scan asks this for every file of the workspace.
    return _by_extension().get(posixpath.splitext(path)[1].lower())


def language_named(name: str) -> LanguageSupport | None:
    return next((lang for lang in all_languages() if lang.name == name), None)


def language_name_for_path(path: str, unknown: str = "plaintext") -> str:
    """The name of the language handling ``path`` (``python``, ``typescript``, …, also a valid LSP language
    id and code-fence label), or ``unknown`` for files no language module handles."""
    language = language_for_path(path)
    return language.name if language is not None else unknown
