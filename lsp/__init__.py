"""Roost language server: protocol wiring and the command line."""
