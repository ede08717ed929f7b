"""The knowledge base as the shells use it: ask (with conversation), look up, list and read documents."""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from . import answer as answer_mod
from . import eligibility as elig
from . import facts as facts_mod
from . import judge as judge_mod
from . import llm as llm_mod
from . import lookup as lookup_mod
from .cards import Card
from .config import Settings
from .embed import Embedder
from .judge import ANSWERED, CLOSEST, REFUSED, Gate, Judgement, load_gate
from .limits import MAX_HISTORY_TURNS, MAX_K, MAX_TERMS_CHARS, cut
from .lookup import DocumentCard, Lookup
from .query import (
    TRUNCATED_NOTICE,
    Query,
    Turn,
    clean_question,
    is_empty,
    may_stand_alone,
    normalise_question,
    rewrite,
)
from .rank import Ranker
from .retrieve import Filters, Retrieval, Retriever
from .route import BLOCKED, EMPTY, FACTS, Route, route
from .types import Answer, Hit
from .validity import IN_FORCE, passed_windows
from .words import ASPECT_WORDS, content_words, forms_of

log = logging.getLogger(__name__)
# How many subject words besides those it shares a question may name and still go on with the earlier one's subject
GOES_ON_NEW_WORDS = 1


class KnowledgeBase:
    """Loads the index and the embedder once; every call after that is a query."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        gate: Gate | None = None,
        ranker: Ranker | bool | None = None,
    ):
        self.settings = settings
        self.retriever = Retriever(settings, embedder, ranker=ranker)
        self.gate = gate or load_gate()
        self._log_lock = threading.Lock()
        self._documents: tuple[str, list[dict[str, Any]]] | None = None
        self.llm = llm_mod.ChatLLM(settings) if llm_mod.configured(settings) else None

    # --- answers ----------------------------------------------------------------------------------------
    def ask(
        self,
        question: str,
        history: list[Turn] | None = None,
        k: int = 5,
        filters: Filters | None = None,
        log_unanswered: bool = True,
    ) -> Answer:
        """Answer one question (optionally in the context of earlier turns) with [n] citations, or refuse."""
        *_, (_text, final) = self.ask_stream(question, history, k, filters, log_unanswered)
        assert final is not None
        return final

    def ask_stream(
        self,
        question: str,
        history: list[Turn] | None = None,
        k: int = 5,
        filters: Filters | None = None,
        log_unanswered: bool = True,
    ) -> Iterator[tuple[str, Answer | None]]:
        """Yield (text so far, None) while an answer is written, then (final text, Answer) once it is checked.

        The question is cleaned first (terminal escapes and invisible characters dropped) and cut to
        MAX_QUESTION_CHARS; a cut question's answer says so in its first line.
        """
        question, was_cut = clean_question(question)
        history = [replace(t, question=clean_question(t.question)[0]) for t in (history or [])[-MAX_HISTORY_TURNS:]]
        k = max(1, min(int(k), MAX_K))
        notice = TRUNCATED_NOTICE if was_cut else ""
        stated = elig.parse_profile(question)
        profile = self._profile(question, history, stated)
        if profile is not None:
            # A reply to our follow-up (「做家政」) or a question that asks only which measures apply: the list answers
            direct = (
                None
                if stated is None or elig.asks_only_measures(question)
                else self._direct(question, history, k, filters)
            )
            final = self.eligibility(profile, question, direct)
            final.text = notice + final.text
            if final.status != ANSWERED and log_unanswered:  # no measure, or not what was asked: a gap to see
                self._log_unanswered(question, final.searched, final.note, [])
            yield final.text, final
            return
        for text, final in self._answer_stream(question, history, k, filters, log_unanswered):
            if final is None:
                yield notice + text, None
            else:
                # Either path (extractive or LLM) says so when it rests on a document no longer in force.
                notes = "" if final.refused else self.validity_notes(final.text, final.citations)
                final.text = notice + final.text + notes
                final.cards = [] if final.refused else self.cards_for(final.citations)
                yield final.text, final

    def _answer_stream(
        self, question: str, history: list[Turn], k: int, filters: Filters | None, log_unanswered: bool
    ) -> Iterator[tuple[str, Answer | None]]:
        started = time.perf_counter()
        where = route(question)
        if where.kind == EMPTY:
            answer = Answer(question, answer_mod.EMPTY_PROMPT, refused=True, kind=EMPTY)
            answer.timings_ms = _timings(started, {}, 0.0)
            yield answer.text, answer
            return
        query, retrieval = self._query_and_retrieval(question, where, history, k, filters)
        t_answer = time.perf_counter()
        result = self._extractive(question, where, query, retrieval, k)
        if self.llm is not None and not result.refused:
            for partial, checked in self._generate(question, retrieval, result, k):
                if checked is None:
                    yield partial, None
                else:
                    result = checked
        else:
            for end in [m.end() for m in re.finditer(r"[。！？]", result.text)][:-1]:
                yield result.text[:end], None  # the extractive answer, sentence by sentence
        result.timings_ms = _timings(started, retrieval.timings_ms, (time.perf_counter() - t_answer) * 1000)
        result.searched = query.text
        if result.status != ANSWERED and log_unanswered:  # refused, or only the closest passages: a gap to see
            reason = result.note if result.refused else f"closest: {result.note}"
            self._log_unanswered(question, query.text, reason, [h.chunk.id for h in retrieval.hits[:3]])
        yield result.text, result

    # --- support-measure cards and 我能申请吗 ------------------------------------------------------------
    def profile_of(self, question: str, history: list[Turn]) -> elig.Profile | None:
        """The asker's situation when the question is a 我能申请吗 one, or answers one we asked (「在江西，会招人」)."""
        return self._profile(question, history, elig.parse_profile(question))

    def _profile(self, question: str, history: list[Turn], stated: elig.Profile | None) -> elig.Profile | None:
        """profile_of, given the question's own profile (`stated`, read once by the caller)."""
        earlier = self._situation(history)
        if earlier is None:
            return stated
        added = stated or (elig.profile_in(question) if elig.is_reply(question) else None)
        return elig.merge(earlier, added) if added else None

    @staticmethod
    def _situation(history: list[Turn]) -> elig.Profile | None:
        """The situation built up by the last 我能申请吗 answer and the replies that led to it (several rounds)."""
        profile: elig.Profile | None = None
        for turn in reversed(history):
            if elig.FOLLOW_UP not in turn.answer:
                break
            stated = elig.parse_profile(turn.question)
            said = stated or elig.profile_in(turn.question)
            profile = said if profile is None else elig.merge(said, profile)
            if stated is not None:  # the question that opened it
                return profile
        return None

    def _query_and_retrieval(
        self, question: str, where: Route, history: list[Turn], k: int, filters: Filters | None
    ) -> tuple[Query, Retrieval]:
        """The query (a follow-up joined with the earlier question) and its passages. A question that only may point
        back (「国家这个AI+行动是分几步走的？」, kb/query.py may_stand_alone) is searched alone first, and taken alone
        when the gate answers it so and its first passage is not in the document the earlier answer cited first: it
        names a subject of its own. Not a document-facts question (「这个通知是哪天发的？」 asks of the document just
        cited), nor with no document cited before (or none sent by the client): the topic carries on."""
        query = self._rewrite(question, history)
        if (
            query.rewritten
            and self.llm is None
            and where.kind != FACTS
            and history[-1].doc_ids
            and may_stand_alone(normalise_question(question), history)
        ):
            alone = rewrite(question)
            found = self._retrieve(alone, [], k, filters)
            if (
                found.hits
                and found.hits[0].chunk.doc_id != history[-1].doc_ids[0]
                and self.judge(alone, found).status == ANSWERED
            ):
                return alone, found
        return query, self._retrieve(query, history, k, filters)

    def _retrieve(self, query: Query, history: list[Turn], k: int, filters: Filters | None) -> Retrieval:
        """The query's passages; a follow-up rewritten with its context favours the documents just cited."""
        boost = tuple(history[-1].doc_ids) if history and query.rewritten else ()
        return self.retriever.retrieve(query, k=k, filters=filters, boost=boost)

    def _direct(self, question: str, history: list[Turn], k: int, filters: Filters | None = None) -> Answer | None:
        """The extractive answer to a 我能申请吗 question as asked, judged as any question is: 「我正在领失业金，培训
        生活费补贴还能一起拿吗？」 asks more than which measures apply to the asker. None when it is not to be
        searched (empty, blocked, a document-facts question)."""
        where = route(question)
        if where.kind in (EMPTY, BLOCKED, FACTS):
            return None
        started = time.perf_counter()
        query, retrieval = self._query_and_retrieval(question, where, history, k, filters)
        # k=0: only the quoted passages are cited (no 相关条文 line); the measures' passages follow them.
        answer = self._extractive(question, where, query, retrieval, 0)
        answer.timings_ms = _timings(started, retrieval.timings_ms, 0.0)
        answer.searched = query.text
        return answer

    def eligibility(self, profile: elig.Profile, question: str = "", direct: Answer | None = None) -> Answer:
        """我能申请吗: the measures open to this person, each condition met / not met / unknown and cited.

        `direct`, the extractive answer to the question as asked, leads when the gate answered it (the clause that
        answers a specific situation, which the measures' list does not quote); when it did not and the question
        asks a specific fact (an amount, a rate, a date, papers, an office: kb/facts.py), the list is only the
        closest the knowledge base has, and says so (status closest). With no measure for the situation, an answered
        `direct` still answers (the cards are read by rules and miss some measures; the passages do not); a question
        that asks only which measures apply has no `direct` (the passages about 补贴 in general do not answer it)."""
        started = time.perf_counter()
        self.retriever.refresh()
        matches = elig.match(self.retriever.cards, profile, self.retriever.validity_of)
        lexical = self.retriever.store.lexical
        answered = direct if direct is not None and direct.status == ANSWERED and direct.citations else None
        first = [h.chunk.id for h in answered.citations] if answered is not None else []
        text, chunk_ids = elig.compose(matches, profile, lambda cid: lexical.chunk(cid) is not None, first)
        citations = [Hit(chunk, 1.0) for cid in chunk_ids[len(first) :] if (chunk := lexical.chunk(cid)) is not None]
        status = ANSWERED if matches else REFUSED
        lead, note = "", "" if matches else "no-measure"
        if answered is not None:  # the clauses answer, with or without a measure that fits
            citations = answered.citations + citations
            lead = answered.text + self.validity_notes(answered.text, answered.citations)
            status = ANSWERED
            note = "answered as asked" if matches else "no-measure, answered as asked"
        elif direct is not None and matches and facts_mod.asked(elig.asking_clause(question)):
            status = CLOSEST  # 「…能领几千块？」: the figure asked is in no clause the gate accepts
            lead = elig.NOT_DIRECT
            note = f"closest: not answered as asked ({direct.note or direct.status})"
        searched = f"我能申请吗：{profile.describe()}"
        answer = Answer(
            question or profile.describe(),
            f"{lead}\n{text}" if lead else text,
            refused=status == REFUSED,
            citations=citations,
            note=note,
            searched=f"{searched}；{direct.searched}" if direct is not None and direct.searched else searched,
            matches=matches,
            profile=profile,
            status=status,
            direct=lead,
            confidence=direct.confidence if direct is not None else None,
        )
        answer.timings_ms = _timings(started, {}, (time.perf_counter() - started) * 1000)
        if direct is not None:  # the question as asked was searched and judged too
            answer.timings_ms = {
                key: answer.timings_ms.get(key, 0.0) + direct.timings_ms.get(key, 0.0)
                for key in {*answer.timings_ms, *direct.timings_ms}
            }
        return answer

    def cards(self, text: str = "", who: str = "", kind: str = "", current_only: bool = False) -> list[Card]:
        """Support-measure cards, filtered by words (each understood as the chat understands it:
        `eligibility.speaks_of`, so 托育 finds the 婴幼儿照护 measures), a beneficiary group, a kind of support."""
        self.retriever.refresh()
        out = []
        words = cut(text, MAX_TERMS_CHARS)[0].split()
        for card in self.retriever.cards:
            if who and who not in card.values("who"):
                continue
            if kind and kind not in card.values("kinds"):
                continue
            if current_only and not self.retriever.validity_of(card.doc_id).in_force:
                continue
            if words:
                written = f"{card.title}{card.doc_no}{card.name}{self.card_text(card)}"
                if not all(elig.speaks_of(card, written, w) for w in words):
                    continue
            out.append(card)
        return out

    def card_text(self, card: Card) -> str:
        """The measure as written (the paragraph the card was read from)."""
        doc = self.retriever.doc_text(card.doc_id) or ""
        return doc[card.start : card.end]

    def cards_for(self, citations: list[Hit]) -> list[Card]:
        """The measures the passages an answer quotes first belong to (at most three)."""
        out: list[Card] = []
        for hit in citations[:2]:
            c = hit.chunk
            for card in self.retriever.cards:
                if card.doc_id == c.doc_id and card.start < c.end and c.start < card.end and card not in out:
                    out.append(card)
        return out[:3]

    def _rewrite(self, question: str, history: list[Turn] | None) -> Query:
        earlier_docs = tuple(history[-1].doc_ids) if history else ()

        def carry(earlier: str, follow_up: str) -> str:
            carried = self._substitute(earlier, follow_up)
            return carried if carried == earlier else self._without_title_words(carried, follow_up, earlier_docs)

        query = rewrite(question, history, carry, continues=self._goes_on(question, history))
        if query.rewritten and self.llm is not None and history:
            try:
                standalone = self.llm.rewrite([(t.question, t.answer) for t in history], question)
                return Query(
                    original=question, text=normalise_question(standalone), doc_nos=query.doc_nos, rewritten=True
                )
            except Exception as exc:  # the LLM is optional: a failure falls back to the rule-based rewrite
                log.warning("LLM rewrite failed, using the rule-based one: %s", exc)
        return query

    def _goes_on(self, question: str, history: list[Turn] | None) -> bool:
        """A question that goes on with the earlier one's subject without naming it in full: it shares a subject word
        with the earlier question and names at most one other, a word that asks an aspect of it (kb/words.py
        ASPECT_WORDS: 「备案需要交哪些材料？」 after 「托育机构登记后要去哪里备案？」 is not asked of every 备案 the
        library knows)."""
        if not history:
            return False
        lexical = self.retriever.store.lexical
        words = content_words(normalise_question(question), lexical)
        earlier = set(content_words(normalise_question(history[-1].question), lexical))
        shared = [w for w in words if w in earlier]
        new = [w for w in words if w not in earlier]
        if not shared or len(new) > GOES_ON_NEW_WORDS:
            return False
        # the word it adds asks an aspect of the shared subject (材料 of 备案), it names no subject of its own (not
        # 职业教育 beside 目标: 「职业教育到2022年的目标是什么？」 after a question on the AI+ action's goals is new)
        return all(w in ASPECT_WORDS for w in new)

    def _without_title_words(self, carried: str, follow_up: str, doc_ids: tuple[str, ...]) -> str:
        """The earlier question without the words that name the document its answer cited first (its title's words,
        through their policy terms), for a follow-up whose thing took its sibling's place (「那养老呢？」 after a
        question on 家政, kb/siblings.py) and that the document speaks of: the cited documents stay boosted
        (`_retrieve`), and the passage is sought by what the follow-up changes, not by the words every passage of
        the document shares (双创, 示范 of a 双创带动就业示范 notice). Unchanged when the document does not speak of the
        follow-up's thing, or when no word of the earlier question but the follow-up's own would be left."""
        lexical = self.retriever.store.lexical
        docs = self.retriever.manifest.docs
        first = next((d for d in doc_ids if d in docs), None)
        if first is None:
            return carried
        text = self.retriever.store.doc_text(first) or ""
        own_words = content_words(follow_up, lexical)
        if not own_words or not any(w in text for w in own_words):
            return carried
        named = set(lexical.tokenizer.tokenize(docs[first]["meta"].get("title", "")))
        # subject words are never ASCII (content_words), so a token of the follow-up is a piece of its text
        words = [w for w in content_words(carried, lexical) if w not in follow_up]
        forms = forms_of(words, lexical)
        dropped = [w for w in words if forms[w] & named]
        if not dropped or len(dropped) == len(words):
            return carried
        for word in sorted(dropped, key=len, reverse=True):
            carried = carried.replace(word, "")
        return carried

    def _substitute(self, earlier: str, follow_up: str) -> str:
        """A follow-up's topic in place of its sibling in the earlier question (kb/siblings.py); the sibling index
        is built on the first follow-up, not on every question."""
        return self.retriever.siblings().substitute(earlier, follow_up, self.retriever.store.lexical.tokenizer.tokenize)

    def _generate(
        self, question: str, retrieval: Retrieval, extractive: Answer, k: int
    ) -> Iterator[tuple[str, Answer | None]]:
        """Stream the LLM's reply, then yield the verified answer (or the extractive one with a note)."""
        assert self.llm is not None
        hits = retrieval.hits[:k]
        text = ""
        try:
            for piece in self.llm.stream_answer(question, hits):
                text += piece
                yield text, None
        except Exception as exc:
            log.warning("LLM call failed, answering extractively: %s", exc)
            extractive.note = f"llm-error: {exc}"
            yield extractive.text, extractive
            return
        checked = llm_mod.verify(text, hits)
        if checked.refused:
            yield "", self._refusal(question, retrieval.hits, note="llm-refused")
        elif checked.ok:
            yield checked.text, Answer(question, checked.text, refused=False, citations=checked.citations, note="llm")
        else:
            log.info("LLM reply rejected (%s); answering extractively", checked.reason)
            extractive.text = "（生成式回答未通过原文核验，以下为原文摘录。）\n" + extractive.text
            extractive.note = f"llm-rejected: {checked.reason}"
            yield extractive.text, extractive

    def _extractive(self, question: str, where: Route, query: Query, retrieval: Retrieval, k: int) -> Answer:
        """(routed, retrieved) → judge → compose: the extractive answer with its status."""
        hits = retrieval.hits
        if query.doc_nos and not retrieval.pinned:
            # doc_nos holds each 文号 with its shorter prefix forms (国办发…, 办发…): name only the ones as written
            missing = "、".join(n for n in query.doc_nos if not any(o != n and o.endswith(n) for o in query.doc_nos))
            return self._refusal(question, hits, note=f"知识库中没有文号为{missing}的文件。")
        if where.kind == BLOCKED:
            return replace(self._refusal(question, hits, note=where.reason), kind=BLOCKED)
        if not hits:
            return self._refusal(question, hits, note="no-hits")
        judgement = self.judge(query, retrieval, document_facts=where.kind == FACTS)
        if retrieval.pinned:  # the question names the document by its 文号
            judgement = replace(judgement, status=ANSWERED)
        if judgement.status == REFUSED:
            answer = self._refusal(question, hits, note=f"weak evidence p={judgement.confidence:.2f}")
            return replace(answer, confidence=judgement.confidence)
        status = judgement.status
        if where.kind == FACTS:
            # The question may call the document by another kind or issuer than the best passage's
            # (「国务院办公厅那个指导意见」 of a Jiangxi 实施意见): then that is only the nearest document,
            # hedged (a 文号 named is trusted).
            meta = hits[0].chunk.meta
            if not retrieval.pinned and answer_mod.names_another_document(question, meta.title, meta.issuer or ""):
                status = CLOSEST
            head, signature = self._head_and_signature(hits[0])
            text, cited = answer_mod.compose_metadata(question, head, signature, hits[1:k], hedged=status == CLOSEST)
        else:
            text, cited = answer_mod.compose(
                query, hits, judgement.sentences, k, hedged=status == CLOSEST, doc_text=self.retriever.doc_text
            )
        return Answer(
            question,
            text,
            refused=False,
            citations=cited,  # both composers cite at most k passages beside the ones they quote
            status=status,
            kind=where.kind,
            confidence=judgement.confidence,
            note=f"p={judgement.confidence:.2f}",
        )

    def judge(self, query: Query, retrieval: Retrieval, document_facts: bool = False) -> Judgement:
        """The gate's verdict on a retrieval (kb/judge.py), with the scored sentences the answer is composed from;
        `document_facts`: the question asks for the document's 文号, issuer or dates, which its answer states from
        the best passage's document, not from the passages.

        The gate weighs the candidates in fused order: the ranker puts the passages that cover the question most on
        top for every question, answerable or not, which would hide the very signal the gate reads."""
        lexical = self.retriever.store.lexical
        tokenize = lexical.tokenizer.tokenize
        known: dict[tuple[str, int], list[tuple[str, float]]] = {}

        def held(hit: Hit) -> list[tuple[str, float]]:  # once per passage: both orders hold mostly the same ones
            key = (hit.chunk.id, hit.chunk.end)
            if key not in known:
                known[key] = self.retriever.sentence_windows(hit, retrieval.vector)
            return known[key]

        sentences = answer_mod.score_sentences(query, retrieval.hits, tokenize, lexical.idf, windows=held)
        weighed = retrieval if retrieval.fused is None else replace(retrieval, hits=retrieval.fused)
        evidence_sentences = (
            sentences
            if retrieval.fused is None
            else answer_mod.score_sentences(query, weighed.hits, tokenize, lexical.idf, windows=held)
        )
        tokens = set(lexical.tokenizer.tokenize(retrieval.lexical_text))
        evidence = answer_mod.evidence(weighed.hits, evidence_sentences, sum(lexical.idf(t) for t in tokens))
        windows = [w for w in self.retriever.window_scores(weighed.hits[:3], retrieval.vector) if w is not None]
        values = judge_mod.features(
            query,
            weighed,
            evidence_sentences,
            evidence,
            lexical,
            cited_hits=retrieval.hits,
            window=max(windows) if windows else None,
            stated=answer_mod.document_facts(retrieval.hits[0].chunk.meta)
            if document_facts and retrieval.hits
            else None,
        )
        return replace(self.gate.judge(values), sentences=tuple(sentences))

    def validity_notes(self, text: str, cited: list[Hit]) -> str:
        """Say so when an answer rests on a document no longer (fully) in force, or quotes a dated measure whose
        window has passed."""
        notes = []
        for doc_id in dict.fromkeys(h.chunk.doc_id for h in cited):
            validity = self.retriever.validity_of(doc_id)
            if validity.status != IN_FORCE:
                meta = next(h.chunk.meta for h in cited if h.chunk.doc_id == doc_id)
                number = f"（{meta.doc_no}）" if meta.doc_no else ""
                notes.append(f"注意：《{meta.title}》{number}{validity.status}：{validity.reason.rstrip('。；')}。")
        for window in dict.fromkeys(passed_windows(text, date.today())):
            notes.append(f"注意：文中「{window}」的措施期限已过，请向主管部门确认现行政策。")
        return "".join(f"\n{n}" for n in notes)

    def _head_and_signature(self, hit: Hit) -> tuple[Hit, Hit | None]:
        chunks = self.retriever.store.lexical.chunks_of(hit.chunk.doc_id)
        if not chunks:
            return hit, None
        head = Hit(chunks[0], hit.score)
        meta = chunks[0].meta
        signature = None
        if meta.signed:
            y, m, d = (int(x) for x in meta.signed.split("-"))
            marker = f"{y}年{m}月{d}日"
            for chunk in reversed(chunks):
                if marker in chunk.text:
                    signature = Hit(chunk, hit.score)
                    break
        return head, signature

    def _refusal(self, question: str, hits: list[Hit], note: str) -> Answer:
        titles = list(dict.fromkeys(f"《{h.chunk.meta.title}》" for h in hits[:5]))[:3]
        text = answer_mod.REFUSAL
        if note and not note.startswith(("weak", "off-topic", "no-hits")):
            text = note + text
        if titles:
            text += "知识库中与之最接近的文件：" + "、".join(titles) + "。"
        text += "建议换个说法提问，或咨询当地人力资源社会保障、发展改革等主管部门。"
        return Answer(question, text, refused=True, note=note)

    def _log_unanswered(self, question: str, searched: str, note: str, closest: list[str]) -> None:
        record = {
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "question": question,
            "searched": searched,
            "reason": note,
            "closest": closest,
        }
        path = self.settings.data_dir / "unanswered.jsonl"
        try:
            with self._log_lock, open(path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        except OSError as exc:
            log.warning("cannot append to %s: %s", path, exc)

    # --- lookup and documents ---------------------------------------------------------------------------
    def search(self, text: str, k: int = 10, filters: Filters | None = None) -> list[Hit]:
        """Keyword / 文号 lookup for hotline staff: the same hybrid ranking, more hits, no answer.

        The query is cleaned and cut like a question (`clean_question`), and `k` bounded by MAX_K.
        """
        text, _cut = clean_question(text)
        if is_empty(text):
            return []
        k = max(1, min(int(k), MAX_K))
        return self.retriever.retrieve(rewrite(text), k=k, filters=filters).hits[:k]

    def lookup(self, text: str, k: int = 10, filters: Filters | None = None) -> Lookup:
        """检索 for hotline staff, with at most one retrieval. When the words name a document (its 文号 or its title),
        its card (facts, status, 主送, sections, measures) and a citable summary to copy, then its passages ranked for
        the other words typed (none when nothing else was typed: the card's sections and measures lead into the
        text); otherwise the passages ranked for the words, and the extractive answer they give (composed from the
        same retrieval) to copy.

        The query is cleaned and cut like a question (`clean_question`), and `k` bounded by MAX_K.
        """
        text, was_cut = clean_question(text)
        k = max(1, min(int(k), MAX_K))
        if is_empty(text):
            return Lookup(text, "", None, [], Answer(text, "", refused=True, kind=EMPTY), cut=was_cut)
        self.retriever.refresh()
        docs = {doc_id: d["meta"] for doc_id, d in self.retriever.manifest.docs.items()}
        named = lookup_mod.named_document(text, docs)
        card = self.document_card(named[0]) if named else None
        if named is None or card is None:
            query = rewrite(text)
            retrieval = self.retriever.retrieve(query, k=k, filters=filters)
            answer = self._copyable(text, query, retrieval)
            return Lookup(text, query.text, None, retrieval.hits[:k], answer, self.terms_of(text), was_cut)
        summary = lookup_mod.summary(card)
        if is_empty(named[1]):
            return Lookup(text, "", card, [], summary, cut=was_cut)
        searched = normalise_question(named[1])
        query = Query(original=text, text=searched, doc_nos=(card.doc_id,))  # pinned to the document
        hits = self.retriever.retrieve(query, k=k, filters=filters).hits[:k]
        return Lookup(text, searched, card, hits, summary, self.terms_of(named[1]), was_cut)

    def document_card(self, doc_id: str) -> DocumentCard | None:
        """A stored document's card (kb/lookup.py), or None when it is not listed."""
        chunks = self.retriever.store.lexical.chunks_of(doc_id)
        if doc_id not in self.retriever.manifest.docs or not chunks:
            return None
        validity = self.retriever.validity_of(doc_id)
        measures = [c for c in self.retriever.cards if c.doc_id == doc_id]
        text = self.document_text(doc_id) or ""
        return lookup_mod.document_card(Hit(chunks[0], 1.0), text, measures, validity.status, validity.reason)

    def _copyable(self, question: str, query: Query, retrieval: Retrieval) -> Answer:
        """The extractive answer `ask` would give (its default k), composed from a lookup's own retrieval: every
        sentence quoted from a cited passage, so it can be read out and checked."""
        k = 5
        view = replace(
            retrieval,  # `retrieve` presents 3k hits: the first 3k of a longer list are the same ones
            hits=retrieval.hits[: 3 * k],
            fused=None if retrieval.fused is None else retrieval.fused[: 3 * k],
        )
        answer = self._extractive(question, route(question), query, view, k)
        if not answer.refused:
            answer.text += self.validity_notes(answer.text, answer.citations)
        answer.searched = query.text
        return answer

    def documents(self) -> list[dict[str, Any]]:
        """The stored documents (see `kb.list_documents`) with their status as of today (`status`, `status_reason`),
        as of the index version now served (made once per version, from the manifest and statuses it loaded)."""
        from . import document_rows

        version = self.version()
        cached = self._documents
        if cached is None or cached[0] != version:
            cached = self._documents = (version, document_rows(self.retriever.manifest, self.retriever.validity))
        return [dict(row) for row in cached[1]]

    def reload(self) -> None:
        """Serve what the last ingest committed now, not at the next query (after an ingest run in this process)."""
        self.retriever.refresh(force=True)

    def files_of(self, doc_id: str) -> list[Path]:
        """The files a stored document was read from (its primary file and any duplicates), as ingest recorded them."""
        return sorted(Path(key) for key, f in self.retriever.manifest.files.items() if f["doc_id"] == doc_id)

    def version(self) -> str:
        """The index version served now, after picking up an ingest that committed since the last call."""
        self.retriever.refresh()
        return self.retriever.version

    def export(self, answer: Answer) -> dict[str, Any]:
        """The provenance bundle of an answer (kb/export.py), against the index as loaded now."""
        from .export import bundle

        return bundle(answer, self.retriever.manifest, answer.searched or answer.question)

    def document_text(self, doc_id: str) -> str | None:
        return self.retriever.doc_text(doc_id)

    def status_of(self, doc_id: str) -> str:
        """A document's status as of today (现行, 已失效, …; kb/validity.py)."""
        return self.retriever.validity_of(doc_id).status

    def terms_of(self, text: str) -> list[str]:
        """The words of `text` as the keyword index knows them (for marking matches in lookup results)."""
        return self.retriever.store.lexical.tokenizer.tokenize(text)

    def card_groups(self) -> list[str]:
        """The beneficiary groups the support-measure cards name, for a filter's choices."""
        return sorted({v for c in self.retriever.cards for v in c.values("who")})


def _timings(started: float, retrieval: dict[str, float], answer_ms: float) -> dict[str, float]:
    return {
        "embed": round(retrieval.get("embed", 0.0), 2),
        "retrieve": round(retrieval.get("retrieve", 0.0), 2),
        "answer": round(answer_ms, 2),
        "total": round((time.perf_counter() - started) * 1000, 2),
    }


def answer_json(answer: Answer) -> dict[str, Any]:
    """The JSON answer of the contract (ARCHITECTURE.md), used by `bot.ask --json` and the web API."""
    return {
        "question": answer.question,
        "answer": answer.text,
        "status": answer.status,
        "refused": answer.refused,
        "citations": [
            {
                "n": n,
                "doc_id": hit.chunk.doc_id,
                "title": hit.chunk.meta.title,
                "doc_no": hit.chunk.meta.doc_no,
                "issuer": hit.chunk.meta.issuer,
                "signed": hit.chunk.meta.signed,
                "source": hit.chunk.meta.source,
                "section": hit.chunk.section,
                "text": hit.chunk.text,
                "start": hit.chunk.start,
                "end": hit.chunk.end,
                "page": hit.chunk.page,
                "score": round(float(hit.score), 6),
                # the same passage in other documents, folded into this citation (亦见于)
                "also": [
                    {"doc_id": c.doc_id, "title": c.meta.title, "doc_no": c.meta.doc_no, "source": c.meta.source}
                    for c in hit.also
                ],
            }
            for n, hit in enumerate(answer.citations, start=1)
        ],
        "timings_ms": dict(answer.timings_ms),
    }
