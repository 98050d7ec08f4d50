"""A cursor inside a string literal that the rest of the line closes (the editor closed the quote): the
suggestion stays inside the string. Found driving the server on a JavaScript file: at
``console.log("chunk‸");`` the 0.5B suggested ``([1, 2], 2) = ", chunk([1, 2], 2));``, and the accepted line
read ``console.log("chunk([1, 2], 2) = ", chunk([1, 2], 2));");``."""

from __future__ import annotations

from roost.engine.postprocess import CompletionContext, postprocess, stay_in_string


def ctx(prefix: str, suffix: str, language: str = "javascript") -> CompletionContext:
    return CompletionContext(prefix=prefix, suffix=suffix, language=language)


def test_a_suggestion_closing_the_string_the_suffix_closes_is_cut_at_its_quote() -> None:
    context = ctx('console.log("chunk', '");\nmodule.exports = { chunk };\n')
    suggestion = '([1, 2, 3, 4, 5], 2) = ", chunk([1, 2, 3, 4, 5], 2));'
    kept = postprocess(suggestion, context)
    assert kept == "([1, 2, 3, 4, 5], 2) = "
    assert 'console.log("chunk' + kept + '");' == 'console.log("chunk([1, 2, 3, 4, 5], 2) = ");'


def test_python_single_quotes_and_escaped_quotes() -> None:
    context = ctx("    name = 'it\\'s ", "'\n", "python")
    assert stay_in_string("mine' + suffix", context) == "mine"
    assert stay_in_string("a \\' b' + c", context) == "a \\' b"


def test_outside_a_string_or_with_an_unclosed_string_nothing_is_cut() -> None:
    # Not in a string: the quotes are the suggestion's own.
    assert stay_in_string('"a", "b")', ctx("f(", ")\n")) == '"a", "b")'
    # In a string the rest of the line does not close: the suggestion must close it.
    assert stay_in_string('world")', ctx('print("hello ', "\n", "python")) == 'world")'
    # After a line comment an apostrophe opens nothing.
    assert stay_in_string("it's done", ctx("x = 1  # don't ", "'\n", "python")) == "it's done"


def test_triple_quotes_and_rust_lifetimes_are_left_alone() -> None:
    assert stay_in_string('say "hi"', ctx('    """Returns ', '"""\n', "python")) == 'say "hi"'
    assert stay_in_string("a str) -> &'a str", ctx("fn f<'a>(x: &'", "a str) {\n", "rust")) == (
        "a str) -> &'a str"
    )


def test_a_bracket_the_rest_of_the_string_closes_is_not_closed_again() -> None:
    """At ``f"Hello {‸}"`` (the editor closed the brace) the 0.5B suggested ``name}!``: the accepted line read
    ``f"Hello {name}!}"``, which Python rejects."""
    fstring = ctx('def hello(name):\n    return f"Hello {', '}"\n', "python")
    assert postprocess("name}!", fstring) == "name"
    template = ctx("const s = `Hi ${", "}`;\n")
    assert postprocess("user.name}!`;", template) == "user.name"
    # The suggestion's own brackets, and one the rest of the string does not close, are kept.
    assert stay_in_string("{a}", ctx('x = f"', '"\n', "python")) == "{a}"
    assert stay_in_string("a} b", ctx('x = f"{', ' b"\n', "python")) == "a} b"
