"""Draw the judgement corpus sample and the random filings test from the pools (no labels are made here).

Two outputs, both committed before any passage is labelled:

- ``filings_test_sample.jsonl``: ``FILINGS_TEST_SIZE`` passages drawn uniformly at random from the ``test``
  filers' passages (``pools.filer_split``): filings that never enter the corpus.
- ``sample.jsonl``: the corpus passages, drawn from the ``train`` and ``dev`` parts of every pool:

  * a **random** part per pool, uniform (filings: stratified by section group so that risk factors, MD&A, legal
    proceedings, notes, business descriptions and 8-K items all appear), which keeps the real distribution of
    routine and boilerplate text in the corpus;
  * an **active** part per pool that chooses *which* passages to read so that rare labels get enough positives:
    for every label, half of its quota from passages the labelling functions (``textrisk.risk_rules``) fire on
    for that label, half from the passages nearest (cosine of MiniLM mean-pooled embeddings) to the label's
    definition and examples in ``textrisk.taxonomy`` that the rules do *not* fire on, so that the corpus is not
    limited to the rules' vocabulary; plus, for filings, passages nearest to descriptions of severe adverse
    events (``SEVERE_EVENTS``). Which query chose a passage is stored in ``drawn`` and hidden from annotators.

Nothing here assigns or suggests a label: annotators read every passage (see ``render.py``) and decide its
fields by ``GUIDE_FIELDS.md``. Rows are shuffled (seeded) and cut into batches of ``BATCH_SIZE``.

    HF_HUB_OFFLINE=1 python -m finetune.risk_data.corpus.draw --part filings-test    # first, then
    HF_HUB_OFFLINE=1 python -m finetune.risk_data.corpus.draw --part corpus-random   # batches C001-C065, then
    HF_HUB_OFFLINE=1 python -m finetune.risk_data.corpus.draw --part corpus-active   # appended as C066-C160
    HF_HUB_OFFLINE=1 python -m finetune.risk_data.corpus.draw --part corpus-active2  # round 2 (rare labels)

The random part was drawn (and its labelling started) while the pool embeddings the active part needs were being
computed; the active part excludes every passage of the random part.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from pathlib import Path

import numpy as np

from finetune.risk_data.corpus.pools import HERE, load_pools

SEED = 20261205
RUNS = Path("runs/corpus")
FILINGS_TEST_SIZE = 450
BATCH_SIZE = 50
#: (random, active) passages per pool.
QUOTAS = {"sec": (1400, 2000), "fpb50": (300, 500), "tfns-train": (450, 750), "sentivent": (300, 600),
          "stocknet": (800, 900)}
#: Random filing passages per section group (sums to the random filings quota).
SECTION_QUOTAS = {"risk_factors": 330, "mdna": 330, "business": 180, "notes": 230, "legal": 120,
                  "annual_report": 60, "8k_item": 40, "other": 110}
#: Relative share of each label in a pool's active quota (rare labels get more).
LABEL_WEIGHT = {"credit": 1.4, "liquidity": 1.6, "earnings_guidance": 1.0, "legal_regulatory": 1.0,
                "fraud_accounting": 1.6, "operational": 1.2, "market_volatility": 0.9, "macro": 0.7,
                "restructuring": 1.0, "m_and_a": 0.8, "management_change": 1.2, "dividend": 1.1}
#: Round 2 of the active part: the labels with fewer than 150 signal positives after round 1, queried in the pools
#: where events (not boilerplate) are reported.
ROUND2_LABELS = ("liquidity", "fraud_accounting", "market_volatility", "credit", "dividend")
ROUND2_QUOTAS = {"tfns-train": 250, "stocknet": 150, "sentivent": 120, "fpb50": 60, "sec": 120}
#: Descriptions of severe adverse events in filings (a query, not a label).
SEVERE_EVENTS = (
    "The Bank entered into a cease and desist order with the FDIC requiring it to raise capital.",
    "There is substantial doubt about the Company's ability to continue as a going concern.",
    "We were not in compliance with the financial covenants of our credit agreement and are in default.",
    "The Company filed a voluntary petition for relief under Chapter 11 of the Bankruptcy Code.",
    "We restated our previously issued financial statements to correct errors.",
    "Management identified a material weakness in internal control over financial reporting.",
    "Non-performing loans and the provision for loan losses increased significantly during the year.",
    "The Company received a subpoena from the Securities and Exchange Commission.",
    "Nasdaq notified the Company that it no longer meets the listing requirements.",
    "We recorded a goodwill impairment charge and a net loss for the year.",
    "The regulators required the Bank to stop accepting brokered deposits.",
    "The Company's net capital fell below the minimum required by the SEC net capital rule.",
)
SEVERE_QUOTA = 360


def _prototypes() -> dict[str, list[str]]:
    from textrisk.taxonomy import RISK_LABEL_INFO

    out = {}
    for name, info in RISK_LABEL_INFO.items():
        out[name] = [info.definition, *info.examples, *(f"The company reports {x}." for x in info.includes)]
    return out


def _embed(texts: list[str]) -> np.ndarray:
    import torch
    from transformers import AutoModel, AutoTokenizer

    from textrisk.models.backbone import resolve_model_path

    path = resolve_model_path("sentence-transformers/all-MiniLM-L6-v2")
    tok, model = AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path).eval()
    with torch.inference_mode():
        enc = tok(texts, padding=True, truncation=True, max_length=128, return_tensors="pt")
        hidden = model(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).float()
        return torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1).numpy()


def _rule_labels(texts: list[str]) -> list[list[str]]:
    from textrisk.labels.rules import lf_votes, majority_vote

    return majority_vote(lf_votes(texts))


def draw_filings_test(rows: list[dict], seed: int = SEED) -> list[dict]:
    """``FILINGS_TEST_SIZE`` passages drawn uniformly from the test filers' passages."""
    test_pool = [r for r in rows if r["source"] == "sec" and r["split"] == "test"]
    return [dict(r, drawn="random-test") for r in random.Random(seed).sample(test_pool, FILINGS_TEST_SIZE)]


