"""JavaScript (.js .jsx .mjs .cjs): ESM and CommonJS. The shared ECMAScript logic lives in ``_ecmascript``;
queries in ``queries/javascript.scm`` and ``queries/javascript_references.scm``."""

from __future__ import annotations

from functools import cached_property

import tree_sitter
import tree_sitter_javascript

from roost.context.languages._ecmascript import EcmaScriptSupport


class JavaScriptSupport(EcmaScriptSupport):
    name = "javascript"
    extensions = (".js", ".jsx", ".mjs", ".cjs")
    query_stem = "javascript"
    prefer_ts = False

    @cached_property
    def _language(self) -> tree_sitter.Language:
        return tree_sitter.Language(tree_sitter_javascript.language())

    def ts_language(self, path: str) -> tree_sitter.Language:
        return self._language


LANGUAGE = JavaScriptSupport()
