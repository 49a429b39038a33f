"""Models: the scoring contract every kind implements (:mod:`.contract`), one save/load/push base and the kind
registry (:mod:`.hub`), backbones and their fingerprints (:mod:`.backbone`), the model identity (:mod:`.identity`),
the card renderer (:mod:`.cards`), and the kinds: :mod:`.head` (classification heads), :mod:`.prompt` (causal LM
prompt mode), with :mod:`.backends` (bf16, ONNX Runtime) to run head-mode models.

Inside the wing arrows point down: backends -> head, prompt -> hub -> cards, backbone, contract."""
