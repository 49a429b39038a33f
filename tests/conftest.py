"""Shared fixtures: tiny randomly initialised BERT and GPT-2 backbones, saved tiny models, a crash injector.

Constants and builders live in tests/helpers.py (test modules import them from there).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# "auto" would run ONNX int8 (or bf16/torch where that cannot be built): tests compare against fp32 and must not
# depend on the machine, so the default backend is pinned to torch here; tests/models/test_backend_choice.py tests
# "auto" itself.
os.environ["TEXTRISK_BACKEND"] = "torch"

from .helpers import perturb, save_tiny_bert, save_tiny_gpt2  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    """Tests never write to the user's cache folder: ``TEXTRISK_CACHE_DIR`` points at a session folder."""
    previous = os.environ.get("TEXTRISK_CACHE_DIR")
    os.environ["TEXTRISK_CACHE_DIR"] = str(tmp_path_factory.mktemp("textrisk-cache"))
    yield
    if previous is None:
        os.environ.pop("TEXTRISK_CACHE_DIR", None)
    else:
        os.environ["TEXTRISK_CACHE_DIR"] = previous


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    """A 2-layer, 32-wide BERT with the real MiniLM tokenizer, random weights."""
    import torch

    torch.manual_seed(0)
    return save_tiny_bert(tmp_path_factory.mktemp("tiny_bert"))


@pytest.fixture(scope="session")
def other_tiny_bert(tmp_path_factory) -> Path:
    """Like ``tiny_bert`` but 48 wide: a different base model for mismatch tests."""
    return save_tiny_bert(tmp_path_factory.mktemp("other_tiny_bert"), hidden=48)


@pytest.fixture(scope="session")
def tiny_gpt2(tmp_path_factory) -> Path:
    """A tiny GPT-2 body for head mode (see :func:`tests.helpers.save_tiny_gpt2`)."""
    return save_tiny_gpt2(tmp_path_factory.mktemp("tiny_gpt2"), "GPT2Model", 256)


@pytest.fixture(scope="session")
def tiny_lm(tmp_path_factory) -> Path:
    """A tiny GPT-2 with its LM head for prompt mode (see :func:`tests.helpers.save_tiny_gpt2`)."""
    return save_tiny_gpt2(tmp_path_factory.mktemp("tiny_lm"), "GPT2LMHeadModel", 512)


@pytest.fixture
def crash_at_step(monkeypatch):
    """``crash_at_step(n)`` makes training raise KeyboardInterrupt right after it checkpoints step n.

    Returns a function that undoes the patch, so the test can resume the interrupted run.
    """
    from textrisk.training import loop

    real_save = loop.save_checkpoint

    def install(crash_step: int):
        def save_then_crash(folder, model, optimizer, scheduler, step, losses, keep):
            real_save(folder, model, optimizer, scheduler, step, losses, keep)
            if step == crash_step:
                raise KeyboardInterrupt

        monkeypatch.setattr(loop, "save_checkpoint", save_then_crash)
        return lambda: monkeypatch.setattr(loop, "save_checkpoint", real_save)

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
    model = perturb(TextRiskModel.from_base(str(tiny_bert), lora_r=4), 0.1)
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
    model = perturb(TextRiskModel.from_base(str(tiny_bert), lora_r=4, risk_labels=RISK_LABELS), 0.3)
    model.config.risk_thresholds = {"credit": 0.3, "macro": 0.7}
    folder = tmp_path_factory.mktemp("risk_model")
    model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def judgement_model_dir(tiny_bert, tmp_path_factory) -> Path:
    """A saved judgement model over ``tiny_bert``: a 12-label risk head with every output group (signals, topics,
    kind, severity, adverse) over layers 1 and 2, random weights."""
    import torch

    from textrisk.labels.taxonomy import RISK_LABELS
    from textrisk.models.head.layout import JUDGEMENT
    from textrisk.models.head.model import TextRiskModel

    torch.manual_seed(11)
    model = TextRiskModel.from_base(str(tiny_bert), lora_r=4)
    model.add_risk_head(RISK_LABELS, hidden=16, layers=[1, 2], outputs=JUDGEMENT)
    model = perturb(model, 0.3)
    folder = tmp_path_factory.mktemp("judgement_model")
    model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def analyzer(tiny_model_dir):
    """A ``RiskAnalyzer`` over ``tiny_model_dir``, one thread (20x faster on a busy machine)."""
    from textrisk.scoring.analyzer import RiskAnalyzer

    return RiskAnalyzer.from_pretrained(tiny_model_dir, num_threads=1)
