"""Daily text signals per (ticker, session): how much was written, how unusual and new it was, how negative, and
how many texts report risk -- the few numbers a volatility model can use as regressors.

Computed once per dataset from the per-text feature rows (``text.TextFeaturizer``) of the texts counted for each
session (after-close texts roll forward, see ``calendar.assign_sessions``), so a session's signals use texts
stamped before its close only:

* ``text_count``: ``log(1 + n)``, the number of texts (attention; the event study's clearest signal);
* ``abnormal_count``: ``text_count`` minus its mean over the ticker's previous ``history`` sessions (volume
  against the ticker's own history; 0 until ``min_history`` sessions of text coverage have passed);
* ``novelty``: share of the session's texts whose highest cosine similarity (pooled embeddings) to the ticker's
  texts of the previous ``novelty_days`` sessions is below ``novelty_similarity`` (retweets and re-posts are not
  news; 1 when there were no earlier texts, 0 on a day without texts);
* ``negative_share``: mean calibrated P(negative) of the session's texts;
* ``risk_count``: ``log(1 + texts with at least one risk flag)``, a flag being a risk-signal probability at or
  over the model's tuned threshold (the rule of ``RiskReport.flags``);
* ``event_count``: ``log(1 + texts whose risk_score >= event_threshold)``, ``risk_score`` as the report
  defines it (:func:`textrisk.scoring.report.risk_score`).

A model without risk signals yields the first four only; a model without embeddings no ``novelty``. Days
without texts have 0 everywhere except ``abnormal_count`` (a silent day is below the usual volume).
"""

from __future__ import annotations

import numpy as np

from ..scoring.report import risk_score

__all__ = ["EVENT_THRESHOLD", "NOVELTY_SIMILARITY", "SIGNAL_FEATURES", "daily_signals", "signal_names"]

#: Every signal, in column order (a model without risk signals or embeddings has a subset).
SIGNAL_FEATURES = ("text_count", "abnormal_count", "novelty", "negative_share", "risk_count", "event_count")
#: A text reports an adverse event when its report's ``risk_score`` is at least this ("more likely than not").
EVENT_THRESHOLD = 0.5
#: Two texts are the same news when their embeddings' cosine similarity is at least this.
NOVELTY_SIMILARITY = 0.9


def signal_names(feature_names: list[str]) -> list[str]:
    """The signals computable from per-text features named ``feature_names`` (in :data:`SIGNAL_FEATURES` order)."""
    has_risk = any(name.startswith("risk_") for name in feature_names)
    has_emb = any(name.startswith("emb_") for name in feature_names)
    available = {"text_count": True, "abnormal_count": True, "novelty": has_emb,
                 "negative_share": "p_negative" in feature_names, "risk_count": has_risk, "event_count": has_risk}
    return [name for name in SIGNAL_FEATURES if available[name]]


def daily_signals(per_text: np.ndarray, feature_names: list[str], ticker: np.ndarray, session: np.ndarray,
                  shape: tuple[int, int], thresholds: dict[str, float], *, history: int = 60,
                  min_history: int = 20, novelty_days: int = 5, novelty_similarity: float = NOVELTY_SIMILARITY,
                  event_threshold: float = EVENT_THRESHOLD) -> tuple[np.ndarray, list[str]]:
    """The signals of every (ticker, session) of a ``shape`` = ``(tickers, sessions)`` grid.

    Args:
        per_text: ``(n, len(feature_names))`` features of the texts counted for the grid.
        ticker: grid row of each text.
        session: grid column of each text.
        thresholds: risk label -> flag threshold (the model's tuned ones; missing labels: 0.5).

    Returns:
        ``(signals [tickers, sessions, k] float32, names)``; ``names`` from :func:`signal_names`.
    """
    names = signal_names(feature_names)
    n_t, n_s = shape
    out = np.zeros((n_t, n_s, len(names)), dtype=np.float32)
    count = np.zeros((n_t, n_s))
    np.add.at(count, (ticker, session), 1.0)
    log_count = np.log1p(count)
    columns: dict[str, np.ndarray] = {"text_count": log_count,
                                      "abnormal_count": _abnormal(log_count, history, min_history)}
    if "negative_share" in names:
        columns["negative_share"] = _day_mean(per_text[:, feature_names.index("p_negative")], ticker, session,
                                              count)
    if "risk_count" in names:
        flagged, events = _risk_flags(per_text, feature_names, thresholds, event_threshold)
        columns["risk_count"] = np.log1p(_day_sum(flagged, ticker, session, shape))
        columns["event_count"] = np.log1p(_day_sum(events, ticker, session, shape))
    if "novelty" in names:
        emb = per_text[:, [i for i, name in enumerate(feature_names) if name.startswith("emb_")]]
        novel = _novel(emb, ticker, session, novelty_days, novelty_similarity)
        columns["novelty"] = _day_mean(novel, ticker, session, count)
    for k, name in enumerate(names):
        out[..., k] = columns[name]
    return out, names


