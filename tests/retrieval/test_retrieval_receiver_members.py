"""At ``receiver.|`` retrieval lists what the receiver offers (a module's names, re-exported ones
included; a class's members with its bases'; an instance's class found through a variable or a field),
one declaration line each, ranked by what fits the line: the cases where the name about to be typed is
nowhere in the file yet."""

from __future__ import annotations

import pytest
from retrieval_fixtures import request_at_marker, retriever_for

from roost.context.retrieval import CandidateKind, RetrievalRequest
from roost.context.retrieval.model import RetrievalResult
from roost.context.retrieval.options import RetrievalOptions
from roost.context.retrieval.retriever import Retriever

pytestmark = pytest.mark.usefixtures("half_typed_buffers")

BUDGET_CHARS = 6000


def _retrieve(retriever: Retriever, request: RetrievalRequest) -> RetrievalResult:
    return retriever.retrieve(request, len, BUDGET_CHARS, prefix_budget=4200, suffix_budget=1800)


def _item_showing(result: RetrievalResult, path: str, text: str) -> int | None:
    """1-based rank of the first item of ``path`` whose text shows ``text``."""
    for rank, item in enumerate(result.items, 1):
        if item.path == path and text in item.text:
            return rank
    return None


def _many_functions(prefix: str, count: int) -> str:
    return "".join(f"def {prefix}_{i}(request, value):\n    return value\n\n\n" for i in range(count))


def test_module_receiver_lists_names_its_package_reexports(make_project):
    # ``models`` re-exports its fields from a submodule (star and named imports): the listing follows them.
    root = make_project(
        {
            "orm/__init__.py": "",
            "orm/models/__init__.py": "from orm.models.fields import *\nfrom orm.models.base import Model\n",
            "orm/models/fields.py": "class Field:\n    pass\n\n\nclass DateTimeField(Field):\n    pass\n\n\n"
            + "".join(f"class Field{i}(Field):\n    pass\n\n\n" for i in range(30)),
            "orm/models/base.py": "class Model:\n    def save(self):\n        pass\n",
            "forms.py": "",
        }
    )
    request = request_at_marker(
        "forms.py",
        """
        from orm import models


        def clean(field):
            if isinstance(field, models.<|>
        """,
    )
    result = _retrieve(retriever_for(root), request)
    rank = _item_showing(result, "orm/models/fields.py", "class DateTimeField(Field):")
    assert rank is not None
    item = result.items[rank - 1]
    assert item.kind is CandidateKind.MEMBERS and "members of `models`" in item.reason
    # The listing is one line per name, not the classes' bodies.
    assert "pass" not in item.text


def test_module_receiver_ranks_names_that_fit_the_line_first(make_project):
    # ``response = debug.`` → ``technical_500_response`` among sixty functions of the module.
    root = make_project(
        {
            "web/__init__.py": "",
            "web/debug.py": _many_functions("helper", 30)
            + "def technical_500_response(request, exc_type, exc_value, tb):\n    return None\n\n\n"
            + _many_functions("other", 30),
            "web/handlers.py": "",
        }
    )
    request = request_at_marker(
        "web/handlers.py",
        """
        from web import debug


        def handle_uncaught_exception(request, resolver, exc_info):
            response = debug.<|>
        """,
    )
    result = _retrieve(retriever_for(root), request)
    rank = _item_showing(
        result, "web/debug.py", "def technical_500_response(request, exc_type, exc_value, tb):"
    )
    assert rank == 1
    # The best-fitting come first, in a listing of their own; the rest only where there is room.
    first_listing = RetrievalOptions().receiver_member_listings[:2]
    assert result.items[0].text.count("\n") < sum(first_listing)


def test_call_to_the_overridden_method_on_a_base_ranks_the_base_first(make_project):
    # ``Base.__init__(self, …)`` inside ``__init__``: the dunder otherwise ranks last, and the nearest base
    # defining it (``Middle``, not ``Root``) is the one called.
    root = make_project(
        {
            "shapes/__init__.py": "",
            "shapes/base.py": "class Root:\n    def __init__(self, name):\n        self.name = name\n\n"
            + "".join(f"    def root_{i}(self, value):\n        return value\n\n" for i in range(20))
            + "\nclass Middle(Root):\n    def __init__(self, name, size):\n        self.size = size\n\n"
            + "".join(f"    def middle_{i}(self, value):\n        return value\n\n" for i in range(20)),
            "shapes/square.py": "",
        }
    )
    request = request_at_marker(
        "shapes/square.py",
        """
        from shapes.base import Middle


        class Square(Middle):
            def __init__(self, name, side):
                Middle.<|>
        """,
    )
    result = _retrieve(retriever_for(root), request)
    assert _item_showing(result, "shapes/base.py", "def __init__(self, name, size):") == 1


def test_a_modules_own_names_rank_before_the_names_it_imports(make_project):
    # ``utils.`` where utils imports (not re-exports) many names from elsewhere: its own come first.
    root = make_project(
        {
            "pkg/__init__.py": "",
            "pkg/helpers.py": "".join(f"def fetch_record_{i}(key):\n    return key\n\n\n" for i in range(30)),
            "pkg/utils.py": "from pkg.helpers import *\n\n\n" + _many_functions("convert", 30),
            "pkg/main.py": "",
        }
    )
    request = request_at_marker(
        "pkg/main.py",
        """
        from pkg import utils


        def run(value):
            return utils.<|>
        """,
    )
    result = _retrieve(retriever_for(root), request)
    assert result.items[0].path == "pkg/utils.py"
    assert "def convert_29(request, value)" in result.items[0].text


