"""Check annotation files against their batches and the guide's formats; read them into rows.

A label file ``labels/<batch>.tsv`` (first pass) or ``labels_pass2/<batch>.tsv`` (blind second pass) has the
header ``id	topics	kind	severity	sentiment	note`` and one line per passage of the batch, in order. Every
problem is reported with the file and line.

    python -m finetune.risk_data.corpus.check finetune/risk_data/corpus/labels/C001.tsv ...
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from finetune.risk_data.corpus.render import read_sample

HEADER = ("id", "topics", "kind", "severity", "sentiment", "note")
KINDS = ("event", "outlook", "boilerplate", "other")
SENTIMENTS = ("negative", "neutral", "positive")
RISK_LABELS = ("credit", "liquidity", "earnings_guidance", "legal_regulatory", "fraud_accounting", "operational",
               "market_volatility", "macro", "restructuring", "m_and_a", "management_change", "dividend")


@dataclass(frozen=True)
class Annotation:
    """One passage's fields as decided by an annotator."""

    id: str
    topics: tuple[str, ...]
    kind: str
    severity: int
    sentiment: str
    note: str

    @property
    def signals(self) -> tuple[str, ...]:
        """The derived signal labels: the topics of an event or outlook passage."""
        return self.topics if self.kind in ("event", "outlook") else ()

    @property
    def adverse(self) -> bool:
        """An event or outlook with severity >= 1."""
        return self.kind in ("event", "outlook") and self.severity >= 1


def parse_line(line: str, where: str) -> Annotation:
    """One data line of a label file; raises ValueError naming ``where`` and the field."""
    parts = line.rstrip("\n").split("\t")
    if len(parts) == 5:
        parts.append("")
    if len(parts) != 6:
        raise ValueError(f"{where}: expected 6 tab-separated fields, got {len(parts)}")
    row_id, topics, kind, severity, sentiment, note = (p.strip() for p in parts)
    names = () if topics in ("-", "") else tuple(t.strip() for t in topics.split(","))
    bad = [t for t in names if t not in RISK_LABELS]
    if bad:
        raise ValueError(f"{where}: topics: unknown label(s) {bad}")
    if len(set(names)) != len(names):
        raise ValueError(f"{where}: topics: duplicate label")
    if kind not in KINDS:
        raise ValueError(f"{where}: kind {kind!r} is not one of {list(KINDS)}")
    if severity not in ("0", "1", "2", "3"):
        raise ValueError(f"{where}: severity {severity!r} is not 0-3")
    if kind in ("boilerplate", "other") and severity != "0":
        raise ValueError(f"{where}: severity must be 0 when kind is {kind}")
    if sentiment not in SENTIMENTS:
        raise ValueError(f"{where}: sentiment {sentiment!r} is not one of {list(SENTIMENTS)}")
    return Annotation(row_id, tuple(sorted(names, key=RISK_LABELS.index)), kind, int(severity), sentiment, note)


def read_label_file(path: Path, check_batch: bool = True) -> list[Annotation]:
    """All annotations of one file, checked; raises ValueError listing every problem."""
    problems: list[str] = []
    out: list[Annotation] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or tuple(h.strip() for h in lines[0].split("\t")) != HEADER:
        problems.append(f"{path}:1: header must be the tab-separated fields {list(HEADER)}")
    for number, line in enumerate(lines[1:], 2):
        if not line.strip():
            continue
        try:
            out.append(parse_line(line, f"{path}:{number}"))
        except ValueError as exc:
            problems.append(str(exc))
    if check_batch and not problems:
        expected = [row["id"] for row in read_sample(path.stem)]
        got = [a.id for a in out]
        if got != expected:
            missing = [i for i in expected if i not in set(got)]
            extra = [i for i in got if i not in set(expected)]
            problems.append(f"{path}: ids differ from batch {path.stem} ({len(got)} vs {len(expected)} rows; "
                            f"missing {missing[:5]}, unexpected {extra[:5]}; order must match)")
    if problems:
        raise ValueError("\n".join(problems))
    return out


def main(argv: list[str] | None = None) -> int:
    """Check the named files; print OK or every problem."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="+")
    args = parser.parse_args(argv)
    status = 0
    for name in args.files:
        try:
            rows = read_label_file(Path(name))
        except (ValueError, OSError) as exc:
            print(exc, file=sys.stderr)
            status = 1
        else:
            print(f"{name}: OK ({len(rows)} rows)")
    return status


if __name__ == "__main__":
    sys.exit(main())
