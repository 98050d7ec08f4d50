"""An edit that leaves a function its signature (and docstring) but no body is told apart (issue 15:
the bundled 0.5B, asked for type hints, answered the signature and docstring alone), in every language
with a module in context/languages/, on real tree-sitter trees."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from roost.context.languages import language_for_path
from roost.context.languages.base import FunctionBody
from roost.context.parser_cache import parser_for
from roost.context.parsing import EmptiedFunction, emptied_functions

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


def _emptied(path: str, before: str, after: str) -> list[str]:
    return [function.name for function in emptied_functions(path, before, after)]


def test_a_function_left_with_its_docstring_only_is_emptied() -> None:
    after = BEFORE.replace("    return len(set(text.lower()))\n", "")
    assert _emptied("m.py", BEFORE, after) == ["count"]


def test_methods_and_decorated_functions_are_named_with_their_class() -> None:
    after = BEFORE.replace("        # look it up\n        return self.values[key]\n", "        # gone\n")
    after = after.replace("        return len(self.values)\n", '        """Size."""\n')
    assert sorted(_emptied("m.py", BEFORE, after)) == ["Store.get", "Store.size"]


def test_an_emptied_function_comes_with_the_statements_it_had() -> None:
    # What the retry shows the model: whole lines, indentation kept, the docstring and comments before
    # the first statement left out.
    after = BEFORE.replace("        # look it up\n        return self.values[key]\n", "")
    assert emptied_functions("m.py", BEFORE, after) == [
        EmptiedFunction("Store.get", "        return self.values[key]")
    ]
    go_after = GO.replace(
        "\tseen := map[rune]bool{}\n\tfor _, r := range text {\n\t\tseen[r] = true\n\t}\n", ""
    )
    go_after = go_after.replace("\treturn len(seen)\n", "")
    (count,) = emptied_functions("shop.go", GO, go_after)
    assert count.old_body.startswith("\tseen := map[rune]bool{}\n\tfor _, r") and count.old_body.endswith(
        "return len(seen)"
    )


def test_a_stub_body_or_a_rewritten_body_is_not_emptied() -> None:
    stubbed = BEFORE.replace("    return len(set(text.lower()))\n", "    pass\n")
    rewritten = BEFORE.replace("return len(set(text.lower()))", "return len({c.lower() for c in text})")
    assert _emptied("m.py", BEFORE, stubbed) == []
    assert _emptied("m.py", BEFORE, rewritten) == []
    assert _emptied("m.py", BEFORE, BEFORE) == []


def test_a_function_that_had_no_statements_or_is_new_is_not_counted() -> None:
    before = 'def later():\n    """To do."""\n'
    after = before + '\n\ndef other():\n    """Also to do."""\n'
    assert _emptied("m.py", before, after) == []


def test_unknown_files_check_nothing() -> None:
    assert _emptied("notes.txt", "a", "") == []


@dataclass(frozen=True)
class Case:
    """A file of one language, the same file with some bodies emptied (comments may stay), and the same
    file with those bodies replaced by one stub statement (``throw``, ``todo!()``, ``return``)."""

    path: str
    before: str
    emptied: str
    expected: list[str]
    stubbed: str
    bodiless: list[str]  # abstract, interface, trait methods, overload signatures, expression-bodied arrows


JAVASCRIPT = """class Cart {
  total() {
    return this.items.length;
  }
}

function count(text) {
  return new Set(text).size;
}

const double = (x) => {
  return x * 2;
};

const triple = (x) => x * 3;
"""

TYPESCRIPT = """abstract class Shape {
  abstract area(): number;

  describe(): string {
    return `area ${this.area()}`;
  }
}

interface Named {
  name(): string;
}

function parse(a: string): number;
function parse(a: unknown): number {
  return Number(a);
}

export const api = {
  fetch(url: string) {
    return get(url);
  },
};
"""

JAVA = """abstract class Account {
    private int balance;

    Account(int balance) {
        this.balance = balance;
    }

    abstract void close();

    int deposit(int amount) {
        // keep it positive
        balance += amount;
        return balance;
    }
}

interface Ledger {
    void post(int amount);
}
"""

GO = """package shop

type Store struct{ values map[string]int }

func (s *Store) Get(key string) int {
	return s.values[key]
}

func Count(text string) int {
	// distinct runes
	seen := map[rune]bool{}
	for _, r := range text {
		seen[r] = true
	}
	return len(seen)
}

