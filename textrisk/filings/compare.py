"""Year-over-year change between two filings, aligned by the model's own passage embeddings.

Both filings are cut into prose passages (:mod:`textrisk.filings.passages`) and scored in one pass that also
returns each passage's pooled embedding. The embeddings of both filings are centred on their common mean and
L2-normalised (a sentiment model's raw embeddings are all alike: unrelated risk factors had raw cosines of 0.93).
Every new passage is matched to its most similar old passage (identical text always matches, similarity 1):

- similarity >= ``SAME``: **unchanged**;
- ``CHANGED`` <= similarity < ``SAME`` and at least ``MIN_WORD_OVERLAP`` word overlap (Jaccard of lower-cased
  word sets): **changed** (old and new text are both reported);
- otherwise: **new**.

An old passage that is neither unchanged nor changed towards its best match among the new passages is
**removed**. The thresholds were set by reading NVIDIA's Item 1A 2017 -> 2018 matches: at centred cosine 0.90-0.95
two thirds of the pairs share most of their words, below 0.85 few do. Each item carries
its sentiment distribution (old and new for a changed one) and, with a risk head, its signal probabilities and
flags. Per section (by item key, in both filings) the report
gives the change in negative share and in P(negative), and with a risk head the change in each signal's share.

Document similarity, in the spirit of "Lazy Prices" (Cohen, Malloy & Nguyen, Journal of Finance 2020, where
firms whose 10-K language changes most later underperform): ``similarity`` is the token-weighted mean best-match
cosine of passages, averaged over both directions (1 = every passage has an identical counterpart);
``cosine_tf`` is the paper's own cosine similarity of the two prose texts' term-frequency vectors.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..scoring.engine import PassageOutputs
from .passages import Layout, Passage
from .report import FilingReport

__all__ = ["CHANGED", "MIN_WORD_OVERLAP", "SAME", "Comparison", "PassageChange", "SectionDelta", "compare_layouts",
           "signal_moves", "signal_share_delta", "tf_cosine", "word_overlap"]

#: best-match cosine at or above which a passage counts as unchanged
SAME = 0.97
#: best-match cosine at or above which a passage counts as a changed version of the old one
CHANGED = 0.90
#: word-set Jaccard overlap a changed passage must share with the old one it is matched to
MIN_WORD_OVERLAP = 0.3
_WORDS = re.compile(r"[a-z]+")


@dataclass
class PassageChange:
    """One new, removed or changed passage (offsets into the new filing, or the old one for ``removed``)."""

    status: str  # "new" | "removed" | "changed"
    section: str | None
    text: str
    start: int
    end: int
    scores: dict[str, float]
    similarity: float  # cosine to the best match in the other filing
    old_text: str | None = None  # changed: the old passage it replaces
    old_start: int | None = None
    old_end: int | None = None
    old_scores: dict[str, float] | None = None
    signals: dict[str, float] | None = None  # risk-signal probabilities (a model with a risk head), else None
    flags: list[str] = field(default_factory=list)  # signals at or over their thresholds
    old_flags: list[str] | None = None  # changed: the old passage's flags


@dataclass
class SectionDelta:
    """Change of one section (present in both filings) from old to new."""

    key: str
    title: str
    negative_share_old: float
    negative_share_new: float
    negative_share_delta: float
    p_negative_delta: float
    similarity: float
    signal_share_delta: dict[str, float] | None = None


@dataclass
class Comparison:
    """Year-over-year change report (see the module docstring)."""

    similarity: float
    cosine_tf: float
    counts: dict[str, int]  # unchanged / changed / new / removed passages
    new: list[PassageChange] = field(default_factory=list)
    removed: list[PassageChange] = field(default_factory=list)
    changed: list[PassageChange] = field(default_factory=list)
    sections: list[SectionDelta] = field(default_factory=list)
    old: FilingReport | None = None
    new_report: FilingReport | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)

    def table(self, width: int = 100, show: int = 3) -> str:
        """A readable summary: similarity, counts, section deltas and the most negative changes."""
        lines = [f"similarity {self.similarity:.3f}  cosine_tf {self.cosine_tf:.3f}  "
                 + "  ".join(f"{k} {v}" for k, v in self.counts.items())]
        if self.sections:
            lines.append(f"{'section':8} {'neg_share old':>13} {'new':>7} {'delta':>7} {'sim':>6}  title")
            for s in self.sections:
                lines.append(f"{s.key:8} {s.negative_share_old:13.3f} {s.negative_share_new:7.3f} "
                             f"{s.negative_share_delta:+7.3f} {s.similarity:6.3f}  {s.title[:40]}")
                moved = signal_moves(s.signal_share_delta, top=4)
                if moved:
                    lines.append("         signal share: " + moved)
        for name, items in (("new", self.new), ("removed", self.removed), ("changed", self.changed)):
            for item in items[:show]:
                flags = f" {','.join(item.flags)}" if item.flags else ""
                tag = f"[{item.section or '-'} p_neg {item.scores.get('negative', 0):.2f}{flags}]"
                snippet = " ".join(item.text.split())[: max(width - 12 - len(tag), 20)]
                lines.append(f"  {name:7} {tag} {snippet}")
        return "\n".join(lines) + "\n"


def signal_share_delta(old: dict[str, float], new: dict[str, float]) -> dict[str, float]:
    """New minus old share of each signal in ``new`` (a signal missing from ``old`` counts as 0)."""
    return {k: new[k] - old.get(k, 0.0) for k in new}


def signal_moves(delta: dict[str, float] | None, top: int = 2) -> str:
    """The ``top`` largest changes in signal share, e.g. ``legal_regulatory +0.043, credit -0.031``."""
    moved = sorted(((k, v) for k, v in (delta or {}).items() if abs(v) >= 0.0005), key=lambda kv: -abs(kv[1]))
    return ", ".join(f"{k} {v:+.3f}" for k, v in moved[:top])


def tf_cosine(old: str, new: str) -> float:
    """Cosine similarity of term-frequency vectors (scikit-learn ``CountVectorizer``, lower-cased words)."""
    from sklearn.feature_extraction.text import CountVectorizer

    try:
        counts = CountVectorizer(lowercase=True).fit_transform([old, new]).astype(np.float64)
    except ValueError:  # no words at all
        return 0.0
    a, b = counts[0].toarray().ravel(), counts[1].toarray().ravel()
    denominator = np.linalg.norm(a) * np.linalg.norm(b)
    return float(a @ b / denominator) if denominator else 0.0


def _best(sim: np.ndarray, same_text: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sim = np.where(same_text, 1.0, sim)
    if sim.shape[1] == 0:
        return np.zeros(sim.shape[0], int), np.zeros(sim.shape[0])
    index = sim.argmax(axis=1)
    return index, sim[np.arange(sim.shape[0]), index]


def _norm(p: Passage) -> str:
    return " ".join(p.text.split())


def word_overlap(a: str, b: str) -> float:
    """Jaccard overlap of the lower-cased word sets of ``a`` and ``b`` (1.0 when both have no words)."""
    wa, wb = set(_WORDS.findall(a.lower())), set(_WORDS.findall(b.lower()))
    return len(wa & wb) / len(wa | wb) if wa | wb else 1.0


def _status(similarity: float, a: Passage, b: Passage) -> str:
    if similarity >= SAME:
        return "unchanged"
    if similarity >= CHANGED and word_overlap(a.text, b.text) >= MIN_WORD_OVERLAP:
        return "changed"
    return "new"


def compare_layouts(old_layout: Layout, new_layout: Layout, out: PassageOutputs,
                    reports: Sequence[FilingReport], labels: list[str], signal_labels: list[str],
                    thresholds: dict[str, float]) -> Comparison:
    """Build a :class:`Comparison` from both layouts, the outputs of their passages (old first, with embeddings)
    and both filings' reports; ``thresholds`` flag the signals of ``signal_labels``."""
    n_old = len(old_layout.passages)
    split = [out.rows(slice(0, n_old)), out.rows(slice(n_old, None))]
    old_report, new_report = reports
    old_p, new_p = old_layout.passages, new_layout.passages
    vectors = out.embeddings - out.embeddings.mean(axis=0, keepdims=True)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    sim = vectors[n_old:] @ vectors[:n_old].T  # (new, old)
    old_index = {}
    for i, p in enumerate(old_p):
        old_index.setdefault(_norm(p), []).append(i)
    same = np.zeros(sim.shape, bool)
    for j, p in enumerate(new_p):
        same[j, old_index.get(_norm(p), [])] = True
    match_new, best_new = _best(sim, same)
    match_old, best_old = _best(sim.T, same.T)

    def scores(probs: np.ndarray) -> dict[str, float]:
        return dict(zip(labels, map(float, probs)))

    signal_labels = list(signal_labels)

    def signals(part: int, row: int) -> tuple[dict[str, float] | None, list[str]]:
        if split[part].risk is None:
            return None, []
        values = dict(zip(signal_labels, map(float, split[part].risk[row])))
        return values, [k for k, v in values.items() if v >= thresholds[k]]

    comparison = Comparison(similarity=0.0, cosine_tf=tf_cosine(" ".join(p.text for p in old_p),
                                                                  " ".join(p.text for p in new_p)),
                            counts={"unchanged": 0, "changed": 0, "new": 0, "removed": 0},
                            old=old_report, new_report=new_report)
    for j, p in enumerate(new_p):
        s = float(best_new[j])
        status = _status(s, p, old_p[match_new[j]]) if old_p else "new"
        if status == "unchanged":
            comparison.counts["unchanged"] += 1
            continue
        comparison.counts[status] += 1
        item = PassageChange(status, p.section, p.text, p.start, p.end, scores(split[1].probs[j]), s)
        item.signals, item.flags = signals(1, j)
        if status == "changed":
            o = old_p[match_new[j]]
            item.old_text, item.old_start, item.old_end = o.text, o.start, o.end
            item.old_scores = scores(split[0].probs[match_new[j]])
            if item.signals is not None:
                item.old_flags = signals(0, match_new[j])[1]
        getattr(comparison, status).append(item)
    for i, p in enumerate(old_p):
        if not new_p or _status(float(best_old[i]), p, new_p[match_old[i]]) == "new":
            comparison.counts["removed"] += 1
            removed = PassageChange("removed", p.section, p.text, p.start, p.end, scores(split[0].probs[i]),
                                    float(best_old[i]))
            removed.signals, removed.flags = signals(0, i)
            comparison.removed.append(removed)
    negative = labels.index("negative") if "negative" in labels else 0
    for items in (comparison.new, comparison.removed, comparison.changed):
        items.sort(key=lambda c: -c.scores.get(labels[negative], 0.0))
    w_new = np.array([max(p.n_tokens, 1) for p in new_p], float)
    w_old = np.array([max(p.n_tokens, 1) for p in old_p], float)
    if len(new_p) and len(old_p):
        comparison.similarity = float(((w_new * best_new).sum() / w_new.sum() + (w_old * best_old).sum()
                                       / w_old.sum()) / 2)
    old_keys = np.array([p.section or "" for p in old_p])
    new_keys = np.array([p.section or "" for p in new_p])
    for section in new_report.sections:
        before = old_report.section(section.key)
        if before is None or not before.num_passages or not section.num_passages:
            continue
        rows_new, rows_old = np.flatnonzero(new_keys == section.key), np.flatnonzero(old_keys == section.key)
        sub = sim[np.ix_(rows_new, rows_old)]
        sub_same = same[np.ix_(rows_new, rows_old)]
        s_new = _best(sub, sub_same)[1]
        s_old = _best(sub.T, sub_same.T)[1]
        similarity = float(((w_new[rows_new] * s_new).sum() / w_new[rows_new].sum()
                            + (w_old[rows_old] * s_old).sum() / w_old[rows_old].sum()) / 2)
        delta = SectionDelta(
            key=section.key, title=section.title, negative_share_old=before.negative_share,
            negative_share_new=section.negative_share,
            negative_share_delta=section.negative_share - before.negative_share,
            p_negative_delta=section.sentiment_scores.get(labels[negative], 0.0)
            - before.sentiment_scores.get(labels[negative], 0.0), similarity=similarity)
        if section.signal_share is not None and before.signal_share is not None:
            delta.signal_share_delta = signal_share_delta(before.signal_share, section.signal_share)
        comparison.sections.append(delta)
    return comparison
