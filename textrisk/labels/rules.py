"""Labelling functions for the risk taxonomy: weak rules that turn unlabelled text into silver multi-labels.

Each labelling function (LF) looks at one text and votes for one label: ``POS`` (the label applies), ``NEG``
(it does not, e.g. bot spam that repeats a keyword) or ``ABSTAIN``. The lexicons and patterns are written for
this project from the annotation guide (finetune/risk_data/GUIDE.md); no third-party word list is used.

Votes are combined per label either by a majority vote over the non-abstaining LFs (:func:`majority_vote`, no
parameters), or by a :class:`textrisk.labels.label_model.LabelModel` (accuracy-weighted log-odds).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import DataError
from .prefilter import Prefilter, required_literals
from .taxonomy import RISK_LABELS

__all__ = [
    "ABSTAIN",
    "LABELING_FUNCTIONS",
    "NEG",
    "POS",
    "LabelingFunction",
    "VoteMatrix",
    "lf_votes",
    "majority_vote",
    "normalize_for_rules",
]

POS, NEG, ABSTAIN = 1, 0, -1


def normalize_for_rules(text: str) -> str:
    """Lower-case, turn links into ``url``, drop hashtags and user placeholders, unify quotes, collapse spaces."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    text = re.sub(r"https?://\S+|\bURL\b", " url ", text)
    text = re.sub(r"\bAT_USER\b", " ", text)
    text = re.sub(r"#\w+", " ", text)  # TFNS headlines end in boilerplate tags such as #economy #MarketScreener
    return " ".join(text.lower().split())


@dataclass(frozen=True)
class LabelingFunction:
    """One rule: when ``pattern`` (or ``func``) matches a normalised text and ``unless`` does not, vote ``vote``.

    ``needs``: for a ``func`` rule, a pattern that must match a text for ``func`` to return True (lets
    :func:`lf_votes` skip the rule on texts that cannot trigger it; see :mod:`textrisk.labels.prefilter`).
    """

    name: str
    label: str
    vote: int
    pattern: re.Pattern[str] | None = None
    unless: re.Pattern[str] | None = None
    func: Callable[[str], bool] | None = field(default=None, compare=False)
    needs: re.Pattern[str] | None = None

    def required_strings(self) -> frozenset[str] | None:
        """Strings of which a normalised text must contain one for this rule to vote (None: not known)."""
        pattern = self.pattern if self.func is None else self.needs
        return required_literals(pattern) if pattern is not None else None

    def __call__(self, normalized_text: str) -> int:
        """The vote on a text already passed through :func:`normalize_for_rules`."""
        if self.unless is not None and self.unless.search(normalized_text):
            return ABSTAIN
        if self.func is not None:
            hit = self.func(normalized_text)
        else:
            hit = self.pattern is not None and self.pattern.search(normalized_text) is not None
        return self.vote if hit else ABSTAIN


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _lf(name: str, label: str, pattern: str, vote: int = POS, unless: str | None = None) -> LabelingFunction:
    return LabelingFunction(name, label, vote, _rx(pattern), _rx(unless) if unless else None)


# --- helpers for the rules that need more than one regex ---------------------------------------------------

_MOVE_VERB = (r"(?:up|down|rose|rises?|fell|falls?|jump\w*|gain\w*|lost|loses|drop\w*|climb\w*|surg\w*|soar\w*"
              r"|plung\w*|sank|sink\w*|tumbl\w*|slid|slides?|slump\w*|rall\w*|declin\w*|spik\w*|rocket\w*|sheds?"
              r"|shedding|higher|lower|advanc\w*|skid\w*|dipp?\w*|dips?)")
_PERCENT_MOVE = re.compile(
    rf"(?:{_MOVE_VERB}\s+(?:by\s+)?(?:more than\s+|over\s+|nearly\s+|about\s+|almost\s+|some\s+|~)?|(?<![\w.])[+-])"
    r"(\d+(?:\.\d+)?)\s?(?:%|pct|percent)")
_PRICE_CONTEXT = re.compile(r"\bshares?\b|\bstocks?\b|premarket|pre-market|after hours|\btrading\b|\bsession\b"
                            r"|\bdebut\b|\$ ?[a-z]{1,5}\b|\bindex\b|\bdow\b|nasdaq|s&p|ftse|\bomx\b|\bdax\b"
                            r"|\bnikkei\b|\bbitcoin\b|\bether\b|\bcrypto|\boil\b|\bcrude\b|\bgold\b")
