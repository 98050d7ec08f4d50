"""The receiver's members at ``receiver.|``: what an editor's completion list would offer there, as a
compact listing (one declaration line each, grouped by the class or module that defines them), ranked by
what fits the line being typed.

The name about to be typed is often nowhere in the file yet (``debug.technical_500_response(``,
``isinstance(f, models.DateTimeField)``): no lexical signal finds it, only the receiver's members do. A
member is ranked by the fragment typed (a prefix match is required once there is one), by words it shares
with the line and the code around (``response = debug.`` → ``technical_500_response``), by the kind the
line wants (a class after ``isinstance(``, ``except``, ``raise``), by being used nearby, a class's member
by how much the whole project writes it, public before private (unless on ``self``), and own before
inherited. A member the language hides from the code at the cursor (TypeScript's ``private`` outside its
class, Go's lower-case names of another package) is not offered: naming it would not compile.
"""

from __future__ import annotations

import math
import posixpath
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from roost.context.facts import CLASS_LIKE_KINDS, Definition, SymbolKind
from roost.context.graph import SymbolLocation
from roost.context.languages import language_for_path, language_named
from roost.context.resolution import Resolver, is_class, is_module, unique
from roost.context.retrieval.model import Candidate, CandidateKind
from roost.context.retrieval.options import RetrievalOptions
from roost.context.retrieval.snippets import ELISION
from roost.context.retrieval.typeguess import name_words

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# The line asks for a class: ``isinstance(x, m.``, ``except m.``, ``raise m.``, ``class C(m.``.
_WANTS_CLASS = re.compile(
    r"(?:\b(?:isinstance|issubclass)\s*\(.*,\s*\(?|\bexcept\s+\(?|\braise\s+|^\s*class\s+\w+\s*\()"
)
# The line asks for a value where the receiver is written: after ``return``, ``new``, ``=>``, ``=`` (not a
# TypeScript ``type X =``), an opening parenthesis or bracket, an operator; block comments skipped
# (``/*@__PURE__*/``).
_WANTS_VALUE = re.compile(
    r"(?:\b(?:return|new|await|yield|throw)|=>|&&|\|\||[=(\[!?+\-*/%])\s*(?:/\*.*?\*/\s*)*$"
)
_TYPE_ALIAS_HEAD = re.compile(r"\btype\s+[\w$]+\s*(?:<.*>)?\s*=\s*$")
_RECEIVER_WRITTEN = re.compile(r"[\w$.?!]*\.\s*$")
_TYPE_ONLY_KINDS = frozenset({SymbolKind.INTERFACE, SymbolKind.TYPE})
_TYPESCRIPT_SUFFIXES = (".ts", ".tsx", ".mts", ".cts")
TYPE_FOR_VALUE = 0.3
# The last name of the receiver written before the cursor: ``_bootstrap`` of ``x = _bootstrap.``.
_RECEIVER_END = re.compile(r"(\w+)\s*\.\s*$")
_SIGNATURE_CHARS = 160
# A word shared with the line and the lines above says more than a use elsewhere in the file.
SHARED_WORD, SHARED_WORDS_MAX = 0.2, 0.4
SHARED_PARAMETER, SHARED_PARAMETERS_MAX = 0.05, 0.15
USED_IN_FILE = 0.15
USED_NEAR = 0.15
# How much the whole project writes the name (windows of the lexical index holding it, log scale up to
# ``USED_IN_PROJECT_WINDOWS``): a type with a hundred members (cobra's ``*Command``) is mostly asked for the
# few the project keeps calling (``Name``, ``Commands``, ``Root``), whatever the line's words say.
USED_IN_PROJECT, USED_IN_PROJECT_WINDOWS = 0.2, 100
INTERFACE = 0.15
OVERRIDDEN = 0.5
# Per inheritance level: a base's members after the class's own.
SCORE_BASE_LEVEL = 0.9
# Each further listing of one owner's members ranks this much lower.
SCORE_MORE_MEMBERS = 0.9
_MAX_BASE_LEVELS = 5
_COMMON_WORD_SHARE = 0.1
_WITH_BODY = frozenset({*CLASS_LIKE_KINDS, SymbolKind.FUNCTION, SymbolKind.METHOD, SymbolKind.CONSTRUCTOR})
_CALLABLE = _WITH_BODY - CLASS_LIKE_KINDS
_KEYWORDS = frozenset(
    {"self", "cls", "def", "return", "if", "else", "elif", "for", "in", "not", "and", "or", "is", "none"}
)


