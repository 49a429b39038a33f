"""Instruction templates for prompt-mode causal LMs: plain files in ``prompts/``, loaded and validated.

The repository's top-level ``prompts/`` folder is the one copy of the default templates; the wheel installs it
as the package data ``textrisk.models.prompt.prompts`` (``[tool.setuptools.package-dir]`` in pyproject.toml), and
:func:`template_path` finds it through :mod:`importlib.resources` in editable and wheel installs alike.

A template file is YAML front matter and a body::

    ---
    task: sentiment                 # or risk_signals
    version: 1
    labels:                         # label -> answer word, in output order (risk_signals: exactly yes/no)
      negative: negative
      neutral: neutral
      positive: positive
    answer_format: " {answer}"      # how the answer follows the body (default: one leading space)
    answer_end: "{eos}"             # end marker scored after every answer: "{eos}", "" (none) or literal text
    chat: false                     # true: wrap the body in the tokenizer's chat template (error if it has none)
    few_shot:                       # optional in-context examples, rendered into {few_shot}
      - {text: "Sales doubled.", label: positive}
    few_shot_format: "Text: {text}\\nAnswer:{answer}\\n\\n"
    ---
    Classify the sentiment ... {few_shot}Sentence:
    {text}
    Answer:

Placeholders: ``{text}`` (required, once), ``{few_shot}``; risk_signals also ``{label}`` (required) and
``{definition}``. Substitution is a single pass, so a text containing ``{label}`` or ``Answer: positive`` is
inserted verbatim and never re-expanded. Validation happens in two steps, each error naming the file and the
field: :func:`load_template` checks the file itself; :func:`compile_template` checks it against a tokenizer and a
model window (answers that tokenise to nothing, colliding answers, a prompt that leaves no room for the text).

**Tokenisation.** The prompt is tokenised in pieces -- the part before ``{text}``, the text, the part after it,
and each answer -- and the pieces are concatenated. Training and scoring use exactly these ids, so they agree
by construction; templates put ``{text}`` on its own line so the pieces also equal a joint tokenisation. A plain
prompt starts with the special tokens the tokenizer puts before any text (a Llama-style BOS; none for GPT-2 or
SmolLM2); a chat prompt with whatever the chat template writes. User text is tokenised with special-token
strings split, so a text containing ``<|endoftext|>`` cannot inject an end marker.

**Truncation.** A text longer than the budget (window minus prompt and longest answer) keeps its first
``text_budget`` tokens; :class:`textrisk.RiskAnalyzer` chunks long documents to that budget, so it never
truncates.
"""

from __future__ import annotations

import importlib.resources
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import ConfigError

__all__ = [
    "PROMPTS_DIR",
    "PROMPTS_PACKAGE",
    "TASKS",
    "CompiledTemplate",
    "PromptTemplate",
    "TemplateError",
    "compile_template",
    "load_template",
    "parse_template",
    "render",
    "template_path",
]

#: The package holding the default templates (the repository's ``prompts/`` folder, installed as package data).
PROMPTS_PACKAGE = "textrisk.models.prompt.prompts"


def _prompts_dir() -> Path:
    """The default templates' folder: the installed package data, else the source checkout's ``prompts/``."""
    try:
        found = importlib.resources.files(PROMPTS_PACKAGE) / "sentiment.txt"
        if found.is_file():
            return Path(str(found)).parent
    except (ImportError, TypeError):  # not installed (a bare checkout on sys.path)
        pass
    return Path(__file__).resolve().parents[3] / "prompts"


#: The default templates' folder (saved prompt models carry their own copies).
PROMPTS_DIR = _prompts_dir()
#: Tasks a template can serve.
TASKS = ("sentiment", "risk_signals")
#: The fewest text tokens a prompt must leave room for.
MIN_TEXT_TOKENS = 8

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_ALLOWED = {"sentiment": {"text", "few_shot"}, "risk_signals": {"text", "few_shot", "label", "definition"}}
_KEYS = {"task", "version", "labels", "answer_format", "answer_end", "chat", "few_shot", "few_shot_format",
         "description", "definitions"}
_EOS = "{eos}"
# Stands in for the text while the template (and a chat template around it) is rendered, then split on.
_TEXT_SLOT = "\u2063<textrisk:text-slot>\u2063"


class TemplateError(ConfigError):
    """A prompt template is invalid; the message names the file and the field."""


