"""Operations on carts."""
