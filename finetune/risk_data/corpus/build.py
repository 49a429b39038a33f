"""Build the judgement corpus files from the samples and the hand-made label files.

Inputs (all committed): ``sample.jsonl`` / ``filings_test_sample.jsonl`` (what was drawn), ``labels/<batch>.tsv``
(first pass), ``consistency_*.tsv`` (passages of recurring kinds re-read by a reviewer against the final guide;
only the changed ones are listed), and ``adjudicated.tsv`` (the final fields of passages whose first and second
pass disagreed, decided by an adjudicator who read both and the guide). They apply in that order, the later
overriding the earlier. Every text is re-found from the shared data by id and must match the sample's text.

Outputs (``finetune/risk_data/corpus/``):

- ``corpus_train.jsonl`` / ``corpus_dev.jsonl``: the corpus, split as drawn (filings by filer, other sources by a
  seeded draw, SENTiVENT by article);
- ``filings_test.jsonl``: the random filings test (frozen).

Each row: ``id``, ``source``, ``licence`` (of the text), ``text`` (``null`` for SENTiVENT rows, whose text may
not be redistributed: pass ``--with-sentivent-text --out-dir runs/corpus`` to write complete copies outside git),
``topics``, ``labels`` (the derived signals: topics of an event or outlook passage), ``kind``, ``severity``,
``adverse``, ``sentiment``, and for filings ``section``. ``labels`` makes the files readable by
``textrisk evaluate --risk-data`` and the risk trainer as they stand.

    HF_HUB_OFFLINE=1 python -m finetune.risk_data.corpus.build
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from finetune.risk_data.corpus.check import Annotation, parse_line, read_label_file
from finetune.risk_data.corpus.pools import HERE
from finetune.risk_data.sources import find_text, require_data_dir

LABELS = HERE / "labels"
#: Licence of each source's text (the labels are the project's, MIT).
LICENCES = {
    "sec": "public EDGAR record (US government filing; no copyright restriction on the text)",
    "fpb50": "CC BY-NC-SA 3.0 (Financial PhraseBank: non-commercial, share-alike)",
    "tfns-train": "MIT (Twitter Financial News Sentiment); tweet text under Twitter's terms",
    "stocknet": "MIT (StockNet dataset); tweet text under Twitter's terms",
    "sentivent": "research use only (SENTiVENT, no licence file): text not redistributed, rebuilt from the id",
}
ADJUDICATED = HERE / "adjudicated.tsv"


def read_samples(path: Path) -> list[dict]:
    """Rows of a sample file, in order."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def read_adjudicated(path: Path = ADJUDICATED) -> dict[str, Annotation]:
    """Adjudicated fields by id (same columns as a label file; the note holds the reason)."""
    if not path.is_file():
        return {}
    lines = path.read_text(encoding="utf-8").splitlines()
    return {a.id: a for a in (parse_line(line, f"{path}:{n}") for n, line in enumerate(lines[1:], 2)
                              if line.strip())}


def overrides() -> dict[str, Annotation]:
    """The consistency reviews' and the adjudication's fields by id, the adjudication last."""
    out: dict[str, Annotation] = {}
    for path in [*sorted(HERE.glob("consistency_*.tsv")), ADJUDICATED]:
        out.update(read_adjudicated(path))
    return out


def first_pass(batches: set[str]) -> dict[str, Annotation]:
    """First-pass annotations of the given batches, by id (every batch must be labelled)."""
    out: dict[str, Annotation] = {}
    missing = sorted(b for b in batches if not (LABELS / f"{b}.tsv").is_file())
    if missing:
        raise SystemExit(f"unlabelled batches: {', '.join(missing)}")
    for batch in sorted(batches):
        for a in read_label_file(LABELS / f"{batch}.tsv"):
            out[a.id] = a
    return out


def row_of(sample: dict, a: Annotation, text: str | None) -> dict:
    """The corpus row of one passage."""
    row = {"id": sample["id"], "source": sample["source"], "licence": LICENCES[sample["source"]], "text": text,
           "topics": list(a.topics),
           "labels": list(a.signals), "kind": a.kind, "severity": a.severity, "adverse": a.adverse,
           "sentiment": a.sentiment}
    if sample["source"] == "sec":
        row["section"] = sample.get("section", "")
    return row


def build(data_dir: Path, sample_path: Path, with_sentivent_text: bool = False) -> dict[str, list[dict]]:
    """Rows per split for one sample file."""
    samples = read_samples(sample_path)
    labels = first_pass({s["batch"] for s in samples})
    labels.update({k: v for k, v in overrides().items() if k in labels})
    out: dict[str, list[dict]] = {}
    for s in samples:
        text = find_text(s["id"], data_dir)
        if s.get("text") is not None and s["text"] != text:
            raise SystemExit(f"{s['id']}: the shared data's text differs from the sample's")
        keep = text if (s["source"] != "sentivent" or with_sentivent_text) else None
        split = "test" if s["batch"].startswith("T") else s["split"]
        out.setdefault(split, []).append(row_of(s, labels[s["id"]], keep))
    return out


def write_jsonl(path: Path, rows: list[dict]) -> None:
    """Write rows atomically."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    tmp.replace(path)


def summary(rows: list[dict]) -> str:
    """Counts of kinds, signals, topics and adverse rows."""
    kinds = Counter(r["kind"] for r in rows)
    signals = Counter(label for r in rows for label in r["labels"])
    topics = Counter(label for r in rows for label in r["topics"])
    return (f"{len(rows)} rows; kinds {dict(kinds)}; adverse {sum(r['adverse'] for r in rows)}\n"
            f"  signals {dict(signals.most_common())}\n  topics {dict(topics.most_common())}")


def main(argv: list[str] | None = None) -> None:
    """Write the corpus and filings-test files and print their counts."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out-dir", default=str(HERE))
    parser.add_argument("--with-sentivent-text", action="store_true",
                        help="include SENTiVENT text (research use only: never into git)")
    args = parser.parse_args(argv)
    data_dir = require_data_dir(args.data_dir)
    out_dir = Path(args.out_dir)
    if args.with_sentivent_text and out_dir.resolve() == HERE.resolve():
        raise SystemExit("--with-sentivent-text writes texts that must stay out of git: pass --out-dir runs/corpus")
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, path in (("corpus", HERE / "sample.jsonl"), ("filings", HERE / "filings_test_sample.jsonl")):
        if not path.is_file():
            continue
        for split, rows in build(data_dir, path, args.with_sentivent_text).items():
            target = out_dir / f"{name}_{split}.jsonl"
            write_jsonl(target, rows)
            print(f"{target}: {summary(rows)}")


if __name__ == "__main__":
    main()
