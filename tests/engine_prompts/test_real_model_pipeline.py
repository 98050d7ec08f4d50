"""The real offline model (Qwen2.5-Coder-0.5B-Instruct) through prompt format → packer → in-process
backend → answer parser → post-processing. Greedy and short: a few seconds of CPU per case."""

from __future__ import annotations

import pytest

from roost.engine.postprocess import CompletionContext, postprocess
from roost.engine.prompts import ContextSnippet, PackOptions, PromptInput, make_format, pack
from roost.engine.types import EngineError, collect_text

pytestmark = [pytest.mark.model, pytest.mark.slow]

GEOMETRY = ContextSnippet(
    "shapes/geometry.py",
    "import math\n\n\ndef circle_area(radius: float) -> float:\n    return math.pi * radius ** 2\n",
    score=1.0,
    kind="definition",
)


@pytest.fixture(scope="module")
def backend():  # type: ignore[no-untyped-def]
    from roost.engine.backends.transformers_backend import TransformersBackend

    try:
        loaded = TransformersBackend.load()
    except (EngineError, ImportError) as error:  # the demo extra is not installed
        pytest.skip(f"default model unavailable: {error}")
    yield loaded


@pytest.fixture(scope="module")
def counter():  # type: ignore[no-untyped-def]
    from roost.engine.prompts.tokens import default_token_counter

    return default_token_counter()


async def complete(backend, counter, prompt_input: PromptInput) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    fmt = make_format("qwen2.5-coder")
    packed = pack(prompt_input, fmt, counter, PackOptions(budget_tokens=512))
    raw, final = await collect_text(backend, packed.prompt.to_request(max_new_tokens=24))
    assert final.finish_reason in ("stop", "length")
    answer = fmt.parse_answer(raw, packed.prompt)
    return raw, postprocess(answer, CompletionContext(prompt_input.prefix, prompt_input.suffix, "python"))


async def test_context_definition_is_used_and_suffix_bracket_not_repeated(backend, counter) -> None:  # type: ignore[no-untyped-def]
    prompt_input = PromptInput(
        "shapes/report.py",
        "python",
        "from shapes.geometry import circle_area\n\n\ndef total_area(radii):\n    return sum(",
        ")\n",
        (GEOMETRY,),
        "shapes",
    )
    raw, suggestion = await complete(backend, counter, prompt_input)
    assert "<|" not in raw  # stop tokens never reach the text
    assert "circle_area(" in suggestion, raw
    # `sum(` is closed by the suffix: the suggestion's own brackets balance, nothing more.
    assert suggestion.count("(") == suggestion.count(")"), suggestion
    assert "\n" not in suggestion.strip(), "the rambling after the expression is cut"


async def test_suggestion_stays_in_the_function(backend, counter) -> None:  # type: ignore[no-untyped-def]
    prompt_input = PromptInput(
        "calc.py",
        "python",
        "def scale(values, factor):\n    result = []\n    for value in values:\n        ",
        "\n    return result\n\n\ndef main():\n    print(scale([1, 2], 3))\n",
    )
    raw, suggestion = await complete(backend, counter, prompt_input)
    lines = suggestion.split("\n")
    assert suggestion.strip(), raw
    # Inside the loop body: no line leaves the `for` block, and the suffix's return is not repeated.
    assert all(not line.strip() or line.startswith("        ") for line in lines[1:]), suggestion
    assert "return result" not in suggestion
