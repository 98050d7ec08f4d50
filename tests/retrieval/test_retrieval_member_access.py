"""Retrieval at ``receiver.▮`` lists only the members the language lets the code at the cursor name: a
TypeScript ``private``/``protected`` member or a ``#name`` outside its class, a Java ``private`` member outside
its class, a Go lower-case name of another package, a Rust field without ``pub`` of another module would not
compile there. Inside the class (``this.▮``, ``other.▮`` of the same class), in the package or in the module
they are offered as before. The classes are large enough to be listed member by member (a small one is
shown whole, as its source)."""

from __future__ import annotations

from pathlib import Path

from retrieval_fixtures import request_at_marker, retriever_for

from roost.context.graph import SymbolLocation
from roost.context.parsing import parse_facts
from roost.context.retrieval.members import LineFit, ReceiverMember
from roost.context.retrieval.model import CandidateKind
from roost.context.retrieval.snippets import class_outline

BUDGET_CHARS = 8000


def _listed(root: Path, path: str, text: str) -> str:
    """Every member listing retrieval gives at the marker of ``text`` (the buffer of ``path``), joined."""
    result = retriever_for(root).retrieve(request_at_marker(path, text), len, BUDGET_CHARS)
    return "\n".join(item.text for item in result.items if item.kind is CandidateKind.MEMBERS)


def _padding(template: str, count: int = 14) -> str:
    return "".join(template.format(i=i) for i in range(count))


TS_CLASSES = (
    "export class Base {\n"
    "  protected baseGuarded(): number { return 1; }\n"
    "  private baseSecret(): number { return 2; }\n"
    "  public basePublic(): number { return 3; }\n"
    + _padding("  basePad{i}(): number {{ return {i}; }}\n")
    + "}\n\n"
    "export class Store extends Base {\n"
    "  private secretCount = 1;\n"
    "  protected guardedLoad(): number { return 1; }\n"
    "  #hiddenCache = 2;\n"
    "  visibleName = 3;\n"
    "  #hiddenReset(): number { return 4; }\n"
    + _padding("  storePad{i}(): number {{ return {i}; }}\n")
    + "  compare(other: Store): number {\n    return 0;\n  }\n"
    "}\n"
)
TS_PRIVATE = ("private secretCount", "protected guardedLoad", "#hiddenCache", "#hiddenReset")


def test_typescript_private_protected_and_hash_members_are_not_offered_outside_the_class(make_project):
    root = make_project({"src/store.ts": TS_CLASSES, "src/use.ts": ""})
    listed = _listed(
        root,
        "src/use.ts",
        """
        import { Store } from "./store";

        export function total(store: Store): number {
          return store.<|>
        }
        """,
    )
    assert "visibleName = 3" in listed and "public basePublic()" in listed
    for hidden in (*TS_PRIVATE, "protected baseGuarded", "private baseSecret"):
        assert hidden not in listed


def test_typescript_private_members_are_offered_inside_their_class(make_project):
    root = make_project({"src/store.ts": TS_CLASSES})
    inside = TS_CLASSES.replace("    return 0;", "    return other.<|>")
    listed = _listed(root, "src/store.ts", inside)
    for member in (*TS_PRIVATE, "visibleName = 3"):
        assert member in listed
    # The base's private members are its own: not even its subclass names them.
    assert "private baseSecret" not in listed and "protected baseGuarded" in listed


def test_a_subclass_names_its_bases_protected_members_on_this(make_project):
    root = make_project({"src/store.ts": TS_CLASSES, "src/cached.ts": ""})
    listed = _listed(
        root,
        "src/cached.ts",
        """
        import { Store } from "./store";

        export class Cached extends Store {
          refresh(): number {
            return this.<|>
          }
        }
        """,
    )
    assert "protected guardedLoad" in listed and "protected baseGuarded" in listed
    assert "private secretCount" not in listed and "#hiddenCache" not in listed


