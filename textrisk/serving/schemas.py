"""Request and response bodies of the scoring server (pydantic models; they make the OpenAPI schema).

The results are typed from the report dataclasses themselves (:class:`~textrisk.scoring.report.RiskReport`,
:class:`~textrisk.filings.report.FilingReport` and what they hold), so the schema cannot drift from what the
server returns; :data:`FIELD_HELP` describes their fields for the ``/docs`` page.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, create_model, field_validator, model_validator

from ..data.inputs import name_problem
from ..filings.report import FilingReport
from ..scoring.report import RiskReport

__all__ = ["FIELD_HELP", "FORMS", "MAX_ID_CHARS", "DocumentIn", "ErrorResponse", "FilingOptions", "FilingRequest",
           "FilingResponse", "FilingResult", "ModelIdentity", "ModelInfo", "ScoreOptions", "ScoreRequest",
           "ScoreResponse", "ScoreResult"]

#: Form hints ``POST /v1/filings`` accepts (variants such as 10-K405 are read as their family).
FORMS = ("10-K", "10-K405", "10-KSB", "10-Q", "8-K")

#: What the report fields mean (shown in the OpenAPI schema).
FIELD_HELP = {
    "sentiment": "most likely label of the token-weighted mean distribution",
    "sentiment_scores": "calibrated label probabilities (token-weighted mean over chunks or prose passages)",
    "evidence": "the passages that drove the result (with a judgement model: ranked by adverse risk)",
    "risk_signals": "per risk type, the strongest chunk's calibrated probability (null: the model has no risk head)",
    "flags": "risk signals at or over their tuned thresholds",
    "risk_score": "a judgement model: the probability that the text reports an adverse risk event or specific "
                  "adverse outlook (token-weighted mean); otherwise P(negative) x P(any signal)",
    "tone_risk": "P(negative) x P(any signal) (a judgement model's former risk score)",
    "kind": "a judgement model's most likely kind: event, outlook, boilerplate, other",
    "kind_scores": "a judgement model's kind distribution (token-weighted mean)",
    "severity": "a judgement model's expected severity (0-3) of the most adverse chunk",
    "mentions": "risk type -> token share of chunks that mention it without reporting it",
    "signal_evidence": "flagged signal -> its top chunks",
    "signal_share": "signal -> token share of chunks at or over its threshold",
    "num_chunks": "chunks (passages) scored", "num_tokens": "tokens scored",
    "warnings": "what was noticed about the input (e.g. unknown tokens)",
    "form": "the filing's form (the hint, or read from its cover)",
    "sections": "scores per section (Item 1A, Item 7, ...) over its prose passages",
    "negative_evidence": "the most negative prose passages, with their section",
    "negative_share": "share of prose tokens in passages read as negative",
    "excluded_chars": "characters left out by kind (tables, page furniture, exhibits)",
    "excluded_share": "left-out characters / non-blank characters",
}


def _report_model(cls: type, name: str, doc: str, **extra: Any) -> type[BaseModel]:
    """A pydantic model with the fields of the report dataclass ``cls`` (typed, described) plus ``extra``."""
    hints = typing.get_type_hints(cls)
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            default = Field(f.default, description=FIELD_HELP.get(f.name))
        elif f.default_factory is not dataclasses.MISSING:
            default = Field(default_factory=f.default_factory, description=FIELD_HELP.get(f.name))
        else:
            default = Field(description=FIELD_HELP.get(f.name))
        fields[f.name] = (hints[f.name], default)
    return create_model(name, __doc__=doc, **extra, **fields)


class ModelIdentity(BaseModel):
    """Which model answered and which textrisk: in every response body (and as ``X-Textrisk-*`` headers)."""

    sha256: str = Field(description="the model's content hash (its config and every weight)")
    name: str = Field(description="the --model it was loaded from, or 'embedded default'")
    textrisk_version: str

#: Longest document id accepted (characters).
MAX_ID_CHARS = 1024


class ScoreOptions(BaseModel):
    """Per-request choices; the micro-batch is scored once and each request's results are shaped by these."""

    model_config = ConfigDict(extra="forbid")

    signals: bool | None = Field(None, description="risk signals: null = when the model has a risk head, "
                                                   "true = required (422 without a risk head), false = omit")
    evidence: bool = Field(True, description="include evidence chunks (false: smaller responses)")