@dataclass(frozen=True, slots=True)
class ReceiverMember:
    location: SymbolLocation
    # Where it is declared for the listing's header: the class that owns it (None: a module's own name).
    owner: SymbolLocation | None
    depth: int  # 0: the receiver's own member; n: from its n-th base class


@dataclass(frozen=True, slots=True)
class LineFit:
    """What the line being typed and the code around it say about the member wanted."""

    partial: str
    wants_class: bool
    words: frozenset[str]  # name words of the line and the nearby code
    used_nearby: frozenset[str]  # members of this receiver the file uses
    private_ok: bool  # private names are offered (see :meth:`at`)
    # How many classes of the workspace define a member of that name (0 when unknown).
    definers: Callable[[str], int] = lambda name: 0
    # The method the cursor is in, when the receiver is not ``self``: ``Base.__init__(self, …)`` and
    # ``super().save(…)`` call the method being overridden.
    overridden: str = ""
    # Members of this receiver used close to the cursor, by closeness in (0, 1].
    near: Mapping[str, float] = field(default_factory=dict)
    # The line asks for a value (``return ns.``, ``= ns.``, ``(ns.``): TypeScript's interfaces and type
    # aliases cannot stand there.
    wants_value: bool = False
    # How many windows of the workspace hold a name (0 when unknown), see ``USED_IN_PROJECT``.
    uses: Callable[[str], int] = lambda name: 0
    # The cursor's file and enclosing definitions (outermost first), and whether the receiver is
    # ``self``/``this``: what decides which members the language lets the code there name (see
    # :meth:`visible`). No path: every member is offered.
    path: str = ""
    scopes: tuple[Definition, ...] = ()
    on_self: bool = False

    @staticmethod
    def at(
        line_prefix: str,
        context_lines: Iterable[str],
        partial: str,
        used_in_file: set[str],
        on_self: bool,
        definers: Callable[[str], int] | None = None,
        scopes: Sequence[Definition] = (),
        near: Mapping[str, float] | None = None,
        uses: Callable[[str], int] | None = None,
        path: str = "",
    ) -> LineFit:
        """``scopes``: the definitions containing the cursor, outermost first; ``near``: see ``LineFit``."""
        words: set[str] = set()
        for text in (line_prefix, *context_lines):
            for token in _WORD.findall(text):
                words.update(w for w in name_words(token) if len(w) > 2 and w not in _KEYWORDS)
        before_receiver = line_prefix[: max(0, len(line_prefix) - len(partial))]
        # Private names are offered on ``self``, on a private module (``_bootstrap.``), where the fragment
        # typed starts with ``_``, and on a receiver whose private members the file already uses.
        receiver = _RECEIVER_END.search(before_receiver)
        private_ok = (
            on_self
            or partial.startswith("_")
            or (receiver is not None and receiver.group(1).startswith("_"))
            or any(name.startswith("_") for name in used_in_file)
        )
        return LineFit(
            partial,
            _WANTS_CLASS.search(before_receiver) is not None,
            frozenset(words),
            frozenset(used_in_file),
            private_ok,
            definers or (lambda name: 0),
            "" if on_self else next((d.name for d in reversed(scopes) if d.kind in _CALLABLE), ""),
            near or {},
            _wants_value(_RECEIVER_WRITTEN.sub("", before_receiver)),
            uses or (lambda name: 0),
            path,
            tuple(scopes),
            on_self,
        )

    def _interface(self, name: str) -> float:
        """Up to ``INTERFACE`` for a member many classes define (log scale: ~50 classes tops); dunders
        are left out, every class has them."""
        if name.startswith("__"):
            return 0.0
        return INTERFACE * min(1.0, math.log1p(self.definers(name)) / 4.0)

    def _used_in_project(self, name: str) -> float:
        return USED_IN_PROJECT * min(1.0, math.log1p(self.uses(name)) / math.log1p(USED_IN_PROJECT_WINDOWS))

    def name_score(self, name: str) -> float:
        """A first ranking by the name alone (before resolving it): what :meth:`score` says of it, with a
        capital initial standing for a class."""
        score = 0.5
        if self.partial and name.startswith(self.partial):
            score += 0.3
        if name in self.used_nearby:
            score += USED_IN_FILE
        score += self._interface(name)
        score += min(SHARED_WORDS_MAX, SHARED_WORD * len(set(name_words(name)) & self.words))
        if self.wants_class:
            score += 0.2 if name[:1].isupper() else -0.2
        if name.startswith("_") and not self.private_ok:
            score -= 0.3
        return score

    def score(self, member: ReceiverMember) -> float | None:
        """How well ``member`` fits, in (0, 1]; None when the typed fragment rules it out or the code at the
        cursor may not name it (:meth:`visible`)."""
        definition = member.location.definition
        if definition is None or not self.visible(member):
            return None
        name = definition.name
        score = 0.5
        if self.partial:
            if name.startswith(self.partial):
                score += 0.3
            elif self.partial.lower() in name.lower():
                score += 0.1
            else:
                return None
        if name in self.used_nearby:
            score += USED_IN_FILE + USED_NEAR * self.near.get(name, 0.0)
        score += self._interface(name)
        # A class's members only: a module's own names (zod's ``core.``, 956 of them) lost 2 of 150 cases.
        if member.owner is not None:
            score += self._used_in_project(name)
        shared = len(set(name_words(name)) & self.words)
        score += min(SHARED_WORDS_MAX, SHARED_WORD * shared)
        # Parameters named like the code around (``_exec(spec, module)`` where ``spec`` is at hand).
        parameters = set(_WORD.findall(definition.signature.partition("(")[2])) - {name}
        score += min(SHARED_PARAMETERS_MAX, SHARED_PARAMETER * len(parameters & self.words))
        is_class = definition.kind in CLASS_LIKE_KINDS
        if self.wants_class:
            score += 0.2 if is_class else -0.2
        if self.wants_value and is_type_only(member.location):
            score -= TYPE_FOR_VALUE
        if name == self.overridden:
            score += OVERRIDDEN
        elif name.startswith("__") and name.endswith("__"):
            score -= 0.3
        elif name.startswith("_") and not self.private_ok:
            score -= 0.25
        # After the cap, so a base's member never ties with the one the class overrides it with.
        return max(0.01, min(1.0, score) * SCORE_BASE_LEVEL ** min(member.depth, 4))

    def visible(self, member: ReceiverMember) -> bool:
        """Whether the language lets the cursor's code name ``member`` (TypeScript's ``private`` and
        ``protected``, ``#name``, Java's ``private``, Go's lower-case names of another package, Rust's fields
        without ``pub`` of another module): naming it elsewhere does not compile."""
        definition, path = member.location.definition, member.location.path
        language = language_for_path(path)
        if not self.path or definition is None or language is None:
            return True
        access = language.member_access(definition)
        if access == "public":
            return True
        if access == "package":
            return posixpath.dirname(path) == posixpath.dirname(self.path)
        if access == "module":
            return language.sees_module_private(self.path, path)
        owner = member.owner
        if owner is None or owner.definition is None or (access == "protected" and self.on_self):
            return True
        classes = [d for d in self.scopes if d.kind in CLASS_LIKE_KINDS]
        # Inside the class's own body (a nested class's or function's included), or for Java its top-level
        # class's.
        qualified = owner.definition.qualified_name
        if owner.path == self.path and classes:
            if language.private_to_top_level_class:
                return qualified.split(".")[0] == classes[0].qualified_name.split(".")[0]
            if any(c.qualified_name == qualified for c in classes):
                return True
        # A class around the cursor extending the member's class sees its protected members (one level).
        return (
            access == "protected"
            and bool(classes)
            and owner.definition.name
            in {base.rsplit(".", 1)[-1] for base in language.base_names(classes[-1], ())}
        )


