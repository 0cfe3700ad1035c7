"""Namespace IRIs and the prefixes every serializer shares (Turtle, JSON-LD, HTML)."""

from __future__ import annotations

PREFIXES: dict[str, str] = {
    "schema": "http://schema.org/",
    "dcterms": "http://purl.org/dc/terms/",
    "dcmitype": "http://purl.org/dc/dcmitype/",
    "rico": "https://www.ica.org/standards/RiC/ontology#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "dcat": "http://www.w3.org/ns/dcat#",
    "void": "http://rdfs.org/ns/void#",
    "pav": "http://purl.org/pav/",
    "prov": "http://www.w3.org/ns/prov#",
    "dqv": "http://www.w3.org/ns/dqv#",
    "edtf": "http://id.loc.gov/datatypes/edtf/",
    "aat": "http://vocab.getty.edu/aat/",
    "iso639": "http://id.loc.gov/vocabulary/iso639-2/",
    "wd": "http://www.wikidata.org/entity/",
    "gn": "https://sws.geonames.org/",
}


def expand(curie: str, lod_ns: str = "") -> str:
    """'schema:name' -> 'http://schema.org/name'; 'lod:x' uses the publication's own namespace."""
    prefix, _, local = curie.partition(":")
    if prefix == "lod":
        return lod_ns + local
    return PREFIXES[prefix] + local


def prefixes_for(lod_ns: str) -> dict[str, str]:
    return {**PREFIXES, "lod": lod_ns}
