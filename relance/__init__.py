"""Relance: open-source accounts receivable (credit risk, collections, cash)."""

__version__ = "0.1.0"
