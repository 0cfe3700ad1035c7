"""Names -> shared entities: one URI per person, organization, place, subject, archive and
collection, whatever spelling a record uses.

Names are matched through vocab/authorities.csv (variants, inverted headings, code names such as
"FILIPPOV" for Stalin), whose links (vocab/links.csv) the entity carries; unknown names get a slug
of their display form, so "Nehru, Jawaharlal" and "Jawaharlal Nehru" still meet. Inverted
headings are turned round ("Nehru, Jawaharlal" -> "Jawaharlal Nehru") except for family names
written first (vocab/family-names.csv: "Deng, Xiaoping" -> "Deng Xiaoping").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from lod.uris import Minter, slugify
from lod.vocab import Vocab

ORG_WORDS = re.compile(
    r"\b(ministry|association|committee|bureau|department|office|party|organization|organisation|"
    r"foundation|council|church|government|agency|administration|army|embassy|commission|"
    r"institute|university|union|league|congress|assembly|corporation|company|bank|staff|program)\b",
    re.I,
)
"""Words that make an unlisted name an organization ("Japan. Foreign Ministry")."""

HEADING_DOT = re.compile(r"\b([A-Za-z]{2,})\.\s+[A-Z]")
"""A word (not an initial) ending a heading part: "Japan. Foreign Ministry" is a corporate
heading, while "Gale W. Allen" and "N. Stephen Kane" have initials only."""

PLAIN_NAME_TYPES = frozenset({"schema:Person", "schema:Place"})
"""Names of people and places are no English text: their names are plain literals. Other
entities (organizations, subjects, archives, collections) are named in English."""


def name_language(types: tuple[str, ...]) -> str | None:
    """The language tag of an entity's name: none for people and places, else English."""
    return None if PLAIN_NAME_TYPES.intersection(types) else "en"


@dataclass(slots=True)
class Entity:
    """A shared resource referenced by records; merged across records before publishing."""

    uri: str
    kind: str
    types: tuple[str, ...]
    label: str
    variants: set[str] = field(default_factory=set)
    same_as: tuple[str, ...] = ()
    """Targets of the entity's links in vocab/links.csv, whatever their relation (the vocabulary
    gives each one's relation and provenance)."""
    links: list[tuple[str, str]] = field(default_factory=list)
    literals: list[tuple[str, str]] = field(default_factory=list)

    def merge(self, other: Entity) -> None:
        """Take in what another record says of this entity. Links to other datasets are
        joined too: two spellings can reach one URI with only one of them in the authorities,
        and which record came first must not decide whether the entity is linked."""
        self.variants |= other.variants
        self.same_as += tuple(t for t in other.same_as if t not in self.same_as)
        for link in other.links:
            if link not in self.links:
                self.links.append(link)
        for literal in other.literals:
            if literal not in self.literals:
                self.literals.append(literal)


def display_name(heading: str, family_first: frozenset[str] = frozenset()) -> str:
    """'Nehru, Jawaharlal' -> 'Jawaharlal Nehru'; 'Bush, George, 1924-' -> 'George Bush';
    'Deng, Xiaoping' -> 'Deng Xiaoping' when 'deng' is in `family_first` (lower case)."""
    text = re.sub(r"\s*\([^)]*\)", "", heading).strip()
    parts = [part.strip() for part in text.split(",") if part.strip()]
    parts = [part for part in parts if not re.fullmatch(r"[\d\s\-–?.]+", part)]
    if len(parts) == 2 and not ORG_WORDS.search(text) and "." not in parts[0]:
        if parts[0].lower() in family_first:
            return f"{parts[0]} {parts[1]}"
        return f"{parts[1]} {parts[0]}"
    return ", ".join(parts) if parts else heading.strip()


def is_organization(name: str, titles: frozenset[str] = frozenset()) -> bool:
    """An unlisted name names an organization if it has an organization word or reads as a
    corporate heading ("Japan. Foreign Ministry"); a dotted title ("Dr. Smith") does not count."""
    if ORG_WORDS.search(name):
        return True
    if "," in name:
        return False
    return any(m.group(1).lower() not in titles for m in HEADING_DOT.finditer(name))


class Resolver:
    """Mints the entity for a name as a record writes it."""

    def __init__(self, vocab: Vocab, minter: Minter) -> None:
        self.vocab = vocab
        self.minter = minter
        self._seen: dict[tuple[str, str], Entity] = {}

    def agent(self, name: str) -> Entity:
        return self._memo("agent", name, self._agent)

    def place(self, name: str) -> Entity:
        return self._memo("place", name, self._place)

    def _memo(self, kind: str, name: str, make: Callable[[str], Entity]) -> Entity:
        """Names repeat across records; matching them is the costly part, so it is done once.
        Each caller still gets its own Entity, as mappings add links to it."""
        known = self._seen.get((kind, name))
        if known is None:
            known = make(name)
            if len(self._seen) < 500_000:
                self._seen[(kind, name)] = known
        return Entity(
            known.uri,
            known.kind,
            known.types,
            known.label,
            set(known.variants),
            known.same_as,
            list(known.links),
            list(known.literals),
        )

    def _agent(self, name: str) -> Entity:
        authority = self.vocab.authority(name)
        if authority and authority.kind in ("person", "organization"):
            types = ("schema:Person",) if authority.kind == "person" else ("schema:Organization",)
            uri = self.minter.thing("agent", authority.slug)
            return Entity(uri, "agent", types, authority.label, {name}, authority.same_as)
        label = display_name(name, self.vocab.names.family_first)
        is_org = is_organization(name, self.vocab.names.titles)
        types = ("schema:Organization",) if is_org else ("schema:Person",)
        return Entity(self.minter.thing("agent", slugify(label)), "agent", types, label, {name})

    def _place(self, name: str) -> Entity:
        authority = self.vocab.authority(name)
        if authority and authority.kind == "place":
            uri = self.minter.thing("place", authority.slug)
            return Entity(
                uri, "place", ("schema:Place",), authority.label, {name}, authority.same_as
            )
        label = name.strip()
        return Entity(
            self.minter.thing("place", slugify(label)), "place", ("schema:Place",), label, {name}
        )

    def subject(self, name: str) -> Entity:
        return Entity(
            self.minter.thing("subject", slugify(name)), "subject", ("skos:Concept",), name
        )

    def collection(self, name: str) -> Entity:
        uri = self.minter.thing("collection", slugify(name))
        return Entity(uri, "collection", ("schema:Collection", "rico:RecordSet"), name)

    def archive(self, name: str) -> Entity:
        known = self.vocab.archive(name)
        label = known.label if known else name
        slug = known.slug if known else slugify(name)
        types = ("schema:ArchiveOrganization", "rico:CorporateBody")
        entity = Entity(self.minter.thing("archive", slug), "archive", types, label, {name})
        if known:
            entity.literals.append(("schema:alternateName", known.abbreviation))
            if known.country:
                entity.links.append(("schema:location", self.place(known.country).uri))
        return entity

    def archive_places(self, archive: Entity) -> list[Entity]:
        """The places an archive entity links to, so a record can describe them too."""
        known = self.vocab.archive(next(iter(archive.variants), archive.label))
        return [self.place(known.country)] if known and known.country else []
