"""Request and response bodies of the scoring server (pydantic models; they make the OpenAPI schema)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, field_validator, model_validator

from ..data.inputs import name_problem

__all__ = ["MAX_ID_CHARS", "DocumentIn", "ErrorResponse", "ScoreOptions", "ScoreRequest", "ScoreResponse"]

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


class ScoreResponse(BaseModel):
    """One result per input, in input order: ``RiskReport.to_dict()``, plus ``id`` for documents."""

    results: list[dict[str, Any]]


class ErrorResponse(BaseModel):
    """Every error: one message naming the problem (field, index or limit); never a traceback."""

    detail: str
