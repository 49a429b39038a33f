"""backend="auto": int8 through ONNX Runtime, TEXTRISK_BACKEND, and the fallback (bf16 or torch) that says why."""

from __future__ import annotations

import numpy as np
import pytest

from textrisk import ConfigError, ModelLoadError, RiskAnalyzer
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


@pytest.mark.parametrize("flags, vnni", [
    ({"avx512_bf16": True, "avx512_vnni": True}, "with VNNI"),
    ({"amx_bf16": True}, "without VNNI"),
    ({"avx512_vnni": True}, "with VNNI"),
    ({}, "without VNNI"),
])
def test_auto_chooses_int8_and_names_the_cpu(risk_model_dir, unpinned, monkeypatch, flags, vnni):
    _cpu(monkeypatch, **flags)
    model = RiskAnalyzer.from_pretrained(risk_model_dir, backend="torch").model
    choice = choose_backend(model, "auto")
    assert choice.name == "onnx" and "Test CPU" in choice.reason and vnni in choice.reason


def test_auto_is_torch_for_prompt_mode(unpinned, monkeypatch):

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


def _no_onnx(*args, **kwargs):
    raise ModelLoadError("the ONNX backends need ONNX Runtime and onnx: pip install onnxruntime onnx")


def test_auto_scores_like_torch_on_each_choice(risk_model_dir, unpinned, monkeypatch, tmp_path):
    from textrisk.models.backends.onnx import OnnxBackend

    reference = RiskAnalyzer.from_pretrained(risk_model_dir, backend="torch").score(SENTENCES)
    cases = [({}, False, "onnx", "OnnxBackend"), ({"avx512_bf16": True}, True, "bf16", "AutocastBackend"),
             ({}, True, "torch", "TextRiskModel")]
    for flags, broken, expected, cls in cases:
        _cpu(monkeypatch, **flags)
        if broken:  # ONNX Runtime missing: bf16 where the CPU has it, else torch, with a warning
            monkeypatch.setattr(OnnxBackend, "from_model", _no_onnx)
            with pytest.warns(RuntimeWarning, match=f"backend 'onnx' could not be built.*pip install onnxruntime"
                                                    f".*scoring with '{expected}'"):
                analyzer = RiskAnalyzer.from_pretrained(risk_model_dir, cache_dir=tmp_path)
        else:
            analyzer = RiskAnalyzer.from_pretrained(risk_model_dir, cache_dir=tmp_path)  # backend="auto" by default
        assert analyzer.backend_choice.name == expected and type(analyzer.backend).__name__ == cls
        reports = analyzer.score(SENTENCES)
        got = np.array([r.sentiment_scores[label] for r in reports for label in analyzer.labels])
        want = np.array([r.sentiment_scores[label] for r in reference for label in analyzer.labels])
        np.testing.assert_allclose(got, want, atol=0.05)


def test_auto_falls_back_to_torch_and_says_why(risk_model_dir, unpinned, monkeypatch):
    _cpu(monkeypatch)
    model = RiskAnalyzer.from_pretrained(risk_model_dir, backend="torch").model
    real = backends.make_backend

    def broken(model, name, **kwargs):
        if name == "onnx":
            raise RuntimeError("export exploded")
        return real(model, name, **kwargs)

    monkeypatch.setattr(backends, "make_backend", broken)
    with pytest.warns(RuntimeWarning, match="backend 'onnx' could not be built.*export exploded.*'torch'"):
        runner, choice = build_backend(model, "auto")
    assert runner is model and choice.name == "torch" and "export exploded" in choice.reason
    with pytest.raises(RuntimeError, match="export exploded"):  # asked for by name: no silent fallback
        build_backend(model, "onnx")


def test_a_resumable_run_records_the_backend_it_ran(risk_model_dir, monkeypatch):
    from textrisk.batch.local import run_options

    monkeypatch.setenv(BACKEND_ENV, "bf16")
    analyzer = RiskAnalyzer.from_pretrained(risk_model_dir)
    assert run_options(analyzer)["backend"] == "bf16"  # resolved, so a resume that resolves otherwise is refused
    assert run_options(analyzer, backend="onnx")["backend"] == "onnx"


def test_verbose_says_which_backend_runs(risk_model_dir, monkeypatch, capsys):
    monkeypatch.setenv(BACKEND_ENV, "bf16")
    monkeypatch.setenv("TEXTRISK_VERBOSE", "1")
    RiskAnalyzer.from_pretrained(risk_model_dir)
    assert f"scoring with backend 'bf16' ({BACKEND_ENV}=bf16)" in capsys.readouterr().err
