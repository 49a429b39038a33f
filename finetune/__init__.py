"""Fine-tuning entry points and configs (``python -m finetune.train --config finetune/configs/<name>.yaml``)."""
