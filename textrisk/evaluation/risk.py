"""Risk-signal evaluation on the project's tests: the model, the rules and (when the model has one) the ensemble.

Named test sets (or any labelled risk file, CSV or JSONL, with ``text`` / ``labels`` / optional ``unknown``):

- ``gold_test``: 535 hand-labelled rows retrieved with the rules' vocabulary (``finetune/risk_data/gold_test.jsonl``);
- ``random_gold``: 640 sentences drawn uniformly from FPB, TFNS, StockNet and SEC filings, labelled blind
  (``finetune/risk_data/random_gold_test.jsonl``): most carry no label, so it measures false flags;
- ``sentivent_test``: the 30 adjudicated SENTiVENT articles, mapped by :mod:`textrisk.data.sentivent` (built from the
  shared data); scored only on the labels the mapping informs and, per row, not on the labels it leaves unknown;
- ``filings_test``: 450 passages drawn uniformly from the filings of 19 filers kept out of training, labelled with
  every judgement field (``finetune/risk_data/corpus/filings_test.jsonl``): signals, and for a judgement model kind
  accuracy, severity accuracy and the adverse probability's ROC AUC;
- ``contrast``: 141 minimal pairs (``finetune/risk_data/corpus/contrast_set.jsonl``): the share of pairs whose riskier
  side gets the higher ``risk_score`` (overall and per category; ties count as errors) and the signal flags of both
  sides against their labels;
- ``gold_dev`` / ``sentivent_dev``: the dev sets (what thresholds and the stacker were fitted on: not a test).

The ``gold_*`` / ``random_gold`` files ship with the repository checkout, not the wheel (``risk_dir``, default
``finetune/risk_data`` under the current folder). Macro F1 averages the labels with at least one positive in the
set (a label without test positives says nothing about recall); every label is listed per label.

Systems: ``model`` (the risk head alone, at its own tuned thresholds), ``rules`` (the labelling functions
through the label model stored with the ensemble, else a majority vote) and ``ensemble`` (the model's shipped
probabilities: the stacker over both, at the model's thresholds).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError, ModelLoadError
from ..labels.label_model import label_matrix_of_rules
from ..metrics.reports import multilabel_report
from ..models.contract import ScoringModel, as_scoring_model
from ..models.head.layout import group_slices
from ..utils.calibration import sigmoid
from .judgement import judgement_metrics

__all__ = ["CONTRAST_FILE", "RISK_TEST_FILES", "SENTIVENT_SETS", "RiskSet", "evaluate_contrast", "evaluate_risk_sets",
           "load_risk_set", "risk_scores", "risk_table"]

#: Named sets read from ``risk_dir`` (the checkout's ``finetune/risk_data``).
RISK_TEST_FILES = {"gold_test": "gold_test.jsonl", "gold_dev": "gold_dev.jsonl",
                   "random_gold": "random_gold_test.jsonl", "filings_test": "corpus/filings_test.jsonl"}
#: The contrast set (minimal pairs), under ``risk_dir``.
CONTRAST_FILE = "corpus/contrast_set.jsonl"
#: Named sets built from the shared data's SENTiVENT folder: name -> split.
SENTIVENT_SETS = {"sentivent_test": "test", "sentivent_dev": "dev"}
DEFAULT_RISK_DIR = Path("finetune") / "risk_data"


@dataclass
class RiskSet:
    """A labelled risk set: ``targets`` / ``known`` are ``(rows, labels)`` 0/1 matrices in ``labels`` order."""

    name: str
    texts: list[str]
    targets: np.ndarray
    known: np.ndarray
    labels: list[str]
    groups: list[str] = field(default_factory=list)  # optional: rows of one group (an article) stay in one fold
    judgement: np.ndarray | None = None  # (rows, labels + 3) topics | kind | severity | adverse, -1 where absent

    def __len__(self) -> int:
        return len(self.texts)

    def macro_labels(self) -> list[str]:
        """The labels with at least one annotated positive (what macro F1 averages over)."""
        return [label for k, label in enumerate(self.labels) if (self.targets[:, k] * self.known[:, k]).sum() > 0]


def load_risk_set(name: str, labels: list[str], data_dir: str | os.PathLike | None = None,
                  risk_dir: str | os.PathLike | None = None) -> RiskSet:
    """A named set (see the module docstring) or a labelled risk file.

    Raises:
        DataError: an unknown name that is not a file, a missing checkout file, or a malformed row.
    """
    from ..data.datasets import find_data_dir, load_risk_file

    if name in SENTIVENT_SETS:
        import json
        import tempfile

        from ..data.sentivent import split_rows

        folder = find_data_dir(data_dir)
        if folder is None:
            raise DataError(f"{name} is built from the shared data's sentivent/ folder, which was not found: pass "
                            "--data-dir or set TEXTRISK_DATA_DIR")
        rows = split_rows(Path(folder), SENTIVENT_SETS[name])
        with tempfile.TemporaryDirectory() as tmp:  # one loader for every set: rows go through load_risk_file
            path = Path(tmp) / f"{name}.jsonl"
            path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
            data = load_risk_file(path, labels)
        return RiskSet(name, list(data["text"]), np.asarray(data["risk"]), np.asarray(data["known"]), list(labels))
    else:
        path = Path(name)
        if name in RISK_TEST_FILES:
            path = Path(risk_dir or DEFAULT_RISK_DIR) / RISK_TEST_FILES[name]
            if not path.is_file():
                raise DataError(f"{name}: {path} not found; the hand-labelled risk sets ship with the repository "
                                "checkout (finetune/risk_data/): run from its root or pass --risk-dir")
        elif not path.is_file():
            raise DataError(f"--risk-data {name!r} is neither a file nor a named set "
                            f"({', '.join([*RISK_TEST_FILES, *SENTIVENT_SETS, 'contrast'])})")
        data = load_risk_file(path, labels, judgement=True)
    judged = np.asarray(data["judgement"])
    return RiskSet(name, list(data["text"]), np.asarray(data["risk"]), np.asarray(data["known"]), list(labels),
                   judgement=judged if (judged[:, -3:] >= 0).any() else None)


def evaluate_risk_sets(model: ScoringModel, names: list[str], data_dir: str | os.PathLike | None = None,
                       risk_dir: str | os.PathLike | None = None, batch_size: int = 64,
                       progress: bool | None = None) -> dict[str, Any]:
    """Per set and system (``model``, ``rules``, ``ensemble``): per-label precision / recall / F1, macro and micro
    F1, flags per 1,000 sentences and flag precision (see the module docstring)."""
    model = as_scoring_model(model)
    labels = list(model.risk_labels)
    if not labels:
        raise ModelLoadError("this model has no risk signals (sentiment only); --risk-data needs a model with a "
                             "risk head or a prompt-mode model with a risk template")
    ensemble = getattr(getattr(model, "config", None), "risk_ensemble", None) or None
    out: dict[str, Any] = {}
    for name in names:
        if name == "contrast":
            out[name] = evaluate_contrast(model, Path(risk_dir or DEFAULT_RISK_DIR) / CONTRAST_FILE, batch_size,
                                          progress)
            continue
        data = load_risk_set(name, labels, data_dir, risk_dir)
        macro = data.macro_labels()
        outputs = model.predict_outputs(data.texts, risk=True, batch_size=batch_size, progress=progress)
        shipped = outputs.risk
        systems: dict[str, Any] = {}
        if ensemble:
            signals = group_slices(len(labels), model.config.risk_outputs)["signals"]  # a judgement head's first
            head_logits = model.forward_outputs(data.texts, ("risk_logits",), batch_size=batch_size,
                                                progress=progress)["risk_logits"][:, signals]
            systems["model"] = multilabel_report(data.targets, sigmoid(head_logits), labels,
                                                 ensemble.get("head_thresholds"), data.known, macro)
        else:
            systems["model"] = multilabel_report(data.targets, shipped, labels, model.risk_thresholds, data.known,
                                                 macro)
        predicted, combiner = label_matrix_of_rules(data.texts, labels, (ensemble or {}).get("label_model"))
        systems["rules"] = {**multilabel_report(data.targets, predicted, labels, None, data.known, macro),
                            "combiner": combiner}
        if ensemble:
            systems["ensemble"] = multilabel_report(data.targets, shipped, labels, model.risk_thresholds, data.known,
                                                    macro)
        out[name] = {"rows": len(data.texts), "macro_labels": macro, "systems": systems}
        if data.judgement is not None and outputs.adverse is not None:
            out[name]["judgement"] = judgement_metrics(outputs, data.judgement)
    return out


def risk_scores(model: ScoringModel, outputs: Any) -> np.ndarray:
    """Each text's ``risk_score`` as :class:`~textrisk.RiskAnalyzer` reports it for a one-chunk text: a judgement
    model's adverse probability, else ``P(negative) * P(at least one signal)``."""
    if outputs.adverse is not None:
        return np.asarray(outputs.adverse, dtype=np.float64)
    from ..utils.calibration import softmax

    negative = softmax(outputs.logits, model.temperature)[:, list(model.labels).index("negative")]
    return negative * (1.0 - np.prod(1.0 - outputs.risk, axis=1))


