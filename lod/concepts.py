"""The controlled vocabularies in vocab/ as SKOS: one concept scheme per table, one concept per row.

{base}vocab/{scheme}          the scheme: type, language, rights, classification, archive
{base}vocab/{scheme}/{slug}   a concept (vocab/type/telegram, vocab/language/ru, vocab/rights/cne)

The holding archives' concepts are the archive entities themselves ({base}archive/{slug}), also
typed skos:Concept, so an archive has one URI, not a second one for its vocabulary entry.

Records point to the concepts (dcterms:type, dcterms:language, dcterms:rights,
dcterms:accessRights, schema:holdingArchive) and the concepts carry the mappings to the hubs:
Getty AAT and DCMI Type, ISO 639-2 (Library of Congress) and ISO 639-3 (its registration
authority, SIL), RightsStatements.org and Creative Commons. A concept's description comes from
its row alone, whichever records use it: a record contributes exactly the row's description, and
`entities()` gives every scheme and concept, used or not, for each build to publish.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TypeVar

from lod.authorities import Entity, Resolver
from lod.uris import Minter
from lod.vocab import AAT, DCMITYPE, ISO639_2, ISO639_3, Vocab

CONCEPT_TYPES = ("skos:Concept",)
SCHEME_TYPES = ("skos:ConceptScheme",)
ARCHIVE_SCHEME = "archive"

T = TypeVar("T")
Match = tuple[str, str]
"""(SKOS mapping property, external URI)."""


class Concepts:
    """Mints the schemes and concepts once per process; hands out copies, as mappings merge
    into the entities they get."""

    def __init__(self, vocab: Vocab, minter: Minter, resolve: Resolver) -> None:
        self.vocab = vocab
        self.minter = minter
        self.resolve = resolve
        self._concepts: dict[tuple[str, str], Entity] = {}
        self._by_scheme: dict[str, list[str]] = {}
        for scheme, rows in self._rows().items():
            for slug, entity in rows:
                self._concepts[(scheme, slug)] = entity
                self._by_scheme.setdefault(scheme, []).append(entity.uri)

    def _rows(self) -> dict[str, list[tuple[str, Entity]]]:
        """Scheme name -> (slug, concept) per row of its table, in table order."""
        v = self.vocab
        return {
            "type": [
                (
                    t.slug,
                    self._concept(
                        "type", t.slug, t.label, t.variants, _type_matches(t.aat, t.dcmitype), ()
                    ),
                )
                for t in _unique(v.types.values())
            ],
            "language": [
                (
                    lang.bcp47,
                    self._concept(
                        "language",
                        lang.bcp47,
                        lang.label,
                        lang.variants,
                        [
                            ("skos:exactMatch", ISO639_2 + lang.iso639_2),
                            ("skos:exactMatch", ISO639_3 + lang.iso639_3),
                        ],
                        (lang.iso639_2, lang.iso639_3, lang.bcp47),
                    ),
                )
                for lang in _unique(v.languages.values())
            ],
            "rights": [
                (
                    r.slug,
                    self._concept(
                        "rights", r.slug, r.label, (), [("skos:exactMatch", r.uri)], (r.notation,)
                    ),
                )
                for r in v.rights
            ],
            "classification": [
                (c.slug, self._concept("classification", c.slug, c.label, c.variants, (), ()))
                for c in _unique(v.classifications.values())
            ],
        }

    def _concept(
        self,
        scheme: str,
        slug: str,
        label: str,
        variants: Iterable[str],
        matches: Iterable[Match],
        notations: Iterable[str],
    ) -> Entity:
        scheme_uri = self.minter.scheme(scheme)
        return Entity(
            self.minter.concept(scheme, slug),
            "concept",
            CONCEPT_TYPES,
            label,
            {label, *variants},
            (),
            [("skos:inScheme", scheme_uri), ("skos:topConceptOf", scheme_uri), *matches],
            [("skos:notation", n) for n in dict.fromkeys(notations) if n],
        )

    def get(self, scheme: str, slug: str) -> Entity:
        """The concept of a row (KeyError for a slug the table does not have)."""
        return _copy(self._concepts[(scheme, slug)])

    def archive(self, name: str) -> Entity:
        """The archive entity for a name; a concept of the archive scheme when vocab/archives.csv
        knows it, a plain archive otherwise (it is not in the controlled vocabulary)."""
        entity = self.resolve.archive(name)
        known = self.vocab.archive(name)
        if known is not None:
            scheme = self.minter.scheme(ARCHIVE_SCHEME)
            entity.types = (*entity.types, *CONCEPT_TYPES)
            entity.links += [("skos:inScheme", scheme), ("skos:topConceptOf", scheme)]
            entity.literals.append(("skos:notation", known.abbreviation))
        return entity

    def entities(self) -> list[Entity]:
        """Everything the vocabularies publish: the schemes, their concepts, the archives and
        the countries the archives are in (an archive links to its country)."""
        out: list[Entity] = []
        archives: list[Entity] = []
        for known in _unique(self.vocab.archives.values()):
            archive = self.archive(known.label)
            archive.variants |= {known.abbreviation, *known.variants}
            archives.append(archive)
            out.extend(self.resolve.archive_places(archive))
        members = {**self._by_scheme, ARCHIVE_SCHEME: [a.uri for a in archives]}
        for scheme in self.vocab.schemes:
            out.append(
                Entity(
                    self.minter.scheme(scheme.name),
                    "scheme",
                    SCHEME_TYPES,
                    scheme.label,
                    {scheme.label},
                    (),
                    [("skos:hasTopConcept", uri) for uri in members.get(scheme.name, [])],
                    [("skos:definition", scheme.definition)] if scheme.definition else [],
                )
            )
        out.extend(_copy(entity) for entity in self._concepts.values())
        out.extend(archives)
        unique: dict[str, Entity] = {}
        for entity in out:
            if entity.uri in unique:
                unique[entity.uri].merge(entity)  # a country several archives are in
            else:
                unique[entity.uri] = entity
        return list(unique.values())


def _type_matches(aat: str, dcmitype: str) -> list[Match]:
    """A document type is exactly its AAT term; its DCMI Type (Text) is broader, not the same."""
    matches = [("skos:exactMatch", AAT + aat)] if aat else []
    if dcmitype:
        matches.append(("skos:broadMatch", DCMITYPE + dcmitype))
    return matches


def _unique(rows: Iterable[T]) -> list[T]:
    """Table rows once each, in table order (the lookup tables hold one per name)."""
    return list(dict.fromkeys(rows))


def _copy(entity: Entity) -> Entity:
    return dataclasses.replace(
        entity,
        variants=set(entity.variants),
        links=list(entity.links),
        literals=list(entity.literals),
    )


def vocabulary_entities(vocab: Vocab, minter: Minter) -> list[Entity]:
    """The entities every build publishes whether or not a record refers to them; records'
    contributions merge into them (see Concepts.entities)."""
    return Concepts(vocab, minter, Resolver(vocab, minter)).entities()


__all__ = ["ARCHIVE_SCHEME", "Concepts", "vocabulary_entities"]