_RESULT_NOUN = re.compile(r"\b(?:sales|profit|profits|revenue|revenues|orders|eps|income|volumes?|traffic|turnover"
                          r"|earnings|output|exports?|passengers|margin|ebitda?)\b")


def _clause_before(text: str, position: int, width: int = 40) -> str:
    # The words just before a match, back to the last clause break: "orders rise 23%; shares up 20%" keeps them apart.
    window = text[max(0, position - width):position]
    return re.split(r"[;,.:!?]\s|\band\b|\bwhile\b", window)[-1]


_PERCENT_WORD = re.compile(r"%|pct|percent")  # what every percentage move above ends in


_HEADLINE_MOVE = re.compile(rf"^[\w$&.' -]{{1,40}}? {_MOVE_VERB} (?:by )?(?:more than |over |nearly |about |~)?"
                            r"(\d+(?:\.\d+)?)\s?(?:%|pct|percent)")


def _percent_moves(text: str) -> list[float]:
    # Percentages attached to a move verb or a sign, in a sentence about prices rather than results.
    headline = _HEADLINE_MOVE.match(text)
    if headline and not _RESULT_NOUN.search(text[:headline.end()]):
        return [float(headline.group(1))]  # "Athenex up 28% on ...": a headline about the stock
    if not _PRICE_CONTEXT.search(text):
        return []
    moves = []
    for match in _PERCENT_MOVE.finditer(text):
        if _RESULT_NOUN.search(_clause_before(text, match.start())):
            continue
        moves.append(float(match.group(1)))
    return moves


def _big_price_move(text: str) -> bool:
    return any(move >= 8.0 for move in _percent_moves(text))


def _small_price_move_only(text: str) -> bool:
    moves = _percent_moves(text)
    return bool(moves) and max(moves) < 5.0 and not _STRONG_MOVE.search(text)


_STRONG_MOVE = re.compile(r"\b(?:plung\w*|plummet\w*|tumbl\w*|soar\w*|skyrocket\w*|nosediv\w*|crash\w*|sell-?offs?"
                          r"|selloffs?|routs?|slump\w*|sinks?|sinking|sank|rocket(?:s|ed)?|spik(?:e|es|ed|ing)"
                          r"|collaps\w*|surg(?:e|es|ed|ing)|tank(?:s|ed|ing)?)\b")
_MARKET_NOUN = re.compile(r"\b(?:shares?|stocks?|index|indices|dow|nasdaq|s&p|market|markets|prices?|oil|crude"
                          r"|gold|pound|dollar|euro|yen|franc|rouble|ruble|bitcoin|ether|crypto\w*|bonds?|yields?"
                          r"|futures|equities|\$ ?[a-z]{1,5})\b")


def _strong_move_near_market(text: str) -> bool:
    for match in _STRONG_MOVE.finditer(text):
        window = text[max(0, match.start() - 60):match.end() + 40]
        if _MARKET_NOUN.search(window) and not _RESULT_NOUN.search(_clause_before(text, match.start(), 25)):
            return True
    return False


_INDEX_POINTS = re.compile(r"\b(?:dow|s&p|nasdaq)\b.{0,40}?\b(\d{3,4})\s+points")


def _big_index_points(text: str) -> bool:
    return any(int(m.group(1)) >= 400 for m in _INDEX_POINTS.finditer(text))


_RESULT_UP = re.compile(r"\b(?:sales|profit|revenue|revenues|turnover|earnings|income|eps|orders|result)\b.{0,50}"
                        r"\b(?:rose|increased|grew|jumped|surged|climbed|improved|up|doubled|tripled|rocketed"
                        r"|beat\w*)\b")
_ADVERSE = re.compile(r"\b(?:loss\w*|fell|fall\w*|decreas\w*|declin\w*|drop\w*|down|lower|miss\w*|warn\w*|weak\w*"
                      r"|cut\w*|shrank|negative|halved|short)\b")


