"""Where the store's companion files live: the data directory, or a Chroma server shared by several replicas.

A blob is a named text ("manifest.json", "texts/<key>-<version>.txt"). Names in one group share the prefix before
their last "-" (all versions of one document's text), so a group can be pruned to the version the manifest lists.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Protocol

from .errors import StoreError
from .files import atomic_write_text


def group_of(name: str) -> str:
    return name.rsplit("-", 1)[0] if "-" in name.rsplit("/", 1)[-1] else name


class Blobs(Protocol):
    def read(self, name: str) -> str | None: ...

    def write(self, name: str, text: str) -> None: ...

    def prune(self, group: str, keep: str | None = None) -> None:
        """Delete every blob of `group` except the one named `keep`."""

    def version(self, name: str) -> str | None:
        """A cheap token that changes whenever the blob is rewritten (None when it does not exist)."""

    def clear(self) -> None: ...

    def delete(self, name: str) -> None: ...

    def where(self, name: str) -> str:
        """The blob's location, for messages."""

    def names(self, folder: str) -> set[str]:
        """Names of the blobs in a folder ("texts"), to check a store's consistency."""


class LocalBlobs:
    """Files under the data directory, written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def where(self, name: str) -> str:
        return str(self.root / name)

    def names(self, folder: str) -> set[str]:
        return {f"{folder}/{p.name}" for p in (self.root / folder).glob("*") if not p.name.startswith(".")}

    def read(self, name: str) -> str | None:
        path = self.root / name
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"{path}: unreadable ({exc})") from exc

    def write(self, name: str, text: str) -> None:
        atomic_write_text(self.root / name, text)

    def prune(self, group: str, keep: str | None = None) -> None:
        folder, _, stem = group.rpartition("/")
        for path in (self.root / folder).glob(f"{stem}-*"):
            if keep is None or path.name != Path(keep).name:
                path.unlink(missing_ok=True)

    def delete(self, name: str) -> None:
        (self.root / name).unlink(missing_ok=True)

    def version(self, name: str) -> str | None:
        try:
            return str((self.root / name).stat().st_mtime_ns)
        except OSError:
            return None

    def clear(self) -> None:
        """Only the blobs this module writes; the lexical index and Chroma's files are cleared by the store."""
        (self.root / "manifest.json").unlink(missing_ok=True)
        for folder in ("texts", "cards", "windows"):
            for path in (self.root / folder).glob("*"):
                path.unlink(missing_ok=True)


class ChromaBlobs:
    """Records of a side collection on the Chroma server (the text in metadata, which Chroma does not
    full-text index; a one-number placeholder vector because Chroma requires one)."""

    def __init__(self, client: Any, name: str) -> None:
        self._client = client
        self._name = name
        self._collection = client.get_or_create_collection(name, embedding_function=None)

    def where(self, name: str) -> str:
        return f"{name} in the Chroma server's collection {self._name!r}"

    def names(self, folder: str) -> set[str]:
        ids = self._collection.get(include=[])["ids"]
        return {i for i in ids if i.startswith(f"{folder}/") and not i.endswith("#sha")}

    def read(self, name: str) -> str | None:
        got = self._collection.get(ids=[name], include=["metadatas"])
        if not got["ids"]:
            return None
        return str((got["metadatas"][0] or {}).get("body", ""))

    def write(self, name: str, text: str) -> None:
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        self._collection.upsert(
            ids=[name], embeddings=[[0.0]], metadatas=[{"body": text, "sha": digest, "group": group_of(name)}]
        )
        # Then a small record with the digest alone, so that polling for changes never fetches the body.
        self._collection.upsert(
            ids=[f"{name}#sha"], embeddings=[[0.0]], metadatas=[{"sha": digest, "group": f"{group_of(name)}#"}]
        )

    def prune(self, group: str, keep: str | None = None) -> None:
        got = self._collection.get(where={"group": {"$in": [group, f"{group}#"]}}, include=[])
        doomed = [i for i in got["ids"] if keep is None or i not in (keep, f"{keep}#sha")]
        if doomed:
            self._collection.delete(ids=doomed)

    def delete(self, name: str) -> None:
        self._collection.delete(ids=[name, f"{name}#sha"])

    def version(self, name: str) -> str | None:
        got = self._collection.get(ids=[f"{name}#sha"], include=["metadatas"])
        return str((got["metadatas"][0] or {}).get("sha")) if got["ids"] else None

    def clear(self) -> None:
        from chromadb.errors import NotFoundError

        try:
            self._client.delete_collection(self._name)
        except NotFoundError:
            pass
        self._collection = self._client.get_or_create_collection(self._name, embedding_function=None)
