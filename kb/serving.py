"""Ingest while the web app serves: a serving process takes the ingest jobs for its own data directory.

Chroma's embedded store belongs to one process: the app keeps the vector index in memory and never sees another
process's writes (new passages are invisible to dense search, or a search fails with "Error finding id"). So the
app, while it serves an embedded store, holds a lock on `serving.lock` in the data directory and listens on a Unix
socket named in that file; `python ingest.py` on the same data directory finds the lock held and hands its job over
instead of writing itself. The app runs the job with the same `kb.ingest` (one job at a time), streams the progress
back, and reloads its index as soon as the ingest commits. With a Chroma server (`KB_CHROMA_URL`) every process may
write, and each serving replica polls the shared manifest (kb/retrieve.py), so nothing is handed over.

The protocol is one JSON line each way to start (the job, then "accepted"), JSON lines of progress, and a last
line with the report or the error. The socket is the owner's only (mode 0600, in a private directory).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import socket
import socketserver
import stat
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import IO, Any

from .config import Settings
from .embed import Embedder
from .errors import ConfigError, IndexMismatch, IngestBusy, KBError, LoadError, StoreError
from .ingest import Progress, Report, ingest

log = logging.getLogger(__name__)

LOCK_NAME = "serving.lock"
ERRORS: dict[str, type[KBError]] = {
    cls.__name__: cls for cls in (ConfigError, IndexMismatch, IngestBusy, LoadError, StoreError, KBError)
}


def _socket_path(data_dir: Path) -> Path:
    """Short enough for a Unix socket (108 bytes) wherever the data directory is, private to this user."""
    key = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]
    base = Path(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()) / f"kb-{os.getuid()}"
    base.mkdir(mode=0o700, exist_ok=True)
    found = base.lstat()
    if not stat.S_ISDIR(found.st_mode) or found.st_uid != os.getuid() or found.st_mode & 0o077:
        # Another user could swap the socket in a folder they own or may write to: never talk through it.
        raise IngestBusy(f"{base} is not a private folder of this user; remove it and start the app again")
    return base / f"{key}.sock"


def report_dict(report: Report) -> dict[str, Any]:
    return asdict(report)


def report_from(data: dict[str, Any]) -> Report:
    known = {f.name for f in fields(Report)}
    values = {k: v for k, v in data.items() if k in known}
    for name in ("duplicates", "failed", "ignored"):
        values[name] = [tuple(pair) for pair in values.get(name, [])]
    return Report(**values)


class _Relay(Progress):
    """Progress events as JSON lines to the waiting CLI; a CLI that went away does not stop the ingest."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.gone = False

    def _send(self, **event: Any) -> None:
        if self.gone:
            return
        try:
            self.out.write(json.dumps(event, ensure_ascii=False).encode() + b"\n")
            self.out.flush()
        except OSError:
            self.gone = True
            log.info("the ingest's caller went away; the ingest goes on")

    def reading(self, total: int) -> None:
        self._send(event="reading", value=total)

    def file_read(self, path: str) -> None:
        self._send(event="file_read", value=path)

    def documents(self, total: int) -> None:
        self._send(event="documents", value=total)

    def document_done(self, path: str) -> None:
        self._send(event="document_done", value=path)

    def chunks(self, total: int) -> None:
        self._send(event="chunks", value=total)

    def chunks_done(self, n: int) -> None:
        self._send(event="chunks_done", value=n)


PROGRESS_EVENTS = ("reading", "file_read", "documents", "document_done", "chunks", "chunks_done")