def _wants_value(before: str) -> bool:
    return _WANTS_VALUE.search(before) is not None and _TYPE_ALIAS_HEAD.search(before) is None


def is_type_only(location: SymbolLocation) -> bool:
    """A TypeScript interface or type alias: a name for types only (Go's and Java's types are values too)."""
    definition = location.definition
    return (
        definition is not None
        and definition.kind in _TYPE_ONLY_KINDS
        and location.path.endswith(_TYPESCRIPT_SUFFIXES)
    )


def declaration_line(lines: list[str], definition: Definition) -> str:
    """The member's declaration (from its name's line, as many lines as its signature has) folded into
    one line, cut when long, `` ...`` when a body follows."""
    line_no = definition.name_span.start_line
    count = definition.signature.count("\n") + 1
    text = " ".join(part.strip() for part in lines[line_no : line_no + count] if part.strip())
    if len(text) > _SIGNATURE_CHARS:
        return text[:_SIGNATURE_CHARS].rstrip() + " " + ELISION
    if definition.span.end_line >= line_no + count and definition.kind in _WITH_BODY:
        text += " " + ELISION
    return text


def value_classes(resolver: Resolver, location: SymbolLocation, source: bytes | None) -> list[SymbolLocation]:
    """The module or class a variable or field stands for: what it renames (``isfuture =
    base_futures.isfuture``), else the class the resolver says types it (``caches = CacheHandler()``,
    ``self.store = store`` with ``store: Store``), resolved in the module where it is written (``source``
    is that file's text)."""
    aliased = resolver.alias_target(location)
    if aliased:
        return [t for t in aliased if is_module(t) or is_class(t)]
    expression = resolver.variable_type(location, source)
    if expression is None:
        return []
    called = expression.endswith("()")
    classes: list[SymbolLocation] = []
    for target in resolver.expression(location.path, expression.removesuffix("()")):
        if is_class(target):
            classes.append(target)
        elif called and target.definition is not None:
            returned = resolver.returned_class(target)
            if returned is not None:
                classes.append(returned)
    return classes


