"""The core's services tell the user things through the small ``ServiceEvents`` protocol
(lsp/core/events.py), not through the server: here a recorder stands in for the editor, and real
indexing and a real failing model load report their status, errors and progress to it."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from roost.context.buffers import BufferEdit
from roost.lsp.config import RoostConfig, apply_layer
from roost.lsp.core.events import StatusState
from roost.lsp.core.services import CompletionUnavailable, Services


class RecordedReport:
    def __init__(self, title: str) -> None:
        self.title = title
        self.calls: list[tuple[str, str]] = []

    async def begin(self, message: str = "") -> None:
        self.calls.append(("begin", message))

    def report(self, message: str, percentage: int | None = None) -> None:
        self.calls.append(("report", message))

    def end(self, message: str = "") -> None:
        self.calls.append(("end", message))


class RecordedEvents:
    """A ``ServiceEvents`` that remembers what an editor would have been shown."""

    def __init__(self) -> None:
        self.status_state: StatusState = "starting"
        self.status_message = ""
        self.statuses: list[tuple[StatusState, str]] = []
        self.errors: list[tuple[str, str]] = []
        self.reports: list[RecordedReport] = []

    def send_status(self, state: StatusState, message: str = "", percentage: int | None = None) -> None:
        self.status_state, self.status_message = state, message
        self.statuses.append((state, message))

    def show_error_once(self, key: str, message: str) -> None:
        self.errors.append((key, message))

    def progress_report(self, title: str) -> RecordedReport:
        self.reports.append(RecordedReport(title))
        return self.reports[-1]


def _config(tmp_path: Path, **layer: dict[str, object]) -> RoostConfig:
    base = {"cache": {"dir": str(tmp_path / "cache")}, "index": {"watch": False}}
    config, problems = apply_layer(RoostConfig(), {**base, **layer}, "test")
    assert not problems
    return config


def test_indexing_reports_its_status_and_progress(tmp_path: Path) -> None:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / "a.py").write_text("def a():\n    return 1\n")
    (workspace / "b.py").write_text("from a import a\n")
    events = RecordedEvents()

    async def index() -> None:
        services = Services(events, _config(tmp_path), workspace)
        services.start_index()
        while not any(call[0] == "end" for report in events.reports for call in report.calls):
            await asyncio.sleep(0.05)
        await services.aclose()

    asyncio.run(asyncio.wait_for(index(), 120))
    (report,) = events.reports
    assert report.title == "Roost: indexing"
    assert report.calls[0] == ("begin", "scanning the workspace")
    assert report.calls[-1][0] == "end" and report.calls[-1][1].startswith("2 files in")
    assert events.statuses[0][0] == "indexing"
    assert events.statuses[-1] == ("ready", "Roost is ready (2 files indexed)")
    assert events.errors == []


def test_a_failing_model_load_shows_its_fix_once_and_ends_its_progress(tmp_path: Path) -> None:
    pytest.importorskip("torch", reason="the in-process engine (roost[local]) is not installed")
    missing = tmp_path / "no-such-model"
    config = _config(tmp_path, backend={"kind": "transformers"}, model={"name": str(missing)})
    events = RecordedEvents()

    async def load() -> None:
        services = Services(events, config, None)
        for _ in range(2):  # the second request gets the remembered failure, shown no second time
            with pytest.raises(CompletionUnavailable, match="no model"):
                await services.backend()

    asyncio.run(load())
    assert [key for key, _ in events.errors] == ["no-model"]
    assert events.statuses[0][0] == "loading_model" and events.statuses[-1][0] == "error"
    (report,) = events.reports
    assert report.title == "Roost: loading the model"
    assert report.calls[0][0] == "begin" and report.calls[-1][0] == "end"


def test_indexing_that_ends_while_the_model_loads_ends_in_ready(tmp_path: Path) -> None:
    # A request (or a prefetch) during indexing loads the model; indexing ended during the load. Its
    # "ready" was held back while the status said loading_model, and the load's end must say it.
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / "a.py").write_text("def a():\n    return 1\n")
    config = _config(tmp_path, backend={"kind": "openai", "endpoint": "http://127.0.0.1:9/v1"})
    events = RecordedEvents()
    indexed = threading.Event()

    async def load_during_indexing() -> None:
        services = Services(events, config, workspace)
        announce, load = services._announce_ready, services._load_backend

        def announce_then_note(files: int) -> None:
            announce(files)
            indexed.set()

        def load_once_indexed(progress: object = None) -> object:
            assert indexed.wait(60), "indexing did not end"
            return load(progress)  # type: ignore[arg-type]

        services._announce_ready = announce_then_note  # type: ignore[method-assign]
        services._load_backend = load_once_indexed  # type: ignore[method-assign]
        services.start_index()
        await services.backend()
        await services.aclose()

    asyncio.run(asyncio.wait_for(load_during_indexing(), 120))
    states = [state for state, _ in events.statuses]
    assert states[:2] == ["indexing", "loading_model"], states
    assert states[-1] == "ready", states


class ClosableBackend:
    name = "closable"

    def __init__(self) -> None:
        self.closed = False

    async def aclose(self) -> None:
        self.closed = True


def test_a_model_load_that_ends_after_the_services_closed_closes_what_it_loaded(tmp_path: Path) -> None:
    # A shutdown (or `roost complete`'s --timeout) during the load: nobody will use the backend the load
    # ends with, so it is closed (its engine thread stopped), the request is told the services are
    # closing, and nothing is shown as a failure.
    config = _config(tmp_path, backend={"kind": "openai", "endpoint": "http://127.0.0.1:9/v1"})
    events = RecordedEvents()
    loading, closed = threading.Event(), threading.Event()
    loaded = ClosableBackend()

    async def close_during_the_load() -> Services:
        services = Services(events, config, None)

        def slow_load(progress: object = None) -> tuple[ClosableBackend, str]:
            loading.set()
            assert closed.wait(60), "the services were not closed"
            return loaded, "qwen2.5-coder"

        services._load_backend = slow_load  # type: ignore[method-assign,assignment]
        request = asyncio.create_task(services.backend())
        assert await asyncio.to_thread(loading.wait, 60)
        await services.aclose()
        closed.set()
        with pytest.raises(CompletionUnavailable, match="shutting down"):
            await request
        return services

    services = asyncio.run(asyncio.wait_for(close_during_the_load(), 120))
    assert loaded.closed and services.closed
    assert events.errors == [] and events.status_state != "error"


def test_open_documents_reach_the_index_and_retrieval_as_paths_texts_and_edits(tmp_path: Path) -> None:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / "m.py").write_text("def on_disk():\n    pass\n")
    events = RecordedEvents()

    async def edit() -> None:
        services = Services(events, _config(tmp_path), workspace)
        services.start_index()
        index, retriever = services.index_service, services.retriever
        assert index is not None and retriever is not None
        opened = "def opened():\n    pass\n"
        services.document_opened("m.py", opened)
        typed = opened + "def typed():\n    pass\n"
        services.document_changed("m.py", typed, lambda: [BufferEdit(2, 0, 2, 0, typed[len(opened) :])], [2])
        await asyncio.to_thread(index.wait_for_buffer_updates, "m.py", 60)
        assert index.workspace_index.buffer_text("m.py") == typed
        assert retriever.activity.open_documents() == {"m.py": typed}
        assert [(e.path, e.line) for e in retriever.activity.recent_edits()] == [("m.py", 2)]
        services.document_closed("m.py")
        await asyncio.to_thread(index.wait_for_buffer_updates, "m.py", 60)
        assert index.workspace_index.buffer_text("m.py") is None and retriever.activity.open_documents() == {}
        await services.aclose()

    asyncio.run(asyncio.wait_for(edit(), 120))
