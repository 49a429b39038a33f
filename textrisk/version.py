"""The installed textrisk version (one place: the package, its CLI and saved models read it)."""

__version__ = "0.1.0"
