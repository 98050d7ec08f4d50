"""Turning a cart into a receipt."""

from __future__ import annotations

from ..utils.money import format_money
from .pricing import price_cart


def receipt_lines(cart) -> list[str]:
    """One line per cart line, then the total."""
    lines = []
    for line in cart.lines:
        lines.append(f"{line.quantity} x {line.product.name}: {format_money(line.subtotal())}")
    lines.append(f"Total: {format_money(price_cart(cart))}")
    return lines


def checkout(cart) -> str:
    """The receipt of ``cart`` as text; empties the cart."""
    receipt = "\n".join(receipt_lines(cart))
    cart.lines.clear()
    return receipt
