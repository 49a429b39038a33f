"""Risk taxonomy, label validation, the hand-labelled gold set and the labelling functions."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from pathlib import Path

import pytest

from finetune.risk_data import build_random_gold, draw_random, eval_independent, sentivent
from finetune.risk_data.build_gold import (
    COLUMNS,
    DEV_FILE,
    LABELS_FILE,
    TEST_FILE,
    load_gold,
    read_labels,
    text_hash,
)
from finetune.risk_data.sources import dedup_key, find_text, normalize_text, source_of
from textrisk.data.datasets import find_data_dir
from textrisk.errors import DataError, ModelLoadError
from textrisk.labels.label_model import LabelModel, label_texts
from textrisk.labels.rules import ABSTAIN, NEG, POS, LabelingFunction, VoteMatrix, lf_votes, majority_vote
from textrisk.labels.taxonomy import RISK_LABEL_INFO, RISK_LABELS, RiskLabel, validate_risk_labels

EXPECTED = ("credit", "liquidity", "earnings_guidance", "legal_regulatory", "fraud_accounting", "operational",
            "market_volatility", "macro", "restructuring", "m_and_a", "management_change", "dividend")


# --- taxonomy -----------------------------------------------------------------------------------------------

def test_taxonomy_is_exactly_the_twelve_names_in_order():
    assert RISK_LABELS == EXPECTED
    assert list(RISK_LABEL_INFO) == list(EXPECTED)


@pytest.mark.parametrize("name", EXPECTED)
def test_every_label_has_definition_includes_and_examples(name):
    info = RISK_LABEL_INFO[name]
    assert isinstance(info, RiskLabel) and info.name == name
    assert len(info.definition) > 20
    assert info.includes and info.excludes and len(info.examples) >= 2
    assert all(isinstance(x, str) and x.strip() for x in info.includes + info.excludes + info.examples)


def test_risk_label_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        RISK_LABEL_INFO["credit"].name = "x"  # type: ignore[misc]


# --- validate_risk_labels -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "expected"), [
    ('["macro", "credit"]', ["credit", "macro"]),
    ("macro;credit", ["credit", "macro"]),
    ("credit, macro", ["credit", "macro"]),
    ("credit|macro|credit", ["credit", "macro"]),
    (["Dividend"], ["dividend"]),
    ("m-and-a", ["m_and_a"]),
    ([], []),
    ("[]", []),
    ("none", []),
    (" NONE ", []),
])
def test_validate_risk_labels_accepts(raw, expected):
    assert validate_risk_labels(raw, RISK_LABELS, "f.jsonl line 2") == expected


@pytest.mark.parametrize(("raw", "fragment"), [
    ("bankruptcy", "unknown label 'bankruptcy'"),
    ('["credit", "fraud"]', "unknown label 'fraud'"),
    ("", "empty"),
    ("   ", "empty"),
    (None, "missing"),
    (float("nan"), "missing"),
    ('["credit",', "not a valid JSON list"),
    (5, "must be a list"),
    ([""], "invalid label"),
])
def test_validate_risk_labels_rejects_and_names_the_line(raw, fragment):
    with pytest.raises(DataError) as err:
        validate_risk_labels(raw, RISK_LABELS, "train.jsonl line 7")
    assert "train.jsonl line 7" in str(err.value)
    assert fragment in str(err.value)


def test_label_missing_from_a_custom_taxonomy_is_rejected():
    custom = ("credit", "dividend")
    assert validate_risk_labels("dividend", custom, "mine.csv line 3") == ["dividend"]
    with pytest.raises(DataError, match=r"mine\.csv line 4: unknown label 'macro'"):
        validate_risk_labels("credit;macro", custom, "mine.csv line 4")


def test_labels_file_with_bad_cells_fails_on_the_right_line(tmp_path):
    header = "\t".join(COLUMNS)
    for cell, fragment in (("credit;bogus", "unknown label"), ("", "empty")):
        path = tmp_path / "labels.tsv"
        path.write_text(f"# comment\n{header}\nfpb50:0\t{cell}\tr1:random\t000000000000\ttest\n", encoding="utf-8")
        with pytest.raises(DataError, match=rf"labels\.tsv line 3: .*{fragment}"):
            read_labels(path, tmp_path)


# --- gold set -----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def gold():
    return {"dev": load_gold(DEV_FILE), "test": load_gold(TEST_FILE)}


def test_gold_parses_and_is_large_enough(gold):
    assert len(gold["dev"]) + len(gold["test"]) >= 800
    assert 0.35 <= len(gold["dev"]) / (len(gold["dev"]) + len(gold["test"])) <= 0.45
    for rows in gold.values():
        for row in rows:
            assert row["source"] == source_of(row["id"])
            assert row["source"] in ("fpb50", "tfns-train", "tfns-valid", "stocknet")


def test_gold_has_no_duplicates_and_no_dev_test_overlap(gold):
    texts = [normalize_text(r["text"]) for rows in gold.values() for r in rows]
    assert len(texts) == len(set(texts))
    assert not {r["id"] for r in gold["dev"]} & {r["id"] for r in gold["test"]}


def test_gold_label_counts(gold):
    dev = Counter(label for r in gold["dev"] for label in r["labels"])
    test = Counter(label for r in gold["test"] for label in r["labels"])
    for label in RISK_LABELS:
        assert dev[label] >= 10 and test[label] >= 15 and dev[label] + test[label] >= 25, label
    rows = gold["dev"] + gold["test"]
    assert 0.25 <= sum(not r["labels"] for r in rows) / len(rows) <= 0.35


def test_gold_files_match_the_labels_file(gold):
    recorded = {}
    for line in LABELS_FILE.read_text(encoding="utf-8").splitlines():
        cells = line.split("\t")
        if not line.startswith("#") and cells[0] != "id":
            recorded[cells[0]] = (validate_risk_labels(cells[1]), cells[4])
    for split, rows in gold.items():
        for row in rows:
            assert recorded[row["id"]] == (row["labels"], split)
    assert sum(split != "unused" for _, split in recorded.values()) == len(gold["dev"]) + len(gold["test"])


def test_every_gold_id_refinds_its_text(gold):
    data_dir = find_data_dir()
    if data_dir is None:
        pytest.skip("shared data not found (../shared/data or $TEXTRISK_DATA_DIR): cannot re-find gold texts")
    for rows in gold.values():
        for row in rows:
            assert find_text(row["id"], data_dir) == row["text"], row["id"]


def test_load_gold_rejects_unknown_labels(tmp_path):
    path = tmp_path / "g.jsonl"
    path.write_text(json.dumps({"id": "fpb50:1", "source": "fpb50", "text": "x", "labels": ["nope"]}) + "\n")
    with pytest.raises(DataError, match=r"g\.jsonl line 1: unknown label 'nope'"):
        load_gold(Path(path))


# --- labelling functions ------------------------------------------------------------------------------------

CLEAR = [
    ("Moody's downgraded the retailer's debt to junk after it missed an interest payment.", "credit"),
    ("The company filed for Chapter 11 bankruptcy protection.", "credit"),
    ("Auditors raised substantial doubt about its ability to continue as a going concern.", "liquidity"),
    ("The airline is running out of cash and seeks an emergency loan.", "liquidity"),
    ("The group issued a profit warning for the full year.", "earnings_guidance"),
    ("Net sales decreased by 12 % to EUR 45 mn.", "earnings_guidance"),
    ("Shareholders filed a class action lawsuit against the bank.", "legal_regulatory"),
    ("The regulator fined the insurer EUR 5 mn.", "legal_regulatory"),
    ("The firm will restate three years of accounts after finding accounting irregularities.", "fraud_accounting"),
    ("Prosecutors allege the former CFO took bribes.", "fraud_accounting"),
    ("Toyota recalls 1.6 million cars over faulty airbags.", "operational"),
    ("A fire broke out at the refinery, halting production.", "operational"),
    ("Shares of the company plunged 25 % after the announcement.", "market_volatility"),
    ("The Dow drops 800 points in a broad sell-off.", "market_volatility"),
    ("The Fed raised interest rates to fight inflation.", "macro"),
    ("Oil prices fell as OPEC talks collapsed.", "macro"),
    ("The company will cut 300 jobs and close its plant in Tampere.", "restructuring"),
    ("Personnel negotiations on temporary lay-offs will start next week.", "restructuring"),
    ("The company agreed to acquire its rival for USD 2.1 bn.", "m_and_a"),
    ("The fund sold its 10 % stake in the bank.", "m_and_a"),
    ("The board appointed Jane Doe as chief financial officer.", "management_change"),
    ("The CEO resigned with immediate effect.", "management_change"),
    ("The board proposes a dividend of EUR 0.40 per share.", "dividend"),
    ("The utility slashed its quarterly dividend.", "dividend"),
    ("The company's CFR was lowered to B3.", "credit"),
    ("Policymakers signalled a shift in monetary policy.", "macro"),
]

NEUTRAL = [
    "The company designs and manufactures elevators and escalators.",
    "The new store opens in Helsinki in May.",
    "Tekla is an international software company.",
    "The contract covers the delivery of 26 machines.",
    "$ aapl $ msft stocks to watch this week URL",
    # SEC boilerplate: every 8-K cover since 2004 cites the Code of Federal Regulations (not a "CFR" rating)
    "[ ] Pre-commencement communications pursuant to Rule 14d-2(b) under the Exchange Act (17 CFR 240.14d-2(b))",
    "Virtual goods in our games have no monetary value outside of our games.",
]


@pytest.mark.parametrize(("text", "label"), CLEAR)
def test_rules_fire_on_clear_examples(text, label):
    assert label in label_texts([text])[0]
    matrix = lf_votes([text])
    assert any(matrix.votes[0, j] == POS for j in matrix.columns(label))


@pytest.mark.parametrize("text", NEUTRAL)
def test_rules_abstain_on_neutral_text(text):
    matrix = lf_votes([text])
    assert (matrix.votes == ABSTAIN).all()
    assert label_texts([text]) == [[]]


@pytest.mark.parametrize(("text", "fires"), [
    ("The retailer's B3 CFR reflects its high leverage.", True),      # corporate family rating
    ("The CFR of the issuer is Caa1.", True),
    ("(17 CFR 240.14d-2(b))", False),                                # Code of Federal Regulations
    ("as defined in 12 CFR Part 225", False),
    ("under CFR section 229.405", False),
])
def test_cfr_means_the_rating_not_the_code_of_federal_regulations(text, fires):
    matrix = lf_votes([text])
    assert (matrix.votes[0, matrix.names.index("credit_rating_action")] == POS) == fires


def test_negative_lfs_veto_bot_spam():
    text = "are you looking to buy $ xyz $ abc $ aapl liquidity URL"
    matrix = lf_votes([text])
    names = [matrix.names[j] for j in range(len(matrix.names)) if matrix.votes[0, j] == NEG]
    assert "liquidity_not_spam" in names
    assert label_texts([text]) == [[]]


def test_lf_votes_rejects_bad_input():
    with pytest.raises(DataError):
        lf_votes("not a list")
    with pytest.raises(DataError, match="text 1"):
        lf_votes(["fine", None])  # type: ignore[list-item]


def _toy():
    import re

    lfs = (LabelingFunction("a", "credit", POS, re.compile("default")),
           LabelingFunction("b", "credit", POS, re.compile("loan")),
           LabelingFunction("c", "credit", NEG, re.compile("by default")))
    texts = ["missed loan default", "loan default", "by default", "loan offer", "nothing"]
    gold = [["credit"], ["credit"], [], [], []]
    return lf_votes(texts, lfs), gold


def test_majority_vote_and_label_model(tmp_path):
    matrix, gold = _toy()
    assert majority_vote(matrix, ["credit"]) == [["credit"], ["credit"], [], ["credit"], []]
    model = LabelModel.fit(matrix, gold, ["credit"])
    assert model.weights["a"] > 0 and model.weights["c"] > 0  # "c" is a reliable NEG voter
    assert model.predict(matrix) == [["credit"], ["credit"], [], ["credit"], []]
    model.save(tmp_path / "lm.json")
    assert LabelModel.load(tmp_path / "lm.json").predict(matrix) == model.predict(matrix)


def test_label_model_refuses_a_different_rule_set():
    matrix, gold = _toy()
    model = LabelModel.fit(matrix, gold, ["credit"])
    other = VoteMatrix(matrix.votes[:, :2], matrix.functions[:2])
    with pytest.raises(DataError, match="different labelling functions"):
        model.predict(other)


def test_separate_adapter_experiment_runs_end_to_end(tmp_path):
    from finetune.risk_data.separate_adapter import main

    rows = [("Moody's downgraded the bank to junk after it missed a coupon.", ["credit"]),
            ("The board approved a special dividend of 2 euros.", ["dividend"]),
            ("The company will cut 300 jobs and close two plants.", ["restructuring"]),
            ("Sales rose in line with the market.", [])] * 4
    silver = tmp_path / "silver.jsonl"
    silver.write_text("".join(json.dumps({"text": t, "labels": labels}) + "\n" for t, labels in rows), encoding="utf-8")
    out = tmp_path / "result.json"
    main(["--silver", str(silver), "--out", str(out), "--epochs", "1", "--batch-size", "8", "--max-length", "16",
          "--rank", "2"])
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["silver_rows"] == 16 and len(result["epochs"]) == 1
    assert set(result["rules"]["per_label"]) == set(RISK_LABELS)
    tuned = result["epochs"][0]["test_tuned"]
    assert tuned["rows"] == 535 and set(tuned["per_label"]) == set(RISK_LABELS)
    assert 0.0 <= tuned["macro_f1"] <= 1.0


# --- random gold test, filing ids, SENTiVENT mapping -------------------------------------------------------


_DATA = find_data_dir()
_needs_data = pytest.mark.skipif(_DATA is None, reason="shared data not found (../shared/data or $TEXTRISK_DATA_DIR)")


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_random_sample_is_unlabelled_large_and_a_quarter_filings():
    rows = _jsonl(draw_random.SAMPLE_FILE)
    assert len(rows) >= 640
    assert all(set(row) == {"id", "source", "text"} for row in rows)
    assert len({row["id"] for row in rows}) == len(rows)
    assert len({dedup_key(row["text"]) for row in rows}) == len(rows)
    assert sum(row["source"] == "sec" for row in rows) >= len(rows) / 4
    assert Counter(row["source"] for row in rows) == Counter(draw_random.QUOTAS)
    gold_ids = {line.split("\t", 1)[0] for line in LABELS_FILE.read_text(encoding="utf-8").splitlines()}
    assert not gold_ids & {row["id"] for row in rows}


@_needs_data
def test_random_sample_ids_round_trip_to_their_text():
    for row in _jsonl(draw_random.SAMPLE_FILE):
        assert find_text(row["id"], _DATA) == row["text"], row["id"]


def test_random_gold_test_matches_sample_and_labels_file():
    sample = _jsonl(draw_random.SAMPLE_FILE)
    test = load_gold(build_random_gold.TEST_FILE)
    labels = build_random_gold.read_random_labels(build_random_gold.LABELS_FILE)
    assert [row["id"] for row in test] == [row["id"] for row in sample]
    for row in test:
        assert labels[row["id"]] == (row["labels"], text_hash(row["text"]))
    assert 0.6 <= sum(not row["labels"] for row in test) / len(test) <= 0.95


@_needs_data
def test_build_random_gold_rejects_a_wrong_hash_and_a_missing_row(tmp_path):
    sample = build_random_gold.read_sample()[:2]
    sample_file = tmp_path / "sample.jsonl"
    sample_file.write_text("".join(json.dumps(row) + "\n" for row in sample), encoding="utf-8")
    labels_file = tmp_path / "labels.tsv"
    header = "\t".join(build_random_gold.COLUMNS)
    first = f"{sample[0]['id']}\tnone\t{text_hash(sample[0]['text'])}"
    labels_file.write_text(f"{header}\n{first}\n", encoding="utf-8")
    with pytest.raises(DataError, match="1 sampled ids unlabelled"):
        build_random_gold.build(_DATA, sample_file, labels_file)
    labels_file.write_text(f"{header}\n{first}\n{sample[1]['id']}\tmacro\t000000000000\n", encoding="utf-8")
    with pytest.raises(DataError, match="recorded hash"):
        build_random_gold.build(_DATA, sample_file, labels_file)


def test_filing_filter_keeps_prose_and_drops_tables():
    assert draw_random.filing_sentence_ok("The Company recorded restructuring charges of $4.2 million in 2008.")
    assert not draw_random.filing_sentence_ok("Revenue: $ 84,263,900 $ 40,975,600 $ 12,100 $ 9,800 2001 2000")
    assert not draw_random.filing_sentence_ok("Item 7A. Quantitative and Qualitative Disclosures")


@_needs_data
def test_filing_ids_reject_malformed_ids_and_bad_spans():
    with pytest.raises(DataError, match="malformed filing id"):
        find_text("sec:no-span.txt", _DATA)
    name = sorted(p.name for p in (_DATA / "sec_filings").glob("*.txt"))[0]
    with pytest.raises(DataError, match="outside"):
        find_text(f"sec:{name}:10-999999999", _DATA)
    with pytest.raises(DataError, match="no file"):
        find_text("sec:missing.txt:0-5", _DATA)


def test_sentivent_mapping_positive_wins_and_unknown_subtypes_fail():
    assert sentivent.INFORMED_LABELS == ("credit", "earnings_guidance", "legal_regulatory", "m_and_a", "dividend")
    assert sentivent.map_subtypes(["Dividend.YieldReduction"]) == (("dividend",), ())
    assert sentivent.map_subtypes(["Deal.None", "Merger/Acquisition.None"]) == (("m_and_a",), ())
    assert sentivent.map_subtypes(["Deal.None", "FinancialReport.Beat"]) == ((), ("m_and_a",))
    assert sentivent.map_subtypes(["SecurityValue.Decrease_SecurityValue", "Macroeconomics.None"]) == ((), ())
    assert sentivent.map_subtypes([]) == ((), ())
    with pytest.raises(DataError, match="Fraud.Accounting"):
        sentivent.map_subtypes(["Fraud.Accounting"], "x")
    for positive, unknown in sentivent.MAPPING.values():
        assert set(positive) | set(unknown) <= set(sentivent.INFORMED_LABELS)


def test_sentivent_doc_lists_every_positive_subtype():
    doc = (Path(sentivent.__file__).parent / "SENTIVENT.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1] + "|" + line.split("|")[2] for line in doc.splitlines() if line.startswith("| `")}
    for subtype, (positive, _) in sentivent.MAPPING.items():
        for label in positive:
            event, sub = subtype.split(".", 1)
            assert any(f"`{label}`" in row and (f"`{subtype}`" in row or (f".{sub}`" in row and f"`{event}." in row))
                       for row in rows), (subtype, label)


def test_sentivent_split_is_article_disjoint():
    split = sentivent.read_split()
    sets = [set(split[name]) for name in sentivent.SPLITS]
    assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
    assert len(split["test"]) == 30
    rows = [sentivent.SentiventRow(f"sentivent:a{i}:0", f"a{i}", "gold" if i < 3 else "silver", "t", (), (), ())
            for i in range(20)]
    again = sentivent.split_articles(rows, seed=1, dev_share=0.25)
    assert again == sentivent.split_articles(rows, seed=1, dev_share=0.25)
    assert again["test"] == ["a0", "a1", "a2"] and len(again["dev"]) == 4 and len(again["train"]) == 13
    with pytest.raises(DataError, match="in no split"):
        sentivent.rows_by_split(rows, {"train": [], "dev": [], "test": ["a0"]})


@_needs_data
def test_sentivent_data_is_fully_mapped_and_test_is_the_adjudicated_articles():
    rows = sentivent.read_sentivent(_DATA)
    parts = sentivent.rows_by_split(rows, sentivent.read_split())
    assert {row.dataset for row in parts["test"]} == {"gold"} and len(parts["test"]) == 727
    assert all(row.dataset == "silver" for row in parts["train"] + parts["dev"])
    row = parts["test"][0]
    assert find_text(row.id, _DATA) == row.text


def test_masked_scores_skip_unknown_rows_and_count_flags():
    rows = [{"labels": ["m_and_a"], "unknown": []}, {"labels": [], "unknown": ["m_and_a"]},
            {"labels": [], "unknown": []}, {"labels": ["dividend"], "unknown": []}]
    pred = [["m_and_a"], ["m_and_a"], ["m_and_a", "macro"], []]
    out = eval_independent.score_masked(rows, pred, ["m_and_a", "dividend"])
    assert out["per_label"]["m_and_a"]["scored_rows"] == 3
    assert out["per_label"]["m_and_a"]["precision"] == 0.5 and out["per_label"]["m_and_a"]["recall"] == 1.0
    assert out["per_label"]["dividend"]["recall"] == 0.0
    assert out["flags"] == 2 and out["flag_precision"] == 0.5
    rates = eval_independent.flag_rates([r["labels"] for r in rows], pred, RISK_LABELS)
    assert rates["flagged_rows"] == 3 and rates["flags"] == 4 and rates["flags_per_1000"] == 1000.0
    assert rates["flag_precision"] == 0.25 and rates["gold_rows_per_1000"] == 500.0


def test_agreement_kappa_on_common_rows(tmp_path):
    from finetune.risk_data.agreement import agreement

    first = {"a": (["macro"], "h1"), "b": ([], "h2"), "c": (["macro", "dividend"], "h3"), "d": ([], "h4")}
    second = {"a": (["macro"], "h1"), "b": (["macro"], "h2"), "c": (["dividend"], "h3")}
    out = agreement(first, second)
    assert out["rows"] == 3
    assert out["labels"]["dividend"]["kappa"] == 1.0
    assert out["labels"]["macro"]["kappa"] == pytest.approx(-0.5)
    assert out["labels"]["credit"]["kappa"] is None
    assert out["exact_match"] == pytest.approx(1 / 3)
    with pytest.raises(DataError, match="different text hashes"):
        agreement(first, {"a": (["macro"], "other")})


def test_bootstrap_intervals_resample_groups():
    rows = [{"labels": ["macro"], "article": "a"}, {"labels": [], "article": "a"},
            {"labels": ["macro"], "article": "b"}]
    perfect = eval_independent.bootstrap(rows, [r["labels"] for r in rows], eval_independent.random_core_scores, n=50)
    assert perfect["flag_precision"] == [1.0, 1.0] and perfect["micro_f1"] == [1.0, 1.0]
    wrong = [["macro"], ["macro"], []]
    by_article = eval_independent.bootstrap(rows, wrong, eval_independent.random_core_scores, "article", n=200)
    assert by_article["flag_precision"][0] == 0.5 and by_article["flag_precision"][1] == 0.5


def test_eval_independent_scores_a_saved_risk_model(risk_model_dir, tmp_path):
    from textrisk import RiskAnalyzer

    model_dir = risk_model_dir
    random_rows = load_gold(build_random_gold.TEST_FILE)[:6]
    random_file = tmp_path / "random.jsonl"
    random_file.write_text("".join(json.dumps(row) + "\n" for row in random_rows), encoding="utf-8")
    labels = {0: ["m_and_a"], 2: ["dividend"]}
    sentivent_rows = [{"id": f"sentivent:a{i}:0", "source": "sentivent", "text": row["text"],
                       "labels": labels.get(i, []), "unknown": ["m_and_a"] if i == 1 else [], "article": f"a{i % 2}"}
                      for i, row in enumerate(random_rows)]
    sentivent_file = tmp_path / "sentivent.jsonl"
    sentivent_file.write_text("".join(json.dumps(row) + "\n" for row in sentivent_rows), encoding="utf-8")
    out = tmp_path / "eval.json"
    eval_independent.main(["--random-test", str(random_file), "--sentivent-test", str(sentivent_file),
                           "--out", str(out), "--model", str(model_dir)])
    result = json.loads(out.read_text(encoding="utf-8"))
    flags = [report.flags for report in RiskAnalyzer.from_pretrained(model_dir).score([r["text"] for r in random_rows])]
    assert result["random_gold_test"]["model"]["flags"] == sum(len(f) for f in flags)
    assert result["sentivent_test"]["model"]["scored_labels"] == ["m_and_a", "dividend"]
    assert result["sentivent_test"]["model"]["per_label"]["m_and_a"]["scored_rows"] == 5
    assert set(result["random_gold_test"]) >= {"label_model", "majority_vote", "model"}


def test_eval_independent_refuses_a_model_without_risk_head(tiny_model_dir):
    with pytest.raises(ModelLoadError, match="no risk head"):
        eval_independent.model_predictions(tiny_model_dir, ["Shares plunged 20% after the profit warning."])