@dataclass(frozen=True)
class PromptTemplate:
    """One parsed and statically validated template file (tokenizer-independent)."""

    source: str = field(metadata={"help": "File the template was read from (named in every error)."})
    task: str = field(metadata={"help": "'sentiment' or 'risk_signals'."})
    version: str = field(metadata={"help": "Template version, recorded with a saved model."})
    labels: tuple[str, ...] = field(metadata={"help": "Label names in output order."})
    answers: tuple[str, ...] = field(metadata={"help": "Answer word of each label, same order."})
    body: str = field(metadata={"help": "Prompt text with placeholders."})
    answer_format: str = field(default=" {answer}", metadata={"help": "How an answer follows the body."})
    answer_end: str = field(default=_EOS, metadata={"help": "End marker after each answer: {eos}, '' or text."})
    chat: bool = field(default=False, metadata={"help": "Wrap the body in the tokenizer's chat template."})
    few_shot: tuple[tuple[str, str], ...] = field(default=(), metadata={"help": "(text, label) examples."})
    few_shot_format: str = field(default="Text: {text}\nAnswer:{answer}\n\n",
                                 metadata={"help": "How one example is rendered into {few_shot}."})
    definitions: tuple[tuple[str, str], ...] = field(
        default=(), metadata={"help": "risk_signals: label definitions used when textrisk.labels.taxonomy has none."})
    raw: str = field(default="", repr=False, metadata={"help": "The file's text, saved with a model."})

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise TemplateError(f"{self.source}: field 'task': must be one of {list(TASKS)}, got {self.task!r}")
        if len(self.labels) != len(self.answers):
            raise TemplateError(f"{self.source}: field 'labels': {len(self.labels)} labels, "
                                f"{len(self.answers)} answers")

    @property
    def name(self) -> str:
        """The file's stem (e.g. ``sentiment``)."""
        return Path(self.source).stem

    def answer_text(self, label: str) -> str:
        """The answer string scored for ``label`` (before the end marker)."""
        return self.answer_format.replace("{answer}", self.answers[self.labels.index(label)])


def _fail(source: str, key: str, problem: str) -> TemplateError:
    return TemplateError(f"{source}: field {key!r}: {problem}")


def _split_front_matter(text: str, source: str) -> tuple[dict[str, Any], str]:
    import yaml

    text = text.lstrip("\ufeff")
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise _fail(source, "front matter", "the file must start with a '---' line, YAML fields, and '---'")
    for end in range(1, len(lines)):
        if lines[end].strip() == "---":
            break
    else:
        raise _fail(source, "front matter", "no closing '---' line")
    try:
        meta = yaml.safe_load("".join(lines[1:end])) or {}
    except yaml.YAMLError as exc:
        raise _fail(source, "front matter", f"not valid YAML ({exc})") from exc
    if not isinstance(meta, dict):
        raise _fail(source, "front matter", "must be a mapping of field names to values")
    # the body's trailing newline(s) are the file's, not the prompt's: answers follow the last character
    return meta, "".join(lines[end + 1:]).rstrip("\n")


def _string(meta: Mapping[str, Any], key: str, source: str, default: str | None = None) -> str:
    value = meta.get(key, default)
    if value is None:
        raise _fail(source, key, "is required")
    if not isinstance(value, str):
        raise _fail(source, key, f"must be a string, got {type(value).__name__} {value!r}")
    return value


