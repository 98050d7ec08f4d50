"""An input embedding table read from its checkpoint file, row by row, instead of held in memory.

A model's input embeddings are a row lookup: a prompt of 1,000 tokens reads 1,000 of Qwen2.5's 151,936
rows, and a decode step one. Holding the whole table costs 260 MiB of the bundled model's ~1.2 GiB
resident (bfloat16, 151,936 x 896); reading the rows a forward needs from the file costs one ``pread`` of
1,792 bytes per distinct token (microseconds against a decode step's tens of milliseconds), served from
the kernel's page cache, which is not the process's memory and which the kernel can reclaim.

Why not keep the table as a view of the memory-mapped checkpoint: the kernel maps a file's page cache in
large folios (2 MiB on this machine's ext4), so touching one row made 2 MiB resident, and 100 random
tokens 150 MiB (``madvise`` random/no-huge-page advice did not change it); ``pread`` maps nothing.

The rows are the file's own bytes, so the looked-up vectors are the in-memory table's bit for bit.
"""

from __future__ import annotations

import os
import weakref

import torch

from roost.engine.native_memory import mapped_file_location


class FileRowsEmbedding(torch.nn.Module):
    """``embedding(ids)`` of a ``[rows, dim]`` table stored contiguously in a file at ``offset``; returns
    float32 (the in-memory table's rows were cast to float32 the same way)."""

    def __init__(self, path: str, offset: int, num_embeddings: int, embedding_dim: int, dtype: torch.dtype):
        super().__init__()
        self.path, self.offset = path, offset
        self.num_embeddings, self.embedding_dim, self.dtype = num_embeddings, embedding_dim, dtype
        self.row_bytes = embedding_dim * dtype.itemsize
        # Kept open: a checkpoint republished under the same name (an atomic replace) leaves this
        # descriptor on the file the model was loaded from.
        self._fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        weakref.finalize(self, os.close, self._fd)

    @classmethod
    def of_mapped(cls, weight: torch.Tensor) -> FileRowsEmbedding | None:
        """The table ``weight`` is a view of, read from its file instead; None unless ``weight`` is a
        contiguous 2-D view of one memory-mapped file (a lazy safetensors load)."""
        if weight.dim() != 2 or not weight.is_contiguous() or weight.device.type != "cpu":
            return None
        location = mapped_file_location(weight.data_ptr(), weight.numel() * weight.element_size())
        if location is None:
            return None
        path, offset = location
        embedding = cls(path, offset, weight.shape[0], weight.shape[1], weight.dtype)
        # The file must hold what the mapping shows (it was not rewritten in place since it was mapped).
        probe = torch.tensor([0, weight.shape[0] - 1])
        if not torch.equal(embedding(probe), weight[probe].float()):
            return None
        return embedding

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        ids = input_ids.reshape(-1).cpu()
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= self.num_embeddings):
            raise IndexError(f"token id out of the embedding table's {self.num_embeddings} rows")
        distinct, positions = torch.unique(ids, return_inverse=True)
        rows = self._read_rows(distinct.tolist())
        return rows[positions].reshape(*input_ids.shape, self.embedding_dim).to(input_ids.device)

    def _read_rows(self, ids: list[int]) -> torch.Tensor:
        buffer = bytearray(len(ids) * self.row_bytes)
        view = memoryview(buffer)
        for index, token in enumerate(ids):
            target = view[index * self.row_bytes : (index + 1) * self.row_bytes]
            if os.preadv(self._fd, [target], self.offset + token * self.row_bytes) != self.row_bytes:
                raise OSError(f"{self.path}: the embedding table ends before row {token}")
        if not ids:
            return torch.empty((0, self.embedding_dim), dtype=torch.float32)
        table = torch.frombuffer(buffer, dtype=self.dtype).view(len(ids), self.embedding_dim)
        return table.float()

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}, {self.dtype}, rows read from {self.path}"
