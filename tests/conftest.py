"""Shared fixtures: tiny randomly initialised BERT and GPT-2 backbones, and the shared data folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from textrisk.data.datasets import find_data_dir  # noqa: E402
from textrisk.models.backbone import DEFAULT_BASE_MODEL, resolve_model_path  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DATA_DIR = find_data_dir()
needs_data = pytest.mark.skipif(DATA_DIR is None, reason="shared data not found at ../shared/data "
                                                         "(set TEXTRISK_DATA_DIR to run these tests)")

SENTENCES = [
    "Operating profit fell to EUR 3.2 mn from EUR 5.1 mn a year earlier.",
    "The company raised its full-year guidance after strong quarterly sales.",
    "Nokia will cut 1,000 jobs as network sales slump.",
    "The board proposes a dividend of EUR 0.50 per share.",
    "Shares plunged 20% after the profit warning.",
    "The contract is valued at USD 10 million.",
    "Net sales increased by 12% to EUR 45 million.",
    "The bank missed a coupon payment and was downgraded by Moody's.",
]


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    """A 2-layer, 32-wide BERT with the real MiniLM tokenizer, random weights."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny_bert")
    tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(DEFAULT_BASE_MODEL))
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=256)
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def other_tiny_bert(tmp_path_factory) -> Path:
    """Like ``tiny_bert`` but 48 wide: a different base model for mismatch tests."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    folder = tmp_path_factory.mktemp("other_tiny_bert")
    tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(DEFAULT_BASE_MODEL))
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=48, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=256)
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def _save_tiny_gpt2(folder: Path, model_class: str, n_positions: int) -> Path:
    """A 2-layer, 32-wide GPT-2 (random init) with a small byte-level BPE tokenizer that, like GPT-2's, has no
    pad token; ``model_class`` is ``"GPT2Model"`` (head mode) or ``"GPT2LMHeadModel"`` (prompt mode)."""
    import torch
    import transformers
    from tokenizers import ByteLevelBPETokenizer

    torch.manual_seed(0)
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(SENTENCES * 20, vocab_size=400, special_tokens=["<|endoftext|>"])
    tokenizer = transformers.GPT2TokenizerFast(tokenizer_object=bpe._tokenizer, bos_token="<|endoftext|>",
                                               eos_token="<|endoftext|>", unk_token="<|endoftext|>")
    assert tokenizer.pad_token is None
    config = transformers.GPT2Config(vocab_size=len(tokenizer), n_embd=32, n_layer=2, n_head=2,
                                     n_positions=n_positions, bos_token_id=tokenizer.eos_token_id,
                                     eos_token_id=tokenizer.eos_token_id)
    getattr(transformers, model_class)(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_gpt2(tmp_path_factory) -> Path:
    """A tiny GPT-2 body for head mode (see :func:`_save_tiny_gpt2`)."""
    return _save_tiny_gpt2(tmp_path_factory.mktemp("tiny_gpt2"), "GPT2Model", 256)


@pytest.fixture(scope="session")
def tiny_lm(tmp_path_factory) -> Path:
    """A tiny GPT-2 with its LM head for prompt mode (see :func:`_save_tiny_gpt2`)."""
    return _save_tiny_gpt2(tmp_path_factory.mktemp("tiny_lm"), "GPT2LMHeadModel", 512)


@pytest.fixture
def crash_at_step(monkeypatch):
    """``crash_at_step(n)`` makes training raise KeyboardInterrupt right after it checkpoints step n.

    Returns a function that undoes the patch, so the test can resume the interrupted run.
    """
    from textrisk.training import loop as training

    real_save = training.save_checkpoint

    def install(crash_step: int):
        def save_then_crash(folder, model, optimizer, scheduler, step, losses, keep):
            real_save(folder, model, optimizer, scheduler, step, losses, keep)
            if step == crash_step:
                raise KeyboardInterrupt

        monkeypatch.setattr(training, "save_checkpoint", save_then_crash)
        return lambda: monkeypatch.setattr(training, "save_checkpoint", real_save)

    return install


@pytest.fixture(params=["tiny_bert", "tiny_gpt2"])
def tiny_backbone(request) -> Path:
    """Each tiny architecture in turn (table-driven tests over BERT and GPT-2 families)."""
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_bert, tmp_path_factory) -> Path:
    """A saved textrisk model over ``tiny_bert`` with non-trivial random LoRA/head weights and T = 1.5."""
    import torch

    from textrisk.models.head.model import TextRiskModel

    torch.manual_seed(3)
    model = TextRiskModel.from_base(str(tiny_bert), lora_r=4)
    with torch.no_grad():
        for param in model.parameters():
            if param.requires_grad:
                param.add_(torch.randn_like(param) * 0.1)
    model.config.temperature = 1.5
    folder = tmp_path_factory.mktemp("tiny_model")
    model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def risk_model_dir(tiny_bert, tmp_path_factory) -> Path:
    """A saved textrisk model over ``tiny_bert`` with a 12-label risk head, random weights, two custom thresholds."""
    import torch

    from textrisk.labels.taxonomy import RISK_LABELS
    from textrisk.models.head.model import TextRiskModel

    torch.manual_seed(5)
    model = TextRiskModel.from_base(str(tiny_bert), lora_r=4, risk_labels=RISK_LABELS)
    with torch.no_grad():
        for param in model.parameters():
            if param.requires_grad:
                param.add_(torch.randn_like(param) * 0.3)
    model.config.risk_thresholds = {"credit": 0.3, "macro": 0.7}
    folder = tmp_path_factory.mktemp("risk_model")
    model.save_pretrained(folder)
    return folder


def small_train_config(base, out, **changes):
    """A :class:`textrisk.training.config.TrainConfig` for a seconds-long run of ``base`` on 96 FPB rows
    (``changes`` win)."""
    from textrisk.training.config import TrainConfig

    settings = dict(output_dir=str(out), base_model=str(base), train_data=["fpb"], data_dir=str(DATA_DIR),
                    max_train_samples=96, max_length=48, lora_r=4, lora_alpha=8, epochs=2.0, batch_size=16,
                    learning_rate=5e-3, save_every_steps=3, seed=7)
    settings.update(changes)
    return TrainConfig(**settings)
