"""Risk-signal data: the hand-labelled gold set, its builder, the silver-set builder and the rules' evaluation."""
