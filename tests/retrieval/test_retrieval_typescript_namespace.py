"""Retrieval at ``receiver.▮`` in TypeScript, on the shapes where ``bench/retrieval_bench_js.py`` (zod, rxjs)
found the gold missing: a namespace import whose barrel re-exports hundreds of names (zod's ``import * as core
from "../core/index.js"``, 956 names: a word most of them share, private names, a value sharing its name with
an interface), a generic interface's base, a class that ``extends … implements …``, a field typed by a type
parameter."""

from __future__ import annotations

from retrieval_fixtures import request_at_marker, retriever_for

from roost.context.retrieval.model import CandidateKind, RetrievalResult

BUDGET_CHARS = 6000


def _listed(result: RetrievalResult, path: str, text: str) -> bool:
    return any(
        item.kind is CandidateKind.MEMBERS and item.path == path and text in item.text
        for item in result.items
    )


def _interfaces(count: int) -> str:
    return "".join(
        f"export interface $ZodString{i}Format {{\n  format: string;\n}}\n\n" for i in range(count)
    )


def _functions(count: int) -> str:
    return "".join(
        f"export function helper{i}(value: number): number {{\n  return value;\n}}\n\n" for i in range(count)
    )


def test_a_word_most_of_the_namespace_shares_does_not_fill_the_cut(make_project):
    # 150 interfaces share ``zod`` and ``string`` with the line; the function wanted shares ``iso`` and
    # ``date`` with it, which few names have.
    root = make_project(
        {
            "core/index.ts": 'export * from "./schemas.js";\nexport * from "./api.js";\n',
            "core/schemas.ts": _interfaces(150),
            "core/api.ts": _functions(60)
            + "export function isoDate(params?: string): number {\n  return 0;\n}\n",
            "classic/iso.ts": "",
        }
    )
    request = request_at_marker(
        "classic/iso.ts",
        """
        import * as core from "../core/index.js";

        export function date(params?: string | core.$ZodString1Format) {
          return core.<|>
        }
        """,
    )
    result = retriever_for(root).retrieve(request, len, BUDGET_CHARS)
    assert _listed(result, "core/api.ts", "export function isoDate(params?: string)")


def test_a_value_sharing_its_name_with_an_interface_is_listed_where_a_value_is_wanted(make_project):
    # TypeScript merges ``interface $constructor`` and ``function $constructor``; after ``= core.`` only the
    # function can stand.
    root = make_project(
        {
            "core/index.ts": 'export * from "./core.js";\n',
            "core/core.ts": "export interface $constructor<T> {\n  new (def: unknown): T;\n}\n\n"
            + "export function $constructor<T>(name: string, init: (inst: T) => void): $constructor<T> {\n"
            + "  return null as any;\n}\n",
            "classic/errors.ts": "",
        }
    )
    request = request_at_marker(
        "classic/errors.ts",
        """
        import * as core from "../core/index.js";

        export interface ZodError {
          issues: unknown[];
        }

        export const ZodError: core.$constructor<ZodError> = /*@__PURE__*/ core.<|>
        """,
    )
    result = retriever_for(root).retrieve(request, len, BUDGET_CHARS)
    assert _listed(result, "core/core.ts", "export function $constructor<T>(name: string")


def test_private_names_of_a_namespace_whose_private_names_the_file_uses_reach_the_cut(make_project):
    # zod's ``core._int``, ``core._isoDate``: the file calls ``core._string`` already, so ``_`` names are
    # its API here, and the first ranking by name alone must not push them below 120 public ones.
    root = make_project(
        {
            "core/index.ts": 'export * from "./api.js";\n',
            "core/api.ts": _functions(120)
            + "export function _string(params?: string): number {\n  return 0;\n}\n\n"
            + "export function _int(params?: string): number {\n  return 0;\n}\n",
            "classic/schemas.ts": "",
        }
    )
    request = request_at_marker(
        "classic/schemas.ts",
        """
        import * as core from "../core/index.js";

        export function string(params?: string) {
          return core._string(params);
        }

        export function int(params?: string) {
          return core.<|>
        }
        """,
    )
    result = retriever_for(root).retrieve(request, len, BUDGET_CHARS)
    assert _listed(result, "core/api.ts", "export function _int(params?: string)")


