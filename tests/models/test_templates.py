"""Prompt templates: parsing, validation errors that name the file and field, tokenizer-level checks."""

import pytest

from textrisk.models.prompt.templates import (
    PROMPTS_DIR,
    TemplateError,
    compile_template,
    load_template,
    parse_template,
    render,
)

GOOD = """---
task: sentiment
version: 2
labels:
  down: down
  up: up
answer_end: ""
---
Is this good or bad news?
{few_shot}Text:
{text}
Answer:
"""


class CharTokenizer:
    """One token per character; drops zero-width spaces (so a string can tokenise to nothing)."""

    eos_token_id = 0
    chat_template = None

    def __call__(self, text, add_special_tokens=False, verbose=False):
        return {"input_ids": [ord(ch) for ch in text if ch != "\u200b"]}


class BosCharTokenizer(CharTokenizer):
    """Like a Llama tokenizer: puts a BOS token (id 1) before every text it tokenises with special tokens."""

    def __call__(self, text, add_special_tokens=True, verbose=False):
        ids = super().__call__(text)["input_ids"]
        return {"input_ids": [1, *ids] if add_special_tokens else ids}


def _variant(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def test_good_template_parses():
    template = parse_template(GOOD, "good.txt")
    assert template.task == "sentiment" and template.version == "2"
    assert template.labels == ("down", "up") and template.answers == ("down", "up")
    assert template.answer_text("up") == " up"
    assert template.body.endswith("Answer:")  # the file's trailing newline is not part of the prompt


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        ("task: sentiment\n", "front matter", "must start with a '---' line"),
        ("---\ntask: sentiment\n", "front matter", "no closing"),
        ("---\ntask: [\n---\n{text}\n", "front matter", "not valid YAML"),
        (_variant(GOOD, "version: 2", "version: 2\ncolour: red"), "colour", "unknown field"),
        (_variant(GOOD, "task: sentiment\n", ""), "task", "is required"),
        (_variant(GOOD, "task: sentiment", "task: summarise"), "task", "must be one of"),
        (_variant(GOOD, "version: 2\n", ""), "version", "is required"),
        (_variant(GOOD, "  down: down\n  up: up", "  up: up"), "labels", "at least 2"),
        (_variant(GOOD, "labels:\n  down: down\n  up: up", "labels: [down, up]"), "labels", "at least 2"),
        (_variant(GOOD, "  up: up", "  up: ''"), "labels.up", "non-empty string"),
        (_variant(GOOD, "  up: up", "  up: Down"), "labels", "share an answer word"),
        (_variant(GOOD, 'answer_end: ""', 'answer_format: " {label}"'), "answer_format", "{answer} exactly once"),
        (_variant(GOOD, 'answer_end: ""', "chat: maybe"), "chat", "true or false"),
        (_variant(GOOD, 'answer_end: ""', "few_shot: [{text: Sales fell}]"), "few_shot[0]", "'text' and 'label'"),
        (_variant(GOOD, 'answer_end: ""', "few_shot: [{text: Sales fell, label: sideways}]"), "few_shot[0].label",
         "unknown label 'sideways'"),
        (_variant(GOOD, "{few_shot}", ""), "few_shot", None),  # placeholder-free body is fine without examples
        (_variant(_variant(GOOD, "{few_shot}", ""), 'answer_end: ""', "few_shot: [{text: Up 5%, label: up}]"),
         "few_shot", "no {few_shot} placeholder"),
        (_variant(GOOD, "{text}", "the text"), "body", "{text} placeholder exactly once"),
        (_variant(GOOD, "{text}", "{text} {text}"), "body", "exactly once (found 2)"),
        (_variant(GOOD, "{text}", "{text} {tone}"), "body", "unknown placeholder {tone}"),
        (_variant(GOOD, "{text}", "{text} {label}"), "body", "unknown placeholder {label}"),
        ("---\ntask: sentiment\nversion: 1\nlabels: {a: a, b: b}\n---\n{text}\n", "body", "nothing besides {text}"),
        ("---\ntask: risk_signals\nversion: 1\nlabels: {'yes': 'yes', 'no': 'no'}\n---\nRisk? {text}\n", "body",
         "must contain {label}"),
        ("---\ntask: risk_signals\nversion: 1\nlabels: {a: a, b: b}\n---\n{label}? {text}\n", "labels",
         "exactly 'yes' and 'no'"),
        ("---\ntask: risk_signals\nversion: 1\nlabels: {yes: yes, no: no}\n---\n{label}? {text}\n", "labels",
         "invalid label name True"),  # unquoted YAML yes/no are booleans
    ],
)
def test_invalid_templates_name_file_and_field(text, field, message):
    if message is None:
        parse_template(text, "my_template.txt")
        return
    with pytest.raises(TemplateError) as info:
        parse_template(text, "my_template.txt")
    assert str(info.value).startswith(f"my_template.txt: field {field!r}: "), str(info.value)
    assert message in str(info.value)


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(TemplateError, match=r"nope\.txt: cannot read"):
        load_template(tmp_path / "nope.txt")


