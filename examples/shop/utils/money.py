"""Money in integer cents, so sums never drift."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Money:
    """An amount of money in cents of one currency."""

    cents: int
    currency: str = "EUR"

    @classmethod
    def of(cls, amount: float, currency: str = "EUR") -> Money:
        """Money from a decimal amount, rounded to the nearest cent."""
        return cls(round(amount * 100), currency)

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(self.cents + other.cents, self.currency)

    def scaled(self, factor: float) -> Money:
        """This amount multiplied by ``factor``, rounded to the nearest cent."""
        return Money(round(self.cents * factor), self.currency)


def format_money(amount: Money) -> str:
    """``12.50 EUR``."""
    return f"{amount.cents // 100}.{amount.cents % 100:02d} {amount.currency}"


ZERO = Money(0)