def parse_template(text: str, source: str = "<template>") -> PromptTemplate:
    """Parse and statically validate a template file's text (see the module docstring for the format).

    Raises:
        TemplateError: naming ``source`` and the field: unknown or missing fields, wrong types, labels that are
            not a mapping of non-empty answers, a missing or repeated ``{text}``, unknown placeholders, few-shot
            examples with unknown labels.
    """
    meta, body = _split_front_matter(text, source)
    unknown = sorted(set(meta) - _KEYS)
    if unknown:
        raise _fail(source, unknown[0], f"unknown field; valid fields: {sorted(_KEYS)}")
    task = _string(meta, "task", source)
    if task not in TASKS:
        raise _fail(source, "task", f"must be one of {list(TASKS)}, got {task!r}")
    version = meta.get("version")
    if version is None or isinstance(version, bool) or not isinstance(version, (int, float, str)) or not str(version):
        raise _fail(source, "version", f"is required (a number or string), got {version!r}")

    raw_labels = meta.get("labels")
    if not isinstance(raw_labels, dict) or len(raw_labels) < 2:
        raise _fail(source, "labels", "must map at least 2 label names to their answer words")
    labels, answers = [], []
    for label, answer in raw_labels.items():
        if not isinstance(label, str) or not label.strip():
            raise _fail(source, "labels", f"invalid label name {label!r}")
        if not isinstance(answer, str) or not answer.strip():
            raise _fail(source, f"labels.{label}", f"the answer must be a non-empty string, got {answer!r}")
        labels.append(label)
        answers.append(answer)
    if task == "risk_signals" and set(labels) != {"yes", "no"}:
        raise _fail(source, "labels", f"a risk_signals template maps exactly 'yes' and 'no', got {labels}")
    if len({a.strip().lower() for a in answers}) != len(answers):
        raise _fail(source, "labels", f"two labels share an answer word: {answers}")

    answer_format = _string(meta, "answer_format", source, " {answer}")
    if answer_format.count("{answer}") != 1:
        raise _fail(source, "answer_format", f"must contain {{answer}} exactly once, got {answer_format!r}")
    answer_end = _string(meta, "answer_end", source, _EOS)
    chat = meta.get("chat", False)
    if not isinstance(chat, bool):
        raise _fail(source, "chat", f"must be true or false, got {chat!r}")
    few_shot_format = _string(meta, "few_shot_format", source, "Text: {text}\nAnswer:{answer}\n\n")
    for slot in ("{text}", "{answer}"):
        if slot not in few_shot_format:
            raise _fail(source, "few_shot_format", f"must contain {slot}")

    raw_shots = meta.get("few_shot") or []
    if not isinstance(raw_shots, list):
        raise _fail(source, "few_shot", "must be a list of {text, label} mappings")
    shots = []
    for i, shot in enumerate(raw_shots):
        if not isinstance(shot, dict) or set(shot) != {"text", "label"}:
            raise _fail(source, f"few_shot[{i}]", f"must be a mapping with 'text' and 'label', got {shot!r}")
        if not isinstance(shot["text"], str) or not shot["text"].strip():
            raise _fail(source, f"few_shot[{i}].text", "must be a non-empty string")
        if shot["label"] not in labels:
            raise _fail(source, f"few_shot[{i}].label", f"unknown label {shot['label']!r}; expected one of {labels}")
        shots.append((shot["text"], shot["label"]))

    raw_definitions = meta.get("definitions") or {}
    if not isinstance(raw_definitions, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in raw_definitions.items()):
        raise _fail(source, "definitions", "must map risk label names to non-empty definitions")
    description = meta.get("description")
    if description is not None and not isinstance(description, str):
        raise _fail(source, "description", "must be a string")

    if not body.strip():
        raise _fail(source, "body", "is empty")
    found = _PLACEHOLDER.findall(body)
    bad = sorted(set(found) - _ALLOWED[task])
    if bad:
        raise _fail(source, "body", f"unknown placeholder {{{bad[0]}}}; a {task} template may use "
                                    f"{sorted('{' + p + '}' for p in _ALLOWED[task])}")
    if found.count("text") != 1:
        raise _fail(source, "body", f"must contain the {{text}} placeholder exactly once (found {found.count('text')})")
    if task == "risk_signals" and "label" not in found:
        raise _fail(source, "body", "a risk_signals template must contain {label} (the risk asked about)")
    if shots and "few_shot" not in found:
        raise _fail(source, "few_shot", "examples are given but the body has no {few_shot} placeholder")
    if not body.replace("{text}", "").strip():
        raise _fail(source, "body", "has nothing besides {text}: the model would not know what to answer")

    return PromptTemplate(
        source=source, task=task, version=str(version), labels=tuple(labels), answers=tuple(answers), body=body,
        answer_format=answer_format, answer_end=answer_end, chat=chat, few_shot=tuple(shots),
        few_shot_format=few_shot_format, definitions=tuple(raw_definitions.items()), raw=text,
    )


