"""A linear model over named, standardised features, saved as a small versioned JSON file beside the code.

The passage ranker (kb/rank.py) is such a model; the script in evals/ that fits it writes the file. A missing or
damaged file is logged and the caller falls back to its default.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Linear:
    """score = intercept + Σ coef · (value − mean) / scale over `names`."""

    names: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    about: dict[str, Any] = field(default_factory=dict)

    def score(self, values: dict[str, float]) -> float:
        return self.intercept + sum(
            c * (values[n] - m) / s for n, m, s, c in zip(self.names, self.mean, self.scale, self.coef, strict=True)
        )

    def probability(self, values: dict[str, float]) -> float:
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, self.score(values)))))

    def as_dict(self, version: int) -> dict[str, Any]:
        return {
            "version": version,
            "features": list(self.names),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "coef": list(self.coef),
            "intercept": self.intercept,
            "about": self.about,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], features: tuple[str, ...], version: int) -> Self:
        if data.get("version") != version or tuple(data["features"]) != features:
            raise ValueError("a model of another version or feature set: re-fit it")
        return cls(
            tuple(data["features"]),
            tuple(float(x) for x in data["mean"]),
            tuple(float(x) for x in data["scale"]),
            tuple(float(x) for x in data["coef"]),
            float(data["intercept"]),
            dict(data.get("about") or {}),
        )

    @classmethod
    def load(cls, path: Path, features: tuple[str, ...], version: int, what: str) -> Self | None:
        """The model in `path`, or None (logged) when it is missing or unusable."""
        try:
            return cls.from_dict(json.loads(path.read_text(encoding="utf-8")), features, version)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("%s %s unusable (%s): not used", what, path, exc)
            return None
