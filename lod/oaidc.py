"""Simple Dublin Core (`oai_dc`) from a record's published graph, for OAI-PMH.

oai_dc has fifteen unqualified elements and no way to say what a value is beyond its element, so
the crosswalk below picks, for each element, the dcterms (and a few schema.org) properties of the
record that fill it, and writes linked entities by their labels found in the same graph: a
harvester gets "Mao Zedong", not an opaque URI. Values come out in a fixed order (element, then
table row, then value), so the same graph always gives the same bytes, whatever order its
triples arrive in. lod.sources.oai reads these elements back (see its ELEMENT_ATTRIBUTES).
Controlled values (document type, language, rights, classification) point to lod's own SKOS
concepts; they come out as their labels, ISO 639-2 codes, and the RightsStatements.org or
Creative Commons URI (schema:license) that harvesters know.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from xml.sax.saxutils import escape, quoteattr

from pyoxigraph import Literal, NamedNode, Triple

from lod.namespaces import expand
from lod.vocab import DCMITYPE, ISO639_2

OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
OAI_DC_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
DC_NS = "http://purl.org/dc/elements/1.1/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

ELEMENTS = (
    "title",
    "creator",
    "subject",
    "description",
    "publisher",
    "contributor",
    "date",
    "type",
    "format",
    "identifier",
    "source",
    "language",
    "relation",
    "coverage",
    "rights",
)
"""The fifteen DCMES 1.1 elements, in the specification's order (the output's order too)."""

SELF = "@self"
"""Stands for the record's own URI in CROSSWALK (an identifier of the record)."""

CROSSWALK: tuple[tuple[str, str, str], ...] = (
    ("title", "dcterms:title", "text"),
    ("title", "dcterms:alternative", "text"),
    ("creator", "dcterms:creator", "label"),
    ("subject", "dcterms:subject", "label"),
    ("description", "dcterms:abstract", "text"),
    ("description", "dcterms:description", "text"),
    ("publisher", "dcterms:publisher", "label"),
    ("contributor", "dcterms:contributor", "label"),
    ("date", "dcterms:created", "text"),
    ("type", "schema:genre", "text"),
    ("type", "dcterms:type", "dcmitype"),
    ("format", "dcterms:format", "label"),
    ("format", "dcterms:medium", "label"),
    ("identifier", "dcterms:identifier", "text"),
    ("identifier", SELF, "iri"),
    ("identifier", "schema:url", "iri"),
    ("source", "dcterms:source", "text"),
    ("language", "schema:inLanguage", "text"),
    ("language", "dcterms:language", "language"),
    ("relation", "dcterms:isPartOf", "label"),
    ("coverage", "dcterms:spatial", "label"),
    ("coverage", "dcterms:temporal", "label"),
    ("rights", "dcterms:rights", "text"),
    ("rights", "schema:license", "iri"),
    ("rights", "dcterms:accessRights", "label"),
)
"""(oai_dc element, property of the record, how its values are written); see TAKE.

Left out on purpose: dcterms:issued (the upload date is no second dc:date, see the mapping
notes), recipients, holding archive and donors (simple DC has no element for them; the archive
stays in dc:source), the full text, and the parsed citation."""

LABELS = ("skos:prefLabel", "schema:name", "rdfs:label")
"""Where an entity's label is found in the graph, best first."""

_INVALID_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

Value = tuple[str, str]
"""(text, language tag or '')."""
Node = dict[str, list[NamedNode | Literal]]
"""A node's properties: predicate IRI -> objects."""
Index = dict[str, Node]
Take = Callable[[NamedNode | Literal, Index, Node], Value | None]


def oai_dc_xml(triples: Iterable[Triple], uri: str, *, publisher: str = "") -> str:
    """The `<oai_dc:dc>` element for the record `uri`, with its namespace declarations.

    `publisher` (the publishing institution, lod's `publisher` setting) fills dc:publisher when
    the graph names none."""
    index = _index(triples)
    values = dc_values(index, uri)
    if publisher.strip() and not values["publisher"]:
        values["publisher"] = [(publisher.strip(), "")]
    lines = [
        f'<oai_dc:dc xmlns:oai_dc="{OAI_DC_NS}" xmlns:dc="{DC_NS}" xmlns:xsi="{XSI_NS}" '
        f'xsi:schemaLocation="{OAI_DC_NS} {OAI_DC_SCHEMA}">'
    ]
    for element in ELEMENTS:
        for text, language in values[element]:
            lang = f" xml:lang={quoteattr(language)}" if language else ""
            lines.append(f"  <dc:{element}{lang}>{_xml_text(text)}</dc:{element}>")
    lines.append("</oai_dc:dc>")
    return "\n".join(lines)


