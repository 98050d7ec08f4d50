"""Retrieval at ``receiver.▮`` in TypeScript where no annotation or assignment names the receiver's type, on
the shapes of rxjs' misses in ``bench/retrieval_bench_js.py``: a callback's parameter typed by the function
it is passed to (``operate((source, subscriber) => { source.▮ })``, with ``operate(init: (liftedSource:
Observable<T>, …) => …)``), an array method's callback (``xs.map((x) => x.▮)``), ``for … of``, and an
index (``windows[0].▮`` where ``let windows = [new Subject<T>()]``, ``xs[i].▮`` where ``xs: Foo[]``)."""

from __future__ import annotations

import pytest
from retrieval_fixtures import request_at_marker, retriever_for

from roost.context.facts import Definition, Span, SymbolKind
from roost.context.languages import language_for_path
from roost.context.retrieval.model import CandidateKind, RetrievalResult

BUDGET_CHARS = 6000
WANTED = "subscribe(observer: Observer): Subscription"


def _observable_ts() -> str:
    # Too big to be shown whole: only its member listing can hold ``WANTED``.
    helpers = "".join(
        f"  helper{i}(value: number): number {{\n    return value + {i};\n  }}\n\n" for i in range(40)
    )
    return (
        "export interface Observer {}\nexport class Subscription {}\n\n"
        "export class Observable<T> {\n"
        + helpers
        + f"  {WANTED} {{\n    return new Subscription();\n  }}\n}}\n"
    )


LIFT_TS = (
    "import { Observable } from './Observable';\n\n"
    "export function operate<T, R>(\n"
    "  init: (liftedSource: Observable<T>, subscriber: R) => (() => void) | void\n"
    "): (source: Observable<T>) => Observable<R> {\n  return (source) => source;\n}\n"
)


def _listed(result: RetrievalResult) -> bool:
    return any(
        item.kind is CandidateKind.MEMBERS and item.path == "Observable.ts" and WANTED in item.text
        for item in result.items
    )


@pytest.mark.parametrize(
    "body",
    [
        # rxjs' operators: ``return operate((source, subscriber) => { source.subscribe(…) })``.
        "export function take<T>() {\n  return operate((source, subscriber) => {\n    source.<|>\n  });\n}\n",
        # the same parameter used in a named arrow function inside the callback (retryWhen's).
        "export function retry<T>() {\n  return operate((source, subscriber) => {\n"
        "    const subscribeForRetry = () => {\n      const sub = source.<|>\n    };\n  });\n}\n",
        # an array method's callback: an element of the array.
        "export function all(sources: Observable<number>[]) {\n  return sources.map((s) => s.<|>\n}\n",
        # ``for … of``.
        "export function all(sources: Array<Observable<number>>) {\n  for (const s of sources) {\n    s.<|>\n  }\n}\n",
        # an index into an annotated array.
        "export function first(sources: Observable<number>[]) {\n  return sources[0].<|>\n}\n",
        # an index into an array literal of constructed values (rxjs' windowCount).
        "export function windows<T>() {\n  let windows = [new Observable<T>()];\n  windows[0].<|>\n}\n",
    ],
    ids=[
        "callback-parameter",
        "callback-parameter-in-closure",
        "array-callback",
        "for-of",
        "index",
        "literal",
    ],
)
def test_an_unannotated_receiver_is_typed_by_what_it_is_bound_to(make_project, body):
    root = make_project({"Observable.ts": _observable_ts(), "lift.ts": LIFT_TS, "take.ts": ""})
    buffer = "import { Observable } from './Observable';\nimport { operate } from './lift';\n\n" + body
    result = retriever_for(root).retrieve(request_at_marker("take.ts", buffer), len, BUDGET_CHARS)
    assert _listed(result)


def _definition(kind: SymbolKind, signature: str) -> Definition:
    span = Span(0, 0, 0, 0)
    return Definition(name="x", qualified_name="x", kind=kind, span=span, name_span=span, signature=signature)


def test_typescript_reads_a_callbacks_parameter_type_from_the_callees_signature():
    operate = _definition(SymbolKind.FUNCTION, LIFT_TS.split("\n\n", 1)[1].split(" {")[0])
    typescript = language_for_path("lift.ts")
    assert typescript.callback_parameter_type(operate, 0, 0) == "Observable"
    assert typescript.callback_parameter_type(operate, 0, 1) is None  # ``R``: no named type written
    assert typescript.callback_parameter_type(operate, 1, 0) is None


@pytest.mark.parametrize(
    ("written", "element"),
    [
        ("Foo[]", "Foo"),
        ("readonly ns.Foo[]", "ns.Foo"),
        ("Array<Foo<T>>", "Foo"),
        ("Map<K, V>", None),
        ("Foo", None),
    ],
)
def test_typescript_element_type(written, element):
    assert language_for_path("x.ts").element_type(written) == element
