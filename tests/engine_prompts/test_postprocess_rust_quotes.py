"""Rust's quote is a char literal ('{') or a lifetime ('a): bracket balancing read a lifetime as a string
opened up to the next quote, hiding the brackets between (found dogfooding a Rust crate: at
``fn get<'a>(&'a self, ▮) -> &'a str {`` the ``(`` was hidden, so ``key: &str)`` kept its ``)`` before the
one already there)."""

from __future__ import annotations

from roost.engine.postprocess import CompletionContext, postprocess, replaced_closers


def rust(prefix: str, suffix: str) -> CompletionContext:
    return CompletionContext(prefix=prefix, suffix=suffix, language="rust")


def test_a_lifetime_does_not_hide_the_bracket_the_suffix_closes() -> None:
    context = rust("impl Store {\n    fn get<'a>(&'a self, ", ") -> Option<&'a str> {\n    }\n}\n")
    assert postprocess("key: &str)", context) == "key: &str"


def test_a_lifetime_on_the_line_of_a_block_does_not_hide_its_brace() -> None:
    # The { after '&'a str' is open at the cursor, and the suggestion's own } replaces the one after it.
    context = rust("fn name<'a>(store: &'a Store) -> &'a str {", "}\n")
    assert replaced_closers("\n    &store.name\n}", context) == 1


def test_char_literals_still_hide_their_brackets() -> None:
    context = rust("fn opens(c: char) -> bool {\n    matches!(c, '(' | '\\u{5b}' | ", ")\n}\n")
    assert postprocess("'{')", context) == "'{'"
    assert postprocess("'\\'' | '{')", context) == "'\\'' | '{'"
