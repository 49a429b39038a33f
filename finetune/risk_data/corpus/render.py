"""Render annotation batches for reading: each passage with its context line, and nothing else.

The rendered file shows the passage number, its id, a context line (source; for filings the company, form, date
and section; for tweets the ticker and date) and the text. It never shows how the passage was drawn, any rule or
model output, or another annotator's labels. SENTiVENT text is re-found from the shared data, so rendered files go
to ``runs/annotation/`` (not committed).

    HF_HUB_OFFLINE=1 python -m finetune.risk_data.corpus.render C001 C002 ...   # or --all, or --second-pass
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from finetune.risk_data.corpus.pools import HERE
from finetune.risk_data.sources import find_text, require_data_dir

OUT = Path("runs/annotation")
SAMPLES = {"C": HERE / "sample.jsonl", "T": HERE / "filings_test_sample.jsonl",
           "P": HERE / "second_pass_sample.jsonl"}
_SECTION_NAMES = {"risk_factors": "Risk Factors", "mdna": "MD&A", "legal": "Legal Proceedings",
                  "notes": "Financial statements / notes", "business": "Business", "annual_report": "Annual report",
                  "press_release": "Press release exhibit", "8k_item": "8-K item", "other": "other part"}


def read_sample(batch: str) -> list[dict]:
    """The rows of one batch (``C001``: corpus, ``T001``: filings test, ``P001``: second pass)."""
    path = SAMPLES[batch[0]]
    with path.open(encoding="utf-8") as handle:
        return [row for row in map(json.loads, handle) if row["batch"] == batch]


def context(row: dict) -> str:
    """The context line an annotator sees."""
    source = row["source"]
    if source == "sec":
        section = row.get("section") or "-"
        group = _SECTION_NAMES.get(row.get("section_group", ""), "")
        return f"SEC filing: {row.get('company', '')}, {row.get('form', '')} filed {row.get('date', '')}, " \
               f"section {section} ({group})"
    if source == "stocknet":
        return f"Tweet about ${row['id'].split(':')[1].split('/')[0]}, {row['id'].split('/')[1].split(':')[0]}"
    if source == "sentivent":
        return "News article sentence (SENTiVENT)"
    if source.startswith("tfns"):
        return "Financial news headline or tweet (TFNS)"
    if source.startswith("fpb"):
        return "Financial news sentence (Financial PhraseBank)"
    return source


def render(batch: str, data_dir: Path) -> str:
    """The text of one rendered batch."""
    rows = read_sample(batch)
    if not rows:
        raise SystemExit(f"no batch {batch}")
    lines = [f"# Batch {batch}: {len(rows)} passages. Label each by GUIDE_FIELDS.md (and GUIDE.md).", ""]
    for k, row in enumerate(rows, 1):
        text = row.get("text") or find_text(row["id"], data_dir)
        lines += [f"## [{k}] {row['id']}", f"context: {context(row)}", "", text, ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Render the named batches to runs/annotation/<batch>.md."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("batches", nargs="*")
    parser.add_argument("--all", action="store_true", help="every batch of every sample")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)
    data_dir = require_data_dir(args.data_dir)
    batches = list(args.batches)
    if args.all:
        for path in SAMPLES.values():
            if path.is_file():
                with path.open(encoding="utf-8") as handle:
                    batches += sorted({json.loads(line)["batch"] for line in handle})
    OUT.mkdir(parents=True, exist_ok=True)
    for batch in batches:
        (OUT / f"{batch}.md").write_text(render(batch, data_dir), encoding="utf-8")
    print(f"rendered {len(batches)} batch(es) to {OUT}/")


if __name__ == "__main__":
    main()