def _rising_results_only(text: str) -> bool:
    return bool(_RESULT_UP.search(text)) and not _ADVERSE.search(text)


def _fn(name: str, label: str, func: Callable[[str], bool], vote: int = POS,
        needs: re.Pattern[str] | None = None) -> LabelingFunction:
    return LabelingFunction(name, label, vote, None, None, func, needs)


_ANALYST_RATING = (r"\b(?:downgrad\w*|upgrad\w*|started|initiated|reiterat\w*|starts)\b.{0,40}\b(?:to|at)\s+(?:buy"
                   r"|sell|hold|neutral|underperform|outperform|overweight|underweight|equal|market perform"
                   r"|peer perform|sector)\b|price target")
_ROUTINE_FINANCE = (r"\b(?:new|secures?|signed|enters?(?: into)?|extends?|amends?|sets?|agreed|arranged?|closes?)\b"
                    r".{0,40}\b(?:credit facility|revolving|term loan|refinanc\w*)|\brefinanc\w*")

#: Every labelling function, grouped by label in taxonomy order. The word lists are general financial vocabulary
#: written from the annotation guide, then refined on the gold *dev* split only.
LABELING_FUNCTIONS: tuple[LabelingFunction, ...] = (
    # credit
    _lf("credit_insolvency", "credit",
        r"\bbankrupt\w*|chapter (?:11|7)\b|\binsolven\w*|receivership|\badministrators\b|(?:into|enter\w*|in) "
        r"administration\b|\bliquidation\b"),
    _lf("credit_default", "credit",
        r"\bdefault(?:s|ed|ing)?\b|missed (?:an? )?(?:interest |debt |coupon |loan )?payments?|debt restructur\w*"
        r"|restructur\w* (?:its |the |of )?debts?|debt extension|\bcovenants?\b|\bcreditors\b|\bhaircut",
        unless=r"by default|as default|\bthe default\b|default (?:setting|option|browser|search|for)|html"),
    _lf("credit_rating_action", "credit",
        r"\b(?:moody'?s|fitch|s ?& ?p|standard (?:&|and) poor'?s|dbrs|am best)\b.{0,80}\b(?:rat\w*|downgrad\w*"
        r"|upgrad\w*|outlooks?|affirm\w*|assign\w*|junk|watch)\b|credit ratings?"
        # CFR = Moody's corporate family rating; not "(CFR)" nor the Code of Federal Regulations ("17 cfr 240.14d-2")
        r"|(?<!\()(?<!\b\d )(?<!\b\d\d )\bcfr\b(?!\))(?! ?(?:\d|part\b|§|section\b))"
        r"|junk[- ](?:status|territory"
        r"|rating|rated|bonds?)|investment[- ]grade"),
    _lf("credit_bad_loans", "credit",
        r"bad loans|loan[- ]loss\w*|non-?performing|problem loans|credit losses|write-?downs? of (?:loans|receivables)"
        r"|distressed debt"),
    _lf("credit_not_analyst_rating", "credit", _ANALYST_RATING, NEG, unless=r"moody|fitch|s&p|credit|debt|bond"),
    # liquidity
    _lf("liquidity_distress", "liquidity",
        r"going concern|liquidity (?:crisis|crunch|squeeze|problems?|issues?|concerns?|shortfall|shortage|needs|risk"
        r"|trap|drain)|cash (?:crunch|crisis|shortage|squeeze)|cash burn|burn(?:ing|s)? (?:through )?cash|run(?:ning"
        r"|s)? out of (?:cash|money)|short of cash|cash-(?:strapped|needy)|funding (?:squeeze|crisis|gap|problems?"
        r"|stress)|(?:scramble|seek\w*|hunt) for .{0,20}(?:liquidity|cash|funding)|seek liquidity"),
    _lf("liquidity_rescue", "liquidity",
        r"\blifeline\b|rescue (?:deal|package|plan|loans?|financing|effort)|(?:save|rescue) (?:the |an? )?"
        r"(?:\w+ )?(?:airline|carrier|company|bank|lender)|emergency (?:funding|financing|loans?|liquidity|cash)"
        r"|capital injection|bank run"),
    _lf("liquidity_drawdown", "liquidity", r"\bdraws? down|\bdrew down|drawing down|draw down of"),
    _lf("liquidity_balance_sheet", "liquidity",
        r"strengthen\w* (?:its |the |our )?(?:company's )?(?:balance sheet|capital structure|financial position)"
        r"|negative .{0,30}cash flow|cash flow .{0,50}\bnegative\b"),
    _lf("liquidity_not_spam", "liquidity", r"liquidity (?:url|rate_limit|$)|liquidity provid\w*|trading liquidity",
        NEG),
    _lf("liquidity_not_routine_finance", "liquidity", _ROUTINE_FINANCE, NEG,
        unless=r"draw|crunch|stress|rescue|lifeline"),
    # earnings_guidance
    _lf("earnings_warning", "earnings_guidance",
        r"profit warning|\bwarns?\b.{0,30}\b(?:profit|earnings|sales|revenue|results|loss)|(?:q[1-4]|profit|earnings"
        r"|sales) warning|(?:cut|lower\w*|slash\w*|withdr[ae]w\w*|reduc\w*)\b.{0,25}\b(?:guidance|outlook|(?:profit"
        r"|earnings|sales|revenue) forecast)\b|(?:guidance|outlook)\b.{0,20}\b(?:cut|slashed|lowered|withdrawn)"
        r"|(?:expects?|sees|forecasts?|estimates?)\b.{0,80}\b(?:to be (?:slightly )?lower|lower (?:revenue|sales"
        r"|profit)|to (?:decline|fall|decrease))"),
    _lf("earnings_miss", "earnings_guidance",
        r"\bmiss(?:es|ed|ing)?\b.{0,20}\b(?:on )?(?:eps|revenues?|revs|estimates|expectations|forecasts?|consensus"
        r"|targets?)\b|(?:earnings|bottom[- ]line|profit|revenue) miss|fell short|fall short|below (?:expectations"
        r"|estimates|forecasts?|consensus)"),
    _lf("earnings_decline", "earnings_guidance",
        r"\b(?:net sales|sales|revenues?|turnover|profits?|earnings|income|ebit\w*|margins?|orders|volumes?|result"
        r"|eps|deliveries|exports?|output|market share)\b.{0,60}?\b(?:fell|fall|falls|decreas\w*|declin\w*|dropped"
        r"|drops?|down|shrank|slumped|plunged|tumbled|lower|weakened|halved)\b|\b(?:decrease|decline|drop|fall"
        r"|fell)\w* (?:in|of) (?:its )?(?:net )?(?:sales|profits?|revenues?|earnings|orders|output|exports?)"
        r"|\ba (?:decline|drop|decrease) of \d"),
    _lf("earnings_loss", "earnings_guidance",
        r"\b(?:net|operating|pre-tax|pretax|quarterly|special) loss\b|loss per share|\bloss of (?:eur|usd|\$)"
        r"|(?:swung|swings?|turn(?:ed|s)?) to (?:a )?(?:surprise )?loss|loss (?:narrowed|widened)|\bat a loss\b"
        r"|in the red|\bnet losses\b|\bimpairments?\b|write-?downs?",
        unless=r"loss(?:es)? (?:of|in) (?:jobs|lives)|cut loss|stop loss"),
    _fn("earnings_not_rising_results", "earnings_guidance", _rising_results_only, NEG, needs=_RESULT_UP),
    # legal_regulatory
    _lf("legal_lawsuit", "legal_regulatory",
        r"\blawsuits?\b|\bsu(?:e|es|ed|ing)\b|class action|\bcourt\b|\bjudge\b|\bruling\b|litigation|arbitration"
        r"|patent (?:suit|infringement|dispute)|infring\w*|\bsettle(?:s|d|ment)?\b.{0,40}\b(?:probe|case|charges?"
        r"|claims?|suit|lawsuit|investigation|allegations|dispute)|settlement over|legal (?:challenges?|action"
        r"|battle|victory|fight|dispute)|(?:fraud|bribery|corruption|antitrust|criminal) (?:case|trial)"),
    _lf("legal_enforcement", "legal_regulatory",
        r"investigat\w*|\bprobes?\b|subpoena|indict\w*|\bcharged\b|\bcharges\b|prosecut\w*|sentenced|\barrest\w*"
        r"|\bdetain\w*|\bfined\b|\bfines\b|\ba fine\b|penalt\w*|\bsanction\w*|\bcartel\b|\bcriminal\b|scrutiny",
        unless=r"insider trading (?:alerts|updates|news)|(?:taking|restructuring|one-time|special) charges"
        r"|charges into"),
    _lf("legal_regulator", "legal_regulatory",
        r"\b(?:sec|fda|ftc|fcc|doj|cfpb|finra|ntsb|faa|epa|european commission|competition authority|antitrust"
        r"|regulators?|supervisory authority)\b|\bban(?:s|ned|ning)?\b|\blegislation\b|regulations?\b",
        unless=r"regulatory (?:news|announcement)|sec (?:filings?|form)|per sec|form \d|\d+-?k\b"),
    _lf("legal_legislature", "legal_regulatory",
        r"\bcongress\b|\blawmakers\b|\bsenate\b|\bparliament\b|\bnew (?:law|rules?)\b|\bbill\b.{0,20}\b(?:would"
        r"|passed|signed)"),
    # fraud_accounting
    _lf("fraud_fraud", "fraud_accounting",
        r"\bfraud\w*|\bponzi\b|embezzl\w*|\bbrib\w*|corrupt\w*|kickback|money laundering|misconduct|scandal",
        unless=r"fraud detection|fraud (?:prevention|protection)|sex scandal"),
    _lf("fraud_accounting_issue", "fraud_accounting",
        r"accounting (?:irregularit\w*|scandal|issues|problems?|fraud|errors?)|irregularit\w*|\brestat(?:e|es|ed"
        r"|ement|ements)\b|misstat\w*|auditors? (?:resign\w*|quit\w*|refus\w*)|qualified (?:audit )?opinion"
        r"|whistleblower|insider trading (?:case|charges?|probe)",
        unless=r"(?:amend|amends|amended) and restate|restate\w* (?:\w+ )?agreement"),
    _lf("fraud_not_spam", "fraud_accounting", r"insider trading (?:alerts|updates|news)|fraud detection", NEG),
    # operational
    _lf("operational_recall_defect", "operational",
        r"\brecall(?:s|ed)?\b|\bdefect\w*|\bfaulty\b|safety (?:problems?|issues?|concerns?)|\bgrounded\b"),
    _lf("operational_cyber", "operational",
        r"\boutages?\b|\bhack(?:ed|ers?|ing)?\b|cyber ?(?:attack\w*|incident|breach)|cyber(?:security|crim\w*"
        r"|attack\w*)|data[- ]breach"
        r"|\bbreach(?:ed|es)?\b|malware|ransomware|malicious",
        unless=r"\$ ?hack\b|cyber monday"),
    _lf("operational_accident", "operational",
        r"\bfire broke out|\bfires? (?:at|in|broke)|caught fire|\bexplosion|\bblast\b|\baccidents?\b|\bspill\w*"
        r"|derail\w*|(?:plane|jet|airliner|aircraft|max|flight|train|helicopter|car) crash\w*"
        r"|crash(?:es|ed)? (?:of|involving)|stuck in ice"
        r"|\bstorms?\b|hurricane|\bflood\w*|severe weather"),
    _lf("operational_disruption", "operational",
        r"\bstrikes?\b|walkout|work stoppage|industrial action|labou?r dispute|shortage\w*|supply (?:chain )?"
        r"(?:disruption|problems?|shortage)|disruptions?\b|disrupted|production (?:halt\w*|stop\w*|stoppage)"
        r"|halt\w* (?:production"
        r"|operations|output)|\bdelay(?:s|ed)?\b.{0,40}\b(?:deliver\w*|shipments?|production|launch|completion"
        r"|flights?)|(?:deliver\w*|shipments?|worker) .{0,25}\bdelay\w*|postpon\w* .{0,30}deliver\w*|cancel\w* "
        r".{0,20}flights",
        unless=r"(?:air|missile|drone) strikes?|strike price"),
    # market_volatility
    _fn("volatility_big_percent_move", "market_volatility", _big_price_move, needs=_PERCENT_WORD),
    _fn("volatility_strong_move_word", "market_volatility", _strong_move_near_market, needs=_STRONG_MOVE),
    _fn("volatility_index_points", "market_volatility", _big_index_points, needs=_INDEX_POINTS),
    _lf("volatility_terms", "market_volatility",
        r"\bvix\b(?! \$| short| etn| futures etf)|volatility (?:spike|surge|jump)|market volatility"
        r"|bear ?market|correction territory"
        r"|worst (?:day|week|month)|biggest (?:one-day )?(?:drop|fall|gain|jump|decline|faller|riser)|circuit breaker"
        r"|sell-?offs?\b|selloffs?\b|\brout\b|flash crash|market crash|up sharply|down sharply"),
    _fn("volatility_not_small_move", "market_volatility", _small_price_move_only, NEG, needs=_PERCENT_WORD),
    _lf("volatility_not_promo_spam", "market_volatility",
        r"our (?:penny )?stock (?:picks?|alerts?)|our (?:\w+ )?picks?\b|subscribers|newsletter|since our|avg gain"
        r"|in the past \d+ (?:weeks|months)|in less than \d+", NEG),
    _lf("volatility_not_price_target", "market_volatility", r"price target|target (?:raised|cut|lowered)", NEG,
        unless=r"plung|soar|tumbl|crash|sell-?off"),
    # macro
    _lf("macro_central_bank", "macro",
        r"\bfed\b|\bfed's\b|federal reserve|\becb\b|central bank\w*|bank of (?:england|japan|canada)|\bboe\b"
        r"|\bboj\b|\bfomc\b|interest rates?|rate (?:hikes?|cuts?)|basis points|\brepos?\b"
        r"|monetary (?:polic\w*|easing|tightening|stimulus|authorit\w*|union|conditions)"
        r"|quantitative easing|\bimf\b"),
    _lf("macro_economy", "macro",
        r"\beconom(?:y|ic|ies)\b|recession|\bgdp\b|inflation|deflation|unemployment|jobs (?:report|data|growth)"
        r"|job growth|payrolls|jobless|employers added|consumer confidence|retail sales|\bpmi\b|downturn|stimulus"
        r"|fiscal|\btariffs?\b|\btrade (?:war|deal|talks|tensions|agreement)|u\.s\.-china|\bwto\b|brexit"
        r"|\bu\.?k\.?-eu\b|\bsanctions\b|geopolit\w*|\belection\b|\bopec\b|sovereign|\bbailouts?\b|\btax (?:cut|cuts"
        r"|reform|fight|plan|rate|bill|on)\b|(?:raise|cut|higher|lower) taxes|taxes on",
        unless=r"economic (?:development|zone)|economically|economies of scale|election of"),
    _lf("macro_geopolitics", "macro",
        r"(?<!price )\bwar\b|military (?:action|strikes?|conflict|escalation)|air ?strikes?|invasion"
        r"|\bprotest(?:er|ers|s)?\b|\bcoup\b|terror\w*"
        r"|(?:party|election) (?:victory|win)|\bpolls? (?:show|shows)"),
    _lf("macro_fx", "macro",
        r"\bcurrenc(?:y|ies)\b|exchange rates?|\bforex\b|\bfx\b|\brouble|\bruble|\byen\b|sterling|\b(?:the|british) "
        r"pound\b|\bpound (?:falls?|fell|rises?|rose|soars?|slumps?|remains|sinks?)|\bfranc\b|\b[a-z]{3}/[a-z]{3}\b"
        r"|(?:the|weak\w*|strong\w*) (?:dollar|euro)\b",
        unless=r"comparable exchange rates|in local currencies|currency-neutral|\bfund\b|\betf\b|proshares"),
    _lf("macro_commodity", "macro",
        r"oil (?:prices?|output|cuts?|demand|rally|market|production|cargoes|exports?)|\bcrude\b|\bbrent\b|\bwti\b"
        r"|natural gas (?:price|futures)|commodit\w*|gold (?:price|prices|rall\w*)|\bcopper\b|metal prices"
        r"|raw materials? prices|(?:steel|pulp|wood) prices|\boil\b.{0,30}\b(?:rout|plunge\w*|slump\w*|soar\w*)",
        unless=r"\bfund\b|\betf\b|proshares|oil chart"),
    # restructuring
    _lf("restructuring_jobs", "restructuring",
        r"\blay-?offs?\b|laid off|lay(?:ing)? off|temporar\w* lay|job cuts|\bcut\w* .{0,25}\bjobs\b|redundan\w*"
        r"|personnel (?:reductions?|negotiations)|co-?operation negotiations|co-?determination|employment .{0,40}"
        r"terminated|terminate .{0,30}employment|headcount|(?:to be|were|was|been) dismissed|dismissed from"
        r"|\bnegotiations\b.{0,80}\b(?:employ\w*|people|personnel|staff)\b"),
    _lf("restructuring_closure", "restructuring",
        r"\bclos(?:e|es|ed|ing|ure)\b.{0,40}\b(?:plant|mill|factory|stores?|branch\w*|operations|units?|office"
        r"|site|facility|facilities|production)|shut(?:ting|s)? down|closing down|wind(?:ing)? down"),
    _lf("restructuring_programme", "restructuring",
        r"restructur\w*|reorganis\w*|reorganiz\w*|cost[- ](?:cut\w*|savings?|reductions?)|efficiency (?:program\w*"
        r"|measures)|adjustment measures|rationali[sz]ation|streamline|\bcut\w* .{0,30}\b(?:investments|capex"
        r"|capital spending|costs)\b",
        unless=r"debt restructur|restructur\w* (?:its |the |of )?debts?"),
    _lf("restructuring_divest", "restructuring",
        r"divest\w*|spin[- ]?off|carve[- ]?out|discontinued operations|\bsell(?:s|ing)? (?:part of )?(?:its |the )?"
        r"(?:\w+ ){0,4}(?:unit|business|division|operations|subsidiar\w*)|sale of (?:its )?(?:\w+ )?(?:unit|business"
        r"|division|operations)"),
    _lf("restructuring_not_debt", "restructuring", r"debt restructur|restructur\w* (?:its |the |of )?debts?", NEG),
    # m_and_a
    _lf("mna_acquire", "m_and_a",
        r"\bacqui(?:re|res|red|ring|sition|sitions)\b|\bmerg(?:er|ers|e|es|ed|ing)\b|takeover|take-over"
        r"|\bbuyout\b|tender offer|mandatory bid|\bbid for\b|\bm ?& ?a\b|\b(?:deal|agree[sd]?) to (?:buy|sell)"
        r"|\b(?:to|will|would) buy\b.{0,60}\b(?:deal|premium|billion|million|bln|mln)\b|\bbuys?\b.{0,40}\bfor \$",
        unless=r"acquire (?:its )?own shares|acquire (?:\w+ )?funding"),
    _lf("mna_stake", "m_and_a",
        r"\bstakes?\b.{0,10}\b(?:in|of)\b|\b(?:buy|buys|bought|sell|sells|sold|sale of|selling|rais\w*|increas\w*"
        r"|trims?|picks? up|takes?|took|acquire\w*)\b.{0,40}\bstakes?\b|\d+(?:\.\d+)? ?(?:%|pct|percent) stake"
        r"|(?:'s|its|his|her) stake\b|(?:%|pct|percent) of .{0,30}(?:equity|voting rights|share capital)"),
    _lf("mna_not_buyback", "m_and_a", r"(?:own|treasury) shares|buy ?backs?|\brepurchase", NEG,
        unless=r"acquisition|merger|takeover|stake|divest"),
    # management_change
    _lf("mgmt_appoint", "management_change",
        r"\bappoint\w*|\bnamed\b.{0,40}\b(?:ceo|cfo|chief|president|chairman|head|director)\b|\bnames\b.{0,40}"
        r"\b(?:ceo|cfo|chief|president|chairman|director)|\bnew (?:ceo|cfo|chief executive|chairman|president)\b"
        r"|\binterim (?:ceo|cfo|chief|president)|\bsuccessor|\bsucceed\w*|promot\w* .{0,30}(?:ceo|cfo|president"
        r"|chief)|\bbecome (?:the )?(?:new )?(?:chief|ceo|cfo|president|chairman)",
        unless=r"re-?elect|carry on as|will continue as"),
    _lf("mgmt_departure", "management_change",
        r"\bsteps? down|stepping down|\bresign\w*|\bretir(?:e|es|ed|ing)\b|\bquits?\b|\bousts?\b|\bousted\b"
        r"|dismissal of|\bfired (?:ceo|chief)|(?:ceo|cfo|chairman|president|director)\b.{0,20}\b(?:to leave|leaves"
        r"|exits?)\b|departure of|reshuffl\w*|shake-?up|shakes up",
        unless=r"retirement"),
    _lf("mgmt_not_reelection", "management_change", r"re-?elect\w*|carry on as|will continue as", NEG),
    # dividend
    _lf("dividend_action", "dividend",
        r"\b(?:declar\w*|rais\w*|increas\w*|cut\w*|slash\w*|suspend\w*|scrap\w*|omit\w*|propos\w*|pay\w*|lift\w*"
        r"|boost\w*|hike\w*|maintain\w*|special)\b.{0,40}\bdividends?\b|\bdividends?\b.{0,30}\s(?:of|to|cut"
        r"|increase|raise|hike|payment|proposal|per share|a share)\b|ex-dividend|no dividend|distribution cut"
        r"|declares .{0,30}distribution",
        unless=r"dividend (?:stocks?|aristocrats|achievers)\b|for its dividend\b|tax on dividends"),
    _lf("dividend_word", "dividend", r"\bdividends?\b"),
    _lf("dividend_not_listicle", "dividend",
        r"dividend (?:stocks?|aristocrats|achievers|investors?)\b|for its dividend\b|high-yield|dividends? url"
        r"|\bfund dividend|tax on dividends|qualified dividends|dividend yields?|dividend investment", NEG,
        unless=r"\b(?:raise[sd]?|cut|declares?|increase[sd]?|ex-dividend)\b"),
)


