"""A JSX tag or a type argument that the rest of the line closes is not closed by the suggestion too. Found
driving the server on a TSX component: at ``<li key={todo.id} className=▮ onClick={…}>`` the 0.5B wrote
``{todo.done ? "completed" : ""}>``, and the accepted line closed the tag before ``onClick``."""

from __future__ import annotations

from roost.engine.postprocess import CompletionContext, postprocess, stay_in_tag

TAG_LINE = "        <li key={todo.id} className="
TAG_REST = " onClick={() => onToggle(todo.id)}>\n          {todo.title}\n"


def ts(prefix: str, suffix: str, language: str = "typescript") -> CompletionContext:
    return CompletionContext(prefix=prefix, suffix=suffix, language=language)


def test_an_attribute_value_does_not_close_the_tag_the_line_closes() -> None:
    kept = postprocess('{todo.done ? "completed" : ""}>', ts(TAG_LINE, TAG_REST))
    assert kept == '{todo.done ? "completed" : ""}'


def test_arrows_and_comparisons_inside_braces_are_not_tag_ends() -> None:
    suggestion = '"item" onClick={() => go(x > 1)}>'
    context = ts("      <li className=", " key={item.id}>\n")
    assert postprocess(suggestion, context) == '"item" onClick={() => go(x > 1)}'


def test_a_type_argument_the_line_closes_keeps_the_suggestions_own_angles() -> None:
    context = ts("const byId: Map<string, ", "> = new Map();\n")
    assert postprocess("Array<number>>", context) == "Array<number>"


def test_nothing_is_cut_where_the_line_does_not_close_the_tag_or_in_other_languages() -> None:
    assert stay_in_tag("{x}>", ts(TAG_LINE, "\n")) == "{x}>"
    assert stay_in_tag("x > 2", ts("const m = a < b ? ", " : c > d;\n")) == "x > 2"
    assert stay_in_tag("Vec<u8>>", ts("fn f(m: HashMap<String, ", ">) {\n", "rust")) == "Vec<u8>>"
