"""Model cards: one renderer, one template per model kind (``textrisk/cards/<kind>.md``), fed by training.

setfit-style: the trainer fills a :class:`ModelCardData` with what it actually did; :func:`render_card` renders
the kind's Jinja template through ``huggingface_hub.ModelCard.from_template`` (Hub YAML metadata included).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["COMMERCIAL_LICENSES", "DATA_SOURCES", "ModelCardData", "commercial_problems", "ece_by_label",
           "render_card", "render_model_card", "source_info"]

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
    "sentivent": {
        "name": "SENTiVENT company-event sentences (Jacobs & Hoste), train part of the article split, event types "
                "mapped to risk labels (textrisk.data.sentivent)",
        "license": "other",
        "license_text": "research use only (no licence file; published by its authors for research)",
    },
    "gold_dev": {
        "name": "textrisk gold dev: hand-labelled risk signals on FPB train-part, TFNS and StockNet sentences",
        "license": "cc-by-nc-sa-3.0",
        "license_text": "labels: textrisk; texts: CC BY-NC-SA 3.0 (FPB), MIT (TFNS), MIT + Twitter terms (StockNet)",
    },
    "silver": {
        "name": "textrisk silver set: the labelling functions' labels (label model) on FPB train part, TFNS train "
                "and StockNet tweets (no test or hand-labelled text)",
        "license": "cc-by-nc-sa-3.0",
        "license_text": "texts: CC BY-NC-SA 3.0 (FPB), MIT (TFNS), MIT + Twitter terms (StockNet)",
    },
    "corpus": {
        "name": "textrisk judgement corpus, train split: passages of SEC filings, FPB train part, TFNS train, "
                "SENTiVENT train/dev articles and StockNet tweets, labelled by reading for topics, kind, severity and "
                "sentiment (finetune/risk_data/corpus/README.md)",
        "license": "other",
        "license_text": "labels: textrisk (MIT); texts: public EDGAR records, CC BY-NC-SA 3.0 (FPB), MIT (TFNS), MIT + "
                        "Twitter terms (StockNet), research use only (SENTiVENT)",
    },
    "commercial_sentiment": {
        "name": "textrisk judgement corpus, train split, the sentiment labels of its SEC-filing passages and StockNet "
                "tweets (finetune/commercial/data.py)",
        "license": "mit",
        "license_text": "labels: textrisk (MIT); texts: public EDGAR records, MIT + Twitter terms (StockNet)",
    },
    "commercial_corpus": {
        "name": "textrisk judgement corpus, the rows on SEC-filing passages, StockNet tweets and TFNS tweets (no FPB, "
                "no SENTiVENT), labelled by reading (finetune/commercial/data.py)",
        "license": "mit",
        "license_text": "labels: textrisk (MIT); texts: public EDGAR records, MIT + Twitter terms (StockNet, TFNS)",
    },
    "distill": {
        "name": "distillation teacher's sentiment probabilities on the training texts (a textrisk model trained on "
                "FPB and TFNS)",
        "license": "cc-by-nc-sa-3.0",
        "license_text": "inherits the teacher's training data: CC BY-NC-SA 3.0 (FPB), MIT (TFNS)",
    },
}
#: File names of the checkout's derived training files -> their DATA_SOURCES entry.
_SOURCE_FILES = {"corpus_train.jsonl": "corpus", "sentivent_train.jsonl": "sentivent", "gold_dev.jsonl": "gold_dev",
                 "distill_texts": "distill", "commercial_data/sentiment_train.jsonl": "commercial_sentiment",
                 "commercial_data/risk_train.jsonl": "commercial_corpus",
                 "commercial_data/risk_dev.jsonl": "commercial_corpus"}
#: Licences (Hub ids) that allow commercial use and redistribution of weights trained on the data.
COMMERCIAL_LICENSES = ("mit", "apache-2.0")


def source_info(source: str) -> dict[str, str]:
    """Name and licence of a training source: a known name (``fpb``), a known derived file (by its file name,
    silver files by their prefix), else a user file whose terms its owner states."""
    parts = source.replace("\\", "/").split("/")
    base, tail = parts[-1], "/".join(parts[-2:])
    key = source if source in DATA_SOURCES else _SOURCE_FILES.get(
        tail, _SOURCE_FILES.get(base, "silver" if base.startswith("risk_silver") else None))
    return DATA_SOURCES.get(key, {"name": f"user file `{source}`", "license_text": "as stated by its owner"})


def commercial_problems(train_config: dict[str, Any]) -> list[str]:
    """Why a model trained by ``train_config`` (its saved ``train_config.json``) may not be used commercially: each
    training, risk-training or risk-dev source whose licence is not recorded or not in :data:`COMMERCIAL_LICENSES`,
    distillation teachers, and a parent model (``init_from``) other than the commercial one. Empty: none found."""
    problems = []
    for key in ("train_data", "risk_train_data", "risk_dev_data"):
        sources = train_config.get(key) or []
        for source in [sources] if isinstance(sources, str) else sources:
            info = source_info(source)
            if "license" not in info:
                problems.append(f"{key}: {source!r} has no recorded licence")
            elif info["license"] not in COMMERCIAL_LICENSES:
                problems.append(f"{key}: {source!r} is {info['license_text']}")
    for teacher in train_config.get("distill_teachers") or []:
        problems.append(f"distill_teachers: {teacher!r} passes on its own training data's terms")
    if train_config.get("init_from") not in (None, "commercial"):
        problems.append(f"init_from: {train_config['init_from']!r} passes on its own training data's terms")
    return problems


def ece_by_label(calibration: dict[str, Any] | None) -> dict[str, dict[str, float]]:
    """``label -> {"ece_before", "ece_after"}`` from a risk-calibration report
    (:func:`textrisk.training.risk_calibration.calibrate_risk`), for :attr:`ModelCardData.risk_calibration`."""
    if not calibration:
        return {}
    return {label: {"ece_before": before, "ece_after": calibration["ece_after"][label]}
            for label, before in calibration["ece_before"].items()}


@dataclass
class ModelCardData:
    """Facts a model card states; filled in by :func:`textrisk.training.head.train`."""

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
    risk_metrics: dict[str, Any] = field(default_factory=dict)  # from risk-threshold tuning after training
    risk_sources: dict[str, int] = field(default_factory=dict)  # risk-head training source -> rows
    risk_tests: dict[str, Any] = field(default_factory=dict)  # textrisk.evaluation.risk.evaluate_risk_sets output
    risk_calibration: dict[str, dict[str, float]] = field(default_factory=dict)  # label -> ECE before / after
    risk_ensemble: bool = False  # the risk probabilities are a stacker's over the head and the rules
    risk_outputs: list[str] = field(default_factory=list)  # the risk head's groups (a judgement model: all five)
    parent_model: str = ""  # the model an adaptation run continued ("default", a folder or a Hub id)
    parent_sources: dict[str, int] = field(default_factory=dict)  # the parent's training sources -> rows
    adaptation: dict[str, Any] = field(default_factory=dict)  # an adaptation run's report (recipe, decisions)

    @property
    def commercial(self) -> bool:
        """Whether every training source's licence allows commercial use (:data:`COMMERCIAL_LICENSES`)."""
        sources = [*self.train_sources, *self.risk_sources, *self.parent_sources]
        return bool(sources) and all(source_info(source).get("license") in COMMERCIAL_LICENSES for source in sources)

    @property
    def license(self) -> str:
        """The most restrictive licence among the training sources (FPB's share-alike wins)."""
        licences = [source_info(source).get("license", "other")
                    for source in [*self.train_sources, *self.risk_sources, *self.parent_sources]]
        for candidate in ("cc-by-nc-sa-3.0", "other", "mit"):
            if candidate in licences:
                return candidate
        return "other"


