"""Fixtures for the LSP feature tests: a small Python workspace and the fake model server."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_openai import FakeOpenAI  # noqa: E402

SHAPES = '''"""Geometry helpers."""


class Circle:
    def __init__(self, radius: float) -> None:
        self.radius = radius


def circle_area(circle: Circle) -> float:
    """Area of a circle."""
    return 3.14159 * circle.radius**2
'''

MAIN = """from shop.shapes import Circle, circle_area


def total_area(circles: list[Circle]) -> float:
    return sum(circle_area(c) for c in circles)
"""

REPORT = """import shop.shapes
from shop.shapes import circle_area


def describe(radius: float) -> str:
    return f"area {circle_area(shop.shapes.Circle(radius))}"
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "shop").mkdir(parents=True)
    (root / "shop" / "__init__.py").write_text("")
    (root / "shop" / "shapes.py").write_text(SHAPES)
    (root / "shop" / "geometry.py").write_text('"""Where geometry lives."""\n')
    (root / "shop" / "main.py").write_text(MAIN)
    (root / "shop" / "report.py").write_text(REPORT)
    return root


@pytest.fixture
def fake_model() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake
