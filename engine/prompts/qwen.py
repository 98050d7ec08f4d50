"""Qwen2.5-Coder FIM, with its repository format for context files.

Single file: ``<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>``, also when a repository name is
known (the header alone costs quality, see ``render_text``). With context, or in a blank file (the path is
then all that says which language to write), the repository-level format
Qwen2.5-Coder was trained on::

    <|repo_name|>{repo}
    <|file_sep|>{path}
    {content}
    <|file_sep|>{current path}
    <|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>

Suffix first (``suffix_first``, for a backend that heals forced starts: the in-process engine), the
last line is ``<|fim_prefix|><|fim_suffix|>{suffix}<|fim_middle|>{prefix}`` (SPM) with the cursor's
partial word left out of the prompt and forced (:func:`~roost.engine.prompts.fim.heal_split`; the engine
moves the cut back to a token boundary of the line, :func:`~roost.engine.token_healing.healing_backup`). Measured
with the bundled 0.5B Instruct (docs/benchmarks.md): it completes better suffix first, and the prompt then
changes only at its end while a line is typed, so the suffix's KV is reused instead of recomputed on
every keystroke. Without healing, SPM loses the mid-line cursors (the prompt would end inside a token):
model servers get PSM.
"""

from __future__ import annotations

from roost.engine.prompts.fim import FimFormat, heal_split
from roost.engine.prompts.types import PromptInput
from roost.engine.types import QWEN_STOP_TOKEN_STRINGS

FIM_PREFIX = "<|fim_prefix|>"
FIM_SUFFIX = "<|fim_suffix|>"
FIM_MIDDLE = "<|fim_middle|>"
FILE_SEP = "<|file_sep|>"
REPO_NAME = "<|repo_name|>"


class QwenCoderFormat(FimFormat):
    family = "qwen2.5-coder"

    def __init__(self, *, suffix_first: bool = False) -> None:
        self.suffix_first = suffix_first

    @property
    def stop_token_strings(self) -> tuple[str, ...]:
        # The instruct model does not stop after the middle by itself; a new file or FIM marker also
        # means the middle is over.
        return QWEN_STOP_TOKEN_STRINGS + (FIM_PREFIX, FIM_SUFFIX, FIM_MIDDLE, REPO_NAME)

    def forced_start(self, prompt_input: PromptInput) -> str:
        return heal_split(prompt_input.prefix)[1] if self.suffix_first else ""

    def render_text(self, prompt_input: PromptInput) -> str:
        if self.suffix_first:
            head = heal_split(prompt_input.prefix)[0]
            fim = f"{FIM_PREFIX}{FIM_SUFFIX}{prompt_input.suffix}{FIM_MIDDLE}{head}"
        else:
            fim = f"{FIM_PREFIX}{prompt_input.prefix}{FIM_SUFFIX}{prompt_input.suffix}{FIM_MIDDLE}"
        if not prompt_input.snippets and not prompt_input.blank_file:
            # The repository header only when it carries other files. Measured with the bundled
            # 0.5B Instruct (bench/quality_bench.py): with the header and no context, the model tends to
            # ignore the suffix (it writes the function's ``return`` instead of the missing line). In a
            # blank file the header's path is the only sign of the language: without it the 0.5B
            # started every empty .py, .go, .rs, .ts and .java file with ``import React from 'react';``.
            return fim
        parts = [f"{REPO_NAME}{prompt_input.repo_name or 'repository'}\n"]
        for snippet in prompt_input.snippets:
            body = snippet.text if snippet.text.endswith("\n") else snippet.text + "\n"
            parts.append(f"{FILE_SEP}{snippet.path}\n{body}")
        parts.append(f"{FILE_SEP}{prompt_input.path}\n{fim}")
        return "".join(parts)
