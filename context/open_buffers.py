"""One editor buffer the workspace index follows: its text and tree (:class:`Buffer`), and the facts, import
resolutions and references last taken from it. How a buffer takes edits and re-extracts its outline lives
here; :mod:`roost.context.index` keeps the buffers by path and links their facts into the graph.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from roost.context.buffers import Buffer, BufferEdit
from roost.context.facts import FileFacts, Reference, ResolvedImport
from roost.context.languages.base import LanguageSupport, OutlineState, WorkspaceLayout
from roost.context.parsing import resolve_all

log = logging.getLogger("roost.context.index")


@dataclass
class OpenBuffer:
    buffer: Buffer
    facts: FileFacts
    references: list[Reference] | None = None  # extracted when first asked for after an edit
    resolutions: tuple[ResolvedImport, ...] = field(default_factory=tuple)
    outline_state: OutlineState = field(default_factory=OutlineState)  # the language's, between edits

    def apply_edits(self, rel: str, edits: Sequence[BufferEdit], text: str | None, defer_parse: bool) -> None:
        """Apply editor edits; ``text``, when given, is the editor's full text after them: a buffer that
        disagrees (a missed change), or edits that do not fit, re-sync from it."""
        try:
            self.buffer.apply(list(edits), defer_parse=defer_parse)
        except ValueError as error:
            log.info("edit did not fit %s (%s); re-syncing from the full text", rel, error)
            if text is None:
                raise
            self.buffer.replace(text.encode("utf-8", "surrogatepass"))
        else:
            if text is not None:
                expected = text.encode("utf-8", "surrogatepass")
                if expected != self.buffer.source:
                    log.info("buffer %s drifted from the editor's text; re-syncing", rel)
                    self.buffer.replace(expected)

    def extract_outline(self, rel: str, language: LanguageSupport) -> FileFacts | None:
        """The outline after the last edits: from a parse of the edited region alone when the language can,
        else from the (incrementally re-parsed) tree. None when extraction failed (logged)."""
        buffer = self.buffer
        try:
            facts = None
            if language.updates_outline_locally and buffer.parse_pending:
                try:
                    facts = language.update_outline_local(rel, buffer, self.outline_state)
                except Exception:  # a bug there must cost speed, never correctness
                    log.exception("local outline update of %s failed; parsing the file", rel)
                    facts = None
            if facts is None:
                facts = language.update_outline(
                    rel,
                    buffer.source,
                    buffer.tree,
                    self.outline_state,
                    buffer.previous_tree,
                    buffer.last_change,
                )
        except Exception:
            log.exception("extracting buffer %s failed", rel)
            return None
        return facts

    def take_facts(
        self, facts: FileFacts, language: LanguageSupport, layout: WorkspaceLayout, imports_may_change: bool
    ) -> None:
        """Keep ``facts`` as the buffer's; its imports are resolved again when they changed."""
        old = self.facts
        if imports_may_change or old.imports != facts.imports or not self.resolutions and facts.imports:
            self.resolutions = resolve_all(language, facts, layout)
        self.facts = facts
        self.references = None
