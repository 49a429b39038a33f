"""The generate-and-parse baseline (FinGPT style): greedy free generation after the prompt, then parsing.

Prompt mode proper scores the allowed answers (:meth:`textrisk.models.prompt.PromptModel.predict`); this is the
baseline it is compared with in ``textrisk causal-bench``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch

from textrisk.models.prompt.templates import PromptTemplate

if TYPE_CHECKING:
    from textrisk.models.prompt.model import PromptModel

__all__ = ["generate_answers", "parse_generated"]


@torch.inference_mode()
def generate_answers(model: PromptModel, texts: Sequence[str], max_new_tokens: int = 8, batch_size: int = 16,
                     task: str = "sentiment") -> list[str]:
    """Greedy free generation after ``model``'s ``task`` prompt for each text, stopping at EOS; decoded strings."""
    compiled = model.compiled(task)
    was_training = model.training
    model.eval()
    eos = model.tokenizer.eos_token_id
    outputs: list[str] = [""] * len(texts)
    try:
        scorer = model.scorer()
        encoded = model.encode_texts(texts)
        prefix = scorer.prefix_state(compiled)
        for start in range(0, len(encoded), batch_size):
            batch = encoded[start:start + batch_size]
            state = scorer.prompt_state(compiled, batch, prefix)
            generated: list[list[int]] = [[] for _ in batch]
            done = [False] * len(batch)
            for _ in range(max_new_tokens):
                next_ids = scorer.log_probs(state.last).argmax(-1).tolist()
                for r, token in enumerate(next_ids):
                    if not done[r]:
                        done[r] = token == eos
                        if not done[r]:
                            generated[r].append(token)
                if all(done):
                    break
                state, _ = scorer.forward([[t] for t in next_ids], state)
            for r, tokens in enumerate(generated):
                outputs[start + r] = model.tokenizer.decode(tokens, skip_special_tokens=True)
    finally:
        model.train(was_training)
    return outputs


def parse_generated(text: str, template: PromptTemplate) -> int | None:
    """Label index of a free-generated answer, or None when it names no label or several.

    Lenient on purpose (case-insensitive whole words anywhere in the output) so the generation baseline
    is given its best chance.
    """
    lowered = text.lower()
    found = {i for i, answer in enumerate(template.answers)
             if re.search(rf"(?<!\w){re.escape(answer.strip().lower())}(?!\w)", lowered)}
    return found.pop() if len(found) == 1 else None
