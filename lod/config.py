"""Settings, read once: defaults, then lod.toml, then LOD_* environment, then command-line flags.

`SETTINGS` is the one table of names, defaults and help; the CLI and README draw on it and a test
fails when a setting is undocumented. Nothing deeper in lod reads the environment.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from lod.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting: its type is its default's; `minimum`, if any, is the least value that
    makes sense (a page of 0 records, -1 workers); `form`, if any, the pattern a text value
    must match entirely and what to call it in an error."""

    name: str
    default: Any
    help: str
    minimum: float | None = None
    form: tuple[re.Pattern[str], str] | None = None


CLUSTER_FORM = (
    re.compile(r"|local|(?:tcp://)?(?:\[[0-9A-Fa-f:.]+\]|[^\s/:\[\]]+):[0-9]{1,5}"),
    "empty, local, or a Dask scheduler address of the form tcp://host:port",
)
"""What `lod build --cluster` takes: Dask's own parser fails on anything else with a bare
ValueError, deep in a connection attempt."""


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "base_uri",
        "http://127.0.0.1:8000/",
        "Base URI every record and entity URI is minted under.",
    ),
    Setting("title", "lod archive", "Dataset title used in the VoID/DCAT description and pages."),
    Setting(
        "description", "Archival records published as linked open data.", "Dataset description."
    ),
    Setting(
        "publisher",
        "",
        "Name of the publishing institution (the foaf:name of the dataset's dcterms:publisher).",
    ),
    Setting(
        "license",
        "http://creativecommons.org/publicdomain/zero/1.0/",
        "Licence of the metadata as a whole (dcterms:license in the dataset description).",
    ),
    Setting(
        "strict",
        False,
        "Fail the whole build, writing nothing, if any record is rejected or violates the SHACL "
        "shapes (warnings pass).",
    ),
    Setting(
        "index_page_size",
        1000,
        "Records listed on each page of index.html; the next pages are index-2.html, "
        "index-3.html, and so on.",
        minimum=1,
    ),
    Setting("progress", True, "Show a progress bar when the output is a terminal."),
    Setting(
        "workers",
        0,
        "Build worker processes; 0 means one per core, 1 builds in-process.",
        minimum=0,
    ),
    Setting(
        "cluster",
        "",
        "Map and write records as tasks on a Dask cluster: a scheduler address "
        "(tcp://host:8786), or `local` for one started for the build; empty builds here.",
        form=CLUSTER_FORM,
    ),
    Setting(
        "thing_redirect",
        True,
        "`lod serve`: thing URIs answer 303 to their document; false answers 200 with "
        "Content-Location.",
    ),
    Setting(
        "query_timeout",
        30.0,
        "`lod serve`: seconds a SPARQL query may run before 503.",
        minimum=0.1,
    ),
    Setting(
        "query_row_limit",
        100_000,
        "`lod serve`: most solutions or triples in one answer.",
        minimum=1,
    ),
    Setting(
        "query_workers",
        0,
        "`lod serve`: queries run at once, each in a query process; 0 means one per core (as "
        "many spare processes take over from queries that run past 2 s).",
        minimum=0,
    ),
    Setting(
        "serve_workers",
        1,
        "`lod serve`: HTTP server processes sharing the port (each with its own query processes).",
        minimum=1,
    ),
    Setting(
        "admin_email",
        "",
        "`lod serve`: contact address OAI-PMH Identify names (until set: nobody@example.org).",
    ),
    Setting(
        "client_rate",
        20.0,
        "`lod serve`: requests a second one client may make on average (then 429 with "
        "Retry-After); 0 turns the per-client limits off.",
        minimum=0,
    ),
    Setting(
        "client_burst", 100, "`lod serve`: requests one client may make in a burst.", minimum=1
    ),
    Setting(
        "client_queries", 1, "`lod serve`: SPARQL queries one client may run at once.", minimum=1
    ),
    Setting(
        "client_query_seconds",
        30.0,
        "`lod serve`: seconds of query time one client may use a minute (as a bucket of that "
        "size, refilled steadily).",
        minimum=0,
    ),
    Setting(
        "trusted_proxies",
        "127.0.0.1,::1",
        "`lod serve`: addresses of proxies whose X-Forwarded-For names the client; their own "
        "requests are not limited.",
    ),
    Setting(
        "oai_page_size",
        100,
        "`lod serve`: records or headers per OAI-PMH list response.",
        minimum=1,
    ),
    Setting(
        "store",
        "",
        "`lod serve`, `lod push`: SPARQL query endpoint of an external store to answer from "
        "(empty: the build's embedded store).",
    ),
    Setting("store_user", "", "`lod serve`, `lod push`: user name for the external store."),
    Setting("store_password", "", "`lod serve`, `lod push`: password for the external store."),
    Setting(
        "store_auth", "basic", "`lod serve`, `lod push`: HTTP authentication, basic or digest."
    ),
)