def test_javascript_hash_members_are_not_offered_outside_the_class(make_project):
    js = TS_CLASSES.replace(": number", "").replace("(other: Store)", "(other)")
    js = js.replace("private ", "").replace("protected ", "").replace("public ", "")
    root = make_project({"src/store.js": js, "src/use.js": ""})
    listed = _listed(
        root,
        "src/use.js",
        """
        import { Store } from "./store.js";

        export function total() {
          const store = new Store();
          return store.<|>
        }
        """,
    )
    assert "visibleName = 3" in listed and "secretCount = 1" in listed
    assert "#hiddenCache" not in listed and "#hiddenReset" not in listed


JAVA_STORE = (
    "package app;\n\npublic class Store {\n"
    "    private int secretCount;\n"
    "    public int visibleName;\n"
    "    private void resetCache() {}\n"
    + _padding("    public int pad{i}() {{ return {i}; }}\n")
    + "    int compare(Store other) {\n        return 0;\n    }\n}\n"
)


def test_java_private_members_are_not_offered_outside_their_class(make_project):
    root = make_project({"src/app/Store.java": JAVA_STORE, "src/app/Use.java": "package app;\n"})
    outside = _listed(
        root,
        "src/app/Use.java",
        """
        package app;

        class Use {
            int total() {
                Store store = new Store();
                return store.<|>
            }
        }
        """,
    )
    assert "public int visibleName;" in outside
    assert "secretCount" not in outside and "resetCache" not in outside


GO_MOD = "module example.com/app\n\ngo 1.21\n"
GO_STORE = (
    "package store\n\ntype Store struct {\n\tName string\n\tsecretCount int\n}\n\n"
    "func (s *Store) Get() int { return s.secretCount }\n"
    "func (s *Store) resetCache() {}\n"
    + _padding("func (s *Store) Pad{i}() int {{ return {i} }}\n")
    + "\nfunc New() *Store { return &Store{} }\n"
    "func helperCount() int { return 1 }\n"
    "func Public() int { return 1 }\n"
)


def test_go_lower_case_names_of_another_package_are_not_offered(make_project):
    root = make_project({"go.mod": GO_MOD, "store/store.go": GO_STORE, "main.go": ""})
    on_value = _listed(
        root,
        "main.go",
        """
        package main

        import "example.com/app/store"

        func main() {
        \ts := store.New()
        \ts.<|>
        }
        """,
    )
    assert "Name string" in on_value and "Get() int" in on_value
    assert "secretCount int" not in on_value and "resetCache()" not in on_value
    on_package = _listed(
        root,
        "main.go",
        """
        package main

        import "example.com/app/store"

        func main() {
        \tx := store.<|>
        }
        """,
    )
    assert "func Public() int" in on_package and "helperCount" not in on_package


def test_go_lower_case_names_are_offered_in_their_own_package(make_project):
    root = make_project({"go.mod": GO_MOD, "store/store.go": GO_STORE, "store/use.go": "package store\n"})
    listed = _listed(
        root,
        "store/use.go",
        """
        package store

        func use() {
        \ts := New()
        \ts.<|>
        }
        """,
    )
    assert "secretCount int" in listed and "func (s *Store) resetCache()" in listed


RUST_STORE = "pub struct Store {\n    pub name: String,\n    secret_count: i32,\n}\n\npub mod inner;\n"


def test_rust_fields_without_pub_are_offered_in_their_module_and_those_inside_it():
    # Retrieval types no Rust receiver yet (only guesses, from a class index built in the background):
    # the rule is checked on the members themselves.
    facts = parse_facts("src/store.rs", RUST_STORE)
    assert facts is not None
    store = next(d for d in facts.definitions if d.name == "Store")
    fields = {d.name: d for d in facts.definitions if d.parent == "Store"}
    owner = SymbolLocation("src/store.rs", store)

    def offered(cursor_path: str, name: str) -> bool:
        fit = LineFit.at("    store.", [], "", set(), on_self=False, path=cursor_path)
        return fit.visible(ReceiverMember(SymbolLocation("src/store.rs", fields[name]), owner, 0))

    assert offered("src/other.rs", "name") and not offered("src/other.rs", "secret_count")
    assert offered("src/store.rs", "secret_count") and offered("src/store/inner.rs", "secret_count")
    assert not offered("src/storage.rs", "secret_count")


