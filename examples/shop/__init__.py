"""A tiny shop: products, carts and checkout. Re-exports the public API."""

from .models import Cart, LineItem, Product
from .services.checkout import checkout
from .services.pricing import price_cart

__all__ = ["Cart", "LineItem", "Product", "checkout", "price_cart"]
