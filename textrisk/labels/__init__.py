"""Labels: the sentiment and risk taxonomy, the labelling functions (weak rules) and their label model."""