def _filing_name(row: dict) -> str:
    return row["id"].split(":")[1]


def draw_random_part(rows: list[dict], seed: int = SEED) -> list[dict]:
    """The random part of the corpus: uniform per pool; filings stratified by section group, at most 25 passages
    of one filing."""
    rng = random.Random(seed + 1)
    usable = [i for i, r in enumerate(rows) if r["split"] in ("train", "dev")]
    sample: list[dict] = []
    per_filing: Counter = Counter()
    for pool, (n_random, _) in QUOTAS.items():
        members = [i for i in usable if rows[i]["source"] == pool]
        if pool != "sec":
            sample += [dict(rows[i], drawn="random") for i in rng.sample(members, n_random)]
            continue
        for group, want in SECTION_QUOTAS.items():
            candidates = [i for i in members if rows[i]["section_group"] == group]
            rng.shuffle(candidates)
            got = 0
            for i in candidates:
                if got == want:
                    break
                if per_filing[_filing_name(rows[i])] < 25:
                    sample.append(dict(rows[i], drawn=f"random:{group}"))
                    per_filing[_filing_name(rows[i])] += 1
                    got += 1
    rng.shuffle(sample)
    return sample


def draw_active_part(rows: list[dict], emb: np.ndarray, already: list[dict], seed: int = SEED,
                     quotas: dict[str, int] | None = None, labels: tuple[str, ...] | None = None,
                     severe_quota: int = SEVERE_QUOTA) -> list[dict]:
    """The active part of the corpus (see the module docstring), excluding the rows ``already`` drawn; at most 40
    passages of one filing in the whole sample. ``quotas`` (active passages per pool) and ``labels`` (the labels
    queried) default to the first round's."""
    from textrisk.taxonomy import RISK_LABELS

    labels = tuple(labels or RISK_LABELS)
    quotas = quotas or {pool: active for pool, (_, active) in QUOTAS.items()}
    rng = random.Random(seed + 2 + (labels != tuple(RISK_LABELS)))
    drawn_ids = {r["id"] for r in already}
    taken = {i for i, r in enumerate(rows) if r["id"] in drawn_ids}
    usable = [i for i, r in enumerate(rows) if r["split"] in ("train", "dev") and i not in taken]
    per_filing = Counter(_filing_name(r) for r in already if r["source"] == "sec")
    sample: list[dict] = []

    def take(i: int, drawn: str) -> bool:
        if i in taken or (rows[i]["source"] == "sec" and per_filing[_filing_name(rows[i])] >= 40):
            return False
        taken.add(i)
        sample.append(dict(rows[i], drawn=drawn))
        if rows[i]["source"] == "sec":
            per_filing[_filing_name(rows[i])] += 1
        return True

    protos = _prototypes()
    proto_emb = {label: _embed(texts) for label, texts in protos.items()}
    severe_emb = _embed(list(SEVERE_EVENTS))
    total_weight = sum(LABEL_WEIGHT[label] for label in labels)
    for pool, n_active in quotas.items():
        members = np.array([i for i in usable if rows[i]["source"] == pool])
        vectors = emb[members].astype(np.float32)
        rules = _rule_labels([rows[i]["text"] for i in members])
        budget = n_active
        if pool == "sec" and severe_quota:
            severe = (vectors @ severe_emb.T).max(axis=1)
            got = 0
            for k in np.argsort(-severe):
                if got == severe_quota:
                    break
                got += take(int(members[k]), "active:severe")
            budget -= severe_quota
        for label in labels:
            quota = round(budget * LABEL_WEIGHT[label] / total_weight)
            fired = [int(members[k]) for k, labels in enumerate(rules) if label in labels]
            rng.shuffle(fired)
            got = 0
            for i in fired:
                if got == quota // 2:
                    break
                got += take(i, f"active:rules:{label}")
            fired_set = set(fired)
            sims = (vectors @ proto_emb[label].T).max(axis=1)
            nearest = [int(members[k]) for k in np.argsort(-sims)[: 6 * quota]]
            nearest = [i for i in nearest if i not in fired_set]
            rng.shuffle(nearest)
            for i in nearest:
                if got == quota:
                    break
                got += take(i, f"active:nearest:{label}")
    rng.shuffle(sample)
    return sample