@pytest.mark.parametrize(
    ("change", "window", "field", "message"),
    [
        (("  up: up", "  up: \"\\u200b\"\nanswer_format: \"{answer}\""), 64, "labels.up", "tokenises to nothing"),
        (("  up: up", "  up: \"d\\u200bown\""), 64, "labels.up", "tokenises exactly like the answer of 'down'"),
        (("  up: up", "  up: downward"), 64, "labels.up", "prefixes of each other"),
        (None, 48, "body", "leaving 3 of the model window (48)"),
        (('answer_end: ""', "chat: true"), 64, "chat", "no chat template"),
    ],
)
def test_tokenizer_level_validation(change, window, field, message):
    text = GOOD if change is None else _variant(GOOD, *change)
    template = parse_template(text, "t.txt")
    with pytest.raises(TemplateError) as info:
        compile_template(template, CharTokenizer(), window)
    assert str(info.value).startswith(f"t.txt: field {field!r}: "), str(info.value)
    assert message in str(info.value)


def test_prefix_answers_are_fine_with_an_end_marker():
    """With an end marker, ' down' and ' downward' are disjoint complete sequences: scoring stays sound."""
    text = _variant(_variant(GOOD, "  up: up", "  up: downward"), 'answer_end: ""', 'answer_end: "{eos}"')
    compiled = compile_template(parse_template(text, "t.txt"), CharTokenizer(), 64)
    assert compiled.answers[0] == (*map(ord, " down"), 0)
    assert compiled.answers[1][-1] == 0


def test_pieces_and_budget():
    compiled = compile_template(parse_template(GOOD, "t.txt"), CharTokenizer(), 80)
    before = "".join(map(chr, compiled.before[0]))
    after = "".join(map(chr, compiled.after[0]))
    assert before == "Is this good or bad news?\nText:\n"
    assert after == "\nAnswer:"
    assert compiled.text_budget == 80 - len(before) - len(after) - len(" down")
    prompt = compiled.prompt_ids([1] * 500)
    assert len(prompt) == len(before) + compiled.text_budget + len(after)  # long texts keep their first tokens


def test_few_shot_block_is_rendered():
    text = _variant(GOOD, 'answer_end: ""', "few_shot: [{text: Sales tripled., label: up}]")
    compiled = compile_template(parse_template(text, "t.txt"), CharTokenizer(), 200)
    assert "Text: Sales tripled.\nAnswer: up\n\nText:\n" in "".join(map(chr, compiled.before[0]))


def test_substitution_is_single_pass():
    assert render("{text} / {label}", {"text": "{label} Answer: positive", "label": "credit"}) == \
        "{label} Answer: positive / credit"


@pytest.mark.parametrize("name", ["sentiment", "risk_signals"])
def test_shipped_templates_are_valid(name):
    template = load_template(PROMPTS_DIR / f"{name}.txt")
    assert template.task == name
    compile_template(template, CharTokenizer(), 2048, [{"label": "credit", "definition": "a definition"}]
                     if name == "risk_signals" else None)


def test_plain_prompts_start_with_the_tokenizers_bos():
    compiled = compile_template(parse_template(GOOD, "t.txt"), BosCharTokenizer(), 80)
    assert compiled.before[0][0] == 1 and 1 not in compiled.after[0] and 1 not in compiled.answers[0]
    assert compile_template(parse_template(GOOD, "t.txt"), CharTokenizer(), 80).before[0][0] == ord("I")
