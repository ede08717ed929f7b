"""Question handling: normalisation, 文号 pins, off-topic and injection screens, follow-up rewriting."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .clean import normalise_text
from .limits import MAX_QUESTION_CHARS
from .meta import doc_numbers_in, han_number

_MEANINGFUL = re.compile(r"[\w\u4e00-\u9fff]")
# Orders to the model: to drop its rules, or to reveal them.
_OVERRIDE = re.compile(
    r"(忽略|无视|忘记|忘掉|不要理会|绕过).{0,12}(之前|以上|上面|前面|先前|所有|系统).{0,8}(指令|指示|提示|规则|设定|要求)"
    r"|(系统提示词|system\s*prompt|提示词|越狱|jailbreak|developer\s*mode|开发者模式)"
    r"|(ignore|disregard|forget).{0,30}(previous|above|prior|all).{0,20}(instruction|prompt|rule)",
    re.I,
)
# Role play: an injection in a question, but words like 扮演 also occur in policy prose and in questions about it
# (扮演重要角色, 「行业协会能扮演什么角色」, 「请问政府扮演一个什么样的角色」): only 扮演 addressed to the assistant,
# or 扮演 someone, and not of a 角色, is an order.
_ROLE_PLAY = re.compile(
    r"(你现在是|从现在起你是|(?:(?<!请问)你|请(?!问))[^，。？！,?!]{0,4}扮演(?![^，。？！,?!]{0,8}角色)"
    r"|扮演(?:一[个只名位]|我的)(?![^，。？！,?!]{0,8}角色)|假装你是|act\s+as"
    r"|pretend\s+(to\s+be|you\s+are))",
    re.I,
)
TRUNCATED_NOTICE = f"（问题过长，只按前{MAX_QUESTION_CHARS}个字作答。）\n"
# Terminal escape sequences (colours, cursor moves, window titles), removed whole so that no "[31m" is left behind.
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[0-~])")
# Control, format (bidi overrides, zero-width), surrogate and private-use characters: invisible or unprintable.
_INVISIBLE = {"Cc", "Cf", "Cs", "Co"}
_CHITCHAT = re.compile(
    r"(天气|气温|下雨|写一?首.{0,6}诗|作一?首|讲一?个.{0,4}笑话|唱一?首|你是谁|你叫什么|你好吗|星座|彩票|股票.{0,4}(推荐|走势)"
    r"|菜谱|怎么做菜|翻译成|帮我写.{0,6}(代码|作文|小说|文章)|(股市|大盘|A股).{0,4}(怎么样|行情|走势|会涨|会跌|涨了|跌了)"
    r"|球赛|比分|(推荐|好看的).{0,4}(电影|电视剧|小说)"
    r"|\b(tell me a joke|write (me )?an? (poem|song|story)|weather (today|tomorrow)|python function)\b)",
    re.IGNORECASE,
)
# Words that make a short question lean on the previous turn: 这个贷款, 那养老托育呢, 它, 上述…
_CONTINUES = re.compile(r"^(那|那么|那如果|还有|另外)|上述|上面|刚才|呢[？?！!。~～\s]*$")  # the earlier topic, always
# Words that point back, or at the question's own subject (「国家这个AI+行动…」): kb/service.py tries such a question
# alone too. 它 / 该 / 此 / 其 point, not inside a word: 其它, 应该, 我该去, 因此, 如此, 彼此, 其他, 其实, 尤其, 极其
_DEMONSTRATIVE = re.compile(
    r"这个|那个|这项|这些|那些|这[两二三几]个|这[两二三几]项|这[两二三几]种|这种|那种|这类|那类|此类|这样|那样|这笔|那笔|这份|那份"
)
_PRONOUN = re.compile(
    r"(?<!其)它|(?<![应活我你他她们])该(?![怎如去找不])|(?<![因如彼从])此(?!外)|(?<![尤极与])其(?![他它实余])"
)
_POINTS = re.compile(f"{_DEMONSTRATIVE.pattern}|{_PRONOUN.pattern}")
_LIKE_US = re.compile(r"像(?:我|我们|咱们?|俺|他|她|他们|她们|本人)(?:这样|这种|那样|这类)")
# What may stand before a demonstrative without naming anything (「请问这个…」), and after it without being a name
_OPENER = re.compile(r"^(?:请问|我想问一下|我想问|想问一下|想问|问一下|你好|您好|来电的?问|问|就是|那么|所以)+")
_RELAYED = re.compile(r"^.{0,12}?(?:来电|打电话|电话里)[^，,：:]{0,12}?[问说][：:，,]?")  # 「来电的一位小老板问：」
_FUNCTION_CHARS = set("的了吗呢啊吧么时候如果要是就还也都在把被对给等我你他她们这那个些和与或及之后以前")  # no name
_SELF = re.compile(r"^(?:我|我们|咱|本人|俺)")  # 「我是外地户口，它…」 says who asks, not what 它 is
_NAME_ENDS = re.compile(r"[的里是要能吗呢在有都也还和与我就到怎么由谁给对被把从向为跟，,。？?！!；;：:\s]")


SYNONYMS = Path(__file__).with_name("synonyms.txt")


@lru_cache(maxsize=1)
def _synonyms() -> tuple[tuple[str, str], ...]:
    pairs = []
    for line in SYNONYMS.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            word, terms = line.split("=", 1)
            pairs.append((word.strip(), " ".join(t.strip() for t in terms.split(","))))
    return tuple(sorted(pairs, key=lambda p: -len(p[0])))


def _mentions(text: str, word: str) -> bool:
    if word.isascii():  # English: whole words, any case, with their inflections (start → starting, loans)
        return _english(word).search(text.lower()) is not None
    return word in text


@lru_cache(maxsize=512)
def _english(phrase: str) -> re.Pattern[str]:
    def inflected(word: str) -> str:
        if len(word) <= 3:  # ai, sme: a plural at most (not aid, aids)
            return re.escape(word) + "s?"
        if word.endswith("e"):  # site, sites, not sit
            return re.escape(word[:-1]) + "(?:e|es|ed|ing)"
        if word.endswith("y") and word[-2] not in "aeiou":  # county, counties
            return re.escape(word[:-1]) + "(?:y|ies|ied|ying)"
        return re.escape(word) + "(?:s|es|ed|d|ing)?"

    # not inside a longer word or number: 「under 3」 is not 「under 30」
    return re.compile(r"(?<![a-z0-9])" + r"\s+".join(inflected(w) for w in phrase.lower().split()) + r"(?![a-z0-9])")


@lru_cache(maxsize=8192)
def expand(text: str) -> str:
    """Add the policy terms for everyday words (保洁 → 家政, start-up loan → 创业担保贷款) for lexical search."""
    extra = [terms for word, terms in _synonyms() if _mentions(text, word)]
    return f"{text} {' '.join(dict.fromkeys(extra))}" if extra else text


def is_foreign(text: str) -> bool:
    """Mostly Latin letters: a question in English (or another language the circulars are not written in)."""
    letters = re.findall(r"[A-Za-z\u4e00-\u9fff]", text)
    return bool(letters) and sum(ch.isascii() for ch in letters) > 0.7 * len(letters)


def lexical_query(text: str) -> str:
    """What BM25 searches: the question with its policy terms; for an English question, the terms alone."""
    expanded = expand(text)
    if is_foreign(text):
        return expanded[len(text) :].strip()
    return expanded


@dataclass(frozen=True)
class Query:
    """A question ready for retrieval: `text` is searched, `original` is what the user typed."""

    original: str
    text: str
    doc_nos: tuple[str, ...] = ()
    rewritten: bool = False


@dataclass
class Turn:
    """One earlier exchange of a conversation, as the web chat keeps it."""

    question: str
    answer: str = ""
    doc_ids: list[str] = field(default_factory=list)


def normalise_question(text: str) -> str:
    """NFKC, traditional → simplified Chinese, full-width digits, Chinese punctuation, tidy spaces, and figures in
    Chinese numerals written as the circulars write them (八百万 → 800万, 两岁 → 2岁, 九成 → 90%)."""
    import zhconv

    text = unicodedata.normalize("NFKC", text or "").strip()
    text = zhconv.convert(text, "zh-cn")
    return arabic_figures(normalise_text(re.sub(r"\s+", " ", text)).strip())


# A sum, an age or a share in Chinese numerals: it starts with a digit or 十 (not 千万 "by all means", 万一 "in case"),
# and is followed by 万 / 亿 (a sum), 岁 (an age) or 成 (tenths) — not by 块 (一块儿 "together"), nor a count of years
# (「一年拨多少」 asks per year, it names no figure).
# 一万二 (12,000), 数十万 and 一亿五千万 are left as written, and so are 成 as "probably" (八成是), 成 beginning a word
# (两成年子女, 一成立就), and 一成 (统一成, 唯一成员: seldom a share in a question).
_CN_FIGURE = re.compile(
    r"(?<![零〇一二三四五六七八九十百千万亿两几数点])([一二两三四五六七八九十][零〇一二三四五六七八九十百千]*)"
    r"(万|亿|岁|成(?![不是会要就也都能立员年人本果效功为熟交品长分绩型]))(?![零〇一二两三四五六七八九十])"
)


def arabic_figures(text: str) -> str:
    """Sums, ages and shares in Chinese numerals as Arabic figures, as the circulars write them."""

    def arabic(m: re.Match[str]) -> str:
        value = han_number(m.group(1))
        if value is None or m.group(0) == "一成":
            return m.group(0)
        return f"{value * 10}%" if m.group(2) == "成" else f"{value}{m.group(2)}"

    return _CN_FIGURE.sub(arabic, text)


def is_empty(text: str) -> bool:
    return not _MEANINGFUL.search(text or "")


def clean_question(text: str) -> tuple[str, bool]:
    """The question without terminal escapes and invisible characters, cut to MAX_QUESTION_CHARS.

    Returns:
        The cleaned question and whether it was cut.
    """
    text = text if isinstance(text, str) else ""
    longer = len(text) > 4 * MAX_QUESTION_CHARS
    # Only the head can survive the cut: clean no more of a huge input than a few times what is kept.
    head = text[: 4 * MAX_QUESTION_CHARS]
    text = _ANSI.sub("", head)
    text = "".join(ch for ch in text if ch in "\t\n\r" or unicodedata.category(ch) not in _INVISIBLE).strip()
    if len(text) <= MAX_QUESTION_CHARS and not longer:
        return text, False
    return text[:MAX_QUESTION_CHARS].rstrip(), True


def looks_like_injection(text: str) -> bool:
    return bool(_OVERRIDE.search(text) or _ROLE_PLAY.search(text))


def gives_orders(text: str) -> bool:
    """A passage that tells the model to drop its rules or reveal them (an injection planted in a document)."""
    return bool(_OVERRIDE.search(text))


def looks_off_topic(text: str) -> bool:
    return bool(_CHITCHAT.search(text))


def doc_numbers(text: str) -> tuple[str, ...]:
    """Every 文号 in the question, canonical (发改办高技[2020]244号 → 发改办高技〔2020〕244号)."""
    return tuple(doc_numbers_in(text))


def is_follow_up(question: str, history: list[Turn]) -> bool:
    """A short question, or one that refers back, continues the previous turn's topic. 「像我们这样的小微企业」
    describes the asker: it points at nothing."""
    if not history:
        return False
    pointing = _LIKE_US.sub("", question)
    return _is_short(question) or bool(_CONTINUES.search(question) or _POINTS.search(pointing))


def may_stand_alone(question: str, history: list[Turn]) -> bool:
    """A follow-up only by 这个 / 那个 … between names (「国家这个AI+行动是分几步走的？」「职业教育那个1+X证书…」),
    long, neither opening with 那 nor closing with 呢, may be a new question: something stands before the
    demonstrative in its clause (not 请问 …), a name follows it (not 是 / 要 …), and one of them is not in the earlier
    question. A 它 / 该 / 此 / 其 must point at what the question itself names before it (「江西托育这块的部门联席会议，
    它是由哪个部门牵头的？」): four Chinese characters or more stand before it, not opening with who asks (我是…),
    with two pairs of characters of names the earlier question does not hold. Not one that points back by a bare
    这个 (「这个培训由谁来组织实施？」「申请这个吗」) or a bare pronoun (「该政策对小微企业也适用吗？」)."""
    if not is_follow_up(question, history) or _is_short(question) or _CONTINUES.search(question):
        return False
    demonstratives = list(_DEMONSTRATIVE.finditer(question))
    pronouns = list(_PRONOUN.finditer(question))
    if not demonstratives and not pronouns:
        return False
    earlier = cjk_pairs(normalise_question(history[-1].question))
    for m in pronouns:  # 「…创业担保贷款，其额度上限是多少？」: what it points at is named before it, and is new
        before = _OPENER.sub("", _RELAYED.sub("", question[: m.start()]))
        named = {p for p in cjk_pairs(before) - earlier if not set(p) & _FUNCTION_CHARS}
        if len(_NOT_CJK.sub("", before)) < 4 or _SELF.match(before) or len(named) < 2:
            return False
    for m in demonstratives:
        before = _OPENER.sub("", re.split(r"[，,。？?！!；;：:]", question[: m.start()])[-1])
        after = _NAME_ENDS.split(question[m.end() :], maxsplit=1)[0]
        if len(_NOT_CJK.sub("", before)) < 2 or not after:
            return False
        single = _NOT_CJK.sub("", after)  # a name of one character (这个证) counts as itself
        if not (cjk_pairs(before) | cjk_pairs(after) | ({single} if len(single) == 1 else set())) - earlier:
            return False  # 「托育这个培训…」 after a question on 托育 培训 names nothing new
    return True


def cjk_pairs(text: str) -> set[str]:
    """The pairs of adjacent Chinese characters of `text`, other characters left out (「到2030年」: 到年)."""
    core = _NOT_CJK.sub("", text)
    return {core[i : i + 2] for i in range(len(core) - 1)}


_NOT_CJK = re.compile(r"[^\u4e00-\u9fff]")


def _is_short(question: str) -> bool:
    return len(re.sub(r"[\s？?。！!，,]", "", question)) <= 8


def rewrite(
    question: str,
    history: list[Turn] | None = None,
    substitute: Callable[[str, str], str] | None = None,
    continues: bool = False,
) -> Query:
    """Build the retrieval query; a follow-up borrows the previous question so that its topic carries over, with
    `substitute(previous, follow_up)` putting the words the follow-up names in place of the ones they replace
    (kb/siblings.py: 「那养老呢？」 after a question on 家政). `continues`: the caller found that the question goes
    on with the earlier one's subject (kb/service.py: it names nothing else)."""
    text = normalise_question(question)
    history = history or []
    if is_follow_up(text, history) or (continues and bool(history)):
        previous = normalise_question(history[-1].question)
        if substitute is not None:
            previous = substitute(previous, text)
        combined = f"{previous} {text}"
        return Query(original=question, text=combined, doc_nos=doc_numbers(combined), rewritten=True)
    return Query(original=question, text=text, doc_nos=doc_numbers(text))