class DocumentIn(BaseModel):
    """A document with a caller-chosen id, echoed back in its result."""

    model_config = ConfigDict(extra="forbid")

    id: StrictStr | StrictInt = Field(description=f"echoed back; a string of at most {MAX_ID_CHARS} characters or an "
                                                   "integer")
    text: StrictStr

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str | int) -> str | int:
        """Refuse an id the response could not carry: a lone surrogate (not UTF-8), or an over-long one."""
        problem = name_problem(value, MAX_ID_CHARS) if isinstance(value, str) else None
        if problem:
            raise ValueError(f"the id {problem}")
        return value


class ScoreRequest(BaseModel):
    """Either ``texts`` or ``documents``, not both."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"texts": ["Nokia cuts its outlook as network sales slump."]},
                     {"documents": [{"id": "n1", "text": "Operating profit rose to EUR 13.1 mn."}],
                      "options": {"evidence": False}}]})

    texts: list[StrictStr] | None = None
    documents: list[DocumentIn] | None = None
    options: ScoreOptions = Field(default_factory=ScoreOptions)

    @model_validator(mode="after")
    def _one_of(self) -> ScoreRequest:
        if (self.texts is None) == (self.documents is None):
            raise ValueError("give exactly one of 'texts' (a list of strings) or 'documents' (a list of "
                             "{id, text})")
        return self

    def text_list(self) -> tuple[list[str], str]:
        """The texts to score and how the i-th one is named in error messages (``texts`` / ``documents``)."""
        if self.texts is not None:
            return self.texts, "texts[{}]"
        return [doc.text for doc in self.documents], "documents[{}].text"


ScoreResult = _report_model(RiskReport, "ScoreResult", "Scores of one text (RiskReport), plus its id for documents.",
                            id=(StrictStr | StrictInt | None, Field(None, description="the document's id, echoed")))


class ScoreResponse(BaseModel):
    """One result per input, in input order, and the model that scored them."""

    results: list[ScoreResult]  # type: ignore[valid-type]
    model: ModelIdentity


class FilingOptions(BaseModel):
    """What the filing report includes."""

    model_config = ConfigDict(extra="forbid")

    evidence: bool = Field(True, description="include evidence passages (false: scores only, a smaller response)")


class FilingRequest(BaseModel):
    """One filing (10-K, 10-Q, 8-K) as text or HTML; scored by sections, over prose passages only."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"text": "UNITED STATES SECURITIES AND EXCHANGE COMMISSION ... FORM 10-K ... ITEM 1A. RISK "
                              "FACTORS ...", "form": "10-K", "id": "acme-2024"}]})

    text: StrictStr = Field(description="the filing's full text (or HTML with html=true)")
    form: str | None = Field(None, description=f"form hint, one of {list(FORMS)} (default: read from the cover)")
    id: StrictStr | StrictInt | None = Field(None, description="echoed back")
    html: bool = Field(False, description="text is HTML (an .htm filing): converted to text first")
    options: FilingOptions = Field(default_factory=FilingOptions)

    @field_validator("form")
    @classmethod
    def _known_form(cls, value: str | None) -> str | None:
        if value is not None and value.upper() not in FORMS:
            raise ValueError(f"must be one of {list(FORMS)} or null, got {value!r}")
        return value.upper() if value is not None else None

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str | int | None) -> str | int | None:
        problem = name_problem(value, MAX_ID_CHARS) if isinstance(value, str) else None
        if problem:
            raise ValueError(f"the id {problem}")
        return value


FilingResult = _report_model(FilingReport, "FilingResult", "The filing's report: the same as textrisk score --files "
                                                           "gives for the file (FilingReport).")


class FilingResponse(BaseModel):
    """The filing's report and the model that scored it."""

    id: StrictStr | StrictInt | None = None
    report: FilingResult  # type: ignore[valid-type]
    model: ModelIdentity


class ModelInfo(BaseModel):
    """The model and the server's limits."""

    model: ModelIdentity
    backend: str = Field(description="the scoring backend that runs (--backend; for auto, the one chosen on "
                                       "this machine)")
    textrisk_version: str
    labels: list[str]
    risk_labels: list[str]
    thresholds: dict[str, float]
    temperature: float
    max_length: int
    chunk_tokens: int
    judgement: bool = Field(description="whether the model reports risk_score as the adverse-event probability, "
                                        "kind and severity")
    card: dict[str, Any]
    limits: dict[str, int]
    batching: dict[str, float]


class ErrorResponse(BaseModel):
    """Every error: one message naming the problem (field, index or limit); never a traceback."""

    detail: str
