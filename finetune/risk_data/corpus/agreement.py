"""Agreement between the first pass and the blind second pass, per field, and the list of disagreements.

For every passage labelled in both ``labels/`` and ``labels_pass2/``: Cohen's kappa for each topic label (present
or not), each derived signal label, any signal, ``kind`` (4 classes), ``sentiment`` (3 classes), ``adverse``
(yes/no) and ``severity`` (0-3, quadratic-weighted kappa and exact agreement). Labels with no positive in either
pass have an undefined kappa and are reported as such. ``--disagreements FILE`` writes every passage where any
field differs, with both passes side by side, for adjudication.

    python -m finetune.risk_data.corpus.agreement --out finetune/risk_data/corpus/agreement.json \
        --disagreements runs/corpus/disagreements.md
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from finetune.risk_data.corpus.check import RISK_LABELS, Annotation, read_label_file
from finetune.risk_data.corpus.draw import read_jsonl
from finetune.risk_data.corpus.pools import HERE

PASS2 = HERE / "labels_pass2"


def read_dir(folder: Path) -> dict[str, Annotation]:
    """Every annotation in a folder of label files, by id."""
    out: dict[str, Annotation] = {}
    for path in sorted(folder.glob("*.tsv")):
        for a in read_label_file(path):
            out[a.id] = a
    return out


def kappa(a: list, b: list, weights: str | None = None) -> float | None:
    """Cohen's kappa, or None when both raters used a single category."""
    from sklearn.metrics import cohen_kappa_score

    if len(set(a) | set(b)) < 2:
        return None
    return float(cohen_kappa_score(a, b, weights=weights))


def agreement(first: dict[str, Annotation], second: dict[str, Annotation]) -> dict:
    """Per-field agreement over the shared ids."""
    ids = sorted(set(first) & set(second))
    one, two = [first[i] for i in ids], [second[i] for i in ids]
    out: dict = {"rows": len(ids), "topics": {}, "signals": {}}
    for label in RISK_LABELS:
        for field, get in (("topics", lambda x: x.topics), ("signals", lambda x: x.signals)):
            xa = [label in get(x) for x in one]
            xb = [label in get(x) for x in two]
            out[field][label] = {"kappa": kappa(xa, xb), "positives": [sum(xa), sum(xb)]}
    out["any_signal"] = kappa([bool(x.signals) for x in one], [bool(x.signals) for x in two])
    out["kind"] = kappa([x.kind for x in one], [x.kind for x in two])
    out["kind_exact"] = sum(x.kind == y.kind for x, y in zip(one, two)) / max(len(ids), 1)
    out["sentiment"] = kappa([x.sentiment for x in one], [x.sentiment for x in two])
    out["adverse"] = kappa([x.adverse for x in one], [x.adverse for x in two])
    out["severity_quadratic"] = kappa([x.severity for x in one], [x.severity for x in two], "quadratic")
    out["severity_exact"] = sum(x.severity == y.severity for x, y in zip(one, two)) / max(len(ids), 1)
    defined = [v["kappa"] for v in out["signals"].values() if v["kappa"] is not None]
    out["signals_mean_kappa"] = sum(defined) / len(defined) if defined else None
    return out


def disagreements(first: dict[str, Annotation], second: dict[str, Annotation]) -> list[tuple[Annotation, Annotation]]:
    """Pairs whose fields differ anywhere (the note is not a field)."""
    def fields(a: Annotation) -> tuple:
        return a.topics, a.kind, a.severity, a.sentiment

    return [(first[i], second[i]) for i in sorted(set(first) & set(second)) if fields(first[i]) != fields(second[i])]


def main(argv: list[str] | None = None) -> None:
    """Print and write the agreement figures; optionally the disagreements for adjudication."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=None)
    parser.add_argument("--disagreements", default=None)
    args = parser.parse_args(argv)
    first, second = read_dir(HERE / "labels"), read_dir(PASS2)
    result = agreement(first, second)
    print(json.dumps(result, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    if args.disagreements:
        from finetune.risk_data.corpus.render import context
        from finetune.risk_data.sources import find_text, require_data_dir

        data_dir = require_data_dir(None)
        rows = {r["id"]: r for path in (HERE / "sample.jsonl", HERE / "filings_test_sample.jsonl")
                for r in read_jsonl(path)}
        lines = []
        for a, b in disagreements(first, second):
            lines += [f"## {a.id}", f"context: {context(rows[a.id])}", "", find_text(a.id, data_dir), "",
                      f"pass 1: {','.join(a.topics) or '-'} | {a.kind} | {a.severity} | {a.sentiment}"
                      f" | {a.note}", f"pass 2: {','.join(b.topics) or '-'} | {b.kind} | {b.severity} | "
                      f"{b.sentiment} | {b.note}", ""]
        Path(args.disagreements).parent.mkdir(parents=True, exist_ok=True)
        Path(args.disagreements).write_text("\n".join(lines), encoding="utf-8")
        print(f"{len(lines) // 8} disagreements written to {args.disagreements}")


if __name__ == "__main__":
    main()
