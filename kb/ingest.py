"""The ingest pipeline: scan → diff against the manifest → (re)embed changed documents → delete vanished → report."""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import signal
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from . import cards as cards_mod
from . import clean as clean_mod
from . import load as load_mod
from . import meta as meta_mod
from . import pipeline as pipeline_mod
from . import split as split_mod
from . import windows as windows_mod
from .config import Settings
from .embed import Embedder, make_embedder
from .errors import ConfigError, IndexMismatch, IngestBusy, LoadError
from .files import atomic_write_text, file_sha256
from .lexical import Tokenizer
from .store import Manifest, Store, open_blobs, record_id
from .types import DocMeta, SourceDoc
from .validity import STATUS_FILE

log = logging.getLogger(__name__)

COMMIT_EVERY = 25  # documents at least between two commits of the manifest and the lexical index, and
COMMIT_SHARE = 0.1  # at least 1/COMMIT_SHARE times the last commit's duration: a commit rewrites both whole files, so
# its cost grows with the index, and commits at a fixed count would make a large ingest quadratic


@dataclass
class Report:
    """What an ingest did (or, with dry_run, would do). Paths are as shown to the user."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (file, the file it duplicates)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    skipped: list[str] = field(default_factory=list)  # unsupported file types
    ignored: list[tuple[str, str]] = field(default_factory=list)  # (entry, why): hidden files, pipes, devices
    chunks: int = 0  # chunks written
    embedded: int = 0  # of those, newly embedded (the rest kept the vector of an unchanged passage)
    embed_seconds: float = 0.0
    seconds: float = 0.0
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed


class Progress:
    """Callbacks for a progress display (kb/progress.py); the default shows nothing."""

    def reading(self, total: int) -> None:
        """`total` new or changed files are about to be read (loaded, cleaned, their metadata found)."""

    def file_read(self, path: str) -> None: ...

    def documents(self, total: int) -> None: ...

    def document_done(self, path: str) -> None: ...

    def chunks(self, total: int) -> None: ...

    def chunks_done(self, n: int) -> None: ...

    def close(self) -> None:
        """The ingest is over (or failed): release the display."""


@dataclass
class _Parsed:
    key: str
    shown: str  # in the maintainers' report
    source: str  # as users see it
    sha: str
    doc: SourceDoc
    meta: DocMeta
    fingerprint: str


@dataclass
class _Plan:
    unchanged: dict[str, str] = field(default_factory=dict)  # doc_id → primary file key
    to_embed: dict[str, _Parsed] = field(default_factory=dict)  # doc_id → parsed primary
    replaces: dict[str, str] = field(default_factory=dict)  # new doc_id → the doc_id its file held before
    duplicates: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # file key → (doc_id, shown, of shown)
    removed: list[str] = field(default_factory=list)  # doc ids
    failed: dict[str, tuple[str, str]] = field(default_factory=dict)  # file key → (shown, reason)
    sha: dict[str, str] = field(default_factory=dict)  # file key → sha256
    sources: dict[str, str] = field(default_factory=dict)  # file key → its name as users see it
    in_scope: set[str] = field(default_factory=set)  # stored file keys under the paths given to this ingest
    stored_before: dict[str, str] = field(default_factory=dict)  # doc_id → its file as the report shows it

    @property
    def has_work(self) -> bool:
        return bool(self.to_embed or self.removed)


def pipeline_signature(settings: Settings, embedder_name: str) -> str:
    """Changes when anything that shapes the stored chunks changes: a stage version (kb/pipeline.py), chunking,
    embedder, tokenizer."""
    return pipeline_mod.signature(settings.chunk_size, settings.chunk_overlap, embedder_name, Tokenizer().signature)


def scan(paths: Sequence[Path]) -> Scan:
    """Supported files, unsupported ones, ignored entries and refused links under the given files and folders.

    Hidden files and folders and special files (pipes, sockets, devices) are ignored and listed as such. A path
    given explicitly is used even when it is a link, but links found inside a folder are never followed: a symbolic
    link that leads out of the folder is refused (it could point at any file on the machine), and one that stays
    inside is ignored, its target being scanned under its own name. A hard link whose file has links outside the
    folder is refused too (`ln /etc/passwd corpus/x.txt`).

    Raises:
        ConfigError: a given path does not exist.
    """
    found = Scan()
    for root in paths:
        if not root.exists():
            raise ConfigError(f"{root}: no such file or folder")
        if root.is_file():
            (found.files if load_mod.is_supported(root) else found.skipped).append(root)
            continue
        inodes: dict[tuple[int, int], list[Path]] = {}
        for path in _walk(root, found.ignored):
            if path.is_symlink():
                refusal = _link_refusal(path, root)
                if refusal is not None:
                    found.refused[str(path.parent.resolve() / path.name)] = refusal
                else:
                    log.debug("%s: a link inside %s, not followed (its target is scanned as itself)", path, root)
            elif path.is_file():  # not a pipe or a device: reading one could block forever
                if not load_mod.is_supported(path):
                    found.skipped.append(path)
                    continue
                info = path.stat()
                inodes.setdefault((info.st_dev, info.st_ino), []).append(path)
            elif path.exists():
                found.ignored[shown_path(path)] = "not a regular file (pipe, socket or device): not read"
        for links in inodes.values():
            outside = links[0].stat().st_nlink - len(links)
            if outside <= 0:
                found.files += links
                continue
            for path in links:
                found.refused[str(path.resolve())] = (
                    shown_path(path),
                    f"hard link to a file with {outside} other name(s) outside the ingest path {root}: not read",
                )
    found.files = sorted(set(found.files))
    found.skipped = sorted(set(found.skipped))
    return found


@dataclass
class Scan:
    """What `scan` found: files to read, unsupported ones, ignored entries and refused links (key → shown, why)."""

    files: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    ignored: dict[str, str] = field(default_factory=dict)  # shown path → why it was not considered
    refused: dict[str, tuple[str, str]] = field(default_factory=dict)


def _walk(root: Path, ignored: dict[str, str]) -> Iterator[Path]:
    """Every entry under `root` except hidden ones (noted in `ignored`), without descending into linked folders."""
    for folder, dirs, names in os.walk(root, followlinks=False):
        base = Path(folder)
        for name in [*names, *dirs]:
            if name.startswith("."):
                ignored[shown_path(base / name)] = "hidden " + ("folder" if name in dirs else "file") + ": not read"
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names) + [d for d in dirs if (base / d).is_symlink()]:
            if not name.startswith("."):
                yield base / name


def _link_refusal(link: Path, root: Path) -> tuple[str, str] | None:
    """(shown path, reason) for a symbolic link that leads out of `root` or nowhere; None for one inside it."""
    shown = _relative(link.parent.resolve() / link.name)  # the link's own name, not its target's
    try:
        target = link.resolve()
    except (OSError, RuntimeError):  # Python 3.11 raises RuntimeError on a loop of links
        return shown, "symbolic link that loops back on itself: not followed"
    if not target.is_relative_to(root.resolve()):
        kind = "folder" if target.is_dir() else "file"
        return shown, f"symbolic link to the {kind} {target}, outside the ingest path {root}: not followed"
    if not target.exists():
        return shown, f"broken symbolic link (its target {target} does not exist)"
    return None


def shown_path(path: Path) -> str:
    """`path` resolved, relative to the working directory when it lies under it, printable (see `printable`)."""
    return _relative(path.resolve())


def source_name(path: Path, roots: Sequence[str]) -> str:
    """The name a document's file is shown to users by: relative to the working directory when it lies under it,
    else to the folder it was ingested from (that folder's name first), else the file name — never a server path."""
    resolved = path.resolve()
    try:
        return printable(str(resolved.relative_to(Path.cwd().resolve())))
    except ValueError:
        pass
    folders = [Path(r) for r in roots if resolved != Path(r) and resolved.is_relative_to(r)]
    if not folders:
        return printable(resolved.name)
    root = max(folders, key=lambda r: len(r.parts))
    return printable(str(Path(root.name) / resolved.relative_to(root)))


def printable(name: str) -> str:
    """A file name as it may be printed: quoted with escapes (like `repr`) when it holds a newline, a control or an
    invisible character, so that a name can neither fake a report line nor hide what it is."""
    return name if name.isprintable() else repr(name)


def _relative(path: Path) -> str:
    try:
        return printable(str(path.relative_to(Path.cwd().resolve())))
    except ValueError:
        return printable(str(path))


def ingest(
    paths: Sequence[Path],
    settings: Settings,
    *,
    rebuild: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
    embedder: Embedder | None = None,
) -> Report:
    """Bring the store in `settings.data_dir` in line with the files under `paths`.

    Unchanged files are skipped without loading the embedder; a file that fails to load is reported and whatever
    was stored for it before is kept. Stored documents from files outside `paths` are left alone.

    Raises:
        ConfigError: a path does not exist or a setting is wrong.
        IndexMismatch: the store was built by another embedder (use rebuild=True).
        IngestBusy: another ingest is running on the same data directory.
    """
    started = time.perf_counter()
    progress = progress or Progress()
    embedder = embedder or make_embedder(settings.embed_model)
    found = scan(paths)
    files, refused = found.files, found.refused
    roots = [str(p.resolve()) for p in paths]
    skipped = [p for p in found.skipped if p.name != STATUS_FILE]  # the maintainers' status file, not a document
    report = Report(skipped=[shown_path(p) for p in skipped], ignored=sorted(found.ignored.items()), dry_run=dry_run)
    if dry_run:  # read only: no lock, no directory, nothing written
        blobs = open_blobs(settings)
        manifest = Manifest.load(blobs) if not rebuild else Manifest(blobs)
        _check_embedder(manifest, embedder.name, settings, rebuild)
        stale = bool(manifest.docs) and manifest.pipeline.get("signature") != pipeline_signature(
            settings, embedder.name
        )
        plan = _plan(files, roots, manifest, stale, settings.max_file_mb, refused, progress)
        _fill_report(report, plan)
        report.seconds = time.perf_counter() - started
        return report
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with _exclusive(settings.data_dir):
        store = Store(settings, embedder.name)
        _check_embedder(store.manifest, embedder.name, settings, rebuild)
        signature = pipeline_signature(settings, embedder.name)
        journal = settings.data_dir / "ingest.journal"
        if rebuild:
            store.reset()
        stale = bool(store.manifest.docs) and store.manifest.pipeline.get("signature") != signature
        plan = _plan(files, roots, store.manifest, stale, settings.max_file_mb, refused, progress)
        if plan.has_work or journal.exists() or stale:
            _ = store.collection  # opening it checks which embedder built it
            repaired = _repair(store, journal)
            if repaired:
                plan = _plan(files, roots, store.manifest, stale, settings.max_file_mb, refused, progress)
            store.manifest.pipeline = {
                "signature": signature,
                "versions": dict(pipeline_mod.VERSIONS),
                "chunk_size": settings.chunk_size,
                "chunk_overlap": settings.chunk_overlap,
                "status_file": store.manifest.pipeline.get("status_file", ""),
            }
            _execute(plan, store, embedder, settings, progress, journal, report)
            if repaired:  # what the repair set aside and this run did not ingest again leaves nothing behind
                _repair(store, journal)
        if _sync_status_file(store, paths):
            store.commit()
        _fill_report(report, plan)
    report.seconds = time.perf_counter() - started
    return report


def _sync_status_file(store: Store, paths: Sequence[Path]) -> bool:
    """Keep the maintainers' `status.yaml` of the first folder ingested beside the index (so that every replica
    reads it); True when it changed. Ingesting single files leaves it as it is."""
    folders = [p for p in paths if p.is_dir()]
    if not folders:
        return False
    source = folders[0] / STATUS_FILE
    try:
        text = source.read_text(encoding="utf-8") if source.is_file() else ""
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("%s: unreadable (%s); the stored statuses are kept", source, exc)
        return False
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16] if text else ""
    if digest == store.manifest.pipeline.get("status_file", ""):
        return False
    store.blobs.write(STATUS_FILE, text)
    store.manifest.pipeline["status_file"] = digest
    return True


