"""Shopping carts and their lines."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..utils.money import Money
from .product import Product


@dataclass
class LineItem:
    """One product in a cart, with a quantity."""

    product: Product
    quantity: int = 1

    def subtotal(self) -> Money:
        """Price of the line including VAT."""
        return self.product.price_with_vat().scaled(self.quantity)


@dataclass
class Cart:
    """The products a customer is about to buy."""

    owner: str
    lines: list[LineItem] = field(default_factory=list)

    def add(self, product: Product, quantity: int = 1) -> LineItem:
        """Add ``quantity`` of ``product``; merges with an existing line for the same SKU."""
        for line in self.lines:
            if line.product.sku == product.sku:
                line.quantity += quantity
                return line
        line = LineItem(product, quantity)
        self.lines.append(line)
        return line

    def remove(self, sku: str) -> None:
        self.lines = [line for line in self.lines if line.product.sku != sku]

    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)