def test_instance_receiver_typed_by_a_module_variable_elsewhere(make_project):
    # ``caches = CacheHandler()`` in another module: ``caches.`` offers CacheHandler's members.
    root = make_project(
        {
            "cache/__init__.py": "from cache.handler import caches\n",
            "cache/handler.py": "class CacheHandler:\n"
            + "".join(f"    def method_{i}(self):\n        pass\n\n" for i in range(10))
            + "    def close_all(self, **kwargs):\n        pass\n\n\ncaches = CacheHandler()\n",
            "signals.py": "",
        }
    )
    request = request_at_marker(
        "signals.py",
        """
        from cache import caches


        def request_finished(sender, **kwargs):
            caches.<|>
        """,
    )
    result = _retrieve(retriever_for(root), request)
    rank = _item_showing(result, "cache/handler.py", "def close_all(self, **kwargs):")
    assert rank is not None and "members of `caches`" in result.items[rank - 1].reason


def test_self_field_typed_in_a_base_class_of_another_file(make_project):
    # ``self.connection`` is set up by the base class (``self.connection = DatabaseWrapper()``), whose
    # bases list spans two lines; its members come from the wrapper's own base class.
    root = make_project(
        {
            "db/__init__.py": "",
            "db/backend.py": "class BaseWrapper:\n"
            + "".join(f"    def method_{i}(self):\n        pass\n\n" for i in range(10))
            + "    def _cursor(self, name=None):\n        pass\n\n\n"
            + "class DatabaseWrapper(BaseWrapper):\n    vendor = 'sqlite'\n",
            "db/base.py": "from db.backend import DatabaseWrapper\n\n\nclass Mixin:\n    pass\n\n\n"
            + "class BaseCreation:\n    def __init__(self):\n        self.connection = DatabaseWrapper()\n",
            "db/creation.py": "",
        }
    )
    request = request_at_marker(
        "db/creation.py",
        """
        from db.base import BaseCreation, Mixin


        class Creation(Mixin,
                       BaseCreation):
            def create(self):
                cursor = self.connection.<|>
        """,
    )
    result = _retrieve(retriever_for(root), request)
    rank = _item_showing(result, "db/backend.py", "def _cursor(self, name=None):")
    assert rank is not None and "members of `self.connection`" in result.items[rank - 1].reason


def test_self_lists_members_inherited_through_a_multiline_bases_list(make_project):
    root = make_project(
        {
            "transports.py": "class FlowControlMixin:\n"
            + "".join(f"    def method_{i}(self):\n        pass\n\n" for i in range(10))
            + "    def _maybe_pause_protocol(self):\n        pass\n",
            "pipes.py": "",
        }
    )
    request = request_at_marker(
        "pipes.py",
        """
        import transports


        class PipeTransport(object,
                            transports.FlowControlMixin):
            def write(self, data):
                self.<|>
        """,
    )
    result = _retrieve(retriever_for(root), request)
    assert _item_showing(result, "transports.py", "def _maybe_pause_protocol(self):") is not None


def test_members_many_classes_define_come_first_when_the_line_says_nothing(make_project):
    # ``Variance(x).`` with nothing typed: of Basic's sixty methods, ``doit`` (which many classes override,
    # an interface) is in the first, always-packed listing although it is written last.
    subclasses = "".join(
        f"class Op{i}(Basic):\n    def doit(self, **hints):\n        return self\n\n\n" for i in range(8)
    )
    root = make_project(
        {
            "core.py": "class Basic:\n"
            + "".join(f"    def method_{i}(self):\n        pass\n\n" for i in range(60))
            + "    def doit(self, **hints):\n        pass\n\n\n"
            + subclasses,
            "stats.py": "from core import Basic\n\n\nclass Variance(Basic):\n"
            + "".join(f"    def own_{i}(self):\n        pass\n\n" for i in range(6)),
            "error_prop.py": "",
        }
    )
    request = request_at_marker(
        "error_prop.py",
        """
        from stats import Variance


        def variance_prop(expr):
            return Variance(expr).<|>
        """,
    )
    retriever = retriever_for(root)
    retriever.warm()
    result = _retrieve(retriever, request)
    rank = _item_showing(result, "core.py", "    def doit(self, **hints):")
    assert rank is not None
    item = result.items[rank - 1]
    assert item.kind is CandidateKind.MEMBERS and item.text.count("\n") <= 12


def test_member_whose_parameters_are_at_hand_ranks_first(make_project):
    # ``_bootstrap.`` after ``spec = …`` in a function taking ``module``: ``_exec(spec, module)`` fits,
    # though its name shares nothing with the line, among many helpers written after it.
    root = make_project(
        {
            "loader/__init__.py": "",
            "loader/_bootstrap.py": "def _exec(spec, module):\n    return module\n\n\n"
            + "".join(f"def _helper_{i}(name, path):\n    return name\n\n\n" for i in range(60)),
            "loader/api.py": "",
        }
    )
    request = request_at_marker(
        "loader/api.py",
        """
        from loader import _bootstrap


        def reload(module):
            spec = module.__spec__
            _bootstrap.<|>
        """,
    )
    result = _retrieve(retriever_for(root), request)
    assert _item_showing(result, "loader/_bootstrap.py", "def _exec(spec, module):") == 1
