"""Promotions applied at checkout."""

from __future__ import annotations

from ..models import Cart, Product
from ..utils.money import Money
from .pricing import price_cart

# ``Cart`` and ``Product`` come through ``models/__init__.py``: each is defined two imports away
# (``models/__init__.py`` → ``models/cart.py`` / ``models/product.py``).
GIFT = Product(sku="GIFT-1", name="Tote bag", unit_price=Money.of(0.0), vat_rate=0.0)


def apply_free_gift(cart: Cart, threshold: Money = Money.of(50.0)) -> bool:
    """Add the gift once when the cart's total reaches ``threshold``; True when it was added."""
    if any(line.product.sku == GIFT.sku for line in cart.lines):
        return False
    if price_cart(cart) < threshold:
        return False
    cart.add(GIFT)
    return True
