"""Domain objects of the shop."""

from .cart import Cart, LineItem
from .product import Product

__all__ = ["Cart", "LineItem", "Product"]
