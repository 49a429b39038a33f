"""The unlabelled pools the judgement corpus is drawn from, with stable ids, splits and context.

Every passage is real text from the shared data (``../shared/data`` or ``$TEXTRISK_DATA_DIR``); ids follow
``finetune/risk_data/sources.py`` so that ``find_text`` re-finds each one:

- ``sec``: the passages the filing scorer scores (``textrisk.filings.passages.layout_filing`` with the default
  model's tokenizer, 64-token chunks of whole sentences inside prose paragraphs, never across a section), kept
  when they look like prose (8-120 words, >= 60 % of words with a letter, ending in ``.``, ``!`` or ``?``). Id
  ``sec:<file>:<start>-<end>``. Filers are split once into ``train`` / ``dev`` / ``test`` groups (``filer_split``):
  the three filers of the distress benchmark that later failed (Horizon Financial, Stockwalk, PhyMatrix) and a
  seeded 20 % of the others are ``test`` (never in the corpus; the random filings test is drawn from them), a
  seeded 15 % of the rest are ``dev``.
- ``fpb50``: Financial PhraseBank 50 %-agree rows in the *train* part of the standard split (the test part is
  never drawn).
- ``tfns-train``: TFNS ``train.csv`` (``valid.csv``, the sentiment test, is never drawn).
- ``sentivent``: SENTiVENT sentences of the train and dev articles (the test articles are never drawn); text is
  not committed (research use only) and is re-found from the id.
- ``stocknet``: StockNet tweets dated before 2015-08-01 (the forecaster's training period).

Excluded everywhere: every text of the existing gold set (``labels.tsv``: dev, test and unused rows) and of the
random gold sample, by id and by near-duplicate key, and near-duplicates within a pool (first occurrence kept).
"""

from __future__ import annotations

import csv
import json
import random
import re
from collections.abc import Iterator
from pathlib import Path

from finetune.risk_data.sources import (
    dedup_key,
    find_text,
    is_usable,
    iter_source,
    require_data_dir,
)

HERE = Path(__file__).resolve().parent
RISK_DATA = HERE.parent
SPLIT_SEED = 20261205
#: CIKs of the distress benchmark's filers with a later adverse outcome: always in the test group.
DISTRESS_FILERS = ("1002682", "1001136", "1002022")
TEST_SHARE = 0.20
DEV_SHARE = 0.15
STOCKNET_END = "2015-08-01"
_PROSE_END = re.compile(r"[.!?][\"')\]\u201d\u2019]*$")


def prose_ok(text: str) -> bool:
    """Whether a filing passage looks like prose rather than a table row, heading or page number."""
    words = text.split()
    if not 8 <= len(words) <= 120:
        return False
    if sum(any(c.isalpha() for c in w) for w in words) < 0.6 * len(words):
        return False
    return bool(_PROSE_END.search(text))


def filing_index(data_dir: Path) -> dict[str, dict[str, str]]:
    """``index.csv`` rows by file name."""
    with (data_dir / "sec_filings" / "index.csv").open(encoding="utf-8", newline="") as handle:
        return {row["file"]: row for row in csv.DictReader(handle)}


def filer_split(data_dir: Path, seed: int = SPLIT_SEED) -> dict[str, str]:
    """Filer (``cik_or_ticker``) -> ``train`` / ``dev`` / ``test``; seeded, deterministic."""
    filers = sorted({row["cik_or_ticker"] for row in filing_index(data_dir).values()})
    others = [f for f in filers if f not in DISTRESS_FILERS]
    rng = random.Random(seed)
    rng.shuffle(others)
    n_test = round(TEST_SHARE * len(others))
    n_dev = round(DEV_SHARE * len(others))
    split = {f: "test" for f in DISTRESS_FILERS if f in filers}
    split.update({f: "test" for f in others[:n_test]})
    split.update({f: "dev" for f in others[n_test:n_test + n_dev]})
    split.update({f: "train" for f in others[n_test + n_dev:]})
    return split


def section_group(key: str | None, form: str | None) -> str:
    """A coarse section name for stratifying filing passages."""
    if key is None or key == "front":
        return "other"
    if key.startswith("EX-13"):
        return "annual_report"
    if key.startswith("EX-99"):
        return "press_release"
    if key.startswith("EX"):
        return "other"
    if form == "8-K" or re.fullmatch(r"\d\.\d\d|\d", key) and form not in ("10-K", "10-Q"):
        return "8k_item"
    return {"1A": "risk_factors", "II-1A": "risk_factors", "7": "mdna", "7A": "mdna", "I-2": "mdna",
            "I-3": "mdna", "3": "legal", "II-1": "legal", "8": "notes", "I-1": "notes",
            "1": "business"}.get(key, "other")


