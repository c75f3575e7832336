"""Inventory sync: pulls stock levels from the warehouse API into sqlite and a
JSON snapshot for the storefront, and reports reconciled levels back upstream."""

__version__ = "2.3.1"

__all__ = ["__version__"]