def module_members(
    resolver: Resolver, module: SymbolLocation, fit: LineFit, limit: int
) -> list[ReceiverMember]:
    """A module's names (its own, re-exported, star-imported), the ``limit`` best-fitting by name alone
    resolved to their definitions (a package may re-export hundreds; a renaming variable followed)."""
    names = resolver.module_names(module.path)
    if fit.partial:
        names = [name for name in names if fit.partial.lower() in name.lower()]
    if len(names) > limit:
        fit = replace(fit, words=fit.words - _common_words(names))
    found: list[ReceiverMember] = []
    for name in sorted(names, key=lambda name: -fit.name_score(name))[:limit]:
        for target in _type_and_value(resolver.member_of_module(module.path, name), fit.wants_value):
            target = next(iter(resolver.alias_target(target)), target)
            definition = target.definition
            if definition is None or definition.kind is SymbolKind.MODULE:
                continue
            owner = None
            if definition.parent is not None:
                owner = next(iter(resolver.expression(target.path, definition.parent)), None)
            # A name the module imports from elsewhere ranks like a base class's member, after its own.
            found.append(ReceiverMember(target, owner, 0 if target.path == module.path else 1))
    return found


def _type_and_value(targets: list[SymbolLocation], wants_value: bool) -> list[SymbolLocation]:
    """The first of a name's definitions, and where the line asks for a value and that one is a TypeScript
    type only, the first value sharing its name too (zod's ``interface $constructor`` and ``function
    $constructor``, which TypeScript merges: ``= core.▮$constructor(``). Elsewhere one entry per name keeps
    the listing's cut for other names."""
    if not targets or not wants_value or not is_type_only(targets[0]):
        return targets[:1]
    return targets[:1] + [t for t in targets if not is_type_only(t)][:1]


