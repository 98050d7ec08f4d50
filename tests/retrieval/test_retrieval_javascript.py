"""Retrieval at ``receiver.▮`` in JavaScript, on the shapes where ``bench/retrieval_bench_js.py`` (three.js,
cases labelled by the TypeScript language service) found the gold missing: a base class taken by a default
import, a module-level instance built behind a bundler's ``/*@__PURE__*/`` annotation."""

from __future__ import annotations

from retrieval_fixtures import request_at_marker, retriever_for

from roost.context.retrieval.model import CandidateKind, RetrievalResult

BUDGET_CHARS = 6000


def _methods(count: int) -> str:
    return "".join(f"  helper{i}(value) {{\n    return value + {i};\n  }}\n\n" for i in range(count))


def _listed(result: RetrievalResult, path: str, text: str) -> bool:
    """Whether the listing of the receiver's members shows ``text`` from ``path`` (not BM25's windows of a
    file this small, which may show it by chance)."""
    return any(
        item.kind is CandidateKind.MEMBERS and item.path == path and text in item.text
        for item in result.items
    )


def test_this_lists_members_of_a_base_class_taken_by_a_default_import(make_project):
    # three.js writes one class per file, ``export default Node;``, and ``import Node from './Node.js'``:
    # the default import binds the class (not the module), so the subclass's ``this.`` offers its methods.
    root = make_project(
        {
            "nodes/Node.js": "class Node {\n\n"
            + _methods(40)
            + "  getNodeType(builder) {\n    return 'void';\n  }\n}\n\nexport default Node;\n",
            "nodes/TempNode.js": "",
        }
    )
    request = request_at_marker(
        "nodes/TempNode.js",
        """
        import Node from './Node.js';

        class TempNode extends Node {
          setup(builder) {
            const type = this.<|>
          }
        }

        export default TempNode;
        """,
    )
    result = retriever_for(root).retrieve(request, len, BUDGET_CHARS)
    assert _listed(result, "nodes/Node.js", "getNodeType(builder)")


def test_module_constant_built_behind_a_pure_annotation_is_typed(make_project):
    # ``const _z = /*@__PURE__*/ new Vector3();`` (below the class, as three.js writes its scratch objects):
    # the comment between ``=`` and ``new`` must not hide the class.
    root = make_project(
        {
            "math/Vector3.js": "class Vector3 {\n\n"
            + _methods(40)
            + "  normalize() {\n    return this;\n  }\n}\n\nexport { Vector3 };\n",
            "math/Matrix4.js": "",
        }
    )
    request = request_at_marker(
        "math/Matrix4.js",
        """
        import { Vector3 } from './Vector3.js';

        class Matrix4 {
          lookAt(eye, target) {
            _z.<|>
          }
        }

        const _z = /*@__PURE__*/ new Vector3();

        export { Matrix4 };
        """,
    )
    result = retriever_for(root).retrieve(request, len, BUDGET_CHARS)
    assert _listed(result, "math/Vector3.js", "normalize()")


def test_super_dot_lists_the_base_class_members(make_project):
    # ``super.toJSON()`` in a JavaScript/TypeScript method: ``super`` has no parentheses there.
    root = make_project(
        {
            "core/Curve.js": "export class Curve {\n\n"
            + _methods(40)
            + "  toJSON() {\n    return {};\n  }\n}\n",
            "curves/LineCurve.js": "",
        }
    )
    request = request_at_marker(
        "curves/LineCurve.js",
        """
        import { Curve } from '../core/Curve.js';

        export class LineCurve extends Curve {
          toJSON() {
            const data = super.<|>
          }
        }
        """,
    )
    result = retriever_for(root).retrieve(request, len, BUDGET_CHARS)
    assert _listed(result, "core/Curve.js", "toJSON()")


def _subscription_project(make_project):
    return make_project(
        {
            "Subscription.ts": "export class Subscription {\n\n"
            + _methods(40)
            + "  unsubscribe(): void {\n    return;\n  }\n}\n",
            "share.ts": "",
        }
    )


def test_optional_chaining_and_non_null_receivers_are_typed(make_project):
    # ``conn?.unsubscribe()`` and TypeScript's ``conn!.unsubscribe()``: the receiver is ``conn`` all the same.
    root = _subscription_project(make_project)
    for access in ("?.", "!."):
        request = request_at_marker(
            "share.ts",
            f"""
            import {{ Subscription }} from './Subscription';

            export function share() {{
              let conn: Subscription | null = null;
              conn{access}<|>
            }}
            """,
        )
        result = retriever_for(root).retrieve(request, len, BUDGET_CHARS)
        assert _listed(result, "Subscription.ts", "unsubscribe(): void"), access


def test_receiver_with_a_dollar_in_its_name_is_typed(make_project):
    # rxjs names its observables ``errors$``; ``$`` is part of a JavaScript name.
    root = _subscription_project(make_project)
    request = request_at_marker(
        "share.ts",
        """
        import { Subscription } from './Subscription';

        export function share() {
          const inner$ = new Subscription();
          inner$.<|>
        }
        """,
    )
    result = retriever_for(root).retrieve(request, len, BUDGET_CHARS)
    assert _listed(result, "Subscription.ts", "unsubscribe(): void")


