"""Griffe extension for the API reference: textrisk's docstrings as mkdocstrings should render them.

- Sphinx roles (``:class:`~textrisk.models.contract.ScoringModel```) become code spans (```ScoringModel```): the
  docstrings are written for both Sphinx-style readers and ``help()``, and an unresolved cross-reference would
  fail ``mkdocs build --strict``.
- A config dataclass field documented in its metadata (``field(..., metadata=check("What it is.", gt=0))``, the
  style of ``textrisk.utils.validation``) gets that text as its docstring, so the reference shows it.

Static only (the AST), so nothing is imported and the extension follows the modules wherever they live.
"""

from __future__ import annotations

import ast
import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:class|func|mod|meth|attr|data|exc|obj|const):`(~?)([^`]+)`")


def _code_span(match: re.Match[str]) -> str:
    short, target = match.group(1), match.group(2)
    return f"`{target.rsplit('.', 1)[-1] if short else target}`"


def _metadata_help(node: ast.AST) -> str | None:
    """The help text of ``field(..., metadata=check("help", ...))`` (None if the value is not that shape)."""
    value = getattr(node, "value", None)
    if not isinstance(value, ast.Call):
        return None
    for keyword in value.keywords:
        call = keyword.value
        if (keyword.arg == "metadata" and isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
                and call.func.id == "check" and call.args and isinstance(call.args[0], ast.Constant)
                and isinstance(call.args[0].value, str)):
            return call.args[0].value
    return None


class TextriskDocstrings(griffe.Extension):
    """Rewrite Sphinx roles as code spans; give metadata-documented dataclass fields a docstring."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Sphinx roles -> code spans in every docstring."""
        if obj.docstring is not None:
            obj.docstring.value = _ROLE.sub(_code_span, obj.docstring.value)

    def on_attribute_instance(self, *, node: ast.AST, attr: griffe.Attribute, **kwargs: Any) -> None:
        """``field(metadata=check("help"))`` -> the attribute's docstring."""
        if attr.docstring is None and isinstance(node, ast.AST):
            text = _metadata_help(node)
            if text:
                attr.docstring = griffe.Docstring(_ROLE.sub(_code_span, text), parent=attr)
