import pytest

from textrisk.data.chunking import chunk_document, split_sentences
from textrisk.models.backbone import DEFAULT_BASE_MODEL, resolve_model_path


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(resolve_model_path(DEFAULT_BASE_MODEL))


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("Sales fell. Profit rose!", ["Sales fell.", "Profit rose!"]),
        ("Nokia Inc. cut jobs. Apple Corp. did not.", ["Nokia Inc. cut jobs.", "Apple Corp. did not."]),
        ("Sales in the U.S. fell 5%. Europe grew.", ["Sales in the U.S. fell 5%.", "Europe grew."]),
        ('He said "we will grow." Then left.', ['He said "we will grow."', "Then left."]),
        ("Item 1A\n\nRisk factors follow", ["Item 1A", "Risk factors follow"]),
        ("   ", []),
        ("No end punctuation", ["No end punctuation"]),
    ],
)
def test_split_sentences(text, sentences):
    assert [text[a:b] for a, b in split_sentences(text)] == sentences


@pytest.mark.parametrize("budget", [16, 64, 128])
def test_chunks_respect_budget_and_offsets(tokenizer, budget):
    text = ("Revenue declined 12% in the quarter. " * 30 + "A" + " very" * 300 + " long sentence. ") * 2
    chunks = chunk_document(text, tokenizer, budget)
    limit = budget - tokenizer.num_special_tokens_to_add()
    for chunk in chunks:
        assert chunk.text == text[chunk.start:chunk.end]
        n = len(tokenizer(chunk.text, add_special_tokens=False)["input_ids"])
        assert n <= limit
        assert chunk.n_tokens == n
    # chunks are ordered and cover every word of the document
    assert all(a.end <= b.start for a, b in zip(chunks, chunks[1:]))
    assert sum(c.text.count("declined") for c in chunks) == 60
