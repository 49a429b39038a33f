from pathlib import Path

import pytest

from textrisk.errors import ConfigError
from textrisk.training.config import TrainConfig

from ..helpers import REPO


@pytest.mark.parametrize("path", sorted((REPO / "finetune" / "configs").glob("*.yaml")), ids=lambda p: p.name)
def test_committed_configs_are_valid(path: Path):
    from textrisk.training.config import read_yaml
    from textrisk.training.prompt import PromptTrainConfig

    prompt_mode = read_yaml(path).get("mode") == "prompt"
    config = (PromptTrainConfig if prompt_mode else TrainConfig).from_yaml(path)
    assert config.output_dir


@pytest.mark.parametrize(("text", "message"), [
    ("mode: prompt\noutput_dir: x\n", "mode must be 'head' for a TrainConfig"),
    ("mode: promt\noutput_dir: x\n", "mode must be 'head' for a TrainConfig"),
])
def test_train_config_refuses_other_modes(tmp_path, text, message):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        TrainConfig.from_yaml(path)
    path.write_text("mode: head\noutput_dir: x\n")
    assert TrainConfig.from_yaml(path).output_dir == "x"


def test_prompt_train_config_refuses_head_mode(tmp_path):
    from textrisk.training.prompt import PromptTrainConfig

    path = tmp_path / "c.yaml"
    path.write_text("mode: head\noutput_dir: x\n")
    with pytest.raises(ConfigError, match="mode must be 'prompt' for a PromptTrainConfig"):
        PromptTrainConfig.from_yaml(path)
    path.write_text("mode: prompt\noutput_dir: x\nepochs: 2\n")
    assert PromptTrainConfig.from_yaml(path, epochs=0.5).epochs == 0.5


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"epochs": "three"}, r"epochs must be float"),
        ({"batch_size": 3.5}, r"batch_size must be int"),
        ({"batch_size": True}, r"batch_size must be int"),
        ({"train_data": "fpb"}, r"train_data must be list\[str\]"),
        ({"lora_target_modules": [1, 2]}, r"lora_target_modules must be"),
        ({"learning_rate": 0}, r"learning_rate must be > 0"),
        ({"lora_dropout": 1.5}, r"lora_dropout must be < 1"),
        ({"calibration_fraction": 0.9}, r"calibration_fraction must be < 0.5"),
        ({"eval_data": ["imdb"]}, r"eval_data: 'imdb' is not one of"),
        ({"labels": ["a", "a"]}, r"labels must be >= 2 distinct"),
        ({"train_data": []}, r"train_data must not be empty"),
    ],
)
def test_bad_values_name_the_field(changes, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig.from_dict({"output_dir": "x", **changes})


def test_unknown_key_is_named(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("output_dir: x\nlearning_rat: 0.1\n")
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['learning_rat'\]"):
        TrainConfig.from_yaml(path)


def test_output_dir_required_and_yaml_errors(tmp_path):
    with pytest.raises(ConfigError, match="output_dir is required"):
        TrainConfig.from_dict({})
    path = tmp_path / "c.yaml"
    path.write_text("output_dir: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        TrainConfig.from_yaml(path)
    path.write_text("- a list\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        TrainConfig.from_yaml(path)


def test_overrides_win(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("output_dir: x\nepochs: 2\n")
    assert TrainConfig.from_yaml(path, epochs=0.5).epochs == 0.5
