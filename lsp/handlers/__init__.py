"""Server features: one module per feature area, each with ``register(server)``.

Modules are registered in name order; ``lifecycle`` owns initialize/initialized/shutdown and
``documents`` owns text synchronisation (others subscribe through ``server.document_listeners``),
because pygls allows one handler per LSP method.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from roost.lsp.server import RoostServer


def register_all(server: RoostServer) -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if callable(register):
            register(server)
