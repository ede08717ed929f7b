"""Words the library lists side by side («家政服务、养老托育、乡村旅游»), for elliptical follow-ups.

「那养老呢？」 after 「家政这块主要想怎么弄？」 asks the same question of 养老 instead of 家政. The two are
siblings: items of one enumeration in some passage. A follow-up's rewritten query (kb/query.py) keeps the earlier
question but puts each word the follow-up names in place of its sibling there, so that retrieval and the answer look
for 养老, not for 家政 and 养老 at once.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable

_ITEM = r"[^，。；：！？、\s（）()“”的和与及等]{2,8}"
_LIST = re.compile(rf"(?<![^，。；：！？\s（）()“”的和与及等]){_ITEM}(?:、{_ITEM}){{2,}}")
# 「那养老呢？」「还有就业困难人员呢」「托育呢」「养老那块呢」: the thing a bare follow-up names
_TOPIC = re.compile(
    r"(?:那么?|还有|另外|那如果)?([\w\u4e00-\u9fff]{2,8}?)(?:[这那]一?块|[这那]边|[这那]?方面|的话)?呢?[？?。]*"
)
EXCLUSIVE = 2.0  # how much more exclusively one of two equally listed words must be listed to be the sibling
MAX_ITEMS = 12  # a longer run is a list of materials or place names, not of peers


class Siblings:
    """Pairs of words that are items of one enumeration in the library's passages, with how many enumerations."""

    def __init__(self, pairs: Counter[frozenset[str]]) -> None:
        self._pairs = pairs
        self._listed: Counter[str] = Counter()  # how often each word is listed beside anything
        for pair, n in pairs.items():
            for word in pair:
                self._listed[word] += n

    @classmethod
    def from_texts(cls, texts: Iterable[str], tokenize: Callable[[str], list[str]]) -> Siblings:
        pairs: Counter[frozenset[str]] = Counter()
        for text in texts:
            for run in _LIST.findall(text):
                items = run.split("、")
                if len(items) > MAX_ITEMS:
                    continue
                # each item as a whole (失业人员, 就业困难人员) and its words (家政 of 家政服务)
                words = [{item, *(t for t in tokenize(item) if len(t) >= 2)} for item in items]
                found = set()
                for i, a in enumerate(words):
                    for b in words[i + 1 :]:
                        found.update(frozenset((x, y)) for x in a for y in b if not (x in y or y in x))
                pairs.update(found)
        return cls(pairs)

    def count(self, a: str, b: str) -> int:
        """In how many enumerations `a` and `b` are items side by side."""
        return self._pairs.get(frozenset((a, b)), 0)

    def substitute(self, earlier: str, follow_up: str, tokenize: Callable[[str], list[str]]) -> str:
        """`earlier` with the one word listed most often beside what an elliptical `follow_up` names
        (「那养老呢？」: 养老) replaced by it; unchanged when the follow-up names no such thing, `earlier` already
        has it, or two words tie. Of words listed beside it as often, one listed at least EXCLUSIVE times as
        exclusively (beside the topic, of all it is listed beside) is its sibling (「服务行业…家政这块」, then
        「那养老这块呢？」: 家政, 2 of 17, not 服务, 2 of 62, listed beside everything); else they tie."""
        named = _TOPIC.fullmatch(follow_up.strip())
        if named is None or named.group(1) in earlier:
            return earlier
        topic = named.group(1)
        words = [t for t in dict.fromkeys(tokenize(earlier)) if len(t) >= 2]
        counts = {w: self.count(w, topic) for w in words}
        most = max(counts.values(), default=0)
        if most == 0:
            return earlier
        tied = sorted(((most / (self._listed[w] or 1), w) for w, n in counts.items() if n == most), reverse=True)
        if len(tied) > 1 and tied[0][0] < EXCLUSIVE * tied[1][0]:
            return earlier
        return earlier.replace(_whole(earlier, tied[0][1], topic, self.count), topic)


def _whole(text: str, word: str, topic: str, count: Callable[[str, str], int], reach: int = 3) -> str:
    """The longest listed item of `text` that holds `word` and is listed beside `topic`: 人社局, not the 社局 a
    tokenizer cut out of it (「要去人社局办理吗？」 then 「那税务局那边呢？」 asks of 税务局, not of 人税务局)."""
    at = text.find(word)
    best = word
    for left in range(reach + 1):
        for right in range(reach + 1):
            start, end = at - left, at + len(word) + right
            if start < 0 or end > len(text) or end - start <= len(best):
                continue
            if count(text[start:end], topic) > 0:
                best = text[start:end]
    return best