def test_a_class_outline_cut_short_keeps_public_members_before_hidden_ones():
    # Where a big class's outline is cut (``max_chars``), what the caller can name comes first, as Python's
    # ``_name`` helpers go last.
    text = (
        "export class Store {\n"
        + _padding("  private secret{i}(): number {{ return {i}; }}\n")
        + _padding("  #hidden{i} = {i};\n")
        + "  open(): number { return 1; }\n  close(): number { return 2; }\n}\n"
    )
    facts = parse_facts("src/store.ts", text)
    assert facts is not None
    store = next(d for d in facts.definitions if d.name == "Store")
    outline = class_outline(text.split("\n"), facts, store, small_body_lines=5, doc_lines=0, max_chars=120)
    assert "open(): number" in outline.text and "close(): number" in outline.text


def test_java_private_members_are_seen_in_the_whole_top_level_class():
    # Java, unlike TypeScript, lets an outer class name its nested class's private members.
    text = (
        "package app;\n\npublic class Outer {\n"
        "    static class Inner {\n        private int count;\n    }\n\n"
        "    int read(Inner inner) {\n        return inner.count;\n    }\n}\n\n"
        "class Other {\n    int read(Outer.Inner inner) {\n        return 0;\n    }\n}\n"
    )
    facts = parse_facts("app/Outer.java", text)
    assert facts is not None
    by_name = {d.qualified_name: d for d in facts.definitions}
    count = ReceiverMember(
        SymbolLocation("app/Outer.java", by_name["Outer.Inner.count"]),
        SymbolLocation("app/Outer.java", by_name["Outer.Inner"]),
        0,
    )

    def offered(*scopes: str) -> bool:
        fit = LineFit.at(
            "        return inner.",
            [],
            "",
            set(),
            on_self=False,
            scopes=[by_name[s] for s in scopes],
            path="app/Outer.java",
        )
        return fit.visible(count)

    assert offered("Outer", "Outer.read") and not offered("Other", "Other.read")


def _definitions_sent(root: Path, path: str, text: str) -> list[str]:
    """The member definitions retrieval picks at the marker of ``text`` for the typed fragment (their symbols)."""
    candidates = retriever_for(root).candidates(request_at_marker(path, text))
    return [
        str(c.symbol)
        for c in candidates
        if c.kind is CandidateKind.DEFINITION and "at the cursor" in c.reason
    ]


def test_a_typed_fragment_naming_a_hidden_member_does_not_bring_its_definition(make_project):
    # ``store.sec▮``: ``secretCount`` is private to Store, ``baseSecret`` to Base: neither may be named here.
    root = make_project({"src/store.ts": TS_CLASSES, "src/use.ts": ""})
    use = """
        import { Store } from "./store";

        export function total(store: Store): number {
          return store.{}<|>
        }
        """
    for fragment, hidden in (
        ("sec", "secretCount"),
        ("baseSec", "baseSecret"),
        ("guarded", "guardedLoad"),
    ):
        sent = _definitions_sent(root, "src/use.ts", use.replace("{}", fragment))
        assert not [symbol for symbol in sent if symbol.endswith(hidden)]
    # A public member's definition still comes with its fragment.
    assert "Store.visibleName" in _definitions_sent(root, "src/use.ts", use.replace("{}", "visible"))


def test_a_typed_fragment_naming_a_private_member_brings_it_inside_the_class(make_project):
    root = make_project({"src/store.ts": TS_CLASSES})
    inside = TS_CLASSES.replace("    return 0;", "    return other.sec<|>")
    assert "Store.secretCount" in _definitions_sent(root, "src/store.ts", inside)
