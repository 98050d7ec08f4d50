"""DeepSeek-Coder FIM: ``<｜fim▁begin｜>{prefix}<｜fim▁hole｜>{suffix}<｜fim▁end｜>``.

DeepSeek-Coder has no multi-file tokens (its repository-level training data joins files under a path
comment), so context files are commented, path-headed blocks above the prefix. Note the markers use
full-width bars (U+FF5C) and U+2581, not ASCII.
"""

from __future__ import annotations

from roost.engine.prompts.comments import commented_context
from roost.engine.prompts.fim import FimFormat
from roost.engine.prompts.types import PromptInput

FIM_BEGIN = "<\uff5cfim\u2581begin\uff5c>"
FIM_HOLE = "<\uff5cfim\u2581hole\uff5c>"
FIM_END = "<\uff5cfim\u2581end\uff5c>"
END_OF_SENTENCE = "<\uff5cend\u2581of\u2581sentence\uff5c>"
EOT = "<|EOT|>"


class DeepSeekCoderFormat(FimFormat):
    family = "deepseek-coder"

    @property
    def stop_token_strings(self) -> tuple[str, ...]:
        return (END_OF_SENTENCE, EOT, FIM_BEGIN, FIM_HOLE, FIM_END)

    def render_text(self, prompt_input: PromptInput) -> str:
        context = commented_context(prompt_input.snippets, prompt_input.language)
        return f"{FIM_BEGIN}{context}{prompt_input.prefix}{FIM_HOLE}{prompt_input.suffix}{FIM_END}"
