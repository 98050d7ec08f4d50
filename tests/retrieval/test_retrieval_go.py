"""Retrieval at ``receiver.▮`` in Go, on the shapes where ``bench/retrieval_bench_go.py`` (cobra, afero,
x/tools; cases labelled by go/types) found the gold missing: a method's named receiver (``func (c *Command)``)
whose type is declared in another file of the package, and a parameter declared with a type of another
package (``func gen(x *cli.Command)``); both need the package's other files, which the in-memory workspace
now gives as the server's index does."""

from __future__ import annotations

from retrieval_fixtures import request_at_marker, retriever_for

from roost.context.parsing import parse_facts
from roost.context.retrieval.cursor import analyse_cursor
from roost.context.retrieval.model import CandidateKind, RetrievalResult
from roost.context.retrieval.standalone import ParsedWorkspace

BUDGET_CHARS = 6000
GO_MOD = "module example.com/cli\n\ngo 1.19\n"


def _command_go() -> str:
    # A struct of many fields, as cobra's: not shown whole but listed with its methods (a small struct is
    # shown whole, and Go's methods lie outside it: not this test's subject).
    fields = "".join(f"\tOption{i} string\n" for i in range(20))
    methods = "".join(f"func (c *Command) Helper{i}() int {{\n\treturn {i}\n}}\n\n" for i in range(30))
    return (
        "package cli\n\ntype Command struct {\n"
        + fields
        + "\tflags []string\n}\n\n"
        + methods
        + "func (c *Command) LocalNonPersistentFlags() []string {\n\treturn c.flags\n}\n"
    )


def _listed(result: RetrievalResult, path: str, text: str) -> bool:
    return any(
        item.kind is CandidateKind.MEMBERS and item.path == path and text in item.text
        for item in result.items
    )


def test_named_method_receiver_lists_its_type_declared_in_another_file(make_project):
    # The file on disk declares its package (the buffer is what is being typed in it).
    root = make_project({"go.mod": GO_MOD, "command.go": _command_go(), "flag_groups.go": "package cli\n"})
    request = request_at_marker(
        "flag_groups.go",
        """
        package cli

        func (c *Command) ValidateFlagGroups() error {
        \tflags := c.<|>
        \treturn nil
        }
        """,
    )
    result = retriever_for(root).retrieve(request, len, BUDGET_CHARS)
    assert _listed(result, "command.go", "func (c *Command) LocalNonPersistentFlags() []string")


def test_parameter_typed_with_another_packages_type_lists_its_members(make_project):
    root = make_project({"go.mod": GO_MOD, "command.go": _command_go(), "doc/docs.go": "package doc\n"})
    request = request_at_marker(
        "doc/docs.go",
        """
        package doc

        import "example.com/cli"

        func genDocs(x *cli.Command) []string {
        \treturn x.<|>
        }
        """,
    )
    result = retriever_for(root).retrieve(request, len, BUDGET_CHARS)
    assert _listed(result, "command.go", "func (c *Command) LocalNonPersistentFlags() []string")


def test_cursor_types_the_receiver_a_method_names():
    text = "package cli\n\nfunc (c *Command) Validate() error {\n\tc.\n\treturn nil\n}\n"
    facts = parse_facts("flag_groups.go", text)
    assert analyse_cursor(facts, text, 3, 3, 200).type_hints["c"] == "Command"


def test_parsed_workspace_gives_the_package_files_of_its_directory(make_project):
    root = make_project(
        {
            "go.mod": GO_MOD,
            "command.go": "package cli\n",
            "args.go": "package cli\n",
            "command_test.go": "package cli\n",
            "doc/docs.go": "package doc\n",
        }
    )
    workspace = ParsedWorkspace(root)
    assert workspace.package_peers("command.go") == ("args.go",)  # a test file joins only for tests
    assert workspace.package_peers("command_test.go") == ("args.go", "command.go")
    assert workspace.package_peers("doc/docs.go") == ()


def test_small_struct_lists_its_methods_declared_outside_it(make_project):
    # x/tools' ``typeutil.Map``: a struct of a few fields is short enough to be shown whole, but its methods
    # (``func (m *Map) At``) lie outside it, so ``m.▮`` must list them instead.
    root = make_project(
        {
            "go.mod": GO_MOD,
            "typeutil/map.go": "package typeutil\n\ntype Map struct {\n\ttable map[uint32][]int\n\tlength int\n}\n\n"
            + "func (m *Map) At(key string) interface{} {\n\treturn nil\n}\n\n"
            + "func (m *Map) Len() int {\n\treturn m.length\n}\n",
            "rta/rta.go": "package rta\n",
        }
    )
    request = request_at_marker(
        "rta/rta.go",
        """
        package rta

        import "example.com/cli/typeutil"

        func visit(sites *typeutil.Map) interface{} {
        \treturn sites.<|>
        }
        """,
    )
    result = retriever_for(root).retrieve(request, len, BUDGET_CHARS)
    assert _listed(result, "typeutil/map.go", "func (m *Map) At(key string) interface{}")


def test_defined_map_type_lists_its_methods(make_project):
    # logrus' ``type LevelHooks map[Level][]Hook`` with ``func (hooks LevelHooks) Add``: a defined type that
    # is not a struct has methods too (a ``type X = Y`` alias stays a plain type).
    root = make_project(
        {
            "go.mod": GO_MOD,
            "hooks.go": "package cli\n\ntype LevelHooks map[uint32][]string\n\n"
            + "func (hooks LevelHooks) Add(hook string) {\n\thooks[0] = append(hooks[0], hook)\n}\n",
            "logger.go": "package cli\n",
        }
    )
    request = request_at_marker(
        "logger.go",
        """
        package cli

        func register(hooks LevelHooks) {
        \thooks.<|>
        }
        """,
    )
    result = retriever_for(root).retrieve(request, len, BUDGET_CHARS)
    assert _listed(result, "hooks.go", "func (hooks LevelHooks) Add(hook string)")


def test_big_type_lists_the_member_the_project_keeps_using(make_project):
    # cobra's ``*Command``: ~150 members over 8 files, and ``cmd.▮Name`` in a file that never wrote ``Name``
    # yet: nothing on the line tells ``Name`` from the others, but the rest of the project calls it everywhere,
    # while each of the others is written once. Declared last, it fell past the listing's cut.
    methods = "".join(
        f"func (c *Command) Helper{i}(option string, count int) (string, error) {{\n\treturn option, nil\n}}\n\n"
        for i in range(120)
    )
    command = "package cli\n\ntype Command struct {\n\tname string\n}\n\n" + methods
    command += "func (c *Command) Name() string {\n\treturn c.name\n}\n"
    users = {
        f"use{i}.go": f"package cli\n\nfunc use{i}(c *Command) string {{\n\treturn c.Name()\n}}\n"
        for i in range(8)
    }
    root = make_project({"go.mod": GO_MOD, "command.go": command, "docs.go": "package cli\n", **users})
    request = request_at_marker(
        "docs.go",
        """
        package cli

        func genDocs(cmd *Command) string {
        \ttitle := cmd.<|>
        \treturn title
        }
        """,
    )
    retriever = retriever_for(root)
    retriever.warm()  # the lexical index that counts the project's uses (the server builds it after indexing)
    result = retriever.retrieve(request, len, BUDGET_CHARS)
    assert _listed(result, "command.go", "func (c *Command) Name() string")
