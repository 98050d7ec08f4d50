"""Parsing one file into facts (an unsaved buffer: :func:`parse_facts`), and the worker-process side of
cold indexing.

Workers read, hash, parse, extract and resolve imports themselves and send back compact encoded
records, so the parent only writes them to the store and links the graph. Parsers come from
:mod:`roost.context.parser_cache` (one per grammar and thread).
"""

from __future__ import annotations

import ast
import contextlib
import gc
import hashlib
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import tree_sitter

from roost.context.codec import encode_facts, encode_resolutions
from roost.context.facts import FileFacts, Import, ResolvedImport
from roost.context.languages import language_for_path
from roost.context.languages.base import LanguageSupport, WorkspaceLayout
from roost.context.layout import FileSetLayout
from roost.context.options import IndexOptions
from roost.context.parser_cache import parser_for
from roost.context.scanning import read_file

log = logging.getLogger("roost.context.index")


def parse_facts(path: str, text: str) -> FileFacts | None:
    """Facts of an unsaved buffer, through the file's language module; None for unknown languages."""
    language = language_for_path(path)
    if language is None:
        return None
    try:
        return language.facts_of_text(path, text)
    except Exception:  # a half-typed buffer must never fail a completion request
        log.warning("could not extract facts from the buffer of %s", path, exc_info=True)
        return None


def content_hash(source: bytes) -> bytes:
    # SHA-256 runs on the CPU's SHA instructions where it has them: about twice blake2b's speed here,
    # and the cold index hashes every file of the workspace. 16 bytes are plenty to tell contents apart.
    return hashlib.sha256(source).digest()[:16]


def check_utf8(source: bytes, rel_path: str) -> None:
    """Facts decode text with replacement; say once when a file is not valid UTF-8."""
    if source.isascii():
        return  # most source files: a scan an order of magnitude cheaper than decoding
    try:
        source.decode("utf-8")
    except UnicodeDecodeError as error:
        log.info(
            "%s is not valid UTF-8 (byte %d); decoded with replacement characters", rel_path, error.start
        )


def extract_outline(
    language: LanguageSupport, path: str, source: bytes
) -> tuple[tree_sitter.Tree, FileFacts]:
    tree = parser_for(language.ts_language(path)).parse(source)
    return tree, language.extract_outline(path, source, tree)


def resolve_all(
    language: LanguageSupport, facts: FileFacts, layout: WorkspaceLayout
) -> tuple[ResolvedImport, ...]:
    return resolve_imports(language, facts.path, facts.imports, layout)


def resolve_imports(
    language: LanguageSupport, path: str, imports: list[Import], layout: WorkspaceLayout
) -> tuple[ResolvedImport, ...]:
    try:
        return tuple(language.resolve_imports(imports, path, layout))
    except Exception:  # one import at a time, so a resolver bug costs that import only
        pass
    resolved = []
    for imp in imports:
        try:
            resolved.append(language.resolve_import(imp, path, layout))
        except Exception:  # a resolver bug must not take the file (or the index) down
            log.exception("resolving %r in %s failed", imp.module, path)
            resolved.append(ResolvedImport())
    return tuple(resolved)


@dataclass(frozen=True, slots=True)
class ParsedRecord:
    """One file as a worker returns it. ``facts`` is None when the file was skipped (logged)."""

    path: str
    size: int
    mtime_ns: int
    digest: bytes
    language: str
    facts: bytes | None
    resolutions: bytes | None
    definitions: int = 0


def index_one(
    root: Path, rel_path: str, layout: WorkspaceLayout, options: IndexOptions
) -> ParsedRecord | None:
    language = language_for_path(rel_path)
    if language is None:
        return None
    read = read_file(os.path.join(root, rel_path), options.max_file_bytes, rel_path)
    if read is None:
        return None  # gone since the scan (logged)
    source, file_stat = read
    if source is None:
        return ParsedRecord(rel_path, file_stat.size, file_stat.mtime_ns, b"", language.name, None, None)
    check_utf8(source, rel_path)
    try:
        tree = parser_for(language.ts_language(rel_path)).parse(source)
        blob, imports, definitions = language.extract_outline_encoded(rel_path, source, tree)
        resolutions = resolve_imports(language, rel_path, imports, layout)
    except Exception:
        log.exception("extracting %s failed; indexed as empty", rel_path)
        blob, definitions = encode_facts(FileFacts(path=rel_path, language=language.name)), 0
        resolutions = ()
    return ParsedRecord(
        rel_path,
        len(source),
        file_stat.mtime_ns,
        content_hash(source),
        language.name,
        blob,
        encode_resolutions(resolutions),
        definitions,
    )


# -- worker process state ------------------------------------------------------------------------------

_worker_root: Path | None = None
_worker_layout: FileSetLayout | None = None
_worker_options: IndexOptions | None = None


