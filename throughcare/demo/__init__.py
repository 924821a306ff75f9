"""Synthetic demo data, loaded only by `make demo` (demo mode)."""
