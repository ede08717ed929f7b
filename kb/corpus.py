"""Changes to the corpus folder made from the web app's 管理 page: uploaded circulars saved in, statuses written to
`status.yaml`, documents withdrawn. The ingest that follows each change is kb.ingest's, run by kb.serving.

Nothing is deleted: a file that an upload replaces, an upload that cannot be read and a withdrawn document's files
are moved into hidden folders of the corpus (`.replaced/`, `.rejected/`, `.withdrawn/`), which ingest never scans,
each batch under a folder named by its time, so that a mistake can be undone by moving the files back.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .errors import ConfigError
from .files import atomic_write_text, file_sha256
from .ingest import Report, shown_path
from .load import SUPPORTED_SUFFIXES
from .validity import STATUS_FILE, STATUSES

REPLACED, REJECTED, WITHDRAWN = ".replaced", ".rejected", ".withdrawn"
MAX_UPLOAD_FILES = 20  # files one upload may hold; the web app's upload route is sized by it
MAX_NAME_CHARS = 120

ADDED, UPDATED, UNCHANGED, DUPLICATE, FAILED = "added", "updated", "unchanged", "duplicate", "failed"


def safe_name(name: str) -> str:
    """The name an uploaded file is saved under: its last path part, NFC; refused when hidden, unprintable, too long
    or of an unsupported type.

    Raises:
        ValueError: why the name is refused (in Chinese: it is shown to the maintainer).
    """
    base = unicodedata.normalize("NFC", str(name)).replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not base or base in (".", ".."):
        raise ValueError("文件名为空")
    if base.startswith("."):
        raise ValueError("以“.”开头的隐藏文件名不接收")
    if not base.isprintable():
        raise ValueError("文件名含有控制字符或不可见字符")
    if len(base) > MAX_NAME_CHARS:
        raise ValueError(f"文件名超过 {MAX_NAME_CHARS} 个字符")
    if Path(base).suffix.lower() not in SUPPORTED_SUFFIXES:
        raise ValueError("不支持的文件类型（可上传 " + " ".join(SUPPORTED_SUFFIXES) + "）")
    return base


@dataclass(frozen=True)
class Placed:
    """An uploaded file saved in the corpus."""

    name: str  # as saved, directly in the corpus folder
    path: Path
    previous: Path | None = None  # the file of the same name it replaced, now under .replaced/
    same: bool = False  # the corpus already held this very file: nothing was written


@dataclass
class Upload:
    placed: list[Placed] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (name as sent, reason) — never saved


@dataclass(frozen=True)
class FileResult:
    """What became of one uploaded file: `outcome` is ADDED … FAILED; `reason` says why it failed or what it
    duplicates; `set_aside` is where a failed file went, or where the version an update replaced went;
    `restored` when a failed file's previous version is back in its place."""

    name: str
    outcome: str
    reason: str = ""
    set_aside: Path | None = None
    restored: bool = False


def _batch_folder(corpus_dir: Path, kind: str) -> Path:
    """A new folder under the hidden `kind` folder, named by the time (a suffix when two batches share a second)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for n in range(1000):
        folder = corpus_dir / kind / (stamp if n == 0 else f"{stamp}-{n}")
        try:
            folder.mkdir(parents=True)
            return folder
        except FileExistsError:
            continue
    raise ConfigError(f"{corpus_dir / kind}: cannot make a new folder")


def place(files: Sequence[tuple[str, Path]], corpus_dir: Path, max_mb: float) -> Upload:
    """Save uploaded files (name as sent, temporary path) directly in `corpus_dir`.

    A file whose name is taken by a different file replaces it as its new version, the old one moved to
    `.replaced/<time>/`; the very same file is left as it is. Refused without being saved: unsafe or unsupported
    names, a name given twice, files over `max_mb`, files past MAX_UPLOAD_FILES. Each file is written under a hidden
    temporary name and renamed, so a concurrent ingest never reads half of it.
    """
    upload = Upload()
    corpus_dir.mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    replaced_dir: Path | None = None
    for n, (sent, temp) in enumerate(files):
        if n >= MAX_UPLOAD_FILES:
            upload.refused.append((sent, f"一次最多上传 {MAX_UPLOAD_FILES} 个文件"))
            continue
        try:
            name = safe_name(sent)
        except ValueError as exc:
            upload.refused.append((sent, str(exc)))
            continue
        if name.casefold() in taken:
            upload.refused.append((sent, "同一批上传中有同名文件"))
            continue
        size = temp.stat().st_size
        if size > max_mb * 1024 * 1024:
            upload.refused.append((name, f"文件过大（{size / 1024 / 1024:.1f} MB，上限 {max_mb:g} MB）"))
            continue
        taken.add(name.casefold())
        target = corpus_dir / name
        if target.is_symlink() or (target.exists() and not target.is_file()):
            upload.refused.append((name, "corpus 中同名的不是普通文件，未覆盖"))
            continue
        if target.exists() and file_sha256(target) == file_sha256(temp):
            upload.placed.append(Placed(name, target, same=True))
            continue
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=corpus_dir)
        os.close(fd)
        shutil.copyfile(temp, tmp)
        previous = None
        if target.exists():
            replaced_dir = replaced_dir or _batch_folder(corpus_dir, REPLACED)
            previous = replaced_dir / name
            os.replace(target, previous)
        os.replace(tmp, target)
        upload.placed.append(Placed(name, target, previous))
    return upload


def settle(upload: Upload, report: Report, corpus_dir: Path) -> list[FileResult]:
    """Each uploaded file's result in the ingest's report. A file that failed leaves the corpus for
    `.rejected/<time>/` (it would fail every later ingest), and the version it replaced, if any, comes back: what
    the index held for it is kept, as ingest keeps it for any file that fails."""
    failed = dict(report.failed)
    duplicates = dict(report.duplicates)
    added, updated = set(report.added), set(report.updated)
    results = [FileResult(sent, FAILED, reason) for sent, reason in upload.refused]
    rejected_dir: Path | None = None
    for placed in upload.placed:
        shown = shown_path(placed.path)
        if shown in failed:
            rejected_dir = rejected_dir or _batch_folder(corpus_dir, REJECTED)
            aside = rejected_dir / placed.name
            os.replace(placed.path, aside)
            if placed.previous is not None:
                os.replace(placed.previous, placed.path)
            results.append(FileResult(placed.name, FAILED, failed[shown], aside, placed.previous is not None))
        elif shown in added:
            results.append(FileResult(placed.name, ADDED))
        elif shown in updated:
            results.append(FileResult(placed.name, UPDATED, set_aside=placed.previous))
        elif shown in duplicates:
            results.append(FileResult(placed.name, DUPLICATE, relative(Path(duplicates[shown]), corpus_dir)))
        else:
            results.append(FileResult(placed.name, UNCHANGED))
    return results


def relative(path: Path, corpus_dir: Path) -> str:
    """A path as the maintainer knows it: under the corpus folder's own name when it lies there."""
    try:
        return str(Path(corpus_dir.name) / path.resolve().relative_to(corpus_dir.resolve()))
    except ValueError:
        return str(path)


