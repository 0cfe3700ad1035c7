"""Settings: defaults, then lod.toml, then LOD_* environment, then flags; mistakes are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from lod.config import SETTINGS, Config, load_config
from lod.errors import ConfigError


def test_defaults_match_the_table(tmp_path: Path) -> None:
    config = load_config(None, environ={})
    for setting in SETTINGS:
        assert getattr(config, setting.name) == setting.default
    assert config.source_date_epoch is None


def test_layers_override_in_order(tmp_path: Path) -> None:
    toml = tmp_path / "lod.toml"
    toml.write_text('base_uri = "https://archive.example/lod"\ntitle = "From toml"\nworkers = 1\n')
    config = load_config(toml, environ={"LOD_TITLE": "From env", "LOD_STRICT": "yes"})
    assert config.base_uri == "https://archive.example/lod/"  # a trailing slash is added
    assert (config.title, config.strict, config.workers) == ("From env", True, 1)
    flagged = load_config(toml, environ={"LOD_TITLE": "From env"}, overrides={"title": "From flag"})
    assert flagged.title == "From flag"


def test_source_date_epoch(tmp_path: Path) -> None:
    assert (
        load_config(None, environ={"SOURCE_DATE_EPOCH": "1700000000"}).source_date_epoch
        == 1700000000
    )
    with pytest.raises(ConfigError, match="SOURCE_DATE_EPOCH"):
        load_config(None, environ={"SOURCE_DATE_EPOCH": "yesterday"})


@pytest.mark.parametrize(
    ("toml", "environ", "message"),
    [
        ('base_url = "x"\n', {}, "unknown setting"),
        ("title = \n", {}, "lod.toml"),
        ("", {"LOD_STRICT": "maybe"}, "LOD_STRICT must be true or false"),
        ("", {"LOD_WORKERS": "two"}, "LOD_WORKERS must be a whole number"),
    ],
)
def test_mistakes_are_named(
    tmp_path: Path, toml: str, environ: dict[str, str], message: str
) -> None:
    path = tmp_path / "lod.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError, match=message):
        load_config(path, environ=environ)


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml", environ={})


def test_config_dataclass_knows_every_setting() -> None:
    assert {s.name for s in SETTINGS} <= set(Config.__dataclass_fields__)
