"""Keep the working directory off every import path of a Roost process and of the Python processes it
starts.

An editor often starts the server with the project as its working directory, and the project is untrusted
input. Python looks for modules in the working directory in three ways: ``python -m``/``-c`` put it first on
``sys.path``, and relative ``PYTHONPATH`` entries (``.``, ``src``) are resolved against it. A project folder
named ``multiprocessing/`` or ``json.py`` would then shadow the standard library in the server or in a helper
(the index's fork server and resource tracker are started with ``python -c``), and its code would run.

This module imports only what the interpreter has loaded before any user code (``os``, ``sys``), so it can
run before anything else of Roost is imported.
"""

from __future__ import annotations

import os
import sys


def started_as_program() -> bool:
    """True when this process is Roost's own program, not a host importing Roost: the ``roost`` console
    script, or ``python -m roost.…`` (which put the working directory first on ``sys.path`` before any
    Roost code ran)."""
    if os.path.basename(sys.argv[0]) in ("roost", "roost.exe"):
        return True
    argv = getattr(sys, "orig_argv", [])
    try:
        position = argv.index("-m")
    except ValueError:
        return False
    return position + 1 < len(argv) and argv[position + 1].startswith("roost.")


def _is_working_directory_entry(entry: str, working_directory: str) -> bool:
    """An import path entry that depends on, or is, the working directory ('' and relative entries are
    resolved against it on every import)."""
    if not entry or not os.path.isabs(entry):
        return True
    return os.path.realpath(entry) == working_directory


def _working_directory() -> str:
    try:
        return os.path.realpath(os.getcwd())
    except OSError:  # the directory was deleted: no entry can point at it
        return ""


def drop_working_directory_from_import_path() -> None:
    """Remove '' , relative entries and the working directory itself from this process's ``sys.path``.

    Helpers started with multiprocessing's fork server get this process's ``sys.path`` too, so this keeps
    them clean as well."""
    working_directory = _working_directory()
    sys.path[:] = [entry for entry in sys.path if not _is_working_directory_entry(entry, working_directory)]


def isolate_child_interpreters(environment: dict[str, str] | os._Environ[str] = os.environ) -> None:
    """Make every Python process started with ``environment`` leave the working directory off its path:
    ``PYTHONSAFEPATH`` (Python 3.11+, like ``-P``) stops ``-c``/``-m``/a script from prepending it, and
    ``PYTHONPATH`` keeps only absolute entries other than the working directory."""
    environment["PYTHONSAFEPATH"] = "1"
    python_path = environment.get("PYTHONPATH")
    if python_path is None:
        return
    working_directory = _working_directory()
    kept = [
        entry
        for entry in python_path.split(os.pathsep)
        if not _is_working_directory_entry(entry, working_directory)
    ]
    if kept:
        environment["PYTHONPATH"] = os.pathsep.join(kept)
    else:
        del environment["PYTHONPATH"]


def isolate_this_program() -> None:
    """For a process that is Roost's own program (``roost …`` or ``python -m roost.lsp.cli …``), never a
    library call: its imports and those of every Python child it starts stay off the working directory."""
    drop_working_directory_from_import_path()
    isolate_child_interpreters()