def _day_sum(values: np.ndarray, ticker: np.ndarray, session: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    total = np.zeros(shape)
    np.add.at(total, (ticker, session), np.asarray(values, float))
    return total


def _day_mean(values: np.ndarray, ticker: np.ndarray, session: np.ndarray, count: np.ndarray) -> np.ndarray:
    total = _day_sum(values, ticker, session, count.shape)
    return np.divide(total, count, out=np.zeros_like(total), where=count > 0)


def _abnormal(log_count: np.ndarray, history: int, min_history: int) -> np.ndarray:
    """``log_count`` minus its trailing mean over the previous ``history`` sessions of text coverage.

    Coverage starts at the grid's first session with any text (before it, the feed did not exist: no signal).
    """
    covered = np.flatnonzero(log_count.sum(axis=0) > 0)
    out = np.zeros_like(log_count)
    if len(covered) == 0:
        return out
    first = covered[0]
    span = log_count[:, first:]
    csum = np.concatenate([np.zeros((len(span), 1)), np.cumsum(span, axis=1)], axis=1)
    idx = np.arange(span.shape[1])
    lo = np.maximum(idx - history, 0)
    seen = idx - lo  # sessions of coverage before each one, at most ``history``
    trailing = (csum[:, idx] - csum[:, lo]) / np.maximum(seen, 1)
    out[:, first:] = np.where(seen >= min_history, span - trailing, 0.0)
    return out


def _risk_flags(per_text: np.ndarray, names: list[str], thresholds: dict[str, float], event_threshold: float
                ) -> tuple[np.ndarray, np.ndarray]:
    """Per text: has at least one risk flag; its report ``risk_score`` is at least ``event_threshold``."""
    risk_cols = [i for i, name in enumerate(names) if name.startswith("risk_")]
    labels = [names[i][len("risk_"):] for i in risk_cols]
    risk = per_text[:, risk_cols].astype(np.float64)
    cut = np.array([thresholds.get(label, 0.5) for label in labels])
    flagged = (risk >= cut).any(axis=1)
    sentiment = [i for i, name in enumerate(names) if name.startswith("p_")]
    sentiment_labels = [names[i][len("p_"):] for i in sentiment]
    probs = per_text[:, sentiment].astype(np.float64)
    scores = np.array([risk_score(dict(zip(sentiment_labels, p)), dict(zip(labels, r)))
                       for p, r in zip(probs, risk)])
    return flagged, scores >= event_threshold


def _novel(emb: np.ndarray, ticker: np.ndarray, session: np.ndarray, days: int, similarity: float) -> np.ndarray:
    """Per text: 1.0 unless a text of the same ticker in the previous ``days`` sessions is a near copy."""
    unit = emb.astype(np.float32)
    unit /= np.maximum(np.linalg.norm(unit, axis=1, keepdims=True), 1e-12)
    novel = np.ones(len(emb))
    order = np.lexsort((session, ticker))
    t_sorted, s_sorted = ticker[order], session[order]
    for t in np.unique(t_sorted):
        rows = order[t_sorted == t]
        sessions = s_sorted[t_sorted == t]
        starts = np.flatnonzero(np.r_[True, sessions[1:] != sessions[:-1]])
        for a, b in zip(starts, np.r_[starts[1:], len(rows)]):
            ref_lo = np.searchsorted(sessions, sessions[a] - days)
            if ref_lo == a:
                continue
            best = (unit[rows[a:b]] @ unit[rows[ref_lo:a]].T).max(axis=1)
            novel[rows[a:b]] = (best < similarity).astype(float)
    return novel
