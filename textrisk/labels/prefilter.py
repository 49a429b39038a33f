"""One pass over a text to find which labelling functions can fire on it.

Most labelling functions are a regular expression that can only match where one of a few literal strings occurs
(``\\b(?:lawsuit|sued|litigation)`` needs ``lawsuit``, ``sued`` or ``litigation``). :func:`required_literals`
reads those strings off the compiled pattern (Python's own parse of it); a :class:`Prefilter` puts the strings of
every function in one Aho-Corasick automaton (``pyahocorasick``) and, per text, returns the functions that cannot
be ruled out. Only those run their regular expressions, so a text costs one automaton scan plus the few rules it
could trigger, instead of every rule.

The prefilter only rules a function out when none of its required strings is in the text, which is a proof that
its pattern cannot match there, so the votes are the same as running every function (a test checks this on every
labelled text of the project's data). A pattern whose requirement cannot be read (a lookbehind-only pattern, an
optional first part, case-insensitive flags) is simply never ruled out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

try:  # the stdlib's parser of regular expressions (Python 3.11+: re._parser; earlier: sre_parse)
    from re import _constants as _sre_constants  # type: ignore[attr-defined]
    from re import _parser as _sre_parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python < 3.11
    import sre_constants as _sre_constants  # type: ignore[no-redef]
    import sre_parse as _sre_parser  # type: ignore[no-redef]

__all__ = ["Prefilter", "required_literals"]

_C = _sre_constants
_MAX_CLASS = 4  # a character class of up to this many literal characters counts as that many one-character strings


def _literal_run(items: list) -> list[tuple[int, int, str]]:
    """(start, end, text) of each run of consecutive LITERAL items of a parsed sequence."""
    runs, start, chars = [], None, []
    for i, (op, av) in enumerate(items + [(None, None)]):
        if op is _C.LITERAL:
            if start is None:
                start = i
            chars.append(chr(av))
        elif start is not None:
            runs.append((start, i, "".join(chars)))
            start, chars = None, []
    return runs


def _pure_literals(op: object, av: object) -> list[str] | None:
    """The strings a BRANCH of literal-only alternatives matches (``(?:ed|ing|)``), else None."""
    if op is not _C.BRANCH:
        return None
    strings = []
    for branch in av[1]:
        if any(item_op is not _C.LITERAL for item_op, _ in branch):
            return None
        strings.append("".join(chr(code) for _, code in branch))
    return strings


def _required(items: list, flags: int) -> frozenset[str] | None:
    """Strings of which any match of the parsed sequence ``items`` contains at least one (None: not known)."""
    if flags & re.IGNORECASE:
        return None
    candidates: list[frozenset[str]] = []
    for start, end, text in _literal_run(items):
        candidates.append(frozenset({text}))
        # the parser factors a common prefix out of alternatives ("sued|suit" -> "su" + (ed|it)): put it back
        after = _pure_literals(*items[end]) if end < len(items) else None
        if after is not None:
            candidates.append(frozenset(text + tail for tail in after))
        before = _pure_literals(*items[start - 1]) if start > 0 else None
        if before is not None:
            candidates.append(frozenset(head + text for head in before))
    for op, av in items:
        found: frozenset[str] | None = None
        if op is _C.SUBPATTERN:
            _group, add_flags, _del_flags, body = av
            found = _required(list(body), flags | add_flags)
        elif op is _C.BRANCH:
            parts = [_required(list(branch), flags) for branch in av[1]]
            found = None if any(part is None for part in parts) else frozenset().union(*parts)
        elif op in (_C.MAX_REPEAT, _C.MIN_REPEAT, getattr(_C, "POSSESSIVE_REPEAT", None)) and av[0] >= 1:
            found = _required(list(av[2]), flags)
        elif op is _C.IN and len(av) <= _MAX_CLASS and all(item_op is _C.LITERAL for item_op, _ in av):
            found = frozenset(chr(code) for _, code in av)
        elif op is getattr(_C, "ATOMIC_GROUP", None):
            found = _required(list(av), flags)
        if found:
            candidates.append(found)
    if not candidates:
        return None
    # the most selective requirement: the longest shortest string, then the fewest strings
    return max(candidates, key=lambda strings: (min(map(len, strings)), -len(strings)))


def required_literals(pattern: re.Pattern[str] | str) -> frozenset[str] | None:
    """Strings of which every match of ``pattern`` contains at least one; None when that cannot be read off it."""
    source, flags = (pattern.pattern, pattern.flags) if isinstance(pattern, re.Pattern) else (pattern, 0)
    if not isinstance(source, str):
        return None
    try:
        parsed = _sre_parser.parse(source, flags)
    except (re.error, TypeError, ValueError):
        return None
    return _required(list(parsed), flags | parsed.state.flags)


class Prefilter:
    """Which of ``requirements`` can hold on a text: one Aho-Corasick scan for all of them.

    Args:
        requirements: per function, the strings of which a text must contain one (None: always a candidate).
    """

    def __init__(self, requirements: Sequence[Iterable[str] | None]):
        import ahocorasick

        self.size = len(requirements)
        self.always = [i for i, strings in enumerate(requirements) if strings is None]
        owners: dict[str, list[int]] = {}
        for i, strings in enumerate(requirements):
            for text in strings or ():
                if not text:
                    raise ValueError(f"function {i}: an empty required string would match every text")
                owners.setdefault(text, []).append(i)
        self.automaton = ahocorasick.Automaton() if owners else None
        for text, functions in owners.items():
            self.automaton.add_word(text, tuple(functions))
        if self.automaton is not None:
            self.automaton.make_automaton()

    def candidates(self, text: str) -> list[int]:
        """Indices (ascending) of the functions whose requirement ``text`` meets."""
        hit = set(self.always)
        if self.automaton is not None:
            for _end, functions in self.automaton.iter(text):
                hit.update(functions)
        return sorted(hit)
