"""Context files as commented, path-headed blocks, for models without a native multi-file format.

The block is written in the *current* file's comment syntax because it is pasted above that file's
prefix: the model reads it as a comment, not as code of the file being completed.
"""

from __future__ import annotations

from dataclasses import dataclass

from roost.engine.prompts.types import ContextSnippet


@dataclass(frozen=True)
class CommentSyntax:
    line: str | None = None
    block: tuple[str, str] | None = None


_HASH = CommentSyntax(line="#")
_SLASH = CommentSyntax(line="//", block=("/*", "*/"))
_DASH = CommentSyntax(line="--")

# Editor language ids (LSP) → comment syntax. Unknown languages fall back to ``#``
COMMENT_SYNTAX: dict[str, CommentSyntax] = {
    **dict.fromkeys(
        (
            "python",
            "ruby",
            "shellscript",
            "bash",
            "sh",
            "perl",
            "r",
            "yaml",
            "toml",
            "dockerfile",
            "makefile",
            "cmake",
            "powershell",
            "elixir",
            "julia",
            "nim",
            "coffeescript",
            "properties",
        ),
        _HASH,
    ),
    **dict.fromkeys(
        (
            "javascript",
            "javascriptreact",
            "typescript",
            "typescriptreact",
            "go",
            "rust",
            "java",
            "c",
            "cpp",
            "csharp",
            "kotlin",
            "swift",
            "scala",
            "php",
            "dart",
            "objective-c",
            "objective-cpp",
            "groovy",
            "zig",
            "solidity",
            "proto",
            "jsonc",
            "vue",
            "svelte",
        ),
        _SLASH,
    ),
    **dict.fromkeys(("lua", "sql", "haskell", "ada", "elm", "purescript"), _DASH),
    **dict.fromkeys(("clojure", "lisp", "scheme", "racket", "commonlisp", "elisp"), CommentSyntax(line=";;")),
    "erlang": CommentSyntax(line="%"),
    "latex": CommentSyntax(line="%"),
    "tex": CommentSyntax(line="%"),
    "matlab": CommentSyntax(line="%"),
    "vim": CommentSyntax(line='"'),
    "fortran": CommentSyntax(line="!"),
    "ocaml": CommentSyntax(block=("(*", "*)")),
    "fsharp": CommentSyntax(line="//"),
    "css": CommentSyntax(block=("/*", "*/")),
    "scss": _SLASH,
    "less": _SLASH,
    "html": CommentSyntax(block=("<!--", "-->")),
    "xml": CommentSyntax(block=("<!--", "-->")),
    "markdown": CommentSyntax(block=("<!--", "-->")),
}


def comment_syntax(language: str) -> CommentSyntax:
    """Comment syntax for an editor language id; ``#`` for languages we do not know (the most common
    line comment among scripting languages, and harmless text for the model otherwise)."""
    return COMMENT_SYNTAX.get(language.lower(), _HASH)


def comment_out(text: str, syntax: CommentSyntax) -> str:
    """``text`` as a comment. Line comments prefix every line; block-only languages wrap the text (with
    the closing marker defused inside so the block cannot end early)."""
    if syntax.line is not None:
        marker = syntax.line
        return "\n".join(f"{marker} {line}" if line else marker for line in text.split("\n"))
    assert syntax.block is not None
    opener, closer = syntax.block
    safe = text.replace(closer, closer[0] + " " + closer[1:])
    return f"{opener}\n{safe}\n{closer}"


def commented_snippet_block(snippet: ContextSnippet, language: str) -> str:
    """One context snippet as a path-headed comment block, ending in a newline. The header follows the
    convention code models have seen in training data (Copilot's "Path:" header)."""
    body = snippet.text.rstrip("\n")
    return comment_out(f"Path: {snippet.path}\n{body}", comment_syntax(language)) + "\n"


def commented_context(snippets: tuple[ContextSnippet, ...], language: str) -> str:
    """All snippets as comment blocks, separated by a blank line, ending with one (or empty)."""
    if not snippets:
        return ""
    return "\n".join(commented_snippet_block(s, language) for s in snippets) + "\n"
