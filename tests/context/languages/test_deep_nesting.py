"""A file nesting expressions thousands of levels deep (generated, or planted in a workspace) is extracted
with the patterns that start within MAX_QUERY_START_DEPTH levels; deeper ones are not matched.

Before: every language's queries ran unbounded, and tree-sitter's query cursor slows sharply past ~32,767
levels (a Python file `y = f(f(…))` 60,000 deep: 16 s for its references, stalling the first definitions
or references lookup of that file; found by the index robustness session). The count of references here
shows the bound is in force (timings belong to benchmarks).
"""

from __future__ import annotations

import pytest
import tree_sitter

from roost.context.languages import language_for_path
from roost.context.languages._common import MAX_QUERY_START_DEPTH

DEPTH = 5000


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("deep.py", b"y = " + b"f(" * DEPTH + b"x" + b")" * DEPTH + b"\n"),
        ("deep.js", b"const y = " + b"f(" * DEPTH + b"x" + b")" * DEPTH + b";\n"),
        ("deep.go", b"package p\nvar y = " + b"f(" * DEPTH + b"x" + b")" * DEPTH + b"\n"),
    ],
)
def test_references_nested_past_the_bound_are_not_matched(name: str, source: bytes) -> None:
    language = language_for_path(name)
    assert language is not None
    tree = tree_sitter.Parser(language.ts_language(name)).parse(source)
    references = language.extract_references(name, source, tree)
    assert 0 < len(references) <= MAX_QUERY_START_DEPTH, len(references)
    # The outline is untouched: the top-level definition is still there.
    assert any(d.name == "y" for d in language.extract_outline(name, source, tree).definitions)
