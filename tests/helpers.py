"""What the tests share: paths, sample sentences, tiny models built in seconds, the weight-perturbing helper and
fakes (a scoring model with hash embeddings, a monitor analyzer whose texts say their own scores, synthetic prices
and texts). Test modules import from here, never from each other; fixtures live in conftest.py."""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from hypothesis import strategies as st

from textrisk.data.datasets import find_data_dir
from textrisk.models.contract import ModelOutputs, ScoringMixin

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
DATA_DIR = find_data_dir()
needs_data = pytest.mark.skipif(DATA_DIR is None, reason="shared data not found at ../shared/data "
                                                         "(set TEXTRISK_DATA_DIR to run these tests)")

SENTENCES = [
    "Operating profit fell to EUR 3.2 mn from EUR 5.1 mn a year earlier.",
    "The company raised its full-year guidance after strong quarterly sales.",
    "Nokia will cut 1,000 jobs as network sales slump.",
    "The board proposes a dividend of EUR 0.50 per share.",
    "Shares plunged 20% after the profit warning.",
    "The contract is valued at USD 10 million.",
    "Net sales increased by 12% to EUR 45 million.",
    "The bank missed a coupon payment and was downgraded by Moody's.",
]


# hypothesis strategies: arbitrary Unicode (lone surrogates, NUL, RTL marks, emoji, line separators) and scalars
_SPECIAL_TEXTS = ["\ud800", "\udfff", "\x00", "\x00" * 3, "\u202e", "\u200f", "\u200b", "\ufeff", "\U0001f680",
            "\u05e9\u05dc\u05d5\u05dd", "\u0645\u0631\u062d\u0628\u0627", " ", "\n", "\r\n", "\u2028", "\t",
            "Profit rose.", "a" * 150, "\ufffd", "\x85"]


_ANY_CHAR = st.characters(exclude_categories=())  # every code point, lone surrogates included


ANY_TEXT = st.one_of(st.text(_ANY_CHAR, max_size=40),
                     st.lists(st.one_of(st.sampled_from(_SPECIAL_TEXTS), st.text(_ANY_CHAR, max_size=8)),
                              max_size=6).map("".join))


ANY_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False), ANY_TEXT)


# ----------------------------------------------------------------------------------------------- tiny models
def perturb(model, scale: float = 0.1, seed: int | None = None):
    """Add ``scale`` * N(0, 1) noise to every trainable weight of ``model`` (after ``torch.manual_seed(seed)`` if
    given), so fresh LoRA B matrices are no longer zero and a round trip that dropped a weight would show."""
    if seed is not None:
        torch.manual_seed(seed)
    with torch.no_grad():
        for param in model.parameters():
            if param.requires_grad:
                param.add_(torch.randn_like(param) * scale)
    return model


