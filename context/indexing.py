"""The parts of a (re)index run that hold no state of the index. Warm start: which stored rows still
describe the files on disk, and putting them in the graph. Cold: parsing a list of files (in this process,
or in worker processes when there are many). And the progress and report types the index gives its
callers. :mod:`roost.context.index` drives a run and keeps what it returns.
"""

from __future__ import annotations

import inspect
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable, Container, Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import NamedTuple

from roost.context.codec import decode_facts, decode_resolutions, encode_resolutions
from roost.context.facts import FileFacts, ResolvedImport
from roost.context.graph import CodeGraph, GraphStats
from roost.context.languages import all_languages, language_named
from roost.context.languages.base import LanguageSupport, WorkspaceLayout
from roost.context.options import IndexOptions
from roost.context.parsing import ParsedRecord, index_batch, index_one
from roost.context.scanning import FileStat
from roost.context.store import StoredFile
from roost.context.worker_lifetime import init_pool_worker

log = logging.getLogger("roost.context.index")

# Below this many files to parse, a process pool costs more than it saves.
POOL_THRESHOLD = 48


@dataclass(frozen=True, slots=True)
class IndexProgress:
    phase: str  # "scanning", "loading", "parsing", "resolving", "done"
    done: int
    total: int
    message: str = ""


ProgressCallback = Callable[[IndexProgress], None]


@dataclass(frozen=True, slots=True)
class IndexReport:
    """What one (re)index did, plus the graph's totals afterwards."""

    files: int
    parsed: int  # files parsed in this run
    reused: int  # files taken from the store unchanged
    skipped: int  # binary/unreadable files (known, not indexed)
    removed: int
    seconds: float
    stats: GraphStats
    store_rebuilt: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "files": self.stats.files,
            "parsed": self.parsed,
            "reused": self.reused,
            "skipped": self.skipped,
            "removed": self.removed,
            "symbols": self.stats.symbols,
            "edges": self.stats.edges,
            "imports": self.stats.imports,
            "resolved_imports": self.stats.resolved_imports,
            "external_imports": self.stats.external_imports,
            "unresolved_imports": self.stats.unresolved_imports,
            "seconds": round(self.seconds, 3),
            "store_rebuilt": self.store_rebuilt,
        }


class ReusePlan(NamedTuple):
    reused: list[StoredFile]  # rows the store holds for these files as they are on disk
    to_parse: list[str]  # new files, and files whose content changed
    touched_stats: list[tuple[str, int, int]]  # (path, size, mtime_ns) of reused rows whose mtime moved


def plan_reuse(
    scanned: Mapping[str, FileStat],
    stored: Mapping[str, StoredFile],
    same_content: Callable[[str, bytes], bool],
) -> ReusePlan:
    """Which scanned files the store's rows still describe: same size and mtime, or same size and content
    (``same_content(path, digest)`` reads the file: a touch or a checkout that rewrote the same bytes)."""
    plan = ReusePlan([], [], [])
    for path, stat in scanned.items():
        row = stored.get(path)
        if row is None:
            plan.to_parse.append(path)
        elif row.size == stat.size and row.mtime_ns == stat.mtime_ns:
            plan.reused.append(row)
        elif row.size == stat.size and same_content(path, row.digest):
            plan.touched_stats.append((path, stat.size, stat.mtime_ns))
            plan.reused.append(row)
        else:
            plan.to_parse.append(path)
    return plan


def load_stored_rows(
    rows: list[StoredFile],
    graph: CodeGraph,
    re_resolve: bool,
    skip: Container[str],
    resolve: Callable[[LanguageSupport, FileFacts], tuple[ResolvedImport, ...]],
) -> list[StoredFile]:
    """Put stored rows in the graph, but those of ``skip`` (open buffers); with ``re_resolve`` (the file set
    changed since they were resolved) resolve their imports again. Returns the rows whose resolutions
    changed. A damaged row raises ``ValueError``."""
    changed: list[StoredFile] = []
    for row in rows:
        if row.path in skip:
            continue
        if row.facts is None:
            continue
        resolutions = decode_resolutions(row.resolutions or b"")
        if re_resolve:
            language = language_named(row.language)
            if language is not None:
                fresh = resolve(language, decode_facts(row.facts))
                if fresh != resolutions:
                    resolutions = fresh
                    row.resolutions = encode_resolutions(fresh)
                    changed.append(row)
        graph.put(row.path, row.language, resolutions, blob=row.facts, definitions_count=row.definitions)
    return changed


