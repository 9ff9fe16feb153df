"""Portability suite: batches are the same bytes under restricted CPU dispatch (DESIGN §3.8, docs/portability.md)."""
