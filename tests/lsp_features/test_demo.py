"""``roost demo`` end to end against the scripted model server: every step runs and prints what it shows."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from fake_openai import FakeOpenAI
from lsp_harness import REPO_ROOT, server_env

FIXED = (
    "```python\ndef format_money(amount: Money) -> str:\n"
    '    """``12.50 EUR``."""\n    if amount.cents < 0:\n        raise ValueError("negative amount")\n'
    '    return f"{amount.cents // 100}.{amount.cents % 100:02d} {amount.currency}"\n```'
)
CLEARER = FIXED.replace('"negative amount"', 'f"cannot format a negative amount: {amount.cents} cents"')


def test_demo_walks_through_every_step(tmp_path: Path) -> None:
    root = tmp_path / "examples"
    shutil.copytree(
        REPO_ROOT / "examples", root, ignore=shutil.ignore_patterns("__pycache__", "node_modules")
    )
    rules = [
        ("def total_cents", "cents"),
        ("shell=", "True)"),
        ("Make the error message say", CLEARER),
        ("raises ValueError when the amount is negative", FIXED),
    ]
    with FakeOpenAI(rules=rules) as fake:
        done = subprocess.run(
            [sys.executable, "-m", "roost.lsp.cli", "demo", "--root", str(root), "--endpoint", fake.endpoint],
            capture_output=True,
            text=True,
            timeout=240,
            env=server_env(tmp_path),
        )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "Roost is ready" in out
    assert "shop/services/pricing.py" in out and "Stage timings (ms):" in out
    assert "return price_cart(cart).cents" in out
    assert "Blocked: the model suggested 'True)'" in out and "B602" in out
    assert (
        "+def price_cart(cart: Cart) -> Money:" in out and "+from .services.checkout import price_cart" in out
    )
    assert "Turn 2: Make the error message say" in out and "cannot format a negative amount" in out
    assert "Accepted: Applied to shop/utils/money.py." in out
    assert (root / "shop/utils/money.py").read_text() == (
        REPO_ROOT / "examples/shop/utils/money.py"
    ).read_text()
