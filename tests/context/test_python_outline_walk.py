"""The cold-index outline of Python files is collected by walking statements instead of running the
outline query (cheaper); both must give the same outline. Compared on tricky constructs and on a spread
of the interpreter's standard library (real tree-sitter, real query)."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest
import tree_sitter

from roost.context.codec import encode_records
from roost.context.languages import _python_outline as outline
from roost.context.languages import python as py

TRICKY = b'''
"""Module doc."""
from __future__ import annotations
import os, sys as system
from .pkg import a, b as c
from . import *

__all__ = ["Shape", "area"]
__all__ += ["extra"]
A, B = 1, 2
x: int = 3
if os.name == "nt":
    PLATFORM = "win"
    import ntpath as pathmod
elif os.name == "posix":
    PLATFORM = "posix"
else:
    PLATFORM = "other"
try:
    import fast
    FAST = True
except ImportError:
    FAST = False
finally:
    CLEANED = True

@decorator
class Shape(Base):
    """A shape."""
    sides = 0
    name: str = "shape"

    def __init__(self, size):
        self.size = size
        self.size = 2 * size
        other.value = 1
        def helper():
            self.hidden = 1
        if size:
            self.conditional = 1

    @property
    def area(self) -> float:
        import math
        return math.pi

    class Inner:
        depth = 1
        def deep(self):
            self.inner_field = 1
            def level4():
                def level5():
                    def level6():
                        def level7():
                            import deepest
                            def level8():
                                pass

def area(shape):
    match shape:
        case Shape():
            def matched():
                pass
            import inside_match
    with open("f") as handle:
        def in_with():
            pass
    for item in range(3):
        class InLoop:
            pass
    while True:
        def in_while():
            pass
        break
    return lambda: 0

async def fetch(url):
    async with session() as s:
        import aiohttp
'''


def _collect_both(source: bytes) -> tuple[tuple, tuple]:
    tree = tree_sitter.Parser(outline.grammar()).parse(source)
    assert not tree.root_node.has_error
    found, query_imports, query_all_values = outline.collect(tree.root_node)
    by_query = (outline.definition_records(source, found, []), query_imports, query_all_values)
    by_walk = outline.outline_records_by_walk(source, tree.root_node)
    # Records before field deduplication (open buffers keep those), then the import nodes in source order
    # and the ``__all__`` values.
    return tuple(  # type: ignore[return-value]
        (
            records,
            sorted(node.start_byte for node in imports),
            [(augmented, node.start_byte, node.end_byte) for augmented, node in all_values],
        )
        for records, imports, all_values in (by_query, by_walk)
    )


def test_walk_equals_query_on_tricky_constructs() -> None:
    by_query, by_walk = _collect_both(TRICKY)
    assert by_walk == by_query
    names = {record[1] for record in by_walk[0]}
    # ``self.size`` is assigned twice: both records stay until the fields are deduplicated.
    assert [record[1] for record in by_walk[0]].count("Shape.size") == 2
    # Both find module variables under if/try, tuple targets and fields set directly in a method body;
    # neither takes ``self.x`` from a nested function or an ``if`` block in the method.
    assert {"Shape.size", "Shape.Inner.inner_field", "PLATFORM", "FAST", "A", "B"} <= names
    assert {"Shape.hidden", "Shape.conditional"}.isdisjoint(names)
    assert len(by_walk[1]) == 9 and len(by_walk[2]) == 2  # ``import deepest`` is below the depth cap


def test_walk_and_query_give_the_same_encoded_outline() -> None:
    tree = tree_sitter.Parser(outline.grammar()).parse(TRICKY)
    blob, imports, count = py.LANGUAGE.extract_outline_encoded("pkg/mod.py", TRICKY, tree)
    found, import_nodes, all_values = outline.collect(tree.root_node)
    records = outline.dedupe_fields(outline.definition_records(TRICKY, found, []))
    by_query_imports = outline.imports_of(TRICKY, import_nodes)
    exports = outline.exports_of("pkg/mod.py", TRICKY, by_query_imports, all_values)
    assert imports == by_query_imports and count == len(records)
    assert blob == encode_records("pkg/mod.py", "python", None, records, by_query_imports, exports)


STDLIB = Path(sysconfig.get_paths()["stdlib"])


@pytest.mark.skipif(not (STDLIB / "os.py").is_file(), reason="no stdlib sources")
def test_walk_equals_query_on_a_spread_of_the_stdlib() -> None:
    files = sorted(p for p in STDLIB.rglob("*.py") if "site-packages" not in p.parts)[::12]
    compared = 0
    for path in files:
        source = path.read_bytes()
        if tree_sitter.Parser(outline.grammar()).parse(source).root_node.has_error:
            continue
        by_query, by_walk = _collect_both(source)
        assert by_walk == by_query, path
        compared += 1
    assert compared > 100
