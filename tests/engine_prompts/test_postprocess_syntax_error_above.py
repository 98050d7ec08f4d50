"""A parenthesis left open above the cursor (a syntax error the user has not fixed yet) does not make the
brackets after the cursor look unclosed. Found dogfooding a Java file: in ``void close(String owner {▮`` +
``\\n    }`` the 0.5B's method body ended with the method's ``}``, and it was kept: the class's ``}`` after the
cursor did not match the open ``(``, so the ``}`` already there looked like the only one, and the accepted
method had two."""

from __future__ import annotations

from roost.engine.postprocess import CompletionContext, postprocess

BODY = (
    "for (Account a : accounts) {\n            if (a.getOwner().equals(owner)) {\n"
    "                accounts.remove(a);\n                break;\n            }\n        }"
)
SUFFIX = (
    "\n    }\n\n    public long totalCents() {\n        long total = 0;\n"
    "        for (Account a : accounts) {\n            total += a.getBalanceCents();\n        }\n"
    "        return total;\n    }\n}\n"
)


def java(header: str) -> CompletionContext:
    prefix = f"package com.acme;\n\npublic class Bank {{\n    {header} {{\n        "
    return CompletionContext(prefix=prefix, suffix=SUFFIX, language="java")


def test_the_closing_brace_after_the_cursor_is_not_written_again_below_an_unclosed_parenthesis() -> None:
    assert postprocess(BODY + "\n    }", java("public void close(String owner")) == BODY


def test_the_same_body_in_well_formed_code_is_cut_the_same() -> None:
    assert postprocess(BODY + "\n    }", java("public void close(String owner)")) == BODY


def test_a_brace_needed_below_an_unclosed_parenthesis_is_kept() -> None:
    # Nothing after the cursor closes the method: the suggestion's } is the only one.
    context = CompletionContext(
        prefix="class Bank {\n    void close(String owner {\n        ", suffix="\n", language="java"
    )
    assert postprocess("accounts.clear();\n    }", context) == "accounts.clear();\n    }"
