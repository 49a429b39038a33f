"""Scoring backends: LoRA merged by default (same scores, adapter still saved), ONNX Runtime int8/fp32, bf16."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from textrisk import ConfigError, RiskAnalyzer
from textrisk.models.backends import make_backend

from ..helpers import SENTENCES

onnxruntime = pytest.importorskip("onnxruntime", reason="the [onnx] extra is not installed")

from textrisk.models.backends import onnx as onnx_backend  # noqa: E402


def _outputs(backend, keys=("logits", "risk_logits", "embeddings")):
    return backend.forward_outputs(SENTENCES * 3, keys, batch_size=5, progress=False)


def test_merge_by_default_gives_the_same_scores_and_still_saves_an_adapter(risk_model_dir, tmp_path):
    unmerged = RiskAnalyzer.from_pretrained(risk_model_dir, merge=False)
    merged = RiskAnalyzer.from_pretrained(risk_model_dir)
    a, b = _outputs(unmerged.model), _outputs(merged.model)
    with unmerged.model.backbone.disable_adapter():  # the LoRA weights do change the outputs
        assert not np.allclose(_outputs(unmerged.model)["logits"], a["logits"], atol=1e-2)
    for key in a:  # float rounding of W + BA vs Wx + B(Ax)
        np.testing.assert_allclose(a[key], b[key], atol=1e-4, rtol=1e-5)
    for x, y in zip(unmerged.score(SENTENCES), merged.score(SENTENCES)):
        assert x.sentiment == y.sentiment and x.flags == y.flags
        assert x.sentiment_scores == pytest.approx(y.sentiment_scores, abs=1e-5)
    merged.save_pretrained(tmp_path / "saved")
    assert (tmp_path / "saved" / "adapter_model.safetensors").is_file()
    assert not (tmp_path / "saved" / "model.safetensors").exists()
    again = RiskAnalyzer.from_pretrained(tmp_path / "saved", merge=False)
    np.testing.assert_allclose(_outputs(again.model)["logits"], a["logits"], atol=1e-6, rtol=0)


@pytest.mark.parametrize("name, atol", [("onnx-fp32", 1e-4), ("onnx", None)])
def test_onnx_backend_matches_torch(risk_model_dir, tmp_path, name, atol):
    model = RiskAnalyzer.from_pretrained(risk_model_dir).model
    reference = _outputs(model)
    backend = make_backend(model, name, cache_dir=tmp_path)
    got = _outputs(backend)
    for key in reference:
        assert got[key].shape == reference[key].shape
        scale = float(np.abs(reference[key]).max())
        np.testing.assert_allclose(got[key], reference[key], rtol=0, atol=atol or 0.05 * scale)
    assert np.array_equal(got["logits"].argmax(1), reference["logits"].argmax(1))
    assert np.array_equal(got["risk_logits"] > 0, reference["risk_logits"] > 0)


def test_analyzer_with_onnx_backend_scores_like_torch(risk_model_dir, tmp_path):
    torch_reports = RiskAnalyzer.from_pretrained(risk_model_dir).score(SENTENCES)
    onnx_reports = RiskAnalyzer.from_pretrained(risk_model_dir, backend="onnx-fp32", cache_dir=tmp_path).score(
        SENTENCES)
    for a, b in zip(torch_reports, onnx_reports):
        assert a.sentiment == b.sentiment and a.flags == b.flags
        assert a.sentiment_scores == pytest.approx(b.sentiment_scores, abs=1e-4)
        assert a.risk_signals == pytest.approx(b.risk_signals, abs=1e-4)


def test_onnx_cache_is_reused_and_invalidated_in_the_user_cache(risk_model_dir, tmp_path, monkeypatch):
    import shutil

    folder = tmp_path / "model"
    shutil.copytree(risk_model_dir, folder)
    monkeypatch.setenv(onnx_backend.CACHE_ENV, str(tmp_path / "user-cache"))
    model = RiskAnalyzer.from_pretrained(folder).model
    first = make_backend(model, "onnx")
    assert first.path.parent.parent == tmp_path / "user-cache" / "onnx" and first.path.is_file()
    assert not (folder / "onnx").exists()  # never inside the model folder
    exports = []
    real_export = torch.onnx.export
    monkeypatch.setattr(torch.onnx, "export", lambda *a, **k: exports.append(1) or real_export(*a, **k))
    again = make_backend(RiskAnalyzer.from_pretrained(folder).model, "onnx")
    assert again.path == first.path and exports == []  # reused: no second export
    with torch.no_grad():
        model.heads["sentiment"].bias.add_(1.0)  # changed weights: a new fingerprint
    changed = make_backend(model, "onnx")
    assert changed.path != first.path and exports == [1]
    assert not first.path.parent.exists()  # the stale entry of this folder's earlier weights is removed
    entries = [p.name for p in (tmp_path / "user-cache" / "onnx").iterdir()]
    assert entries == [changed.path.parent.name]  # no temporary leftovers
    np.testing.assert_allclose(_outputs(changed, ("logits",))["logits"] - 1.0,
                               _outputs(first if first.path.exists() else again, ("logits",))["logits"], atol=0.1)


def test_the_default_cache_is_the_platform_user_cache_folder_never_the_package(monkeypatch, tmp_path):
    import textrisk
    from textrisk.utils.cache import cache_dir

    monkeypatch.delenv(onnx_backend.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir("onnx") == tmp_path / "xdg" / "textrisk" / "onnx"
    assert not cache_dir("onnx").is_relative_to(Path(textrisk.__file__).parent)
    monkeypatch.setenv(onnx_backend.CACHE_ENV, str(tmp_path / "mine"))
    assert cache_dir("embeddings") == tmp_path / "mine" / "embeddings"


def test_bf16_backend_is_close_to_fp32(risk_model_dir):
    model = RiskAnalyzer.from_pretrained(risk_model_dir).model
    reference, got = _outputs(model), _outputs(make_backend(model, "bf16"))
    for key in reference:
        assert got[key].dtype == np.float32
        np.testing.assert_allclose(got[key], reference[key], rtol=0, atol=0.1 * float(np.abs(reference[key]).max()))


def test_unknown_backend_is_a_config_error(risk_model_dir):
    with pytest.raises(ConfigError, match="backend must be one of"):
        RiskAnalyzer.from_pretrained(risk_model_dir, backend="tensorrt")


def test_int8_recipe_layers_kept_in_fp32():
    names = [f"/backbone/encoder/layer.{i}/attention/MatMul" for i in range(6)] + ["/heads/sentiment/MatMul"]
    kept = onnx_backend._fp32_layer_nodes
    assert kept(names, "first_last") == [names[0], names[5]]
    assert kept(names, "none") == []
    assert kept(names, [-2, -1]) == [names[4], names[5]]
    assert kept(["/h.0/mlp/MatMul", "/h.1/mlp/MatMul"], "first_last") == ["/h.0/mlp/MatMul", "/h.1/mlp/MatMul"]
    with pytest.raises(ValueError, match="keep_fp32_layers"):
        kept(names, "middle")
