"""Settings: defaults, then lod.toml, then LOD_* environment, then flags; mistakes are named."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from lod.cli import main
from lod.config import SETTINGS, Config, load_config
from lod.errors import ConfigError
from lod.publish.site import EXIT_FAILED
from tests.conftest import RECORDS


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


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('strict = "maybe"', "strict must be true or false, not 'maybe'"),
        ('workers = "many"', "workers must be a whole number of at least 0, not 'many'"),
        ('index_page_size = "x"', "index_page_size must be a whole number of at least 1, not 'x'"),
        ('title = ["a"]', "title must be text, not ['a']"),
        ("index_page_size = 0", "index_page_size must be a whole number of at least 1, not 0"),
        ("index_page_size = -5", "index_page_size must be a whole number of at least 1, not -5"),
        ("workers = -1", "workers must be a whole number of at least 0, not -1"),
        ("workers = 2.5", "workers must be a whole number of at least 0, not 2.5"),
        ("workers = true", "workers must be a whole number of at least 0, not True"),
        ("query_timeout = 0", "query_timeout must be a number of at least 0.1, not 0"),
        ('query_timeout = "nan"', "query_timeout must be a number of at least 0.1, not 'nan'"),
    ],
)
def test_toml_values_are_checked(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "lod.toml"
    path.write_text(toml + "\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert str(caught.value) == f"{path}: {message}"


def test_every_layer_is_checked_alike(tmp_path: Path) -> None:
    path = tmp_path / "lod.toml"
    path.write_text('strict = "false"\nworkers = "2"\nquery_timeout = 5\n')
    config = load_config(path, environ={})
    assert (config.strict, config.workers, config.query_timeout) == (False, 2, 5.0)
    with pytest.raises(
        ConfigError, match="LOD_INDEX_PAGE_SIZE must be a whole number of at least 1"
    ):
        load_config(None, environ={"LOD_INDEX_PAGE_SIZE": "0"})
    with pytest.raises(ConfigError, match="the serve_workers option must be a whole number"):
        load_config(None, environ={}, overrides={"serve_workers": -1})


def test_cli_names_a_wrong_toml_value(tmp_path: Path) -> None:
    path = tmp_path / "lod.toml"
    path.write_text('workers = "many"\n')
    result = CliRunner().invoke(
        main, ["build", str(RECORDS), "--out", str(tmp_path / "site"), "--config", str(path)]
    )
    assert result.exit_code == EXIT_FAILED, result.output
    assert f"error: {path}: workers must be a whole number" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not (tmp_path / "site").exists()


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml", environ={})


def test_config_dataclass_knows_every_setting() -> None:
    assert {s.name for s in SETTINGS} <= set(Config.__dataclass_fields__)