def evaluate_contrast(model: ScoringModel, path: Path, batch_size: int = 64, progress: bool | None = None
                      ) -> dict[str, Any]:
    """Pairwise ordering accuracy of ``risk_score`` on the contrast set (overall and per category; a tie counts
    as an error) and the signal flags of every side against its derived signals (topics of events and outlooks)."""
    import json

    from ..labels.taxonomy import ADVERSE_KINDS

    if not path.is_file():
        raise DataError(f"contrast: {path} not found; the contrast set ships with the repository checkout "
                        "(finetune/risk_data/corpus/): run from its root or pass --risk-dir")
    pairs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    labels = list(model.risk_labels)
    sides = [pair[side] for pair in pairs for side in ("a", "b")]
    outputs = model.predict_outputs([s["text"] for s in sides], risk=True, batch_size=batch_size, progress=progress)
    scores = risk_scores(model, outputs).reshape(len(pairs), 2)
    right = np.array([scores[i, 0 if p["higher"] == "a" else 1] > scores[i, 1 if p["higher"] == "a" else 0]
                      for i, p in enumerate(pairs)])
    categories = sorted({p["category"] for p in pairs})
    per_category = {c: float(right[[p["category"] == c for p in pairs]].mean()) for c in categories}
    targets = np.array([[label in s["topics"] and s["kind"] in ADVERSE_KINDS for label in labels] for s in sides])
    flags = multilabel_report(targets, outputs.risk, labels, model.risk_thresholds)
    return {"pairs": len(pairs), "ordered": float(right.mean()), "per_category": per_category,
            "flags": {k: flags[k] for k in ("macro_f1", "micro_f1", "flag_precision", "flags_per_1000")},
            "score": "adverse probability" if outputs.adverse is not None else "P(negative) * P(any signal)"}