class _CollectingHandler(logging.Handler):
    """Workers hand their log lines back to the parent, whose logging the user configured (and whose
    stdout may be the LSP stream)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[tuple[int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):
            self.lines.append((record.levelno, self.format(record)))


_worker_log = _CollectingHandler()


def init_worker(root: str, files: list[str], options: IndexOptions) -> None:
    global _worker_root, _worker_layout, _worker_options
    # Workers allocate many small acyclic tuples; the cyclic collector would mostly walk them for nothing.
    gc.set_threshold(50_000, 50, 100)
    _worker_root = Path(root)
    _worker_options = options
    _worker_layout = FileSetLayout(_worker_root, files, options)
    index_logger = logging.getLogger("roost.context")
    index_logger.handlers[:] = [_worker_log]
    index_logger.setLevel(logging.INFO)
    index_logger.propagate = False


def index_batch(paths: list[str]) -> tuple[list[ParsedRecord], list[tuple[int, str]], float]:
    """Worker entry point: index a batch of files against the layout given to :func:`init_worker`.

    Returns the records, the log lines (level, message) produced on the way, and the CPU seconds spent.
    """
    assert _worker_root is not None and _worker_layout is not None and _worker_options is not None
    started = time.process_time()
    _worker_log.lines = []
    records = []
    for rel_path in paths:
        try:
            record = index_one(_worker_root, rel_path, _worker_layout, _worker_options)
        except Exception:  # never let one file kill the batch
            log.exception("indexing %s failed", rel_path)
            record = None
        if record is not None:
            records.append(record)
    return records, _worker_log.lines, time.process_time() - started


# -- syntax checks of proposed edits ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SyntaxErrors:
    """The syntax errors tree-sitter finds in a text: how many, and where the first one is."""

    count: int
    first_line: int = -1  # 0-based; -1 when there is none
    first_text: str = ""


def syntax_errors(path: str, text: str) -> SyntaxErrors | None:
    """The syntax errors of ``text`` read as the file at ``path``; None for a language Roost cannot parse."""
    language = language_for_path(path)
    if language is None:
        return None
    try:
        tree = parser_for(language.ts_language(path)).parse(text.encode("utf-8", "replace"))
    except Exception:  # a grammar failure is "cannot tell", never a refusal
        log.warning("could not parse %s for a syntax check", path, exc_info=True)
        return None
    root = tree.root_node
    if not root.has_error:
        return _python_compile_error(text) if language.name == "python" else SyntaxErrors(0)
    errors = [node for node in _walk(root) if node.is_error or node.is_missing]
    first = errors[0] if errors else root
    snippet = (first.text or b"").decode("utf-8", "replace").split("\n", 1)[0].strip()[:60]
    return SyntaxErrors(max(1, len(errors)), first.start_point[0], snippet)


def _python_compile_error(text: str) -> SyntaxErrors:
    """What Python's own parser says of a text tree-sitter's grammar accepts: the grammar still takes Python
    2's backquotes, so a model's answer ending in "``" (its closing fence cut short) parsed "clean"."""
    try:
        ast.parse(text)
    except SyntaxError as error:
        line = max(0, (error.lineno or 1) - 1)
        snippet = (error.text or "").split("\n", 1)[0].strip()[:60]
        return SyntaxErrors(1, line, snippet)
    except (ValueError, RecursionError, MemoryError):  # a null byte, nesting too deep: cannot tell
        pass
    return SyntaxErrors(0)


def new_syntax_errors(path: str, before: str, after: str) -> SyntaxErrors | None:
    """The errors of ``after`` when it has more syntax errors than ``before`` (the edit broke the file);
    None when it has not, or when the language cannot be parsed. A file that already had errors may keep
    them: only an increase counts, so a half-written file elsewhere never blocks an edit here."""
    old, new = syntax_errors(path, before), syntax_errors(path, after)
    if old is None or new is None or new.count <= old.count:
        return None
    return new


def _walk(node: tree_sitter.Node) -> list[tree_sitter.Node]:
    """Every node under ``node`` in document order, skipping subtrees that hold no error (cheap on a
    mostly-correct file)."""
    found: list[tree_sitter.Node] = []
    stack = [node]
    while stack:
        current = stack.pop()
        found.append(current)
        if current.has_error or current.is_missing:
            stack.extend(reversed(current.children))
    return found


@dataclass(frozen=True)
class EmptiedFunction:
    """A function an edit left with its signature (maybe a docstring) and no statements."""

    name: str  # dotted: ``Class.method``
    old_body: str  # its statements before the edit, whole lines as written (what the model dropped)


def emptied_functions(path: str, before: str, after: str) -> list[EmptiedFunction]:
    """Functions of ``before`` with statements that ``after`` keeps with none (a signature, maybe a
    docstring, no body): an edit that gutted them while still parsing. Empty for languages that cannot
    tell (:meth:`LanguageSupport.function_statements`) and for text that does not parse."""
    language = language_for_path(path)
    if language is None:
        return []
    try:
        parser = parser_for(language.ts_language(path))
        old_source, new_source = before.encode("utf-8", "replace"), after.encode("utf-8", "replace")
        old = language.function_statements(old_source, parser.parse(old_source))
        new = language.function_statements(new_source, parser.parse(new_source))
    except Exception:  # a grammar failure is "cannot tell", never a refusal
        log.warning("could not compare the functions of %s", path, exc_info=True)
        return []
    return [
        EmptiedFunction(name, _whole_lines(old_source, old[name].start, old[name].end))
        for name, body in new.items()
        if body.statements == 0 and name in old and old[name].statements > 0
    ]


def _whole_lines(source: bytes, start: int, end: int) -> str:
    """``source[start:end]`` from the start of its first line (its indentation kept)."""
    line_start = source.rfind(b"\n", 0, start) + 1
    return source[line_start:end].decode("utf-8", "replace")