def dc_values(index: Index, uri: str) -> dict[str, list[Value]]:
    """Element -> its values, deduplicated, in output order; empty values are dropped."""
    subject: Node = index.get(uri, {})
    out: dict[str, list[Value]] = {element: [] for element in ELEMENTS}
    for element, curie, how in CROSSWALK:
        objects: list[NamedNode | Literal] = (
            [NamedNode(uri)] if curie == SELF else subject.get(expand(curie), [])
        )
        found = sorted({v for obj in objects if (v := TAKE[how](obj, index, subject)) and v[0]})
        for value in found:
            if value not in out[element]:
                out[element].append(value)
    return out


def _index(triples: Iterable[Triple]) -> Index:
    index: Index = defaultdict(lambda: defaultdict(list))
    for t in triples:
        if isinstance(t.subject, NamedNode) and isinstance(t.object, NamedNode | Literal):
            index[t.subject.value][t.predicate.value].append(t.object)
    return index


def _text(obj: NamedNode | Literal, index: Index, subject: Node) -> Value | None:
    return (obj.value.strip(), obj.language or "") if isinstance(obj, Literal) else None


def _iri(obj: NamedNode | Literal, index: Index, subject: Node) -> Value | None:
    """Literals as they are and IRIs spelled out (a rights statement URI, a web page)."""
    return _text(obj, index, subject) or (obj.value, "")


def _label(obj: NamedNode | Literal, index: Index, subject: Node) -> Value | None:
    """A literal as it is; an entity by its label (names carry no language tag in DC)."""
    if isinstance(obj, Literal):
        return (obj.value.strip(), "")
    return label_of(index, obj.value)


def _dcmitype(obj: NamedNode | Literal, index: Index, subject: Node) -> Value | None:
    """DCMI Type terms by name ("Text"), as the DC guidelines ask; other types by label."""
    if isinstance(obj, NamedNode) and obj.value.startswith(DCMITYPE):
        return (obj.value[len(DCMITYPE) :], "")
    return _label(obj, index, subject)


def _language(obj: NamedNode | Literal, index: Index, subject: Node) -> Value | None:
    """An ISO 639-2 URI, or a language concept matching one (skos:exactMatch), as its code,
    unless the record states BCP 47 codes (schema:inLanguage), which say the same thing in the
    form the DC guidelines recommend."""
    if isinstance(obj, Literal):
        return (obj.value.strip(), "")
    if subject.get(expand("schema:inLanguage")):
        return None
    matches = index.get(obj.value, {}).get(expand("skos:exactMatch"), [])
    for term in (obj, *matches):
        if isinstance(term, NamedNode) and term.value.startswith(ISO639_2):
            return (term.value[len(ISO639_2) :], "")
    return None


TAKE: dict[str, Take] = {
    "text": _text,
    "iri": _iri,
    "label": _label,
    "dcmitype": _dcmitype,
    "language": _language,
}


def label_of(index: Index, uri: str) -> Value | None:
    """The best label of a node: by property (LABELS order), then English, untagged, any."""
    node = index.get(uri, {})
    for curie in LABELS:
        literals = [o for o in node.get(expand(curie), []) if isinstance(o, Literal)]
        if literals:
            best = min(literals, key=lambda o: (_language_rank(o.language), o.value))
            return (best.value.strip(), "")
    return None


def _language_rank(language: str | None) -> tuple[int, str]:
    return ({"en": 0, "": 1}.get(language or "", 2), language or "")


def _xml_text(text: str) -> str:
    """Escaped character data: markup characters escaped, characters XML 1.0 forbids dropped,
    and carriage returns kept as references (a parser would fold them into newlines)."""
    return escape(_INVALID_XML.sub("", text)).replace("\r", "&#13;")


__all__ = ["DC_NS", "ELEMENTS", "OAI_DC_NS", "OAI_DC_SCHEMA", "dc_values", "oai_dc_xml"]
