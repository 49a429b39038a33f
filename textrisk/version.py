"""The installed textrisk version (one place: pyproject.toml, the package, its CLI and saved models read it)."""

__version__ = "0.2.0"
