"""Hybrid retrieval: dense (Chroma) and lexical (BM25) in parallel, reciprocal-rank fusion, the learned ranker
(kb/rank.py), filters, dedupe."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from typing import Any, TypeVar

from . import cards as cards_mod
from . import windows as windows_mod
from .config import Settings
from .embed import Embedder, make_embedder
from .errors import IndexMissing
from .query import Query, expand, is_foreign, lexical_query
from .rank import RERANK, Ranker, load_ranker
from .region import within
from .siblings import Siblings
from .store import MANIFEST, Manifest, Store, index_location
from .types import Chunk, Hit
from .validity import AMENDED, IN_FORCE, Validity, assess_stored

log = logging.getLogger(__name__)
T = TypeVar("T")

CANDIDATES = 40  # per signal, before fusion
TIE_MARGIN = 10  # dense hits fetched beyond CANDIDATES, so that ties at the cut are cut in a fixed order
DENSE_DIGITS, LEXICAL_DIGITS = 6, 4  # scores equal to these decimals are ties (float32 sums differ in the last)
WINDOW_CHARS = 500  # a cited passage is widened to the following chunks of its section up to this length
REMOTE_POLL_SECONDS = 2.0  # how stale a replica may be after an ingest through another host
RRF_K = 5  # chosen on seed-dev and NCP-dev (evals/RESULTS.md): a small k trusts the top of each list more


@dataclass(frozen=True)
class Filters:
    """Restrict retrieval to documents by id, issuer, region or signing date (ISO, inclusive)."""

    doc_ids: tuple[str, ...] = ()
    issuer: str = ""
    region: str = ""
    date_from: str = ""
    date_to: str = ""
    current_only: bool = False  # 只看现行: documents still in force (kb/validity.py)

    def __bool__(self) -> bool:
        return bool(self.doc_ids or self.issuer or self.region or self.date_from or self.date_to or self.current_only)

    def admits(self, meta: dict[str, Any]) -> bool:
        signed = meta.get("signed", "")
        return (
            (not self.doc_ids or meta["doc_id"] in self.doc_ids)
            and (not self.issuer or self.issuer in meta.get("issuer", ""))
            and (not self.region or within(meta.get("region", ""), self.region))  # 江西省 holds 江西省南昌市
            and (not self.date_from or (signed and signed >= self.date_from))
            and (not self.date_to or (signed and signed <= self.date_to))
            and (not self.current_only or meta.get("status", IN_FORCE) in (IN_FORCE, AMENDED))
        )


@dataclass
class Retrieval:
    """Ranked hits plus what the answer step needs to judge the evidence."""

    query: Query
    hits: list[Hit]
    timings_ms: dict[str, float] = field(default_factory=dict)
    pinned: tuple[str, ...] = ()
    lexical_text: str = ""  # what BM25 searched (the question plus its policy terms)
    fused: list[Hit] | None = None  # the same candidates in fused order, when the ranker re-ordered them
    vector: Any = None  # the question's embedding (what the windows are compared with)
    # The distinct similarities of every dense candidate, best first (a passage in two documents counts once): what
    # the gate's dense_gap reads, the same whatever number of hits the caller asks for.
    similar: tuple[float, ...] = ()


@dataclass(frozen=True)
class Weights:
    """Reciprocal-rank fusion weights; BM25 is the stronger signal on both dev sets (evals/RESULTS.md)."""

    dense: float = 0.5
    lexical: float = 1.0


class Retriever:
    """Owns the store, the lexical index and the embedder for one data directory; load once, query many times."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        weights: Weights | None = None,
        ranker: Ranker | bool | None = None,
    ) -> None:
        """`ranker`: None as `settings.ranker` says; True for the shipped model (kb/ranker.json); False for the fused
        order; or a model."""
        self.settings = settings
        self.embedder = embedder or make_embedder(settings.embed_model)
        self.weights = weights or Weights()
        if ranker is None:
            ranker = settings.ranker == "learned"
        self.ranker: Ranker | None = load_ranker() if ranker is True else ranker or None
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="retrieve")
        self.validity: dict[str, Validity] = {}
        self.cards: list[cards_mod.Card] = []
        self._version: str | None = None
        self._checked = 0.0
        self._reload_lock = threading.Lock()
        self._texts: dict[tuple[str, str], str | None] = {}
        self._windows: dict[tuple[str, str], windows_mod.Vectors] = {}
        self._siblings: tuple[str, Siblings] | None = None
        self.store: Store = self._open()

    def _open(self) -> Store:
        store = Store(self.settings, self.embedder.name)
        blobs = store.blobs
        version = blobs.version(MANIFEST)
        where = index_location(self.settings)
        if version is None:
            raise IndexMissing(f"no index in {where}: run `python ingest.py` first")
        if not store.manifest.docs:
            raise IndexMissing(f"the index in {where} is empty: run `python ingest.py` first")
        _ = store.collection  # fail now, not on the first question, if the index belongs to another embedder
        dropped, incomplete = store.lexical.retain(store.manifest.docs)  # never serve an uncommitted version
        if dropped or incomplete:
            log.warning(
                "the keyword index does not match the manifest (an ingest was interrupted): %d passage(s) set "
                "aside, %d document(s) found by meaning only until `python ingest.py` repairs it",
                dropped,
                len(incomplete),
            )
        store.lexical.search("预热", k=1)  # build the BM25 postings once, at start-up
        validity, cards = self._assess(store), self._cards(store)
        # One generation, swapped in a single step (the texts cache is keyed by version, so it needs no swap).
        self.store, self.validity, self.cards = store, validity, cards
        self._version, self._blobs, self._checked = version, blobs, time.monotonic()
        return store

    def refresh(self, force: bool = False) -> None:
        """Pick up a re-ingest that happened while serving (the manifest is written last). A Chroma server is
        asked at most every REMOTE_POLL_SECONDS; a local manifest is a stat() per query."""
        now = time.monotonic()
        if self.settings.chroma_url and not force and now - self._checked < REMOTE_POLL_SECONDS:
            return
        self._checked = now
        try:
            version = self._blobs.version(MANIFEST)
        except Exception as exc:  # a server briefly unreachable: keep serving what is loaded
            log.warning("cannot check the index for changes: %s", exc)
            return
        if version is not None and version != self._version:
            log.info("the index changed; reloading")
            with self._reload_lock:
                if version != self._version:
                    self._open()

    @staticmethod
    def _assess(store: Store) -> dict[str, Validity]:
        """Each document's status as of today (recomputed at start-up and whenever the index changes)."""
        return assess_stored(store.manifest, date.today())

    @staticmethod
    def _cards(store: Store) -> list[cards_mod.Card]:
        """The support-measure cards ingest stored for the listed versions (kb/cards.py)."""
        out: list[cards_mod.Card] = []
        missing = 0
        for doc_id in store.manifest.docs:
            text = store.doc_cards(doc_id)
            if text is None:
                missing += 1
                continue
            try:
                out.extend(cards_mod.loads(text))
            except ValueError as exc:  # kb.cards.loads says what is wrong
                log.warning("unreadable cards for %s (%s): run `python ingest.py` to rebuild them", doc_id, exc)
        if missing:
            log.warning("%d document(s) have no support-measure cards yet: run `python ingest.py`", missing)
        return out

    def validity_of(self, doc_id: str) -> Validity:
        return self.validity.get(doc_id, Validity())

    @property
    def version(self) -> str:
        """The version of the manifest loaded now (changes with every committed ingest)."""
        return self._version or ""

    @property
    def manifest(self) -> Manifest:
        return self.store.manifest

    def warm_up(self) -> None:
        self.embedder.embed_query("预热")

    def allowed_docs(self, filters: Filters | None, pins: tuple[str, ...] = ()) -> set[str] | None:
        docs = self.manifest.docs
        allowed = None
        if filters:
            allowed = {
                doc_id
                for doc_id, d in docs.items()
                if filters.admits({**d["meta"], "doc_id": doc_id, "status": self.validity_of(doc_id).status})
            }
        if pins:
            allowed = set(pins) if allowed is None else allowed & set(pins)
        return allowed

    def retrieve(
        self, query: Query, k: int = 5, filters: Filters | None = None, boost: tuple[str, ...] = ()
    ) -> Retrieval:
        """Ranked top-k hits for a normalised query; a 文号 in the question pins its document."""
        t0 = time.perf_counter()
        found = self.candidates(query, filters, boost)
        hits = fused = found.hits
        if self.ranker is not None:
            spans = [self.span(h) for h in hits[:RERANK]]
            windows = self.window_scores(hits[:RERANK], found.vector)
            hits = self.ranker.rerank(query.text, hits, self.store.lexical, frozenset(boost), spans, windows)
        ranked = self._present(hits, k)
        found.timings_ms["retrieve"] = (time.perf_counter() - t0) * 1000 - found.timings_ms["embed"]
        return replace(found, hits=ranked, fused=None if hits is fused else self._present(fused, k))

    def _present(self, hits: list[Hit], k: int) -> list[Hit]:
        """The first 3k distinct hits, widened and numbered."""
        hits = collapse_duplicates(hits, limit=max(k, 1) * 3)
        return [replace(self._widen(h), rank=i + 1) for i, h in enumerate(hits)]

    def candidates(self, query: Query, filters: Filters | None = None, boost: tuple[str, ...] = ()) -> Retrieval:
        """Every candidate of the two signals in fused order, before ranking, de-duplication and widening."""
        self.refresh()
        pins = tuple(d for d in query.doc_nos if d in self.manifest.docs)
        allowed = self.allowed_docs(filters, pins)
        timings: dict[str, float] = {}
        if allowed is not None and not allowed:
            return Retrieval(query, [], {"embed": 0.0, "retrieve": 0.0}, pins, lexical_query(query.text))
        lexical_text = self.spelled(lexical_query(query.text))
        lexical_future = self._pool.submit(self._lexical, lexical_text, allowed)
        t_embed = time.perf_counter()
        # An English question is embedded with its Chinese policy terms: the small model matches across
        # languages only weakly.
        vector = self.embedder.embed_query(f"{query.text} {lexical_text}" if is_foreign(query.text) else query.text)
        timings["embed"] = (time.perf_counter() - t_embed) * 1000
        dense = self._dense(vector, allowed)
        lexical = lexical_future.result()
        hits = fuse(dense, lexical, self.weights, boost=set(boost))
        similar = tuple(sorted({round(score, DENSE_DIGITS) for _chunk, score in dense}, reverse=True))
        return Retrieval(query, hits, timings, pins, lexical_text, vector=vector, similar=similar)

    def spelled(self, text: str) -> str:
        """`text` with the indexed word each misspelt one most likely stands for (担宝 → 担保) added; words the
        synonym list maps are left to it."""
        lexical = self.store.lexical
        fixes = [
            fix
            for token in dict.fromkeys(lexical.tokenizer.tokenize(text))
            if expand(token) == token and (fix := lexical.correct(token)) is not None
        ]
        return f"{text} {' '.join(fixes)}" if fixes else text

    def span(self, hit: Hit) -> tuple[str, set[str]]:
        """A candidate's text and indexed tokens as it would be cited (widened), from the stored tokens."""
        lexical = self.store.lexical
        widened = self._widen(hit)
        tokens = set(lexical.tokens_of(hit.chunk))
        if widened.chunk.end > hit.chunk.end:
            for nxt in lexical.following(hit.chunk.id):
                if nxt.end > widened.chunk.end:
                    break
                tokens.update(lexical.tokens_of(nxt))
        return widened.chunk.text, tokens

    def _widen(self, hit: Hit) -> Hit:
        """A short passage is cited with the chunks that follow it in the same section, up to WINDOW_CHARS: the
        sentences that answer a question often come right after the ones that match it."""
        chunk = hit.chunk
        if WINDOW_CHARS <= 0 or len(chunk.text) >= WINDOW_CHARS:
            return hit
        end = chunk.end
        for nxt in self.store.lexical.following(chunk.id):
            if nxt.section != chunk.section or nxt.end - chunk.start > WINDOW_CHARS:
                break  # the citation keeps pointing at one section
            end = nxt.end
        if end == chunk.end:
            return hit
        text = self.doc_text(chunk.doc_id)
        if text is None or text[chunk.start : chunk.end] != chunk.text:
            return hit
        return replace(hit, chunk=replace(chunk, text=text[chunk.start : end], end=end))

    def doc_text(self, doc_id: str) -> str | None:
        """The listed version's cleaned text, from a small cache (passages are widened and cards read from it)."""
        return self._per_version(self._texts, doc_id, 256, lambda: self.store.doc_text(doc_id))

    def siblings(self) -> Siblings:
        """Words the loaded library lists side by side (kb/siblings.py), built once per index version."""
        if self._siblings is None or self._siblings[0] != self.version:
            lexical = self.store.lexical
            texts = (c.text for doc_id in self.manifest.docs for c in lexical.chunks_of(doc_id))
            self._siblings = (self.version, Siblings.from_texts(texts, lexical.tokenizer.tokenize))
        return self._siblings[1]

    def window_scores(self, hits: list[Hit], vector: Any) -> list[float | None]:
        """Each hit's best window similarity to the question (kb/windows.py), over its own chunk's windows; None
        where none is stored, or they were cut otherwise than now."""
        out: list[float | None] = []
        for hit in hits:
            found = self._windows_of(hit.chunk.doc_id, hit.chunk.id) if vector is not None else None
            out.append(None if found is None else windows_mod.best_similarity(found[1], vector))
        return out

    def sentence_windows(self, hit: Hit, vector: Any) -> list[tuple[str, float]]:
        """(window text, similarity to the question) for each window of a hit as cited (its own chunk and the
        chunks it was widened over), so that the answer can weigh a sentence by its window."""
        lexical = self.store.lexical
        own = lexical.chunk(hit.chunk.id)
        if vector is None or own is None:
            return []
        out: list[tuple[str, float]] = []
        for chunk in [own, *(c for c in lexical.following(own.id) if c.end <= hit.chunk.end)]:
            found = self._windows_of(chunk.doc_id, chunk.id)
            sims = None if found is None else windows_mod.similarities(found[1], vector)
            if sims is not None:
                out.extend(zip(found[0], map(float, sims), strict=True))
        return out

    def _windows_of(self, doc_id: str, chunk_id: str) -> tuple[tuple[str, ...], Any] | None:
        """A chunk's window texts and stored vectors; None when none are stored, or they were cut otherwise than
        the chunk's text is cut now (kb/windows.py changed and no ingest since)."""
        rows = self.doc_windows(doc_id).get(chunk_id)
        chunk = self.store.lexical.chunk(chunk_id) if rows is not None else None
        if rows is None or chunk is None:
            return None
        texts, key = _cut_windows(chunk.text)
        return (texts, rows[1]) if rows[0] == key else None

    def doc_windows(self, doc_id: str) -> windows_mod.Vectors:
        """The listed version's window vectors, from a cache (a damaged or missing blob: none, and a warning)."""

        def load() -> windows_mod.Vectors:
            text = self.store.doc_windows(doc_id)
            try:
                return windows_mod.loads(text) if text is not None else {}
            except ValueError as exc:
                log.warning("window vectors of %s unreadable (%s): run `python ingest.py --rebuild`", doc_id, exc)
                return {}

        return self._per_version(self._windows, doc_id, 4096, load)

    def _per_version(self, cache: dict[tuple[str, str], T], doc_id: str, bound: int, load: Callable[[], T]) -> T:
        """What `load` gives for the version of `doc_id` the manifest lists, kept in `cache` (emptied past `bound`
        entries; a new version is a new key, so a re-ingest needs no invalidation)."""
        listed = self.manifest.docs.get(doc_id)
        key = (doc_id, listed["hash"] if listed else "")
        try:
            return cache[key]
        except KeyError:
            value = load()
            if len(cache) > bound:
                cache.clear()  # another thread may clear it too: the value is returned from here, not re-read
            cache[key] = value
            return value

    def _dense(self, vector, allowed: set[str] | None) -> list[tuple[Chunk, float]]:  # type: ignore[no-untyped-def]
        where = {"doc_id": {"$in": sorted(allowed)}} if allowed is not None else None
        # A few more than needed: the index returns passages of equal score (the same text in two documents) in no
        # fixed order, so the cut is made here, on a fixed order.
        found = self.store.dense_search(vector, CANDIDATES + TIE_MARGIN, where)
        docs = self.manifest.docs
        # A chunk the manifest does not vouch for belongs to an ingest that has not committed: never show it.
        found = [(c, s) for c, s in found if c.doc_id in docs and docs[c.doc_id]["hash"] == c.doc_hash]
        return in_score_order(found, DENSE_DIGITS)[:CANDIDATES]

    def _lexical(self, text: str, allowed: set[str] | None) -> list[tuple[Chunk, float]]:
        lexical = self.store.lexical
        out = []
        for chunk_id, score in lexical.search(text, CANDIDATES, allowed):
            chunk = lexical.chunk(chunk_id)
            if chunk is not None:
                out.append((chunk, score))
        return out

    def close(self) -> None:
        self._pool.shutdown(wait=False)


