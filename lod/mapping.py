"""Record -> RDF: Dublin Core (dcterms) and schema.org, RiC-O for the archival hierarchy.

One node per archival record (the thing), plus nodes it owns (date period, citation, translation,
extra properties) minted as fragments of its URI so every output is deterministic, and shared
entities (agents, places, subjects, archives, collections) with URIs of their own. The
description document is a separate node (`foaf:primaryTopic`). See docs in ../shared/docs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from pyoxigraph import Literal, NamedNode, Triple

from lod.authorities import Entity, Resolver, name_language
from lod.citations import Citation, parse_citation
from lod.concepts import Concepts
from lod.dates import XSD, DateValue, is_undated, parse_date
from lod.errors import LodError, MappingError
from lod.mentions import MentionFinder
from lod.model import Record
from lod.namespaces import expand
from lod.passthrough import take_graph
from lod.uris import Minter, safe_id, slugify
from lod.vocab import AAT, DCMITYPE, Vocab

Object = NamedNode | Literal

ATTRIBUTE_PREDICATES: dict[str, tuple[str, ...]] = {
    "title": ("dcterms:title", "schema:name"),
    "alt_title": ("dcterms:alternative", "schema:alternateName"),
    "date": ("dcterms:created", "schema:dateCreated", "lod:createdPeriod"),
    "date_hint": ("dcterms:created", "lod:createdPeriod"),
    "summary": ("dcterms:abstract", "schema:abstract", "dcterms:description"),
    "description": ("dcterms:description", "schema:description"),
    "text": ("schema:text", "schema:workTranslation"),
    "transcript": ("schema:text",),
    "citation": ("dcterms:source", "lod:citation"),
    "rights": ("dcterms:rights", "schema:copyrightNotice"),
    "uploaded": ("dcterms:issued", "schema:datePublished"),
    "modified": ("dcterms:modified", "schema:dateModified"),
    "submitted": ("dcterms:dateSubmitted",),
    "retrieved": ("pav:retrievedOn",),
    "doc_type": ("dcterms:type", "schema:genre"),
    "classification": ("dcterms:accessRights", "schema:conditionsOfAccess"),
    "credits": ("schema:creditText",),
    "url": ("schema:url",),
    "languages": ("dcterms:language", "schema:inLanguage"),
    "authors": ("dcterms:creator", "schema:author"),
    "recipients": ("schema:recipient",),
    "cc": ("schema:ccRecipient",),
    "contributors": ("dcterms:contributor", "schema:contributor"),
    "people": ("dcterms:subject", "schema:mentions"),
    "places": ("dcterms:spatial", "schema:spatialCoverage"),
    "subjects": ("dcterms:subject", "schema:about"),
    "archives": ("schema:holdingArchive", "rico:hasOrHadHolder"),
    "collections": ("dcterms:isPartOf", "schema:isPartOf"),
    "donors": ("schema:funder",),
    "media": ("schema:associatedMedia",),
    "header": (
        "lod:telegramNumber",
        "lod:heading",
        "lod:precedence",
        "lod:addressedAs",
        "lod:signedAs",
        "lod:copies",
        "lod:outgoingNumber",
        "lod:outgoingDate",
        "lod:receivedVerbatim",
        "schema:dateReceived",
        "schema:locationCreated",
    ),
    "place_parents": ("schema:containedInPlace",),
    "extra": ("schema:additionalProperty",),
}
"""Model attribute -> the predicates that carry it (the field audit checks each one arrives)."""
TEXT_ATTRIBUTES = ("title", "alt_title", "summary", "description")
"""Attributes written as English literals on every predicate that carries them."""

HEADER_PREDICATES = {
    "telegram_number": "lod:telegramNumber",
    "heading": "lod:heading",
    "precedence": "lod:precedence",
    "addressed_to": "lod:addressedAs",
    "signed": "lod:signedAs",
    "copies": "lod:copies",
    "outgoing_number": "lod:outgoingNumber",
    "outgoing_date": "lod:outgoingDate",
    "received": "lod:receivedVerbatim",
}

RECORD_CLASSES = {
    "document": ("schema:ArchiveComponent", "rico:Record"),
    "collection": ("schema:Collection", "rico:RecordSet"),
    "transcript": ("schema:DigitalDocument",),
}

DCMI_TYPES = {"document": "Text", "collection": "Collection", "transcript": "Text"}
"""Record kind -> its DCMI Type term. A collection is an aggregation (dcmitype:Collection), not
a text: harvesters read dc:type to tell a collection-level record from an item."""


@dataclass(slots=True)
class Mapped:
    record_id: str
    kind: str
    uri: str
    doc_uri: str
    title: str
    triples: list[Triple]
    entities: list[Entity]
    date: DateValue | None
    linked: set[str] = field(default_factory=set)
    """URIs of the entities the record itself points to; the others in `entities` are
    described for its sake (the country of its archive, a place's parent, record sets)."""


class Mapper:
    """Turns Records into triples; holds the vocabulary, the URI minter and term caches."""

    def __init__(self, vocab: Vocab, minter: Minter) -> None:
        self.vocab = vocab
        self.minter = minter
        self.lod = minter.vocab
        self.resolve = Resolver(vocab, minter)
        self.mentions = MentionFinder(vocab)
        self.concepts = Concepts(vocab, minter, self.resolve)
        self._nodes: dict[str, NamedNode] = {}

    def p(self, curie: str) -> NamedNode:
        node = self._nodes.get(curie)
        if node is None:
            node = self._nodes[curie] = NamedNode(
                expand(curie, self.lod) if ":" in curie and not curie.startswith("http") else curie
            )
        return node

    def map(self, record: Record) -> Mapped:
        if record.graph:
            return self._passthrough(record)
        return _RecordMapping(self, record).run()

    def _passthrough(self, record: Record) -> Mapped:
        """A record that brings its own graph (harvested in RDF) is published as it is."""
        taken = take_graph(record, self.minter)
        return Mapped(
            record.id,
            record.kind,
            taken.uri,
            self.minter.doc(taken.uri),
            taken.title,
            taken.triples,
            taken.entities,
            taken.date,
            taken.linked,
        )

    def entity_triples(self, entity: Entity) -> list[Triple]:
        """The full description of a merged entity (its own document)."""
        s = NamedNode(entity.uri)
        p = self.p
        name = Literal(entity.label, language=name_language(entity.types))
        out = [Triple(s, p("rdf:type"), p(t)) for t in entity.types]
        out.append(Triple(s, p("schema:name"), name))
        out.append(Triple(s, p("rdfs:label"), name))
        if {"skos:Concept", "skos:ConceptScheme"} & set(entity.types):
            out.append(Triple(s, p("skos:prefLabel"), Literal(entity.label, language="en")))
        for variant in sorted(entity.variants - {entity.label}):
            out.append(Triple(s, p("skos:altLabel"), Literal(variant)))
        for target in entity.same_as:
            out.extend(self._link_triples(s, target))
        out.extend(Triple(s, p(pred), NamedNode(obj)) for pred, obj in entity.links)
        out.extend(Triple(s, p(pred), Literal(value)) for pred, value in entity.literals)
        doc = NamedNode(self.minter.doc(entity.uri))
        out.append(Triple(doc, p("rdf:type"), p("foaf:Document")))
        out.append(Triple(doc, p("foaf:primaryTopic"), s))
        # A harvested graph spells a contributed link in full IRIs, the vocabulary in CURIEs.
        return list(dict.fromkeys(out))

    def _link_triples(self, s: NamedNode, target: str) -> list[Triple]:
        """A link to a hub and, on a statement node `{entity}#link-{hub}` (RDF reification,
        which every RDF tool reads), where it came from: dcterms:source the evidence,
        dcterms:date the day it was checked, dcterms:description how, lod:confidence for an
        unverified skos:closeMatch. A target the vocabulary has no row for is not published."""
        link = self.vocab.link(target)
        if link is None:
            return []
        p = self.p
        relation, obj = p(link.relation), NamedNode(target)
        st = NamedNode(f"{s.value}#link-{link.hub}")
        out = [
            Triple(s, relation, obj),
            Triple(st, p("rdf:type"), p("rdf:Statement")),
            Triple(st, p("rdf:subject"), s),
            Triple(st, p("rdf:predicate"), relation),
            Triple(st, p("rdf:object"), obj),
        ]
        if link.evidence:
            evidence = (
                NamedNode(link.evidence) if _is_iri(link.evidence) else Literal(link.evidence)
            )
            out.append(Triple(st, p("dcterms:source"), evidence))
        if link.checked:
            checked = Literal(link.checked, datatype=NamedNode(XSD + "date"))
            out.append(Triple(st, p("dcterms:date"), checked))
        if link.method:
            out.append(Triple(st, p("dcterms:description"), Literal(link.method, language="en")))
        if link.confidence:
            decimal = NamedNode(XSD + "decimal")
            out.append(Triple(st, p("lod:confidence"), Literal(link.confidence, datatype=decimal)))
        return out


class _RecordMapping:
    def __init__(self, mapper: Mapper, record: Record) -> None:
        self.m = mapper
        self.r = record
        self.vocab = mapper.vocab
        self.resolve = mapper.resolve
        if record.kind == "collection":
            # Documents name their collections, not their IDs: mint from the slug so both meet.
            key = slugify(record.extra.get("slug") or record.title or record.id)
            self.uri = mapper.minter.thing("collection", key)
        else:
            self.uri = mapper.minter.thing("record", safe_id(record.id))
        self.s = NamedNode(self.uri)
        self.triples: list[Triple] = []
        self.entities: dict[str, Entity] = {}
        self.linked: set[str] = set()
        self.date: DateValue | None = None

    # --- helpers -----------------------------------------------------------------------------
    def add(self, curie: str, obj: Object, subject: NamedNode | None = None) -> None:
        self.triples.append(Triple(subject or self.s, self.m.p(curie), obj))

    def text(self, curies: Iterable[str], value: str, language: str | None = "en") -> None:
        literal = Literal(value, language=language) if language else Literal(value)
        for curie in curies:
            self.add(curie, literal)

    def node(self, fragment: str) -> NamedNode:
        return NamedNode(f"{self.uri}#{fragment}")

    def entity(self, entity: Entity, linked: bool = True) -> NamedNode:
        """Describe an entity in this record's graph; `linked`: the record points to it."""
        if linked:
            self.linked.add(entity.uri)
        known = self.entities.get(entity.uri)
        if known:
            known.merge(entity)
        else:
            self.entities[entity.uri] = entity
            node = NamedNode(entity.uri)
            for t in entity.types:
                self.add("rdf:type", self.m.p(t), node)
            name = Literal(entity.label, language=name_language(entity.types))
            self.add("schema:name", name, node)
            for predicate, target in entity.links:
                self.add(predicate, NamedNode(target), node)
        return NamedNode(entity.uri)

    # --- the mapping -------------------------------------------------------------------------
    def run(self) -> Mapped:
        r = self.r
        for cls in RECORD_CLASSES[r.kind]:
            self.add("rdf:type", self.m.p(cls))
        self.text(("dcterms:identifier", "schema:identifier"), r.id, None)
        doc = NamedNode(self.m.minter.doc(self.uri))
        self.add("rdf:type", self.m.p("foaf:Document"), doc)
        self.add("foaf:primaryTopic", self.s, doc)
        self.add("foaf:isPrimaryTopicOf", doc)
        for attr in TEXT_ATTRIBUTES:
            if getattr(r, attr):
                self.text(ATTRIBUTE_PREDICATES[attr], getattr(r, attr))
        self._dates()
        self._texts()
        self._type()
        self._languages()
        self._rights()
        self._citation_and_archives()
        self._agents()
        self._places_subjects_collections()
        self._header()
        self._mentions()
        self._misc()
        return Mapped(
            r.id,
            r.kind,
            self.uri,
            str(doc.value),
            r.title,
            list(dict.fromkeys(self.triples)),
            list(self.entities.values()),
            self.date,
            self.linked,
        )

    def _dates(self) -> None:
        r = self.r
        value = self._document_date()
        if value is None and r.date:
            # "undated": no typed date to give, but the archive's statement is kept verbatim.
            period = self.node("date")
            self.add("lod:createdPeriod", period)
            self.add("rdf:type", self.m.p("lod:DatePeriod"), period)
            self.add("rdfs:label", Literal(r.date), period)
        if value is not None:
            self.date = value
            typed = Literal(value.typed_value, datatype=NamedNode(value.xsd_datatype))
            self.add("dcterms:created", typed)
            if value.precision != "edtf":
                # schema.org's dates take one ISO 8601 date (schema:Date, schema:DateTime); an
                # EDTF value ("1951~", "195X", a range) is none, so dcterms:created (any literal)
                # and the date period carry it alone.
                self.add("schema:dateCreated", typed)
                if self._is_message():
                    self.add("schema:dateSent", typed)
            period = self.node("date")
            self.add("lod:createdPeriod", period)
            self.add("rdf:type", self.m.p("lod:DatePeriod"), period)
            self.add("rdfs:label", Literal(value.verbatim), period)
            self.add(
                "lod:edtf", Literal(value.edtf, datatype=NamedNode(expand("edtf:EDTF"))), period
            )
            self.add(
                "dcat:startDate", Literal(value.begin, datatype=NamedNode(XSD + "date")), period
            )
            self.add("dcat:endDate", Literal(value.end, datatype=NamedNode(XSD + "date")), period)
            if value.precision == "edtf":
                self.add("schema:temporalCoverage", Literal(f"{value.begin}/{value.end}"))
        for attr, curies in (
            ("uploaded", ATTRIBUTE_PREDICATES["uploaded"]),
            ("modified", ATTRIBUTE_PREDICATES["modified"]),
            ("submitted", ATTRIBUTE_PREDICATES["submitted"]),
            ("retrieved", ATTRIBUTE_PREDICATES["retrieved"]),
        ):
            raw = getattr(r, attr)
            if raw:
                literal = _timestamp(raw, attr)
                for curie in curies:
                    self.add(curie, literal)

    def _document_date(self) -> DateValue | None:
        r = self.r
        if not r.date and not r.date_hint:
            return None
        if is_undated(r.date) and not r.date_hint:
            return None
        if r.date:
            try:
                return parse_date(r.date, "date")
            except MappingError as exc:
                if not r.date_hint:
                    raise _located(exc, r, "date") from None
        try:
            value = parse_date(r.date_hint, "date_hint")
        except MappingError as exc:
            raise _located(exc, r, "date_hint") from None
        return DateValue(r.date or r.date_hint, value.edtf, value.precision, value.begin, value.end)

    def _is_message(self) -> bool:
        doc_type = self.vocab.doc_type(self.r.doc_type) if self.r.doc_type else None
        return bool(doc_type and doc_type.message)

    def _texts(self) -> None:
        r = self.r
        tags = {lang.bcp47 for name in r.languages if (lang := self.vocab.language(name))}
        english = not r.languages or "en" in tags
        if r.transcript:
            # In the record's language where it has one known language; else untagged.
            tag = next(iter(tags)) if len(tags) == 1 and len(r.languages) == 1 else None
            self.add("schema:text", Literal(r.transcript, language=tag))
        if r.text and (english and not r.transcript):
            self.add("schema:text", Literal(r.text, language="en"))
        elif r.text:
            translation = self.node("translation")
            self.add("schema:workTranslation", translation)
            self.add("rdf:type", self.m.p("schema:CreativeWork"), translation)
            self.add("schema:translationOfWork", self.s, translation)
            self.add("schema:inLanguage", Literal("en"), translation)
            self.add("schema:text", Literal(r.text, language="en"), translation)
            if r.title:
                self.add("schema:name", Literal(r.title, language="en"), translation)

    def _type(self) -> None:
        r = self.r
        self.add("dcterms:type", NamedNode(DCMITYPE + DCMI_TYPES[r.kind]))
        if not r.doc_type:
            return
        self.add("schema:genre", Literal(r.doc_type))
        doc_type = self.vocab.doc_type(r.doc_type)
        if doc_type is None:
            return
        if doc_type.message:
            self.add("rdf:type", self.m.p("schema:Message"))
        self.add("dcterms:type", self.entity(self.m.concepts.get("type", doc_type.slug)))
        if doc_type.aat:
            self.add("schema:additionalType", NamedNode(AAT + doc_type.aat))

    def _languages(self) -> None:
        for name in self.r.languages:
            language = self.vocab.language(name)
            if language is None:
                self.add("dcterms:language", Literal(name))
                continue
            concept = self.m.concepts.get("language", language.bcp47)
            self.add("dcterms:language", self.entity(concept))
            self.add("schema:inLanguage", Literal(language.bcp47))

    def _rights(self) -> None:
        if not self.r.rights:
            return
        self.text(ATTRIBUTE_PREDICATES["rights"], self.r.rights)
        rights = self.vocab.rights_for(self.r.rights)
        if rights:
            self.add("dcterms:rights", self.entity(self.m.concepts.get("rights", rights.slug)))
            self.add("schema:license", NamedNode(rights.uri))

    def _citation_and_archives(self) -> None:
        r = self.r
        archive_names = list(r.archives)
        if r.citation:
            self.add("dcterms:source", Literal(r.citation))
            citation = parse_citation(r.citation)
            if citation.parsed:
                self._citation(citation)
                archive_names.insert(0, citation.archive)
            elif not archive_names and (known := self._archive_prefix(r.citation)):
                archive_names.append(known)
        seen: set[str] = set()
        for name in archive_names:
            archive = self._archive(name)
            if archive.uri not in seen:
                seen.add(archive.uri)
                node = self.entity(archive)
                self.add("schema:holdingArchive", node)
                self.add("rico:hasOrHadHolder", node)

    def _archive_prefix(self, citation: str) -> str:
        head = citation.split(",", 1)[0]
        return head if self.vocab.archive(head) else ""

    def _archive(self, name: str) -> Entity:
        archive = self.m.concepts.archive(name)
        for country in self.resolve.archive_places(archive):
            self.entity(country, linked=False)
        return archive

    def _citation(self, c: Citation) -> None:
        node = self.node("citation")
        self.add("lod:citation", node)
        self.add("rdf:type", self.m.p("lod:ArchivalCitation"), node)
        self.add("rdfs:label", Literal(c.verbatim), node)
        for curie, value in (
            ("lod:archive", c.archive),
            ("lod:fonds", c.fonds),
            ("lod:series", c.series),
            ("lod:file", c.file),
            ("lod:folder", c.folder),
            ("lod:leaves", c.leaves),
            ("lod:citationNote", c.remainder),
        ):
            if value:
                self.add(curie, Literal(value), node)
        # The RiC-O hierarchy fonds > series > file, shared by every record citing it, held by
        # the archive: the highest set cited has the archive as its holder, and the ones below
        # are included in it. A set is included only in a set (rico:isOrWasIncludedIn ranges
        # over rico:RecordSet); the archive is an agent (rico:CorporateBody), so it holds.
        archive = self._archive(c.archive)
        parent = archive.uri
        path = parent
        levels = [
            ("fonds", c.fonds, "Fonds"),
            ("series", c.series, "Series"),
            ("file", c.file, "File"),
        ]
        for level, value, label in levels:
            if not value:
                continue
            path = f"{path}/{level}/{slugify(value)}"
            entity = Entity(path, "recordset", ("rico:RecordSet",), f"{c.archive} {label} {value}")
            entity.literals.append(("rico:identifier", value))
            if parent == archive.uri:
                entity.links.append(("rico:hasOrHadHolder", archive.uri))
            else:
                entity.links.append(("rico:isOrWasIncludedIn", parent))
            self.entity(entity, linked=False)
            parent = path
        if parent != archive.uri:
            self.add("rico:isOrWasIncludedIn", NamedNode(parent))
            self.add("schema:isPartOf", NamedNode(parent))

    def _agents(self) -> None:
        r = self.r
        message = self._is_message()
        for attr in ("authors", "recipients", "cc", "contributors", "people", "donors"):
            for name in getattr(r, attr):
                node = self.entity(self.resolve.agent(name))
                curies = ATTRIBUTE_PREDICATES[attr]
                if attr == "authors" and message:
                    curies = (*curies, "schema:sender")
                for curie in curies:
                    self.add(curie, node)

    def _places_subjects_collections(self) -> None:
        r = self.r
        for name in r.places:
            place = self.resolve.place(name)
            parent_name = r.place_parents.get(name)
            if parent_name:
                parent = self.resolve.place(parent_name)
                place.links.append(("schema:containedInPlace", parent.uri))
                self.entity(parent, linked=False)
            node = self.entity(place)
            for curie in ATTRIBUTE_PREDICATES["places"]:
                self.add(curie, node)
        for name in r.subjects:
            entity = self.resolve.subject(name)
            node = self.entity(entity)
            for curie in ATTRIBUTE_PREDICATES["subjects"]:
                self.add(curie, node)
        for name in r.collections:
            node = self.entity(self.resolve.collection(name))
            for curie in ATTRIBUTE_PREDICATES["collections"]:
                self.add(curie, node)

    def _mentions(self) -> None:
        """People and places the record's own words name (title, summary, full text or
        transcript; the rule is in lod/mentions.py), as schema:mentions."""
        r = self.r
        for kind, name in self.m.mentions.find(r.title, r.summary, r.text, r.transcript):
            entity = self.resolve.agent(name) if kind == "agent" else self.resolve.place(name)
            self.add("schema:mentions", self.entity(entity))

    def _header(self) -> None:
        header = self.r.header
        for key, curie in HEADER_PREDICATES.items():
            if header.get(key):
                self.add(curie, Literal(header[key]))
        if header.get("received_at"):
            self.add(
                "schema:dateReceived",
                Literal(header["received_at"], datatype=NamedNode(XSD + "dateTime")),
            )
        if header.get("sent_from"):
            self.add(
                "schema:locationCreated",
                self.entity(self.resolve.place(header["sent_from"].title())),
            )

    def _classification(self, value: str) -> None:
        """The level's concept when the vocabulary knows it, else the value as written; the
        verbatim marking stays in schema:conditionsOfAccess either way."""
        level = self.vocab.classification(value)
        self.add(
            "dcterms:accessRights",
            self.entity(self.m.concepts.get("classification", level.slug))
            if level
            else Literal(value),
        )
        self.add("schema:conditionsOfAccess", Literal(value))

    def _misc(self) -> None:
        r = self.r
        if r.classification:
            self._classification(r.classification)
        if r.credits:
            self.text(ATTRIBUTE_PREDICATES["credits"], r.credits)
        if r.url:
            self.add("schema:url", NamedNode(r.url) if _is_iri(r.url) else Literal(r.url))
        for index, media in enumerate(r.media, 1):
            node = NamedNode(media.url) if _is_iri(media.url) else self.node(f"media-{index}")
            self.add("schema:associatedMedia", node)
            self.add("rdf:type", self.m.p("schema:MediaObject"), node)
            if _is_iri(media.url):
                self.add("schema:contentUrl", node, node)
            for curie, value in (
                ("schema:name", media.filename),
                ("schema:encodingFormat", media.content_type),
                ("schema:description", media.title),
            ):
                if value:
                    self.add(curie, Literal(value), node)
        for name, value in sorted(r.extra.items()):
            node = self.node(f"extra-{slugify(name)}")
            self.add("schema:additionalProperty", node)
            self.add("rdf:type", self.m.p("schema:PropertyValue"), node)
            self.add("schema:name", Literal(name), node)
            self.add("schema:value", Literal(value), node)


def _is_iri(value: str) -> bool:
    """An absolute http(s) IRI that RDF accepts (pyoxigraph validates it fully)."""
    if not re.match(r"^https?://[^\s<>\"{}|\\^`]+$", value):
        return False
    try:
        NamedNode(value)
    except ValueError:
        return False
    return True


def _timestamp(raw: str, field: str) -> Literal:
    match = re.match(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})", raw.strip())
    if match:
        return Literal(f"{match[1]}T{match[2]}", datatype=NamedNode(XSD + "dateTime"))
    value = parse_date(raw, field)
    return Literal(value.typed_value, datatype=NamedNode(value.xsd_datatype))


def _located(exc: LodError, record: Record, attr: str) -> MappingError:
    origin = record.origins.get(attr, record.origin)
    assert isinstance(exc, MappingError)
    return MappingError(
        exc.message,
        file=origin.file,
        line=origin.line,
        field=origin.field or attr,
        value=exc.value,
        hint=exc.hint,
        record_id=record.id,
    )


__all__ = ["ATTRIBUTE_PREDICATES", "Mapped", "Mapper"]
