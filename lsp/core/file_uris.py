"""``file:`` URIs as paths, for the core, which takes paths and never parses URIs with the protocol's
library (the same rules as pygls's ``to_fs_path``: percent-decoding, UNC hosts, Windows drive letters)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

_DRIVE_LETTER_PATH = re.compile(r"^/[a-zA-Z]:")


def file_uri_to_path(uri: str) -> Path | None:
    """The file system path of a ``file:`` URI; None for any other scheme (``untitled:``)."""
    parts = urlparse(uri)
    if unquote(parts.scheme) != "file":
        return None
    netloc, path = unquote(parts.netloc), unquote(parts.path)
    if netloc and path:  # a UNC path: file://server/share/file
        value = f"//{netloc}{path}"
    elif _DRIVE_LETTER_PATH.match(path):  # file:///C:/dir/file
        value = path[1].lower() + path[2:]
    else:
        value = path
    if os.name == "nt":
        value = value.replace("/", "\\")
    return Path(value)