func fastHash(b []byte) uint64
"""

RUST = """trait Shape {
    fn area(&self) -> f64;
    fn describe(&self) -> String {
        format!("area {}", self.area())
    }
}

impl<T> Stack<T> {
    fn push(&mut self, item: T) {
        self.items.push(item);
    }
}

fn count(text: &str) -> usize {
    let mut seen = std::collections::HashSet::new();
    seen.extend(text.chars());
    seen.len()
}
"""

CASES = [
    Case(
        "cart.js",
        JAVASCRIPT,
        JAVASCRIPT.replace("    return this.items.length;\n", "")
        .replace("  return new Set(text).size;\n", "  // counts them\n")
        .replace("  return x * 2;\n", ""),
        ["Cart.total", "count", "double"],
        JAVASCRIPT.replace("return this.items.length;", 'throw new Error("todo");')
        .replace("return new Set(text).size;", "return;")
        .replace("return x * 2;", "return;"),
        ["triple"],
    ),
    Case(
        "shape.ts",
        TYPESCRIPT,
        TYPESCRIPT.replace("    return `area ${this.area()}`;\n", "")
        .replace("  return Number(a);\n", "")
        .replace("    return get(url);\n", ""),
        ["Shape.describe", "api.fetch", "parse"],
        TYPESCRIPT.replace("return `area ${this.area()}`;", 'throw new Error("todo");'),
        ["Shape.area", "Named.name"],
    ),
    Case(
        "Account.java",
        JAVA,
        JAVA.replace("        this.balance = balance;\n", "").replace(
            "        balance += amount;\n        return balance;\n", ""
        ),
        ["Account.Account", "Account.deposit"],
        JAVA.replace("        balance += amount;\n        return balance;\n", "        throw new X();\n"),
        ["Account.close", "Ledger.post"],
    ),
    Case(
        "shop.go",
        GO,
        GO.replace("\treturn s.values[key]\n", "")
        .replace("\tseen := map[rune]bool{}\n\tfor _, r := range text {\n\t\tseen[r] = true\n\t}\n", "")
        .replace("\treturn len(seen)\n", ""),
        ["Count", "Store.Get"],
        GO.replace("\treturn s.values[key]\n", '\tpanic("todo")\n'),
        ["fastHash"],
    ),
    Case(
        "shape.rs",
        RUST,
        RUST.replace('        format!("area {}", self.area())\n', "        // later\n")
        .replace("        self.items.push(item);\n", "")
        .replace("    let mut seen = std::collections::HashSet::new();\n    seen.extend(text.chars());\n", "")
        .replace("    seen.len()\n", ""),
        ["Shape.describe", "Stack.push", "count"],
        RUST.replace("        self.items.push(item);\n", "        todo!()\n"),
        ["Shape.area"],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.path)
def test_emptied_functions_and_methods_are_named_in_every_language(case: Case) -> None:
    assert sorted(_emptied(case.path, case.before, case.emptied)) == case.expected


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.path)
def test_a_body_replaced_by_one_stub_statement_is_not_emptied(case: Case) -> None:
    assert case.stubbed != case.before
    assert _emptied(case.path, case.before, case.stubbed) == []
    assert _emptied(case.path, case.before, case.before) == []


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.path)
def test_abstract_and_interface_methods_without_a_body_are_not_counted(case: Case) -> None:
    # Declared without a body, so no edit "empties" them; the functions with a body are counted.
    counts = _function_statements(case.path, case.before)
    assert not set(case.bodiless) & set(counts)
    assert all(counts[name].statements > 0 for name in case.expected)


def _function_statements(path: str, text: str) -> dict[str, FunctionBody]:
    language = language_for_path(path)
    assert language is not None
    source = text.encode()
    return language.function_statements(source, parser_for(language.ts_language(path)).parse(source))


def test_an_arrow_function_rewritten_with_an_expression_body_is_not_emptied() -> None:
    after = JAVASCRIPT.replace("(x) => {\n  return x * 2;\n}", "(x) => x * 2")
    assert after != JAVASCRIPT
    assert _emptied("cart.js", JAVASCRIPT, after) == []


def test_overloads_are_emptied_only_when_every_one_is() -> None:
    before = "class Calc {\n  int add(int a) { return a; }\n  int add(int a, int b) { return a + b; }\n}\n"
    one_stubbed = before.replace("{ return a; }", "{ }")
    assert _emptied("Calc.java", before, one_stubbed) == []
    assert _emptied("Calc.java", before, one_stubbed.replace("{ return a + b; }", "{ }")) == ["Calc.add"]