def parse_files(
    root: Path,
    paths: list[str],
    scanned: Mapping[str, FileStat],
    layout: WorkspaceLayout,
    options: IndexOptions,
    absorb: Callable[[list[ParsedRecord]], None],
    stopping: Callable[[], bool] = lambda: False,
) -> float:
    """Parse ``paths`` (with import resolution against ``layout``, or in the workers against the file set
    ``scanned``), handing ``absorb`` the records batch by batch as they come, until ``stopping()`` (the
    index is closing: the files left are parsed on the next start). Returns the CPU seconds the worker
    processes spent (0 when parsed in this process)."""
    total = len(paths)
    workers = options.workers or os.cpu_count() or 1
    if total < POOL_THRESHOLD or workers <= 1 or not _has_working_directory():
        batch: list[ParsedRecord] = []
        for path in paths:
            if stopping():
                break
            record = index_one(root, path, layout, options)
            if record is not None:
                batch.append(record)
            if len(batch) >= options.batch_size:
                absorb(batch)
                batch = []
        if batch:
            absorb(batch)
        return 0.0

    # Biggest files first so no worker is left with a huge file at the end.
    ordered = sorted(paths, key=lambda p: -scanned[p].size if p in scanned else 0)
    size = max(1, min(options.batch_size, total // (workers * 4) or 1))
    batches = [ordered[i : i + size] for i in range(0, total, size)]
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        # A single-threaded process (CLI, benchmark) forks safely and its workers start instantly.
        context: BaseContext = multiprocessing.get_context("fork")
    else:
        # Forking a process with threads (the server) can deadlock the child; the fork server is a
        # clean single-threaded process, and cheaper than spawning each worker.
        fork_server = multiprocessing.get_context("forkserver")
        # Preloaded in the fork server, so each worker starts with every language module and grammar
        # imported (a worker resolves any file's language through the registry, which imports them all).
        fork_server.set_forkserver_preload(
            [
                "roost.context.parsing",
                "roost.context.worker_lifetime",
                *sorted({type(language).__module__ for language in all_languages()}),
            ]
        )
        context = fork_server
    worker_cpu_s = 0.0
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        # Each worker exits when this process dies, however it dies (see worker_lifetime).
        initializer=init_pool_worker,
        initargs=(os.getpid(), str(root), sorted(scanned), options),
    ) as pool:
        futures = [pool.submit(index_batch, batch) for batch in batches]
        for future in as_completed(futures):
            if stopping():
                # Leaving the pool waits for the batches being parsed only, not for those never started.
                for pending in futures:
                    pending.cancel()
                break
            try:
                records, lines, cpu_seconds = future.result()
            except Exception:
                log.exception("an indexing worker failed; its files are skipped this run")
                continue
            worker_cpu_s += cpu_seconds
            for level, line in lines:
                log.log(level, "%s", line)
            absorb(records)
    return worker_cpu_s


def _has_working_directory() -> bool:
    """Whether this process can start worker processes: multiprocessing gives each the parent's working
    directory, and fails when it was deleted (an editor starts the server in the workspace folder, which
    ``rm -rf`` and a fresh clone replace). Then files are parsed in this process."""
    try:
        os.getcwd()
    except OSError as error:
        log.info("parsing in this process: its working directory is gone (%s)", error.strerror or error)
        return False
    return True


def adapt_progress(progress: Callable[..., None] | None) -> ProgressCallback:
    """Accept ``f(IndexProgress)`` or the simpler ``f(done, total)``; a failing callback is logged once
    and dropped (progress reporting must never stop indexing)."""
    if progress is None:
        return lambda _progress: None
    try:
        positional = [
            p
            for p in inspect.signature(progress).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
        ]
        two_args = len(positional) >= 2
    except (TypeError, ValueError):
        two_args = False
    failed = False

    def call(update: IndexProgress) -> None:
        nonlocal failed
        if failed:
            return
        try:
            if two_args:
                progress(update.done, update.total)
            else:
                progress(update)
        except Exception:
            failed = True
            log.exception("index progress callback failed; progress reports stop")

    return call