def _check_embedder(manifest: Manifest, name: str, settings: Settings, rebuild: bool) -> None:
    if manifest.embedder and manifest.embedder != name and not rebuild:
        raise IndexMismatch(
            f"the index in {settings.data_dir} was built with embedder {manifest.embedder!r}, but KB_EMBED_MODEL "
            f"is {name!r}; rebuild it with `python ingest.py --rebuild`"
        )


@contextmanager
def _exclusive(data_dir: Path) -> Iterator[None]:
    """Hold the data directory's ingest lock, or raise IngestBusy at once."""
    with open(data_dir / ".ingest.lock", "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise IngestBusy(f"another ingest is running on {data_dir}; wait for it to finish") from exc
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _under(key: str, roots: list[str]) -> bool:
    return any(key == root or key.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def _parse(path: Path, source: str) -> tuple[SourceDoc, DocMeta]:
    """Load, clean and read the metadata of one file.

    Raises:
        LoadError: for any reason the file cannot become a document (a loader's unexpected error included).
    """
    try:
        doc = clean_mod.clean(load_mod.load(path))
    except LoadError:
        raise
    except Exception as exc:  # one odd file must not stop the others
        log.exception("unexpected error reading %s", path)
        raise LoadError(str(path), f"unreadable ({type(exc).__name__}: {exc})") from exc
    if not doc.text.strip():
        raise LoadError(str(path), "no text left after removing page furniture (web chrome, print headers/footers)")
    meta = meta_mod.extract(doc)
    return doc, DocMeta(**{**meta.as_dict(), "source": source})


def _plan(
    files: Iterable[Path],
    roots: list[str],
    manifest: Manifest,
    stale: bool,
    max_mb: float,
    refused: dict[str, tuple[str, str]],
    progress: Progress | None = None,
) -> _Plan:
    """Decide per document: unchanged, (re)embed, duplicate, failed or removed. Loads only changed files.

    `stale`: the pipeline changed since the manifest was written, so every file is processed again.
    `max_mb`: files larger than this fail before they are read. `refused`: files that failed in the scan.
    """
    docs = manifest.docs
    stored_files = manifest.files
    plan = _Plan(
        stored_before={doc_id: (doc["sources"] or [doc_id])[0] for doc_id, doc in docs.items()}
        | {f["doc_id"]: shown_path(Path(key)) for key, f in stored_files.items() if f["role"] == "primary"},
        in_scope={key for key in stored_files if _under(key, roots)},
        failed=dict(refused),
    )
    claims: dict[str, str] = {}  # doc_id → shown path of the file that holds it
    fingerprints = {doc["fingerprint"]: doc_id for doc_id, doc in docs.items() if "fingerprint" in doc}
    to_parse: list[tuple[str, Path]] = []
    shown_of: dict[str, str] = {}  # file key → its name in the maintainers' report
    source_of = plan.sources  # file key → its name as users see it (never a server path)
    for path in files:
        key, shown = str(path.resolve()), shown_path(path)
        shown_of[key] = shown
        source_of[key] = source_name(path, roots)
        try:
            load_mod.check_size(path, max_mb)
            plan.sha[key] = file_sha256(path)
        except LoadError as exc:
            plan.failed[key] = (shown, exc.reason)
            continue
        except OSError as exc:
            plan.failed[key] = (shown, f"cannot read file: {exc.strerror or exc}")
            continue
        prev = stored_files.get(key)
        same = prev is not None and prev["sha256"] == plan.sha[key] and prev["doc_id"] in docs and not stale
        if same and prev["role"] == "primary":
            plan.unchanged[prev["doc_id"]] = key
            claims[prev["doc_id"]] = shown
        else:
            to_parse.append((key, path))
    progress = progress or Progress()
    progress.reading(len(to_parse))
    for key, path in to_parse:
        prev = stored_files.get(key)
        if prev and prev["sha256"] == plan.sha[key] and prev["doc_id"] in claims and not stale:
            plan.duplicates[key] = (prev["doc_id"], shown_of[key], claims[prev["doc_id"]])
            progress.file_read(shown_of[key])
            continue
        try:
            doc, meta = _parse(path, source_of[key])
        except LoadError as exc:
            plan.failed[key] = (shown_of[key], exc.reason)
            continue
        finally:
            progress.file_read(shown_of[key])
        fingerprint = meta_mod.text_fingerprint(doc.text)
        same_text = fingerprints.get(fingerprint)
        holder = meta.doc_id if meta.doc_id in claims else same_text if same_text in claims else None
        if holder is not None:
            plan.duplicates[key] = (holder, shown_of[key], claims[holder])
            continue
        claims[meta.doc_id] = shown_of[key]
        fingerprints[fingerprint] = meta.doc_id
        plan.to_embed[meta.doc_id] = _Parsed(key, shown_of[key], source_of[key], plan.sha[key], doc, meta, fingerprint)
        if prev and prev["role"] == "primary" and prev["doc_id"] != meta.doc_id and prev["doc_id"] in docs:
            plan.replaces[meta.doc_id] = prev["doc_id"]  # the file's document got a new id (its text changed)
    failed_docs = {stored_files[k]["doc_id"] for k in plan.failed if k in stored_files}
    scoped_docs = {stored_files[k]["doc_id"] for k in plan.in_scope}
    listed_docs = {f["doc_id"] for f in stored_files.values()}
    plan.removed = [
        doc_id
        for doc_id in docs
        if (doc_id in scoped_docs or doc_id not in listed_docs) and doc_id not in claims and doc_id not in failed_docs
    ]
    return plan


CRASH_TEST_STOP = "KB_CRASH_TEST_STOP"  # crash tests only, e.g. "after-vectors:3"; never set in normal use


def _crash_test_stop(point: str, n: int) -> None:
    """For the crash tests: stop this process (SIGSTOP) at a named point of the n-th document written, so that the
    test kills it exactly there instead of racing it (tests/test_ingest.py)."""
    if os.environ.get(CRASH_TEST_STOP) == f"{point}:{n}":
        os.kill(os.getpid(), signal.SIGSTOP)


def _repair(store: Store, journal: Path) -> bool:
    """Clear what a killed ingest left behind: vectors, keyword-index entries and texts of versions the manifest
    does not list; listed documents that lost a part are ingested again.

    Returns True when the manifest changed (documents to ingest again).
    """
    manifest = store.manifest
    if journal.exists():
        try:
            in_flight = set(json.loads(journal.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError):
            in_flight = set(manifest.docs)
        log.warning("a previous ingest was interrupted; cleaning up %d document(s)", len(in_flight))
        for doc_id in in_flight:
            listed = manifest.docs.get(doc_id)
            store.delete_versions(doc_id, keep=listed["hash"] if listed else None)
            store.delete_texts(doc_id, keep=listed["hash"] if listed else None)
        journal.unlink(missing_ok=True)
    # Killed between saving the keyword index and the manifest: entries of unlisted versions, listed ones missing.
    dropped, incomplete = store.lexical.retain(manifest.docs)
    if dropped or incomplete:
        log.warning("keyword index: %d stray passage(s) removed, %d document(s) to redo", dropped, len(incomplete))
    if not incomplete and not dropped and store.collection.count() == manifest.chunk_count():
        return False
    stored = store.vector_ids()
    wanted = {record_id(cid, doc["hash"]) for doc in manifest.docs.values() for cid in doc["chunk_ids"]}
    strays = [rid for rid in stored if rid not in wanted]
    store.delete_records(strays)
    broken = incomplete | {
        doc_id
        for doc_id, doc in manifest.docs.items()
        if any(record_id(cid, doc["hash"]) not in stored for cid in doc["chunk_ids"])
    }
    log.warning(
        "index and manifest disagreed: %d stray vector(s) removed, %d document(s) to redo", len(strays), len(broken)
    )
    for doc_id in broken:
        store.lexical.remove_doc(doc_id)
        manifest.docs.pop(doc_id, None)
    for key in [k for k, f in manifest.files.items() if f["doc_id"] in broken]:
        del manifest.files[key]
    if broken or dropped:
        store.commit()
    expected = {store.text_name(doc_id, doc["hash"]) for doc_id, doc in manifest.docs.items()}
    expected |= {store.cards_name(doc_id, doc["hash"]) for doc_id, doc in manifest.docs.items()}
    expected |= {store.windows_name(doc_id, doc["hash"]) for doc_id, doc in manifest.docs.items()}
    for name in (store.blobs.names("texts") | store.blobs.names("cards") | store.blobs.names("windows")) - expected:
        store.blobs.delete(name)
    return bool(broken)


def _execute(
    plan: _Plan, store: Store, embedder: Embedder, settings: Settings, progress: Progress, journal: Path, report: Report
) -> None:
    """Write new versions beside the old, commit the manifest, then delete what the manifest no longer lists."""
    manifest = store.manifest
    in_flight: list[str] = []
    after_commit: list[Callable[[], None]] = []

    def touch(doc_id: str) -> None:
        in_flight.append(doc_id)
        atomic_write_text(journal, json.dumps(in_flight, ensure_ascii=False))

    last_commit = {"seconds": 0.0, "ended": time.perf_counter(), "at": 0}  # "at": documents written by then

    def commit(n: int = 0) -> None:
        t0 = time.perf_counter()
        store.commit()
        seconds = time.perf_counter() - t0
        for cleanup in after_commit:
            cleanup()
        after_commit.clear()
        in_flight.clear()
        journal.unlink(missing_ok=True)
        last_commit.update(seconds=seconds, ended=time.perf_counter(), at=n)

    def drop(doc_id: str) -> None:
        touch(doc_id)
        store.lexical.remove_doc(doc_id)
        manifest.docs.pop(doc_id, None)
        after_commit.append(lambda d=doc_id: (store.delete_versions(d), store.delete_texts(d)))

    # A document whose text changed and with it its id (no 文号) is dropped first: keep its windows to reuse.
    retired = {old: _listed_windows(store, old) for old in plan.replaces.values()}
    for doc_id in plan.removed:
        drop(doc_id)
    gone = {k for k in plan.in_scope if k not in plan.sha and k not in plan.failed}
    for key in [k for k, f in manifest.files.items() if f["doc_id"] in plan.removed or k in gone]:
        del manifest.files[key]

    work = [
        (p, split_mod.split(p.doc, p.meta, settings.chunk_size, settings.chunk_overlap)) for p in plan.to_embed.values()
    ]
    progress.documents(len(work))
    progress.chunks(sum(len(chunks) for _, chunks in work))
    dim_checked = False
    for n, (parsed, chunks) in enumerate(work, start=1):
        # The version key covers the file and the pipeline: re-chunking an unchanged file is a new version too,
        # written beside the listed one until the manifest commits.
        version = hashlib.sha256(f"{parsed.sha}|{manifest.pipeline['signature']}".encode()).hexdigest()[:16]
        chunks = [replace(c, doc_hash=version) for c in chunks]
        known = store.vectors_for([c.text_hash() for c in chunks])
        todo = [c for c in chunks if c.text_hash() not in known]
        progress.chunks_done(len(chunks) - len(todo))
        for start in range(0, len(todo), settings.embed_batch):
            batch = todo[start : start + settings.embed_batch]
            t0 = time.perf_counter()
            vectors = embedder.embed_documents([c.indexed_text() for c in batch])
            report.embed_seconds += time.perf_counter() - t0
            known.update({c.text_hash(): list(map(float, v)) for c, v in zip(batch, vectors, strict=True)})
            progress.chunks_done(len(batch))
        report.embedded += len(todo)
        matrix = np.asarray([known[c.text_hash()] for c in chunks], dtype=np.float32)
        if not dim_checked and len(matrix):
            store.check_dim(int(matrix.shape[1]))
            dim_checked = True
        doc_id = parsed.meta.doc_id
        old = plan.replaces.get(doc_id)
        # the windows of the version listed now (under its old id, for a document without a 文号) keep their vectors
        listed_windows = _listed_windows(store, doc_id) | retired.get(old or "", {})
        if old is not None:
            drop(old)
        touch(doc_id)
        store.lexical.remove_doc(doc_id)
        store.lexical.add(chunks)  # first: in server mode the records carry these tokens
        store.add_chunks(chunks, matrix)
        _crash_test_stop("after-vectors", n)  # the vectors of this document are in, its text and cards not yet
        store.save_text(doc_id, version, parsed.doc.text)
        store.save_cards(doc_id, version, cards_mod.dumps(cards_mod.extract(parsed.doc.text, parsed.meta, chunks)))
        t0 = time.perf_counter()
        windows = windows_mod.embed(
            [(c.id, c.text) for c in chunks], embedder.embed_documents, listed_windows, settings.embed_batch
        )
        report.embed_seconds += time.perf_counter() - t0
        store.save_windows(doc_id, version, windows_mod.dumps(windows))
        manifest.docs[doc_id] = {
            "hash": version,
            "file_sha256": parsed.sha,
            "fingerprint": parsed.fingerprint,
            "sources": [parsed.source],
            "chunk_ids": [c.id for c in chunks],
            "meta": parsed.meta.as_dict(),
            "format": parsed.doc.format,
            "pages": len(parsed.doc.pages),
            "chars": len(parsed.doc.text),
            "ingested_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "embedder": embedder.name,
        }
        manifest.files[parsed.key] = {
            "sha256": parsed.sha,
            "doc_id": doc_id,
            "role": "primary",
            "source": parsed.source,
        }
        after_commit.append(
            lambda d=doc_id, v=version: (store.delete_versions(d, keep=v), store.delete_texts(d, keep=v))
        )
        report.chunks += len(chunks)
        progress.document_done(parsed.shown)
        since = time.perf_counter() - last_commit["ended"]
        if n - last_commit["at"] >= COMMIT_EVERY and since >= last_commit["seconds"] / COMMIT_SHARE:
            commit(n)
    for key, (doc_id, _shown, _of) in plan.duplicates.items():
        if doc_id in manifest.docs:
            source = plan.sources[key]
            manifest.files[key] = {"sha256": plan.sha[key], "doc_id": doc_id, "role": "duplicate", "source": source}
            sources = manifest.docs[doc_id]["sources"]
            if source not in sources:
                sources.append(source)
    for doc_id, doc in manifest.docs.items():  # a duplicate that vanished is no longer a source
        live = {f.get("source") or shown_path(Path(k)) for k, f in manifest.files.items() if f["doc_id"] == doc_id}
        doc["sources"] = [s for s in doc["sources"] if s in live] or doc["sources"][:1]
    commit()


def _listed_windows(store: Store, doc_id: str) -> windows_mod.Vectors:
    """The window vectors of the version the manifest lists, to keep for passages whose text has not changed."""
    text = store.doc_windows(doc_id)
    if text is None:
        return {}
    try:
        return windows_mod.loads(text)
    except ValueError as exc:
        log.warning("window vectors of %s unreadable (%s): embedding them again", doc_id, exc)
        return {}


def _fill_report(report: Report, plan: _Plan) -> None:
    replaced = set(plan.replaces.values())
    for doc_id, parsed in plan.to_embed.items():
        updated = doc_id in plan.stored_before or doc_id in plan.replaces
        (report.updated if updated else report.added).append(parsed.shown)
    report.unchanged = sorted(shown_path(Path(k)) for k in plan.unchanged.values())
    report.removed = sorted(plan.stored_before[doc_id] for doc_id in plan.removed if doc_id not in replaced)
    report.duplicates = sorted((shown, of) for _doc, shown, of in plan.duplicates.values())
    report.failed = sorted(plan.failed.values())
