"""TypeScript (.ts .mts .cts) and TSX (.tsx, its own grammar). The shared ECMAScript logic lives in
``_ecmascript``; ``queries/typescript.scm`` serves both grammars (TSX is a superset), references use
``typescript_references.scm`` or ``tsx_references.scm`` (JSX tags)."""

from __future__ import annotations

from functools import cached_property

import tree_sitter
import tree_sitter_typescript

from roost.context.languages._ecmascript import EcmaScriptSupport


class TypeScriptSupport(EcmaScriptSupport):
    name = "typescript"
    extensions = (".ts", ".tsx", ".mts", ".cts")
    query_stem = "typescript"
    prefer_ts = True

    @cached_property
    def _typescript(self) -> tree_sitter.Language:
        return tree_sitter.Language(tree_sitter_typescript.language_typescript())

    @cached_property
    def _tsx(self) -> tree_sitter.Language:
        return tree_sitter.Language(tree_sitter_typescript.language_tsx())

    def ts_language(self, path: str) -> tree_sitter.Language:
        return self._tsx if path.lower().endswith(".tsx") else self._typescript

    def _reference_query_file(self, grammar: tree_sitter.Language) -> str:
        # JSX node types exist only in the TSX grammar.
        return "tsx_references.scm" if grammar == self._tsx else "typescript_references.scm"


LANGUAGE = TypeScriptSupport()