def _common_words(names: list[str]) -> frozenset[str]:
    """The words in more than ``_COMMON_WORD_SHARE`` of a module's names: they tell none of them apart (zod's
    ``core`` namespace holds 956 names, most with ``zod`` in them, and the line ``return core._isoDate(ZodISODate``
    shares ``zod`` with hundreds of interfaces that then filled the cut before ``_isoDate``)."""
    counts: Counter[str] = Counter(word for name in names for word in set(name_words(name)))
    return frozenset(word for word, count in counts.items() if count > len(names) * _COMMON_WORD_SHARE)


def class_members_by_level(
    resolver: Resolver, cls: SymbolLocation, small_lines: int
) -> tuple[list[ReceiverMember], list[tuple[SymbolLocation, int]]]:
    """The members of ``cls`` and of its bases, level by level (the depth of each noted); classes of at
    most ``small_lines`` lines are given apart with their depth, to be shown whole."""
    members: list[ReceiverMember] = []
    small: list[tuple[SymbolLocation, int]] = []
    seen: set[tuple[str, str]] = set()
    level = [cls]
    for depth in range(_MAX_BASE_LEVELS):
        following: list[SymbolLocation] = []
        for owner in level:
            definition = owner.definition
            if definition is None or (owner.path, definition.qualified_name) in seen:
                continue
            seen.add((owner.path, definition.qualified_name))
            own = resolver.own_members(owner)
            # Go's methods lie outside the type: shown whole, it would not show them.
            if definition.span.end_line - definition.span.start_line + 1 <= small_lines and not any(
                _method_declared_apart(member, owner) for member in own
            ):
                small.append((owner, depth))
            else:
                members.extend(ReceiverMember(m, owner, depth) for m in own)
            following.extend(resolver.bases(owner))
        level = following
        if not level:
            break
    return members, small


def _method_declared_apart(member: SymbolLocation, owner: SymbolLocation) -> bool:
    """A method written outside its type's declaration, naming the type by its receiver (Go's ``func (m *Map)
    At``); not a member a language merges in from elsewhere (TypeScript's declaration merging)."""
    outer, inner = owner.definition, member.definition
    if outer is None or inner is None:
        return False
    if member.path == owner.path and outer.span.start_line <= inner.span.start_line <= outer.span.end_line:
        return False
    language = language_for_path(member.path)
    return language is not None and language.method_receiver(inner) is not None


def _best_first(item: tuple[ReceiverMember, float]) -> tuple[float, int]:
    """Best fit first; among equals, a module's later names first (Python modules define their helpers
    before the functions that use them, so the entry points come last), a class's in file order."""
    member, fit = item
    line = member.location.name_span.start_line
    return -fit, -line if member.owner is None else line


def chunked_listings(
    scored: list[tuple[ReceiverMember, float]],
    sizes: tuple[int, ...],
    lines_of: Callable[[str], list[str] | None],
    score: float,
    receiver: str,
) -> list[Candidate]:
    """Each owner (a class, or a module file) listed with its best members: the first ``sizes[0]`` in one
    listing, the next ``sizes[1]`` in another ranked lower, and so on, so the best few always fit the
    budget and the rest only where there is room; the receiver's own class or module, when it is the
    only one, gets its first two parts as one listing and the rest as the next."""
    groups: dict[tuple[str, str | None], list[tuple[ReceiverMember, float]]] = {}
    for member, fit in sorted(scored, key=_best_first):
        key = (member.location.path, member.owner.qualified_name if member.owner else None)
        group = groups.setdefault(key, [])
        if len(group) < sum(sizes):
            group.append((member, fit))
    # The receiver's own class or module, when it is the only one (others being bases or modules it
    # imports from): no owner of its rank competes for the budget, so its first two parts are one
    # listing, where the member wanted is found first.
    own = [key for key, group in groups.items() if any(member.depth == 0 for member, _ in group)]
    parts: list[list[tuple[ReceiverMember, float]]] = [[] for _ in sizes]
    for key, group in groups.items():
        bounds = [sum(sizes[:i]) for i in range(len(sizes) + 1)]
        if own == [key] and len(sizes) > 1:
            bounds = [0, *bounds[2:], bounds[-1]]
        for part in range(len(sizes)):
            parts[part] += group[bounds[part] : bounds[part + 1]]
    listings: list[Candidate] = []
    for part, members in enumerate(parts):
        listings += listing_candidates(
            members, lines_of, score * SCORE_MORE_MEMBERS**part, receiver, part=f"#{part}" if part else ""
        )
    return listings


