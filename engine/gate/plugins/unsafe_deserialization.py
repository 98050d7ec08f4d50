"""RB104: deserialisers that run code, where bandit cannot see them.

Bandit's B301/B506 miss ``cPickle``/``_pickle``/``cloudpickle``, ``jsonpickle``'s ``unpickler`` imported on
its own, ``numpy.load(..., allow_pickle=True)``, and ``yaml.load`` whenever ``import yaml`` is out of sight
(a suggestion is often scanned without the top of its file).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import bandit
from bandit.core import issue
from bandit.core import test_properties as test

if TYPE_CHECKING:
    from bandit.core.context import Context

_PICKLE_MODULES = frozenset({"cPickle", "_pickle", "cloudpickle", "dill", "joblib"})
_PICKLE_FUNCTIONS = frozenset({"load", "loads", "Unpickler"})
_SAFE_YAML_LOADERS = frozenset({"SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader"})


def _loader_name(context: Context) -> str | None:
    for keyword in context.node.keywords:
        if keyword.arg == "Loader":
            value = keyword.value
            return getattr(value, "attr", None) or getattr(value, "id", None) or "?"
    if len(context.node.args) > 1:
        value = context.node.args[1]
        return getattr(value, "attr", None) or getattr(value, "id", None) or "?"
    return None


def _problem(context: Context) -> str | None:
    qualname = context.call_function_name_qual
    if not isinstance(qualname, str):
        return None
    parts = qualname.split(".")
    if len(parts) >= 2 and parts[0] in _PICKLE_MODULES and parts[-1] in _PICKLE_FUNCTIONS:
        return f"{qualname}() unpickles data, which can run arbitrary code"
    if len(parts) >= 2 and parts[-2] in ("unpickler", "jsonpickle") and parts[-1] in ("decode", "Unpickler"):
        if parts[0] == "jsonpickle":
            return None  # bandit's B301 reports these when it can resolve them
        return f"{qualname}() (jsonpickle) builds arbitrary objects"
    if (
        parts[-1] == "load"
        and parts[0] in ("numpy", "np")
        and context.check_call_arg_value("allow_pickle", "True")
    ):
        return "numpy.load(allow_pickle=True) unpickles data, which can run arbitrary code"
    if parts[0] == "yaml" and parts[-1] in (
        "load",
        "load_all",
        "unsafe_load",
        "full_load",
        "unsafe_load_all",
    ):
        if parts[-1] in ("load", "load_all") and context.is_module_imported_exact("yaml"):
            return None  # bandit's B506 has it
        if parts[-1].startswith("unsafe") or _loader_name(context) not in _SAFE_YAML_LOADERS:
            return f"{qualname}() without a safe loader can build arbitrary objects; use yaml.safe_load()"
    return None


@test.checks("Call")
@test.test_id("RB104")
def roost_unsafe_deserialization(context: Context) -> issue.Issue | None:
    """**RB104: deserialisation that can run code**"""
    problem = _problem(context)
    if problem is None:
        return None
    return bandit.Issue(
        severity=bandit.MEDIUM,
        confidence=bandit.HIGH,
        cwe=issue.Cwe.DESERIALIZATION_OF_UNTRUSTED_DATA,
        text=problem + ".",
        lineno=context.node.lineno,
    )
