"""Properties of kb/clean.py and kb/split.py over generated Chinese policy-like texts (hypothesis)."""

from __future__ import annotations

import itertools
import unicodedata

from conftest import pdf_doc, txt_doc
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kb.clean import RADICAL_BLOCK, clean
from kb.split import SECTION_SEP, _headings, _line_spans, split
from kb.types import Chunk, DocMeta

# Modest budgets: the whole file runs in well under a minute on a busy 2-core machine.
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
META = DocMeta(doc_id="国发〔2024〕1号", title="关于测试的通知")

# --- generated texts ----------------------------------------------------------------------------------------------

# Slices of this make the prose: commas, 、, quotes, brackets, numbers, ASCII words, every sentence end.
BASE = (
    "为深入贯彻落实党中央、国务院决策部署，进一步做好稳就业工作，现就有关事项通知如下。"
    "对吸纳高校毕业生就业的中小微企业，按每人1500元标准给予一次性扩岗补助；"
    "各地要加快推进5G网络和GDP统计改革，到2025年基本建成覆盖城乡的公共就业服务体系！"
    "是否符合条件？由县级以上人力资源社会保障部门会同财政部门审核认定。"
    "支持“专精特新”企业发展，落实《中华人民共和国就业促进法》有关规定（试行），"
    "鼓励社会资本参与 AI model 训练数据 open source 建设，提升服务能力 and quality。"
)
CN = "一二三四五六七八九十"
LEVEL_FORMS = ("第{c}章", "{c}、", "（{c}）", "第{c}条", "{n}.", "（{n}）")  # the splitter's six heading levels
SPACE = st.sampled_from(["", "", "", " ", "  ", "\u3000", "\t", "\u00a0"])


def cn_number(n: int) -> str:
    if n <= 10:
        return CN[n - 1]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else CN[tens - 1]) + "十" + (CN[ones - 1] if ones else "")


