"""Step 1 of the gold set: draw candidate sentences for hand labelling (keyword retrieval + random sample).

The retrieval queries below are deliberately broad and are *not* labels: a sentence drawn for ``credit`` may
have another label or none. Each candidate was then labelled by reading it against GUIDE.md (``labels.tsv``).
The random sample gives sentences that no query chose, so the gold set also holds unbiased positives and
negatives. Re-running with the same seed gives the same candidates.

    HF_HUB_OFFLINE=1 python -m finetune.risk_data.draw_candidates --out runs/risk_candidates.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

from finetune.risk_data.sources import SOURCES, dedup_key, is_usable, iter_source, require_data_dir

# Broad retrieval queries, one per label (case-insensitive, word-initial).
QUERIES: dict[str, str] = {
    "credit": r"default|bankrupt|chapter 11|insolven|moody|fitch|s&p rat|credit rating|junk|covenant|creditor"
              r"|loan loss|bad loans|non-performing|receivership|administration|debt restructur|rating agenc",
    "liquidity": r"going concern|liquidity|cash crunch|cash shortage|run(ning)? out of cash|funding|bailout|rescue"
                 r"|rights issue|short of cash|bank run|capital injection|solvency|refinanc",
    "earnings_guidance": r"profit warning|warns|guidance|outlook|miss(es|ed)?|fell short|below expectations"
                         r"|decreas|declin|loss|lower|cut (its )?forecast",
    "legal_regulatory": r"lawsuit|sue[sd]?|court|investigat|probe|fine[sd]?|penalt|settle|antitrust|regulator"
                        r"|sec|fda|approv|ban(s|ned)?|class action|competition authorit|ruling|judge",
    "fraud_accounting": r"fraud|restat|irregular|misconduct|embezzl|brib|corrupt|auditor|insider trading"
                        r"|accounting|whistleblow|ponzi|manipulat|scandal|misstate",
    "operational": r"recall|outage|hack|breach|cyber|fire|explosion|accident|strike|walkout|disrupt|shortage"
                   r"|halt|delay|spill|defect|crash(ed)? (plane|jet)|grounded",
    "market_volatility": r"plunge|plummet|tumble|soar|surge|crash|sell-?off|rout|volatil|vix|skyrocket|nosedive"
                         r"|slump|sink|biggest (drop|jump|gain|fall)|worst day|circuit breaker",
    "macro": r"interest rate|fed\b|inflation|gdp|recession|currenc|exchange rate|rouble|ruble|oil price|crude"
             r"|tariff|trade war|brexit|ecb|central bank|econom|unemployment|stimulus|commodit|sanction",
    "restructuring": r"layoff|lay-?off|job cuts|redundan|cut \d+ jobs|closure|clos(e|ing) (the|its|down)"
                     r"|shut(ting)? down|restructur|cost[- ]cut|savings|divest|spin[- ]?off|negotiations"
                     r"|efficiency",
    "m_and_a": r"acqui|merger|merge|takeover|bid for|stake|tender offer|deal to buy|purchase of|buyout"
               r"|to buy\b|to sell\b",
    "management_change": r"ceo|cfo|appoint|resign|steps? down|named|chief executive|president|board|retire"
                         r"|successor|departure|hire[sd]?|chairman",
    "dividend": r"dividend|payout|distribution",
}
PER_LABEL = {"fpb50": 20, "tfns": 22, "stocknet": 13}  # candidates per query per source group
RANDOM = {"fpb50": 110, "tfns-train": 50, "tfns-valid": 40, "stocknet": 70}
# Round 2 (``--round 2``): after labelling round 1, liquidity, management_change, fraud_accounting and
# market_volatility had too few positives; these narrower queries top them up (label -> (query, how many)).
TOPUP: dict[str, tuple[str, int]] = {
    "liquidity": (r"going concern|cash crunch|liquidity (crisis|crunch|squeeze|problem|issue|concern|shortfall|position"
                  r"|needs|risk)|run(ning)? out of (cash|money)|cash burn|cash crisis|bail ?out|rescue|lifeline"
                  r"|emergency (funding|financing|loan|cash)|funding (crisis|squeeze|gap|problem)|capital injection"
                  r"|cash-(strapped|needy)|much-needed cash|short of cash|draws? down|drew down|bank run"
                  r"|financial (difficult|distress|troubles)|survival|need to raise funds|demand for cash"
                  r"|seek liquidity|insolvenc|strengthen\w* (its |the )?(balance sheet|capital structure"
                  r"|financial position)|negative .{0,30}cash flow|cash flow .{0,40}negative|eight year low", 70),
    "management_change": (r"appoint|names? .{0,30}(ceo|cfo|chief|president|chairman|director)|steps? down|resign"
                          r"|to retire|successor|new (ceo|cfo|chief|chairman)|interim (ceo|cfo|chief)|oust"
                          r"|departure|leaves? (the )?(company|board)", 30),
    "fraud_accounting": (r"fraud|restat|irregularit|embezzl|ponzi|accounting (scandal|problem|issue|error)|auditor"
                         r"|short[- ]seller|misconduct|brib|misstat|whistleblow|falsif|cooked", 30),
    "market_volatility": (r"plung|plummet|soar|tumbl|crash|sell-?off|rout\b|skyrocket|nosediv|worst (day|week)"
                          r"|biggest (drop|gain|fall|jump|one-day)|vix|volatil|(up|down|jump\w*|fell|fall\w*"
                          r"|drop\w*|rose|rise\w*|gain\w*|los\w*|surg\w*|sank|sink\w*) (by )?(more than |over "
                          r"|nearly |about )?[1-9]\d(\.\d+)? ?(%|pct|percent)", 30),
}
# Bot spam that repeats a keyword ("... $fb liquidity URL") or market-making notices, not risk text.
_TOPUP_SKIP = re.compile(r"liquidity (url|rate_limit)|liquidity provid", re.IGNORECASE)
# Rarer labels get more candidates so that enough true positives survive the reading.
RARE_FACTOR = {"credit": 1.5, "liquidity": 1.7, "fraud_accounting": 1.7, "operational": 1.4, "dividend": 1.2}


def main(argv: list[str] | None = None) -> None:
    """Write the candidate file (id, source, text, drawn_for)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="runs/risk_candidates.jsonl")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--round", type=int, choices=(1, 2), default=1,
                        help="2: top-up draw for rare labels, excluding the candidates in --exclude")
    parser.add_argument("--exclude", default="runs/risk_candidates.jsonl", help="round-1 candidates (round 2)")
    args = parser.parse_args(argv)
    data_dir = require_data_dir(args.data_dir)
    rng = random.Random(args.seed)
    rows: dict[str, list[tuple[str, str]]] = {}
    for source in SOURCES:
        seen: set[str] = set()
        rows[source] = []
        for row_id, text in iter_source(source, data_dir):
            key = dedup_key(text)
            if key not in seen and is_usable(text):
                seen.add(key)
                rows[source].append((row_id, text))
    chosen: dict[str, tuple[str, str, str]] = {}  # dedup key -> (id, text, drawn_for)
    if args.round == 2:
        with open(args.exclude, encoding="utf-8") as handle:
            excluded = {dedup_key(json.loads(line)["text"]) for line in handle if line.strip()}
        for label, (query, want) in TOPUP.items():
            pattern = re.compile(rf"\b(?:{query})", re.IGNORECASE)
            hits = [(i, t) for s in SOURCES for i, t in rows[s] if pattern.search(t) and not _TOPUP_SKIP.search(t)]
            rng.shuffle(hits)
            taken = 0
            for row_id, text in hits:
                key = dedup_key(text)
                if taken < want and key not in excluded and key not in chosen:
                    chosen[key] = (row_id, text, label)
                    taken += 1
        _write(args.out, chosen, rng)
        return
    for label, query in QUERIES.items():
        pattern = re.compile(rf"\b(?:{query})", re.IGNORECASE)
        factor = RARE_FACTOR.get(label, 1.0)
        for group, sources in (("fpb50", ["fpb50"]), ("tfns", ["tfns-train", "tfns-valid"]),
                               ("stocknet", ["stocknet"])):
            hits = [(i, t) for s in sources for i, t in rows[s] if pattern.search(t)]
            rng.shuffle(hits)
            want, taken = round(PER_LABEL[group] * factor), 0
            for row_id, text in hits:
                if taken >= want:
                    break
                key = dedup_key(text)
                if key not in chosen:
                    chosen[key] = (row_id, text, label)
                    taken += 1
    for source, count in RANDOM.items():
        pool = list(rows[source])
        rng.shuffle(pool)
        taken = 0
        for row_id, text in pool:
            if taken >= count:
                break
            key = dedup_key(text)
            if key not in chosen:
                chosen[key] = (row_id, text, "random")
                taken += 1
    _write(args.out, chosen, rng)


def _write(path: str, chosen: dict[str, tuple[str, str, str]], rng: random.Random) -> None:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    items = list(chosen.values())
    rng.shuffle(items)  # labelling order carries no hint of the query
    with out.open("w", encoding="utf-8") as handle:
        for row_id, text, drawn_for in items:
            handle.write(json.dumps({"id": row_id, "source": row_id.split(":")[0], "text": text,
                                     "drawn_for": drawn_for}, ensure_ascii=False) + "\n")
    print(f"wrote {len(items)} candidates to {out}")


if __name__ == "__main__":
    main()
