"""The KV-cache answer scorer: total log-likelihoods of answer strings after prompts, sharing every prefix.

The template text before ``{text}`` is run once per call; each batch of texts is run once on top of it
(right-padded; padding is masked and positions are passed explicitly, so GPT-2's absolute positions match an
unpadded run); the answers are run as a batch of continuations against the expanded cache.
:class:`CachedScorer` works on the transformers ``*ForCausalLM`` it is given; :class:`CacheState` is a batch of
token rows run so far.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from .templates import CompiledTemplate

__all__ = ["CacheState", "CachedScorer"]


@dataclass
class CacheState:
    """A batch of token rows run so far: their KV cache, attention mask, next positions and last hidden states."""

    kv: list[tuple[torch.Tensor, torch.Tensor]]
    mask: torch.Tensor  # (rows, cached length); 0 marks padding anywhere in the sequence
    next_pos: torch.Tensor  # (rows,) position id of each row's next real token
    last: torch.Tensor  # (rows, hidden) hidden state of each row's last real token

    def select(self, index: torch.Tensor) -> CacheState:
        """Rows ``index`` of this state (repeats allowed: this is how a prefix is shared)."""
        return CacheState([(k.index_select(0, index), v.index_select(0, index)) for k, v in self.kv],
                          self.mask.index_select(0, index), self.next_pos.index_select(0, index),
                          self.last.index_select(0, index))


class CachedScorer:
    """Cached forward passes of a causal LM over right-padded token rows, and answer log-likelihoods on top.

    Args:
        model: the transformers ``*ForCausalLM`` (LoRA layers injected or not); its ``base_model`` is run and its
            output embeddings give the next-token log-probabilities, only where needed.
        pad_token_id: the id right-padded rows are filled with (masked, so its value does not matter).
    """

    def __init__(self, model: nn.Module, pad_token_id: Any):
        self.model = model
        self.pad_token_id = pad_token_id

    @property
    def device(self) -> torch.device:
        """The device of the model's weights."""
        return next(self.model.parameters()).device

    def log_probs(self, hidden: torch.Tensor) -> torch.Tensor:
        """Next-token log-probabilities from final hidden states (the LM head, only where needed)."""
        logits = self.model.get_output_embeddings()(hidden).float()
        cap = getattr(self.model.config, "final_logit_softcapping", None)
        if cap:
            logits = torch.tanh(logits / cap) * cap
        return torch.log_softmax(logits, dim=-1)

    def forward(self, rows: Sequence[Sequence[int]], state: CacheState | None) -> tuple[CacheState, torch.Tensor]:
        """Append one right-padded segment per row to ``state`` (None: start new sequences).

        Returns the new state and the segment's hidden states ``(rows, longest segment, hidden)``.
        """
        from transformers import DynamicCache

        device = self.device
        lengths = torch.tensor([len(r) for r in rows], dtype=torch.long, device=device)
        width = int(lengths.max()) if len(rows) else 0
        if width == 0:
            if state is None:
                raise ValueError("the first segment of a sequence cannot be empty")
            return state, torch.zeros(len(rows), 0, state.last.shape[-1], device=device)
        ids = torch.full((len(rows), width), int(self.pad_token_id), dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, :len(row)] = torch.tensor(list(row), dtype=torch.long)
        ids = ids.to(device)
        segment_mask = torch.arange(width, device=device)[None, :] < lengths[:, None]
        if state is None:
            past, mask, start = None, segment_mask.long(), torch.zeros_like(lengths)
        else:
            past = DynamicCache(ddp_cache_data=state.kv, config=self.model.config)
            mask, start = torch.cat([state.mask, segment_mask.long()], dim=1), state.next_pos
        # explicit positions: each row continues from its own length, whatever the padding before it
        positions = torch.where(segment_mask, start[:, None] + torch.arange(width, device=device)[None, :], 0)
        body = self.model.base_model
        out = body(input_ids=ids, attention_mask=mask, position_ids=positions, past_key_values=past, use_cache=True)
        hidden = out.last_hidden_state
        kv = [(layer.keys, layer.values) for layer in out.past_key_values.layers]
        last = hidden[torch.arange(len(rows), device=device), (lengths - 1).clamp(min=0)]
        if state is not None:
            last = torch.where((lengths > 0)[:, None], last, state.last)
        return CacheState(kv, mask, start + lengths, last), hidden

    def prefix_state(self, compiled: CompiledTemplate) -> CacheState | None:
        """The state after the template text shared by every prompt (None when the prompts share none)."""
        return self.forward([compiled.before[0]], None)[0] if compiled.shared_before else None

    def prompt_state(self, compiled: CompiledTemplate, text_ids: Sequence[Sequence[int]],
                     prefix: CacheState | None) -> CacheState:
        """States after the full prompts, rows ordered (text, variant)."""
        n, k = len(text_ids), len(compiled.before)
        texts = [list(t)[:compiled.text_budget] for t in text_ids]
        device = self.device
        if prefix is not None:
            state = prefix.select(torch.zeros(n, dtype=torch.long, device=device))
            if k == 1:
                return self.forward([t + list(compiled.after[0]) for t in texts], state)[0]
            state = self.forward(texts, state)[0]
            state = state.select(torch.arange(n, device=device).repeat_interleave(k))
            return self.forward([list(compiled.after[v]) for _ in range(n) for v in range(k)], state)[0]
        rows = [list(compiled.before[v]) + t + list(compiled.after[v]) for t in texts for v in range(k)]
        return self.forward(rows, None)[0]

    def continuation_log_probs(self, state: CacheState, answers: Sequence[Sequence[int]]
                               ) -> tuple[torch.Tensor, torch.Tensor]:
        """Summed log-probabilities of each answer's tokens after its first, one answer per row of ``state``,
        and how many tokens that is per row (callers score the first token from ``state.last``)."""
        device = self.device
        longest = max(len(a) for a in answers)
        if longest == 1:
            return torch.zeros(len(answers), device=device), torch.zeros(len(answers), dtype=torch.long, device=device)
        _, hidden = self.forward([list(a[:-1]) for a in answers], state)
        targets = torch.zeros(len(answers), longest - 1, dtype=torch.long, device=device)
        valid = torch.zeros_like(targets, dtype=torch.bool)
        for r, answer in enumerate(answers):
            targets[r, :len(answer) - 1] = torch.tensor(answer[1:], dtype=torch.long)
            valid[r, :len(answer) - 1] = True
        picked = self.log_probs(hidden).gather(-1, targets[..., None]).squeeze(-1)
        return (picked * valid).sum(-1), valid.sum(-1)

    def answer_log_likelihoods(self, state: CacheState, answers: Sequence[Sequence[int]]) -> torch.Tensor:
        """Total log-likelihood of every answer after every row of ``state``: ``(rows, answers)``."""
        rows, count = state.last.shape[0], len(answers)
        scores = self.log_probs(state.last)[:, [a[0] for a in answers]]
        if max(len(a) for a in answers) > 1:  # one continuation row per (state row, answer)
            expanded = state.select(torch.arange(rows, device=self.device).repeat_interleave(count))
            rest, _ = self.continuation_log_probs(expanded, [answers[c] for _ in range(rows) for c in range(count)])
            scores = scores + rest.view(rows, count)
        return scores
