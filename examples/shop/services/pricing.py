"""Cart totals and discounts."""

from __future__ import annotations

from ..models.cart import Cart
from ..utils.money import ZERO, Money

BULK_THRESHOLD = 10
BULK_DISCOUNT = 0.05


def price_cart(cart: Cart) -> Money:
    """Total of all lines including VAT, with the bulk discount applied."""
    total = ZERO
    for line in cart.lines:
        total = total + line.subtotal()
    if cart.item_count() >= BULK_THRESHOLD:
        total = total.scaled(1 - BULK_DISCOUNT)
    return total


def cheapest_line(cart: Cart):
    """The line with the lowest subtotal, or None for an empty cart."""
    return min(cart.lines, key=lambda line: line.subtotal(), default=None)
