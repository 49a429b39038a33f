"""SENTiVENT event sentences mapped to the risk labels, with an article-level train / dev / test split.

SENTiVENT (``<data>/sentivent/events_sentences.tsv``, see its SOURCE.md: research use) annotates company-event
types and subtypes, not textrisk's risk taxonomy. ``MAPPING`` is the one table that turns a sentence's event
subtypes into risk labels; ``finetune/risk_data/SENTIVENT.md`` gives the same table with the reasoning. For each
subtype it names the labels it makes **positive** and the labels it makes **unknown** (the subtype mixes cases
that do and do not carry the label, so the sentence is not scored for that label). A sentence is:

- positive for a label when any of its subtypes maps to it;
- otherwise unknown for the label when any subtype leaves it unknown;
- otherwise negative for it.

Only ``INFORMED_LABELS`` (the labels some subtype makes positive) are defined on SENTiVENT rows; the other risk
labels are not scored on them at all. Every subtype in the file must appear in ``MAPPING``: a new one is an error,
not a silent "no label".

Split: the 30 adjudicated articles (``dataset == "gold"``) are the test set; the other 258 articles are shuffled
with ``SPLIT_SEED`` and split article-disjoint into train and dev (``DEV_SHARE`` of the articles). The article ids
of each split are frozen in ``sentivent_split.json`` (shipped with the package, so ``textrisk evaluate
--risk-data sentivent_test`` builds the test set from the shared data). The text is the file's tokenised ``text``
column, unchanged.
"""

from __future__ import annotations

import ast
import csv
import json
import random
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import DataError
from ..labels.taxonomy import RISK_LABELS

__all__ = ["INFORMED_LABELS", "MAPPING", "SPLITS", "SPLIT_FILE", "SentiventRow", "map_subtypes", "read_sentivent",
           "read_split", "rows_by_split", "sentence_records", "split_articles", "split_rows"]

SPLIT_FILE = Path(__file__).resolve().parent / "sentivent_split.json"
SPLIT_SEED = 12
DEV_SHARE = 0.2
SPLITS = ("train", "dev", "test")

_EG = "earnings_guidance"
_LR = "legal_regulatory"
#: SENTiVENT subtype -> (labels it makes positive, labels it makes unknown). Empty tuples: no risk label.
MAPPING: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "CSR/Brand.None": ((), ()),
    "Deal.None": ((), ("m_and_a",)),
    "Dividend.None": (("dividend",), ()),
    "Dividend.Payment": (("dividend",), ()),
    "Dividend.YieldRaise": (("dividend",), ()),
    "Dividend.YieldReduction": (("dividend",), ()),
    "Dividend.YieldStable": (("dividend",), ()),
    "Employment.Compensation": ((), ()),
    "Employment.End": ((), ()),
    "Employment.None": ((), ()),
    "Employment.Start": ((), ()),
    "Expense.Decrease_Expense": ((), ()),
    "Expense.Increase_Expense": ((), ()),
    "Expense.None": ((), ()),
    "Expense.Stable_Expense": ((), ()),
    "Facility.Close": ((), ()),
    "Facility.None": ((), ()),
    "Facility.Open": ((), ()),
    "FinancialReport.Beat": ((), ()),
    "FinancialReport.Miss": ((_EG,), ()),
    "FinancialReport.None": ((), (_EG,)),
    "FinancialReport.Stable_FinancialReport": ((), ()),
    "Financing.None": ((), ("credit",)),
    "Investment.None": ((), ("m_and_a",)),
    "Legal.Acquit": ((_LR,), ()),
    "Legal.Appeal": ((_LR,), ()),
    "Legal.Conviction/Settlement": ((_LR,), ()),
    "Legal.None": ((), (_LR,)),
    "Legal.Proceeding": ((_LR,), ()),
    "Macroeconomics.None": ((), ()),
    "Merger/Acquisition.None": (("m_and_a",), ()),
    "Product/Service.Cancellation/Recall": ((), ()),
    "Product/Service.Launch": ((), ()),
    "Product/Service.None": ((), ()),
    "Product/Service.Trial": ((), (_LR,)),
    "Profit/Loss.Decrease_Profit/Loss": ((_EG,), ()),
    "Profit/Loss.Increase_Profit/Loss": ((), ()),
    "Profit/Loss.None": ((), (_EG,)),
    "Profit/Loss.Stable_Profit/Loss": ((), ()),
    "Rating.BuyOutperform": ((), ()),
    "Rating.Credit/Debt": (("credit",), ()),
    "Rating.Downgrade": ((), ("credit",)),
    "Rating.Hold": ((), ()),
    "Rating.Maintain": ((), ()),
    "Rating.None": ((), ("credit",)),
    "Rating.PriceTarget": ((), ()),
    "Rating.SellUnderperform": ((), ()),
    "Rating.Upgrade": ((), ("credit",)),
    "Revenue.Decrease_Revenue": ((_EG,), ()),
    "Revenue.Increase_Revenue": ((), ()),
    "Revenue.None": ((), ()),
    "Revenue.Stable_Revenue": ((), ()),
    "SalesVolume.Decrease_SalesVolume": ((_EG,), ()),
    "SalesVolume.Increase_SalesVolume": ((), ()),
    "SalesVolume.None": ((), ()),
    "SalesVolume.Stable_SalesVolume": ((), ()),
    "SecurityValue.Decrease_SecurityValue": ((), ()),
    "SecurityValue.Increase_SecurityValue": ((), ()),
    "SecurityValue.None": ((), ()),
    "SecurityValue.Stable_SecurityValue": ((), ()),
}
#: The risk labels the mapping informs (some subtype makes them positive), in taxonomy order.
INFORMED_LABELS: tuple[str, ...] = tuple(
    label for label in RISK_LABELS if any(label in positive for positive, _ in MAPPING.values()))


