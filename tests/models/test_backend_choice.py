"""backend="auto": what it chooses on which CPU, TEXTRISK_BACKEND, and the fallback to torch that says why."""

from __future__ import annotations

import numpy as np
import pytest

from textrisk import ConfigError, RiskAnalyzer
from textrisk.models import backends
from textrisk.models.backends import BACKEND_ENV, build_backend, choose_backend
from textrisk.utils import cpu as cpu_module
from textrisk.utils.cpu import CpuInfo, cpu_info

from ..helpers import SENTENCES


def _cpu(monkeypatch, **flags):
    info = CpuInfo("Test CPU", 2, {name: bool(flags.get(name)) for name in cpu_module.FLAGS})
    monkeypatch.setattr(cpu_module, "cpu_info", lambda: info)


@pytest.fixture
def unpinned(monkeypatch):
    monkeypatch.delenv(BACKEND_ENV, raising=False)


def test_cpu_info_reads_this_machine():
    info = cpu_info()
    assert info.model and info.cpus >= 1 and set(info.flags) == set(cpu_module.FLAGS)
    assert info.model in info.describe()


@pytest.mark.parametrize("flags, expected", [
    ({"avx512_bf16": True, "avx512_vnni": True}, "bf16"),
    ({"amx_bf16": True}, "bf16"),
    ({"bf16": True}, "bf16"),  # ARM
    ({"avx512_vnni": True}, "onnx"),
    ({"avx2": True}, "onnx"),
    ({}, "onnx"),
])
def test_auto_chooses_by_cpu(risk_model_dir, unpinned, monkeypatch, flags, expected):
    _cpu(monkeypatch, **flags)
    model = RiskAnalyzer.from_pretrained(risk_model_dir, backend="torch").model
    choice = choose_backend(model, "auto")
    assert choice.name == expected and "Test CPU" in choice.reason


def test_auto_is_torch_for_prompt_mode(unpinned, monkeypatch):
    _cpu(monkeypatch, avx512_bf16=True)

    class Prompt:
        model_kind = "prompt"

    assert choose_backend(Prompt()).name == "torch"


def test_environment_pins_auto_and_is_checked(risk_model_dir, monkeypatch):
    model = RiskAnalyzer.from_pretrained(risk_model_dir, backend="torch").model
    monkeypatch.setenv(BACKEND_ENV, "onnx-fp32")
    assert choose_backend(model) == backends.BackendChoice("onnx-fp32", f"{BACKEND_ENV}=onnx-fp32")
    assert choose_backend(model, "torch").name == "torch"  # a name given explicitly wins
    monkeypatch.setenv(BACKEND_ENV, "fast")
    with pytest.raises(ConfigError, match=BACKEND_ENV):
        choose_backend(model)
    with pytest.raises(ConfigError, match="backend must be one of"):
        choose_backend(model, "gpu")


def test_auto_scores_like_torch_on_each_choice(risk_model_dir, unpinned, monkeypatch, tmp_path):
    reference = RiskAnalyzer.from_pretrained(risk_model_dir, backend="torch").score(SENTENCES)
    for flags, expected, cls in [({"avx512_bf16": True}, "bf16", "AutocastBackend"), ({}, "onnx", "OnnxBackend")]:
        _cpu(monkeypatch, **flags)
        analyzer = RiskAnalyzer.from_pretrained(risk_model_dir, cache_dir=tmp_path)  # backend="auto" by default
        assert analyzer.backend_choice.name == expected and type(analyzer.backend).__name__ == cls
        reports = analyzer.score(SENTENCES)
        got = np.array([r.sentiment_scores[label] for r in reports for label in analyzer.labels])
        want = np.array([r.sentiment_scores[label] for r in reference for label in analyzer.labels])
        np.testing.assert_allclose(got, want, atol=0.05)


def test_auto_falls_back_to_torch_and_says_why(risk_model_dir, unpinned, monkeypatch):
    _cpu(monkeypatch)
    model = RiskAnalyzer.from_pretrained(risk_model_dir, backend="torch").model

    def broken(*args, **kwargs):
        raise RuntimeError("export exploded")

    monkeypatch.setattr(backends, "make_backend", broken)
    with pytest.warns(RuntimeWarning, match="backend 'onnx' could not be built.*export exploded.*torch"):
        runner, choice = build_backend(model, "auto")
    assert runner is model and choice.name == "torch" and "export exploded" in choice.reason
    with pytest.raises(RuntimeError, match="export exploded"):  # asked for by name: no silent fallback
        build_backend(model, "onnx")


def test_a_resumable_run_records_the_backend_it_ran(risk_model_dir, unpinned, monkeypatch):
    from textrisk.batch.local import run_options

    _cpu(monkeypatch, avx512_bf16=True)
    analyzer = RiskAnalyzer.from_pretrained(risk_model_dir)
    assert run_options(analyzer)["backend"] == "bf16"  # resolved, so a resume on another CPU is refused, not mixed
    assert run_options(analyzer, backend="onnx")["backend"] == "onnx"


def test_verbose_says_which_backend_runs(risk_model_dir, unpinned, monkeypatch, capsys):
    _cpu(monkeypatch, avx512_bf16=True)
    monkeypatch.setenv("TEXTRISK_VERBOSE", "1")
    RiskAnalyzer.from_pretrained(risk_model_dir)
    assert "scoring with backend 'bf16' (the CPU computes bfloat16 natively (Test CPU))" in capsys.readouterr().err
