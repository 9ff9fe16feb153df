"""Synthetic demo datasets that need no download: `generate_vials`."""
from .vials import generate_vials

__all__ = ["generate_vials"]
