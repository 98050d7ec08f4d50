"""An edit that leaves a function its signature (and docstring) but no body is told apart (issue 15:
the bundled 0.5B, asked for type hints, answered the signature and docstring alone)."""

from __future__ import annotations

from roost.context.parsing import emptied_functions

BEFORE = '''import os


class Store:
    def get(self, key: str):
        """The value of ``key``."""
        # look it up
        return self.values[key]

    @property
    def size(self):
        return len(self.values)


def count(text):
    """How many distinct characters."""
    return len(set(text.lower()))
'''


def test_a_function_left_with_its_docstring_only_is_emptied() -> None:
    after = BEFORE.replace("    return len(set(text.lower()))\n", "")
    assert emptied_functions("m.py", BEFORE, after) == ["count"]


def test_methods_and_decorated_functions_are_named_with_their_class() -> None:
    after = BEFORE.replace("        # look it up\n        return self.values[key]\n", "        # gone\n")
    after = after.replace("        return len(self.values)\n", '        """Size."""\n')
    assert sorted(emptied_functions("m.py", BEFORE, after)) == ["Store.get", "Store.size"]


def test_a_stub_body_or_a_rewritten_body_is_not_emptied() -> None:
    stubbed = BEFORE.replace("    return len(set(text.lower()))\n", "    pass\n")
    rewritten = BEFORE.replace("return len(set(text.lower()))", "return len({c.lower() for c in text})")
    assert emptied_functions("m.py", BEFORE, stubbed) == []
    assert emptied_functions("m.py", BEFORE, rewritten) == []
    assert emptied_functions("m.py", BEFORE, BEFORE) == []


def test_a_function_that_had_no_statements_or_is_new_is_not_counted() -> None:
    before = 'def later():\n    """To do."""\n'
    after = before + '\n\ndef other():\n    """Also to do."""\n'
    assert emptied_functions("m.py", before, after) == []


def test_languages_that_cannot_tell_and_unknown_files_check_nothing() -> None:
    js_before = "function count(text) {\n  return new Set(text).size;\n}\n"
    assert emptied_functions("m.js", js_before, "function count(text) {\n}\n") == []
    assert emptied_functions("notes.txt", "a", "") == []
