"""At ``receiver.|`` retrieval also says every name the receiver offers, when the index knows them all (the
engine then holds the answer's first word to them, as an editor's completion list does): a module's own,
re-exported and star-imported names and its package's submodules; a class's members with its bases' and
the attributes its methods assign. Nothing where the receiver may offer more than the index shows."""

from __future__ import annotations

import pytest
from retrieval_fixtures import request_at_marker, retriever_for

from roost.context.retrieval.model import RetrievalResult

pytestmark = pytest.mark.usefixtures("half_typed_buffers")

PACKAGE = {
    "shop/__init__.py": "from shop.prices import *\nfrom shop.carts import Cart\n",
    "shop/prices.py": "TAX = 0.2\n\n\ndef net_price(amount):\n    return amount\n\n\ndef gross_price(amount):\n    return amount\n",
    "shop/carts.py": (
        "class Base:\n    def describe(self):\n        return ''\n\n\n"
        "class Cart(Base):\n    def __init__(self):\n        self.items = []\n\n"
        "    def add(self, item):\n        self.items.append(item)\n\n\n"
        "class Order(Exception):\n    def total(self):\n        return 0\n\n\n"
        "class Lazy:\n    def __getattr__(self, name):\n        return name\n"
    ),
    "shop/payments/__init__.py": "",
    "dynamic.py": "def __getattr__(name):\n    return name\n",
    "streams.py": (
        "class StreamReader:\n    def feed_data(self, data):\n        pass\n\n"
        "    def feed_eof(self):\n        pass\n\n    def set_exception(self, exc):\n        pass\n"
    ),
}


def _names(make_project, source: str) -> tuple[str, ...]:
    root = make_project({**PACKAGE, "app.py": ""})
    retriever = retriever_for(root)
    retriever.warm()  # the class index guesses untyped receivers (the server warms it before "ready")
    result: RetrievalResult = retriever.retrieve(
        request_at_marker("app.py", source), len, 6000, prefix_budget=4200, suffix_budget=1800
    )
    return result.member_names


def test_a_package_offers_its_own_reexported_and_star_imported_names_and_its_submodules(make_project):
    names = _names(make_project, "import shop\n\n\ntotal = shop.<|>\n")
    assert {"net_price", "gross_price", "TAX", "Cart", "prices", "carts", "payments", "__name__"} <= set(
        names
    )
    assert "describe" not in names and "Order" not in names


def test_an_instance_offers_its_class_and_base_members_and_assigned_attributes(make_project):
    names = _names(make_project, "from shop.carts import Cart\n\n\ncart = Cart()\ncart.<|>\n")
    assert {"add", "items", "describe", "__init__", "__class__"} <= set(names)
    assert "net_price" not in names


def test_an_untyped_receiver_offers_the_class_its_name_and_its_used_members_both_point_at(make_project):
    # ``reader`` names a StreamReader and the file calls ``feed_data`` on it: held to StreamReader's names.
    names = _names(make_project, "def pipe(reader):\n    reader.feed_data(b'')\n    reader.<|>\n")
    assert {"feed_eof", "set_exception", "feed_data", "__class__"} <= set(names)
    assert "add" not in names


@pytest.mark.parametrize(
    "source",
    [
        # A base outside the workspace: Exception's members (args, with_traceback) are not known here.
        "from shop.carts import Order\n\n\nOrder().<|>\n",
        # Any name resolves through __getattr__, on a class or a module.
        "from shop.carts import Lazy\n\n\nLazy().<|>\n",
        "import dynamic\n\n\ndynamic.<|>\n",
        # Not resolved, and nothing to guess from.
        "def f(thing):\n    return thing.<|>\n",
        # Not resolved, and only the name points at a class: a guess too weak to hold the answer to.
        "def pipe(reader):\n    return reader.<|>\n",
        # Not resolved, and only the members used point at a class.
        "def pipe(source):\n    source.feed_data(b'')\n    source.<|>\n",
        # Not at ``receiver.``.
        "import shop\n\n\nvalue = sh<|>\n",
    ],
)
def test_nothing_where_the_receiver_may_offer_more_than_the_index_shows(make_project, source: str):
    assert _names(make_project, source) == ()


def test_a_parameter_annotated_optional_offers_its_class_names(make_project):
    # ``Optional["Cart"]`` (a forward reference) and ``Cart | None`` type the parameter as a Cart.
    for annotation in ('Optional["Cart"]', "typing.Optional[Cart]", "Cart | None"):
        source = f"from shop.carts import Cart\n\n\ndef fill(order: {annotation} = None):\n    order.<|>\n"
        names = _names(make_project, source)
        assert {"add", "items", "describe"} <= set(names), annotation
