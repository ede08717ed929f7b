"""Lexical search: one jieba tokenizer with a policy-term dictionary, and a persisted BM25 index."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np
from pypinyin import Style, pinyin

from .files import atomic_write_text, read_versioned_json
from .meta import doc_numbers_in
from .types import Chunk

log = logging.getLogger(__name__)

USER_DICT = Path(__file__).with_name("policy_terms.txt")
INDEX_VERSION = 1
K1, B = 1.2, 0.75

_STOPWORD_TEXT = (
    "的 了 和 与 及 或 等 是 在 对 为 把 被 将 从 向 由 以 于 之 其 这 那 这个 那个 这些 那些 我 我们 你 你们 他 她 它 "
    "什么 哪些 哪个 哪 怎么 怎样 怎么样 如何 多少 几 吗 呢 吧 啊 呀 么 可以 能 能否 能不能 是否 有没有 有 没有 要 会 "
    "请问 请 一下 一个 有关 相关 关于 方面 问题 情况 就 都 也 还 又 而 并 且 但 则 按 按照 根据 通过 进行 开展 做 "
    "我想 想 需要 应该 应当 可 给 到 个 上 下 中 里 后 前 时 年 月 日 "
    "这次 这个 那个 哪几 几个 哪几个 哪里 哪儿 怎么办 咋 咋办 吗 么 啥 是不是 算不算 能否 可否 帮 帮忙 帮我 帮我们 "
    "文件 里 说 说的 提到 提及 规定 要求 现在 目前 后续 得到 获得 会 还 需 该 此 其 所 不能 可不可以 "
    "一家 一些 一种 一点 有什么 什么样 怎么样 多大 "
    "the a an of to in and or for on is are what how which who does do can i we you"
)
STOPWORDS = frozenset(_STOPWORD_TEXT.split(" "))
_TOKEN_OK = re.compile(r"[\w\u4e00-\u9fff]")


class Tokenizer:
    """jieba in search mode with the policy-term dictionary; the same function indexes and queries."""

    def __init__(self, user_dict: Path = USER_DICT) -> None:
        self._user_dict = user_dict
        self._jieba = None
        self._lock = threading.Lock()

    @property
    def signature(self) -> str:
        """Changes with the dictionary or the stop words, so that ingest re-tokenizes when either changes."""
        digest = hashlib.sha256(self._user_dict.read_bytes() + " ".join(sorted(STOPWORDS)).encode("utf-8"))
        return f"jieba-search:{digest.hexdigest()[:12]}"

    def _load(self):  # type: ignore[no-untyped-def]
        with self._lock:
            if self._jieba is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                tokenizer.load_userdict(str(self._user_dict))
                self._jieba = tokenizer
        return self._jieba

    def is_word(self, term: str) -> bool:
        """Whether jieba's dictionary (or the policy terms) has this word: a real word is never a typo."""
        return bool(self._load().FREQ.get(term))

    def tokenize(self, text: str) -> list[str]:
        text = unicodedata.normalize("NFKC", text).lower()
        tokens = doc_numbers_in(text)  # a 文号 is one token too
        for token in self._load().cut_for_search(text):
            token = token.strip()
            if token and token not in STOPWORDS and _TOKEN_OK.search(token):
                tokens.append(token)
        return tokens


TOKEN_SEP = "\x1f"  # joins a chunk's tokens where they are stored as one string (server mode)


