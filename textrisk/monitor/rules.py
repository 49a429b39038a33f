"""Alert rules from YAML, validated into dataclasses; every error names the rule and the field.

    index: {half_life_hours: 24, window_hours: 24}
    rules:
      - {name: high-risk, type: level, index: risk, above: 0.6, min_docs: 3, cooldown_hours: 24}
      - {name: risk-jump, type: jump, index: risk, z: 3.0, min_history: 20, min_change: 0.1, min_std: 0.03}
      - {name: credit-event, type: signal, signal: credit, probability: 0.8}
      - {name: chatter, type: volume, factor: 3.0, min_count: 10, lookback_windows: 7}
    drift: {reference_size: 500, window_size: 500, psi: 0.25, ks_pvalue: 0.001, js: 0.1}
    webhooks: [{url: "http://127.0.0.1:9000/alerts", max_attempts: 8, backoff_seconds: 1}]
    alerts: {burst_hours: 6, text_chars: 2000, evidence: 3, dashboard_url: "http://127.0.0.1:8765"}
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..labels.taxonomy import RISK_LABELS
from ..utils.validation import check_number
from .drift import DriftConfig
from .indices import IndexConfig
from .triage import AlertConfig
from .webhook import WebhookConfig

__all__ = ["RULE_TYPES", "Rule", "RuleSet", "default_rules", "load_rules", "parse_rules"]

RULE_TYPES = ("level", "jump", "signal", "volume")
_REQUIRED = {"level": ("above",), "jump": ("z",), "signal": ("signal", "probability"), "volume": ("factor",)}
_ONLY = {"above": "level", "z": "jump", "min_history": "jump", "min_change": "jump", "min_std": "jump",
         "signal": "signal", "probability": "signal", "factor": "volume", "lookback_windows": "volume"}
#: The jump floors' defaults: an index on a 0-1 scale must move by 0.1 and z is computed with a standard deviation of
#: at least 0.03, so a near-constant history (variance ~0) cannot turn a move of 0.01 into z = 40.
MIN_CHANGE, MIN_STD = 0.1, 0.03


@dataclass(frozen=True)
class Rule:
    """One alert rule (see the module docstring for the YAML form)."""

    name: str = field(metadata={"help": "unique rule name, used in alert ids"})
    type: str = field(metadata={"help": "level | jump | signal | volume"})
    index: str = field(default="risk", metadata={"help": "level/jump: 'risk' or 'negative' (EW negative share)"})
    above: float | None = field(default=None, metadata={"help": "level: fire when the index is at or over this"})
    z: float | None = field(default=None, metadata={"help": "jump: fire when the index z-score is at or over this"})
    min_history: int = field(default=20, metadata={"help": "jump: past index values needed before firing"})
    min_change: float = field(default=MIN_CHANGE, metadata={"help": "jump: the index must also be this far over its "
                                                                     "past mean (absolute floor, index units)"})
    min_std: float = field(default=MIN_STD, metadata={"help": "jump: z-scores use at least this standard deviation "
                                                               "(variance floor, index units)"})
    signal: str | None = field(default=None, metadata={"help": "signal: risk label (needs a model with a risk head)"})
    probability: float | None = field(default=None, metadata={"help": "signal: fire at or over this probability"})
    factor: float | None = field(default=None, metadata={"help": "volume: documents in the window vs the mean of "
                                                                 "past windows"})
    lookback_windows: int = field(default=7, metadata={"help": "volume: past windows in the baseline"})
    min_count: int = field(default=1, metadata={"help": "documents in the window needed (signal: documents "
                                                        "with the signal at or over the probability)"})
    min_docs: int = field(default=1, metadata={"help": "documents the entity needs before the rule can fire"})
    cooldown_hours: float = field(default=24.0, metadata={"help": "no repeat for the same entity within this"})
    entities: tuple[str, ...] | None = field(default=None, metadata={"help": "only these entities (default all)"})

    def __post_init__(self) -> None:
        where = f"rule {self.name!r}"
        if not isinstance(self.name, str) or not self.name.strip():
            raise ConfigError(f"rule name must be a non-empty string, got {self.name!r}")
        if self.type not in RULE_TYPES:
            raise ConfigError(f"{where}: field 'type' must be one of {list(RULE_TYPES)}, got {self.type!r}")
        for key in _REQUIRED[self.type]:
            if getattr(self, key) is None:
                raise ConfigError(f"{where}: field {key!r} is required for a {self.type} rule")
        for key, owner in _ONLY.items():
            value = getattr(self, key)
            default = next(f.default for f in fields(self) if f.name == key)
            if owner != self.type and value != default:
                raise ConfigError(f"{where}: field {key!r} applies to {owner} rules only, not {self.type}")
        if self.index not in ("risk", "negative"):
            raise ConfigError(f"{where}: field 'index' must be 'risk' or 'negative', got {self.index!r}")
        for key, bounds in (("above", {"ge": 0, "le": 1}), ("probability", {"ge": 0, "le": 1}), ("z", {"ge": 0}),
                            ("factor", {"ge": 0}), ("cooldown_hours", {"ge": 0}), ("min_change", {"ge": 0, "le": 1}),
                            ("min_std", {"ge": 0, "le": 1})):
            if getattr(self, key) is not None:
                check_number(getattr(self, key), f"{where}: field {key!r}", **bounds)
        for key in ("min_history", "lookback_windows", "min_count", "min_docs"):
            check_number(getattr(self, key), f"{where}: field {key!r}", integer=True, ge=1)
        if self.signal is not None and self.signal not in RISK_LABELS:
            raise ConfigError(f"{where}: field 'signal' must be one of {list(RISK_LABELS)}, got {self.signal!r}")
        if self.entities is not None:
            if not isinstance(self.entities, (list, tuple)) or not all(isinstance(e, str) for e in self.entities):
                raise ConfigError(f"{where}: field 'entities' must be a list of strings")
            object.__setattr__(self, "entities", tuple(self.entities))

    def applies_to(self, entity: str) -> bool:
        """Whether the rule watches ``entity``."""
        return self.entities is None or entity in self.entities


@dataclass(frozen=True)
class RuleSet:
    """Everything the rules file configures."""

    rules: tuple[Rule, ...] = field(metadata={"help": "alert rules"})
    index: IndexConfig = field(default_factory=IndexConfig, metadata={"help": "index half-life and window"})
    drift: DriftConfig = field(default_factory=DriftConfig, metadata={"help": "drift detection"})
    webhooks: tuple[WebhookConfig, ...] = field(default=(), metadata={"help": "alert webhooks"})
    alerts: AlertConfig = field(default_factory=AlertConfig, metadata={"help": "severity, bursts and what an alert "
                                                                               "carries"})

    def __post_init__(self) -> None:
        names = [rule.name for rule in self.rules]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ConfigError(f"rule name(s) {repeated} are used more than once; names must be unique")

    def signal_rules(self) -> list[Rule]:
        """The rules that need a model with a risk head."""
        return [rule for rule in self.rules if rule.type == "signal"]


def _build(cls: type, raw: Any, where: str, source: str | None = None) -> Any:
    """``cls(**raw)``; every error names ``where`` (and the rules file ``source``, once)."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(raw).__name__}")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {unknown}; known: {sorted(known)}")
    try:
        return cls(**raw)
    except TypeError as exc:  # a required field missing
        raise ConfigError(f"{where}: {exc}") from None
    except ConfigError as exc:
        if source is None or str(exc).startswith(source):
            raise
        raise ConfigError(f"{source}: {exc}") from None