def test_fields_assigned_in_the_constructor_are_listed(make_project):
    # JavaScript without class-field syntax: ``this.y = y;`` in the constructor declares the field.
    root = make_project(
        {
            "math/Vector3.js": "export class Vector3 {\n\n"
            + "  constructor(x = 0, y = 0, z = 0) {\n    this.x = x;\n    this.y = y;\n    this.z = z;\n  }\n\n"
            + _methods(40)
            + "}\n",
            "math/Matrix4.js": "",
        }
    )
    request = request_at_marker(
        "math/Matrix4.js",
        """
        import { Vector3 } from './Vector3.js';

        export function makeBasis(xAxis = new Vector3()) {
          const axis = new Vector3();
          return axis.<|>
        }
        """,
    )
    result = retriever_for(root).retrieve(request, len, BUDGET_CHARS)
    assert _listed(result, "math/Vector3.js", "this.y = y;")


def test_a_call_receiver_is_typed_by_its_typescript_return_annotation(make_project):
    # rxjs: ``innerFrom(input).subscribe(…)`` where ``innerFrom(…): Observable<T>``.
    root = make_project(
        {
            "Observable.ts": "export class Observable<T> {\n\n"
            + _methods(40)
            + "  subscribe(observer?: Partial<Observer<T>>): Subscription {\n    return null;\n  }\n}\n",
            "innerFrom.ts": "import { Observable } from './Observable';\n\n"
            "export function innerFrom<T>(input: ObservableInput<T>): Observable<T> {\n"
            "  return new Observable<T>();\n}\n",
            "defer.ts": "",
        }
    )
    request = request_at_marker(
        "defer.ts",
        """
        import { innerFrom } from './innerFrom';

        export function defer(factory) {
          return innerFrom(factory()).<|>
        }
        """,
    )
    result = retriever_for(root).retrieve(request, len, BUDGET_CHARS)
    assert _listed(result, "Observable.ts", "subscribe(observer?: Partial<Observer<T>>): Subscription")


def test_a_type_named_with_a_dollar_types_its_receiver(make_project):
    # zod names its core types ``$ZodType``: ``schema: schemas.$ZodType`` is read whole, not as ``schemas.``.
    root = make_project(
        {
            "schemas.ts": "export interface $ZodType {\n"
            + "".join(f"  field{i}: number;\n" for i in range(60))
            + "  _zod: Internals;\n}\n",
            "util.ts": "",
        }
    )
    request = request_at_marker(
        "util.ts",
        """
        import * as schemas from './schemas';

        export function cloneDef(schema: schemas.$ZodType) {
          return schema.<|>
        }
        """,
    )
    result = retriever_for(root).retrieve(request, len, BUDGET_CHARS)
    assert _listed(result, "schemas.ts", "_zod: Internals;")


def test_a_parameter_typed_by_jsdoc_lists_its_class_members(make_project):
    # three.js types its parameters in JSDoc only: ``@param {Vector3} target``.
    root = make_project(
        {
            "math/Vector3.js": "export class Vector3 {\n\n"
            + _methods(40)
            + "  addScaledVector(v, s) {\n    return this;\n  }\n}\n",
            "math/SphericalHarmonics3.js": "",
        }
    )
    request = request_at_marker(
        "math/SphericalHarmonics3.js",
        """
        import { Vector3 } from './Vector3.js';

        export class SphericalHarmonics3 {
          /**
           * Returns the radiance in the direction of the given normal.
           *
           * @param {Vector3} normal - The normal vector.
           * @param {?Vector3} target - Where the result is stored.
           * @return {Vector3} The radiance.
           */
          getAt(normal, target) {
            target.<|>
          }
        }
        """,
    )
    result = retriever_for(root).retrieve(request, len, BUDGET_CHARS)
    assert _listed(result, "math/Vector3.js", "addScaledVector(v, s)")


def test_a_field_set_from_a_parameter_typed_by_its_default_lists_its_class_members(make_project):
    # three.js's curves: ``constructor(v0 = new Vector2())`` then ``this.v0 = v0;``; the default value is the
    # parameter's only type, and so the field's.
    root = make_project(
        {
            "math/Vector2.js": "export class Vector2 {\n\n"
            + _methods(40)
            + "  distanceTo(v) {\n    return 0;\n  }\n}\n",
            "curves/LineCurve.js": "",
        }
    )
    request = request_at_marker(
        "curves/LineCurve.js",
        """
        import { Vector2 } from '../math/Vector2.js';

        export class LineCurve {
          constructor(v1 = new Vector2(), v2 = new Vector2()) {
            this.v1 = v1;
            this.v2 = v2;
          }

          getLength() {
            return this.v1.<|>
          }
        }
        """,
    )
    result = retriever_for(root).retrieve(request, len, BUDGET_CHARS)
    assert _listed(result, "math/Vector2.js", "distanceTo(v)")


def test_a_local_naming_a_field_of_this_lists_the_field_type_members(make_project):
    # three.js's curves: ``const v0 = this.v0, v1 = this.v1;`` then ``v0.▮x``.
    root = make_project(
        {
            "math/Vector2.js": "export class Vector2 {\n\n"
            + _methods(40)
            + "  distanceTo(v) {\n    return 0;\n  }\n}\n",
            "curves/LineCurve.js": "",
        }
    )
    request = request_at_marker(
        "curves/LineCurve.js",
        """
        import { Vector2 } from '../math/Vector2.js';

        export class LineCurve {
          constructor() {
            this.v1 = new Vector2();
            this.v2 = new Vector2();
          }

          getLength() {
            const v1 = this.v1, v2 = this.v2;
            return v2.<|>
          }
        }
        """,
    )
    result = retriever_for(root).retrieve(request, len, BUDGET_CHARS)
    assert _listed(result, "math/Vector2.js", "distanceTo(v)")
