"""Risk-signal evaluation on the project's tests: the model, the rules and (when the model has one) the ensemble.

Named test sets (or any labelled risk file, CSV or JSONL, with ``text`` / ``labels`` / optional ``unknown``):

- ``gold_test``: 535 hand-labelled rows retrieved with the rules' vocabulary (``finetune/risk_data/gold_test.jsonl``);
- ``random_gold``: 640 sentences drawn uniformly from FPB, TFNS, StockNet and SEC filings, labelled blind
  (``finetune/risk_data/random_gold_test.jsonl``): most carry no label, so it measures false flags;
- ``sentivent_test``: the 30 adjudicated SENTiVENT articles, mapped by :mod:`textrisk.data.sentivent` (built from the
  shared data); scored only on the labels the mapping informs and, per row, not on the labels it leaves unknown;
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
from ..utils.calibration import sigmoid

__all__ = ["RISK_TEST_FILES", "SENTIVENT_SETS", "RiskSet", "evaluate_risk_sets", "load_risk_set", "risk_table"]

#: Named sets read from ``risk_dir`` (the checkout's ``finetune/risk_data``).
RISK_TEST_FILES = {"gold_test": "gold_test.jsonl", "gold_dev": "gold_dev.jsonl",
                   "random_gold": "random_gold_test.jsonl"}
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
    else:
        path = Path(name)
        if name in RISK_TEST_FILES:
            path = Path(risk_dir or DEFAULT_RISK_DIR) / RISK_TEST_FILES[name]
            if not path.is_file():
                raise DataError(f"{name}: {path} not found; the hand-labelled risk sets ship with the repository "
                                "checkout (finetune/risk_data/): run from its root or pass --risk-dir")
        elif not path.is_file():
            raise DataError(f"--risk-data {name!r} is neither a file nor a named set "
                            f"({', '.join([*RISK_TEST_FILES, *SENTIVENT_SETS])})")
        data = load_risk_file(path, labels)
    return RiskSet(name, list(data["text"]), np.asarray(data["risk"]), np.asarray(data["known"]), list(labels))


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
        data = load_risk_set(name, labels, data_dir, risk_dir)
        macro = data.macro_labels()
        shipped = model.predict_outputs(data.texts, risk=True, batch_size=batch_size, progress=progress).risk
        systems: dict[str, Any] = {}
        if ensemble:
            head_logits = model.forward_outputs(data.texts, ("risk_logits",), batch_size=batch_size,
                                                progress=progress)["risk_logits"]
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
    return out


def risk_table(results: dict[str, Any]) -> str:
    """The results as Markdown: one row per set and system, then per-label F1."""
    lines = ["| test | system | macro F1 | micro F1 | flags / 1,000 | flagged rows / 1,000 (gold) | precision |",
             "|---|---|---|---|---|---|---|"]
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
    return "\n".join(lines)
