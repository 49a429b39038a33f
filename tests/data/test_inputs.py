"""The batched text check (one tokenizer call for all texts, offsets kept) against the per-text reference."""

import random
import unicodedata

import pytest

from textrisk.data.inputs import (
    UNKNOWN_TOKEN_WARNING,
    check_text,
    inspect_texts,
    text_warnings,
    validate_texts,
    validated_checks,
)
from textrisk.errors import InputError

from ..helpers import SENTENCES

LONG = " ".join(SENTENCES * 30)
TEXTS = [
    *SENTENCES[:3], LONG, "", "   \n", None, 5, "\ud800 lone surrogate", "\u200b\u200b\u200e", "\U0001F680\U0001F680",
    "a" * 200, "\U0001F680 \U0001F680 \U0001F680 profit rose", "\x00\x01\x02 abc " * 20, "Прибыль выросла на 5%.",
    "Net sales rose 5%.\tMargins held.\r\n", "Umsatz stieg um 5 % über Plan.",
]


def _reference_warnings(text):
    """The character-level warnings as the per-character loop computes them (the reference for the fast path)."""
    sample = text[:20000]
    control = sum(1 for ch in sample if unicodedata.category(ch) in ("Cc", "Co", "Cn") and ch not in "\n\r\t")
    letters = [ch for ch in sample if ch.isalpha()]
    warnings = []
    if control > 0.05 * len(sample):
        warnings.append(f"text looks binary ({control / len(sample):.0%} control characters); scores may be noise")
    if letters and sum(1 for ch in letters if ord(ch) > 0x24F) > 0.5 * len(letters):
        warnings.append("text is mostly in a non-Latin script; the model was trained on English")
    return warnings


def _reference_check(text, tokenizer):
    """The check as it ran before batching: one tokenizer call for this text alone."""
    problem, _ = check_text(text)  # character rules only
    if problem:
        return problem, [], None
    encoded = tokenizer(text, add_special_tokens=False, truncation=False, verbose=False,
                        return_offsets_mapping=True)
    ids = encoded["input_ids"]
    if not ids:
        return "has no tokens the model can read (control or format characters only?)", [], None
    unk = tokenizer.unk_token_id if tokenizer.unk_token != getattr(tokenizer, "eos_token", None) else None
    found = []
    if unk is not None:
        unknown = sum(1 for i in ids if i == unk)
        if unknown == len(ids):
            return f"has no tokens the model can read (all {len(ids)} token(s) are the unknown token)", [], None
        if unknown / len(ids) > UNKNOWN_TOKEN_WARNING:
            found = [f"{unknown / len(ids):.0%} of the text's tokens are unknown to the model; scores may be noise"]
    return None, _reference_warnings(text) + found, [tuple(span) for span in encoded["offset_mapping"]]


@pytest.mark.parametrize("which", ["bert", "gpt2"])
def test_batched_check_equals_the_per_text_check(which, tiny_bert, tiny_gpt2):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_bert if which == "bert" else tiny_gpt2)
    checks = inspect_texts(TEXTS, tokenizer)
    assert len(checks) == len(TEXTS)
    for text, check in zip(TEXTS, checks):
        problem, warnings, offsets = _reference_check(text, tokenizer)
        assert (check.problem, check.warnings, check.offsets) == (problem, warnings, offsets), repr(text)[:60]
        assert (check.problem, check.warnings) == check_text(text, tokenizer)
    if which == "bert":  # the cases above do exercise every rule
        problems = [c.problem or "" for c in checks]
        assert any("unknown token" in p for p in problems) and any("not a string" in p for p in problems)
        assert any(w for c in checks for w in c.warnings if "unknown" in w)
        assert any(w for c in checks for w in c.warnings if "binary" in w)
        assert any(w for c in checks for w in c.warnings if "non-Latin" in w)


def test_ascii_fast_path_counts_control_characters_like_the_loop():
    rng = random.Random(0)
    for _ in range(300):
        length = rng.randrange(1, 80)
        text = "".join(chr(rng.choice([rng.randrange(0, 128), rng.randrange(32, 127)])) for _ in range(length))
        assert text_warnings(text) == _reference_warnings(text), repr(text)


def test_validated_checks_raise_like_validate_texts(tiny_bert):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    good = SENTENCES[:2] + [LONG]
    assert [c.warnings for c in validated_checks(good, tokenizer)] == validate_texts(good, tokenizer)
    for bad in (["fine", ""], "one string", ["\U0001F680"]):
        with pytest.raises(InputError) as raised:
            validated_checks(bad, tokenizer)
        with pytest.raises(InputError) as again:
            validate_texts(bad, tokenizer)
        assert str(raised.value) == str(again.value)
