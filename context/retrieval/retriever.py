"""Given a document and a cursor: the code the model must see from the rest of the project, ranked and
packed under a token budget.

Candidates come from the graph first (definitions of what is used near the cursor, what the imports point
at, the types of variables, the enclosing scope), then from the editor (recent edits, open documents);
BM25 over code windows is only consulted when the graph yields little. Rendering is the caller's: this
returns ranked, redacted snippets with their token costs.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from roost.context.facts import CLASS_LIKE_KINDS, FileFacts, text_rows
from roost.context.graph import SymbolLocation
from roost.context.languages import language_for_path
from roost.context.parsing import parse_facts
from roost.context.resolution import Resolver, ResolverCache, is_module
from roost.context.retrieval import source_scores as scores
from roost.context.retrieval.activity import WorkspaceActivity
from roost.context.retrieval.bm25 import BM25WindowIndex
from roost.context.retrieval.choice_priors import line_fits
from roost.context.retrieval.cursor import CursorContext, analyse_cursor
from roost.context.retrieval.members import (
    SCORE_BASE_LEVEL,
    VALUE_KINDS,
    LineFit,
    ReceiverMember,
    class_members_by_level,
    confident_guesses,
    module_members,
    offered_names,
    receiver_listings,
    receiver_owners,
)
from roost.context.retrieval.model import Candidate, CandidateKind, RetrievalResult
from roost.context.retrieval.options import RetrievalOptions
from roost.context.retrieval.packing import Redactor, TokenCounter, pack
from roost.context.retrieval.receivers import chained_receiver, classes_of
from roost.context.retrieval.snippets import class_outline, definition_snippet, module_outline
from roost.context.retrieval.sources import SourceText
from roost.context.retrieval.typeguess import ClassIndex
from roost.context.retrieval.visible_rows import visible_rows
from roost.context.retrieval.workspace import CodeWorkspace
from roost.context.scanning import is_secret_path

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetrievalRequest:
    path: str  # workspace-relative
    text: str  # the document as the editor has it (may differ from disk)
    line: int  # 0-based
    col: int  # 0-based, in characters
    # The buffer's facts when the caller keeps them current (the LSP's incremental index); else parsed here.
    facts: FileFacts | None = None


@dataclass(slots=True)
class _Session:
    """State of one request: resolution caches and file lines."""

    request: RetrievalRequest
    facts: FileFacts
    cursor: CursorContext
    resolver: Resolver
    lines: dict[str, list[str] | None] = field(default_factory=dict)
    candidates: list[Candidate] = field(default_factory=list)
    receiver_owners: list[SymbolLocation] = field(default_factory=list)  # at ``receiver.▮``: typed or guessed


class Retriever:
    def __init__(
        self,
        workspace: CodeWorkspace,
        *,
        redact: Redactor,
        options: RetrievalOptions | None = None,
        is_excluded: Callable[[str], bool] = is_secret_path,
        activity: WorkspaceActivity | None = None,
    ) -> None:
        self.workspace = workspace
        self.redact = redact
        self.options = options or RetrievalOptions()
        self._is_excluded = is_excluded
        self._excluded: dict[str, bool] = {}
        # Caches across requests, valid while the workspace's version is unchanged.
        self._resolver_cache = ResolverCache()
        self._token_cache: dict[str, int] = {}
        self._token_cache_key: tuple[object, str] | None = None
        self._file_lines: dict[str, list[str] | None] = {}
        self._file_lines_version: object = None
        self.activity = activity or WorkspaceActivity()
        self._lexical: BM25WindowIndex | None = None
        self._classes: ClassIndex | None = None
        self._warm_lock = threading.Lock()
        self._build_lock = threading.RLock()
        self._warm_thread: threading.Thread | None = None

    def is_excluded(self, path: str) -> bool:
        """Secret/excluded paths are never read; the answer per path is cached (patterns are fixed)."""
        known = self._excluded.get(path)
        if known is None:
            known = self._excluded[path] = bool(self._is_excluded(path))
            if len(self._excluded) > 100_000:
                self._excluded.clear()
        return known

    # --- keeping the lexical index current (only once it exists) ------------------------------------

    def warm(self) -> None:
        """Build the lazily built indexes now (call after indexing, off the request path)."""
        self.lexical_index()
        self.class_index()

    def _built_or_building(self) -> tuple[BM25WindowIndex | None, ClassIndex | None]:
        """The lexical and class indexes if built; else start building them in a background thread and
        answer without them, so no completion request ever waits seconds for a workspace-wide pass."""
        if self._lexical is None or self._classes is None:
            with self._warm_lock:
                if self._warm_thread is None or not self._warm_thread.is_alive():
                    self._warm_thread = threading.Thread(
                        target=self._warm_quietly, name="roost-retrieval-warm", daemon=True
                    )
                    self._warm_thread.start()
        return self._lexical, self._classes

    def _warm_quietly(self) -> None:
        try:
            self.warm()
        except Exception:  # a workspace-wide pass must never take the server down
            log.exception("building retrieval's lexical/class indexes failed")

    def file_changed(self, path: str, text: str | None = None) -> None:
        if self._classes is not None:
            facts = None if self.is_excluded(path) else self.workspace.file_facts(path)
            if facts is None:
                self._classes.remove_file(path)
            else:
                self._classes.set_file(facts)
        if self._lexical is None:
            return
        if self.is_excluded(path):
            self._lexical.remove_file(path)
            return
        content = text if text is not None else self.workspace.file_text(path)
        if content is None:
            self._lexical.remove_file(path)
        else:
            self._lexical.set_file(path, content)

    def file_removed(self, path: str) -> None:
        if self._lexical is not None:
            self._lexical.remove_file(path)
        if self._classes is not None:
            self._classes.remove_file(path)
        self.activity.forget(path)

    def lexical_index(self) -> BM25WindowIndex:
        """Built on first use (the fallback is rare); later kept current through :meth:`file_changed`."""
        with self._build_lock:
            if self._lexical is None:
                index = BM25WindowIndex(self.options.window_lines, self.options.window_stride)
                for path in self.workspace.paths():
                    if self.is_excluded(path):
                        continue
                    text = self.workspace.file_text(path)
                    if text is not None:
                        index.set_file(path, text)
                self._lexical = index
            return self._lexical

    def class_index(self) -> ClassIndex:
        """Every class of the workspace by name and members, for receivers the graph cannot type."""
        with self._build_lock:
            if self._classes is None:
                index = ClassIndex()
                for path in self.workspace.paths():
                    if self.is_excluded(path):
                        continue
                    facts = self.workspace.file_facts(path)
                    if facts is not None:
                        index.set_file(facts)
                self._classes = index
            return self._classes

    # --- the request ---------------------------------------------------------------------------------

    def retrieve(
        self,
        request: RetrievalRequest,
        count_tokens: TokenCounter,
        context_budget: int,
        *,
        prefix_budget: int = 0,
        suffix_budget: int = 0,
        visible_lines: tuple[int, int] | None = None,
    ) -> RetrievalResult:
        """Ranked snippets packed under ``context_budget`` tokens (as counted by ``count_tokens``).

        ``visible_lines`` is the part of the document the prompt shows around the cursor (0-based,
        inclusive); when omitted it is estimated from the prompt's ``prefix_budget``/``suffix_budget``
        (tokens; the caller splits its budget, 0 counts the cursor's line alone as shown).
        """
        candidates, session = self._collect(request)
        if visible_lines is None:
            visible_lines = visible_rows(
                session.lines[session.request.path] or [],
                session.request.line,
                prefix_budget * self.options.visible_chars_per_token,
                suffix_budget * self.options.visible_chars_per_token,
            )
        result = pack(
            candidates,
            context_budget,
            self._cached_counter(count_tokens),
            self.redact,
            current_path=request.path,
            visible_lines=visible_lines,
            item_overhead_tokens=self.options.item_overhead_tokens,
        )
        result.used_fallback = any(c.kind is CandidateKind.LEXICAL for c in candidates)
        result.member_names = offered_names(session.resolver, session.receiver_owners, self.workspace.paths)
        result.member_fits = line_fits(result.member_names, session.cursor, self.options.fit_context_lines)
        return result

    def _cached_counter(self, count_tokens: TokenCounter) -> TokenCounter:
        """Token counts of snippets are reused across requests: the same definitions come back on every
        keystroke. Keyed by the counter (a bound method's object) so two tokenizers never mix."""
        owner = getattr(count_tokens, "__self__", count_tokens)
        name = getattr(count_tokens, "__name__", "")
        # Holding the owner (not its id) means a new tokenizer can never be mistaken for the old one.
        if (
            self._token_cache_key is None
            or self._token_cache_key[0] is not owner
            or self._token_cache_key[1] != name
        ):
            self._token_cache.clear()
            self._token_cache_key = (owner, name)
        cache = self._token_cache

        def count(text: str) -> int:
            tokens = cache.get(text)
            if tokens is None:
                tokens = count_tokens(text)
                if len(cache) > 8192:
                    cache.clear()
                cache[text] = tokens
            return tokens

        return count

    def candidates(self, request: RetrievalRequest) -> list[Candidate]:
        """Every candidate with its score and reason, unranked and unpacked (for listings and tests)."""
        return self._collect(request)[0]

    def _collect(self, request: RetrievalRequest) -> tuple[list[Candidate], _Session]:
        if request.line < 0 or request.col < 0:
            raise ValueError(f"cursor must be non-negative, got line {request.line} col {request.col}")
        facts = (
            request.facts
            or parse_facts(request.path, request.text)
            # The stored facts of the file on disk: stale, but better than nothing.
            or self.workspace.file_facts(request.path)
            or FileFacts(request.path, "unknown")
        )
        lines = text_rows(request.text)
        if request.line >= len(lines):
            raise ValueError(
                f"line {request.line + 1} is past the end of {request.path} ({len(lines)} lines)"
            )
        cursor = analyse_cursor(
            facts, request.text, request.line, request.col, self.options.enclosing_scan_lines
        )
        sources = SourceText(lambda path: self._lines(session, path))  # ``session`` is bound before use
        resolver = Resolver(
            self.workspace, overrides={request.path: facts}, source_for=sources, cache=self._resolver_cache
        )
        session = _Session(request, facts, cursor, resolver, lines={request.path: lines})
        self._from_cursor_member(session)
        self._from_partial(session)
        self._from_near_names(session)
        self._from_imports(session)
        self._from_enclosing_scope(session)
        self._from_activity(session)
        cross_file = sum(1 for c in session.candidates if c.path != request.path)
        if cross_file < self.options.fallback_below:
            self._from_lexical(session)
        return session.candidates, session

    # --- candidate sources ---------------------------------------------------------------------------

    def _workspace_version(self) -> object:
        """A value that changes whenever any file changes (the graph's version); None when unknown."""
        version = getattr(self.workspace, "version", None)
        if version is None:
            version = getattr(getattr(self.workspace, "graph", None), "version", None)
        return version

    def _lines(self, session: _Session, path: str) -> list[str] | None:
        if path in session.lines:
            return session.lines[path]
        lines: list[str] | None = None
        if not self.is_excluded(path):
            text = self.activity.document_text(path)
            if text is not None:
                lines = text_rows(text)
            else:
                version = self._workspace_version()
                if version is not None and version == self._file_lines_version and path in self._file_lines:
                    lines = self._file_lines[path]
                else:
                    text = self.workspace.file_text(path)
                    lines = text_rows(text) if text is not None else None
                    if version is not None:
                        if version != self._file_lines_version or len(self._file_lines) > 512:
                            self._file_lines.clear()
                            self._file_lines_version = version
                        self._file_lines[path] = lines
        session.lines[path] = lines
        return lines

    def _add_target(
        self,
        session: _Session,
        target: SymbolLocation,
        kind: CandidateKind,
        score: float,
        reason: str,
        max_members: int | None = None,
    ) -> None:
        if self.is_excluded(target.path):
            return
        definition = target.definition
        if (
            target.path == session.request.path
            and definition is not None
            and definition.span.start_line <= session.cursor.line <= definition.span.end_line
        ):
            return  # an enclosing scope of the cursor: the prompt's prefix already is that code
        lines = self._lines(session, target.path)
        if not lines:
            return
        options = self.options
        facts = session.resolver.facts(target.path)
        definition = target.definition
        if definition is None:
            if facts is None:
                return
            snippet = module_outline(lines, facts, max_members or options.max_members_per_module)
            symbol = None
        elif definition.kind in CLASS_LIKE_KINDS and facts is not None:
            # Accessing members (a typed receiver, the enclosing scope) needs the member outline; a class
            # used by name (called, subclassed) needs how to build it.
            members_wanted = kind in (CandidateKind.TYPE, CandidateKind.OUTLINE)
            snippet = class_outline(
                lines,
                facts,
                definition,
                options.small_body_lines,
                options.doc_lines,
                max_chars=options.max_outline_chars,
                constructors_only=not members_wanted,
            )
            symbol = definition.qualified_name + (
                "#members" if members_wanted and not snippet.complete else ""
            )
        else:
            if kind is CandidateKind.IMPORT:
                # Imports far from the cursor are many: their signature is what fits and what matters.
                snippet = definition_snippet(lines, definition, options.import_body_lines, 1)
            else:
                snippet = definition_snippet(lines, definition, options.small_body_lines, options.doc_lines)
            symbol = definition.qualified_name
        if snippet is None or not snippet.text.strip():
            return
        if target.path == session.request.path:
            score *= scores.SAME_FILE_FACTOR
        if definition is not None and definition.kind in VALUE_KINDS:
            score *= scores.VARIABLE_FACTOR
        session.candidates.append(
            Candidate(
                path=target.path,
                start_line=snippet.start_line,
                end_line=snippet.end_line,
                text=snippet.text,
                kind=kind,
                score=score,
                reason=reason,
                symbol=symbol,
            )
        )

    def _self_names(self, session: _Session) -> tuple[str, ...]:
        language = language_for_path(session.request.path)
        return language.self_names() if language is not None else ("self", "this")

    def _resolve_receiver(self, session: _Session, expression: str, depth: int = 0) -> list[SymbolLocation]:
        """What a receiver expression (``mod``, ``self.store``, ``x``) denotes at the cursor."""
        cursor, resolver, path = session.cursor, session.resolver, session.request.path
        if depth > 6:  # a chain (``x := cmd.Root().Find()``) takes a level a call or an element
            return []
        hint = cursor.type_hints.get(expression)
        if hint is not None and hint != expression:
            typed = self._type_of(session, hint, depth + 1)
            if typed:
                return typed
        if expression.endswith("()") and expression != "super()":
            return self._type_of(session, expression[:-2], depth + 1)  # what the call returns
        resolve = functools.partial(self._resolve_receiver, session, depth=depth + 1)
        if (chained := chained_receiver(resolver, path, expression, cursor.type_hints, resolve)) is not None:
            return chained  # ``s[].x``, ``cmd.Root().x``: through an element or a call
        parts = expression.split(".")
        head, rest = parts[0], parts[1:]
        if head in self._self_names(session) and cursor.cls is not None:
            start = [SymbolLocation(path, cursor.cls)]
        elif head == "super()" and cursor.cls is not None:
            start = resolver.bases(SymbolLocation(path, cursor.cls))
        elif head in cursor.type_hints and cursor.type_hints[head] != head:
            start = self._type_of(session, cursor.type_hints[head], depth + 1)
        else:
            return resolver.expression(path, expression)  # ``import a.b`` then ``a.b.c``: from the module
        return resolver.expression(path, ".".join(rest), start) if rest else start

    def _type_of(self, session: _Session, expression: str, depth: int) -> list[SymbolLocation]:
        """The class an assignment's callee or an annotation denotes: ``Foo`` or ``make_foo() -> Foo``."""
        return classes_of(session.resolver, self._resolve_receiver(session, expression, depth))

    def _guessed_classes(self, session: _Session, receiver: str) -> list[tuple[SymbolLocation, float]]:
        used = session.cursor.receiver_members.get(receiver, set())
        found: list[tuple[SymbolLocation, float]] = []
        classes = self._built_or_building()[1]
        if classes is None:
            return []
        for entry, score in classes.guess(receiver, used):
            facts = session.resolver.facts(entry.path)
            definition = next(
                (d for d in (facts.definitions if facts else ()) if d.qualified_name == entry.qualified_name),
                None,
            )
            if definition is not None:
                found.append((SymbolLocation(entry.path, definition), score))
        return found

    def _members_of(
        self, session: _Session, owner: SymbolLocation, fit: LineFit, why: str, weight: float
    ) -> list[ReceiverMember]:
        """The members ``owner.`` offers (see ``members``); a small class among the receiver's class and its
        bases is added whole instead, scored ``weight`` per inheritance level."""
        if is_module(owner):
            return module_members(session.resolver, owner, fit, sum(self.options.receiver_member_listings))
        members, small = class_members_by_level(session.resolver, owner, self.options.small_body_lines)
        for cls, depth in small:
            name = cls.definition.name if cls.definition else "?"
            reason = why + (f", base class `{name}`" if depth else "")
            self._add_target(session, cls, CandidateKind.TYPE, weight * SCORE_BASE_LEVEL**depth, reason)
        return members

    def _receiver_fit(self, session: _Session, receiver: str) -> LineFit:
        """What the line at the cursor says about the member of ``receiver`` wanted, and which it may name."""
        cursor = session.cursor
        return LineFit.at(
            cursor.line_prefix,
            cursor.lines[max(0, cursor.line - self.options.fit_context_lines) : cursor.line],
            cursor.partial,
            cursor.receiver_members.get(receiver, set()),
            on_self=receiver.split(".")[0] in self._self_names(session),
            definers=classes.definers if (classes := self._built_or_building()[1]) is not None else None,
            uses=lexical.windows_with if (lexical := self._built_or_building()[0]) is not None else None,
            scopes=cursor.scopes,
            path=session.request.path,
            near={name: w for (owner, name), w in cursor.near_members.items() if owner == receiver},
        )

    def _add_receiver_members(
        self, session: _Session, receiver: str, owners: list[tuple[SymbolLocation, float]]
    ) -> None:
        """The listing of what ``receiver.`` offers, best-fitting members first (see ``members``)."""
        fit = self._receiver_fit(session, receiver)
        chosen: dict[tuple[str, int], tuple[ReceiverMember, float]] = {}
        for owner, weight in owners:
            guessed = f"`{receiver}` looks like a {owner.definition.name if owner.definition else '?'}"
            why = f"type of `{receiver}`" if weight >= 1.0 else guessed
            for member in self._members_of(session, owner, fit, why, weight):
                score = fit.score(member)
                if score is None or self.is_excluded(member.location.path):
                    continue
                key = (member.location.path, member.location.name_span.start_line)
                if key not in chosen or chosen[key][1] < score * weight:
                    chosen[key] = (member, score * weight)
        listings = receiver_listings(
            list(chosen.values()),
            self.options,
            lambda path: self._lines(session, path),
            receiver,
            scores.SCORE_MEMBER_AT_CURSOR,
        )
        for candidate in listings:
            if candidate.path == session.request.path:
                candidate.score *= scores.SAME_FILE_FACTOR
        session.candidates.extend(listings)

    def _from_cursor_member(self, session: _Session) -> None:
        cursor = session.cursor
        if cursor.receiver is None:
            return
        receiver = cursor.receiver
        session.receiver_owners = targets = receiver_owners(
            session.resolver, self._resolve_receiver(session, receiver), lambda p: self._lines(session, p)
        )
        if not targets:
            if receiver.endswith("()") and receiver != "super()":
                # The callee's own definition tells what it returns, when nothing typed it.
                for callee in self._resolve_receiver(session, receiver[:-2]):
                    self._add_target(
                        session,
                        callee,
                        CandidateKind.DEFINITION,
                        0.9,
                        f"`{receiver[:-2]}` returns the receiver",
                    )
            session.receiver_owners = confident_guesses(guessed := self._guessed_classes(session, receiver))
            self._add_receiver_members(
                session, receiver, [(target, scores.SCORE_GUESSED_TYPE * score) for target, score in guessed]
            )
            return
        self._add_receiver_members(session, receiver, [(target, 1.0) for target in targets])
        fit = self._receiver_fit(session, receiver)
        for target in targets:
            if is_module(target):
                members = [
                    SymbolLocation(target.path, d)
                    for d in (session.resolver.facts(target.path) or FileFacts(target.path, "")).definitions
                    if d.parent is None
                ]
            else:
                members = session.resolver.class_members(target)
            # Whose member each is: a base's private one is hidden even in a subclass.
            owners = {
                (m.location.path, m.location.name_span.start_line): m.owner
                for m in ([] if is_module(target) else class_members_by_level(session.resolver, target, 0)[0])
            }
            for member in members:
                definition = member.definition
                # Hidden there (``#secret``, Java's ``private``): as the listing, no definition of it either.
                owner = (
                    None
                    if is_module(target)
                    else owners.get((member.path, member.name_span.start_line), target)
                )
                if definition is None or not fit.visible(ReceiverMember(member, owner, 0)):
                    continue
                weight = scores.SCORE_USED_AT_CURSOR * cursor.near_members.get(
                    (receiver, definition.name), 0.0
                )
                if cursor.partial and definition.name.startswith(cursor.partial):
                    weight = max(weight, 1.0)
                if weight > 0:
                    self._add_target(
                        session,
                        member,
                        CandidateKind.DEFINITION,
                        scores.SCORE_MEMBER_AT_CURSOR * weight,
                        f"`{receiver}.{definition.name}` at the cursor",
                    )

    def _from_partial(self, session: _Session) -> None:
        cursor = session.cursor
        partial = cursor.partial
        if cursor.receiver is not None or len(partial) < 2:
            return
        names: set[str] = set()
        for imp in session.facts.imports:
            names.update(n.local_name for n in imp.names)
        names.update(d.name for d in session.facts.definitions if d.parent is None)
        for name in sorted(n for n in names if n.startswith(partial) and n != partial)[:8]:
            for target in session.resolver.in_module(session.request.path, name):
                self._add_target(
                    session,
                    target,
                    CandidateKind.DEFINITION,
                    scores.SCORE_PARTIAL_MATCH,
                    f"completes `{partial}`",
                )

    def _from_near_names(self, session: _Session) -> None:
        cursor, resolver, path = session.cursor, session.resolver, session.request.path
        self_names = self._self_names(session)
        ordered = sorted(cursor.near_names.items(), key=lambda item: -item[1])
        # A variable's type matters where members are accessed on it.
        receivers = {receiver.split(".")[0] for receiver, _ in cursor.near_members}
        for name, weight in ordered[:40]:
            if name in self_names:
                continue
            hint = cursor.type_hints.get(name) if name in receivers else None
            if hint is not None:
                for target in self._type_of(session, hint, 1):
                    self._add_target(
                        session, target, CandidateKind.TYPE, scores.SCORE_TYPE * weight, f"type of `{name}`"
                    )
            for target in resolver.in_module(path, name):
                if is_module(target):
                    continue  # members used nearby are resolved below; the whole module is for the cursor
                self._add_target(
                    session,
                    target,
                    CandidateKind.DEFINITION,
                    scores.SCORE_NEAR_NAME * weight,
                    f"`{name}` used nearby",
                )
        members = sorted(cursor.near_members.items(), key=lambda item: -item[1])
        for (receiver, member), weight in members[:40]:
            if receiver == cursor.receiver:
                continue  # already covered at the cursor
            for owner in self._resolve_receiver(session, receiver):
                for target in resolver.member([owner], member):
                    self._add_target(
                        session,
                        target,
                        CandidateKind.DEFINITION,
                        scores.SCORE_NEAR_MEMBER * weight,
                        f"`{receiver}.{member}` used nearby",
                    )

    def _from_imports(self, session: _Session) -> None:
        cursor, facts, resolver = session.cursor, session.facts, session.resolver
        line = cursor.line
        nearest: dict[str, int] = {}
        for ref in facts.references:
            name = ref.receiver.split(".")[0] if ref.receiver else ref.name
            distance = abs(ref.span.start_line - line)
            if distance < nearest.get(name, 1 << 30):
                nearest[name] = distance
        language = language_for_path(session.request.path)
        # Score every imported name first (cheap), resolve only the best: a file may import hundreds.
        scored: list[tuple[float, str, str, bool]] = []  # (score, local name, reason, whole module)
        for imp in facts.imports:
            if imp.is_star:
                continue
            if imp.names:
                for imported in imp.names:
                    local = imported.local_name
                    used_at = nearest.get(local)
                    if used_at is None:
                        scored.append(
                            (scores.SCORE_IMPORT_UNUSED, local, f"imported `{local}`, not used yet", False)
                        )
                    else:
                        score = scores.SCORE_IMPORT_USED / (1.0 + used_at / 20.0)
                        scored.append((score, local, f"imported `{local}`, used {used_at} lines away", False))
                continue
            bound = language.bound_name(imp) if language is not None else imp.alias
            if bound and bound in nearest:
                distance = nearest[bound]
                score = scores.SCORE_MODULE_IMPORT / (1.0 + distance / 20.0)
                scored.append((score, bound, f"module `{bound}`, used {distance} lines away", True))
        scored.sort(key=lambda item: -item[0])
        for score, local, why, whole_module in scored[: self.options.max_import_candidates]:
            for target in resolver.in_module(session.request.path, local):
                if is_module(target) and not whole_module:  # ``from pkg import submodule``
                    score = scores.SCORE_MODULE_IMPORT * score / scores.SCORE_IMPORT_USED
                self._add_target(session, target, CandidateKind.IMPORT, score, why)

    def _from_enclosing_scope(self, session: _Session) -> None:
        cursor, path = session.cursor, session.request.path
        cls = cursor.cls
        facts = session.facts
        lines = session.lines[path] or []
        if cls is not None:
            snippet = class_outline(
                lines,
                facts,
                cls,
                self.options.small_body_lines,
                self.options.doc_lines,
                max_chars=self.options.max_outline_chars,
            )
            session.candidates.append(
                Candidate(
                    path,
                    snippet.start_line,
                    snippet.end_line,
                    snippet.text,
                    CandidateKind.OUTLINE,
                    scores.SCORE_ENCLOSING_OUTLINE,
                    "enclosing class",
                    symbol=f"{cls.qualified_name}#enclosing",
                )
            )
        outline = module_outline(lines, facts, self.options.max_members_per_module)
        if outline is not None:
            session.candidates.append(
                Candidate(
                    path,
                    outline.start_line,
                    outline.end_line,
                    outline.text,
                    CandidateKind.OUTLINE,
                    scores.SCORE_FILE_OUTLINE,
                    "module-level names of this file",
                    symbol="#module-outline",
                )
            )

    def _from_activity(self, session: _Session) -> None:
        now = time.monotonic()
        path = session.request.path
        for rank, edit in enumerate(self.activity.recent_edits()[:8]):
            if edit.path == path or self.is_excluded(edit.path):
                continue
            lines = self._lines(session, edit.path)
            if not lines:
                continue
            start = max(0, edit.line - 5)
            end = min(len(lines) - 1, edit.line + 5)
            age = now - edit.at
            score = scores.SCORE_RECENT / (1.0 + rank / 2.0) / (1.0 + age / 300.0)
            session.candidates.append(
                Candidate(
                    edit.path,
                    start,
                    end,
                    "\n".join(lines[start : end + 1]),
                    CandidateKind.RECENT,
                    score,
                    f"edited {int(age)} s ago",
                )
            )
        open_documents = {p: t for p, t in self.activity.open_documents().items() if p != path}
        if not open_documents:
            return
        query = "\n".join(
            session.cursor.lines[
                max(0, session.cursor.line - self.options.query_lines) : session.cursor.line + 1
            ]
        )
        index = BM25WindowIndex(self.options.window_lines, self.options.window_stride)
        for doc_path, text in open_documents.items():
            if not self.is_excluded(doc_path):
                index.set_file(doc_path, text)
        hits = index.search(query, limit=2)
        best = hits[0][1] if hits else 0.0
        for window, score in hits:
            lines = text_rows(open_documents[window.path])
            session.candidates.append(
                Candidate(
                    window.path,
                    window.start_line,
                    window.end_line,
                    "\n".join(lines[window.start_line : window.end_line + 1]),
                    CandidateKind.OPEN_DOCUMENT,
                    scores.SCORE_OPEN_DOCUMENT * (score / best if best else 0.0),
                    "open in the editor, similar code",
                )
            )

    def _from_lexical(self, session: _Session) -> None:
        cursor = session.cursor
        query_lines = cursor.lines[max(0, cursor.line - self.options.query_lines) : cursor.line]
        query_lines.append(cursor.line_prefix)
        lexical = self._built_or_building()[0]
        if lexical is None:
            return
        hits = lexical.search(
            "\n".join(query_lines), limit=self.options.max_lexical_items, exclude={session.request.path}
        )
        best = hits[0][1] if hits else 0.0
        for window, score in hits:
            lines = self._lines(session, window.path)
            if not lines:
                continue
            session.candidates.append(
                Candidate(
                    window.path,
                    window.start_line,
                    window.end_line,
                    "\n".join(lines[window.start_line : window.end_line + 1]),
                    CandidateKind.LEXICAL,
                    scores.SCORE_LEXICAL * (score / best if best else 0.0),
                    "similar code (BM25)",
                )
            )
