"""Retrieval: for a document and a cursor, the code from the rest of the project the model must see,
ranked (each candidate with a score and a reason) and packed under a token budget.

Rendering into a model's prompt format is the engine's; this package hands back redacted snippets.
"""

from roost.context.parsing import parse_facts  # re-exported: the facts of a buffer, as retrieval takes them
from roost.context.retrieval.activity import WorkspaceActivity
from roost.context.retrieval.model import Candidate, CandidateKind, ContextItem, RetrievalResult
from roost.context.retrieval.options import RetrievalOptions
from roost.context.retrieval.retriever import RetrievalRequest, Retriever
from roost.context.retrieval.workspace import CodeWorkspace

__all__ = [
    "Candidate",
    "CandidateKind",
    "CodeWorkspace",
    "ContextItem",
    "RetrievalOptions",
    "RetrievalRequest",
    "RetrievalResult",
    "Retriever",
    "WorkspaceActivity",
    "parse_facts",
]