def render_model_card(data: ModelCardData, kind: str = "head", **extra: Any) -> str:
    """README.md text for a trained model of ``kind``: Hub metadata, data provenance, licence, config, metrics."""
    sources = [{"rows": rows, **source_info(source)} for source, rows in data.train_sources.items()]
    risk_sources = [{"rows": rows, **source_info(source)} for source, rows in data.risk_sources.items()]
    context = {
        "config": data.config, "base_model": data.base_model, "labels": list(data.labels),
        "textrisk_version": data.textrisk_version, "train_sources": sources,
        "dev_rows": data.dev_rows, "temperature": data.temperature,
        "share_alike": "fpb" in [*data.train_sources, *data.parent_sources],
        "eval_metrics": data.eval_metrics, "risk_labels": data.risk_labels,
        "dev_metrics": {k: v for k, v in data.dev_metrics.items() if isinstance(v, float)},
        "risk_tuned": _signals(data.risk_metrics.get("test_tuned")),
        "risk_plain": _signals(data.risk_metrics.get("test_threshold_0.5")),
        "train_minutes": data.train_seconds / 60, "license": data.license, "risk_sources": risk_sources,
        "risk_tests": data.risk_tests, "risk_calibration": data.risk_calibration, "risk_ensemble": data.risk_ensemble,
        "research_only": any(source_info(source).get("license") == "other"
                             for source in [*data.train_sources, *data.risk_sources, *data.parent_sources]),
        "judgement": len(data.risk_outputs) > 1, "risk_outputs": list(data.risk_outputs),
        "parent_model": data.parent_model, "adaptation": data.adaptation,
        "parent_sources": [{"rows": rows, **source_info(source)} for source, rows in data.parent_sources.items()],
        "commercial": data.commercial,
        **extra,
    }
    return render_card(kind, context)


