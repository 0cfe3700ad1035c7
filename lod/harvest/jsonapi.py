"""Harvesting a JSON record API one ID at a time (the Digital Archive's `/srv/record/ID.json`).

Such APIs have no list of changes to follow, so the caller names the IDs (lists and ranges:
"112095,300237-300242"). Each answer is checked to be JSON and written as it came, to ID.json,
which lod.sources.dajson reads. An ID the API does not know (404) is reported, not fatal: ranges
of IDs have gaps.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from lod.errors import HarvestError
from lod.harvest.files import prepare, write_atomic
from lod.harvest.http import PoliteSession
from lod.uris import safe_id

RECORD_PATH = "srv/record/{id}.json"
"""Where the Digital Archive's API answers for one record, under the site's URL."""
MAX_IDS = 1_000_000
FAILURES_IN_A_ROW = 5
"""IDs failing one after another that end the harvest: by then the API is down or the URL is
wrong, and asking on would only hammer it."""
_RANGE = re.compile(r"(\d+)\s*-\s*(\d+)")


@dataclass(slots=True)
class Report:
    written: int = 0
    missing: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    """IDs whose answer was an error or no JSON record (each said in a notice)."""


def parse_ids(text: str) -> list[str]:
    """'112095, 300237-300239' -> ['112095', '300237', '300238', '300239'], in order, once each."""
    ids: list[str] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        match = _RANGE.fullmatch(part)
        if match:
            first, last = int(match[1]), int(match[2])
            if last < first or last - first >= MAX_IDS:
                raise HarvestError(f"the ID range {part!r} is empty or too large")
            width = len(match[1]) if match[1].startswith("0") else 0
            ids.extend(str(n).zfill(width) for n in range(first, last + 1))
        else:
            ids.append(part)
    if len(ids) > MAX_IDS:
        raise HarvestError(f"{len(ids)} IDs are more than the {MAX_IDS} one harvest takes")
    return list(dict.fromkeys(ids))


def record_url(url: str, record_id: str) -> str:
    """The API URL of one record: `url` with {id} filled in, else url/srv/record/ID.json."""
    template = url if "{id}" in url else url.rstrip("/") + "/" + RECORD_PATH
    return template.replace("{id}", quote(record_id, safe=""))


def harvest(
    url: str,
    ids: list[str],
    out: Path,
    session: PoliteSession,
    notice: Callable[[str], None] = lambda _m: None,
) -> Report:
    """Harvest each ID into out/ID.json. IDs are independent, so one whose answer fails is
    reported and the next one asked: a bad record must not cost the records after it."""
    prepare(out)
    report = Report()
    in_a_row = 0
    for record_id in ids:
        try:
            _harvest_one(url, record_id, out, session, notice, report)
        except HarvestError as exc:
            notice(f"notice: {exc}")
            report.failed.append(record_id)
            in_a_row += 1
            if in_a_row >= FAILURES_IN_A_ROW:
                raise HarvestError(
                    f"{in_a_row} IDs in a row failed (last: {exc}); the API seems to be down "
                    f"or the URL wrong; {report.written} records were written, "
                    "run again later with the IDs not harvested yet"
                ) from None
        else:
            in_a_row = 0
    return report


def _harvest_one(
    url: str,
    record_id: str,
    out: Path,
    session: PoliteSession,
    notice: Callable[[str], None],
    report: Report,
) -> None:
    address = record_url(url, record_id)
    response = session.get(address, accept=(404, 410))
    if response.status_code in (404, 410):
        notice(f"notice: {address}: no such record (HTTP {response.status_code})")
        report.missing.append(record_id)
        return
    write_atomic(out / f"{safe_id(record_id)}.json", _checked(response.content, address))
    report.written += 1


def _checked(data: bytes, url: str) -> bytes:
    """The answer as it came, once it is known to be a JSON object or list in UTF-8."""
    try:
        value = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise HarvestError(f"{url}: the answer is not UTF-8 text") from None
    except RecursionError:
        raise HarvestError(f"{url}: the answer is JSON nested too deeply to read") from None
    except json.JSONDecodeError as exc:
        raise HarvestError(
            f"{url}: the answer is not valid JSON ({exc.msg} at line {exc.lineno}, "
            f"column {exc.colno})"
        ) from None
    if not isinstance(value, dict | list):
        raise HarvestError(f"{url}: the answer is JSON but no record (a {type(value).__name__})")
    return data


__all__ = ["RECORD_PATH", "Report", "harvest", "parse_ids", "record_url"]