def iter_filing_passages(data_dir: Path) -> Iterator[dict]:
    """Every prose-like scored passage of every filing, with its filer, form, section and date."""
    from transformers import AutoTokenizer

    from textrisk.filings.passages import layout_filing

    tokenizer = AutoTokenizer.from_pretrained(Path(__file__).resolve().parents[3] / "textrisk" / "default_model")
    index = filing_index(data_dir)
    for path in sorted((data_dir / "sec_filings").glob("*.txt")):
        meta = index.get(path.name, {})
        raw = path.read_text(encoding="utf-8")
        form = meta.get("form") or None
        layout = layout_filing(raw, tokenizer, 64, 128, form=None if form is None else form.split("/")[0])
        for p in layout.passages:
            text = " ".join(raw[p.start:p.end].split())
            if not prose_ok(text):
                continue
            yield {"id": f"sec:{path.name}:{p.start}-{p.end}", "source": "sec", "text": text,
                   "filer": meta.get("cik_or_ticker", ""), "company": meta.get("company", ""),
                   "form": form or "", "date": meta.get("date", ""), "section": p.section or "",
                   "section_group": section_group(p.section, layout.form)}


def _excluded(data_dir: Path) -> tuple[set[str], set[str]]:
    """Ids and near-duplicate keys of the existing gold set and the random gold sample."""
    ids: set[str] = set()
    with (RISK_DATA / "labels.tsv").open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip() and not line.startswith(("#", "id\t")):
                ids.add(line.split("\t", 1)[0])
    keys = {dedup_key(find_text(i, data_dir)) for i in ids}
    with (RISK_DATA / "random_gold_sample.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            ids.add(row["id"])
            keys.add(dedup_key(row["text"]))
    return ids, keys


def _fpb_test_keys(data_dir: Path) -> set[str]:
    from textrisk.data import load_benchmark

    return {dedup_key(t) for t in load_benchmark("fpb", "test", data_dir)["text"]}


def _tfns_valid_keys(data_dir: Path) -> set[str]:
    return {dedup_key(t) for _, t in iter_source("tfns-valid", data_dir)}


def iter_short_texts(data_dir: Path) -> Iterator[dict]:
    """Rows of the news and social pools (before exclusion and de-duplication)."""
    from textrisk.sentivent import read_split, sentence_records

    fpb_test = _fpb_test_keys(data_dir)
    for row_id, text in iter_source("fpb50", data_dir):
        if dedup_key(text) not in fpb_test:
            yield {"id": row_id, "source": "fpb50", "text": text}
    for row_id, text in iter_source("tfns-train", data_dir):
        yield {"id": row_id, "source": "tfns-train", "text": text}
    split = read_split()
    allowed = set(split["train"]) | set(split["dev"])
    for row_id, record in sentence_records(data_dir).items():
        if record["article"] in allowed:
            yield {"id": row_id, "source": "sentivent", "text": record["text"],
                   "article": record["article"], "split": "dev" if record["article"] in split["dev"] else "train"}
    for row_id, text in iter_source("stocknet", data_dir):
        date = row_id.split("/", 1)[1].split(":", 1)[0]
        if date < STOCKNET_END:
            yield {"id": row_id, "source": "stocknet", "text": text, "date": date,
                   "ticker": row_id.split(":", 1)[1].split("/", 1)[0]}


def build_pools(data_dir: Path) -> list[dict]:
    """All pool rows after exclusions and de-duplication, each with a ``split`` (``train``/``dev``/``test``)."""
    excluded_ids, excluded_keys = _excluded(data_dir)
    tfns_valid = _tfns_valid_keys(data_dir)
    splits = filer_split(data_dir)
    rng = random.Random(SPLIT_SEED)
    seen: dict[str, set[str]] = {}
    rows: list[dict] = []
    for row in [*iter_filing_passages(data_dir), *iter_short_texts(data_dir)]:
        key = dedup_key(row["text"])
        pool = row["source"]
        if row["id"] in excluded_ids or key in excluded_keys or not is_usable(row["text"]):
            continue
        if pool != "sec" and key in tfns_valid:
            continue
        if key in seen.setdefault(pool, set()):
            continue
        seen[pool].add(key)
        if pool == "sec":
            row["split"] = splits.get(row["filer"], "train")
        elif "split" not in row:
            row["split"] = "dev" if rng.random() < DEV_SHARE else "train"
        rows.append(row)
    return rows


def load_pools(cache: Path, data_dir: Path | None = None) -> list[dict]:
    """The pools, built once and cached as JSONL at ``cache`` (SENTiVENT text included: keep it out of git)."""
    if cache.is_file():
        with cache.open(encoding="utf-8") as handle:
            return [json.loads(line) for line in handle]
    rows = build_pools(require_data_dir(None if data_dir is None else str(data_dir)))
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    tmp.replace(cache)
    return rows
