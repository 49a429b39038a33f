"""What a wheel user gets: run with the interpreter of a fresh venv holding the non-editable textrisk wheel.

    python .ci/wheel_check.py CHECKOUT

Checks that the wheel holds every textrisk package of the checkout and nothing else: no ``finetune``,
``benchmarks``, ``research`` or ``tests`` package, no benchmark or research module inside ``textrisk`` (the wheel's
file list is read from the installed distribution), no installed module importing checkout-only code; that the
default templates are package data (not read from the checkout); and that prompt mode with the default templates
scores texts on a tiny random GPT-2 (built here, offline) through ``RiskAnalyzer``, also after a save/load.
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import re
import sys
import tempfile
from pathlib import Path

SENTENCES = ["Operating profit fell sharply.", "Net sales rose to a record high.", "The company kept its outlook.",
             "The bank missed a coupon payment.", "Shares plunged after the profit warning."]


def tiny_gpt2(folder: Path) -> Path:
    """A 2-layer, 32-wide random GPT-2 LM with a small byte-level BPE tokenizer trained on SENTENCES."""
    import torch
    import transformers
    from tokenizers import ByteLevelBPETokenizer

    torch.manual_seed(0)
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(SENTENCES * 20, vocab_size=400, special_tokens=["<|endoftext|>"])
    tokenizer = transformers.GPT2TokenizerFast(tokenizer_object=bpe._tokenizer, bos_token="<|endoftext|>",
                                               eos_token="<|endoftext|>", unk_token="<|endoftext|>")
    config = transformers.GPT2Config(vocab_size=len(tokenizer), n_embd=32, n_layer=2, n_head=2, n_positions=256,
                                     bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id)
    transformers.GPT2LMHeadModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


#: Packages of the checkout that must never be installed.
CHECKOUT_ONLY = ("benchmarks", "finetune", "research", "tests", "notebooks")
#: Benchmark and research modules that left the package in 0.2.0 (for benchmarks/), and any module named like one.
MOVED_OUT = ("textrisk/prompt/bench.py", "textrisk/prompt/generate.py", "textrisk/forecast/bench.py",
             "textrisk/forecast/risk_bench.py", "textrisk/forecast/bench_tables.py", "textrisk/forecast/risk_scores.py",
             "textrisk/forecast/stocknet.py")
BENCHMARK_NAME = re.compile(r"(^|/)(benchmarks?|research)(/|$)|bench[^/]*\.py$")


def check_no_benchmark_code(installed: Path) -> list[str]:
    """The wheel's files (as installed) that are benchmark, research or checkout-only code; [] when clean."""
    files = [str(f) for f in importlib.metadata.files("textrisk") or []]
    assert any(f.startswith("textrisk/") for f in files), f"no textrisk files listed in the distribution: {files[:5]}"
    bad = [f for f in files if f.endswith(".py") and (f.split("/")[0] in CHECKOUT_ONLY or f in MOVED_OUT
                                                       or BENCHMARK_NAME.search(f))]
    for path in sorted(installed.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if (
                isinstance(node, ast.ImportFrom) and node.level == 0) else []
            bad += [f"{path.relative_to(installed.parent)} imports {name}" for name in names
                    if name.split(".")[0] in CHECKOUT_ONLY]
    return bad


def main(checkout: Path) -> int:
    """Run the checks; raises AssertionError naming the first one that fails."""
    import textrisk
    from textrisk import RiskAnalyzer
    from textrisk.models.prompt import PromptModel
    from textrisk.models.prompt.templates import PROMPTS_DIR

    installed = Path(textrisk.__file__).resolve().parent
    assert checkout.resolve() not in installed.parents, f"textrisk is imported from the checkout ({installed})"
    for package in ("benchmarks", "finetune", "research"):  # (other distributions may install a "tests")
        assert importlib.util.find_spec(package) is None, f"the wheel installs a {package!r} package"
    bad = check_no_benchmark_code(installed)
    assert not bad, f"the wheel holds benchmark or research code: {bad}"
    for init in sorted((checkout / "textrisk").rglob("__init__.py")):
        package = init.parent.relative_to(checkout)
        assert (installed.parent / package / "__init__.py").is_file(), f"the wheel lacks the package {package}"
    assert installed in PROMPTS_DIR.parents, f"default templates read from {PROMPTS_DIR}, not the package"
    from textrisk.models.backbone import EMBEDDED_MODELS

    for name, folder in EMBEDDED_MODELS.items():  # the embedded models are package data, loaded by name
        assert installed in folder.parents and (folder / "heads.safetensors").is_file(), f"{name}: {folder}"
        judged = RiskAnalyzer.from_pretrained(name).score(SENTENCES[3:4])[0]
        assert judged.kind is not None and 0 <= judged.risk_score <= 1, (name, judged.to_dict())
    with tempfile.TemporaryDirectory() as tmp:
        model = PromptModel.from_base(str(tiny_gpt2(Path(tmp) / "gpt2")))  # default templates: prompts/*.txt
        assert sorted(model.templates) == ["risk_signals", "sentiment"], sorted(model.templates)
        reports = RiskAnalyzer(model).score(SENTENCES)
        assert all(abs(sum(r.sentiment_scores.values()) - 1) < 1e-5 for r in reports)
        signals = model.predict_risk(SENTENCES[:2])
        assert signals.shape == (2, len(model.risk_labels)) and ((signals >= 0) & (signals <= 1)).all(), signals
        saved = model.save_pretrained(Path(tmp) / "saved")
        again = RiskAnalyzer.from_pretrained(saved, merge=False).score(SENTENCES)  # unmerged, like `reports`
        assert [r.to_dict() for r in again] == [r.to_dict() for r in reports], "save/load changed the scores"
    print(f"wheel check passed: textrisk from {installed}, {len(reports)} texts scored in prompt mode, "
          f"labels {model.config.labels}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else ".")))