def listing_candidates(
    members: list[tuple[ReceiverMember, float]],
    lines_of: Callable[[str], list[str] | None],
    score: float,
    receiver: str,
    part: str = "",
) -> list[Candidate]:
    """One listing per owner (a class, or a module's own names), its declarations in file order, scored
    by ``score`` times its best member's fit."""
    groups: dict[tuple[str, str | None], list[tuple[ReceiverMember, float]]] = {}
    for member, fit in members:
        owner = member.owner
        key = (member.location.path, owner.qualified_name if owner is not None else None)
        groups.setdefault(key, []).append((member, fit))
    candidates: list[Candidate] = []
    for (path, owner_name), group in groups.items():
        lines = lines_of(path)
        if not lines:
            continue
        owner = group[0][0].owner
        rows: dict[int, str] = {}
        for member, _ in group:
            definition = member.location.definition
            assert definition is not None
            line_no = definition.name_span.start_line
            if line_no < len(lines):
                indent = "    " if owner is not None else ""
                rows.setdefault(line_no, indent + declaration_line(lines, definition))
        if not rows:
            continue
        start, end = min(rows), max(rows)
        parts: list[str] = []
        if owner is not None and owner.definition is not None:
            header_line = owner.definition.name_span.start_line
            if header_line < len(lines) and header_line not in rows:
                parts.append(lines[header_line].rstrip())
                start = min(start, header_line)
        parts.extend(rows[line_no] for line_no in sorted(rows))
        # The listing ranks by its receiver first (``score``), then by how well its best member fits.
        best = 0.7 + 0.3 * max(fit for _, fit in group)
        label = f"`{owner_name.rsplit('.', 1)[-1]}`" if owner_name else "the module"
        candidates.append(
            Candidate(
                path=path,
                start_line=start,
                end_line=end,
                text="\n".join(parts),
                kind=CandidateKind.MEMBERS,
                score=score * best,
                reason=f"members of `{receiver}` (from {label})",
                symbol=f"{owner_name or ''}#members-of:{receiver}{part}",
            )
        )
    return candidates


def _call_form(receiver: str, lines: list[str], definition: Definition) -> str:
    """``receiver.name(parameters)`` as it would be written at the cursor (``self``/``cls`` left out), or
    ``receiver.name`` for what is not called."""
    if definition.kind not in _CALLABLE:
        return f"{receiver}.{definition.name}"
    declared = declaration_line(lines, definition).removesuffix(" " + ELISION)
    _, found, after = declared.partition(definition.name + "(")
    if not found:
        return f"{receiver}.{definition.name}()"
    depth, end = 1, len(after)
    for index, char in enumerate(after):
        depth += char in "([{"
        depth -= char in ")]}"
        if depth == 0:
            end = index
            break
    parameters = [p.strip() for p in after[:end].split(",")]
    if parameters and parameters[0] in ("self", "cls"):
        parameters = parameters[1:]
    return f"{receiver}.{definition.name}({', '.join(p for p in parameters if p)})"


