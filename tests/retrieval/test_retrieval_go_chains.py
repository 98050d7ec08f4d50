"""Retrieval at ``receiver.▮`` in Go where no name types the receiver, the shapes behind 16 of cobra's 28 misses
in ``bench/retrieval_bench_go.py``: a member of a method's result (``cmd.Root().▮``), a ``range`` variable
(``for _, c := range cmd.Commands()``), and an index expression (``s[i].▮``); each typed from what the
index's declarations write (a method's result ``*Command``, a field's or defined type's ``[]*Command``)."""

from __future__ import annotations

import pytest
from retrieval_fixtures import request_at_marker, retriever_for

from roost.context.facts import Definition, Span, SymbolKind
from roost.context.languages import language_for_path
from roost.context.parsing import parse_facts
from roost.context.retrieval.cursor import analyse_cursor
from roost.context.retrieval.model import CandidateKind, RetrievalResult

BUDGET_CHARS = 6000
GO_MOD = "module example.com/cli\n\ngo 1.19\n"
WANTED = "func (c *Command) LocalNonPersistentFlags() []string"


def _command_go() -> str:
    # As cobra's ``*Command``: too big to be shown whole, so only its member listing can hold ``WANTED``.
    fields = "".join(f"\tOption{i} string\n" for i in range(20))
    helpers = "".join(f"func (c *Command) Helper{i}() int {{\n\treturn {i}\n}}\n\n" for i in range(30))
    return (
        "package cli\n\ntype Command struct {\n"
        + fields
        + "\tflags []string\n\tcommands []*Command\n\tbyName map[string]*Command\n\tparent *Command\n}\n\n"
        + helpers
        + "func (c *Command) Root() *Command {\n\treturn c\n}\n\n"
        + "func (c *Command) Commands() []*Command {\n\treturn c.commands\n}\n\n"
        + "func (c *Command) Find(args []string) (*Command, []string, error) {\n\treturn c, args, nil\n}\n\n"
        + f"{WANTED} {{\n\treturn c.flags\n}}\n"
    )


def _listed(result: RetrievalResult) -> bool:
    return any(
        item.kind is CandidateKind.MEMBERS and item.path == "command.go" and WANTED in item.text
        for item in result.items
    )


def _retrieve(make_project, buffer: str) -> RetrievalResult:
    extra = {"doc/util.go": 'package doc\n\nimport "example.com/cli"\n\ntype byName []*cli.Command\n'}
    root = make_project(
        {"go.mod": GO_MOD, "command.go": _command_go(), "doc/docs.go": "package doc\n", **extra}
    )
    return retriever_for(root).retrieve(request_at_marker("doc/docs.go", buffer), len, BUDGET_CHARS)


DOC_HEADER = 'package doc\n\nimport "example.com/cli"\n\n'


@pytest.mark.parametrize(
    "body",
    [
        # cobra's ``cmd.Root().Name()``: the method's declared result.
        "func gen(cmd *cli.Command) {\n\tcmd.Root().<|>\n}\n",
        # ``finalCmd, args, err := c.Root().Find(args)``: the first of several results, through a chain.
        "func gen(cmd *cli.Command) {\n\tfound, _, err := cmd.Root().Find(nil)\n\t_ = err\n\tfound.<|>\n}\n",
        # ``parent := cmd.Parent()`` where ``cmd`` is a parameter: the assignment's callee, typed through it.
        "func gen(cmd *cli.Command) {\n\troot := cmd.Root()\n\troot.<|>\n}\n",
    ],
    ids=["call-chain", "first-of-results", "assigned-from-call"],
)
def test_a_methods_result_types_the_receiver(make_project, body):
    assert _listed(_retrieve(make_project, DOC_HEADER + body))


@pytest.mark.parametrize(
    "body",
    [
        # cobra's doc generators: ``for _, child := range cmd.Commands()``.
        "func gen(cmd *cli.Command) {\n\tfor _, child := range cmd.Commands() {\n\t\tchild.<|>\n\t}\n}\n",
        # ``children := cmd.Commands()`` first, then ranged over.
        "func gen(cmd *cli.Command) {\n\tchildren := cmd.Commands()\n\tfor _, child := range children {\n"
        "\t\tchild.<|>\n\t}\n}\n",
        # a parameter of a slice type.
        "func gen(cmds []*cli.Command) {\n\tfor _, c := range cmds {\n\t\tc.<|>\n\t}\n}\n",
    ],
    ids=["range-call", "range-local", "range-parameter"],
)
def test_a_range_value_is_an_element_of_what_it_ranges_over(make_project, body):
    assert _listed(_retrieve(make_project, DOC_HEADER + body))


@pytest.mark.parametrize(
    "body",
    [
        # cobra's ``func (s byName) Less(i, j int) bool { return s[i].Name() < s[j].Name() }``, split over lines.
        "func less(s byName, i int) string {\n\treturn s[i].<|>\n}\n",
        # a map parameter: its value type.
        'func gen(m map[string]*cli.Command) {\n\tm["root"].<|>\n}\n',
        # a field declared ``[]*Command``.
        "func gen(cmd *cli.Command) {\n\tcmd.commands[0].<|>\n}\n",
        # ``x := s[i]``.
        "func gen(cmds []*cli.Command) {\n\tfirst := cmds[0]\n\tfirst.<|>\n}\n",
    ],
    ids=["named-slice", "map", "field", "assigned-element"],
)
def test_an_index_expression_is_an_element_of_its_operand(make_project, body):
    assert _listed(_retrieve(make_project, DOC_HEADER + body))


def test_cursor_keeps_an_index_as_an_element_of_its_operand():
    text = 'package doc\n\nfunc f(s byName, m Map) {\n\ts[i+1].\n\tm["k"].x.\n}\n'
    facts = parse_facts("docs.go", text)
    assert analyse_cursor(facts, text, 3, 8, 200).receiver == "s[]"
    assert analyse_cursor(facts, text, 4, 10, 200).receiver == "m[].x"


def _definition(kind: SymbolKind, name: str, signature: str) -> Definition:
    return Definition(
        name=name,
        qualified_name=name,
        kind=kind,
        span=Span(0, 0, 0, 0),
        name_span=Span(0, 0, 0, 0),
        signature=signature,
    )


@pytest.mark.parametrize(
    ("kind", "signature", "written"),
    [
        (SymbolKind.METHOD, "func (c *Command) Find(args []string) (*Command, []string, error)", "Command"),
        (SymbolKind.METHOD, "func (c *Command) Commands() []*Command", "[]*Command"),
        (SymbolKind.FUNCTION, "func Named() (c *pkg.Command)", "pkg.Command"),
        (SymbolKind.FIELD, "byName map[string]*Command", "map[string]*Command"),
        (SymbolKind.CLASS, "type byName []*cobra.Command", "[]*cobra.Command"),
        (SymbolKind.METHOD, "func (c *Command) Run()", None),
    ],
)
def test_go_writes_the_type_a_declaration_gives(kind, signature, written):
    go = language_for_path("x.go")
    assert go.written_type(_definition(kind, "x", signature)) == written


@pytest.mark.parametrize(
    ("written", "element"),
    [
        ("[]*Command", "Command"),
        ("map[string]*pkg.Flag", "pkg.Flag"),
        ("[4][]T", "[]T"),
        ("chan T", "T"),
        ("T", None),
    ],
)
def test_go_element_type(written, element):
    assert language_for_path("x.go").element_type(written) == element
