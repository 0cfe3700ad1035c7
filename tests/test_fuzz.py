"""Generated requests over the whole HTTP surface (issue 7, Hostile requests): schemathesis
draws requests from the OpenAPI description of `lod serve` (vocab/openapi.json), valid and
invalid, with hostile strings, against a real server on 127.0.0.1; no answer may be a 5xx or
show internal text. `FUZZ_EXAMPLES=500` runs a longer pass."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402

from tests.conftest import ROOT, running_server  # noqa: E402

OPENAPI = ROOT / "vocab" / "openapi.json"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
INTERNAL = ("Traceback", 'File "', "pyoxigraph", "Exception", "lod/serve", "site-packages")


@pytest.fixture(scope="module")
def fuzz_server(records_site: Path) -> Iterator[str]:
    with running_server(records_site, client_rate="0", query_timeout="5") as url:
        yield url


def breakable(operation: Any) -> bool:
    """Whether the description constrains a parameter (an enum, a number), so that requests
    breaking it can be drawn; free strings cannot be broken, only filled with anything."""
    schemas = [p.get("schema", {}) for p in operation.definition.raw.get("parameters", [])]
    return any("enum" in schema or schema.get("type") == "integer" for schema in schemas)


OPERATIONS = [
    result.ok() for result in schemathesis.openapi.from_path(OPENAPI).get_all_operations()
]


CASES = [
    pytest.param(operation, mode, id=f"{operation.label}-{mode.value}")
    for operation in OPERATIONS
    for mode in schemathesis.GenerationMode
    if mode is schemathesis.GenerationMode.POSITIVE or breakable(operation)
]


@pytest.mark.parametrize(("operation", "mode"), CASES)
def test_no_server_errors_and_no_internals(operation: Any, mode: Any, fuzz_server: str) -> None:
    """Each operation's generated requests, valid ones and ones that break the description
    (schemathesis' strategies under hypothesis; schemathesis 4's pytest plugin does not load
    under pytest 9)."""

    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def answer_is_safe(case: Any) -> None:
        response = case.call(base_url=fuzz_server, timeout=30)
        shown = f"{case.method} {case.formatted_path} {case.query} -> {response.status_code}"
        assert response.status_code < 500, (shown, response.text[:300])
        text = response.content.decode("utf-8", "replace")
        for marker in INTERNAL:
            assert marker not in text, (shown, marker, text[:300])

    answer_is_safe()