@dataclass(frozen=True, slots=True)
class Config:
    base_uri: str = "http://127.0.0.1:8000/"
    title: str = "lod archive"
    description: str = "Archival records published as linked open data."
    publisher: str = ""
    license: str = "http://creativecommons.org/publicdomain/zero/1.0/"
    strict: bool = False
    progress: bool = True
    workers: int = 0
    cluster: str = ""
    thing_redirect: bool = True
    query_timeout: float = 30.0
    query_row_limit: int = 100_000
    index_page_size: int = 1000
    query_workers: int = 0
    serve_workers: int = 1
    admin_email: str = ""
    client_rate: float = 20.0
    client_burst: int = 100
    client_queries: int = 1
    client_query_seconds: float = 30.0
    trusted_proxies: str = "127.0.0.1,::1"
    oai_page_size: int = 100
    store: str = ""
    store_user: str = ""
    store_password: str = ""
    store_auth: str = "basic"
    source_date_epoch: int | None = None


def load_config(
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Merge the layers, each value checked alike whichever layer gave it; unknown keys in
    lod.toml are an error so typos do not pass silently."""
    values: dict[str, Any] = {s.name: s.default for s in SETTINGS}
    path = config_file or Path("lod.toml")
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: {exc}") from exc
        unknown = set(data) - set(values)
        if unknown:
            raise ConfigError(
                f"{path}: unknown setting(s) {', '.join(sorted(unknown))}; "
                f"known: {', '.join(values)}"
            )
        for setting in SETTINGS:
            if setting.name in data:
                values[setting.name] = _checked(
                    setting, data[setting.name], f"{path}: {setting.name}"
                )
    elif config_file is not None:
        raise ConfigError(f"config file {config_file} does not exist")
    env = environ if environ is not None else os.environ
    for setting in SETTINGS:
        raw = env.get(f"LOD_{setting.name.upper()}")
        if raw is not None:
            values[setting.name] = _checked(setting, raw, f"LOD_{setting.name.upper()}")
    by_name = {s.name: s for s in SETTINGS}
    for name, value in (overrides or {}).items():
        if value is not None:
            flag = by_name.get(name)
            values[name] = _checked(flag, value, f"the {name} option") if flag else value
    epoch = env.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            values["source_date_epoch"] = int(epoch)
        except ValueError as exc:
            raise ConfigError(f"SOURCE_DATE_EPOCH must be whole seconds, not {epoch!r}") from exc
    base = str(values["base_uri"])
    values["base_uri"] = base if base.endswith("/") else base + "/"
    known = {f.name for f in fields(Config)}
    return Config(**{k: v for k, v in values.items() if k in known})


def _checked(setting: Setting, value: object, source: str) -> Any:
    """`value` as the setting's type (its default's), or a ConfigError naming `source` (the
    file and key, or the variable), the value and what is expected. Text, as the environment
    gives every value, is parsed; a typed value, as lod.toml gives, must be of the type."""
    parsed = PARSERS[type(setting.default)](value)
    if parsed is None or not _fits(setting, parsed):
        raise ConfigError(f"{source} must be {_expected(setting)}, not {value!r}")
    return parsed


def _fits(setting: Setting, value: Any) -> bool:
    if setting.minimum is not None and value < setting.minimum:
        return False
    return setting.form is None or setting.form[0].fullmatch(value) is not None


def _expected(setting: Setting) -> str:
    if setting.form is not None:
        return setting.form[1]
    expected = EXPECTED[type(setting.default)]
    return expected if setting.minimum is None else f"{expected} of at least {setting.minimum:g}"


TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off", ""})


def _boolean(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    text = value.strip().lower() if isinstance(value, str) else None
    return True if text in TRUE else False if text in FALSE else None


def _whole(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return int(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _number(value: object) -> float | None:
    """A finite number: "nan" or "inf" would pass every range check and mean nothing."""
    if not isinstance(value, int | float | str) or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


PARSERS: dict[type, Callable[[object], Any]] = {
    bool: _boolean,
    int: _whole,
    float: _number,
    str: _text,
}
"""A setting's type -> its parser: the value as that type, or None if it is none."""

EXPECTED = {bool: "true or false", int: "a whole number", float: "a number", str: "text"}
