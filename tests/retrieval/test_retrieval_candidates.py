"""Retrieval finds the definitions the code at the cursor needs, across files, through the graph."""

from __future__ import annotations

import pytest
from retrieval_fixtures import request_at_marker, retriever_for

from roost.context.retrieval import CandidateKind, RetrievalRequest, WorkspaceActivity
from roost.context.retrieval.model import RetrievalResult
from roost.context.retrieval.retriever import Retriever
from roost.context.retrieval.standalone import ParsedWorkspace

# Every buffer below is half-typed at the cursor, as in an editor.
pytestmark = pytest.mark.usefixtures("half_typed_buffers")

BUDGET_CHARS = 6000
# What the prompt shows of the document, in the same units: the default 35/15/50 split of a prompt whose
# context share is BUDGET_CHARS.
PREFIX_CHARS, SUFFIX_CHARS = 4200, 1800


def _retrieve(retriever: Retriever, request: RetrievalRequest) -> RetrievalResult:
    return retriever.retrieve(
        request, len, BUDGET_CHARS, prefix_budget=PREFIX_CHARS, suffix_budget=SUFFIX_CHARS
    )


def _rank_of(result: RetrievalResult, path: str, first_line_text: str) -> int | None:
    """1-based rank of the first item of ``path`` that shows ``first_line_text``."""
    for rank, item in enumerate(result.items, 1):
        if item.path == path and first_line_text in item.text:
            return rank
    return None


def test_definition_two_imports_away(make_project):
    root = make_project(
        {
            "app/__init__.py": "",
            "app/engine.py": """
                def compute_total(prices: list[float], tax: float) -> float:
                    \"\"\"Sum with tax.\"\"\"
                    return sum(prices) * (1 + tax)
                """,
            "app/facade.py": "from app.engine import compute_total\n",
            "app/service.py": "from app.facade import compute_total\n",
            "main.py": "",
        }
    )
    request = request_at_marker(
        "main.py",
        """
        from app.service import compute_total


        def checkout(cart):
            prices = [item.price for item in cart]
            return compute_total(<|>
        """,
    )
    result = _retrieve(retriever_for(root), request)
    assert _rank_of(result, "app/engine.py", "def compute_total(") == 1
    assert result.items[0].kind in (CandidateKind.DEFINITION, CandidateKind.IMPORT)
    assert "compute_total" in result.items[0].reason


def test_definition_behind_init_reexport(make_project):
    root = make_project(
        {
            "shapes/__init__.py": "from .circle import Circle\nfrom .square import Square\n",
            "shapes/circle.py": """
                class Circle:
                    def __init__(self, radius: float) -> None:
                        self.radius = radius

                    def area(self) -> float:
                        return 3.14159 * self.radius ** 2
                """,
            "shapes/square.py": "class Square:\n    side = 1\n",
            "draw.py": "",
        }
    )
    request = request_at_marker(
        "draw.py",
        """
        from shapes import Circle

        def paint(canvas):
            ring = Circle(<|>
        """,
    )
    result = _retrieve(retriever_for(root), request)
    assert _rank_of(result, "shapes/circle.py", "class Circle") == 1
    # The graph resolved through the re-export: the __init__ shows up at most as a lexical fallback.
    assert all(
        item.kind is CandidateKind.LEXICAL for item in result.items if item.path == "shapes/__init__.py"
    )


def test_definition_behind_alias_and_module_alias(make_project):
    root = make_project(
        {
            "lib/__init__.py": "",
            "lib/text_tools.py": """
                def normalise_whitespace(text: str) -> str:
                    \"\"\"Collapse runs of whitespace.\"\"\"
                    return " ".join(text.split())


                def shout(text: str) -> str:
                    return text.upper()
                """,
            "use.py": "",
        }
    )
    aliased = request_at_marker(
        "use.py",
        """
        from lib.text_tools import normalise_whitespace as nw

        def clean(lines):
            return [nw(<|>
        """,
    )
    result = _retrieve(retriever_for(root), aliased)
    assert _rank_of(result, "lib/text_tools.py", "def normalise_whitespace(") == 1

    module_alias = request_at_marker(
        "use.py",
        """
        import lib.text_tools as tt

        def loud(lines):
            return [tt.<|>
        """,
    )
    result = _retrieve(retriever_for(root), module_alias)
    top = result.items[0]
    assert top.path == "lib/text_tools.py"
    assert "def shout(" in top.text and "def normalise_whitespace(" in top.text
    assert "members of `tt`" in top.reason