@dataclass(frozen=True)
class SentiventRow:
    """One SENTiVENT sentence with its mapped risk labels."""

    id: str
    article: str
    dataset: str
    text: str
    subtypes: tuple[str, ...]
    labels: tuple[str, ...]
    unknown: tuple[str, ...]

    def as_json(self, split: str) -> dict:
        """The JSONL form: the gold files' keys plus ``unknown`` (every label not scored on this row: the ones the
        mapping leaves unknown here and the ones it never informs), article and split."""
        unscored = [label for label in RISK_LABELS if label in self.unknown or label not in INFORMED_LABELS]
        return {"id": self.id, "source": "sentivent", "text": self.text, "labels": list(self.labels),
                "unknown": unscored, "article": self.article, "split": split,
                "subtypes": list(self.subtypes)}


def map_subtypes(subtypes: tuple[str, ...] | list[str], where: str = "") -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(positive labels, unknown labels) of a sentence's event subtypes, each in taxonomy order.

    Raises:
        DataError: a subtype that ``MAPPING`` does not list.
    """
    positive: set[str] = set()
    unknown: set[str] = set()
    for subtype in subtypes:
        if subtype not in MAPPING:
            raise DataError(f"{where}: SENTiVENT subtype {subtype!r} is not in the mapping table (sentivent.MAPPING)")
        pos, unk = MAPPING[subtype]
        positive.update(pos)
        unknown.update(unk)
    unknown -= positive
    return (tuple(label for label in RISK_LABELS if label in positive),
            tuple(label for label in RISK_LABELS if label in unknown))


def read_sentivent(data_dir: Path) -> list[SentiventRow]:
    """Every SENTiVENT sentence, in file order, with its mapped labels."""
    rows = []
    for row_id, record in sentence_records(data_dir).items():
        labels, unknown = map_subtypes(record["subtypes"], row_id)
        rows.append(SentiventRow(row_id, record["article"], record["dataset"], record["text"],
                                 tuple(record["subtypes"]), labels, unknown))
    return rows


def split_articles(rows: list[SentiventRow], seed: int = SPLIT_SEED, dev_share: float = DEV_SHARE) -> dict[str, list]:
    """Article ids per split: adjudicated (``gold``) articles are test; the rest are shuffled into train / dev."""
    test = sorted({row.article for row in rows if row.dataset == "gold"})
    rest = sorted({row.article for row in rows if row.dataset != "gold"} - set(test))
    random.Random(seed).shuffle(rest)
    n_dev = round(dev_share * len(rest))
    return {"train": sorted(rest[n_dev:]), "dev": sorted(rest[:n_dev]), "test": test}


def read_split(path: Path = SPLIT_FILE) -> dict[str, list[str]]:
    """The frozen article split; raises DataError if an article is in two splits."""
    split = json.loads(Path(path).read_text(encoding="utf-8"))
    seen: dict[str, str] = {}
    for name in SPLITS:
        for article in split[name]:
            if article in seen:
                raise DataError(f"{Path(path).name}: article {article!r} is in both {seen[article]} and {name}")
            seen[article] = name
    return split


def rows_by_split(rows: list[SentiventRow], split: dict[str, list[str]]) -> dict[str, list[SentiventRow]]:
    """The rows of each split; raises DataError if an article of the data is in no split."""
    split_of = {article: name for name in SPLITS for article in split[name]}
    out: dict[str, list[SentiventRow]] = {name: [] for name in SPLITS}
    for row in rows:
        if row.article not in split_of:
            raise DataError(f"article {row.article!r} of {row.id!r} is in no split of {SPLIT_FILE.name}")
        out[split_of[row.article]].append(row)
    return out


@lru_cache(maxsize=2)
def sentence_records(data_dir: Path) -> dict[str, dict]:
    """Every sentence of ``sentivent/events_sentences.tsv`` by row id ``sentivent:<document_id>:<sentence_idx>``, in
    file order: ``article``, ``dataset`` (``gold`` = adjudicated, ``silver``), ``text`` and ``subtypes``."""
    path = data_dir / "sentivent" / "events_sentences.tsv"
    csv.field_size_limit(1 << 24)
    out: dict[str, dict] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE), start=2):
            row_id = f"sentivent:{row['document_id']}:{row['sentence_idx']}"
            try:
                subtypes = ast.literal_eval(row["subtypes_event_unq"])
            except (ValueError, SyntaxError) as exc:
                raise DataError(f"{path.name} line {number}: subtypes_event_unq is not a list literal") from exc
            if row_id in out:
                raise DataError(f"{path.name} line {number}: duplicate sentence {row_id!r}")
            out[row_id] = {"article": row["document_id"], "dataset": row["dataset"], "text": row["text"],
                           "subtypes": list(subtypes)}
    return out


def split_rows(data_dir: Path, split: str) -> list[dict]:
    """The JSONL-form rows (:meth:`SentiventRow.as_json`) of one split (``train``, ``dev`` or ``test``)."""
    if split not in SPLITS:
        raise DataError(f"unknown SENTiVENT split {split!r}; expected one of {SPLITS}")
    return [row.as_json(split) for row in rows_by_split(read_sentivent(data_dir), read_split())[split]]
