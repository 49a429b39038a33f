"""Exceptions raised by textrisk. Each message names the offending field, file, row or id."""

from __future__ import annotations

__all__ = ["ConfigError", "DataError", "InputError", "ModelLoadError", "TextRiskError"]


class TextRiskError(Exception):
    """Base class of every error textrisk raises on purpose."""


class ConfigError(TextRiskError, ValueError):
    """A configuration value has the wrong type, an unknown key or an invalid value."""


class DataError(TextRiskError, ValueError):
    """A data file or row cannot be used (missing column, malformed line, unknown label...)."""


class InputError(TextRiskError, ValueError):
    """A text passed for scoring is unusable (not a string, empty...)."""


class ModelLoadError(TextRiskError, OSError):
    """A model folder or Hub id cannot be loaded (missing/corrupt file, offline, wrong base model)."""
