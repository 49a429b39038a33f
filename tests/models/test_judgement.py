"""A judgement model's risk head: output groups, the masked joint loss, outputs, save/load, ONNX parity."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from textrisk import ConfigError
from textrisk.labels.taxonomy import KINDS, RISK_LABELS
from textrisk.models.head.config import ModelConfig
from textrisk.models.head.layout import (
    JUDGEMENT,
    group_slices,
    head_width,
    judgement_loss,
    target_width,
    validate_outputs,
)
from textrisk.models.head.model import TextRiskModel

from ..helpers import SENTENCES

L = len(RISK_LABELS)


def test_groups_are_laid_out_side_by_side():
    slices = group_slices(L, JUDGEMENT)
    assert [(s.start, s.stop) for s in slices.values()] == [(0, 12), (12, 24), (24, 28), (28, 32), (32, 33)]
    assert head_width(L, JUDGEMENT) == 33 and head_width(L, ["signals"]) == 12 and target_width(L) == 27


@pytest.mark.parametrize("outputs, message", [
    (["kind"], "must start with 'signals'"),
    (["signals", "mood"], "unknown output group"),
    (["signals", "kind", "topics"], "in the order"),
    (["signals", "signals"], "in the order"),
])
def test_bad_output_groups_are_refused_by_name(outputs, message):
    with pytest.raises(ConfigError, match=message):
        validate_outputs(outputs)
    with pytest.raises(ConfigError, match="risk_outputs"):
        ModelConfig(risk_labels=list(RISK_LABELS), risk_outputs=outputs)


def test_loss_ignores_what_a_row_does_not_annotate():
    torch.manual_seed(0)
    logits = torch.randn(4, head_width(L, JUDGEMENT), requires_grad=True)
    targets = -torch.ones(4, target_width(L))
    assert judgement_loss(logits, targets, L, JUDGEMENT).item() == 0.0  # nothing annotated: no loss
    targets[0, :L] = 0  # row 0: signals only
    targets[1] = torch.tensor([0.0] * L + [1.0] + [0.0] * (L - 1) + [2, 0, 0])  # row 1: fully judged, boilerplate
    loss = judgement_loss(logits, targets, L, JUDGEMENT)
    loss.backward()
    assert torch.isfinite(loss) and loss.item() > 0
    assert logits.grad[2:].abs().sum() == 0  # unannotated rows get no gradient
    assert logits.grad[0, :L].abs().sum() > 0 and logits.grad[0, L:].abs().sum() == 0  # row 0: signal columns only
    assert logits.grad[1].abs().min() > 0  # row 1: every group


def test_row_weights_scale_a_rows_contribution():
    torch.manual_seed(1)
    logits = torch.randn(2, L)
    targets = torch.cat([torch.zeros(2, L), -torch.ones(2, target_width(L) - L)], dim=1)
    targets[0, 0] = 1
    plain = judgement_loss(logits, targets, L, ["signals"])
    heavy_first = judgement_loss(logits, targets, L, ["signals"], row_weight=torch.tensor([10.0, 1.0]))
    first_only = judgement_loss(logits[:1], targets[:1], L, ["signals"])
    assert heavy_first != pytest.approx(plain.item())
    assert heavy_first.item() == pytest.approx((10 * first_only.item() + judgement_loss(
        logits[1:], targets[1:], L, ["signals"]).item()) / 11, rel=1e-5)


def test_a_judgement_model_returns_every_group_and_round_trips(judgement_model_dir, tmp_path):
    model = TextRiskModel.from_pretrained(judgement_model_dir)
    assert model.risk_outputs == list(JUDGEMENT)
    out = model.predict_outputs(SENTENCES, risk=True)
    n = len(SENTENCES)
    assert out.risk.shape == out.topics.shape == (n, L)
    assert out.kind.shape == (n, len(KINDS)) and out.severity.shape == (n, 4) and out.adverse.shape == (n,)
    np.testing.assert_allclose(out.kind.sum(axis=1), 1.0)
    np.testing.assert_allclose(out.severity.sum(axis=1), 1.0)
    assert ((out.adverse > 0) & (out.adverse < 1)).all()
    model.save_pretrained(tmp_path / "again")
    again = TextRiskModel.from_pretrained(tmp_path / "again").predict_outputs(SENTENCES, risk=True)
    for name in ("risk", "topics", "kind", "severity", "adverse"):
        np.testing.assert_allclose(getattr(again, name), getattr(out, name), atol=1e-6)


def test_a_signals_only_model_has_no_judgement(risk_model_dir):
    model = TextRiskModel.from_pretrained(risk_model_dir)
    out = model.predict_outputs(SENTENCES, risk=True)
    assert model.risk_outputs == ["signals"] and out.adverse is None and out.kind is None


def test_onnx_backend_returns_the_same_judgement(judgement_model_dir, tmp_path):
    pytest.importorskip("onnxruntime", reason="the [onnx] extra is not installed")
    from textrisk.models.backends import make_backend

    model = TextRiskModel.from_pretrained(judgement_model_dir)
    reference = model.predict_outputs(SENTENCES, risk=True)
    got = make_backend(model, "onnx-fp32", cache_dir=tmp_path).predict_outputs(SENTENCES, risk=True)
    for name in ("risk", "topics", "kind", "severity", "adverse"):
        np.testing.assert_allclose(getattr(got, name), getattr(reference, name), atol=1e-4)


def test_precomputed_features_feed_the_heads_exactly_as_the_forward_pass(judgement_model_dir):
    """Training only the heads reads the encoder's outputs computed once (encode_features); through
    forward_features they must give the forward pass's logits and losses, in input order."""
    from textrisk.models.hub import load_model

    model = load_model(judgement_model_dir).eval()
    texts = [SENTENCES[3], SENTENCES[0] * 3, SENTENCES[1]]  # lengths out of order: the cache restores order
    ids = model.tokenizer(texts, truncation=True, max_length=model.config.max_length)["input_ids"]
    pooled, risk_input = model.encode_features(ids, batch_size=2, progress=False)
    targets = torch.full((3, target_width(L)), -1.0)
    targets[:, 0] = torch.tensor([1.0, 0.0, 1.0])
    targets[:, 2 * L] = torch.tensor([0.0, 1.0, 3.0])  # kind
    labels = torch.tensor([0, 2, -100])
    with torch.no_grad():
        for i in range(3):
            one = model.tokenizer(texts[i], return_tensors="pt")
            out = model(one["input_ids"], one["attention_mask"], labels=labels[i:i + 1],
                        risk_targets=targets[i:i + 1])
            cached = model.forward_features(pooled[i:i + 1], risk_input[i:i + 1], labels=labels[i:i + 1],
                                            risk_targets=targets[i:i + 1])
            for key in ("logits", "risk_logits", "loss"):
                np.testing.assert_allclose(cached[key].numpy(), out[key].numpy(), rtol=1e-4, atol=1e-5)
    assert model.risk_loss(model.forward_features(pooled, risk_input)["risk_logits"],
                           torch.full((3, target_width(L)), -1.0)) is None