# --- statuses -------------------------------------------------------------------------------------------------------


def _entry_key(line: str) -> str | None:
    """The key of a top-level `key: value` line of status.yaml, or None for anything else."""
    import yaml

    if not line.strip() or line[0] in " \t#-":
        return None
    try:
        data = yaml.safe_load(line)
    except yaml.YAMLError:
        return None
    return str(next(iter(data))) if isinstance(data, dict) and len(data) == 1 else None


def _entry_text(key: str, status: str, note: str) -> str:
    import yaml

    if note:
        return yaml.safe_dump({key: {"status": status, "note": note}}, allow_unicode=True, sort_keys=False,
                              default_flow_style=None, width=10_000)  # fmt: skip
    return yaml.safe_dump({key: status}, allow_unicode=True, default_flow_style=False, width=10_000)


def set_status(corpus_dir: Path, keys: Sequence[str], status: str | None, note: str = "") -> Path:
    """Write a document's status into `corpus_dir/status.yaml` (kb/validity.py reads it at the next ingest).

    `keys` are the document's 文号 and doc_id (empty ones skipped): an entry under any of them is replaced in place,
    else one is added under the first. `status` None removes the entries (the status is read from the texts again).
    Every other line, comments included, stays as it was.

    Raises:
        ConfigError: the status is not one of STATUSES, or status.yaml is not a mapping this edit can keep intact.
    """
    import yaml

    keys = [k for k in keys if k]
    if not keys:
        raise ConfigError("a document without 文号 or doc_id")
    if status is not None and status not in STATUSES:
        raise ConfigError(f"status {status!r} is not one of {'/'.join(STATUSES)}")
    path = corpus_dir / STATUS_FILE
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    try:
        before = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML ({exc}); fix it by hand first") from exc
    if not isinstance(before, dict):
        raise ConfigError(f"{path} is not a mapping of 文号 to status; fix it by hand first")
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    kept: list[str] = []
    at: int | None = None  # where the first entry of this document was
    skipping = False
    for line in lines:
        if skipping and line[:1] in (" ", "\t") and line.strip():
            continue  # the indented lines of a block entry being replaced
        skipping = _entry_key(line) in keys
        if skipping:
            at = len(kept) if at is None else at
            continue
        kept.append(line)
    if status is not None:
        new = _entry_text(keys[0] if at is None else _first_present(keys, before), status, note)
        kept.insert(len(kept) if at is None else at, new)
    result = "".join(kept)
    try:
        after = yaml.safe_load(result) or {}
    except yaml.YAMLError:
        after = None
    others = {str(k): v for k, v in before.items() if str(k) not in keys}
    wanted = [] if status is None else [{"status": status, "note": note} if note else status]
    if (
        not isinstance(after, dict)
        or {str(k): v for k, v in after.items() if str(k) not in keys} != others
        or [v for k, v in after.items() if str(k) in keys] != wanted
    ):
        raise ConfigError(f"{path}: cannot change it line by line without touching other entries; edit it by hand")
    atomic_write_text(path, result)
    return path


def _first_present(keys: Sequence[str], data: dict) -> str:
    present = {str(k) for k in data}
    return next((k for k in keys if k in present), keys[0])


# --- withdrawing ----------------------------------------------------------------------------------------------------


def withdraw(files: Sequence[Path], corpus_dir: Path) -> list[Path]:
    """Move a document's files out of the corpus into `.withdrawn/<time>/`, keeping their sub-folders; returns
    where each went. The next ingest of the corpus removes the document.

    Raises:
        ConfigError: no files, or a file outside `corpus_dir` (an ingest of the corpus would not remove its
            document), or one that is missing.
    """
    root = corpus_dir.resolve()
    if not files:
        raise ConfigError("the document has no files recorded in the index")
    for path in files:
        if not path.resolve().is_relative_to(root):
            raise ConfigError(f"{path} is not in {corpus_dir}")
        if not path.is_file():
            raise ConfigError(f"{path} is missing")
    folder = _batch_folder(corpus_dir, WITHDRAWN)
    moved = []
    for path in files:
        target = folder / path.resolve().relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
        moved.append(target)
    return moved
