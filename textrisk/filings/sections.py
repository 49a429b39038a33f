"""Items of 10-K, 10-Q and 8-K filings: where each starts and ends, tolerant of real formatting.

A heading candidate is a line that starts (after optional spaces, a stray ">" left by an HTML conversion, and an
optional "PART II -") with "Item N"
where N is an item of the filing's form ("1A", "7A", "9A" for a 10-K; "1.03", "4.02" or the pre-2004 single
digits for an 8-K), followed by ".", ":", a dash, a space or the line end, and not by a lowercase word (which
marks a cross-reference such as "Item 7 of this report"). Tables of contents repeat every heading, so each item
usually has several candidates. The body headings are chosen as the **heaviest increasing sequence**: among all
sequences of candidates whose items appear in filing order, the one covering the most text, where a candidate
weighs the characters up to the next candidate. A table of contents is a run of candidates a few characters apart,
so it loses to the body whenever the body repeats the items in order. A bare "Item 7" line (no title; running
page headers such as "PART II | Item 7") is dropped when the same item also has a titled heading. Exhibit markers
(``[[EX-13...]]``, written by the shared data's converter) start exhibit sections. Text before the first
heading is "front matter".

A text with no form given and none on its cover (an Item 1A excerpt) is read as a 10-K, or as an 8-K when an
"Item N.NN" heading appears. A 10-Q numbers items per part; its keys carry the part ("I-2" is Part I, Item 2
MD&A). A document without headings has no sections.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ITEMS", "Section", "detect_form", "detect_sections"]

_10K = {
    "1": "Business", "1A": "Risk Factors", "1B": "Unresolved Staff Comments", "1C": "Cybersecurity",
    "2": "Properties", "3": "Legal Proceedings", "4": "Mine Safety Disclosures / Submission of Matters to a Vote",
    "5": "Market for Registrant's Common Equity", "6": "Selected Financial Data",
    "7": "Management's Discussion and Analysis", "7A": "Quantitative and Qualitative Disclosures About Market Risk",
    "8": "Financial Statements and Supplementary Data", "9": "Changes in and Disagreements with Accountants",
    "9A": "Controls and Procedures", "9B": "Other Information", "9C": "Foreign Jurisdictions that Prevent Inspections",
    "10": "Directors and Executive Officers", "11": "Executive Compensation", "12": "Security Ownership",
    "13": "Certain Relationships and Related Transactions", "14": "Principal Accountant Fees and Services",
    "15": "Exhibits and Financial Statement Schedules", "16": "Form 10-K Summary",
}
_10Q = {
    "I-1": "Financial Statements", "I-2": "Management's Discussion and Analysis",
    "I-3": "Quantitative and Qualitative Disclosures About Market Risk", "I-4": "Controls and Procedures",
    "II-1": "Legal Proceedings", "II-1A": "Risk Factors", "II-2": "Unregistered Sales of Equity Securities",
    "II-3": "Defaults Upon Senior Securities", "II-4": "Mine Safety Disclosures", "II-5": "Other Information",
    "II-6": "Exhibits",
}
_8K = {
    "1.01": "Entry into a Material Definitive Agreement", "1.02": "Termination of a Material Definitive Agreement",
    "1.03": "Bankruptcy or Receivership", "1.04": "Mine Safety", "1.05": "Material Cybersecurity Incidents",
    "2.01": "Completion of Acquisition or Disposition of Assets", "2.02": "Results of Operations",
    "2.03": "Creation of a Direct Financial Obligation", "2.04": "Triggering Events That Accelerate an Obligation",
    "2.05": "Costs Associated with Exit or Disposal Activities", "2.06": "Material Impairments",
    "3.01": "Notice of Delisting or Failure to Satisfy a Listing Rule", "3.02": "Unregistered Sales of Equity",
    "3.03": "Material Modification to Rights of Security Holders", "4.01": "Changes in Certifying Accountant",
    "4.02": "Non-Reliance on Previously Issued Financial Statements", "5.01": "Changes in Control of Registrant",
    "5.02": "Departure or Appointment of Directors or Officers", "5.03": "Amendments to Articles or Bylaws",
    "5.04": "Suspension of Trading Under Employee Benefit Plans", "5.05": "Amendments to the Code of Ethics",
    "5.06": "Change in Shell Company Status", "5.07": "Submission of Matters to a Vote of Security Holders",
    "5.08": "Shareholder Director Nominations", "6.01": "ABS Informational Material",
    "7.01": "Regulation FD Disclosure",
    "8.01": "Other Events", "9.01": "Financial Statements and Exhibits",
    # the 8-K items before August 2004
    "1": "Changes in Control of Registrant", "2": "Acquisition or Disposition of Assets",
    "3": "Bankruptcy or Receivership", "4": "Changes in Registrant's Certifying Accountant", "5": "Other Events",
    "6": "Resignations of Registrant's Directors", "7": "Financial Statements and Exhibits",
    "8": "Change in Fiscal Year", "9": "Regulation FD Disclosure", "10": "Amendments to the Code of Ethics",
    "11": "Suspension of Trading Under Employee Benefit Plans", "12": "Results of Operations",
}
#: item key -> canonical title, per form family ("10-K", "10-Q", "8-K")
ITEMS = {"10-K": _10K, "10-Q": _10Q, "8-K": _8K}

_CANDIDATE = re.compile(
    r"^[ \t]*(?:>[ \t]*)?(?:part[ \t]+(?P<part>[ivx]{1,3})\b[ \t.,:\u2014\u2013-]*)?"
    r"item[ \t]*(?P<num>\d{1,2}(?:\.\d{2})?[a-c]?)"
    r"(?![\d)])[ \t]*(?P<punct>[.:\u2014\u2013-])?[ \t]*(?P<rest>[^\n]*)$",
    re.IGNORECASE | re.MULTILINE,
)
_PART = re.compile(r"^[ \t]*(?:>[ \t]*)?part[ \t]+(?P<part>[ivx]{1,3})\b[^\n]{0,80}$", re.IGNORECASE | re.MULTILINE)
_MARKER = re.compile(r"^\[\[(?P<name>EX-[^\]\s]*)[^\]]*\]\][ \t]*$", re.MULTILINE)
_FORM = re.compile(r"\bform[ \t\n]+(10-?K|10-?Q|8-?K)(?:405|SB|-?KSB)?\b", re.IGNORECASE)


@dataclass(frozen=True)
class Section:
    """``text[start:end]`` is the section, heading included; ``text[start:heading_end]`` is its heading line."""

    key: str  # "1A", "7", "I-2" (10-Q), "1.03" (8-K), "EX-13", "front"
    title: str
    start: int
    end: int
    heading_end: int


def detect_form(text: str, hint: str | None = None) -> str | None:
    """"10-K", "10-Q" or "8-K" from a hint ("10-K405", "10-KSB", "8-K" from an index or file name) or the cover."""
    for source in (hint or "", text[:6000]):
        upper = source.upper().replace("FORM", " FORM ")
        for family, needles in (("10-Q", ("10-Q", "10Q")), ("8-K", ("8-K", "8K")), ("10-K", ("10-K", "10K"))):
            if source is hint and any(n in upper for n in needles):
                return family
        match = _FORM.search(source) if source is not hint else None
        if match:
            raw = match.group(1).upper().replace("-", "")
            return {"10K": "10-K", "10Q": "10-Q", "8K": "8-K"}[raw]
    return None


def _guess_family(text: str) -> str:
    """No form given or on the cover (an excerpt such as an Item 1A file): 8-K if items look like "Item 2.04"."""
    return "8-K" if re.search(r"^[ \t]*item[ \t]*\d\.\d\d\b", text, re.IGNORECASE | re.MULTILINE) else "10-K"


def _key(form: str, num: str, part: str | None) -> str | None:
    num = num.upper()
    if form == "10-Q":
        key = f"{(part or 'I').upper()}-{num}"
        return key if key in _10Q else None
    return num if num in ITEMS[form] else None


def detect_sections(text: str, form: str | None = None) -> list[Section]:
    """Sections of ``text`` in document order (see the module docstring); ``[]`` when no heading is found.

    Args:
        form: "10-K", "10-Q", "8-K" or a variant ("10-K405", "10-KSB"); None = read it from the cover page, or
            if it is not there either, 10-K items (8-K items when a heading looks like "Item 2.04").
    """
    family = detect_form(text, form) or _guess_family(text)
    order = list(ITEMS[family]) if family else []
    parts = [(m.start(), m.group("part").upper()) for m in _PART.finditer(text)]
    candidates: list = []  # (start, heading_end, key, bare)
    for match in _CANDIDATE.finditer(text) if family else ():
        rest = match.group("rest")
        if rest[:1].islower() or (not match.group("punct") and rest[:1].isdigit()):
            continue  # "Item 7 of this report", "Item 5 2003"
        part = match.group("part")
        if part is None and family == "10-Q":
            before = [p for at, p in parts if at <= match.start()]
            part = before[-1] if before else None
        key = _key(family, match.group("num"), part)
        if key is not None:
            bare = not rest.strip() or rest[:1] == ","
            candidates.append((match.start(), match.end(), key, bare))
    titled = {key for _, _, key, bare in candidates if not bare}
    candidates = [(a, b, key) for a, b, key, bare in candidates if not (bare and key in titled)]
    markers = [(m.start(), m.end(), m.group("name").upper()) for m in _MARKER.finditer(text)]
    chosen = _heaviest_increasing(candidates, [m[0] for m in markers], order, len(text))
    heads = sorted(chosen + markers)
    sections = []
    if heads and heads[0][0] > 0 and text[:heads[0][0]].strip():
        sections.append(Section("front", "Front matter", 0, heads[0][0], 0))
    titles = ITEMS.get(family or "", {})
    for i, (start, heading_end, key) in enumerate(heads):
        end = heads[i + 1][0] if i + 1 < len(heads) else len(text)
        title = titles.get(key) or text[start:heading_end].strip().strip("[]")
        sections.append(Section(key, title, start, end, heading_end))
    return sections


def _heaviest_increasing(candidates: list[tuple[int, int, str]], boundaries: list[int], order: list[str],
                         length: int) -> list[tuple[int, int, str]]:
    """The candidate subsequence with items in ``order`` (strictly increasing) of the largest total weight."""
    if not candidates:
        return []
    stops = sorted([c[0] for c in candidates] + boundaries + [length])
    rank = [order.index(key) for _, _, key in candidates]
    weight = []
    for start, _, _ in candidates:
        following = next(s for s in stops if s > start)
        weight.append(following - start)
    best = list(weight)
    previous = [-1] * len(candidates)
    for i in range(len(candidates)):
        for j in range(i):
            if rank[j] < rank[i] and best[j] + weight[i] > best[i]:
                best[i], previous[i] = best[j] + weight[i], j
    i = max(range(len(candidates)), key=lambda k: (best[k], k))
    chain = []
    while i >= 0:
        chain.append(candidates[i])
        i = previous[i]
    return chain[::-1]
