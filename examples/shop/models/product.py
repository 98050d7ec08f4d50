"""Products for sale."""

from __future__ import annotations

from dataclasses import dataclass

from ..utils.money import Money


@dataclass(frozen=True)
class Product:
    """A product with a unit price and a VAT category."""

    sku: str
    name: str
    unit_price: Money
    vat_rate: float = 0.2

    def price_with_vat(self) -> Money:
        """The unit price including VAT."""
        return self.unit_price.scaled(1 + self.vat_rate)

    def is_reduced_rate(self) -> bool:
        return self.vat_rate < 0.2
