"""Model cards of adapted models: the parent and its terms travel with the new data."""

from __future__ import annotations

from textrisk.models.cards import ModelCardData, render_model_card

ADAPTATION = {"recipe": "head", "recipe_summary": "head only", "training": "L2 strength 0.1", "head_rows": {},
              "before": {"accuracy": 0.5, "weighted_f1": 0.5, "macro_f1": 0.5, "ece_calibrated": 0.3},
              "after": {"accuracy": 0.7, "weighted_f1": 0.7, "macro_f1": 0.6, "ece_calibrated": 0.2},
              "decision": "the new model is better", "calibration": "kept the parent's temperature",
              "forgetting": {"rows_per_set": 10, "sets": {"fpb": {
                  "rows": 10, "parent": {"weighted_f1": 0.8}, "new": {"weighted_f1": 0.7},
                  "change": {"weighted_f1": -0.1}, "risk_flags_changed": 0.0}}}}


def test_an_adapted_card_names_the_parent_the_new_data_and_inherits_the_parents_terms():
    card = ModelCardData(base_model="sentence-transformers/all-MiniLM-L6-v2", labels=["negative", "positive"],
                         train_sources={"desk.csv": 90}, dev_rows=30, risk_labels=["credit"], parent_model="default",
                         parent_sources={"fpb": 3629, "sentivent": 4923}, adaptation=ADAPTATION)
    text = render_model_card(card)
    assert card.license == "cc-by-nc-sa-3.0" and "license: cc-by-nc-sa-3.0" in text
    assert "## Adapted from `default`" in text and "user file `desk.csv` | 90" in text
    assert "| parent | 0.5000 | 0.5000 |" in text and "| fpb | 10 | 0.8000 | 0.7000 | -0.1000 | 0.00% |" in text
    assert "research / non-commercial use only" in text  # the parent's risk head was trained on SENTiVENT
    plain = render_model_card(ModelCardData(base_model="b", labels=["a", "b"], train_sources={"desk.csv": 90}))
    assert "Adapted from" not in plain and "were held out (seeded) to fit the softmax temperature" in plain
