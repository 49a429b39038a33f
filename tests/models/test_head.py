import json

import pytest
import torch

from textrisk.errors import ModelLoadError
from textrisk.models.head.model import TextRiskModel

from ..helpers import SENTENCES, perturb


def _trained_model(path) -> TextRiskModel:
    """A model whose LoRA and head weights are non-trivial (fresh LoRA B matrices are zero)."""
    torch.manual_seed(1)
    return perturb(TextRiskModel.from_base(str(path), lora_r=4), 0.05).eval()


def _logits(model: TextRiskModel) -> torch.Tensor:
    with torch.no_grad():
        return model(**model.encode(SENTENCES))["logits"]


def test_merged_save_keeps_head_and_logits(tiny_backbone, tmp_path):
    model = _trained_model(tiny_backbone)
    before = _logits(model)
    model.save_pretrained(tmp_path / "merged", merged=True)
    assert (tmp_path / "merged" / "model.safetensors").is_file()
    assert not (tmp_path / "merged" / "adapter_model.safetensors").exists()
    reloaded = TextRiskModel.from_pretrained(tmp_path / "merged")
    assert reloaded.config.adapter is False
    torch.testing.assert_close(before, _logits(reloaded), atol=1e-5, rtol=1e-4)
    model.merge_adapter()  # in place: the head must survive the merge
    torch.testing.assert_close(before, _logits(model), atol=1e-5, rtol=1e-4)


def test_adapter_loads_with_peft_alone(tiny_bert, tmp_path):
    """The adapter folder is plain peft: loadable without textrisk, giving the same pooled features."""
    from peft import PeftModel
    from safetensors.torch import load_file
    from transformers import AutoModel

    model = _trained_model(tiny_bert)
    model.save_pretrained(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == str(tiny_bert)
    body = PeftModel.from_pretrained(AutoModel.from_pretrained(tiny_bert), tmp_path / "m").eval()
    heads = load_file(tmp_path / "m" / "heads.safetensors")
    batch = model.encode(SENTENCES)
    with torch.no_grad():
        hidden = body(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        pooled = (hidden * mask).sum(1) / mask.sum(1)
        logits = pooled @ heads["sentiment.weight"].T + heads["sentiment.bias"]
    torch.testing.assert_close(logits, _logits(model), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(
    ("damage", "message"),
    [  # damaged and missing files of every model kind: tests/test_model_contract.py
        (lambda d: (d / "textrisk_config.json").write_text('{"labels": ["a"]}'), "at least 2 label"),
        (lambda d: (d / "textrisk_config.json").write_text('{"max_length": 4096}'), r"exceeds .* positions"),
        (lambda d: (d / "textrisk_config.json").write_text('{"temperature": -1}'),
         "temperature must be >= 0.05, got -1"),
        (lambda d: (d / "textrisk_config.json").write_text('{"risk_thresholds": {"x": 0.5}}'), "lacks"),
    ],
)
def test_damaged_model_folder(tiny_bert, tmp_path, damage, message):
    _trained_model(tiny_bert).save_pretrained(tmp_path / "m")
    damage(tmp_path / "m")
    with pytest.raises(ModelLoadError, match=message):
        TextRiskModel.from_pretrained(tmp_path / "m")


def test_adapter_for_a_different_base_model(tiny_bert, other_tiny_bert, tmp_path):
    _trained_model(tiny_bert).save_pretrained(tmp_path / "m")
    with pytest.raises(ModelLoadError, match=r"does not match .*hidden_size: saved for 32, got 48"):
        TextRiskModel.from_pretrained(tmp_path / "m", base_model=str(other_tiny_bert))


def test_saving_twice_switches_weight_kind(tiny_bert, tmp_path):
    model = _trained_model(tiny_bert)
    model.save_pretrained(tmp_path / "m", merged=True)
    model.save_pretrained(tmp_path / "m")
    assert not (tmp_path / "m" / "model.safetensors").exists()
    assert TextRiskModel.from_pretrained(tmp_path / "m").config.adapter is True


def test_predict_risk_is_the_sigmoid_of_the_risk_head(tiny_bert):
    model = TextRiskModel.from_base(str(tiny_bert), risk_labels=["credit", "macro"])
    probs = model.predict_risk(SENTENCES)
    logits = model.forward_outputs(SENTENCES, ("risk_logits",))["risk_logits"]
    assert probs.shape == (len(SENTENCES), 2)
    assert probs == pytest.approx(torch.sigmoid(torch.as_tensor(logits, dtype=torch.float64)).numpy())
    with pytest.raises(ModelLoadError, match="no risk head"):
        TextRiskModel.from_base(str(tiny_bert)).predict_risk(SENTENCES)