@dataclass
class IngestService:
    """The serving side: holds the data directory's serving lock and runs the ingests handed to it.

    `after` runs once each ingest has committed (the app reloads its index there).
    """

    settings: Settings
    embedder: Embedder
    after: Callable[[Report], None] = lambda report: None

    def __post_init__(self) -> None:
        self._job_lock = threading.Lock()  # one ingest at a time, the app's own (管理 page) and handed-over ones
        self._lock_file: IO[str] | None = None
        self._server: socketserver.UnixStreamServer | None = None

    def run(self, paths: Sequence[Path], *, rebuild: bool = False, progress: Progress | None = None) -> Report:
        """One ingest in this process, after any other that is running here."""
        with self._job_lock:
            report = ingest(paths, self.settings, rebuild=rebuild, progress=progress, embedder=self.embedder)
        self.after(report)  # a status-only change commits too; reloading an unchanged index does nothing
        return report

    def start(self) -> bool:
        """Take the serving lock and listen; False (and nothing started) when another process serves this data
        directory or the store is a Chroma server."""
        if self.settings.chroma_url:
            return False
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        lock_file = open(self.settings.data_dir / LOCK_NAME, "a+", encoding="utf-8")  # noqa: SIM115 - held while serving
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock_file.close()
            log.warning("another process serves %s: ingests there go to it, not here", self.settings.data_dir)
            return False
        path = _socket_path(self.settings.data_dir)
        path.unlink(missing_ok=True)
        service = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                service._handle(self.rfile, self.wfile)

        old_umask = os.umask(0o177)
        try:
            server = socketserver.ThreadingUnixStreamServer(str(path), Handler)
        finally:
            os.umask(old_umask)
        server.daemon_threads = True
        lock_file.seek(0)
        lock_file.truncate()
        lock_file.write(json.dumps({"pid": os.getpid(), "socket": str(path)}) + "\n")
        lock_file.flush()
        self._lock_file, self._server = lock_file, server
        threading.Thread(target=server.serve_forever, name="ingest-socket", daemon=True).start()
        log.info("ingests of %s are run here (socket %s)", self.settings.data_dir, path)
        return True

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            Path(str(self._server.server_address)).unlink(missing_ok=True)
            self._server = None
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    def _handle(self, rfile: IO[bytes], wfile: IO[bytes]) -> None:
        relay = _Relay(wfile)
        try:
            job = json.loads(rfile.readline(1 << 20) or b"{}")
            paths = [Path(p) for p in job.get("paths", [])]
            if not paths or not all(p.is_absolute() for p in paths):
                raise ConfigError("an ingest job needs absolute paths")
            relay._send(event="accepted", waiting=self._job_lock.locked())
            report = self.run(paths, rebuild=bool(job.get("rebuild")), progress=relay)
            relay._send(event="report", report=report_dict(report))
        except KBError as exc:
            relay._send(event="error", kind=type(exc).__name__, message=str(exc))
        except (ValueError, TypeError) as exc:
            relay._send(event="error", kind="ConfigError", message=f"a malformed ingest job: {exc}")
        except Exception:
            log.exception("a handed-over ingest failed")
            relay._send(event="error", kind="KBError", message="the ingest failed in the serving app; see its log")


def serving_socket(settings: Settings) -> Path | None:
    """The socket of the app that serves this data directory, or None when none does (or it is a Chroma server)."""
    if settings.chroma_url:
        return None
    lock_path = settings.data_dir / LOCK_NAME
    if not lock_path.exists():
        return None
    with open(lock_path, "a+", encoding="utf-8") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            try:
                return Path(json.loads(fh.readline())["socket"])
            except (ValueError, KeyError) as exc:
                raise IngestBusy(
                    f"{lock_path}: a process serves this data directory but its lock is unreadable"
                ) from exc
        fcntl.flock(fh, fcntl.LOCK_UN)
        return None  # a lock left by an app that stopped


def hand_off(socket_path: Path, paths: Sequence[Path], *, rebuild: bool, progress: Progress) -> Report:
    """Have the serving app run the ingest; its progress reaches `progress`.

    Raises:
        IngestBusy: the app serves the data directory but does not answer.
        KBError: what the ingest in the app raised (same class and message).
    """
    job = {"paths": [str(p.resolve()) for p in paths], "rebuild": rebuild}
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        try:
            conn.connect(str(socket_path))
        except OSError as exc:
            raise IngestBusy(
                f"a running web app serves this data directory but its ingest socket {socket_path} does not answer "
                f"({exc.strerror}); stop the app or ingest through it"
            ) from exc
        conn.sendall(json.dumps(job, ensure_ascii=False).encode() + b"\n")
        with conn.makefile("rb") as lines:
            for raw in lines:
                event = json.loads(raw)
                kind = event.get("event")
                if kind == "accepted":
                    log.info(
                        "the running web app takes this ingest%s", " after the one it is running" * event["waiting"]
                    )
                elif kind in PROGRESS_EVENTS:
                    getattr(progress, kind)(event["value"])
                elif kind == "report":
                    return report_from(event["report"])
                elif kind == "error":
                    raise ERRORS.get(event.get("kind", ""), KBError)(event.get("message", "the ingest failed"))
    raise IngestBusy("the web app that ran this ingest stopped before it finished; run the ingest again")


def ingest_here_or_in_app(
    paths: Sequence[Path],
    settings: Settings,
    *,
    rebuild: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> Report:
    """`kb.ingest`, handed to the web app when one serves this (embedded) data directory; a dry run reads only, so
    it runs here."""
    progress = progress or Progress()
    found = None if dry_run else serving_socket(settings)
    if found is None:
        return ingest(paths, settings, rebuild=rebuild, dry_run=dry_run, progress=progress)
    log.warning("a web app serves %s: the ingest runs in it", settings.data_dir)
    return hand_off(found, paths, rebuild=rebuild, progress=progress)
