"""A small demo run: ``python -m shop.cli`` from ``examples/``."""

from __future__ import annotations

from shop import Cart, Product, checkout
from shop.services.promotions import apply_free_gift
from shop.utils.money import Money


def main() -> None:
    cart = Cart(owner="ada")
    tea = Product(sku="TEA-1", name="Green tea", unit_price=Money.of(4.5), vat_rate=0.07)
    cart.add(tea, 2)
    cart.add(Product(sku="MUG-1", name="Mug", unit_price=Money.of(9.0)))
    cart.add(Product(sku="POT-1", name="Teapot", unit_price=Money.of(35.0)))
    apply_free_gift(cart)
    print(checkout(cart))


if __name__ == "__main__":
    main()
