"""Discovery of ``roost`` subcommands: one module per command under ``roost.lsp.cli.commands``."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass

import roost.lsp.cli.commands as commands_package


@dataclass(frozen=True)
class Command:
    """A subcommand. ``configure`` adds its arguments; ``run`` returns the exit status."""

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    description: str = ""
    # Lower sorts first in ``roost --help``; commands a newcomer needs come first.
    order: int = 50


def discover_commands() -> list[Command]:
    found: list[Command] = []
    for module_info in pkgutil.iter_modules(commands_package.__path__):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{commands_package.__name__}.{module_info.name}")
        command = getattr(module, "COMMAND", None)
        if isinstance(command, Command):
            found.append(command)
    return sorted(found, key=lambda c: (c.order, c.name))
