"""Responses in and out: import, export, backup, demo data."""
