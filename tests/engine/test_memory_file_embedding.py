"""The input embedding table of a memory-mapped bfloat16 checkpoint is read from its file row by row
(``FileRowsEmbedding``) instead of held in memory: 260 MiB of the bundled model's resident memory. The rows
it returns are the in-memory table's, bit for bit, so the model's logits (and greedy answers) are too."""

from __future__ import annotations

import json
import mmap
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F  # noqa: N812 - the conventional name

from roost.engine.backends.file_embedding import FileRowsEmbedding
from roost.engine.backends.transformers_backend import TransformersBackend
from roost.engine.kv_batch import input_device
from roost.engine.native_memory import mapped_file_location

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/maps is Linux's")

MIB = 1 << 20
HEADER_BYTES = 4096 + 6  # the table starts mid-page, as a tensor inside a safetensors file does


def mapped_table(tmp_path: Path, table: torch.Tensor) -> tuple[torch.Tensor, mmap.mmap]:
    """``table`` written into a file after a header, and a view of it through a private mapping (as a
    lazy safetensors load gives it)."""
    path = tmp_path / "checkpoint.bin"
    path.write_bytes(b"h" * HEADER_BYTES + table.view(torch.uint8).numpy().tobytes())
    with path.open("rb") as file:
        mapping = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_COPY)
    flat = torch.frombuffer(mapping, dtype=torch.uint8)[HEADER_BYTES:]
    return flat.view(table.dtype).view(table.shape), mapping


def test_a_mapped_tensor_is_located_in_its_file(tmp_path: Path) -> None:
    table = torch.randn(300, 40).to(torch.bfloat16)
    view, mapping = mapped_table(tmp_path, table)
    assert mapped_file_location(view.data_ptr(), view.numel() * 2) == (
        str(tmp_path / "checkpoint.bin"),
        HEADER_BYTES,
    )
    assert mapped_file_location(table.data_ptr(), table.numel() * 2) is None  # heap memory is no file's
    del view
    mapping.close()


def test_rows_read_from_the_file_are_the_tables_bit_for_bit(tmp_path: Path) -> None:
    torch.manual_seed(0)
    table = (torch.randn(1000, 96) * torch.logspace(-4, 3, 1000)[:, None]).to(torch.bfloat16)
    view, mapping = mapped_table(tmp_path, table)
    rows = FileRowsEmbedding.of_mapped(view)
    assert rows is not None
    for ids in (
        torch.tensor([[0, 999, 5, 5, 17, 0]]),  # both ends, repeated ids
        torch.randint(0, 1000, (3, 257)),  # a batch
        torch.tensor([[42]]),  # a decode step
        torch.empty((1, 0), dtype=torch.long),
    ):
        got = rows(ids)
        assert got.dtype == torch.float32 and got.shape == (*ids.shape, 96)
        assert torch.equal(got, F.embedding(ids, table).float())
    with pytest.raises(IndexError):
        rows(torch.tensor([[1000]]))
    del view
    mapping.close()


def test_a_table_in_memory_is_not_read_from_a_file() -> None:
    assert FileRowsEmbedding.of_mapped(torch.zeros(10, 4, dtype=torch.bfloat16)) is None


# ----------------------------------------------------------------------------- the real default model


def checkpoint_table(path: str) -> torch.Tensor:
    """The bundled checkpoint's embedding table read whole from its safetensors file (the reference)."""
    with open(path, "rb") as file:
        header_length = int.from_bytes(file.read(8), "little")
        header = json.loads(file.read(header_length))
        name = next(key for key in header if key.endswith("embed_tokens.weight"))
        begin, end = header[name]["data_offsets"]
        file.seek(8 + header_length + begin)
        data = bytearray(file.read(end - begin))
    return torch.frombuffer(data, dtype=torch.bfloat16).view(*header[name]["shape"])


@pytest.mark.model
def test_the_default_model_holds_no_embedding_table_and_answers_the_same(
    int8_backend: TransformersBackend,
) -> None:
    """The product's CPU load (int8) reads the table from the checkpoint: the model's tensors drop from
    734 MiB (the table in bfloat16 was 260 MiB of them; the 4-bit decode copies of the 12 on-grid layers
    add 31 MiB back, 505 MiB in all) and the logits equal those of the table in memory."""
    model = int8_backend.loaded.model
    rows = model.get_input_embeddings()
    assert isinstance(rows, FileRowsEmbedding)
    assert input_device(model) == torch.device("cpu")
    tensors = {id(t): t for t in [*model.parameters(), *model.buffers()]}.values()
    assert sum(t.numel() * t.element_size() for t in tensors) < 600 * MIB  # the table alone is 260
    table = checkpoint_table(rows.path)
    ids = torch.tensor([[151659, 750, 912, 2877, 151660, 198, 151661, 0, table.shape[0] - 1]])
    in_memory = torch.nn.Embedding.from_pretrained(table)
    with torch.inference_mode():
        from_file = model(ids).logits
        model.set_input_embeddings(in_memory)
        in_memory.register_forward_hook(lambda _module, _inputs, output: output.float())
        try:
            reference = model(ids).logits
        finally:
            model.set_input_embeddings(rows)
    assert torch.equal(from_file, reference)
