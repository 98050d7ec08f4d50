"""The security gate: no suggestion leaves the server unchecked.

Python suggestions are spliced into their document and scanned by bandit in process (warm, with Roost's own
bandit plugins); JavaScript/TypeScript, Java, Go and Rust by the ``CodeScanner`` given in the options (the
lsp layer passes context's tree-sitter rules); every language gets the secret scanner.

Typical use::

    gate = Gate(GateOptions(workspace_root=root))
    secrets = collect_workspace_secrets(root)
    verdict = gate.check("python", prefix, completion, suffix, workspace_secrets=secrets)
    if verdict.blocked: ...
"""

from roost.engine.gate.bandit_runner import BanditSettings, WorkspaceConfigError, load_workspace_settings
from roost.engine.gate.gate import Gate, GateOptions
from roost.engine.gate.model import Finding, Level, Verdict, VerdictKind
from roost.engine.gate.policy import Policy
from roost.engine.gate.scanners import CodeScanner
from roost.engine.gate.secrets import collect_workspace_secrets, redact, scan_secrets

__all__ = [
    "BanditSettings",
    "CodeScanner",
    "Finding",
    "Gate",
    "GateOptions",
    "Level",
    "Policy",
    "Verdict",
    "VerdictKind",
    "WorkspaceConfigError",
    "collect_workspace_secrets",
    "load_workspace_settings",
    "redact",
    "scan_secrets",
]