def _signals(report: dict[str, Any] | None) -> dict[str, Any] | None:
    """The signal part of a risk report (:func:`textrisk.evaluation.judgement.judgement_report`) with its row count."""
    if not report:
        return None
    return {**report["signals"], "rows": report["rows"]} if "signals" in report else report


_TAGS = {"head": ["textrisk", "finance", "sentiment", "lora", "peft"],
         "prompt": ["textrisk", "finance", "sentiment", "causal-lm", "prompt-scoring"],
         "forecaster": ["textrisk", "forecasting", "value-at-risk", "lstm"]}
_PIPELINES = {"head": "text-classification", "prompt": "text-classification", "forecaster": None}


def render_card(kind: str, context: dict[str, Any]) -> str:
    """Render ``textrisk/cards/<kind>.md`` (one template per model kind) with ``huggingface_hub.ModelCard``.

    ``context["config"]`` is the model's saved config; the other keys are what the template shows (missing keys
    render as empty sections, so a model saved without training facts still gets a truthful card).
    """
    from importlib.resources import files

    from huggingface_hub import ModelCard
    from huggingface_hub import ModelCardData as HubCardData

    config = context.get("config", {})
    base = config.get("base_model")
    card_data = HubCardData(library_name="textrisk", license=context.get("license"),
                            base_model=base if isinstance(base, str) and _is_hub_id(base) else None,
                            pipeline_tag=_PIPELINES[kind], tags=_TAGS[kind])
    template = (files("textrisk.models") / "card_templates" / f"{kind}.md").read_text(encoding="utf-8")
    values = {"base_model": base, "labels": config.get("labels", []), "risk_labels": config.get("risk_labels", []),
              "pooling": config.get("pooling"), "temperature": config.get("temperature", 1.0),
              "templates": config.get("templates", {}), "train_minutes": None,
              "config_json": json.dumps(config, indent=2), **context}
    card = ModelCard.from_template(card_data, template_str=template, **values)
    return "\n".join(line.rstrip() for line in str(card).splitlines()).strip() + "\n"


def _is_hub_id(name: str) -> bool:
    """``owner/name`` (not a local path or a GGUF file reference)."""
    return name.count("/") == 1 and not name.startswith((".", "/", "~")) and "::" not in name
