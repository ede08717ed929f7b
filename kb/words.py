"""The subject words of a question, and the forms the library may know each by (its policy terms, its spelling fix).

Shared by the ranker (kb/rank.py), which orders passages by how much of the subject they hold, and the gate
(kb/judge.py), which asks whether the library holds the subject at all.
"""

from __future__ import annotations

import re

from .lexical import LexicalIndex
from .query import expand

# A question that asks for a figure (an amount, a ratio, a rate, a count).
ASKS_NUMBER = re.compile(r"多少|几[个项条年月天岁%成]|百分之几|比例|利率|税率|费率|标准是|额度|最高|最多|上限|金额")

# Words of the asking, not of the subject: they say nothing about whether the library covers the question.
ASKING_WORDS = """
什么 怎么 怎样 怎么样 如何 可以 可不可以 能不能 能否 是不是 有没有 有无 哪些 哪个 哪里
哪儿 哪家 多少 多久 多长 几个 我们 你们 他们 她们 咱们 自己 一下 现在 目前 需要 知道
这个 那个 这些 那些 这种 那种 问问 请问 如果 还是 或者 已经 时候 打电话 来电 一位
市民 电话 老板 听说 是否 具体 一般 平时 有关 相关 相应 规定 政策 文件 国家 政府 要求
支持 办法 情况 问题 方面 东西 事情 不要 要不要 还要 还有 另外 打算 准备 想要 应该
必须 一定 到底 一个 一家 一些 每个 每月 一个月 一天 一年 最长 最短 能领 能贷 能拿
能补 补多少 交多少 百分之几 几年 几天 几个月 哪一年 哪年 哪天
印发 发布 下发 签发 出台 文号 发文 主送 落款 日期 发给 那份
"""
ASKING = frozenset(ASKING_WORDS.split())
# Nouns that ask an aspect of a subject (its papers, its conditions, its office), not a subject of their own: a
# follow-up that adds only such a word to the earlier question's subject goes on with it (kb/service.py).
ASPECT_TEXT = """
材料 资料 证件 证明 手续 流程 程序 步骤 条件 要求 标准 范围 对象 期限 时间 时限 金额 额度 比例 费用 地点 地址 网站
电话 部门 单位 窗口 方式 办法 渠道 入口 表格
"""
ASPECT_WORDS = frozenset(ASPECT_TEXT.split())
# Shapes of function words the tokenizer keeps whole: a negated or wanted verb (不是, 不用, 要交), a figure asked for
# (多少倍, 百分之), a vague time (以后, 今年, 每年), 有个 / 开了个 / 一样.
FUNCTION = re.compile(r"^不.$|^要.$|^有个$|^开了?个$|多少|百分之|^以[后前]$|一样|^[今明去]年$|^每[年人月天]$")


def is_asking_word(token: str) -> bool:
    """A word of asking or a function word (自己, 符合, 多少, 不是 …), not of the subject."""
    return token in ASKING or bool(FUNCTION.search(token))


def content_words(text: str, lexical: LexicalIndex) -> list[str]:
    """The question's subject words: tokens of two or more characters that are not words of asking, and not
    parts of a longer such token (「增值税」, not also 「增值」)."""
    tokens = [t for t in dict.fromkeys(lexical.tokenizer.tokenize(text)) if len(t) >= 2 and not is_asking_word(t)]
    tokens = [t for t in tokens if not t.isascii()]
    return [t for t in tokens if not any(t != o and t in o for o in tokens)]


def policy_terms(word: str, lexical: LexicalIndex) -> set[str]:
    terms = set(lexical.tokenizer.tokenize(expand(word))) - {word}
    fix = lexical.correct(word)
    return terms | {fix} if fix else terms


def forms_of(words: list[str], lexical: LexicalIndex) -> dict[str, set[str]]:
    """Each word with the forms the library may know it by: its policy terms (带娃 → 婴幼儿) or its spelling fix."""
    return {w: {w, *policy_terms(w, lexical)} for w in words}


def rarest_known(word: str, forms: set[str], lexical: LexicalIndex) -> float:
    """The IDF of the rarest of `word`'s forms the library knows (农产品, unknown, as 产品); the word's own IDF (that of
    a word no passage has) when it knows none."""
    return max((lexical.idf(f) for f in forms if lexical.knows(f)), default=lexical.idf(word))
