"""Links proposed by a reconciliation service (Wikidata's by default), for a person to review.

`lod reconcile` asks a W3C Reconciliation Service (Reconciliation Service API, W3C Community
Group draft, v0.2) about each person, organization and place of vocab/authorities.csv that has
no link to the service's hub yet, and writes what it proposes to vocab/proposed-links.csv: the
columns of vocab/links.csv, relation `skos:closeMatch`, the service's score as the confidence,
and no evidence or date, because nobody has checked it. `lod build` never reads that file. A
proposal is published only when someone moves its row into vocab/links.csv: as it is (an
unverified `skos:closeMatch` with its confidence), or after checking it, as `owl:sameAs` or
`skos:exactMatch` with the evidence and the date. Marking a row `rejected` in the `review`
column keeps it in the file and stops the service proposing that target again.

Protocol: the service manifest (GET on the endpoint) gives `identifierSpace`, the prefix of the
target URIs, and `view.url`, a page per candidate; queries go in batches as
`queries={"q0": {"query": ..., "type": ..., "limit": ...}}` (GET). Requests go through the
harvester's PoliteSession (User-Agent, spacing, retries), and every answer is cached on disk by
endpoint and query, so running again sends nothing that was asked before.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lod.errors import HarvestError
from lod.harvest.http import PoliteSession
from lod.vocab import LINK_COLUMNS, Authority, Vocab

DEFAULT_ENDPOINT = "https://wikidata.reconci.link/en/api"
"""Wikidata's reconciliation service (the OpenRefine community's), English labels."""
PERSON_TYPE = "Q5"
"""Wikidata's class "human": the default type constraint for people."""
KINDS = ("person", "organization", "place")
BATCH = 10
"""Queries per request: the protocol takes several at once, and servers prefer fewer requests."""
COLUMNS = (*LINK_COLUMNS, "candidate", "review")
"""vocab/proposed-links.csv: a links.csv row, the candidate's name, and the reviewer's mark."""
REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Service:
    """What the manifest says: where target ids live and where a person can look at one."""

    endpoint: str
    name: str
    identifier_space: str
    view: str


@dataclass(slots=True)
class Report:
    asked: int = 0
    proposed: int = 0
    cached: int = 0
    rows: list[dict[str, str]] = field(default_factory=list)


