"""Answers from hits: evidence check, extractive composition with [n] citations, metadata questions."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from . import facts, thresholds
from .clean import is_signature_line
from .query import Query, cjk_pairs, expand, is_foreign, normalise_question
from .split import SECTION_SEP
from .types import DocMeta, Hit
from .words import is_asking_word

MAX_ANSWER_CHARS = 300
# How much a sentence's retrieval rank counts against how much of the question it covers (see evals/RESULTS.md).
PRIOR_WEIGHT = 0.7
# The weight of a sentence's window's similarity to the question (kb/windows.py): among 0, 4, 6, 8 and 12 (measured
# on the users' calibration half and NCP train), the best on NCP dev (seed-dev the same for all; evals/RESULTS.md).
WINDOW_WEIGHT = 6.0
# A sentence whose band the asker's own figure falls in (kb/thresholds.py: 800万 in 「500万元以上的」).
BAND_WEIGHT = 1.0  # chosen on the calibration half among 0.5, 1 and 2 (evals/RESULTS.md, stop 29)
# A follow-up's own new words (「那2030年呢？」 after a question on 2027), as a share of the whole question's weight: a
# sentence holding them answers what the follow-up changes, not the earlier turn again. Chosen on the calibration
# half's follow-ups among 0.5, 1, 2, 3 and 4 (evals/RESULTS.md, stop 32).
OWN_WEIGHT = 2.0
MAX_QUOTE_CHARS = 150
# Sentences quoted for the question as a whole (a question of several parts may add more); a further quote scores
# at least NEXT_QUOTE_RATIO of the best one and covers at least NEXT_QUOTE_COVERAGE of the question. Chosen by
# `python -m evals.fit_quotes` (evals/RESULTS.md): in users' own words the clause asked about is often the second or
# third best sentence and shares few of the question's words, so no coverage floor.
MAX_QUOTES = 3
NEXT_QUOTE_RATIO = 0.75
NEXT_QUOTE_COVERAGE = 0.0
# The head of a hedged answer: the library has passages close to the question, none that answers it directly.
CLOSEST_HEAD = "知识库中没有直接回答这个问题的条文；最接近的是"
REFUSAL = "抱歉，知识库中没有找到能回答这个问题的政策条文，无法给出可靠答复。"
EMPTY_PROMPT = "请输入您想咨询的政策问题，例如：“个人创业担保贷款最多能贷多少？”"
_SENTENCE = re.compile(r"[^。！？；\n]+[。！？；]?")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_ASKS_DOC_NO = re.compile(r"文号|发文字号|字号是")
_ASKS_ADDRESSEES = re.compile(
    r"主送|发给(谁|哪)|下发给|印发给|发到哪|给哪些(单位|部门|地方)|(发|送)给了?(哪些|哪几|什么)"
)
_ADDRESSEE = re.compile(r"^各|人民政府|委员会|各部委|直属机构|有关单位|有关部门|发展改革委")
_WHEN = "什么时候|啥时候|何时|哪天|哪一天|哪年"  # asked before a verb with 什么日期 / 日期 too, after it with 几号
_ASKS_ISSUE = re.compile(
    r"(哪个|哪些|什么|哪一?个?)(部门|单位|机关|机构).{0,6}(印发|发布|出台|下发|制定|发的|签发)|谁(印)?发的|发文机关"
    rf"|({_WHEN}|什么日期|日期).{{0,6}}(印发|出台|签发|成文)"
    r"|(印发|发布|出台|成文)(时间|日期)"
    rf"|(印发|出台|签发|成文)的?(是|于|在)?({_WHEN}|几号|什么日期)"
)
# Said of money, cards and lists as well (「补贴什么时候下发」「社保卡什么时候发」「名单什么时候发布」): a document's
# date when the question names a document, or points at the one just quoted (「这个什么时候发的」「是哪天发布的」)
# and speaks of no money.
_ASKS_RELEASED = re.compile(
    rf"({_WHEN}|什么日期|日期).{{0,6}}(发布|下发|发的)|(发布|下发)的?(是|于|在)?({_WHEN}|几号|什么日期)"
)
_POINTS_BACK = re.compile(r"这个|那个|这份|那份|这是|该|此|它")
_MONEY = re.compile(r"补贴|补助|资金|钱|工资|奖金|奖励|待遇|贷款|社保|保险金|失业金|养老金|费用|经费")
# Asked of a document the question names: 「补贴发给谁」 asks who benefits, 「那份意见是下发给哪些单位的」 its 主送;
# 「项目什么时候定下来」 is not a document's date, 「那份意见啥时候定下来的」 is.
_NAMES_DOCUMENT = re.compile(r"通知|意见|方案|文件|办法|清单|规定|决定|那份|这份|该文|号文|〔\d{4}〕\d+号")
_ASKS_SIGNED = re.compile(rf"({_WHEN}).{{0,6}}(签的|签署|定下来|定的)|落款.{{0,4}}({_WHEN}|日期|时间|几号)")
# What a question may call a document, most specific first (「指导意见」 is not a 「实施意见」), and the national
# issuers it may name (国办 is 国务院办公厅): a title that has neither is another document.
# Only what titles end with: 规定 / 办法 / 决定 are everyday words too (「按什么办法执行」).
_DOC_KIND = re.compile(r"指导意见|实施意见|若干意见|实施方案|意见|通知|方案|清单")
_ISSUERS = (
    ("国务院办公厅", re.compile(r"国务院办公厅|国办(?!发)")),
    ("国务院", re.compile(r"国务院(?!办公厅|扶贫|国资|部署|常务|各部|有关|参事|研究|发展研究)")),
)

Tokenize = Callable[[str], list[str]]
Idf = Callable[[str], float]


@dataclass(frozen=True)
class Evidence:
    """How well the best hits support an answer: the refusal decision is made on these."""

    dense_top: float  # cosine similarity of the best dense hit
    lexical_support: float  # BM25 score of the best lexical hit over the IDF mass of the question's terms
    coverage: float  # IDF-weighted share of the question's terms found in the best sentence


@dataclass(frozen=True)
class ScoredSentence:
    hit: Hit
    text: str
    score: float
    coverage: float


@lru_cache(maxsize=4096)
def token_set(tokenize: Tokenize, text: str) -> frozenset[str]:
    """A text's tokens as a set, cached: the same sentences are scored for the ranked and the fused order of every
    question, and again for the next question that finds them."""
    return frozenset(tokenize(text)) if text else frozenset()


_bigrams = cjk_pairs


def split_sentences(text: str) -> list[str]:
    return [m.group(0).strip() for m in _SENTENCE.finditer(text) if m.group(0).strip()]


_HEADING = re.compile(
    r"^([一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[）)]|\d{1,2}[.．、]|第[一二三四五六七八九十百\d]+[章节条])"
)
_ASKS_AMOUNT = re.compile(r"多少|(?<![哪这那])几[个项条年月天岁%]|最高|最多|最低|最少|上限|额度|比例|标准是|金额")
_AMOUNT = re.compile(r"\d+(\.\d+)?\s*(万元|亿元|元|%|％|个|年|岁|人|倍|个月|日|天|小时)")


# The tag that closes a measure with who carries it out (「（人力资源社会保障部、医保局负责）」) is no quote of its
# own (「医保是不是还得自己交」 shares only 医保 with it; alone it says nothing of which measure it closes): a question
# on which department is responsible gets it beside the measure it closes (compose).
_DUTY_TAG = re.compile(
    r"^[（(][^（）()]{2,80}负责[^（）()]{0,30}(?:[）)][。；]?|。)$|^[^（()]{0,30}牵头单位[^（()]{0,10}[）)]"
)
_DUTY_TAG_IN = re.compile(r"[（(][^（）()\n]{2,80}负责[^（）()\n]{0,30}[）)]")
_ASKS_RESPONSIBLE = re.compile(
    # not where one applies (「要去哪个部门申请」 asks for an office, kb/facts.py)
    r"负责|牵头|主管|归谁|谁(?:来)?管|(?<![去到在向找])(?:哪个|哪些|什么|啥)(?:部门|单位|机关)(?![^，。？?]{0,4}(?:申请|办|交|登记|报|领))"
    r"|responsib|in charge|which (?:department|agenc)",
    re.I,
)


def _is_duty_tag(sentence: str) -> bool:
    """The tag, or a piece of it the sentence split cut at its 。 (「（人力资源社会保障部、财政部负责。」「列第一位者为
    牵头单位，下同）」)."""
    return bool(_DUTY_TAG.match(sentence))


def _duty_after(quote: str, hit: Hit) -> str:
    """The tag that closes the measure `quote` is from: the first in its paragraph after it, else ""."""
    text = hit.chunk.text
    at = text.find(quote.strip("…").split("……")[0])
    if at < 0:
        return ""
    end = text.find("\n", at)
    m = _DUTY_TAG_IN.search(text, at, len(text) if end < 0 else end)
    return m.group(0) if m else ""


def _is_heading(sentence: str) -> bool:
    """A bare heading (一、总体要求); not one that carries its text (四、劳动节：5月1日放假。)."""
    core = sentence.rstrip("。；：:")
    return bool(_HEADING.match(sentence)) and len(sentence) <= 32 and "，" not in core and not re.search("[：:]", core)


_ASKS_TIME = re.compile(r"什么时候|何时|哪天|哪一?年|截止|期限|多久|多长时间|几号|几月|到哪(?:年|天|一天|个月|日)")
_TIME = re.compile(r"\d{4}年|\d{1,2}月|年底|年前|年末|之日起|\d+日内|个工作日|每年|每\d年|\d+年内")


Windows = Callable[[Hit], list[tuple[str, float]]]  # a hit's sentence windows with their similarity to the question


def sentence_features(
    query: Query, hits: list[Hit], tokenize: Tokenize, idf: Idf, top: int = 6, windows: Windows | None = None
) -> list[tuple[Hit, str, dict[str, float]]]:
    """(hit, sentence, features) for every sentence of the top hits but headings: how much of the question it
    covers (IDF-weighted words, policy terms counting; character pairs), how good its passage is, whether it holds
    the kind of fact asked for (a number, a date), and how close in meaning the window holding it is to the question
    (`windows`, kb/windows.py; else, or for a sentence no window holds, its passage's similarity)."""
    q_tokens = set(tokenize(query.text))
    weights = {t: idf(t) for t in q_tokens}
    total = sum(weights.values()) or 1.0
    # A word covered through its policy-term synonym (创投 → 创业投资) counts as covered.
    alternatives = {t: set(tokenize(expand(t))) - {t} for t in q_tokens}
    q_bigrams = _bigrams(query.text)
    # The kind of fact asked for (kb/facts.py: 「利率是多少」 wants a rate, not any figure); the broader patterns
    # when the question names no kind (「最高」「期限」).
    kinds = facts.asked(query.text)
    value_kinds = figure_values(kinds)
    time_kinds = [k for k in kinds if k in _TIMES]
    wants_number = bool(value_kinds or _ASKS_AMOUNT.search(query.text))
    wants_time = bool(time_kinds or _ASKS_TIME.search(query.text))
    held_times = ["deadline"] if "deadline" in time_kinds else time_kinds  # a signing date does not answer 截止
    said = thresholds.stated(query.text)
    best_fused = hits[0].score if hits else 1.0
    # the words a follow-up adds to the question it joins (its query text is the earlier question, then its own)
    own_text = normalise_question(query.original) if query.rewritten else ""
    joined = query.text[: -len(own_text)] if own_text and query.text.endswith(own_text) else ""
    earlier = set(tokenize(joined))
    earlier_subject = {t for t in earlier if len(t) >= 2 and not is_asking_word(t)}
    new_tokens = {t for t in set(tokenize(own_text)) - earlier if len(t) >= 2 and not is_asking_word(t)}
    new_tokens = {t for t in new_tokens if not any(t != o and t in o for o in new_tokens)}  # 非营利性, not 营利性
    new_weights = {t: idf(t) for t in new_tokens}
    new_alternatives = {t: set(tokenize(expand(t))) - {t} - earlier for t in new_tokens}
    out = []
    for hit in hits[:top]:
        held = [("".join(w.split()), sim) for w, sim in windows(hit)] if windows is not None else []
        for i, sentence in enumerate(split_sentences(hit.chunk.text)):
            if _is_heading(sentence) or is_signature_line(sentence):
                continue  # the section label already says it, or it signs the circular off: nothing to quote
            if _is_duty_tag(sentence):
                continue  # quoted with the measure it closes, for a question on who is responsible (compose)
            s_tokens = token_set(tokenize, sentence)
            has_number = (
                all(facts.holds(sentence, k) for k in value_kinds) if value_kinds else bool(_AMOUNT.search(sentence))
            )
            has_time = any(facts.holds(sentence, k) for k in held_times) if held_times else bool(_TIME.search(sentence))
            values = {
                "token_cov": sum(w for t, w in weights.items() if t in s_tokens or alternatives[t] & s_tokens) / total,
                "bigram_cov": len(q_bigrams & _bigrams(sentence)) / len(q_bigrams) if q_bigrams else 0.0,
                "prior": hit.score / best_fused if best_fused else 0.0,
                "first": 1.0 if i == 0 else 0.0,
                "dense": hit.dense or 0.0,
                "number": float(wants_number and has_number),
                "no_number": float(wants_number and not has_number),
                "time": float(wants_time and has_time),
                "no_time": float(wants_time and not has_time),
                "window": _window_of(sentence, held, hit.dense or 0.0),
                "band": 1.0 if thresholds.met(said, sentence) else 0.0,
                # the share of the question's weight the follow-up's new words hold that the sentence has
                # (in a sentence on the earlier subject too: 农民工 alone pulls the list of approvals' 农民工工资保证金)
                "own": sum(w for t, w in new_weights.items() if t in s_tokens or new_alternatives[t] & s_tokens) / total
                if earlier_subject & s_tokens
                else 0.0,
            }
            out.append((hit, sentence, values))
    return out


def _window_of(sentence: str, held: list[tuple[str, float]], passage: float) -> float:
    """The similarity of the best window holding `sentence` (whitespace ignored), else the passage's best window's
    (else, with none stored, the passage's own similarity)."""
    core = "".join(sentence.split())
    return max((sim for text, sim in held if core in text), default=max((sim for _t, sim in held), default=passage))


def score_sentences(
    query: Query, hits: list[Hit], tokenize: Tokenize, idf: Idf, top: int = 6, windows: Windows | None = None
) -> list[ScoredSentence]:
    """Every sentence of the top hits, best first: how much of the question it covers, how good its passage is,
    whether it holds the kind of fact asked for (weights chosen on seed-dev; logistic models fitted on NCP train and
    the calibration half did no better on the dev sets, `python -m evals.fit_sentences`, evals/RESULTS.md), and how
    close its window is in meaning (WINDOW_WEIGHT)."""
    scored: list[ScoredSentence] = []
    for hit, sentence, v in sentence_features(query, hits, tokenize, idf, top, windows):
        scored.append(ScoredSentence(hit, sentence, hand_score(v), sentence_coverage(v)))
    return sorted(scored, key=lambda s: -s.score)


def sentence_coverage(v: Mapping[str, Any]) -> Any:
    """How much of the question a sentence covers, from its features (numbers, or arrays of them in evals)."""
    return 0.6 * v["token_cov"] + 0.4 * v["bigram_cov"]


def hand_score(v: Mapping[str, Any]) -> Any:
    """A sentence's score from its features (sentence_features; numbers, or arrays of them in evals/fit_sentences)."""
    score = sentence_coverage(v) + PRIOR_WEIGHT * v["prior"] + 0.1 * (v["number"] + v["time"])
    score = score + WINDOW_WEIGHT * v["window"]
    return score + (BAND_WEIGHT * v["band"] + OWN_WEIGHT * v["own"])


def evidence(hits: list[Hit], sentences: list[ScoredSentence], query_mass: float) -> Evidence:
    """`query_mass`: the summed IDF of the searched terms, so that BM25 becomes "how much of the question matched"."""
    dense = [h.dense for h in hits if h.dense is not None]
    lexical = [h.lexical for h in hits if h.lexical is not None]
    return Evidence(
        dense_top=max(dense, default=0.0),
        lexical_support=max(lexical, default=0.0) / query_mass if query_mass > 0 else 0.0,
        coverage=max((s.coverage for s in sentences), default=0.0),
    )


def _trim(sentence: str, q_bigrams: set[str], limit: int = MAX_QUOTE_CHARS) -> str:
    """Keep the run of clauses that carries the question's words, within `limit` characters."""
    sentence = sentence.rstrip("。；;！？")
    if len(sentence) <= limit:
        return sentence
    clauses = re.split(r"(?<=[，、：])", sentence)
    best, best_score = (0, 1), -1.0
    for i in range(len(clauses)):
        length = 0
        for j in range(i, len(clauses)):
            length += len(clauses[j])
            if length > limit:
                break
            score = len(q_bigrams & _bigrams("".join(clauses[i : j + 1]))) - 0.001 * length
            if score > best_score:
                best, best_score = (i, j + 1), score
    text = "".join(clauses[best[0] : best[1]]).rstrip("，、：")
    if not text:
        text = sentence[:limit]
    prefix = "……" if best[0] > 0 else ""
    suffix = "……" if best[1] < len(clauses) else ""
    return prefix + text + suffix


def _section_label(hit: Hit) -> str:
    return hit.chunk.section.split(SECTION_SEP)[-1] if hit.chunk.section else ""


def _source_phrase(hit: Hit) -> str:
    meta = hit.chunk.meta
    phrase = f"《{meta.title}》"
    if meta.doc_no:
        phrase += f"（{meta.doc_no}）"
    label = _section_label(hit)
    if label:
        phrase += f"“{label}”"
    return phrase


def _expand(sentences: list[str], index: int) -> str:
    """A very short sentence says little alone: take the next one with it."""
    text = sentences[index]
    following = sentences[index + 1] if index + 1 < len(sentences) else ""
    # (not a parenthesis the source's own 。 broke: 「（人力资源社会保障部、财政部负责。列第一位者为牵头单位）」)
    broken = following.startswith(("（", "(")) and not following.rstrip("。；").endswith(("）", ")"))
    if len(text) < 16 and following and not (_is_heading(following) or is_signature_line(following) or broken):
        text = text.rstrip("。；") + "，" + following
    return text


# A part that asks how a sum is set (「补多少是怎么定的」「按什么给」), and a clause that says by what it is set
_ASKS_BASIS = re.compile(
    r"[补给发贴奖退]\S{0,4}?(?:怎么|咋|如何)(?:定|算|核定|确定|计算)|按(?:什么|啥)(?:标准)?[给发补算定奖]"
    r"|(?:标准|金额|数额)(?:是)?(?:怎么|咋|如何)(?:定|算|确定)"
)
_BASIS = re.compile(
    r"根据[^。；]{0,40}(?:确定|核定|给予[^。；]{0,8}(?:补|奖))|按照?[^。；]{0,30}(?:确定|计算|核定)|综合确定"
    r"|由[^。；]{0,12}确定|标准(?:由|按|根据)"
)
_BASIS_NAMED = re.compile(r"按(?:什么|啥)([\u4e00-\u9fff]{2,4}?)(?:交|给|算|发|补|定|收|缴|来|$)")


def _sets_basis(quote: str, part: str, words: set[str]) -> bool:
    """`quote` says by what a sum is set (根据…确定, 按…计算) of what the part speaks of (two pairs of characters:
    补贴 alone may be another subsidy's); the basis the part names
    (「按什么基数交」: 基数) must be in it — 「返还标准可按6个月的…确定」 does not say a contribution base."""
    named = _BASIS_NAMED.search(part)
    if named and named.group(1) not in quote:
        return False
    return bool(_BASIS.search(quote)) and len(words & _bigrams(quote)) >= 2


# A sentence that only leads into what follows (「为此，提出以下意见：」「有关事项通知如下：」) says nothing to quote
_LEAD_IN = re.compile(r"^.{0,16}(?:提出|通知|意见|事项|要求)[^，。；：:]{0,4}(?:如下|以下)[^，。；：:]{0,6}[：:]$")


def compose(
    query: Query,
    hits: list[Hit],
    sentences: Sequence[ScoredSentence],
    k: int,
    hedged: bool = False,
    doc_text: Callable[[str], str | None] | None = None,
) -> tuple[str, list[Hit]]:
    """An extractive answer of about MAX_ANSWER_CHARS with [n] markers, and the hits in citation order; `hedged`
    (the gate's closest) says first that no passage answers the question directly.

    The answer addresses the question: a yes/no question is answered 可以 / 不可以 / 文件未明确 first, a question of
    several parts gets a quote for each part the passages cover and a plain 「未作具体规定」 for each they do not,
    and a question for a figure or a date that the quotes do not hold says so. An English question gets a one-line
    English lead; the quotes stay in Chinese.
    """
    q_bigrams = _bigrams(query.text)
    asked = normalise_question(query.original)  # this turn's own words (query.text may carry the previous turn's)
    cited: list[Hit] = []
    quotes: list[tuple[int, str, Hit]] = []  # (citation number, quote, hit)
    best = sentences[0].score if sentences else 0.0
    for candidate in sentences:
        if len(quotes) == MAX_QUOTES or candidate.score < NEXT_QUOTE_RATIO * best:
            break
        if (quotes and candidate.coverage < NEXT_QUOTE_COVERAGE) or _LEAD_IN.match(candidate.text):
            continue
        if any(candidate.text in q or q.strip("…") in candidate.text for _n, q, _h in quotes):
            continue
        if not _add_quote(candidate, q_bigrams, cited, quotes):
            break
    uncovered: list[str] = []
    all_parts = question_parts(asked)
    subject = _bigrams(all_parts[0]) - _ASKING_BIGRAMS if all_parts else set()
    for part in all_parts[1:]:  # the later parts of a question of several
        part_bigrams = _bigrams(part) - _ASKING_BIGRAMS
        kinds = facts.asked(part)
        # a part of a word or two (「…能退回来一点吗？退多少？」) speaks of the first part's subject
        about = subject if len(set(part) - _ASKING_CHARS) <= 2 else part_bigrams
        if kinds and all(_holds_near(quotes, kind, part_bigrams | about, part) for kind in kinds):
            continue  # 「教材又是几年一换？」 after 「每3年修订1次教材」: the figure asked is quoted by its subject
        if _ASKS_BASIS.search(part) and any(_sets_basis(q, part, about | part_bigrams) for _n, q, _h in quotes):
            continue  # 「补多少是怎么定的？」 beside 「补助标准根据家庭困难程度、地区消费水平等综合确定」
        if not part_bigrams or any(len(part_bigrams & _bigrams(q)) / len(part_bigrams) >= 0.3 for _n, q, _h in quotes):
            continue
        match = max(sentences, key=lambda c: len(part_bigrams & _bigrams(c.text)), default=None)
        if (
            len(quotes) >= 4
            or match is None
            or len(part_bigrams & _bigrams(match.text)) / len(part_bigrams) < 0.3
            or not _add_quote(match, part_bigrams, cited, quotes)
        ) and not _quoted_otherwise(part, kinds, subject, quotes):
            uncovered.append(part)
    if not _ASKS_RESPONSIBLE.search(asked):
        # a tag glued to a sentence (「所需资金由失业保险基金列支，（人力资源社会保障部、财政部负责）」) is no part
        # of what answers another question
        quotes = [(n, _DUTY_TAG_IN.sub("", q).rstrip("，,") or q, h) for n, q, h in quotes]
    elif quotes and not any("负责" in q for _n, q, _h in quotes):
        # 「稳岗返还是哪个部门牵头负责的？」: the measure quoted, with the tag naming who carries it out
        n, quote, hit = quotes[0]
        if tag := _duty_after(quote, hit):
            quotes[0] = (n, f"{quote}{tag}", hit)
    listed = _listed_rows(asked, quotes, hits, cited, doc_text)
    parts = _list_lines(listed, quotes, cited, hedged) if listed else _quote_lines(quotes, cited, hedged)
    used = {h.chunk.id for h in cited}
    notes = [] if hedged else _unanswered_parts(asked, [q for _n, q, _h in quotes])
    notes += [] if hedged else [f"关于“{part}”，所引条文未作具体规定。" for part in uncovered]
    notes += [] if hedged else _band_note(query.text, quotes)
    lead = "" if hedged else _yes_no_lead(asked, [q for _n, q, _h in quotes])
    text = lead + "".join(parts) + "".join(notes)
    if is_foreign(query.original):
        text = (ENGLISH_CLOSEST if hedged else ENGLISH_LEAD) + "\n" + text
    related = [h for h in hits if h.chunk.id not in used][: max(0, k - len(cited))]
    if related:
        markers = "".join(f"[{len(cited) + i + 1}]" for i in range(len(related)))
        text += f"\n相关条文：{markers}"
    return text, cited + related


MAX_LISTED = 30  # rows of one group an answer lists at most


@dataclass(frozen=True)
class _Listed:
    name: str  # the group (an approval) whose rows are listed
    rows: list[tuple[int, str]]  # (citation number, the row after the group's name)
    more: int  # rows of the group in the document that no retrieved passage holds
    spared: bool  # only the papers that may come later (容缺材料) are listed


def _listed_rows(
    question: str,
    quotes: list[tuple[int, str, Hit]],
    hits: list[Hit],
    cited: list[Hit],
    doc_text: Callable[[str], str | None] | None,
) -> _Listed | None:
    """A question asking which papers (「办取水许可要交哪些材料？」) whose first quote is a row of a list
    (kb/pdftable.py: 「取水许可审批：取水许可申请书，主审材料。」) gets every row of that group the retrieved passages
    hold, in the document's order — only the 容缺 ones when it asks which may come later — and the number of the
    group's rows in the document that none holds (each row names its group, so its passages are found together)."""
    if not quotes or "materials" not in facts.asked(question) or not (rows := _rows(quotes[0][1])):
        return None
    name, first = rows[0][0], quotes[0][2]
    spared_only = bool(_LATER.search(question))

    def row_of(line: str) -> str | None:  # the row after the group's name, when `line` is one the question wants
        row = line[len(name) + 1 :].rstrip("。") if line.startswith(f"{name}：") else None
        return row if row is not None and (row.endswith(_SPARED) or not spared_only) else None

    found: dict[str, Hit] = {}
    for hit in sorted((h for h in hits if h.chunk.doc_id == first.chunk.doc_id), key=lambda h: h.chunk.seq):
        for sentence in split_sentences(hit.chunk.text):
            if (row := row_of(sentence)) is not None:
                found.setdefault(row, hit)
    if len(found) <= 1:
        return None
    text = doc_text(first.chunk.doc_id) if doc_text is not None else None
    in_document = {row for line in (text or "").split("\n") if (row := row_of(line)) is not None}
    listed = [(_cite(hit, cited), row) for row, hit in list(found.items())[:MAX_LISTED]]
    return _Listed(name, listed, len(in_document - set(found)) + max(0, len(found) - MAX_LISTED), spared_only)


def _list_lines(listed: _Listed, quotes: list[tuple[int, str, Hit]], cited: list[Hit], hedged: bool) -> list[str]:
    """The rows as a numbered list under their group, after the source."""
    opening = CLOSEST_HEAD if hedged else "根据"
    kind = "可容缺后补的材料" if listed.spared else "的申请材料"
    count = f"共{len(listed.rows)}项" if not listed.more else f"以下{len(listed.rows)}项见于所引条文"
    items = "；".join(f"{i}. {row}[{n}]" for i, (n, row) in enumerate(listed.rows, start=1))
    more = f"清单中该事项另有{listed.more}项，请查看原文。" if listed.more else ""
    return [f"{opening}{_source_phrase(quotes[0][2])}，{listed.name}{kind}{count}：{items}。{more}"]


def _band_note(question: str, quotes: list[tuple[int, str, Hit]]) -> list[str]:
    """Which band of the quotes the asker's own figure falls in (「按您说的800万，适用所引条文中“500万元以上”的
    规定[1]。」), from the first quote that sets one it meets; a figure no quoted band takes is left unremarked (the
    band may be someone else's: a parent's 30岁 against 「3岁以下婴幼儿」)."""
    said = thresholds.stated(question)
    for number, quote, _hit in quotes:
        for q, bands in thresholds.bands_met(said, quote):
            # every band of the quote it meets: 「16周岁以上、不超过35周岁」
            words = "、".join(dict.fromkeys(b.words for b in bands))
            return [f"按您说的{q.words}，适用所引条文中“{words}”的规定[{number}]。"]
    return []


_ASKING_CHARS = set("多少几怎么什哪是否能可以吗呢最长短高低久要的了呀啊")


# Characters of asking and pointing, not of a subject (谁, 啥, 咋, 又 …): a part with at most two others is short
_PART_ASKING = _ASKING_CHARS | set("谁啥咋儿又那这个些吧嘛还也到在想和完过着")  # 完 / 过 / 着 mark aspect
_ASKING_RUN = re.compile(f"[{''.join(sorted(_PART_ASKING))}]+")
_NUMBER = re.compile(r"(?<![\d.])\d+(?:\.\d+)?(?![\d.])")


def _quoted_otherwise(part: str, kinds: tuple[str, ...], subject: set[str], quotes: list) -> bool:
    """A later part that shares too few pairs of characters with any quote is still answered by one: it names a year
    or a figure the quote holds and asks nothing else (「到2030年要达到什么程度？」 beside 「到2030年，…」); it is a
    character or two besides asking (「怎么备？」 beside 「…备案」, `subject`: the first part's pairs); or what it says
    of its subject beyond the first part's words, its words of asking aside, is in a quote (「想重点带动的又是哪些人」:
    重点, 带动) — unless it asks a kind of fact, which `_holds_near` has found in no quote (「去哪儿申请」: an
    office)."""
    if _NUMBER.search(part):  # 「到2025年呢？」 is not answered by 当年 or 达到; 「实习6个月有工资吗」 not by 6个月
        return _names_figures_quoted(part, subject, quotes)
    if _short_part_quoted(part, subject, quotes):
        return True
    content = _content_pairs(part) - subject  # 「托育机构的消防验收又怎么弄」 does not share 托育机构 alone
    if not kinds and len(content) == 1:  # 「登记完还要备案吗？」 after 「…托育机构，去哪里登记？」: 备案 by 托育机构
        return any(_in_clause(q, lambda c: content & _bigrams(c), subject) for _n, q, _h in quotes)
    return not kinds and any(_shares_most(content, _bigrams(q)) for _n, q, _h in quotes)


def _content_pairs(text: str) -> set[str]:
    """Pairs of characters within the runs of `text` that hold no character of asking or pointing: what a part says
    of its subject (「到2030年要达到什么程度」: 达到, 程度)."""
    pairs: set[str] = set()
    for run in re.split(r"[^\u4e00-\u9fff]+", text):
        for piece in _ASKING_RUN.split(run):
            pairs |= cjk_pairs(piece)
    return pairs - _ASKING_BIGRAMS


def _shares_most(pairs: set[str], quoted: set[str]) -> bool:
    """Two of `pairs` at least, and three in ten of them, are `quoted`: one pair in common (条件, 小区, 学生) says
    little."""
    common = len(pairs & quoted)
    return common >= 2 and common >= 0.3 * len(pairs)


# What a part asks of a year or a target besides naming it (「到2030年要达到什么程度」): nothing more than the figure
_ASKS_HOW = re.compile(r"怎么|咋|如何|谁|哪")
_GOAL_PAIRS = {"达到", "做到", "程度", "目标", "水平", "要求", "样子", "情况", "分别"}
_FIGURE_WORD = re.compile(r"\d+(?:\.\d+)?\s*(?:[年月日万元个所岁人项家倍%％亿]|周岁|个月)*")


def _names_figures_quoted(part: str, subject: set[str], quotes: list) -> bool:
    """A part that names figures (a year, a sum) is covered by a quote that holds every one of them when it asks
    nothing else of them that the quote, the first part (`subject`) or a target's words do not hold: 「到2030年要达到
    什么程度？」 by 「到2030年，…」, but not 「实习6个月有工资吗？」 by 「顶岗实习时间一般为6个月」."""
    numbers = set(_NUMBER.findall(part))
    if _ASKS_HOW.search(part):  # 「90%是怎么算的」「20%谁来出」 ask more than the figure
        return False
    rest = _content_pairs(_FIGURE_WORD.sub("，", part)) - subject - _GOAL_PAIRS
    return bool(numbers) and any(numbers <= set(_NUMBER.findall(q)) and not rest - _bigrams(q) for _n, q, _h in quotes)


def _short_part_quoted(part: str, subject: set[str], quotes: list) -> bool:
    """A part of a character or two besides asking (「怎么备？」「归谁查？」「看什么给？」) is covered by a clause
    that holds one of them and a pair of the first part's subject (`subject`)."""
    own = {ch for ch in part if _CJK.match(ch)} - _PART_ASKING
    if not own or len(own) > 2:
        return False
    return any(_in_clause(q, lambda c: own & set(c), subject) for _n, q, _h in quotes)


def _holds_near(quotes: list, kind: str, words: set[str], part: str = "") -> bool:
    """A clause of the quotes names a figure of `kind` and shares a pair of characters with `words` (「签订1年以上
    劳动合同」 does not answer 「贴息期限多长」); or a quote does and shares a character of the part that is not one of
    asking (「最多贷多少？」 beside 「…创业担保贷款，额度最高15万元」)."""
    own = {ch for ch in part if _CJK.match(ch)} - _ASKING_CHARS
    # a part of a character or two (「贴多少？」) that the quotes name elsewhere (贴息资金) asks the figure of that:
    # the loan's 15万元 ceiling, in a clause without it, does not answer it
    named = own & set("".join(q for _n, q, _h in quotes)) if len(own) <= 2 else set()
    # a figure that says whom a grant is for does not answer how much it is
    stated = [facts.without_conditions(q, part) for _n, q, _h in quotes]
    if any(_in_clause(q, lambda c: facts.holds(c, kind) and (not named or named & set(c)), words) for q in stated):
        return True
    return bool(own) and any(facts.holds(q, kind) and own & set(q) for q in stated)


def _add_quote(candidate: ScoredSentence, q_bigrams: set[str], cited: list[Hit], quotes: list) -> bool:
    """Quote `candidate` (cited by its passage's number, a new one if the passage is not cited yet); False when it
    would make the answer too long."""
    all_sentences = split_sentences(candidate.hit.chunk.text)
    index = all_sentences.index(candidate.text) if candidate.text in all_sentences else 0
    quote = _trim(_expand(all_sentences, index), q_bigrams)
    if quotes and sum(len(q) for _n, q, _h in quotes) + len(quote) > MAX_ANSWER_CHARS:
        return False
    quotes.append((_cite(candidate.hit, cited), quote, candidate.hit))
    return True


def _cite(hit: Hit, cited: list[Hit]) -> int:
    """The citation number of `hit`'s passage: its place among `cited`, where it is added if not cited yet."""
    known = next((n for n, h in enumerate(cited, start=1) if h.chunk.id == hit.chunk.id), None)
    if known is None:
        cited.append(hit)
        known = len(cited)
    return known


def _quote_lines(quotes: list[tuple[int, str, Hit]], cited: list[Hit], hedged: bool) -> list[str]:
    lines = []
    for i, (n, quote, hit) in enumerate(quotes):
        if i == 0:
            opening = CLOSEST_HEAD if hedged else "根据"
            lines.append(f"{opening}{_source_phrase(hit)}：{quote}[{n}]。")
        elif hit.chunk.id == quotes[0][2].chunk.id or hit.chunk.doc_id == cited[0].chunk.doc_id:
            label = _section_label(hit)
            where = f"“{label}”" if label and label != _section_label(cited[0]) else ""
            lines.append(f"该文件{where}还提到：{quote}[{n}]。")
        else:
            lines.append(f"另据{_source_phrase(hit)}：{quote}[{n}]。")
    return lines


# Character pairs of asking, not of a subject: they make no part of a question covered.
_ASKING_BIGRAMS = {"怎么", "么算", "什么", "多少", "哪些", "哪个", "是否", "能否", "可以", "如何", "有没", "没有"}
_PART_SPLIT = re.compile(r"[？?]+|[；;]|[，,](?:以及|同时)[，,]?")
# 「最多能贷多少，还有利息怎么算？」 asks two things; 「还有算法歧视这些毛病，…」「我公司倒闭了，还有补贴能领吗？」
# 「还用不用另外找人…」 one: 还有 / 另外 begin a part only between two pieces that each ask something
_ALSO = re.compile(r"[，,]?(?:还有|另外)[，,]?")
_ASKS_SOMETHING = re.compile(r"怎么|多少|什么|啥|哪|几|吗|呢|是否|如何|[能会要有是]不")
_YES_NO = re.compile(
    r"能不能|可不可以|可以不可以|是不是|会不会|能否|是否|有没有|要不要|用不用|算不算|行不行|"
    r"(可以|能|会|允许|享受|支持|纳入|算).{0,24}[吗嘛][？?]?$"
)
_DENIES = re.compile(
    r"不得|禁止|严禁|不予|不允许|不能|(?<!缺一)(?<![密])不可(?!抗|或缺|替代|分割|逆|少|撤销|避免|估量|忽视|思议)"
)
# A clause that grants: 可 before what it lets be done (可返还, 可在常住地申请, 可免试), not inside a word (可能,
# 可持续, 可行性, 可支配, 不可, 认可); the chance it opens (创造…机会; not 提供: 「提供担保的贷款」)
_GRANTS = re.compile(
    r"(?<![不许认宁无])可(?!能|是|见|行|持续|视|控|靠|信|比|乘|怕|惜|口|爱|观|喜|谓|循|用|溯|及|支配|复制|推广|再生)"
    r"|鼓励|支持|允许|给予|予以|享受|纳入|同等|聚焦(?!不够|不足|不准)|创造[^，。；]{0,12}机会|(?:扩展|扩大)(?:至|到)"
)
# Papers a list of approvals lets come after acceptance (「12农民工工资保证金缴纳证明容缺材料」), and questions that ask
# whether one may apply without them yet, or must hand them in first.
_LATER = re.compile(
    r"先受理|先报|先办|先让受理|后补|补交|晚点补|回头再交|缓缓|先欠着|来不及|凑不齐|还没(?:做|写|弄|开|好|出)|容缺|非得先|先交齐"
    r"|不先交|(?:后面|晚点|以后|过后|回头|事后)再?(?:交|补|提交|提供)|后交"
)
_MUST = re.compile(r"(?<![不无])(?:非得|必须|一定要|先交齐|才(?:能|给|受理|可以))")
# The items of a list of approvals, one per row (kb/pdftable.py: 「建筑工程施工许可证核发：农民工工资保证金缴纳证明，
# 容缺材料。」), each ending in the kind of paper it is; the approval's name before the colon is not the paper.
_ITEM_END = re.compile(r"[；;。\n]")
_ITEM_BIGRAMS = {"材料", "容缺", "缺材"}
_SPARED = "容缺材料"


_REQUIRED = "主审材料"
_STANDS_IN = re.compile(r"可用(.{2,20}?)(?:替代|代替)")
_ASKS_STAND_IN = re.compile(r"用(.{2,20}?)(?:替代|代替|顶替|代)")


def _items(quote: str) -> list[str]:
    """The items of `quote` as a list of approvals has them, one per row."""
    return [item.strip().rstrip("，,") for item in _ITEM_END.split(quote)]


def _rows(quote: str) -> list[tuple[str, str, str]]:
    """The rows of a list of approvals in `quote`: (approval, paper, the rest) — the paper is the row's first cell
    after the approval's name and colon (kb/pdftable.py)."""
    out = []
    for item in _items(quote):
        name, colon, rest = item.partition("：")
        if colon and rest:
            paper, _comma, tail = rest.partition("，")
            out.append((name, paper, tail))
    return out


def _required(quote: str, question: str, heads: tuple[str, ...]) -> bool:
    """A row of `quote` lists the paper the question names (its last two characters, `heads`) as 主审材料, with no
    stand-in, for the approval the question names in a clause of its own (two pairs of the approval's characters
    outside the clauses naming the paper: 「办取水许可，申请书能后面再交吗？」): the paper must come with the
    application. (The same paper may be 主审 for one approval and 容缺 for another, so a question that names no
    approval apart from its paper is not answered 不能.)"""
    clauses = [c for c in re.split(r"[，,；;：:？?。]", question) if c.strip()]
    elsewhere = _bigrams("，".join(c for c in clauses if not any(h in c for h in heads))) - _ITEM_BIGRAMS
    for name, paper, tail in _rows(quote):
        if not heads or not any(h in paper for h in heads):
            continue
        if tail.rstrip("。").endswith(_REQUIRED) and len(elsewhere & _bigrams(name)) >= 2:
            return True
    return False


def _stands_in(quote: str, question: str) -> str:
    """「…能不能用初审意见替代？」 and a row of `quote` that lets that paper stand in (「可用容缺审批初审意见替代」):
    what may stand in, as the row says it; "" when no row does."""
    m = _ASKS_STAND_IN.search(question)
    if not m:
        return ""
    wanted = _bigrams(m.group(1)) - _ITEM_BIGRAMS
    for _name, _paper, tail in _rows(quote):
        if (s := _STANDS_IN.search(tail)) is not None and len(wanted & _bigrams(s.group(1))) >= 2:
            return s.group(1)
    return ""


def _spared(quote: str, asked: set[str], heads: tuple[str, ...] = ()) -> bool:
    """An item of `quote` whose paper shares a pair of characters with the question (beside 材料 and 容缺), and holds
    the paper's last two characters, `heads`, when the question names it (「…承诺书能后补吗」 is not answered by
    「与第三者利害关系的相关说明，容缺材料」), is a paper that may come later (容缺材料). (An item listed 主审材料 is
    not read as a 不能: the same paper is 主审 for one approval and 容缺 for another.)"""
    words = asked - _ITEM_BIGRAMS
    for item in _items(quote):
        if not item.endswith(_SPARED):
            continue
        paper = item[: -len(_SPARED)].split("：", 1)[-1]
        if words & _bigrams(paper) and (not heads or any(h in paper for h in heads)):
            return True
    return False


# Where the name of a paper ends in a clause that asks whether it may come later (「…复印件一下子凑不齐」)
_PAPER_ENDS = re.compile(r"不|没|未|还没|能|可以|可不可以|要|是|都|也|一下子|来不及|凑不齐|这些|这个|那些|先")
_PAPERS_SPLIT = re.compile(r"、|和|及|以及|还有|或")


def _papers_asked(part: str) -> tuple[str, ...]:
    """The last two characters of each paper a question on papers that may come later names before what it asks
    (「结婚证、户口本复印件一下子凑不齐，能晚点补吗」 → 婚证, 印件); () when it names none it can be told by."""
    m = _LATER.search(part)
    if not m:
        return ()
    clauses = [c for c in re.split(r"[，,；;：:]", part[: m.start()]) if c.strip()]
    heads: list[str] = []
    for clause in reversed(clauses[-2:]):  # 「…没备齐，能不能容缺？」: the papers stand in the clause before
        for piece in _PAPERS_SPLIT.split(clause):
            core = "".join(_CJK.findall(_PAPER_ENDS.split(piece, maxsplit=1)[0]))
            if len(core) >= 2:
                heads.append(core[-2:])
        if heads:
            break
    return tuple(heads)


# A question on holding two benefits at once (「培训生活费补贴还能一起拿吗」) is decided by what the quotes say of
# combining them, not by the clause that grants one of them; 「和朋友一起参加培训」「同时满足条件」 combine nothing.
_TAKE = r"(?:拿|领|领取|享受|申请|申领)"
_COMBINES = re.compile(rf"(?:一起|一块儿?|同时|都能|都可以|再){_TAKE}|叠加|兼得|兼领|重复{_TAKE}")
_NO_COMBINING = re.compile(
    rf"(?:不可|不得|不能|不予|不再|不)(?:同时|重复|叠加){_TAKE}|只能[^，。；]{{0,6}}一(?:项|种|个|次)|择一|不重复享受"
)
_MAY_COMBINE = re.compile(rf"(?:可|可以|能|允许)(?:同时|叠加|重复){_TAKE}")
ENGLISH_LEAD = "Answer from the Chinese policy texts (the quoted clauses below, with their sources):"
ENGLISH_CLOSEST = "No clause answers this directly; the closest passages are quoted below in Chinese:"
UNSPECIFIED_FIGURE = "所引条文未规定具体数额或比例。"
UNSPECIFIED_TIME = "所引条文未规定具体时间或期限。"
_TIMES = {"duration", "date", "deadline"}


def figure_values(kinds: tuple[str, ...]) -> list[str]:
    """The kinds asked for that are a number, not a time (a sum, a share, a count …)."""
    return [k for k in kinds if k not in _TIMES and facts.is_figure(k)]


_OPENS_PART = re.compile(r"^(?:还有|另外)[，,]?")  # 「？另外企业拿数据…」: the part is what follows


def question_parts(question: str) -> list[str]:
    """The parts of a question that asks several things (「最多能贷多少？利息怎么算？」 → two)."""
    parts = []
    for piece in _PART_SPLIT.split(question or ""):
        parts += _split_also(_OPENS_PART.sub("", piece.strip(" ，,。")))
    return [p for p in (p.strip(" ，,。") for p in parts) if len(p) >= 3]


def _split_also(piece: str) -> list[str]:
    for m in _ALSO.finditer(piece):
        before, after = piece[: m.start()], piece[m.end() :]
        if _ASKS_SOMETHING.search(before) and _ASKS_SOMETHING.search(re.split(r"[，,。]", after)[0]):
            return [before, *_split_also(after)]
    return [piece]


_TRUE_SO = re.compile(r"(?:真的|对|是)[吗嘛][？?]?$")
_WHETHER = re.compile(r"是否(可以|能够|能|会|允许|需要|要|算|有)?|能否")
_ASKS_MA = re.compile(r"[吗嘛][？?]?$")
_AUXILIARY = re.compile(r"(可以|能够|能|会|允许|需要|要|用)")  # the first auxiliary: 「也能享受吗」 → 能
_MAIN_VERB = re.compile(r"(享受|纳入|支持|沾边|算|有|是|行)")
# Nouns and other words that hold an auxiliary's or verb's character: not what a yes/no question asks with.
_COMPOUNDS = re.compile(
    r"社会|协会|机会|会议|委员会|利用|费用|信用|使用|作用|应用|适用|要求|重要|主要|要素|能力|技能|职能|功能|智能|能源"
    r"|[这那哪同本各干改入转]行(?![吗嘛不])|行动|行当|银行|行业|试行|执行|实行|运行|进行|行政|发行|行为|(?<!有)没有|所有(?!没有)|拥有|现有|有关|预算|计算|核算|算力|就是|还是|或是"
    r"|(?<!不)用到|所用|用于|用地"
)
# A figure the question names: not a year (2019年) nor a 文号's year or serial (〔2019〕15号)
_FIGURE = re.compile(r"(?<![\d〔.])(?!\d{4}\s*年)\d+(?:\.\d+)?(?![\d〕.]|\s*号)")
# Words that claim the whole of something (全免, 一律): a quote that does not say so leaves a yes/no open
_EXTENT = re.compile(r"全免|全额|全部|全都|一律")
_FREE = re.compile(r"免费|免收|免除|免予|免于|免交|免缴|全免")


_TAG = re.compile(r"^(?:这样|那)?(?:可以|能|行|对|是|好|真的|成)?[吗嘛吧]?[？?]?$")
_REGARDLESS = re.compile(r"^(?:不管|无论|不论)")  # 「不管有没有社保，…」 states a condition, it does not ask


def _asks_in(clause: str) -> bool:
    """A clause of a yes/no question that asks (能不能, 是否, …吗), not one that states a condition."""
    return not _REGARDLESS.match(clause) and bool(
        facts.A_NOT_A.search(clause) or _WHETHER.search(clause) or _ASKS_MA.search(clause)
    )


def _echo(part: str) -> str:
    """The verb a Chinese yes/no answer echoes (会不会 → 会, 是不是 → 是, 有没有 → 有, 能否 → 能, 可以…吗 → 可以),
    read in the clause that asks (「…拆了再利用，国家支持搞成一条龙吗」: 支持) and not inside a noun (社会, 信用,
    协会, 银行); 可以 when the question names none."""
    clauses = [_COMPOUNDS.sub("", c) for c in re.split(r"[，,；;]", part)]
    # the clause that asks: 「问公家有没有临时的生活补助，补多少咋定」 asks with 有没有, not in its last clause
    # (a last clause that asks decides: in 「不管有没有社保，都能申请吗」 有没有 is a condition)
    asks = [c for c in clauses if _asks_in(c)]
    clause = clauses[-1] if not asks or asks[-1] == clauses[-1] else asks[0]
    if _TRUE_SO.search(clause):  # 「听说国家鼓励…，真的吗？」
        return "是"
    if m := facts.A_NOT_A.search(clause):
        return "可以" if m.group(0).startswith("可") else "有" if m.group(0) == "有没有" else m.group(1)
    if m := _WHETHER.search(clause):
        return m.group(1) or ("能" if m.group(0) == "能否" else "是")
    if _ASKS_MA.search(clause) and (m := _AUXILIARY.search(clause) or _MAIN_VERB.search(clause)):
        return m.group(1)
    return "可以"


def _yes_no_lead(question: str, quotes: list[str]) -> str:
    """可以。/ 不可以。/ 文件未明确…: a yes/no question gets its answer first, read from the first quote, in the verb
    it asks with (会 / 不会, 有 / 没有 …). A figure the question names that the quote does not hold (「每人发3600块吗」)
    leaves it open: the clause grants something, not that."""
    first_part = question_parts(question)[:1]
    if not quotes or is_foreign(question) or not any(_YES_NO.search(p) for p in first_part):
        return ""
    verb = _echo(first_part[0])
    negative = "没有" if verb == "有" else f"不{verb}"
    first = quotes[0]
    # a figure the asker states of themselves that falls in a band the quote sets (「她儿子19岁」 against 「16—24岁
    # 失业青年」) is held by it
    stated = thresholds.stated(first_part[0])
    met = thresholds.bands_met(stated, first)
    within = " ".join(q.words for q, bands in met if bands)
    # one outside every band the quote sets on its measure (「我孩子3岁半」 against 「招收2-3岁的幼儿」) is not
    if thresholds.outside(stated, met, first) or any(
        not re.search(rf"(?<![\d.]){re.escape(n)}(?![\d.])", first) and n not in within
        for n in _FIGURE.findall(first_part[0])
    ):
        return f"文件未明确说{verb}或{negative}，相关条文如下："
    asked = _bigrams(first_part[0]) - _ASKING_BIGRAMS
    if _COMBINES.search(first_part[0]):  # decided by a clause on combining, in the question's own words
        if any(_in_clause(q, _NO_COMBINING.search, asked) for q in quotes):
            return f"按所引条文，{negative}。"
        if any(_in_clause(q, _MAY_COMBINE.search, asked) for q in quotes):
            return f"{verb}。"
    bearing = len(asked & _bigrams(first))
    # A limit must name what is asked to be done, not the condition it is asked under: 「领着失业金的时候，
    # 能不能同时去打零工？」 is not denied by 「不可同时领取失业保险金」, nor 「…做反担保，国家有没有说要少弄这个？」
    # by 「担保金额占比不得低于80%」.
    # (what follows the 能不能 may have been split off as a part of its own: 「还用不用 | 另外找人做反担保」)
    to_do = _asked_to_do(first_part[0]) or _asked_to_do(question)
    limits = (_bigrams(to_do) - _ASKING_BIGRAMS - _PLAIN_BIGRAMS) or asked
    if any(len(asked & _bigrams(q)) >= max(bearing, 1) and _denying_clause(q, limits, asked) for q in quotes[1:]):
        # a later quote that bears on the question as much as the first and limits it in a clause of the question's
        # own words (「且不可同时领取失业保险金」 after 「再给予生活费补贴」): the answer is the limit, not the grant
        return f"按所引条文，{negative}。"
    if _denying_clause(first, limits, asked):
        return f"按所引条文，{negative}。"
    heads = _papers_asked(first_part[0])  # () unless it asks whether papers may come later
    if _LATER.search(first_part[0]) and any(_spared(q, asked, heads) for q in quotes):
        # a list of approvals names the papers that may come later (容缺材料): 「…还没开出来，能先受理吗？」 is 能,
        # 「…是不是非得先交齐才受理？」 不是 — in any quote (the item may follow the approval's name, quoted first)
        return f"{negative if _MUST.search(first_part[0]) else verb}，清单将其列为容缺材料。"
    if _LATER.search(first_part[0]) and any(_required(q, first_part[0], heads) for q in quotes):
        # the approval the question names lists that paper as 主审材料: it comes with the application
        return f"{verb if _MUST.search(first_part[0]) else negative}，清单将其列为主审材料。"
    if stand_in := next((s for q in quotes if (s := _stands_in(q, first_part[0]))), ""):
        return f"{verb}，清单列明可用{stand_in}替代。"  # 「能不能用初审意见替代？」 beside 「可用…初审意见替代」
    if _DENIES.search(first):  # a limit in a clause of other words: not a 不, and no grant beside it makes it a 能
        return f"文件未明确说{verb}或{negative}，相关条文如下："
    if any(word not in first and not (word == "全免" and _FREE.search(first)) for word in _EXTENT.findall(to_do)):
        # 「创业担保贷款利息能全免吗？」: a grant of the loan does not say the whole of anything is waived (a limit
        # above still answers: 「生活费补贴和失业保险金能全都领吗？」 by 「且不可同时领取失业保险金」)
        return f"文件未明确说{verb}或{negative}，相关条文如下："
    if _OBLIGED.search(to_do) or verb in _DUTY_VERBS:  # 「要不要自己交社保」「是不是还得找人担保」
        return _duty_lead(first, limits, verb, negative)
    if _GRANTS.search(first) and (verb != "有" or _bears_on_had(first_part[0], first)):
        return f"{verb}。"
    return f"文件未明确说{verb}或{negative}，相关条文如下："


# A question on what one must do (「要不要交」「还得找人担保吗」「用不用到现场」), and clauses that oblige
_DUTY_VERBS = {"要", "需要", "用"}
_OBLIGED = re.compile(
    r"必须|非得|一定要|需要|^(?:还|也|先|都)?要(?!求)|(?<![获取赢记觉值使懂晓所])得(?![到了以益分出知下上起及过动着])"
)
_OBLIGES = re.compile(
    r"应当|必须|(?<![不适相对响反供回答效])应(?![用急对届])|(?<![必无毋所])须|(?<![必无所])需(?!求)"
    r"|(?<![重主纲只需必想])要(?![是不素点求])"
)
# A clause that spares one (无需提供反担保, 免收担保费) answers 不要; one that eases a duty (逐步取消) does not say
_SPARES = re.compile(r"无需|无须|毋须|不需要|不需|不必|不用|免收|免交|免缴|免于|免除|免予|不应要求")
_EASES = re.compile(r"取消|降低|减少|简化|放宽|不再")
# A condition a grant is given on (「签订1年以上劳动合同的，给予…」): what one must do to have it, when it names
# what is asked in two pairs of characters (one, 担保 of 「符合创业担保贷款申请条件的」, is not 「找人担保」)
_CONDITION = re.compile(r"的$")


_MARKER = re.compile(rf"{facts.A_NOT_A.pattern}|是否|能否")
_PLAIN_BIGRAMS = {"同时"}  # 「能不能同时…」 asks about doing two things, not about what a limit on 同时领取 names


def _duty_lead(quote: str, asked: set[str], verb: str, negative: str) -> str:
    """要。/ 按所引条文，不要。/ 文件未明确…: a question on what one must do, answered by a clause that obliges
    (应当, 须, 要) to do what is asked (a pair of its characters after the obliging word), spares one it (无需,
    免收), or sets it as the condition of a grant; a grant alone does not say one must (「要不要自己交社保」 is
    not answered by 「返还失业保险费」)."""
    clauses = re.split(r"[，,；;。]", quote)
    for clause in clauses:
        if (m := _SPARES.search(clause)) and asked & _bigrams(clause[m.end() :]):
            return f"按所引条文，{negative}。"
    for i, clause in enumerate(clauses):
        m = _OBLIGES.search(clause)
        if m and asked & _bigrams(clause[m.end() :]) and not _EASES.search(clause[m.end() :]):
            return f"{verb}。"
        later = "".join(clauses[i + 1 : i + 3])
        if _CONDITION.search(clause) and len(asked & _bigrams(clause)) >= 2 and _GRANTS.search(later):
            return f"{verb}。"
    return f"文件未明确说{verb}或{negative}，相关条文如下："


def _asked_to_do(part: str) -> str:
    """What a yes/no question asks may be done: its clause that asks and those after it, from the words after
    its 能不能 / 是否 (「领着失业金的时候，能不能同时去打零工挣点钱」 → 「同时去打零工挣点钱」); a 吗 question's clause
    whole (「一次性补贴能分几次领吗」)."""
    clauses = re.split(r"[，,；;]", part)
    at = next((i for i, c in enumerate(clauses) if _asks_in(c)), 0)
    if at and _TAG.match(clauses[at].strip()):  # 「拿贷款去买房，可以吗？」: what is asked stands before the tag
        at -= 1
    rest = clauses[at:]
    if m := _MARKER.search(rest[0]):
        rest[0] = rest[0][m.end() :]
    return "".join(rest)


# What 有没有 asks after: a kind of support the granting words answer (「有没有什么帮扶」), or a particular thing
# (「有没有上限」「有没有说要少弄反担保」) that the quote must name before its grant answers 有.
_HAS_ASKED = re.compile(r"(?:有没有|有无|是否有)([^，,。？?！!；;]*)")
_GENERIC_HAD = re.compile(
    r"帮扶|扶持|支持|政策|说法|优惠|补|钱|津贴|奖|减免|资助|办法|措施|机会|好处|照顾|打算|安排|考虑|路子|规定|鼓励"
)
_FIGURE_HAD = re.compile(r"上限|下限|封顶|限额|额度|比例|数量|期限|年限|年龄|金额")
_CEILING = re.compile(r"最高|最多|最低|不超过|不高于|不低于|不少于|上限|下限|封顶|以内")
_HAD_FILLER = re.compile(r"[的了吗呢啊呀吧么]|什么|啥|这个|那个|这些|那些|一些|专门|相关|给|我们|咱们|说要?|提到?")


def _bears_on_had(part: str, quote: str) -> bool:
    """A 有没有 question's thing is in the quote: its grant answers 有 only then. True for other questions and for
    the kinds of support any grant is."""
    m = _HAS_ASKED.search(part)
    if not m:
        return True
    thing = m.group(1) or part[: m.start()]
    if _FIGURE_HAD.search(thing):  # 「利率有没有上限」「有没有数量要求」: a figure of what is named before and after
        kinds = facts.asked(_HAD_FILLER.sub("", part[: m.start()] + m.group(1)) + "是多少")
        if kinds:
            return all(facts.holds(quote, k) for k in kinds)
        # 「贷款有没有上限」: a ceiling, a sum, a share or a count of anything the quote names
        return bool(_CEILING.search(quote)) or any(facts.holds(quote, k) for k in ("money", "share", "count"))
    if _GENERIC_HAD.search(thing):
        return True
    pairs = _bigrams(_HAD_FILLER.sub("", thing))
    return not pairs or bool(pairs & _bigrams(quote))


def _denying_clause(quote: str, limits: set[str], asked: set[str]) -> bool:
    """A clause of `quote` denies (不得, 不可 …) what is asked to be done (shares a pair of characters with
    `limits`), or denies it to whom the question speaks of while its sentence names what is asked (「…给予一次性创业
    补贴，已办理退休手续的不予发放」 for 「我已经退休了，能不能领一次性创业补贴？」)."""
    for sentence in re.split(r"[。；;]", quote):
        said = _bigrams(sentence)
        for clause in re.split(r"[，,]", sentence):
            pairs = _bigrams(clause)
            if _DENIES.search(clause) and (limits & pairs or (asked & pairs and limits & said)):
                return True
    return False


def _in_clause(quote: str, test: Callable[[str], object], asked: set[str]) -> bool:
    """A clause of `quote` passes `test` and shares a pair of characters with the question (`asked`)."""
    return any(test(c) and asked & _bigrams(c) for c in re.split(r"[，,；;。]", quote))


def _unanswered_parts(asked: str, quotes: list[str]) -> list[str]:
    """Say plainly which figure asked for — a sum, a share or rate, a count, an age, a date or time limit — is in
    none of the quotes (kb/facts.py); a question asking for a figure of no known kind gets the general note."""
    quoted = "".join(facts.without_conditions(q, asked) for q in quotes)
    kinds = facts.asked(asked)
    missing = [k for k in kinds if not facts.holds(quoted, k)]
    notes = []
    figures = [facts.label(k) for k in missing if k not in _TIMES]
    # a figure held only in a grant's condition (「费率不超过1%的担保业务给予…补贴」) is said to be one
    conditional = [k for k in missing if k not in _TIMES and facts.holds("".join(quotes), k)]
    if conditional:
        notes.append(f"所引条文中的数字是享受的条件，未规定具体{'、'.join(figures)}。")
    elif figures:
        notes.append(f"所引条文未规定具体{'、'.join(figures)}。")
    if not figure_values(kinds) and _ASKS_AMOUNT.search(asked) and not _AMOUNT.search(quoted):
        notes.append(UNSPECIFIED_FIGURE)
    if set(missing) & _TIMES or (not set(kinds) & _TIMES and _ASKS_TIME.search(asked) and not _TIME.search(quoted)):
        notes.append(UNSPECIFIED_TIME)
    return notes


def _asks_released(question: str) -> bool:
    """发布 / 下发 / 发的 of a document: one the question names, or (no money spoken of) the one just quoted."""
    if not _ASKS_RELEASED.search(question):
        return False
    if _NAMES_DOCUMENT.search(question):
        return True
    bare = len(re.sub(r"[\s？?。，,！!]", "", question)) <= 7  # 「是哪天发布的？」
    return bool(_POINTS_BACK.search(question) or bare) and not _MONEY.search(question)


def asks_metadata(question: str) -> bool:
    """文号, issuer, dates, or (of a document the question names) its addressees."""
    return bool(
        _ASKS_DOC_NO.search(question)
        or _ASKS_ISSUE.search(question)
        or _asks_released(question)
        or ((_ASKS_ADDRESSEES.search(question) or _ASKS_SIGNED.search(question)) and _NAMES_DOCUMENT.search(question))
    )


_QUOTED_TITLE = re.compile(r"《([^》]{6,80})》")


def names_another_document(question: str, title: str, issuer: str = "") -> bool:
    """The question calls the document by a kind (指导意见, 方案 …), a national issuer (国务院办公厅, 国办) or a quoted
    title (《…》, four in five of its character pairs in `title`) that `title` does not have:
    「国务院办公厅那个托育的指导意见是哪天印发的」 is not about 《江西省人民政府办公厅关于…的实施意见》."""
    if any(kind not in title for kind in _DOC_KIND.findall(question)):
        return True
    # a document's title the question quotes (it ends in a kind: a law it cites is not the document asked about)
    for quoted in (t for t in _QUOTED_TITLE.findall(question) if _DOC_KIND.search(t[-4:])):
        pairs = _bigrams(quoted)
        if quoted not in title and pairs and len(pairs & _bigrams(title)) / len(pairs) < 0.8:
            return True
    return any(
        pattern.search(question) and not (title.startswith(name) or issuer.startswith(name))
        for name, pattern in _ISSUERS
    )


def _cn_date(iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{int(y)}年{int(m)}月{int(d)}日"


def document_facts(meta: DocMeta) -> str:
    """What a document-facts answer states of a document (compose_metadata): its title, 文号, issuer and dates, as
    one text the gate checks the kinds of fact asked for against (a date asked is answered from the signature, not
    from the passage that was found)."""
    dates = [
        f"成文日期{_cn_date(meta.signed)}" if meta.signed else "",
        f"发布日期{_cn_date(meta.published)}" if meta.published else "",
    ]
    return " ".join(x for x in (f"《{meta.title}》", meta.doc_no, meta.issuer or "", *dates) if x)


def addressees(head_text: str) -> str:
    """The 主送机关 line of a document's head (「各省、自治区、直辖市人民政府，国务院各部委、各直属机构：」), or ""."""
    for line in head_text.split("\n")[:12]:
        line = line.strip()
        if line.endswith(("：", ":")) and 4 <= len(line) <= 160 and _ADDRESSEE.search(line):
            return line.rstrip("：:")
    return ""


_ISSUE_LINE = re.compile(r"^(?:发文机关|成文日期|发布日期|发布时间)[：:]")
_NUMBER_LINE = re.compile(r"^(?:文号|发文字号)[：:]")


def _head_lines(head_text: str, doc_no: str, issue: bool, number: bool) -> list[str]:
    """The lines of a document's head that state the facts asked for: issuer and dates, 文号 (the addressees are
    quoted verbatim by the answer itself)."""
    out = []
    for line in (ln.strip() for ln in head_text.split("\n")[:12]):
        stated = (issue and _ISSUE_LINE.match(line)) or (number and (_NUMBER_LINE.match(line) or line == doc_no))
        if line and len(line) <= 80 and stated:
            out.append(line)
    return out


def compose_metadata(
    question: str, head: Hit, signature: Hit | None, k_rest: list[Hit], hedged: bool = False
) -> tuple[str, list[Hit]]:
    """文号 / 发文机关 / 主送机关 / 日期 questions, answered from the document's own head and signature: each fact
    asked for, in the order a reader expects (who, to whom, when, number)."""
    meta = head.chunk.meta
    cited = [head]
    asks_no = bool(_ASKS_DOC_NO.search(question))
    asks_to = bool(_ASKS_ADDRESSEES.search(question))
    asks_issue = bool(
        _ASKS_ISSUE.search(question) or _ASKS_SIGNED.search(question) or _asks_released(question)
    ) or not (asks_no or asks_to)
    name = f"《{meta.title}》"
    parts: list[str] = []
    if asks_issue:
        who = meta.issuer or "发文机关"
        when = f"于{_cn_date(meta.signed)}" if meta.signed else ""
        marker = "[1]"
        if signature is not None and signature.chunk.id != head.chunk.id:
            cited.append(signature)
            marker += "[2]"
        parts.append(f"由{who}{when}印发{marker}")
        if meta.published:
            parts.append(f"公开发布日期为{_cn_date(meta.published)}")
    if asks_to:
        to = addressees(head.chunk.text)
        parts.append(f"主送{to}[1]" if to else "文件开头未列主送机关[1]")
    if asks_no or asks_issue:
        parts.append(f"文号为{meta.doc_no}[1]" if meta.doc_no else "文件未标注文号[1]")
    lead = f"{CLOSEST_HEAD}{name}" if hedged else name
    text = lead + "，".join(parts) + "。"
    quoted = _head_lines(head.chunk.text, meta.doc_no, issue=asks_issue, number=asks_no or asks_issue)
    if quoted:  # the lines of the head the facts were read from, verbatim, for the reader to check and copy
        text += "\n原文：" + "".join(f"「{line}」" for line in quoted) + "[1]"
    # k_rest and the head fill k places: the signature, when cited, takes one of them
    related = [h for h in k_rest if h.chunk.id not in {c.chunk.id for c in cited}][: len(k_rest) + 1 - len(cited)]
    if related:
        text += "\n相关条文：" + "".join(f"[{len(cited) + i + 1}]" for i in range(len(related)))
    return text, cited + related