def best_members(
    scored: list[tuple[ReceiverMember, float]],
    count: int,
    lines_of: Callable[[str], list[str] | None],
    score: float,
    receiver: str,
    form: Literal["declaration", "call"] = "declaration",
) -> Candidate | None:
    """The ``count`` best-fitting members of ``receiver.`` in one short listing, the best last (the prompt
    puts this listing last, so the best member is the line nearest the cursor)."""
    best: list[tuple[ReceiverMember, list[str]]] = []
    names: set[str] = set()
    for member, _ in sorted(scored, key=_best_first):
        definition = member.location.definition
        if definition is None or definition.name in names:
            continue
        lines = lines_of(member.location.path)
        if not lines or definition.name_span.start_line >= len(lines):
            continue
        names.add(definition.name)
        best.append((member, lines))
        if len(best) == count:
            break
    if not best:
        return None
    path = best[0][0].location.path
    rows: list[str] = []
    for member, lines in reversed(best):
        definition = member.location.definition
        assert definition is not None
        if form == "call":
            rows.append(_call_form(receiver, lines, definition))
        else:
            rows.append(declaration_line(lines, definition))
    spans = [m.location.name_span.start_line for m, _ in best if m.location.path == path]
    return Candidate(
        path=path,
        start_line=min(spans),
        end_line=max(spans),
        text="\n".join(rows),
        kind=CandidateKind.MEMBERS,
        score=score,
        reason=f"best-fitting members of `{receiver}`",
        symbol=f"#best-members-of:{receiver}",
    )


# The few best-fitting members of the receiver at the cursor: above everything, so rendered last.
SCORE_BEST_MEMBERS = 1.05


def receiver_listings(
    scored: list[tuple[ReceiverMember, float]],
    options: RetrievalOptions,
    lines_of: Callable[[str], list[str] | None],
    receiver: str,
    score: float,
) -> list[Candidate]:
    """The listings of ``receiver.``'s members the options ask for: the short best-members listing
    (``best_members`` > 0, ranked above everything) and/or the owners' chunked listings (``score``)."""
    listings: list[Candidate] = []
    if options.best_members > 0:
        short = best_members(
            scored,
            options.best_members,
            lines_of,
            SCORE_BEST_MEMBERS,
            receiver,
            form=options.best_members_form,
        )
        if short is not None:
            listings.append(short)
    if options.best_members == 0 or options.member_listings_with_best:
        listings += chunked_listings(scored, options.receiver_member_listings, lines_of, score, receiver)
    return listings


# What names a receiver may take, for the engine's start choices: the members an editor's completion list
# offers (see ``offered_names``). Only where the index knows all of them is the answer held to them.
# Definitions that stand for a value (followed to the class or module they hold).
VALUE_KINDS = frozenset({SymbolKind.VARIABLE, SymbolKind.CONSTANT, SymbolKind.FIELD})
# Bases that give a class no names of note (abc and typing markers): a class over them is still known whole.
_MEMBERLESS_BASES = frozenset(
    {"object", "ABC", "abc.ABC", "Generic", "typing.Generic", "Protocol", "typing.Protocol"}
)
# A class or module answering any name: its members cannot be listed.
_DYNAMIC_MEMBERS = frozenset({"__getattr__", "__getattribute__"})
# What every Python module and class has without declaring it.
_MODULE_ATTRIBUTES = frozenset(
    {"__all__", "__dict__", "__doc__", "__file__", "__name__", "__path__", "__spec__"}
)
_CLASS_ATTRIBUTES = frozenset(
    {"__class__", "__dict__", "__doc__", "__init__", "__module__", "__name__", "__qualname__", "mro"}
)


def receiver_owners(
    resolver: Resolver, targets: Iterable[SymbolLocation], lines_of: Callable[[str], list[str] | None]
) -> list[SymbolLocation]:
    """The modules and classes whose members ``receiver.`` offers, from what the receiver resolved to
    (``targets``): variables and fields followed to the class or module they stand for."""
    owners: list[SymbolLocation] = []
    for target in targets:
        if is_module(target) or is_class(target):
            owners.append(target)
        elif target.definition is not None and target.definition.kind in VALUE_KINDS:
            lines = lines_of(target.path)
            source = "\n".join(lines).encode("utf-8") if lines else None
            owners.extend(value_classes(resolver, target, source))
    return unique(owners)


