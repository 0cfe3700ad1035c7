"""410 Gone for what the change log says was deleted, with a tombstone in the negotiated format.

A client holding a URI learns that it is gone for good (RFC 9110 15.5.11), when, and why,
instead of a 404 that might be a typo. The tombstone is Activity Streams: the URI
`a as:Tombstone` with `as:formerType`, `as:deleted` (xsd:dateTime), `as:name` (its last title)
and `as:summary` (the log's reason). Its JSON-LD carries its context inline, so a client
parses it without fetching anything.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from html import escape
from http import HTTPStatus
from typing import Any

from pyoxigraph import Literal, NamedNode, RdfFormat, Triple, serialize

from lod.changelog import Resource
from lod.formats import FORMATS, Format
from lod.namespaces import PREFIXES
from lod.serve.http import Response
from lod.serve.kinds import class_of

AS = "https://www.w3.org/ns/activitystreams#"
XSD = PREFIXES["xsd"]
RDF_TYPE = NamedNode(PREFIXES["rdf"] + "type")
CONTEXT: dict[str, Any] = {
    "as": AS,
    "xsd": XSD,
    "id": "@id",
    "type": "@type",
    "Tombstone": "as:Tombstone",
    "formerType": {"@id": "as:formerType", "@type": "@id"},
    "deleted": {"@id": "as:deleted", "@type": "xsd:dateTime"},
    "name": "as:name",
    "summary": {"@id": "as:summary", "@language": "en"},
}
"""The Activity Streams 2.0 context's definitions of the terms a tombstone uses."""


def triples(found: Resource, base: str) -> list[Triple]:
    s = NamedNode(found.uri)
    out = [
        Triple(s, RDF_TYPE, NamedNode(AS + "Tombstone")),
        Triple(s, NamedNode(AS + "formerType"), NamedNode(class_of(found.kind, found.uri, base))),
        Triple(
            s,
            NamedNode(AS + "deleted"),
            Literal(found.deleted or "", datatype=NamedNode(XSD + "dateTime")),
        ),
    ]
    if found.title:
        out.append(Triple(s, NamedNode(AS + "name"), Literal(found.title)))
    if found.reason:
        out.append(Triple(s, NamedNode(AS + "summary"), Literal(found.reason, language="en")))
    return out


def jsonld(found: Resource, base: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "@context": CONTEXT,
        "id": found.uri,
        "type": "Tombstone",
        "formerType": class_of(found.kind, found.uri, base),
        "deleted": found.deleted,
    }
    if found.title:
        body["name"] = found.title
    if found.reason:
        body["summary"] = found.reason
    return body


def _rdf(fmt: Format) -> Callable[[Resource, str], bytes]:
    def write(found: Resource, base: str) -> bytes:
        assert fmt.rdf_format is not None
        prefixes = None if fmt.rdf_format is RdfFormat.N_TRIPLES else {"as": AS, "xsd": XSD}
        data = serialize(triples(found, base), format=fmt.rdf_format, prefixes=prefixes)
        assert data is not None  # serialize returns bytes when given no output
        return data

    return write


def _jsonld(found: Resource, base: str) -> bytes:
    return (json.dumps(jsonld(found, base), ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _html(found: Resource, base: str) -> bytes:
    """A page for people, with the same statements as JSON-LD for machines reading HTML."""
    data = json.dumps(jsonld(found, base), ensure_ascii=False).replace("<", "\\u003c")
    name = escape(found.title or found.uri)
    why = f": {escape(found.reason)}" if found.reason else ""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<link rel="icon" href="data:,">'
        f"<title>410 Gone: {name}</title>"
        f'<script type="application/ld+json">{data}</script></head><body>'
        f'<h1>410 Gone</h1><p><a href="{escape(found.uri)}">{name}</a> ({escape(found.kind)}) '
        f"was deleted on {escape(found.deleted or '')}{why}.</p>"
        '<p><a href="/">Home</a> · <a href="/activity">Changes</a> · '
        '<a href="/search">Search</a></p></body></html>\n'
    ).encode()


WRITERS: dict[str, Callable[[Resource, str], bytes]] = {
    **{f.name: _rdf(f) for f in FORMATS if f.rdf_format is not None},
    "html": _html,
    "jsonld": _jsonld,
}


def gone(found: Resource, fmt: Format, base: str) -> Response:
    """410 with the tombstone of a deleted resource in `fmt`."""
    return Response(
        HTTPStatus.GONE,
        {"Content-Type": fmt.content_type, "Vary": "Accept"},
        WRITERS[fmt.name](found, base),
    )