def _check_functions(functions: Sequence[LabelingFunction]) -> None:
    names = [lf.name for lf in functions]
    if len(set(names)) != len(names):
        raise ValueError("labelling function names must be unique")
    for lf in functions:
        if lf.label not in RISK_LABELS or lf.vote not in (POS, NEG):
            raise ValueError(f"labelling function {lf.name!r}: bad label {lf.label!r} or vote {lf.vote!r}")


_check_functions(LABELING_FUNCTIONS)


@dataclass
class VoteMatrix:
    """Votes of every labelling function on every text: ``votes[i, j]`` is LF ``j``'s vote on text ``i``."""

    votes: np.ndarray
    functions: tuple[LabelingFunction, ...]

    @property
    def names(self) -> list[str]:
        """The LF names, in column order."""
        return [lf.name for lf in self.functions]

    def columns(self, label: str) -> list[int]:
        """Column indices of the LFs that vote on ``label``."""
        return [j for j, lf in enumerate(self.functions) if lf.label == label]


def lf_votes(texts: Sequence[str], functions: Sequence[LabelingFunction] = LABELING_FUNCTIONS) -> VoteMatrix:
    """Apply every labelling function to every text (the raw vote matrix, for inspection and label models)."""
    if isinstance(texts, str):
        raise DataError("lf_votes expects a list of texts, not a single string")
    functions = tuple(functions)
    prefilter = _prefilter(functions)  # the rules each text could trigger: one scan, not every rule's regex
    votes = np.full((len(texts), len(functions)), ABSTAIN, dtype=np.int8)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise DataError(f"text {i} is {type(text).__name__}, not a string")
        normalized = normalize_for_rules(text)
        for j in prefilter.candidates(normalized):
            votes[i, j] = functions[j](normalized)
    return VoteMatrix(votes, functions)


@functools.lru_cache(maxsize=16)
def _prefilter(functions: tuple[LabelingFunction, ...]) -> Prefilter:
    return Prefilter([function.required_strings() for function in functions])


def majority_vote(matrix: VoteMatrix, labels: Sequence[str] = RISK_LABELS) -> list[list[str]]:
    """Per label, positive when more of its non-abstaining LFs vote POS than NEG (ties and no votes: negative)."""
    out: list[list[str]] = [[] for _ in range(matrix.votes.shape[0])]
    for label in labels:
        cols = matrix.columns(label)
        if not cols:
            continue
        block = matrix.votes[:, cols]
        positive = (block == POS).sum(axis=1) > (block == NEG).sum(axis=1)
        for i in np.flatnonzero(positive):
            out[i].append(label)
    return out