# A receiver nothing types (an unannotated parameter, a field set from one: ``reader.``, ``self._loop.``)
# offers its guessed classes' names only where both the receiver's name and the members the file uses on it
# point at them (``typeguess.ClassIndex.guess`` scores either alone at most 0.6). On the 623 ``receiver.▮``
# cursors of ``bench/crossfile_bench.py --choice-coverage`` this holds 84 more to names (482 typed before)
# and shuts the wanted name out of none (at 0.6, a name or the members alone: 96 more, 4 shut out); the
# 0.5B's answers there gained 3 right names and lost none (docs/benchmarks.md, session 13).
CONFIDENT_GUESS = 0.7


def confident_guesses(guessed: Iterable[tuple[SymbolLocation, float]]) -> list[SymbolLocation]:
    """The guessed classes of an untyped receiver (best first, with their scores) whose names it may be
    held to, see ``CONFIDENT_GUESS``."""
    return [cls for cls, score in guessed if score >= CONFIDENT_GUESS]


def offered_names(
    resolver: Resolver, owners: Sequence[SymbolLocation], paths: Callable[[], Iterable[str]]
) -> tuple[str, ...]:
    """Every name ``receiver.`` offers when the receiver resolved to Python modules and classes whose names
    the index knows whole: a module's own, re-exported and star-imported names and its package's submodules
    (``paths``: the workspace's files); a class's members with its bases' (an instance's attributes
    assigned in its methods included). Empty (no constraint) when it may offer more: a base class outside
    the workspace (``Exception``, ``dict``), a ``__getattr__``, another language (whose inherited and
    trait members the index does not list whole), or nothing resolved. ``owners`` may be an untyped
    receiver's confident guesses (:func:`confident_guesses`): then every one of them is offered."""
    names: set[str] = set()
    for owner in owners:
        facts = resolver.facts(owner.path)
        if facts is None or facts.language != "python":
            return ()
        found = _module_names(resolver, owner, paths) if is_module(owner) else _class_names(resolver, owner)
        if found is None or found & _DYNAMIC_MEMBERS:
            return ()
        names |= found
    return tuple(sorted(names))


def _module_names(
    resolver: Resolver, module: SymbolLocation, paths: Callable[[], Iterable[str]]
) -> set[str] | None:
    names = set(resolver.module_names(module.path)) | _MODULE_ATTRIBUTES
    package, _, stem = module.path.rpartition("/")
    if stem == "__init__.py":
        prefix = f"{package}/" if package else ""
        for path in paths():
            if path.startswith(prefix):
                first, _, rest = path[len(prefix) :].partition("/")
                submodule = first.removesuffix(".py") if not rest else first
                if (
                    submodule.isidentifier()
                    and (not rest or rest == "__init__.py")
                    and submodule != "__init__"
                ):
                    names.add(submodule)
    return names


def _class_names(resolver: Resolver, cls: SymbolLocation) -> set[str] | None:
    """The class's and its bases' member names; None when a base is not in the workspace."""
    names = set(_CLASS_ATTRIBUTES)
    level, seen = [cls], set[tuple[str, str]]()
    while level:
        owner = level.pop()
        definition, facts = owner.definition, resolver.facts(owner.path)
        if definition is None or facts is None:
            return None
        if (owner.path, definition.qualified_name) in seen:
            continue
        seen.add((owner.path, definition.qualified_name))
        language = language_named(facts.language)
        members = [d for d in facts.definitions if d.parent == definition.qualified_name]
        written = language.base_names(definition, members) if language is not None else []
        bases = resolver.bases(owner)
        if len(bases) < len([name for name in written if name not in _MEMBERLESS_BASES]):
            return None
        names.update(m.name for m in members)
        level.extend(bases)
    return names
