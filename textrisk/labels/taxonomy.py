"""The label taxonomy: the one place that names textrisk's labels and how dataset labels map onto them."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import DataError

__all__ = [
    "ADVERSE_KINDS",
    "KINDS",
    "KIND_INFO",
    "RISK_LABELS",
    "RISK_LABEL_INFO",
    "SENTIMENT_LABELS",
    "SEVERITY_LEVELS",
    "RiskLabel",
    "normalize_label",
    "validate_label_set",
    "validate_risk_labels",
]

#: Sentiment classes, in the order of the sentiment head's outputs.
SENTIMENT_LABELS: tuple[str, ...] = ("negative", "neutral", "positive")

# Dataset spellings of the sentiment classes (TFNS says Bearish/Bullish; many sets abbreviate).
_SENTIMENT_ALIASES: dict[str, str] = {
    "bearish": "negative",
    "bullish": "positive",
    "neg": "negative",
    "neu": "neutral",
    "pos": "positive",
}


def validate_label_set(labels: Sequence[str], field: str = "labels", minimum: int = 2) -> tuple[str, ...]:
    """Return ``labels`` as a tuple after checking it is a list of >= ``minimum`` distinct, non-empty strings."""
    if isinstance(labels, str) or not isinstance(labels, Sequence):
        raise DataError(f"{field} must be a list of label names, got {type(labels).__name__}")
    if len(labels) < minimum:
        raise DataError(f"{field} needs at least {minimum} label(s), got {list(labels)}")
    for label in labels:
        if not isinstance(label, str) or not label.strip():
            raise DataError(f"{field} contains an invalid label name: {label!r}")
    if len(set(labels)) != len(labels):
        raise DataError(f"{field} contains duplicates: {list(labels)}")
    return tuple(labels)


def normalize_label(raw: object, labels: Sequence[str], where: str = "") -> int:
    """Map a raw label (name, alias, case variant) to its index in ``labels``.

    Raises:
        DataError: the label is not in ``labels``; the message names ``where`` (e.g. ``"train.csv line 7"``).
    """
    if isinstance(raw, str):
        key = raw.strip().lower()
        lowered = [label.lower() for label in labels]
        if key in lowered:
            return lowered.index(key)
        alias = _SENTIMENT_ALIASES.get(key)
        if alias is not None and alias in labels:
            return labels.index(alias)
    prefix = f"{where}: " if where else ""
    raise DataError(f"{prefix}unknown label {raw!r}; expected one of {list(labels)}")


# ---------------------------------------------------------------------------------------------------------
# Risk-signal taxonomy (multi-label): which *kind* of risk a text signals. A text may carry 0..n labels.
# The annotation guide finetune/risk_data/GUIDE.md expands these definitions with edge cases.


@dataclass(frozen=True)
class RiskLabel:
    """One risk label: its name, a one-line definition, what it includes/excludes, and example sentences."""

    name: str
    definition: str
    includes: tuple[str, ...]
    excludes: tuple[str, ...]
    examples: tuple[str, ...]


_RISK_LABEL_LIST: tuple[RiskLabel, ...] = (
    RiskLabel(
        "credit",
        "The text reports a borrower's credit quality deteriorating or failing, or a credit-rating action.",
        ("default", "missed or deferred debt payment", "credit-rating downgrade or negative watch/outlook",
         "covenant breach or waiver", "bankruptcy, insolvency, administration, Chapter 11",
         "debt restructuring or haircut", "bad loans, loan-loss provisions, write-downs of receivables"),
        ("an analyst's stock downgrade (equity rating, not credit)", "routine loans, bond issues, refinancing",
         "a customer's bankruptcy mentioned only as background history"),
        ("Moody's downgraded the company's senior unsecured debt to junk.",
         "The retailer filed for Chapter 11 bankruptcy protection after missing an interest payment."),
    ),
    RiskLabel(
        "liquidity",
        "The text reports a shortage of cash or funding, or doubt that the firm can keep operating.",
        ("cash shortfall or running out of cash", "going-concern doubt", "funding stress, frozen credit lines",
         "emergency financing or rescue capital to stay afloat", "bank runs, deposit outflows"),
        ("routine share issues or credit facilities with no sign of stress",
         "cash-flow figures reported without stress language"),
        ("The auditor expressed substantial doubt about the company's ability to continue as a going concern.",
         "The airline said it has cash to last only until March unless it secures new funding."),
    ),
    RiskLabel(
        "earnings_guidance",
        "The text reports adverse earnings information: a profit warning, guidance cut, miss, falling results "
        "or a loss.",
        ("profit warning", "guidance cut, withdrawn or below expectations", "earnings or revenue miss",
         "falling sales, orders, profit or margins", "an operating or net loss (also a narrowing loss)"),
        ("rising or record results, beats, guidance raised (no risk signal)",
         "results stated without a direction or a loss", "forecasts of someone else's (e.g. a market) growth"),
        ("The company now expects full-year operating profit to fall short of last year's level.",
         "Net sales decreased by 12 % to EUR 45 mn and the operating loss widened."),
    ),
    RiskLabel(
        "legal_regulatory",
        "The text reports legal action or a regulator's / court's / government's action about the firm or its sector.",
        ("lawsuits, class actions, patent suits, settlements", "investigations, probes, subpoenas, charges",
         "fines and penalties", "sanctions against a company or person", "regulatory or court decisions "
         "(approvals, rejections, antitrust rulings, bans)", "new rules or regulation hitting a sector"),
        ("a lawyer or law firm only advertising (e.g. 'investors are invited to contact...') unless it "
         "announces a filed suit", "routine contracts, permits and registrations"),
        ("The European Commission fined the bank EUR 100 mn for rigging rates.",
         "Shareholders filed a class action lawsuit alleging misleading statements."),
    ),
    RiskLabel(
        "fraud_accounting",
        "The text reports fraud, accounting problems or misconduct by the firm or its people.",
        ("accounting irregularities, restatements, delayed filings over accounting", "fraud, embezzlement, bribery",
         "executive misconduct, insider trading", "auditor resignation or qualified opinion",
         "short-seller fraud allegations"),
        ("scams or fraud committed against customers by outsiders, unless the firm's controls failed",
         "ordinary accounting-standard changes (e.g. adopting IFRS)"),
        ("The company will restate three years of results after finding accounting irregularities.",
         "The auditor resigned, citing concerns over the reliability of management's representations."),
    ),
    RiskLabel(
        "operational",
        "The text reports a disruption of the firm's operations: outage, recall, cyber incident, accident, "
        "supply problem, strike.",
        ("IT or service outages", "product recalls, defects, safety problems", "cyber attacks, data breaches",
         "accidents, fires, explosions, spills", "supply-chain disruption, shortages, production halts or delays",
         "strikes, walkouts, labour disputes"),
        ("planned maintenance or capacity changes by choice (those are restructuring)",
         "weak demand (that is earnings or macro)"),
        ("Production at the mill was halted for a week after a fire in the boiler plant.",
         "The carmaker is recalling 400,000 vehicles over faulty airbags."),
    ),
    RiskLabel(
        "market_volatility",
        "The text reports a sharp move in a security's or market's price, a sell-off, or a volatility spike.",
        ("large single-stock moves (8 % or more, or words like plunge, soar, tumble, crash)",
         "index moves of about 2 % or more, sell-offs, routs, bear markets", "volatility spikes, VIX jumps",
         "trading halts on price moves"),
        ("ordinary moves such as 'shares fell 3 %' or 'the index edged up'",
         "price targets, analyst ratings, long-term price levels without a sharp move"),
        ("Shares of the company plunged 25 % after the announcement.",
         "Global stocks sold off as the VIX spiked to its highest level in a year."),
    ),
    RiskLabel(
        "macro",
        "The text is about the macroeconomy or economy-wide forces: rates, inflation, FX, commodities, "
        "the business cycle, economic policy, geopolitics.",
        ("central-bank and interest-rate moves", "inflation, GDP, jobs data, recession",
         "exchange rates and currency effects", "commodity and energy prices (oil, metals, pulp...)",
         "fiscal, trade and tariff policy, government stimulus", "geopolitics: wars, elections, country sanctions"),
        ("a firm's own prices or costs with no economy-wide driver named", "sector regulation (legal_regulatory)"),
        ("The Fed raised interest rates by a quarter point, citing stronger inflation.",
         "Sales were hit by the weaker rouble and the economic slowdown in Russia."),
    ),
    RiskLabel(
        "restructuring",
        "The text reports a firm shrinking or reorganising: layoffs, closures, divestitures, cost-cutting programmes.",
        ("layoffs, redundancies, temporary lay-offs, job cuts, co-determination negotiations on cuts",
         "closing plants, stores or units", "divesting or spinning off a business", "cost-cutting / efficiency "
         "programmes", "restructuring charges"),
        ("hiring, expansions, new plants", "a reorganisation of reporting segments with no cuts"),
        ("The company will cut 300 jobs and close its plant in Tampere.",
         "The group plans to divest its packaging unit as part of a cost-savings programme."),
    ),
    RiskLabel(
        "m_and_a",
        "The text reports a merger, acquisition, takeover bid or stake purchase/sale, whoever is buying.",
        ("mergers and acquisitions (announced, completed, rumoured, called off)", "takeover bids and tender offers",
         "buying or selling a stake or a business", "joint ventures formed by combining businesses"),
        ("share buybacks", "ordinary portfolio trades by funds, insider purchases of a few shares",
         "partnerships or supply deals that involve no ownership change"),
        ("The company agreed to acquire its rival for USD 2.1 bn in cash.",
         "The investor sold its 10 % stake in the bank."),
    ),
    RiskLabel(
        "management_change",
        "The text reports an executive or board member leaving, being appointed or being replaced.",
        ("CEO/CFO/executive resignations, dismissals, retirements", "appointments of executives or new board "
         "members", "interim appointments, succession announcements"),
        ("re-election of the same board", "an executive merely quoted or named in passing",
         "hiring of non-executive staff"),
        ("The CEO resigned with immediate effect; the CFO will act as interim CEO.",
         "The board appointed Jane Doe as chief financial officer from 1 March."),
    ),
    RiskLabel(
        "dividend",
        "The text reports a dividend decision or proposal: cut, suspension, raise, special dividend, payout.",
        ("dividend cuts, suspensions, omissions", "dividend raises, special dividends",
         "proposed or declared dividend amounts, payout policy"),
        ("share buybacks", "interest payments on bonds", "the word 'dividend' only in a fund's name"),
        ("The board proposes that no dividend be paid for 2008.",
         "The company raised its quarterly dividend by 10 % to USD 0.55 a share."),
    ),
)

#: Risk labels, in the order of the risk head's outputs.
RISK_LABELS: tuple[str, ...] = tuple(info.name for info in _RISK_LABEL_LIST)
#: Definition, includes/excludes and examples of each risk label.
RISK_LABEL_INFO: dict[str, RiskLabel] = {info.name: info for info in _RISK_LABEL_LIST}

# ---------------------------------------------------------------------------------------------------------
# Judgement of a passage (finetune/risk_data/corpus/GUIDE_FIELDS.md): what kind of statement it is and how adverse.

#: What a passage does, in the order of the kind head's outputs.
KINDS: tuple[str, ...] = ("event", "outlook", "boilerplate", "other")
#: One-line definitions of the kinds (the annotation guide has the decisions and examples).
KIND_INFO: dict[str, str] = {
    "event": "reports something that happened, was decided or announced, or a specific state of affairs",
    "outlook": "a forward-looking statement about a specific firm, market or economy (guidance, a forecast)",
    "boilerplate": "generic risk or legal language that would be as true of competitors in a good year",
    "other": "descriptions, definitions, neutral facts, opinion or chatter with no event or forecast",
}
#: Kinds whose topics are risk *signals* (the topics of boilerplate passages are only mentions).
ADVERSE_KINDS: tuple[str, ...] = ("event", "outlook")
#: Severity of a passage's adverse content: 0 not adverse, 1 mild, 2 material, 3 severe (survival, solvency,
#: integrity); 0 for every boilerplate and other passage. A passage is *adverse* when its severity is >= 1.
SEVERITY_LEVELS: tuple[int, ...] = (0, 1, 2, 3)

# Cells that explicitly say "this row has no risk label" (a blank cell is an error, not "no risk").
_EMPTY_RISK_MARKERS = frozenset({"[]", "none", "no_risk", "no risk"})


def _risk_label_key(name: str) -> str:
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def validate_risk_labels(raw: object, labels: Sequence[str] = RISK_LABELS, where: str = "") -> list[str]:
    """Turn a raw multi-label cell into a list of known labels, in ``labels`` order, without duplicates.

    ``raw`` may be a list of names, a JSON list (``'["credit", "macro"]'``), or a string separated by ``;``,
    ``,`` or ``|``. ``[]`` (a list or the string), ``none`` and ``no_risk`` mean "no risk label" and give ``[]``.

    Raises:
        DataError: an unknown label (or one missing from a custom ``labels``), a blank or missing cell, or a
            malformed value; the message names ``where`` (e.g. ``"train.jsonl line 7"``).
    """
    prefix = f"{where}: " if where else ""
    if isinstance(labels, str) or not isinstance(labels, Sequence) or not labels:
        raise DataError(f"{prefix}the label set must be a non-empty list of names, got {labels!r}")
    known = {_risk_label_key(label): label for label in labels}
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        raise DataError(f"{prefix}label cell is missing; write [] or 'none' for a row with no risk label")
    if isinstance(raw, str):
        text = raw.strip()
        if not text:
            raise DataError(f"{prefix}label cell is empty; write [] or 'none' for a row with no risk label")
        if text.lower() in _EMPTY_RISK_MARKERS:
            return []
        if text.startswith("["):
            try:
                raw = json.loads(text)
            except json.JSONDecodeError as exc:
                raise DataError(f"{prefix}label cell {text!r} is not a valid JSON list ({exc.msg})") from exc
        else:
            raw = [piece for piece in re.split(r"[;,|]", text) if piece.strip()]
    if not isinstance(raw, (list, tuple)):
        raise DataError(f"{prefix}label cell must be a list of label names, got {type(raw).__name__}")
    found: set[str] = set()
    for item in raw:
        if not isinstance(item, str) or not item.strip():
            raise DataError(f"{prefix}invalid label {item!r}; expected one of {list(labels)}")
        label = known.get(_risk_label_key(item))
        if label is None:
            raise DataError(f"{prefix}unknown label {item.strip()!r}; expected one of {list(labels)}")
        found.add(label)
    return [label for label in labels if label in found]