def risk_table(results: dict[str, Any]) -> str:
    """The results as Markdown: one row per set and system, then per-label F1, the judgement and contrast lines."""
    lines = ["| test | system | macro F1 | micro F1 | flags / 1,000 | flagged rows / 1,000 (gold) | precision |",
             "|---|---|---|---|---|---|---|"]
    contrast = {name: results[name] for name in results if "systems" not in results[name]}
    results = {name: r for name, r in results.items() if name not in contrast}
    for name, result in results.items():
        for system, r in result["systems"].items():
            precision = "n/a" if r["flag_precision"] is None else f"{r['flag_precision']:.3f}"
            lines.append(f"| {name} ({result['rows']}) | {system} | {r['macro_f1']:.3f} | {r['micro_f1']:.3f} | "
                         f"{r['flags_per_1000']:.1f} | {r['flagged_rows_per_1000']:.1f} ({r['gold_rows_per_1000']:.1f})"
                         f" | {precision} |")
    for name, result in results.items():
        systems = list(result["systems"])
        lines += ["", f"{name}: per-label F1 (support)", "| label | " + " | ".join(systems) + " |",
                  "|---|" + "---|" * len(systems)]
        first = result["systems"][systems[0]]["per_label"]
        for label in first:
            cells = [f"{result['systems'][s]['per_label'][label]['f1']:.3f}" for s in systems]
            mark = "" if label in result["macro_labels"] else " (no positives)"
            lines.append(f"| {label} ({first[label]['support']}){mark} | " + " | ".join(cells) + " |")
    for name, result in results.items():
        judged = result.get("judgement")
        if judged:
            parts = [f"{key} {judged[key]:.3f}" for key in ("kind_accuracy", "severity_accuracy", "adverse_auc",
                                                            "adverse_ap", "adverse_ece") if key in judged]
            lines += ["", f"{name} judgement: " + ", ".join(parts)]
    for name, result in contrast.items():
        per = ", ".join(f"{c} {v:.2f}" for c, v in result["per_category"].items())
        lines += ["", f"{name}: {result['ordered']:.3f} of {result['pairs']} pairs ordered by risk_score "
                      f"({result['score']}); by category: {per}",
                  f"{name} flags: macro F1 {result['flags']['macro_f1']:.3f}, precision "
                  f"{result['flags']['flag_precision'] or 0:.3f}"]
    return "\n".join(lines)
