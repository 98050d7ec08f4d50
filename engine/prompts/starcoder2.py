"""StarCoder2 FIM with its repository format (as in the StarCoder2 paper)::

<repo_name>{repo}<file_sep>{path}\n{content}<file_sep><fim_prefix>{current path}\n{prefix}<fim_suffix>{suffix}<fim_middle>
"""

from __future__ import annotations

from roost.engine.prompts.fim import FimFormat
from roost.engine.prompts.types import PromptInput

FIM_PREFIX = "<fim_prefix>"
FIM_SUFFIX = "<fim_suffix>"
FIM_MIDDLE = "<fim_middle>"
FILE_SEP = "<file_sep>"
REPO_NAME = "<repo_name>"
END_OF_TEXT = "<|endoftext|>"


class StarCoder2Format(FimFormat):
    family = "starcoder2"

    @property
    def stop_token_strings(self) -> tuple[str, ...]:
        return (END_OF_TEXT, FILE_SEP, FIM_PREFIX, FIM_SUFFIX, FIM_MIDDLE, REPO_NAME)

    def render_text(self, prompt_input: PromptInput) -> str:
        tail = f"{prompt_input.prefix}{FIM_SUFFIX}{prompt_input.suffix}{FIM_MIDDLE}"
        if not prompt_input.snippets and not prompt_input.repo_name:
            return FIM_PREFIX + tail
        parts = [f"{REPO_NAME}{prompt_input.repo_name or 'repository'}"]
        for snippet in prompt_input.snippets:
            body = snippet.text if snippet.text.endswith("\n") else snippet.text + "\n"
            parts.append(f"{FILE_SEP}{snippet.path}\n{body}")
        parts.append(f"{FILE_SEP}{FIM_PREFIX}{prompt_input.path}\n{tail}")
        return "".join(parts)