def parse_rules(raw: Any, source: str = "rules") -> RuleSet:
    """A :class:`RuleSet` from the parsed YAML document ``raw``."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping with a 'rules' list, got {type(raw).__name__}")
    unknown = sorted(set(raw) - {"rules", "index", "drift", "webhooks", "alerts"})
    if unknown:
        raise ConfigError(f"{source}: unknown top-level field(s) {unknown}; known: alerts, drift, index, rules, "
                          "webhooks")
    items = raw.get("rules") or []
    if not isinstance(items, list):
        raise ConfigError(f"{source}: 'rules' must be a list")
    rules = []
    for number, item in enumerate(items, start=1):
        name = item.get("name") if isinstance(item, dict) else None
        where = f"{source}: rule {name!r}" if name else f"{source}: rule #{number}"
        if isinstance(item, dict) and "name" not in item:
            raise ConfigError(f"{where}: field 'name' is required")
        try:
            rules.append(_build(Rule, item, where))
        except ConfigError as exc:
            message = str(exc)
            raise ConfigError(message if message.startswith(source) else f"{source}: {message}") from None
    hooks = raw.get("webhooks") or []
    if not isinstance(hooks, list):
        raise ConfigError(f"{source}: 'webhooks' must be a list")
    return RuleSet(rules=tuple(rules),
                   index=_build(IndexConfig, raw.get("index") or {}, f"{source}: index", source),
                   drift=_build(DriftConfig, raw.get("drift") or {}, f"{source}: drift", source),
                   alerts=_build(AlertConfig, raw.get("alerts") or {}, f"{source}: alerts", source),
                   webhooks=tuple(_build(WebhookConfig, h, f"{source}: webhook #{i}", source)
                                  for i, h in enumerate(hooks, start=1)))


def load_rules(path: str | Path) -> RuleSet:
    """Read and validate a rules YAML file."""
    import yaml

    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read rules file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    return parse_rules(raw or {}, str(path))


def default_rules(with_signals: bool) -> RuleSet:
    """Rules used without ``--rules``: level, jump and volume; signal rules too for a model with a risk head."""
    rules = [Rule(name="high-risk", type="level", above=0.6, min_docs=3),
             Rule(name="risk-jump", type="jump", z=3.0),
             Rule(name="volume-spike", type="volume", factor=3.0, min_count=10)]
    if with_signals:
        rules += [Rule(name=f"signal-{label}", type="signal", signal=label, probability=0.8)
                  for label in ("credit", "legal_regulatory", "fraud_accounting") if label in RISK_LABELS]
    return RuleSet(rules=tuple(rules))
