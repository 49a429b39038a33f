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

What an analyst reads first: every item carries ``risk_change``, the change in **adverse risk** it brings (a
judgement model's ``risk_score * E[severity | adverse] / 3`` of the passage, :func:`textrisk.scoring.report.
adverse_risk`; without a judgement, P(negative)): a new passage adds its own, a removed one takes its own away, a
changed one moves it from the old text's to the new text's. New and changed passages are listed by the largest
increase, removed ones by the largest decrease; a changed passage also carries a word-level ``diff`` of old and new
(``[-removed-]`` / ``{+added+}``, as ``git diff --word-diff`` writes it). Each section delta carries a 95 % bootstrap
interval over passages (both filings' passages of the section resampled, 1,000 times, seeded) for the change in
negative share, in risk score and in each signal's share, and ``significant`` lists the measures whose interval
excludes 0: a +0.01 share move inside [-0.03, +0.05] is noise.

Document similarity, in the spirit of "Lazy Prices" (Cohen, Malloy & Nguyen, Journal of Finance 2020, where
firms whose 10-K language changes most later underperform): ``similarity`` is the token-weighted mean best-match
cosine of passages, averaged over both directions (1 = every passage has an identical counterpart);
``cosine_tf`` is the paper's own cosine similarity of the two prose texts' term-frequency vectors.
"""

from __future__ import annotations

import difflib
import re
import textwrap
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..scoring.engine import PassageOutputs
from ..scoring.report import adverse_risk
from .passages import Layout, Passage
from .report import FilingReport

__all__ = ["BOOTSTRAP_ROUNDS", "CHANGED", "MIN_WORD_OVERLAP", "SAME", "Comparison", "PassageChange", "SectionDelta",
           "compare_layouts", "signal_moves", "signal_share_delta", "tf_cosine", "word_diff", "word_overlap"]

#: best-match cosine at or above which a passage counts as unchanged
SAME = 0.97
#: best-match cosine at or above which a passage counts as a changed version of the old one
CHANGED = 0.90
#: word-set Jaccard overlap a changed passage must share with the old one it is matched to
MIN_WORD_OVERLAP = 0.3
#: bootstrap resamples of a section's passages for the intervals of its deltas
BOOTSTRAP_ROUNDS = 1000
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
    risk_change: float = 0.0  # change in adverse risk this item brings (see the module docstring)
    kind: str | None = None  # a judgement model's kind of the passage (the old one's for a removed passage)
    risk_score: float | None = None  # a judgement model's P(adverse) of the passage
    old_risk_score: float | None = None  # changed: the old passage's
    diff: str | None = None  # changed: word-level diff, [-old-] {+new+}


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
    risk_score_delta: float | None = None  # a judgement model's change in the section's risk score
    intervals: dict[str, list[float]] = field(default_factory=dict)  # measure -> 95 % bootstrap [low, high]
    significant: list[str] = field(default_factory=list)  # measures whose interval excludes 0


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
        """A readable summary: similarity and counts, the per-section deltas (with significance), then the passages
        that move risk most, in full (wrapped), changed ones as word diffs."""
        lines = [f"similarity {self.similarity:.3f}  cosine_tf {self.cosine_tf:.3f}  "
                 + "  ".join(f"{k} {v}" for k, v in self.counts.items())]
        if self.sections:
            judged = any(s.risk_score_delta is not None for s in self.sections)
            lines.append(f"{'section':8} {'neg_share old':>13} {'new':>7} {'delta':>7} "
                         + (f"{'risk_delta':>10} " if judged else "") + f"{'sim':>6}  title")
            for s in self.sections:
                risk = f"{s.risk_score_delta:+10.3f} " if judged and s.risk_score_delta is not None else (
                    " " * 11 if judged else "")
                lines.append(f"{s.key:8} {s.negative_share_old:13.3f} {s.negative_share_new:7.3f} "
                             f"{s.negative_share_delta:+7.3f} {risk}{s.similarity:6.3f}  {s.title[:40]}")
                moved = signal_moves(s.signal_share_delta, top=4)
                if moved:
                    lines.append("         signal share: " + moved)
                if s.significant:
                    lines.append("         significant (95% bootstrap over passages): " + ", ".join(s.significant))
                elif s.intervals:
                    lines.append("         no delta is significant (95% bootstrap over passages)")
        for name, items in (("new", self.new), ("changed", self.changed), ("removed", self.removed)):
            for item in items[:show]:
                flags = f" {','.join(item.flags)}" if item.flags else ""
                kind = f" {item.kind}" if item.kind else ""
                tag = f"{name} [{item.section or '-'}{kind} risk {item.risk_change:+.2f}{flags}]"
                body = item.diff if item.diff is not None else " ".join(item.text.split())
                lines.append(f"  {tag}")
                lines.append(textwrap.fill(body, width=width, initial_indent=" " * 4, subsequent_indent=" " * 4,
                                           break_long_words=False))
        return "\n".join(lines) + "\n"


def word_diff(old: str, new: str) -> str:
    """Word-level diff of two passages: unchanged words as they are, ``[-removed words-]``, ``{+added words+}``."""
    a, b = old.split(), new.split()
    out: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            out.extend(a[i1:i2])
            continue
        if i2 > i1:
            out.append("[-" + " ".join(a[i1:i2]) + "-]")
        if j2 > j1:
            out.append("{+" + " ".join(b[j1:j2]) + "+}")
    return " ".join(out)


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

    judged = out.judged
    negative = labels.index("negative") if "negative" in labels else 0
    danger = [adverse_risk(part.adverse, part.severity) if judged else part.probs[:, negative] for part in split]

    def judge(item: PassageChange, part: int, row: int) -> None:
        if judged:
            from ..labels.taxonomy import KINDS

            item.kind, item.risk_score = KINDS[int(split[part].kind[row].argmax())], float(split[part].adverse[row])

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
        judge(item, 1, j)
        item.risk_change = float(danger[1][j])
        if status == "changed":
            o, k = old_p[match_new[j]], match_new[j]
            item.old_text, item.old_start, item.old_end = o.text, o.start, o.end
            item.old_scores = scores(split[0].probs[k])
            item.diff = word_diff(o.text, p.text)
            item.risk_change = float(danger[1][j] - danger[0][k])
            if judged:
                item.old_risk_score = float(split[0].adverse[k])
            if item.signals is not None:
                item.old_flags = signals(0, k)[1]
        getattr(comparison, status).append(item)
    for i, p in enumerate(old_p):
        if not new_p or _status(float(best_old[i]), p, new_p[match_old[i]]) == "new":
            comparison.counts["removed"] += 1
            removed = PassageChange("removed", p.section, p.text, p.start, p.end, scores(split[0].probs[i]),
                                    float(best_old[i]))
            removed.signals, removed.flags = signals(0, i)
            judge(removed, 0, i)
            removed.risk_change = -float(danger[0][i])
            comparison.removed.append(removed)
    comparison.new.sort(key=lambda c: -c.risk_change)  # largest increase of adverse risk first
    comparison.changed.sort(key=lambda c: -c.risk_change)
    comparison.removed.sort(key=lambda c: c.risk_change)  # largest decrease first
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
        if section.risk_score is not None and before.risk_score is not None:
            delta.risk_score_delta = section.risk_score - before.risk_score
        _bootstrap(delta, split, rows_old, rows_new, w_old, w_new, negative, signal_labels, thresholds)
        comparison.sections.append(delta)
    return comparison


def _bootstrap(delta: SectionDelta, split: list[PassageOutputs], rows_old: np.ndarray, rows_new: np.ndarray,
               w_old: np.ndarray, w_new: np.ndarray, negative: int, signal_labels: list[str],
               thresholds: dict[str, float]) -> None:
    """95 % bootstrap intervals of the section's deltas, resampling each filing's passages of the section."""
    def measures(part: int, rows: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """(rounds, measures) token-weighted means of each resample: negative share, risk score, signal shares."""
        out = split[part]
        columns = [(out.probs[rows].argmax(axis=1) == negative).astype(float)]
        names = ["negative_share"]
        if out.adverse is not None:
            columns.append(out.adverse[rows])
            names.append("risk_score")
        if out.risk is not None:
            over = out.risk[rows] >= np.array([thresholds[k] for k in signal_labels])
            columns += [over[:, k].astype(float) for k in range(len(signal_labels))]
            names += [f"{label}_share" for label in signal_labels]
        draws = rng.integers(0, len(rows), size=(BOOTSTRAP_ROUNDS, len(rows)))
        w = weights[rows][draws]
        total = w.sum(axis=1)
        return names, np.column_stack([(w * column[draws]).sum(axis=1) / total for column in columns])

    rng = np.random.default_rng(7)
    names, old = measures(0, rows_old, w_old)
    _, new = measures(1, rows_new, w_new)
    low, high = np.percentile(new - old, [2.5, 97.5], axis=0)
    delta.intervals = {name: [float(a), float(b)] for name, a, b in zip(names, low, high)}
    delta.significant = [name for name, a, b in zip(names, low, high) if a > 0 or b < 0]