@st.composite
def base_slice(draw: st.DrawFn, min_size: int = 1, max_size: int = 80) -> str:
    n = draw(st.integers(min_size, max_size))
    i = draw(st.integers(0, len(BASE) - 1))
    return (BASE * (n // len(BASE) + 2))[i : i + n]


@st.composite
def long_sentence(draw: st.DrawFn) -> str:
    """Longer than most chunk sizes: with commas only, or with no break at all (Chinese or spaced ASCII)."""
    n = draw(st.integers(60, 700))
    kind = draw(st.sampled_from(["commas", "han", "ascii"]))
    if kind == "commas":
        text = draw(base_slice(n, n)).translate(str.maketrans("。！？；", "，，，，"))
    else:
        text = (("就业" if kind == "han" else "data set ") * n)[:n]
    return text + draw(st.sampled_from(["。", "！", "；", ""]))


@st.composite
def paragraph(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.one_of(base_slice(), base_slice(), long_sentence()), min_size=1, max_size=4))
    body = "".join(part + draw(st.sampled_from(["", "。", "？", "！", "；"])) for part in parts)
    return draw(SPACE) + body + draw(SPACE)


@st.composite
def policy_text(draw: st.DrawFn) -> str:
    """A circular: title, maybe 文号 and salutation, numbered headings (in and out of sequence), paragraphs."""
    lines = [draw(base_slice(4, 30)) + "的通知"]
    if draw(st.booleans()):
        lines.append(f"国发〔20{draw(st.integers(10, 25))}〕{draw(st.integers(1, 99))}号")
    if draw(st.booleans()):
        lines.append("各省、自治区、直辖市人民政府：")
    counters = [0] * len(LEVEL_FORMS)
    for kind in draw(st.lists(st.sampled_from("hhpppbn"), max_size=14)):
        if kind == "h":  # a heading, usually the next number of its level
            level = draw(st.integers(0, len(LEVEL_FORMS) - 1))
            counters[level] = draw(st.sampled_from([counters[level] + 1] * 3 + [1, counters[level] + 2]))
            counters[level + 1 :] = [0] * (len(LEVEL_FORMS) - 1 - level)
            n = counters[level]
            marker = LEVEL_FORMS[level].format(c=cn_number(n), n=n)
            tail = draw(st.sampled_from(["", "", "。", "：", "。" + BASE[:40] + "。"]))
            lines.append(draw(SPACE) + marker + draw(SPACE) + draw(base_slice(2, 24)) + tail)
        elif kind == "p":
            lines.append(draw(paragraph()))
        elif kind == "b":
            lines.append(draw(SPACE))
        else:
            lines.append(draw(st.text(max_size=30)))  # anything at all
    if draw(st.booleans()):
        lines += ["国务院", "2024年1月5日"]
    return draw(st.sampled_from(["\n", "\n", "\n\n", "\r\n"])).join(lines)


any_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(list(BASE + CN + "\n\n\n  \u3000\t,.;:!?()、（）第章条0123456789")),
        st.characters(codec="utf-8"),
    ),
    max_size=400,
)
texts = st.one_of(policy_text(), policy_text(), any_text)
sizes = st.sampled_from([50, 80, 120, 300, 500]).flatmap(lambda s: st.tuples(st.just(s), st.integers(0, s // 2 - 1)))


def chunked(text: str, size: int, overlap: int) -> tuple[str, list[Chunk]]:
    doc = clean(txt_doc(text))
    return doc.text, split(doc, META, size, overlap)


# --- split --------------------------------------------------------------------------------------------------------

# A hard cut through spaced ASCII words used to leave a space at a chunk's end.
SPACED_HARD_CUT = "关于测试的通知\n各单位：\n" + "data set " * 30 + "。"


@SETTINGS
@given(texts, sizes)
@example(SPACED_HARD_CUT, (50, 0))
def test_chunk_offsets_index_the_cleaned_text_exactly(text: str, size_overlap: tuple[int, int]) -> None:
    cleaned, chunks = chunked(text, *size_overlap)
    for seq, chunk in enumerate(chunks):
        assert cleaned[chunk.start : chunk.end] == chunk.text
        assert chunk.text and chunk.text.strip() == chunk.text  # no empty chunk, no white space at either end
        assert (chunk.id, chunk.seq) == (f"{META.doc_id}:{seq}", seq)


@SETTINGS
@given(texts, sizes)
def test_chunks_cover_the_cleaned_text_in_order(text: str, size_overlap: tuple[int, int]) -> None:
    size, overlap = size_overlap
    cleaned, chunks = chunked(text, size, overlap)
    covered = [False] * len(cleaned)
    for chunk in chunks:
        covered[chunk.start : chunk.end] = [True] * (chunk.end - chunk.start)
    lost = [i for i, ch in enumerate(cleaned) if not ch.isspace() and not covered[i]]
    assert not lost, cleaned[lost[0] : lost[0] + 20]
    for before, after in itertools.pairwise(chunks):
        assert before.start < after.start and before.end < after.end
        shared = cleaned[after.start : before.end] if after.start < before.end else ""
        assert len(shared.replace("\n", "")) <= overlap  # only the overlap repeats


# Found 2026-11-29: a long line's sentences were regrouped into units of up to the chunk size before packing, and
# the overlap is taken in whole units, so neighbouring chunks of one paragraph shared nothing.
def test_neighbouring_chunks_of_one_paragraph_share_their_overlap() -> None:
    """A paragraph cut into several chunks should repeat whole sentences at each cut (up to `overlap` characters)."""
    sentences = [f"第{i}句要要要要。" for i in range(9)] + ["第9句要要要要要要要要要。"]
    _cleaned, chunks = chunked("关于测试的通知\n" + "".join(sentences), 80, 30)
    body = [c for c in chunks if "通知" not in c.text]
    assert len(body) == 2
    assert body[1].start < body[0].end <= body[1].start + 30  # they overlap, by at most the overlap


@SETTINGS
@given(texts, sizes)
@example("关于测试的通知\n各单位：\n" + "甲" * 260 + "。", (50, 0))
def test_no_chunk_exceeds_the_size_by_more_than_a_quarter(text: str, size_overlap: tuple[int, int]) -> None:
    size, _overlap = size_overlap
    _cleaned, chunks = chunked(text, *size_overlap)
    for chunk in chunks:  # the documented allowance: a short heading kept with its text, a scrap of a tail
        assert len(chunk.text) <= size + size // 4


def heading_paths(cleaned: str) -> list[tuple[int, tuple[str, ...]]]:
    """(line start, heading path in force on that line), from the splitter's own heading detection."""
    lines = _line_spans(cleaned)
    found = {h.line: h for h in _headings([cleaned[s:e] for s, e in lines])}
    stack, paths = [], []
    for i, (start, _end) in enumerate(lines):
        if i in found:
            stack = [h for h in stack if h.level < found[i].level] + [found[i]]
        paths.append((start, tuple(h.title for h in stack)))
    return paths


@SETTINGS
@given(policy_text(), sizes)
# Found by this test: bare headings in a row (no body under any) used to pass their path on to the next one, and
# bare headings at the end of a text took the path of the section before them.
@example(
    "为深入贯的通知\n第一章为深\n第二章为深\n第三章为深\n第四章为深\n第五章为深\n第六章为深\n一、为深\n第七章为深\n第八章为深",
    (50, 5),
)
@example(
    "为深入贯的通知\n第一章为深\n第二章为深\n第三章为深\n第四章为深\n第五章为深\n第六章为深\n第七章为深入贯\n第八章为深入贯\n第九章为深",
    (50, 0),
)
def test_a_section_path_is_the_heading_path_in_force_in_its_chunk(text: str, size_overlap: tuple[int, int]) -> None:
    """The path in force at the chunk's start, or at a line inside it (a bare heading joins the section after it),
    or a shorter prefix of it (short sections that share a chunk keep the path they have in common)."""
    cleaned, chunks = chunked(text, *size_overlap)
    paths = heading_paths(cleaned)
    for chunk in chunks:
        section = tuple(chunk.section.split(SECTION_SEP)) if chunk.section else ()
        at_start = [path for start, path in paths if start <= chunk.start][-1:] or [()]
        inside = [path for start, path in paths if chunk.start <= start < chunk.end]
        assert any(path[: len(section)] == section for path in at_start + inside), (chunk.section, chunk.text)


@SETTINGS
@given(policy_text(), sizes)
def test_a_section_path_names_headings_before_the_chunk_end_parents_first(
    text: str, size_overlap: tuple[int, int]
) -> None:
    cleaned, chunks = chunked(text, *size_overlap)
    line_starts = [0] + [i + 1 for i, ch in enumerate(cleaned) if ch == "\n"]
    for chunk in [c for c in chunks if c.section]:
        limit = chunk.end
        for title in reversed(chunk.section.split(SECTION_SEP)):  # each heading stands before its child
            core = title.removesuffix("…")
            at = [s for s in line_starts if s < limit and cleaned.startswith(core, s)]
            assert at, (title, chunk.section, cleaned[:limit])
            limit = at[-1]


# --- clean --------------------------------------------------------------------------------------------------------

HEAD_LETTERS = "\n".join(["A", *(f"第{i}行内容。" for i in range(14)), "B", "结尾。"])  # B moved into the head


@SETTINGS
@given(texts)
@example("\x01")  # a control character used to come out as a space (\x01 is clean's field separator)
@example(HEAD_LETTERS)
def test_cleaning_a_cleaned_text_changes_nothing(text: str) -> None:
    once = clean(txt_doc(text))
    assert clean(once).text == once.text


@SETTINGS
@given(texts)
@example("字号：[大][中][小] \x85\x0b")
def test_cleaned_lines_are_stripped_and_hold_no_control_or_radical_characters(text: str) -> None:
    cleaned = clean(txt_doc(text)).text
    for line in cleaned.split("\n") if cleaned else []:
        assert line and line == line.strip(), repr(line)
    assert not RADICAL_BLOCK.search(cleaned)
    assert not [ch for ch in cleaned if ch != "\n" and unicodedata.category(ch) == "Cc"], repr(cleaned)
    assert not set(cleaned) & {"\u200b", "\u200c", "\u200d", "\ufeff", "\u00ad"}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(texts, min_size=1, max_size=4))
def test_cleaned_pdf_pages_tile_the_cleaned_text(pages: list[str]) -> None:
    doc = clean(pdf_doc(pages))
    if not doc.text:
        return
    assert doc.pages[0].start == 0 and doc.pages[-1].end == len(doc.text)
    for page, following in itertools.pairwise(doc.pages):
        assert page.end == following.start and page.number < following.number