def read_jsonl(path: Path) -> list[dict]:
    """Rows of a committed sample file."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _public(row: dict) -> dict:
    """What is committed: SENTiVENT text is left out (research use only; ``render.py`` re-finds it)."""
    keep = {k: v for k, v in row.items() if k not in ("text",)}
    if row["source"] != "sentivent":
        keep["text"] = row["text"]
    return keep


def write_jsonl(path: Path, rows: list[dict]) -> None:
    """Write rows as JSONL atomically."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(json.dumps(_public(r), ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    tmp.replace(path)


def main(argv: list[str] | None = None) -> None:
    """Draw and write both samples, with batch numbers, and print the counts."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--part", required=True,
                        choices=("filings-test", "corpus-random", "corpus-active", "corpus-active2"))
    args = parser.parse_args(argv)
    rows = load_pools(RUNS / "pools.jsonl", args.data_dir)
    if args.part == "filings-test":
        filings_test = draw_filings_test(rows)
        for k, row in enumerate(filings_test):
            row["batch"] = f"T{k // BATCH_SIZE + 1:03d}"
        write_jsonl(HERE / "filings_test_sample.jsonl", filings_test)
        print(f"filings test: {len(filings_test)} passages from {len({r['filer'] for r in filings_test})} filers")
        print(Counter(r["section_group"] for r in filings_test))
        return
    if args.part == "corpus-random":
        sample = draw_random_part(rows)
        first = 1
    else:
        already = read_jsonl(HERE / "sample.jsonl")
        emb = np.load(RUNS / "emb.npy")
        if len(emb) != len(rows):
            raise SystemExit("runs/corpus/emb.npy does not match the pools; rebuild it")
        if args.part == "corpus-active":
            sample = draw_active_part(rows, emb, already)
        else:
            sample = draw_active_part(rows, emb, already, quotas=ROUND2_QUOTAS, labels=ROUND2_LABELS,
                                      severe_quota=40)
        first = int(already[-1]["batch"][1:]) + 1
    for k, row in enumerate(sample):
        row["batch"] = f"C{k // BATCH_SIZE + first:03d}"
    if args.part != "corpus-random":
        sample = [*already, *sample]
    write_jsonl(HERE / "sample.jsonl", sample)
    print(f"corpus sample: {len(sample)} passages")
    print(Counter(r["source"] for r in sample))
    print(Counter(r["drawn"].split(":")[0] + ":" + r["source"] for r in sample))


if __name__ == "__main__":
    main()
