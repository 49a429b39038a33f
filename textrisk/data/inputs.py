"""The one text check: what every text passes before a model reads it (``RiskAnalyzer.score``, ``textrisk score``,
the forecaster's text features, the monitor), and the facts about a text the reports and the monitor keep.

A text is **refused** (an error naming its index, or an ``error`` field in batch output) when it is not a
string, is empty or whitespace only, holds a lone surrogate (not encodable as UTF-8, so no tokenizer can take
it), holds only control and format characters (NUL, zero-width spaces, direction marks) and spaces, or, given the
model's tokenizer, has no token the model knows: no tokens at all, or only the unknown token (``[UNK]``:
emoji-only text, a "word" longer than the tokenizer's 100-character limit such as two million ``a``\\ s).
A text is **scored with a warning** when it looks binary (more than 5% control characters among its first
20,000), when most of its letters are in a non-Latin script (the models were trained on English), or when its
share of unknown tokens (:func:`unknown_shares`, also a drift feature of the monitor) is over
:data:`UNKNOWN_TOKEN_WARNING`. :func:`script_of` names the script of most letters (a drift feature of the monitor).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError

__all__ = ["UNKNOWN_TOKEN_WARNING", "TextCheck", "check_text", "check_texts", "inspect_texts", "name_problem",
           "script_of", "text_warnings", "unicode_problem", "unknown_shares", "validate_texts", "validated_checks"]

#: Share of a text's tokens that are the unknown token above which its report carries a warning.
UNKNOWN_TOKEN_WARNING = 0.2
_INVISIBLE = ("Cc", "Cf")  # control and format characters (NUL, zero-width space, RTL marks, BOM...)


def unicode_problem(text: str) -> str | None:
    """Why ``text`` is not valid Unicode text (a lone surrogate, which no UTF-8 file, database or HTTP answer can
    hold), or None; the check every string from outside passes (texts, and the monitor's ids and entities)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"holds a lone surrogate (U+{ord(text[exc.start]):04X}) at character {exc.start}: not valid Unicode text"
    return None


def name_problem(value: str, limit: int) -> str | None:
    """Why the identifier ``value`` (a document id, an entity) cannot be kept and answered: a lone surrogate, or
    more than ``limit`` characters; None when it can."""
    return unicode_problem(value) or (f"has {len(value)} characters; the limit is {limit}" if len(value) > limit
                                      else None)


def _unknown_id(tokenizer: Any) -> int | None:
    """The tokenizer's real unknown token, or None (byte-level tokenizers such as GPT-2's have none: their
    ``unk_token`` is the EOS token, and every text is readable)."""
    unk = getattr(tokenizer, "unk_token_id", None)
    if unk is None or tokenizer.unk_token == getattr(tokenizer, "eos_token", None):
        return None
    return unk


def unknown_shares(texts: Sequence[str], tokenizer: Any) -> list[float]:
    """Share of each text's tokens that are the unknown token (0.0 for a tokenizer without one, or no tokens)."""
    unk = _unknown_id(tokenizer)
    if unk is None:
        return [0.0] * len(texts)
    ids = tokenizer(list(texts), add_special_tokens=False, truncation=False, verbose=False)["input_ids"]
    return [sum(1 for t in row if t == unk) / len(row) if row else 0.0 for row in ids]


_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # Cc of ASCII, less \t \n \r


def text_warnings(text: str) -> list[str]:
    """Character-level warnings of a readable text: it looks binary, or is mostly in a non-Latin script."""
    warnings = []
    sample = text[:20000]
    if sample.isascii():  # the common case, without a Python loop: no non-Latin letters, controls by regex
        control = len(_ASCII_CONTROL.findall(sample))
        letters, non_latin = [], 0
    else:
        control = sum(1 for ch in sample if unicodedata.category(ch) in ("Cc", "Co", "Cn") and ch not in "\n\r\t")
        letters = [ch for ch in sample if ch.isalpha()]
        non_latin = sum(1 for ch in letters if ord(ch) > 0x24F)
    if control > 0.05 * len(sample):
        warnings.append(f"text looks binary ({control / len(sample):.0%} control characters); scores may be noise")
    if letters and non_latin > 0.5 * len(letters):
        warnings.append("text is mostly in a non-Latin script; the model was trained on English")
    return warnings


def script_of(text: str) -> str:
    """The script most letters of ``text`` are written in (latin, cjk, cyrillic, arabic, greek, other; none)."""
    counts: Counter[str] = Counter()
    for char in text:
        if char.isalpha():
            name = unicodedata.name(char, "")
            script = next((s for s, key in (("latin", "LATIN"), ("cjk", "CJK"), ("cjk", "HIRAGANA"),
                                            ("cjk", "KATAKANA"), ("cjk", "HANGUL"), ("cyrillic", "CYRILLIC"),
                                            ("arabic", "ARABIC"), ("greek", "GREEK")) if name.startswith(key)),
                          "other")
            counts[script] += 1
    return counts.most_common(1)[0][0] if counts else "none"


@dataclass
class TextCheck:
    """What the check found about one text: ``problem`` (None: it can be scored), its ``warnings`` and, when a fast
    tokenizer read it, the character span of each of its tokens (``offsets``, special tokens excluded; what
    :func:`textrisk.data.chunking.chunk_document` needs, so a checked text is not tokenised again)."""

    problem: str | None
    warnings: list[str] = field(default_factory=list)
    offsets: list[tuple[int, int]] | None = None


def _character_problem(text: Any) -> str | None:
    if not isinstance(text, str):
        return f"is {'None' if text is None else type(text).__name__}, not a string"
    if not text.strip():
        return "is empty or whitespace only"
    problem = unicode_problem(text)
    if problem is not None:
        return problem
    if all(unicodedata.category(ch) in _INVISIBLE or ch.isspace() for ch in text):
        return "has no readable characters (control or format characters only)"
    return None


def _token_problem(ids: Sequence[int], unk: int | None) -> tuple[str | None, list[str]]:
    if not ids:
        return "has no tokens the model can read (control or format characters only?)", []
    if unk is None:
        return None, []
    unknown = sum(1 for i in ids if i == unk)
    if unknown == len(ids):
        return f"has no tokens the model can read (all {len(ids)} token(s) are the unknown token)", []
    share = unknown / len(ids)
    if share > UNKNOWN_TOKEN_WARNING:
        return None, [f"{share:.0%} of the text's tokens are unknown to the model; scores may be noise"]
    return None, []


def inspect_texts(texts: Sequence[Any], tokenizer: Any = None) -> list[TextCheck]:
    """The :class:`TextCheck` of each text, in order: the character rules per text, then one batched tokenizer
    call over the texts that passed them (with token offsets when the tokenizer is a fast one)."""
    checks = [TextCheck(_character_problem(text)) for text in texts]
    readable = [i for i, check in enumerate(checks) if check.problem is None]
    if tokenizer is None or not readable:
        for i in readable:
            checks[i].warnings = text_warnings(texts[i])
        return checks
    fast = bool(getattr(tokenizer, "is_fast", False))
    encoded = tokenizer([texts[i] for i in readable], add_special_tokens=False, truncation=False, verbose=False,
                        return_offsets_mapping=fast)
    unk = _unknown_id(tokenizer)
    for row, i in enumerate(readable):
        problem, found = _token_problem(encoded["input_ids"][row], unk)
        if problem:
            checks[i].problem = problem
            continue
        checks[i].warnings = text_warnings(texts[i]) + found
        if fast:
            checks[i].offsets = [tuple(span) for span in encoded["offset_mapping"][row]]
    return checks


def check_text(text: Any, tokenizer: Any = None) -> tuple[str | None, list[str]]:
    """``(problem, warnings)`` of one text: ``problem`` is None when the text can be scored, ``warnings`` (of a
    readable text) the character-level ones first, then the unknown-token one.

    Without ``tokenizer`` only the character-level rules apply (see the module docstring).
    """
    check = inspect_texts([text], tokenizer)[0]
    return check.problem, check.warnings


def check_texts(texts: Sequence[Any], tokenizer: Any = None) -> list[tuple[str | None, list[str]]]:
    """:func:`check_text` of each text, in order (one batched tokenizer call)."""
    return [(check.problem, check.warnings) for check in inspect_texts(texts, tokenizer)]


def validate_texts(texts: Any, tokenizer: Any = None, name: str = "texts") -> list[list[str]]:
    """Raise :class:`InputError` naming every unusable index of ``texts``; else return each text's warnings."""
    return [check.warnings for check in validated_checks(texts, tokenizer, name)]


def validated_checks(texts: Any, tokenizer: Any = None, name: str = "texts") -> list[TextCheck]:
    """Like :func:`validate_texts`, returning each text's :class:`TextCheck` (warnings and token offsets)."""
    if isinstance(texts, (str, bytes)):
        raise InputError(f"expected a list of texts, got a single {type(texts).__name__}; wrap it: [text]")
    if not isinstance(texts, Sequence):
        raise InputError(f"expected a list of texts, got {type(texts).__name__}")
    checks = inspect_texts(texts, tokenizer)
    problems = [f"{name}[{i}] {check.problem}" for i, check in enumerate(checks) if check.problem]
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise InputError("; ".join(problems[:5]) + more)
    return checks
