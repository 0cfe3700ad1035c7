"""The dataset description: VoID and DCAT in one graph, at /.well-known/void and the dataset URI."""

from __future__ import annotations

from dataclasses import dataclass

from pyoxigraph import Literal, NamedNode, Triple

from lod.config import Config
from lod.dates import XSD
from lod.namespaces import expand
from lod.statistics import STATS_FILE

SPDX = "http://spdx.org/rdf/terms#"
IANA = "https://www.iana.org/assignments/media-types/"
UNREGISTERED = {"application/jsonl": ("https://jsonlines.org/", "https://www.w3.org/TR/json-ld11/")}
"""Dump types IANA has not registered, with the format's page and the standard each line keeps
to: DCAT names such a format by dcterms:format, as dcat:mediaType is for registered types.
A JSON Lines file is no RDF serialization a crawler can read whole, so it is no void:dataDump."""
COMPRESSED = {".gz": IANA + "application/gzip"}
RIGHTS_SCOPE = (
    "The licence covers the metadata this dataset publishes. The documents' own texts (full "
    "texts, translations, transcripts) keep the rights each record states (schema:license, "
    "dcterms:rights)."
)
"""What `license` (CC0 by default) covers: the dumps also carry the archive's texts, which
are under their own rights (RightsStatements.org's In Copyright, the archive's terms); a bare
CC0 on the dumps would tell an aggregator it may reuse them freely."""


def publisher_triples(dataset: NamedNode, name: str) -> list[Triple]:
    """The publisher as an agent with a name: dcterms:publisher ranges over agents (DCMI
    dcterms:Agent; DCAT 3 sec. 6.4.13 foaf:Agent), so a bare name is a value out of range that
    DCAT validators reject. The `publisher` setting is a name, so the agent is minted here."""
    agent = NamedNode(f"{dataset.value}#publisher")
    return [
        Triple(dataset, NamedNode(expand("dcterms:publisher")), agent),
        Triple(agent, NamedNode(expand("rdf:type")), NamedNode(expand("foaf:Agent"))),
        Triple(agent, NamedNode(expand("foaf:name")), Literal(name)),
    ]


@dataclass(frozen=True, slots=True)
class Dump:
    path: str
    media_type: str
    label: str
    sha256: str
    size: int


def dataset_triples(
    config: Config,
    dataset_uri: str,
    *,
    triples: int,
    entities: int,
    records: int,
    examples: list[str],
    dumps: list[Dump],
    modified: str,
    vocabularies: list[str],
) -> list[Triple]:
    """VoID + DCAT: what harvesters read first (dumps, size, URI space, licence, examples).

    `entities` counts the entities with pages of their own that are no record: a collection
    read as a record is also an entity other records name, but one resource with one page, so
    void:entities and void:documents count it once, as the dumps and doc/ do."""
    s = NamedNode(dataset_uri)
    base = config.base_uri

    def p(curie: str) -> NamedNode:
        return NamedNode(expand(curie))

    out = [
        Triple(s, p("rdf:type"), p("void:Dataset")),
        Triple(s, p("rdf:type"), p("dcat:Dataset")),
        Triple(s, p("dcterms:title"), Literal(config.title, language="en")),
        Triple(s, p("dcterms:description"), Literal(config.description, language="en")),
        Triple(s, p("dcterms:license"), NamedNode(config.license)),
        Triple(s, p("void:uriSpace"), Literal(base)),
        # Every resource graph's statements, provenance included: the N-Quads dump's count.
        Triple(s, p("void:triples"), Literal(str(triples), datatype=NamedNode(XSD + "integer"))),
        Triple(
            s,
            p("void:entities"),
            Literal(str(entities + records), datatype=NamedNode(XSD + "integer")),
        ),
        # A document per resource (each in five formats), and this description's own.
        Triple(
            s,
            p("void:documents"),
            Literal(str(entities + records + 1), datatype=NamedNode(XSD + "integer")),
        ),
        Triple(s, p("void:rootResource"), NamedNode(base + "index.html")),
        Triple(s, p("void:sparqlEndpoint"), NamedNode(base + "sparql")),
        Triple(s, p("foaf:homepage"), NamedNode(base + "index.html")),
        Triple(s, p("void:feature"), NamedNode("http://www.w3.org/ns/formats/Turtle")),
        Triple(s, p("void:feature"), NamedNode("http://www.w3.org/ns/formats/N-Triples")),
        Triple(s, p("void:feature"), NamedNode("http://www.w3.org/ns/formats/JSON-LD")),
        Triple(s, p("void:feature"), NamedNode("http://www.w3.org/ns/formats/RDF_XML")),
        # The record counts (lod.statistics), whose cubes say prov:wasDerivedFrom this dataset.
        Triple(s, p("rdfs:seeAlso"), NamedNode(base + STATS_FILE)),
    ]
    if modified:
        out.append(
            Triple(s, p("dcterms:modified"), Literal(modified, datatype=NamedNode(XSD + "date")))
        )
    if config.publisher:
        out += publisher_triples(s, config.publisher)
    rights = NamedNode(f"{dataset_uri}#rights")
    out += [
        Triple(s, p("dcterms:rights"), rights),
        Triple(rights, p("rdf:type"), p("dcterms:RightsStatement")),
        Triple(rights, p("rdfs:label"), Literal(RIGHTS_SCOPE, language="en")),
    ]
    out.extend(Triple(s, p("void:exampleResource"), NamedNode(uri)) for uri in examples)
    out.extend(Triple(s, p("void:vocabulary"), NamedNode(uri)) for uri in vocabularies)
    for dump in dumps:
        url = NamedNode(base + dump.path)
        dist = NamedNode(f"{dataset_uri}#dump-{dump.path.rsplit('/', 1)[-1]}")
        checksum = NamedNode(f"{dist.value}-sha256")
        unregistered = UNREGISTERED.get(dump.media_type)
        if unregistered:
            out += [
                Triple(dist, p("dcterms:format"), NamedNode(unregistered[0])),
                Triple(dist, p("dcterms:conformsTo"), NamedNode(unregistered[1])),
            ]
        else:
            out += [
                Triple(s, p("void:dataDump"), url),
                Triple(dist, p("dcat:mediaType"), NamedNode(IANA + dump.media_type)),
            ]
        compressed = COMPRESSED.get(dump.path[dump.path.rfind(".") :])
        if compressed:
            out.append(Triple(dist, p("dcat:compressFormat"), NamedNode(compressed)))
        out += [
            Triple(s, p("dcat:distribution"), dist),
            Triple(dist, p("rdf:type"), p("dcat:Distribution")),
            Triple(dist, p("dcat:downloadURL"), url),
            Triple(dist, p("dcterms:title"), Literal(dump.label, language="en")),
            Triple(
                dist,
                p("dcat:byteSize"),
                Literal(str(dump.size), datatype=NamedNode(XSD + "nonNegativeInteger")),
            ),
            Triple(dist, p("dcterms:license"), NamedNode(config.license)),
            Triple(dist, p("dcterms:rights"), rights),
            Triple(dist, NamedNode(SPDX + "checksum"), checksum),
            Triple(checksum, p("rdf:type"), NamedNode(SPDX + "Checksum")),
            Triple(
                checksum,
                NamedNode(SPDX + "algorithm"),
                NamedNode(SPDX + "checksumAlgorithm_sha256"),
            ),
            Triple(
                checksum,
                NamedNode(SPDX + "checksumValue"),
                Literal(dump.sha256, datatype=NamedNode(XSD + "hexBinary")),
            ),
        ]
    return out