class Cache:
    """Answers on disk, one JSON file per (endpoint, request), named by their SHA-256."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, endpoint: str, params: dict[str, str]) -> Path:
        key = json.dumps([endpoint, params], sort_keys=True, ensure_ascii=False)
        return self.folder / (hashlib.sha256(key.encode("utf-8")).hexdigest() + ".json")

    def get(self, endpoint: str, params: dict[str, str]) -> Any:
        try:
            return json.loads(self.path(endpoint, params).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def put(self, endpoint: str, params: dict[str, str], value: Any) -> None:
        path = self.path(endpoint, params)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, path)


class Client:
    """A reconciliation service behind a PoliteSession and a Cache."""

    def __init__(self, endpoint: str, session: PoliteSession, cache: Cache) -> None:
        self.endpoint = endpoint
        self.session = session
        self.cache = cache
        self.cached = 0

    def fetch(self, params: dict[str, str]) -> Any:
        known = self.cache.get(self.endpoint, params)
        if known is not None:
            self.cached += 1
            return known
        response = self.session.get(self.endpoint, params)
        try:
            value = response.json()
        except ValueError:
            raise HarvestError(
                f"{response.url}: the reconciliation service did not answer with JSON; "
                "check --endpoint"
            ) from None
        self.cache.put(self.endpoint, params, value)
        return value

    def service(self) -> Service:
        manifest = self.fetch({})
        space = manifest.get("identifierSpace") if isinstance(manifest, dict) else None
        if not isinstance(space, str) or not space:
            raise HarvestError(
                f"{self.endpoint}: no reconciliation service manifest (identifierSpace is "
                "missing); check --endpoint"
            )
        view = manifest.get("view")
        view_url = view.get("url", "") if isinstance(view, dict) else ""
        return Service(self.endpoint, str(manifest.get("name", "")), space, str(view_url))

    def candidates(self, queries: dict[str, dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        answer = self.fetch({"queries": json.dumps(queries, sort_keys=True, ensure_ascii=False)})
        if not isinstance(answer, dict):
            raise HarvestError(f"{self.endpoint}: the answer to a query batch is no JSON object")
        out: dict[str, list[dict[str, Any]]] = {}
        for key in queries:
            entry = answer.get(key)
            results = entry.get("result") if isinstance(entry, dict) else None
            out[key] = [r for r in results or [] if isinstance(r, dict) and r.get("id")]
        return out


def reconcile(
    vocab: Vocab,
    client: Client,
    hub: str,
    out: Path,
    person_type: str = PERSON_TYPE,
    candidates: int = 1,
    say: Callable[[str], None] = lambda message: None,
) -> Report:
    """Ask the service about every entity without a `hub` link; write the proposals to `out`."""
    service = client.service()
    kept = [row for row in read_proposals(out) if row.get("review") == REJECTED]
    rejected = {(row["slug"], row["target"]) for row in kept}
    todo = [a for a in _entities(vocab) if not _linked(vocab, a, hub)]
    report = Report(asked=len(todo))
    for start in range(0, len(todo), BATCH):
        batch = todo[start : start + BATCH]
        queries = {f"q{i}": _query(a, person_type, candidates) for i, a in enumerate(batch)}
        answers = client.candidates(queries)
        for key, authority in zip(queries, batch, strict=True):
            for result in answers[key][:candidates]:
                row = _proposal(authority, result, service, hub)
                if row and (row["slug"], row["target"]) not in rejected:
                    report.rows.append(row)
        say(f"asked about {min(start + BATCH, len(todo))} of {len(todo)} entities")
    report.proposed = len(report.rows)
    report.cached = client.cached
    write_proposals(out, [*kept, *report.rows])
    return report


def read_proposals(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return [{k: (v or "") for k, v in row.items()} for row in csv.DictReader(handle)]
    except FileNotFoundError:
        return []


def write_proposals(path: Path, rows: list[dict[str, str]]) -> None:
    """The review file, written whole and renamed into place (never half a file)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({c: row.get(c, "") for c in COLUMNS} for row in rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(buffer.getvalue(), encoding="utf-8")
    os.replace(temporary, path)


def _entities(vocab: Vocab) -> Iterator[Authority]:
    seen: set[str] = set()
    for authority in vocab.authorities.values():
        if authority.kind in KINDS and authority.slug not in seen:
            seen.add(authority.slug)
            yield authority


def _linked(vocab: Vocab, authority: Authority, hub: str) -> bool:
    return any((link := vocab.link(t)) and link.hub == hub for t in authority.same_as)


def _query(authority: Authority, person_type: str, candidates: int) -> dict[str, Any]:
    query: dict[str, Any] = {"query": authority.label, "limit": max(1, candidates)}
    if authority.kind == "person" and person_type:
        query["type"] = person_type
    return query


def _proposal(
    authority: Authority, result: dict[str, Any], service: Service, hub: str
) -> dict[str, str] | None:
    """A closeMatch row for one candidate, or None when its score says nothing."""
    try:
        score = float(result.get("score", 0))
    except (TypeError, ValueError):
        return None
    confidence = min(score / 100, 0.99)
    if confidence <= 0:
        return None
    candidate_id = str(result["id"])
    matched = " (the service marks it a match)" if result.get("match") is True else ""
    return {
        "slug": authority.slug,
        "hub": hub,
        "target": service.identifier_space + candidate_id,
        "relation": "skos:closeMatch",
        "method": f"proposed by {service.name or service.endpoint} for the name "
        f'"{authority.label}"{matched}; not checked',
        "evidence": service.view.replace("{{id}}", candidate_id) if service.view else "",
        "checked": "",
        "confidence": f"{confidence:.2f}",
        "candidate": str(result.get("name", "")),
        "review": "",
    }


__all__ = ["DEFAULT_ENDPOINT", "Cache", "Client", "Report", "Service", "reconcile"]
