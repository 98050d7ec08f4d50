"""Maps the card's top-level folders onto the ``roost`` namespace.

``lsp/``, ``context/`` and ``engine/`` are installed as ``roost.lsp``, ``roost.context`` and
``roost.engine``; bare ``lsp``/``context``/``engine`` are names taken on PyPI, so they are never
importable on their own. Every subpackage is found automatically, so adding one needs no edit here.
"""

from setuptools import find_namespace_packages, setup

TOP_LEVEL = ("lsp", "context", "engine")

packages = [
    f"roost.{name}"
    for name in find_namespace_packages(include=[f"{top}*" for top in TOP_LEVEL])
    if "__pycache__" not in name and not name.split(".")[-1].startswith(".")
]

setup(
    packages=packages,
    package_dir={f"roost.{top}": top for top in TOP_LEVEL},
)
