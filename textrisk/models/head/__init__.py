"""Head mode: :class:`~.model.TextRiskModel` (backbone + LoRA + pooling + sentiment and risk heads), its config
(:mod:`.config`) and the risk-signal stacker over the head and the labelling functions (:mod:`.ensemble`)."""
