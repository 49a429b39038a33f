"""Evaluation: sentiment metrics on the benchmarks or a labelled file (:mod:`.sentiment`), model / rules / ensemble
scores on the hand-labelled risk sets (:mod:`.risk`), and ``textrisk evaluate`` (:mod:`.cli`)."""
