"""Helpers shared by models and services."""
