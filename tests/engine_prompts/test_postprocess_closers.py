"""A multi-line suggestion between a bracket pair (``return {▮}``): it keeps its own closing line and the
editor's item replaces the closer after the cursor (``replaced_closers``), instead of the suggestion's last
line being glued to that closer."""

from __future__ import annotations

from roost.engine.postprocess import CompletionContext, postprocess, replaced_closers


def ctx(prefix: str, suffix: str, language: str = "python") -> CompletionContext:
    return CompletionContext(prefix=prefix, suffix=suffix, language=language)


def accepted(text: str, context: CompletionContext) -> str:
    """The document once the editor has applied the item (its range: the cursor plus what it replaces)."""
    return context.prefix + text + context.suffix[replaced_closers(text, context) :]


DICT = ctx('def config():\n    """Defaults."""\n    return {', "}\n\n\ndef load(path):\n    pass\n")


def test_a_block_between_braces_keeps_its_closing_line_and_replaces_the_brace() -> None:
    raw = '\n        "debug": False,\n        "port": 5000\n    }\n\n\ndef other():\n    pass'
    kept = postprocess(raw, DICT)
    assert kept == '\n        "debug": False,\n        "port": 5000\n    }'
    assert replaced_closers(kept, DICT) == 1
    assert accepted(kept, DICT).startswith(
        'def config():\n    """Defaults."""\n    return {\n        "debug": False,\n        "port": 5000\n    }\n\n\n'
    )


def test_a_call_and_a_dict_closed_by_one_block_with_the_semicolon_the_line_has() -> None:
    context = ctx("const options = merge({", "});\nrun(options);\n", "javascript")
    kept = postprocess("\n  retries: 3,\n});\nrun(options);", context)
    assert kept == "\n  retries: 3,\n});"
    assert accepted(kept, context) == "const options = merge({\n  retries: 3,\n});\nrun(options);\n"


def test_a_block_that_closes_only_the_inner_bracket_leaves_the_outer_one() -> None:
    context = ctx("const options = merge({", "});\n", "javascript")
    kept = postprocess("\n  retries: 3,\n}", context)
    assert replaced_closers(kept, context) == 1
    assert accepted(kept, context) == "const options = merge({\n  retries: 3,\n});\n"


def test_no_replacement_where_the_suggestion_does_not_close_the_bracket() -> None:
    kept = postprocess('\n        "debug": False,', DICT)
    assert kept == '\n        "debug": False,'
    assert replaced_closers(kept, DICT) == 0  # inserted: the brace after the cursor stays


def test_a_one_line_suggestion_is_still_cut_before_the_closer_the_line_has() -> None:
    kept = postprocess('"debug": False}', DICT)
    assert kept == '"debug": False'
    assert replaced_closers('"debug": False}', DICT) == 0


def test_no_replacement_where_the_suggestion_closes_a_different_bracket() -> None:
    context = ctx("values = [", "]\n")
    assert replaced_closers("\n    1,\n    2\n)", context) == 0
    assert replaced_closers("\n    1,\n    2\n]", context) == 1


def test_no_replacement_where_code_follows_the_suggestions_closer() -> None:
    context = ctx("total = sum([", "])\n")
    # After its "]" the suggestion writes ".copy()", which the line does not have: inserting is the safe
    # choice (post-processing cuts the closer as before).
    assert replaced_closers("\n    1,\n    2\n].copy()", context) == 0
    assert postprocess("\n    1,\n    2\n].copy()", context) == "\n    1,\n    2"


def test_brackets_in_strings_and_comments_do_not_count() -> None:
    context = ctx("names = {", "}\n")
    text = '\n    "a": "}",  # closes }\n    "b": 2,\n}'
    assert replaced_closers(text, context) == 1
    assert postprocess(text, context) == text


def test_the_replacing_cut_is_idempotent() -> None:
    raw = '\n        "debug": False,\n        "port": 5000\n    }\n\n\ndef other():\n    pass'
    once = postprocess(raw, DICT)
    assert postprocess(once, DICT) == once


def test_the_rest_of_a_nested_block_after_its_first_line_was_accepted_replaces_the_one_brace_left() -> None:
    # `return {▮}` answered early with '\n        "shapes": {' (accepted): the document now holds one "}" for
    # two open braces, and the rest of the suggestion (from the cache) closes both.
    context = ctx('def config():\n    return {\n        "shapes": {', "}\n\n\ndef load(path):\n    pass\n")
    rest = '\n            "circle": 5,\n        }\n    }'
    assert replaced_closers(rest, context) == 1
    assert accepted(rest, context).startswith(
        'def config():\n    return {\n        "shapes": {\n            "circle": 5,\n        }\n    }\n\n\n'
    )


def test_closing_more_than_the_document_leaves_open_is_not_a_replacement() -> None:
    # The ")" of the next line closes the call: a suggestion that closes it too would leave one too many.
    context = ctx("run(options={", "}\n)\n")
    assert replaced_closers("\n    'retries': 3,\n}\n)", context) == 0
    assert replaced_closers("\n    'retries': 3,\n}", context) == 1
    assert replaced_closers("\n    1,\n}\n}", DICT) == 0


def test_the_closing_line_left_after_the_rest_was_accepted_replaces_the_brace() -> None:
    # `function f() {▮}` answered early with '\n  return 1;' (accepted, the "}" now after it): the rest of
    # the block typed ahead is the closing line alone.
    context = ctx("function countDone(todos) {\n  return 1;", "}\n", "typescript")
    assert replaced_closers("\n}", context) == 1
    assert accepted("\n}", context) == "function countDone(todos) {\n  return 1;\n}\n"