class LexicalIndex:
    """BM25 over chunk tokens, persisted as JSON with each chunk's text and metadata; updated by ingest only.

    With `path` None the index lives in memory only (server mode builds it from the server's chunk records)."""

    def __init__(self, path: Path | None, tokenizer: Tokenizer | None = None) -> None:
        self.path = path
        self.tokenizer = tokenizer or Tokenizer()
        self._entries: dict[str, dict] = {}
        self._postings: dict[str, tuple[np.ndarray, np.ndarray]] | None = None
        self._ids: list[str] = []
        self._lengths = np.zeros(0, dtype=np.float32)
        self._doc_of: np.ndarray = np.zeros(0, dtype=object)
        self._by_doc: dict[str, list[str]] = {}
        self._masks: dict[str, list[str]] | None = None  # "创业*保" → tokens that fill the gap (typo lookup)
        self._lock = threading.Lock()
        if path is not None and path.exists():
            self._entries = read_versioned_json(path, INDEX_VERSION, "lexical index").get("chunks", {})

    @classmethod
    def in_memory(cls, entries: dict[str, dict], tokenizer: Tokenizer | None = None) -> LexicalIndex:
        """An index over ready entries ({chunk_id: {"tokens", "text", "metadata"}}), saved nowhere."""
        index = cls(None, tokenizer)
        index._entries = entries
        return index

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, chunks: Iterable[Chunk]) -> None:
        for chunk in chunks:
            self._entries[chunk.id] = {
                "tokens": self.tokenizer.tokenize(chunk.indexed_text()),
                "text": chunk.text,
                "metadata": chunk.metadata(),
            }
        self._postings = None

    def remove_doc(self, doc_id: str) -> None:
        for chunk_id in [cid for cid, e in self._entries.items() if e["metadata"]["doc_id"] == doc_id]:
            del self._entries[chunk_id]
        self._postings = None

    def tokens_of(self, chunk: Chunk) -> list[str]:
        """The chunk's indexed tokens (tokenized now unless this index holds this very text)."""
        entry = self._entries.get(chunk.id)
        if entry is not None and entry["text"] == chunk.text and entry["metadata"].get("doc_hash") == chunk.doc_hash:
            return list(entry["tokens"])
        return self.tokenizer.tokenize(chunk.indexed_text())

    def retain(self, docs: dict[str, dict]) -> tuple[int, set[str]]:
        """Keep only the chunks of the versions a manifest lists (`docs`: doc_id → {"hash", "chunk_ids"}).

        A kill between saving this index and saving the manifest leaves entries of versions the manifest does not
        list. Returns (entries dropped, listed documents whose chunks are not all here)."""
        doomed = [
            cid
            for cid, e in self._entries.items()
            if docs.get(e["metadata"]["doc_id"], {}).get("hash") != e["metadata"].get("doc_hash")
        ]
        for cid in doomed:
            del self._entries[cid]
        if doomed:
            self._postings = None
        incomplete = {doc_id for doc_id, d in docs.items() if any(cid not in self._entries for cid in d["chunk_ids"])}
        return len(doomed), incomplete

    def chunk(self, chunk_id: str) -> Chunk | None:
        entry = self._entries.get(chunk_id)
        return Chunk.from_metadata(chunk_id, entry["text"], entry["metadata"]) if entry else None

    def following(self, chunk_id: str, n: int = 3) -> list[Chunk]:
        """The next chunks of the same document, in order."""
        self._built()
        doc_id = chunk_id.rpartition(":")[0]
        ids = self._by_doc.get(doc_id, [])
        position = ids.index(chunk_id) if chunk_id in ids else len(ids)
        return [c for c in (self.chunk(cid) for cid in ids[position + 1 : position + 1 + n]) if c is not None]

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        found = [self.chunk(cid) for cid, e in self._entries.items() if e["metadata"]["doc_id"] == doc_id]
        return sorted((c for c in found if c), key=lambda c: c.seq)

    def doc_ids(self) -> set[str]:
        return {e["metadata"]["doc_id"] for e in self._entries.values()}

    def save(self) -> None:
        if self.path is None:
            return
        payload = {"version": INDEX_VERSION, "tokenizer": self.tokenizer.signature, "chunks": self._entries}
        atomic_write_text(self.path, json.dumps(payload, ensure_ascii=False, separators=(",", ":")))

    def _built(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """The postings, built on first use."""
        with self._lock:
            if self._postings is None:
                self._build()
            assert self._postings is not None
            return self._postings

    def _build(self) -> None:
        postings: dict[str, tuple[list[int], list[int]]] = {}
        ids = list(self._entries)
        lengths = np.zeros(len(ids), dtype=np.float32)
        for i, chunk_id in enumerate(ids):
            counts = Counter(self._entries[chunk_id]["tokens"])
            lengths[i] = sum(counts.values())
            for term, tf in counts.items():
                rows, tfs = postings.setdefault(term, ([], []))
                rows.append(i)
                tfs.append(tf)
        self._postings = {
            t: (np.asarray(r, dtype=np.int32), np.asarray(f, dtype=np.float32)) for t, (r, f) in postings.items()
        }
        self._masks = None
        self._ids = ids
        self._lengths = lengths
        self._doc_of = np.asarray([self._entries[c]["metadata"]["doc_id"] for c in ids], dtype=object)
        by_doc: dict[str, list[tuple[int, str]]] = {}
        for chunk_id in ids:
            md = self._entries[chunk_id]["metadata"]
            by_doc.setdefault(md["doc_id"], []).append((int(md["seq"]), chunk_id))
        self._by_doc = {doc: [cid for _, cid in sorted(pairs)] for doc, pairs in by_doc.items()}

    def correct(self, term: str) -> str | None:
        """The indexed Chinese word a misspelt one most likely stands for: same length (2 to 4 characters), one
        character different and sounding alike, tones aside — a typo made by sound, as pinyin input makes them
        (担宝 → 担保, 失叶 → 失业, 浮化 → 孵化) —, the most frequent if several; None for a word the index or the
        dictionary knows (保姆 is no typo of 保障), or when nothing is near (有个 is not 有效, nor 带娃 带动).

        Character-level matching on the lexical side for typos; the question keeps its own words too.
        """
        if not 2 <= len(term) <= 4 or not all("\u4e00" <= ch <= "\u9fff" for ch in term):
            return None
        if self.knows(term) or self.tokenizer.is_word(term):
            return None
        with self._lock:
            if self._masks is None:
                assert self._postings is not None
                masks: dict[str, list[str]] = {}
                for token in self._postings:
                    if 2 <= len(token) <= 4 and all("\u4e00" <= ch <= "\u9fff" for ch in token):
                        for i in range(len(token)):
                            masks.setdefault(f"{token[:i]}*{token[i + 1 :]}", []).append(token)
                self._masks = masks
            masks = self._masks
        postings = self._postings or {}
        found = {
            t
            for i in range(len(term))
            for t in masks.get(f"{term[:i]}*{term[i + 1 :]}", [])
            if _sounds(t[i]) & _sounds(term[i])  # typed by its sound: 担宝 → 担保, not 有个 → 有效
        }
        return max(sorted(found), key=lambda t: len(postings[t][0])) if found else None

    def knows(self, term: str) -> bool:
        """Whether any indexed passage has this token."""
        return term in self._built()

    def idf(self, term: str) -> float:
        """Inverse document frequency of a token over the indexed chunks (0 for an unknown index)."""
        postings = self._built()
        return _idf(len(self._ids), len(postings[term][0]) if term in postings else 0)

    def rarest_idf(self) -> float:
        """The IDF of a token no passage has: the scale of IDF in this library (it grows with the library's size)."""
        self._built()
        return _idf(len(self._ids), 0)

    def search(self, query: str, k: int = 50, allowed_docs: set[str] | None = None) -> list[tuple[str, float]]:
        """Top-k (chunk_id, BM25 score) for the query, restricted to `allowed_docs` when given."""
        postings = self._built()
        n = len(self._ids)
        if n == 0:
            return []
        avgdl = float(self._lengths.mean()) or 1.0
        scores = np.zeros(n, dtype=np.float32)
        for term in sorted(set(self.tokenizer.tokenize(query))):  # one order of float sums: the same scores each run
            posting = postings.get(term)
            if posting is None:
                continue
            rows, tf = posting
            idf = _idf(n, len(rows))
            norm = tf + K1 * (1.0 - B + B * self._lengths[rows] / avgdl)
            scores[rows] += idf * tf * (K1 + 1.0) / norm
        if allowed_docs is not None:
            scores[~np.isin(self._doc_of, list(allowed_docs))] = 0.0
        candidates = np.flatnonzero(scores > 0)
        if len(candidates) > k:
            candidates = candidates[np.argpartition(-scores[candidates], k - 1)[:k]]
        ordered = candidates[np.argsort(-scores[candidates], kind="stable")]
        return [(self._ids[i], float(scores[i])) for i in ordered]


def _idf(n: int, df: int) -> float:
    """BM25's inverse document frequency of a token in `df` of `n` passages (0 for an empty index)."""
    return math.log(1.0 + (n - df + 0.5) / (df + 0.5)) if n else 0.0


@lru_cache(maxsize=65536)
def _sounds(ch: str) -> frozenset[str]:
    """A character's common reading, without tone (pypinyin's own dictionary: nothing is downloaded); its rare
    readings would make 找 sound like 华 and 位 like 力."""
    return frozenset(pinyin(ch, style=Style.NORMAL)[0])