def save_tiny_bert(folder: Path, hidden: int = 32) -> Path:
    """A 2-layer, ``hidden``-wide BERT with the real MiniLM tokenizer, random weights."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    from textrisk.models.backbone import DEFAULT_BASE_MODEL, resolve_model_path

    tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(DEFAULT_BASE_MODEL))
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=hidden, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=256)
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def save_tiny_gpt2(folder: Path, model_class: str, n_positions: int) -> Path:
    """A 2-layer, 32-wide GPT-2 (random init) with a small byte-level BPE tokenizer that, like GPT-2's, has no
    pad token; ``model_class`` is ``"GPT2Model"`` (head mode) or ``"GPT2LMHeadModel"`` (prompt mode)."""
    import transformers
    from tokenizers import ByteLevelBPETokenizer

    torch.manual_seed(0)
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(SENTENCES * 20, vocab_size=400, special_tokens=["<|endoftext|>"])
    tokenizer = transformers.GPT2TokenizerFast(tokenizer_object=bpe._tokenizer, bos_token="<|endoftext|>",
                                               eos_token="<|endoftext|>", unk_token="<|endoftext|>")
    assert tokenizer.pad_token is None
    config = transformers.GPT2Config(vocab_size=len(tokenizer), n_embd=32, n_layer=2, n_head=2,
                                     n_positions=n_positions, bos_token_id=tokenizer.eos_token_id,
                                     eos_token_id=tokenizer.eos_token_id)
    getattr(transformers, model_class)(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def write_labelled_csv(path: Path, rows) -> str:
    """A labelled CSV (``text``, ``label`` columns) of ``(text, label)`` rows at ``path``; returns its path."""
    import csv

    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    return str(path)


def small_train_config(base, out, **changes):
    """A :class:`textrisk.training.config.TrainConfig` for a seconds-long run of ``base`` on 96 FPB rows
    (``changes`` win)."""
    from textrisk.training.config import TrainConfig

    settings = dict(output_dir=str(out), base_model=str(base), train_data=["fpb"], data_dir=str(DATA_DIR),
                    max_train_samples=96, max_length=48, lora_r=4, lora_alpha=8, epochs=2.0, batch_size=16,
                    learning_rate=5e-3, save_every_steps=3, seed=7)
    settings.update(changes)
    return TrainConfig(**settings)


def tiny_forecaster():
    """A forecaster trained for one epoch on synthetic prices and texts (``.dataset`` holds its data)."""
    from textrisk.forecast import ForecastConfig, Forecaster, build_dataset

    tickers = ("AAA", "BBB")
    ds = build_dataset(make_prices(tickers), make_texts(tickers, start="2014-12-01"), FakeModel(), cache_dir=False)
    small = {"train_start": "2015-01-01", "train_end": "2015-08-01", "dev_end": "2015-10-01",
             "test_end": "2016-01-01", "epochs": 1, "hidden_size": 8, "text_size": 8}
    model = Forecaster.train(ds, ForecastConfig(**small))
    model.dataset = ds  # for comparing outputs after a round trip
    return model


# ----------------------------------------------------------------------------------------------- fakes
class FakeModel(ScoringMixin, torch.nn.Module):
    """A scoring model (textrisk.models.contract) with deterministic hash embeddings and a linear sentiment head."""

    model_kind, tokenizer, source_dir = "fake", None, None
    labels, risk_labels, risk_thresholds, temperature, window = ["negative", "neutral", "positive"], [], {}, 1.0, 128

    def __init__(self, hidden: int = 6):
        super().__init__()
        self.config = SimpleNamespace(labels=self.labels, temperature=1.0, base_model="fake")
        self.hidden = self.embedding_size = hidden
        torch.manual_seed(0)
        self.heads = torch.nn.ModuleDict({"sentiment": torch.nn.Linear(hidden, 3)})
        self.encoded = 0

    def predict_outputs(self, texts, *, risk=False, embeddings=False, batch_size=32, progress=None):
        """Hash embeddings of ``texts`` through the linear head(s)."""
        self.encoded += len(texts)
        emb = np.stack([np.random.default_rng(int.from_bytes(hashlib.sha256(t.encode()).digest()[:4], "little"))
                        .normal(size=self.hidden) for t in texts]).astype(np.float32)
        with torch.no_grad():
            logits = self.heads["sentiment"](torch.from_numpy(emb)).numpy()
            probs = torch.sigmoid(self.heads["risk"](torch.from_numpy(emb))).numpy() if risk else None
        return ModelOutputs(logits=logits, risk=probs, embeddings=emb if embeddings else None)

    def merge_adapter(self):
        """Nothing to merge."""


def fake_risk_model(hidden: int = 6, thresholds: dict | None = None) -> FakeModel:
    """A :class:`FakeModel` with two risk signals (``liquidity``, ``litigation``) and their flag thresholds."""
    model = FakeModel(hidden)
    model.risk_labels = ["liquidity", "litigation"]
    model.risk_thresholds = thresholds or {"liquidity": 0.4, "litigation": 0.6}
    torch.manual_seed(1)
    model.heads["risk"] = torch.nn.Linear(hidden, 2)
    return model


def make_prices(tickers=("AAA", "BBB"), start="2014-09-01", end="2015-12-31", seed=0):
    """Synthetic daily OHLCV bars (a random walk) per ticker on the NYSE calendar."""
    import pandas as pd

    from textrisk.forecast.calendar import session_closes

    sessions = session_closes(start, end).index
    rng = np.random.default_rng(seed)
    prices = {}
    for ticker in tickers:
        close = 50 * np.exp(np.cumsum(rng.normal(0, 0.015, len(sessions))))
        open_ = close * np.exp(rng.normal(0, 0.005, len(sessions)))
        prices[ticker] = pd.DataFrame({
            "Date": sessions.strftime("%Y-%m-%d"), "Open": open_, "High": np.maximum(open_, close) * 1.01,
            "Low": np.minimum(open_, close) * 0.99, "Close": close, "Adj Close": close,
            "Volume": rng.integers(1_000, 100_000, len(sessions)).astype(float)})
    return prices


def make_texts(tickers=("AAA", "BBB"), start="2015-01-01", end="2015-12-31", per_day=2, seed=0):
    """Synthetic timestamped texts (0..``per_day`` a day per ticker)."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    rows = []
    for day in pd.date_range(start, end, freq="D"):
        for ticker in tickers:
            for _ in range(rng.integers(0, per_day + 1)):
                stamp = day.tz_localize("UTC") + pd.Timedelta(minutes=int(rng.integers(0, 24 * 60)))
                rows.append((ticker, stamp, f"{ticker} news {rng.integers(0, 50)}"))
    return pd.DataFrame(rows, columns=["ticker", "timestamp", "text"])