def test_a_generic_interface_lists_the_members_of_its_base_not_of_a_type_parameter_bound(make_project):
    # zod's ``interface $ZodObject<Shape extends Readonly<…>> extends $ZodType<…> {}``: the ``extends`` of
    # the type parameter's bound was read as the base (``Readonly``), so ``schema.▮_zod`` found nothing.
    root = make_project(
        {
            "core/schemas.ts": "export interface $ZodType<O = unknown, Internals extends Base<O> = Base<O>> {\n"
            + "  _zod: Internals;\n"
            + "".join(f"  member{i}: number;\n" for i in range(30))
            + "}\n\n"
            + "export interface $ZodObject<\n  /** @ts-ignore */\n  out Shape extends Readonly<Shape> = {},\n"
            + "> extends $ZodType<any, Internals<Shape>> {}\n",
            "core/util.ts": "",
        }
    )
    request = request_at_marker(
        "core/util.ts",
        """
        import * as schemas from "./schemas.js";

        export function shapeOf(schema: schemas.$ZodObject) {
          return schema.<|>
        }
        """,
    )
    result = retriever_for(root).retrieve(request, len, BUDGET_CHARS)
    assert _listed(result, "core/schemas.ts", "_zod: Internals;")


def test_a_class_that_extends_and_implements_lists_its_base_class_members(make_project):
    # rxjs's ``class Subscriber<T> extends Subscription implements Observer<T>``: the ``extends …
    # implements …`` list was read as one name, and so gave no base at all.
    root = make_project(
        {
            "Observable.ts": "export class Observable<T> {\n"
            + "".join(f"  op{i}(): number {{\n    return {i};\n  }}\n" for i in range(30))
            + "  subscribe(next: (value: T) => void): void {}\n}\n",
            "types.ts": "export interface SubscriptionLike {\n  unsubscribe(): void;\n}\n",
            "Subject.ts": "import { Observable } from './Observable';\nimport { SubscriptionLike } from './types';\n\n"
            + "export class Subject extends Observable implements SubscriptionLike {\n"
            + "".join(f"  own{i}(): number {{\n    return {i};\n  }}\n" for i in range(5))
            + "  unsubscribe(): void {}\n}\n",
            "use.ts": "",
        }
    )
    request = request_at_marker(
        "use.ts",
        """
        import { Subject } from './Subject';

        export function listen(subject: Subject) {
          subject.<|>
        }
        """,
    )
    result = retriever_for(root).retrieve(request, len, BUDGET_CHARS)
    assert _listed(result, "Observable.ts", "subscribe(next: (value: T) => void)")


def test_a_field_typed_by_a_type_parameter_lists_the_members_of_its_bound(make_project):
    # zod's ``interface $ZodType<…, Internals extends $ZodTypeInternals<O, I> = …> { _zod: Internals }``:
    # ``side._zod.▮def`` lists the bound's members.
    root = make_project(
        {
            "core/schemas.ts": "export interface $ZodTypeInternals<O = unknown> {\n"
            + "".join(f"  member{i}: number;\n" for i in range(30))
            + "  def: $ZodTypeDef;\n}\n\n"
            + "export interface $ZodType<O = unknown, Internals extends $ZodTypeInternals<O> = "
            + "$ZodTypeInternals<O>> {\n  _zod: Internals;\n}\n",
            "classic/in-out.ts": "",
        }
    )
    request = request_at_marker(
        "classic/in-out.ts",
        """
        import * as core from "../core/schemas.js";

        function withChecks(side: core.$ZodType) {
          const def = side._zod.<|>
        }
        """,
    )
    result = retriever_for(root).retrieve(request, len, BUDGET_CHARS)
    assert _listed(result, "core/schemas.ts", "def: $ZodTypeDef;")


def test_a_generic_call_receiver_is_typed_by_what_the_function_returns(make_project):
    # zod's ``processors.aggregateChecks<number>(inst).▮minimum``: the type arguments hid the callee.
    root = make_project(
        {
            "core/checks.ts": "export class Bounds<T> {\n"
            + "".join(f"  op{i}(): number {{\n    return {i};\n  }}\n" for i in range(30))
            + "  minimum(): T | undefined {\n    return undefined;\n  }\n}\n\n"
            + "export function aggregateChecks<T>(inst: unknown): Bounds<T> {\n  return new Bounds<T>();\n}\n",
            "classic/schemas.ts": "",
        }
    )
    request = request_at_marker(
        "classic/schemas.ts",
        """
        import * as processors from "../core/checks.js";

        export const minLength = (inst: unknown) => processors.aggregateChecks<number>(inst).<|>
        """,
    )
    result = retriever_for(root).retrieve(request, len, BUDGET_CHARS)
    assert _listed(result, "core/checks.ts", "minimum(): T | undefined")