def test_method_on_constructor_typed_variable(make_project):
    root = make_project(
        {
            "store/__init__.py": "",
            "store/kv.py": """
                class KeyValueStore:
                    \"\"\"An in-memory store.\"\"\"

                    def __init__(self) -> None:
                        self._items: dict[str, object] = {}

                    def put(self, key: str, value: object) -> None:
                        self._items[key] = value

                    def get(self, key: str) -> object:
                        return self._items[key]

                    def delete(self, key: str) -> None:
                        del self._items[key]

                    def keys(self) -> list[str]:
                        return list(self._items)
                """,
            "other.py": "def unrelated():\n    return 1\n",
            "app.py": "",
        }
    )
    request = request_at_marker(
        "app.py",
        """
        from store.kv import KeyValueStore

        def main():
            kv = KeyValueStore()
            kv.<|>
        """,
    )
    retriever = retriever_for(root)
    result = _retrieve(retriever, request)
    top = result.items[0]
    # The class is listed by its members' declarations (what ``kv.`` offers).
    assert top.path == "store/kv.py" and top.kind is CandidateKind.MEMBERS
    assert "members of `kv`" in top.reason
    for method in ("def put(", "def get(", "def delete(", "def keys("):
        assert method in top.text

    # The same through an annotated parameter and a factory's return annotation.
    annotated = request_at_marker(
        "app.py",
        """
        from store.kv import KeyValueStore

        def fill(target: KeyValueStore) -> None:
            target.<|>
        """,
    )
    assert _retrieve(retriever, annotated).items[0].kind is CandidateKind.MEMBERS
    root_factory = make_project(
        {
            "store/factory.py": "from store.kv import KeyValueStore\n\ndef make_store() -> KeyValueStore:\n    return KeyValueStore()\n"
        }
    )
    factory = request_at_marker(
        "app.py",
        """
        from store.factory import make_store

        def go():
            s = make_store()
            s.<|>
        """,
    )
    result = _retrieve(retriever_for(root_factory), factory)
    assert result.items[0].path == "store/kv.py" and "members of `s`" in result.items[0].reason


def test_method_on_self_attribute_and_inherited_method(make_project):
    root = make_project(
        {
            "base.py": """
                class Reader:
                    def read_all(self) -> bytes:
                        return b""
                """,
            "files.py": """
                from base import Reader


                class FileReader(Reader):
                    def open(self, name: str) -> None:
                        self.name = name
                """,
            "job.py": "",
        }
    )
    request = request_at_marker(
        "job.py",
        """
        from files import FileReader


        class Job:
            def __init__(self):
                self.reader = FileReader()

            def run(self):
                data = self.reader.read_all()
                self.reader.<|>
        """,
    )
    result = _retrieve(retriever_for(root), request)
    paths = [item.path for item in result.items[:4]]
    assert "files.py" in paths
    assert _rank_of(result, "base.py", "def read_all(") is not None


def test_unsaved_buffer_wins_over_disk(make_project):
    root = make_project(
        {
            "util.py": "def slugify(text: str) -> str:\n    return text.lower().replace(' ', '-')\n",
            "page.py": "def render():\n    return ''\n",  # on disk: no import of util at all
        }
    )
    request = request_at_marker(
        "page.py",
        """
        from util import slugify

        def render(title):
            return slugify(<|>
        """,
    )
    result = _retrieve(retriever_for(root), request)
    assert _rank_of(result, "util.py", "def slugify(") == 1


def test_large_definition_gives_signature_and_docstring_not_body(make_project):
    body = "\n".join(f"    step_{i} = {i}" for i in range(40))
    root = make_project(
        {
            "big.py": f'def long_process(a: int, b: int) -> int:\n    """Does many steps."""\n{body}\n    return a + b\n',
            "main.py": "",
        }
    )
    request = request_at_marker("main.py", "from big import long_process\n\nlong_process(<|>\n")
    result = _retrieve(retriever_for(root), request)
    item = result.items[0]
    assert item.path == "big.py" and item.start_line == 0
    assert "def long_process(a: int, b: int) -> int:" in item.text and "Does many steps." in item.text
    assert "step_30" not in item.text and item.end_line == 1


