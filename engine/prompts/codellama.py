"""CodeLlama infilling: ``<PRE> {prefix} <SUF>{suffix} <MID>`` (the spaces are part of the format the
model was trained on). No multi-file format: context files are commented blocks above the prefix."""

from __future__ import annotations

from roost.engine.prompts.comments import commented_context
from roost.engine.prompts.fim import FimFormat
from roost.engine.prompts.types import PromptInput

PRE = "<PRE>"
SUF = "<SUF>"
MID = "<MID>"
EOT = "<EOT>"


class CodeLlamaFormat(FimFormat):
    family = "codellama"

    @property
    def stop_token_strings(self) -> tuple[str, ...]:
        return (EOT, "</s>", PRE, SUF, MID)

    def render_text(self, prompt_input: PromptInput) -> str:
        context = commented_context(prompt_input.snippets, prompt_input.language)
        return f"{PRE} {context}{prompt_input.prefix} {SUF}{prompt_input.suffix} {MID}"