def in_score_order(scored: list[tuple[Chunk, float]], digits: int) -> list[tuple[Chunk, float]]:
    """Best first by score rounded to `digits` decimals, ties by chunk id: a fixed order whatever order an index
    returns equal scores in."""
    return sorted(scored, key=lambda cs: (-round(cs[1], digits), cs[0].id))


def fuse(
    dense: list[tuple[Chunk, float]],
    lexical: list[tuple[Chunk, float]],
    weights: Weights,
    boost: set[str] | None = None,
) -> list[Hit]:
    """Weighted reciprocal-rank fusion; each hit keeps its raw dense and lexical scores. Each list is ranked by its
    score (similarity to six decimals, BM25 to four), ties by chunk id: the same passage in two documents scores the
    same, and the order an index returns such ties in must not change the answer."""
    dense, lexical = in_score_order(dense, DENSE_DIGITS), in_score_order(lexical, LEXICAL_DIGITS)
    chunks: dict[str, Chunk] = {}
    fused: dict[str, float] = {}
    dense_score: dict[str, float] = {}
    lexical_score: dict[str, float] = {}
    for rank, (chunk, score) in enumerate(dense, start=1):
        chunks[chunk.id] = chunk
        dense_score[chunk.id] = score
        fused[chunk.id] = fused.get(chunk.id, 0.0) + weights.dense / (RRF_K + rank)
    for rank, (chunk, score) in enumerate(lexical, start=1):
        chunks.setdefault(chunk.id, chunk)
        lexical_score[chunk.id] = score
        fused[chunk.id] = fused.get(chunk.id, 0.0) + weights.lexical / (RRF_K + rank)
    if boost:
        for chunk_id, chunk in chunks.items():
            if chunk.doc_id in boost:
                fused[chunk_id] *= 1.5
    order = sorted(fused, key=lambda cid: (-round(fused[cid], 12), cid))
    return [Hit(chunks[c], fused[c], dense_score.get(c), lexical_score.get(c)) for c in order]


