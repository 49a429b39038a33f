"""Model cards generated from what training actually did (setfit-style: a dataclass filled by the trainer)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DATA_SOURCES", "ModelCardData", "render_model_card"]

#: Licence and description of the data sources textrisk knows by name.
DATA_SOURCES: dict[str, dict[str, str]] = {
    "fpb": {
        "name": "Financial PhraseBank v1.0, 50%-agreement sentences (Malo et al., 2014), train part of the "
                "standard split (train_test_split(test_size=0.25, seed=42)); test-part duplicates removed",
        "license": "cc-by-nc-sa-3.0",
        "license_text": "CC BY-NC-SA 3.0 (non-commercial; derivatives under the same licence)",
    },
    "tfns": {
        "name": "Twitter Financial News Sentiment (zeroshot/twitter-financial-news-sentiment), train file",
        "license": "mit",
        "license_text": "MIT",
    },
}


@dataclass
class ModelCardData:
    """Facts a model card states; filled in by :func:`textrisk.training.train`."""

    base_model: str
    labels: list[str]
    train_sources: dict[str, int] = field(default_factory=dict)  # source -> rows used
    dev_rows: int = 0
    config: dict[str, Any] = field(default_factory=dict)
    dev_metrics: dict[str, Any] = field(default_factory=dict)
    temperature: float = 1.0
    eval_metrics: dict[str, dict[str, Any]] = field(default_factory=dict)  # benchmark -> metrics
    train_seconds: float = 0.0
    textrisk_version: str = ""
    risk_labels: list[str] = field(default_factory=list)
    risk_metrics: dict[str, Any] = field(default_factory=dict)  # from training._tune_and_evaluate_risk

    @property
    def license(self) -> str:
        """The most restrictive licence among the training sources (FPB's share-alike wins)."""
        licences = [DATA_SOURCES.get(source, {}).get("license", "other") for source in self.train_sources]
        for candidate in ("cc-by-nc-sa-3.0", "other", "mit"):
            if candidate in licences:
                return candidate
        return "other"


def render_model_card(data: ModelCardData) -> str:
    """README.md text with Hub YAML metadata, data provenance, licence, config and metrics."""
    lines = [
        "---",
        "library_name: textrisk",
        f"license: {data.license}",
        f"base_model: {data.base_model}",
        "pipeline_tag: text-classification",
        "tags: [textrisk, finance, sentiment, lora, peft]",
        "---",
        "",
        "# textrisk financial sentiment model",
        "",
        f"LoRA adapter and sentiment head over `{data.base_model}`, trained with textrisk "
        f"{data.textrisk_version}. Labels: {', '.join(f'`{label}`' for label in data.labels)}.",
        "",
        "## Training data",
        "",
        "| source | rows | licence |",
        "|---|---|---|",
    ]
    for source, rows in data.train_sources.items():
        info = DATA_SOURCES.get(source, {"name": f"user file `{source}`", "license_text": "as stated by its owner"})
        lines.append(f"| {info['name']} | {rows} | {info['license_text']} |")
    lines += [
        "",
        f"{data.dev_rows} of these rows were held out (seeded) to fit the softmax temperature "
        f"(T = {data.temperature:.3f}) and report dev metrics; they were not trained on.",
    ]
    if "fpb" in data.train_sources:
        lines += ["", "Because it was trained on Financial PhraseBank, this model is licensed **CC BY-NC-SA 3.0**: "
                      "non-commercial use, derivatives shared alike."]
    lines += ["", "## Held-out evaluation", ""]
    if data.eval_metrics:
        lines += ["Measured after training; these sets were never used for training or model selection.", "",
                  "| benchmark | accuracy | weighted F1 | macro F1 | ECE raw | ECE calibrated |",
                  "|---|---|---|---|---|---|"]
        for name, m in data.eval_metrics.items():
            lines.append(f"| {name} | {m['accuracy']:.4f} | {m['weighted_f1']:.4f} | {m['macro_f1']:.4f} | "
                         f"{m['ece_raw']:.4f} | {m['ece_calibrated']:.4f} |")
    else:
        lines.append("Not evaluated on a held-out benchmark yet (run `textrisk evaluate`).")
    if data.dev_metrics:
        lines += ["", "Dev (held-out training rows): " + ", ".join(
            f"{k} {v:.4f}" for k, v in data.dev_metrics.items() if isinstance(v, float))]
    if data.risk_labels:
        lines += ["", "## Risk signals", "",
                  f"A multi-label risk head ({', '.join(f'`{label}`' for label in data.risk_labels)}) trained "
                  "jointly with sentiment; per-label flag thresholds tuned on the gold dev set."]
        tuned, plain = data.risk_metrics.get("test_tuned"), data.risk_metrics.get("test_threshold_0.5")
        if tuned and plain:
            lines += ["", f"Gold test ({tuned['rows']} sentences): macro F1 {plain['macro_f1']:.4f} at threshold 0.5, "
                          f"{tuned['macro_f1']:.4f} with tuned thresholds.", "",
                      "| label | precision | recall | F1 | support | threshold |", "|---|---|---|---|---|---|"]
            for label, m in tuned["per_label"].items():
                lines.append(f"| {label} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | "
                             f"{m['support']} | {m['threshold']:.3f} |")
    lines += [
        "",
        "## Use",
        "",
        "```python",
        "from textrisk import RiskAnalyzer",
        "analyzer = RiskAnalyzer.from_pretrained(\"path/or/hub-id\")",
        "print(analyzer.score([\"Profit warning: the company cuts its full-year outlook.\"])[0].to_dict())",
        "```",
        "",
        "Without textrisk: `peft.PeftModel.from_pretrained(AutoModel.from_pretrained(base), folder)` loads the "
        "adapter; the head is `heads.safetensors` (`sentiment.weight`, `sentiment.bias`) over the masked-mean "
        "(encoders) or last-token (decoders) pooled hidden state; divide logits by `temperature` from "
        "`textrisk_config.json` before the softmax.",
        "",
        "## Training config",
        "",
        "```json",
        json.dumps(data.config, indent=2),
        "```",
        "",
        f"Training time: {data.train_seconds / 60:.1f} min.",
        "",
    ]
    return "\n".join(lines)
