"""No input makes a language module raise: fixture files cut, spliced and sprinkled with invalid UTF-8 are
extracted (outline, references, full) and their imports resolved, and every span stays inside the file."""

from __future__ import annotations

import pytest
import tree_sitter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langtest_support import FIXTURES, DiskLayout

from roost.context.facts import FileFacts, Span
from roost.context.languages import language_for_path

LANGUAGES = ("javascript", "typescript", "go", "rust", "java")
NOISE = [
    b"",
    b"{",
    b"}",
    b"(",
    b"'",
    b'"',
    b"/*",
    b"*/",
    b"//",
    b"\xff\xfe",
    b"\xc3",
    b"\n",
    b"import ",
    b"::",
    b"<",
]


def _fixture_files(language: str) -> list[str]:
    root = FIXTURES / language
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and (lang := language_for_path(p.name)) is not None and lang.name == language
    )


def _check_span(span: Span, line_count: int) -> None:
    assert 0 <= span.start_line <= span.end_line <= line_count
    assert span.start_col >= 0 and span.end_col >= 0


def _check(facts: FileFacts, source: bytes) -> None:
    line_count = source.count(b"\n") + 1
    for definition in facts.definitions:
        _check_span(definition.span, line_count)
        _check_span(definition.name_span, line_count)
        assert definition.name and definition.qualified_name.endswith(definition.name)
    for reference in facts.references:
        _check_span(reference.span, line_count)
    for imp in facts.imports:
        _check_span(imp.span, line_count)


@pytest.mark.parametrize("language_name", LANGUAGES)
def test_every_fixture_file_has_its_language(language_name: str) -> None:
    assert _fixture_files(language_name), f"no {language_name} fixture files"


@pytest.mark.parametrize("language_name", LANGUAGES)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mangled_sources_never_raise(language_name: str, data: st.DataObject) -> None:
    files = _fixture_files(language_name)
    rel = data.draw(st.sampled_from(files), label="file")
    root = FIXTURES / language_name
    source = (root / rel).read_bytes()
    start = data.draw(st.integers(0, len(source)), label="cut start")
    end = data.draw(st.integers(start, min(len(source), start + 200)), label="cut end")
    insert = data.draw(st.sampled_from(NOISE), label="insert")
    mangled = source[:start] + insert + source[end:]
    language = language_for_path(rel)
    tree = tree_sitter.Parser(language.ts_language(rel)).parse(mangled)
    facts = language.extract(rel, mangled, tree)
    _check(facts, mangled)
    outline = language.extract_outline(rel, mangled, tree)
    assert outline.references == [] or outline.references == facts.references
    assert [d.qualified_name for d in outline.definitions] == [d.qualified_name for d in facts.definitions]
    assert language.extract_references(rel, mangled, tree) == facts.references
    layout = DiskLayout(root)
    for imp in facts.imports:
        result = language.resolve_import(imp, rel, layout)
        assert all(layout.exists(path) for path in result.paths)
        language.bound_name(imp)


@pytest.mark.parametrize("language_name", LANGUAGES)
def test_empty_file(language_name: str) -> None:
    rel = _fixture_files(language_name)[0]
    language = language_for_path(rel)
    tree = tree_sitter.Parser(language.ts_language(rel)).parse(b"")
    facts = language.extract(rel, b"", tree)
    assert facts.definitions == [] and facts.imports == [] and facts.references == []


@pytest.mark.parametrize(
    ("rel", "source", "name"),
    [
        ("a.ts", "/** café */\nexport function naïve(): void {}\n", "naïve"),
        ("a.go", "package a\n\n// café\nfunc Naïve() {}\n", "Naïve"),
        ("a.rs", "/// café\nfn naïve() {}\n", "naïve"),
        ("A.java", "/** café */\nclass Café {}\n", "Café"),
    ],
)
def test_columns_are_utf8_bytes(rel: str, source: str, name: str) -> None:
    data = source.encode("utf-8")
    language = language_for_path(rel)
    facts = language.extract(rel, data, tree_sitter.Parser(language.ts_language(rel)).parse(data))
    (definition,) = facts.definitions
    assert definition.name == name
    assert definition.doc == "café"
    line = data.splitlines()[definition.name_span.start_line]
    assert line[definition.name_span.start_col : definition.name_span.end_col].decode("utf-8") == name