_PAIR = re.compile(r"([a-z_]+)=([0-9.]+)")


class FakeAnalyzer:
    """A monitor analyzer whose texts say their own scores: ``neg=P`` (P(negative), default 0.1) and, with
    ``signals``, ``LABEL=P`` risk probabilities, ``adverse=P`` and ``sev=S`` a judgement model's risk_score and
    severity; so index maths and rules can be checked by hand."""

    def __init__(self, signals: bool = False, delay: float = 0.0):
        self.has_risk_head = signals
        self.delay = delay
        self.model = SimpleNamespace(tokenizer=None, config={"fake": True}, state_dict=dict)  # model_identity works
        self.backend_choice = SimpleNamespace(name="fake", reason="a test fake")  # as RiskAnalyzer.backend_choice
        self.calls = 0

    def score(self, texts, progress=None):
        """One report per text, from the scores the text states."""
        from textrisk.labels.taxonomy import RISK_LABELS
        from textrisk.scoring.report import RiskReport

        self.calls += 1
        if self.delay:
            time.sleep(self.delay)
        reports = []
        for text in texts:
            values = {k: float(v) for k, v in _PAIR.findall(text)}
            neg = values.get("neg", 0.1)
            rest = (1 - neg) / 2
            scores = {"negative": neg, "neutral": rest, "positive": rest}
            report = RiskReport(sentiment=max(scores, key=scores.get), sentiment_scores=scores,
                                num_tokens=len(text.split()))
            if self.has_risk_head:
                report.risk_signals = {label: values.get(label, 0.0) for label in RISK_LABELS}
                report.flags = [k for k, p in report.risk_signals.items() if p >= 0.5]
                any_signal = 1 - math.prod(1 - p for p in report.risk_signals.values())
                report.risk_score = neg * any_signal
            if "adverse" in values:  # a judgement model: risk_score is P(adverse event or outlook)
                report.tone_risk, report.risk_score = report.risk_score, values["adverse"]
                report.severity, report.kind = values.get("sev", 2.0), "event"
            reports.append(report)
        return reports


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve_process(model_dir, *flags: str):
    """``textrisk serve`` of ``model_dir`` (None: the embedded model) in a subprocess on 127.0.0.1 and a free port,
    ready; yields ``(url, process)``; SIGTERM (then kill) at the end."""
    import httpx

    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    model = ["--model", str(model_dir)] if model_dir else []
    proc = subprocess.Popen([sys.executable, "-m", "textrisk.cli", "serve", *model, "--port", str(port), "--threads",
                             "1", "--log-level", "warning", *flags],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):  # bounded wait for start-up (a loaded machine can take a while)
            if proc.poll() is not None:
                raise AssertionError(f"server exited with {proc.returncode}: {proc.stdout.read()}")
            try:
                if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        else:
            raise AssertionError("server did not become ready")
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install chromium)")


def chromium(profile, *args, timeout=120):
    """Run headless Chromium (Debian's) with a private profile, no network of its own, console logged to stderr."""
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
               f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def console_messages(stderr):
    """The page's console messages in Chromium's log."""
    return re.findall(r":CONSOLE[^\]]*\] (.*)", stderr)
