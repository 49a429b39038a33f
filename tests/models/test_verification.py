"""Model files and caches are verified, never trusted: weights must be finite, the temperature plausible, the
tokenizer readable, and an ONNX cache entry must be the file that was exported (else it is exported again)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from textrisk import RiskAnalyzer
from textrisk.errors import ModelLoadError

from ..helpers import SENTENCES


def _nan_head(folder):
    from safetensors.torch import load_file, save_file

    tensors = load_file(folder / "heads.safetensors")
    name = sorted(tensors)[0]
    tensors[name] = torch.full_like(tensors[name], float("nan"))
    save_file(tensors, folder / "heads.safetensors")


def _config(folder, **changes):
    path = folder / "textrisk_config.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))


@pytest.mark.parametrize(("damage", "message"), [
    (_nan_head, r"corrupt weights file .*heads.safetensors': tensor '.*' holds \d+ NaN or infinite value"),
    (lambda d: _config(d, temperature=1e-30), "temperature must be >= 0.05, got 1e-30"),
    (lambda d: _config(d, temperature=1e9), "temperature must be <= 20.0, got 1000000000.0"),
    (lambda d: (d / "tokenizer.json").write_text("{}"), r"cannot load the tokenizer in .*: KeyError"),
    (lambda d: (d / "tokenizer.json").write_text("not json"), "cannot load the tokenizer in"),
])
def test_damaged_model_files_are_refused_naming_the_file(risk_model_dir, tmp_path, damage, message):
    folder = tmp_path / "model"
    shutil.copytree(risk_model_dir, folder)
    damage(folder)
    with pytest.raises(ModelLoadError, match=message):
        RiskAnalyzer.from_pretrained(folder)


def _flip_a_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x55
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [_flip_a_byte, lambda p: p.write_bytes(p.read_bytes()[:1000]), lambda p: p.unlink(),
                                    lambda p: (p.parent / "recipe.json").write_text("{")],
                         ids=["edited", "truncated", "removed", "recipe"])
def test_a_damaged_onnx_cache_entry_is_exported_again(risk_model_dir, tmp_path, damage, monkeypatch):
    pytest.importorskip("onnxruntime", reason="the [onnx] extra is not installed")
    folder = tmp_path / "model"
    shutil.copytree(risk_model_dir, folder)
    monkeypatch.setenv("TEXTRISK_CACHE_DIR", str(tmp_path / "cache"))
    first = RiskAnalyzer.from_pretrained(folder, backend="onnx-fp32").score(SENTENCES[:3])
    (entry,) = (tmp_path / "cache" / "onnx").iterdir()
    damage(entry / "model.fp32.onnx")
    with pytest.warns(UserWarning, match=f"ONNX cache entry {entry} is damaged"):
        again = RiskAnalyzer.from_pretrained(folder, backend="onnx-fp32").score(SENTENCES[:3])
    for a, b in zip(first, again):
        assert a.sentiment == b.sentiment and np.allclose(list(a.sentiment_scores.values()),
                                                          list(b.sentiment_scores.values()), atol=1e-6)
    recipe = json.loads((entry / "recipe.json").read_text())
    assert recipe["file"] == "model.fp32.onnx" and len(recipe["sha256"]) == 64