@lru_cache(maxsize=1024)
def _shingles(text: str, n: int = 4) -> frozenset[str]:
    """A passage's character 4-grams, cached: each question compares its candidates twice (ranked and fused order),
    and the next question often finds the same passages. Bounded (about 8 KB an entry) so a server's memory stays
    flat over a large library."""
    core = re.sub(r"[\s\W_]+", "", text)
    return frozenset(core[i : i + n] for i in range(max(1, len(core) - n + 1)))


def collapse_duplicates(hits: list[Hit], threshold: float = 0.8, limit: int | None = None) -> list[Hit]:
    """Fold a hit whose passage is (nearly) the same as a better-ranked one's into that one (`Hit.also`); with
    `limit`, the first `limit` distinct hits (and the duplicates of those found among the hits before the next
    distinct one)."""
    kept: list[Hit] = []
    seen: list[frozenset[str]] = []
    for hit in hits:
        sh = _shingles(hit.chunk.text)
        for i, other in enumerate(seen):
            if len(sh & other) / max(1, min(len(sh), len(other))) >= threshold:
                if hit.chunk.doc_id != kept[i].chunk.doc_id:
                    kept[i] = replace(kept[i], also=(*kept[i].also, hit.chunk))
                break
        else:
            if limit is not None and len(kept) == limit:
                break
            kept.append(hit)
            seen.append(sh)
    return kept


@lru_cache(maxsize=8192)
def _cut_windows(text: str) -> tuple[tuple[str, ...], str]:
    """A chunk's sentence windows and their digest, cached: every question weighs the same candidates' windows
    again."""
    texts = tuple(windows_mod.windows(text))
    return texts, windows_mod.digest(texts)
