"""Figures and reports for people (matplotlib PNGs, markdown)."""