def test_enclosing_class_outline_and_visible_code_dropped(make_project):
    methods = "\n".join(f"    def method_{i}(self, x):\n        return x + {i}\n" for i in range(30))
    source = f"class Big:\n{methods}\n    def current(self):\n        return self.<|>\n"
    root = make_project({"big.py": source.replace("<|>", "")})
    request = request_at_marker("big.py", source)
    retriever = retriever_for(root)
    result = retriever.retrieve(request, len, BUDGET_CHARS, prefix_budget=100, suffix_budget=50)
    outline = [
        item
        for item in result.items
        if item.kind is CandidateKind.OUTLINE and "enclosing class" in item.reason
    ]
    assert outline and "def method_0(self, x):" in outline[0].text
    # With the whole file visible in the prompt, nothing of it is repeated.
    result = retriever.retrieve(request, len, BUDGET_CHARS, visible_lines=(0, 200))
    assert all(item.path != "big.py" for item in result.items)


def test_lexical_fallback_when_graph_yields_little(make_project):
    root = make_project(
        {
            "alpha.py": "def parse_config_line(line):\n    key, _, value = line.partition('=')\n    return key.strip(), value.strip()\n",
            "beta.py": "def unrelated():\n    return 42\n",
            "main.py": "",
        }
    )
    request = request_at_marker(
        "main.py",
        """
        def load(lines):
            for line in lines:
                key, _, value = line.partition('=')
                <|>
        """,
    )
    retriever = retriever_for(root)
    retriever.warm()
    result = _retrieve(retriever, request)
    assert result.used_fallback
    lexical = [item for item in result.items if item.kind is CandidateKind.LEXICAL]
    assert lexical and lexical[0].path == "alpha.py"
    # Kept current: a file that changes is searched with its new text.
    (root / "beta.py").write_text("def unrelated():\n    key, _, value = line.partition('=')\n")
    retriever.file_changed("beta.py")
    paths = {item.path for item in _retrieve(retriever, request).items if item.kind is CandidateKind.LEXICAL}
    assert "beta.py" in paths


def test_duck_typed_receiver_guessed_by_name_and_used_members(make_project):
    root = make_project(
        {
            "futures.py": """
                class Future:
                    def done(self) -> bool:
                        return False

                    def result(self):
                        return None

                    def add_done_callback(self, fn) -> None:
                        pass
                """,
            "other.py": "class Fusion:\n    def run(self):\n        pass\n",
            "tasks.py": "",
        }
    )
    request = request_at_marker(
        "tasks.py",
        """
        def wait_for(fut, timeout):
            if fut.done():
                return fut.result()
            fut.<|>
        """,
    )
    retriever = retriever_for(root)
    retriever.warm()
    top = _retrieve(retriever, request).items[0]
    assert top.path == "futures.py" and top.kind is CandidateKind.TYPE
    assert "looks like a Future" in top.reason and "def add_done_callback(" in top.text


def test_recent_edits_and_open_documents(make_project):
    root = make_project(
        {
            "notes.py": "\n".join(f"line_{i} = {i}" for i in range(50)) + "\n",
            "draft.py": "def helper_for_orders(order):\n    return order.total * 2\n",
            "main.py": "",
        }
    )
    activity = WorkspaceActivity()
    activity.note_edit("notes.py", 30)
    activity.open_document(
        "draft.py", "def helper_for_orders(order):\n    return order.total * 3  # unsaved\n"
    )
    retriever = Retriever(ParsedWorkspace(root), redact=lambda t: t, activity=activity)
    request = request_at_marker("main.py", "def process(order):\n    value = order.total\n    <|>\n")
    result = _retrieve(retriever, request)
    kinds = {item.kind: item for item in result.items}
    assert (
        CandidateKind.RECENT in kinds
        and kinds[CandidateKind.RECENT].start_line <= 30 <= kinds[CandidateKind.RECENT].end_line
    )
    assert CandidateKind.OPEN_DOCUMENT in kinds and "unsaved" in kinds[CandidateKind.OPEN_DOCUMENT].text
