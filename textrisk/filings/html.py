"""HTML / iXBRL filings to plain text with BeautifulSoup (``pip install textrisk[filings]``).

Block elements become line breaks, table cells are separated by spaces and each table row gets its own line
(so :mod:`textrisk.filings.prose` sees a row as one number-dense line), ``<script>``, ``<style>``, ``<head>``,
the ``ix:header`` block and ``display:none`` elements are dropped, and runs of blank lines collapse to one.
This mirrors how the shared ``sec_filings/`` texts were made, so a ``.htm`` filing and its ``.txt`` score alike.
"""

from __future__ import annotations

import re

from ..errors import InputError

__all__ = ["html_to_text"]

_BLOCKS = ("p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "section", "article",
           "blockquote", "pre", "ul", "ol", "dl", "dt", "dd", "hr", "center", "title")
_HIDDEN = re.compile(r"display\s*:\s*none", re.IGNORECASE)


def html_to_text(markup: str | bytes) -> str:
    """Readable text of an HTML or iXBRL document (see the module docstring)."""
    try:
        from bs4 import BeautifulSoup
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise InputError("reading .htm/.html needs BeautifulSoup: pip install 'textrisk[filings]'") from exc
    soup = BeautifulSoup(markup, "html.parser")
    for tag in soup.find_all(["script", "style", "head", "ix:header", "noscript"]):
        tag.decompose()
    for tag in soup.find_all(style=_HIDDEN):
        tag.decompose()
    for cell in soup.find_all(["td", "th"]):
        cell.insert_after(" ")
    for tag in soup.find_all(_BLOCKS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    text = soup.get_text()
    lines = [" ".join(line.split()) for line in text.replace("\r", "\n").replace("\xa0", " ").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"
