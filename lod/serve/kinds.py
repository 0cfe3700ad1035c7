"""What a logged resource is and where its content lives, as every feed and tombstone says it.

The change log keeps a resource's kind (`record`, or an entity's first path segment), not its
RDF types, which a deleted resource no longer has on disk. Feeds and tombstones name one class
per kind from this table, broad enough to hold for every resource of that kind (an agent may be
a schema:Person or a schema:Organization; both are foaf:Agents).
"""

from __future__ import annotations

from lod.namespaces import expand

KIND_CLASSES: dict[str, str] = {
    "record": "rico:RecordResource",
    "agent": "foaf:Agent",
    "place": "schema:Place",
    "subject": "skos:Concept",
    "archive": "schema:ArchiveOrganization",
    "collection": "rico:RecordSet",
    "vocab": "skos:Concept",
}
RECORD_SET = "rico:RecordSet"
"""An archive's fonds, series and files live below it ({base}archive/{slug}/fonds/...)."""
SCHEME = "skos:ConceptScheme"
"""A vocabulary's concepts live below its scheme ({base}vocab/{scheme}/{slug})."""
ANY_CLASS = "rdfs:Resource"


def class_of(kind: str, uri: str, base: str) -> str:
    """The class IRI the feeds give a resource of `kind`."""
    depth = uri.removeprefix(base).count("/")
    if kind == "archive" and depth > 1:
        return expand(RECORD_SET)
    if kind == "vocab" and depth == 1:
        return expand(SCHEME)
    return expand(KIND_CLASSES.get(kind, ANY_CLASS))


def turtle_url(base: str, uri: str) -> str:
    """The Turtle document of a thing ({base}doc/{path}.ttl): the bytes the log's hash is of."""
    return f"{base}doc/{uri.removeprefix(base)}.ttl"


def site_root(base: str, origin: str) -> str:
    """Where the feeds link their own pages: the base URI when the client asked for its host (a
    proxy in front), else the origin it named, so a build minted under another host can be
    walked from wherever it is served."""
    host = base.split("://", 1)[-1].split("/", 1)[0]
    return base if origin.split("://", 1)[-1] == host else origin + "/"