def load_template(path: str | os.PathLike) -> PromptTemplate:
    """Read and validate a template file.

    Raises:
        TemplateError: the file is missing or unreadable, or invalid (see :func:`parse_template`).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(f"{path}: cannot read the template: {exc}") from exc
    return parse_template(text, str(path))


def template_path(task: str) -> Path:
    """The default template file for ``task`` (``prompts/<task>.txt``, installed with the package)."""
    if task not in TASKS:
        raise TemplateError(f"unknown task {task!r}; expected one of {list(TASKS)}")
    path = PROMPTS_DIR / f"{task}.txt"
    if not path.is_file():
        raise TemplateError(f"{path}: the default {task} template is missing (textrisk's installed prompts/ "
                            "package data is incomplete; reinstall textrisk or pass a template path)")
    return path


def render(template: str, values: Mapping[str, str]) -> str:
    """Replace ``{name}`` placeholders in one pass (inserted values are never expanded again)."""
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)] if m.group(1) in values else m.group(0), template)


@dataclass(frozen=True)
class CompiledTemplate:
    """A template tokenised for one tokenizer and window: token pieces of every prompt variant and answer.

    A prompt for text ``t`` and variant ``k`` is ``before[k] + tokens(t)[:text_budget] + after[k]``, followed
    by one of ``answers``. Sentiment templates have one variant; risk_signals one per risk label.
    """

    template: PromptTemplate
    variants: tuple[str, ...]
    before: tuple[tuple[int, ...], ...]
    after: tuple[tuple[int, ...], ...]
    answers: tuple[tuple[int, ...], ...]
    text_budget: int
    window: int

    @property
    def shared_before(self) -> bool:
        """True when every variant starts with the same non-empty prefix (computed once, reused via the cache)."""
        return bool(self.before[0]) and all(b == self.before[0] for b in self.before)

    def prompt_ids(self, text_ids: Sequence[int], variant: int = 0) -> list[int]:
        """Token ids of the full prompt for one (already tokenised) text."""
        return [*self.before[variant], *list(text_ids)[:self.text_budget], *self.after[variant]]


def _tokens(tokenizer: Any, text: str) -> tuple[int, ...]:
    return tuple(tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"]) if text else ()


def _leading_special_ids(tokenizer: Any) -> tuple[int, ...]:
    """Special tokens the tokenizer puts before a text (a Llama-style BOS; nothing for GPT-2 or SmolLM2)."""
    plain = _tokens(tokenizer, "a")
    try:
        full = tuple(tokenizer("a", verbose=False)["input_ids"])
    except TypeError:  # a minimal tokenizer without the keyword
        return ()
    for start in range(len(full) - len(plain) + 1):
        if full[start:start + len(plain)] == plain:
            return full[:start]
    return ()


def _end_ids(template: PromptTemplate, tokenizer: Any) -> tuple[int, ...]:
    if template.answer_end == _EOS:
        if tokenizer.eos_token_id is None:
            raise _fail(template.source, "answer_end", "is {eos} but the tokenizer has no EOS token")
        return (int(tokenizer.eos_token_id),)
    return _tokens(tokenizer, template.answer_end)


def compile_template(template: PromptTemplate, tokenizer: Any, window: int,
                     variants: Sequence[Mapping[str, str]] | None = None) -> CompiledTemplate:
    """Tokenise ``template`` for ``tokenizer`` and check it fits a model window of ``window`` tokens.

    Args:
        variants: placeholder values per prompt variant (risk_signals: ``{"label", "definition"}`` per risk
            label); default one variant with none.

    Raises:
        TemplateError: an answer tokenises to nothing; two answers have equal token sequences, or (without an
            end marker) one is a prefix of another -- its likelihood would be part of the other's, so the
            scores would not be a distribution over disjoint answers; the chat template is missing; the
            prompt leaves fewer than ``MIN_TEXT_TOKENS`` tokens for the text.
    """
    source = template.source
    variants = list(variants) if variants is not None else [{}]
    if not variants:
        raise _fail(source, "labels", "no prompt variants to compile (empty risk label set?)")
    end = _end_ids(template, tokenizer)
    answers = []
    for label in template.labels:
        ids = _tokens(tokenizer, template.answer_text(label))
        if not ids:
            raise _fail(source, f"labels.{label}", f"answer {template.answer_text(label)!r} tokenises to nothing")
        answers.append(ids + end)
    for i, a in enumerate(answers):
        for j in range(i + 1, len(answers)):
            b = answers[j]
            if a == b:
                raise _fail(source, f"labels.{template.labels[j]}",
                            f"its answer tokenises exactly like the answer of {template.labels[i]!r}")
            if not end and (a == b[:len(a)] or b == a[:len(b)]):
                raise _fail(source, f"labels.{template.labels[j]}",
                            f"its answer and the answer of {template.labels[i]!r} are token prefixes of each other; "
                            "set answer_end (e.g. '{eos}') so each answer is a complete sequence")
    if template.chat and not getattr(tokenizer, "chat_template", None):
        raise _fail(source, "chat", "is true but the tokenizer has no chat template")

    shots = "".join(render(template.few_shot_format, {"text": text, "answer": template.answer_text(label)})
                    for text, label in template.few_shot)
    before, after = [], []
    lead = () if template.chat else _leading_special_ids(tokenizer)
    for values in variants:
        filled = render(template.body, {**values, "few_shot": shots, "text": _TEXT_SLOT})
        if template.chat:
            filled = tokenizer.apply_chat_template([{"role": "user", "content": filled}], tokenize=False,
                                                   add_generation_prompt=True)
        head, _, tail = filled.partition(_TEXT_SLOT)
        # a chat template writes its own BOS text; a plain prompt starts like any tokenised text
        before.append(_tokens(tokenizer, head) if template.chat else lead + _tokens(tokenizer, head))
        after.append(_tokens(tokenizer, tail))
    overhead = max(len(b) + len(a) for b, a in zip(before, after))
    budget = window - overhead - max(len(a) for a in answers)
    if budget < MIN_TEXT_TOKENS:
        raise _fail(source, "body", f"the prompt takes {overhead} tokens and the longest answer "
                                    f"{max(len(a) for a in answers)}, leaving {budget} of the model window "
                                    f"({window}) for the text; the minimum is {MIN_TEXT_TOKENS}")
    return CompiledTemplate(template=template, variants=tuple(v.get("label", "") for v in variants),
                            before=tuple(before), after=tuple(after), answers=tuple(answers),
                            text_budget=budget, window=window)
