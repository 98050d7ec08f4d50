"""``workspace/executeCommand`` fix-ups: ``roost.fixup.start|reply|accept|reject|undo``.

Arguments are one object each (``{uri, range, instruction}``, ``{session, message}``, ``{session}``). A URI
outside the workspace, an unknown session or a stale proposal is refused with a JSON-RPC error whose
message says why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pygls.exceptions import JsonRpcInvalidParams

from roost.engine.types import EngineError
from roost.lsp.core.fixups.service import FixupError, FixupService
from roost.lsp.core.model_edits import OutsideWorkspace
from roost.lsp.core.services import CompletionUnavailable, services_of
from roost.lsp.core.text_edits import EditError

if TYPE_CHECKING:
    from roost.lsp.server import RoostServer

FIXUP_KEY = "fixups"


def fixups_of(server: Any) -> FixupService:
    service = server.services.get(FIXUP_KEY)
    if service is None:
        service = FixupService(server)
        server.services[FIXUP_KEY] = service
    return service


def plain(value: Any) -> Any:
    """Command arguments arrive as dicts or as pygls's namedtuples; make them plain."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _argument(arguments: tuple[Any, ...]) -> dict[str, Any]:
    if not arguments or not isinstance(plain(arguments[0]), dict):
        raise JsonRpcInvalidParams("expected one object argument")
    return plain(arguments[0])


def _diagnostics(argument: dict[str, Any]) -> list[str]:
    raw = argument.get("diagnostics") or []
    return [str(d.get("message", d)) if isinstance(d, dict) else str(d) for d in raw]


async def _guarded(ls: Any, work: Any) -> Any:
    try:
        return await work
    except (FixupError, OutsideWorkspace, EditError, CompletionUnavailable, KeyError, TypeError) as error:
        message = str(error) if not isinstance(error, KeyError) else f"missing argument {error}"
        raise JsonRpcInvalidParams(message) from error
    except EngineError as error:  # backend down, timeout …: shown once with its fix, the command fails
        raise JsonRpcInvalidParams(services_of(ls).report_failure(error)) from error


def register(server: RoostServer) -> None:
    @server.command("roost.fixup.start")
    async def start(ls: Any, *arguments: Any) -> dict[str, Any]:
        argument = _argument(arguments)
        return await _guarded(
            ls,
            fixups_of(ls).start(
                str(argument["uri"]),
                argument["range"],
                str(argument.get("instruction", "")),
                _diagnostics(argument),
            ),
        )

    @server.command("roost.fixup.reply")
    async def reply(ls: Any, *arguments: Any) -> dict[str, Any]:
        argument = _argument(arguments)
        return await _guarded(
            ls,
            fixups_of(ls).reply(
                str(argument["session"]), str(argument.get("message", "")), _diagnostics(argument)
            ),
        )

    @server.command("roost.fixup.accept")
    async def accept(ls: Any, *arguments: Any) -> dict[str, Any]:
        return await _guarded(ls, fixups_of(ls).accept(str(_argument(arguments)["session"])))

    @server.command("roost.fixup.reject")
    async def reject(ls: Any, *arguments: Any) -> dict[str, Any]:
        async def work() -> dict[str, Any]:
            return fixups_of(ls).reject(str(_argument(arguments)["session"]))

        return await _guarded(ls, work())

    @server.command("roost.fixup.undo")
    async def undo(ls: Any, *arguments: Any) -> dict[str, Any]:
        return await _guarded(ls, fixups_of(ls).undo(str(_argument(arguments)["session"])))
