"""Loads the data in vocab/ (JSON-LD context, the controlled vocabularies: document types,
languages, rights statements, classification levels, holding archives; authorities).

Vocabularies are data, not code: adding a document type or a verified authority link is an edit
to a CSV file. Everything is loaded once per process and shared read-only.
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from lod.errors import ConfigError

VOCAB_DIR = Path(__file__).resolve().parent.parent / "vocab"
UNREAD = frozenset({"proposed-links.csv", "openapi.json"})
"""Files in vocab/ that lod build never reads (links proposed by `lod reconcile`, awaiting
review; the OpenAPI description of `lod serve`): editing them changes no output, so they take
no part in the build's fingerprint."""

AAT = "http://vocab.getty.edu/aat/"
DCMITYPE = "http://purl.org/dc/dcmitype/"
ISO639_2 = "http://id.loc.gov/vocabulary/iso639-2/"
ISO639_3 = "https://iso639-3.sil.org/code/"
"""The ISO 639-3 Registration Authority's page per code: the standard's own maintainer, unlike
third-party mirrors such as lexvo.org."""
WIKIDATA = "http://www.wikidata.org/entity/"
GEONAMES = "https://sws.geonames.org/"


@dataclass(frozen=True, slots=True)
class DocType:
    label: str
    slug: str
    aat: str
    dcmitype: str
    message: bool
    variants: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Language:
    label: str
    iso639_2: str
    iso639_3: str
    bcp47: str
    variants: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Rights:
    slug: str
    notation: str
    match: str
    uri: str
    label: str


@dataclass(frozen=True, slots=True)
class Archive:
    abbreviation: str
    slug: str
    label: str
    country: str
    variants: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Classification:
    """A security classification level ("Secret"), matched on the whole value as written."""

    slug: str
    label: str
    variants: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Scheme:
    """One controlled vocabulary as a whole: `name` is its table (type, language, ...)."""

    name: str
    label: str
    definition: str


@dataclass(frozen=True, slots=True)
class Authority:
    """A known entity (vocab/authorities.csv): its names, and the targets of its links in
    vocab/links.csv (`same_as`; each link's relation and evidence are in `Vocab.link`).
    `text_names` are the one-word names the mention finder may trust in running text."""

    slug: str
    kind: str
    label: str
    variants: tuple[str, ...]
    same_as: tuple[str, ...]
    text_names: tuple[str, ...] = ()


LINK_COLUMNS = ("slug", "hub", "target", "relation", "method", "evidence", "checked", "confidence")
"""The columns of vocab/links.csv, in the order of Link's fields."""

LINK_RELATIONS = ("owl:sameAs", "skos:exactMatch", "skos:closeMatch")
"""owl:sameAs for Wikidata items, skos:exactMatch for authority files (VIAF, LCNAF, GeoNames,
LCSH), skos:closeMatch for a proposed match that nobody verified (published with its confidence)."""


@dataclass(frozen=True, slots=True)
class Link:
    """One row of vocab/links.csv: a link from an entity to a hub, and how it was checked."""

    slug: str
    hub: str
    target: str
    relation: str
    method: str
    evidence: str
    checked: str
    confidence: str


@dataclass(frozen=True, slots=True)
class Names:
    """The authority tables beside the entities themselves: links with their provenance (by
    target URI), family names written first (vocab/family-names.csv) and titles such as
    "Comrade" (vocab/titles.csv), both folded to lower case."""

    links: dict[str, Link] = field(default_factory=dict)
    family_first: frozenset[str] = frozenset()
    titles: frozenset[str] = frozenset()


def name_key(name: str) -> str:
    """A matching key: case, accents, punctuation and titles ("Comrade") do not matter."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"\[.*?\]|\(.*?\)", " ", text)
    text = re.sub(r"[^\w\s]", " ", text)
    words = [w for w in text.split() if w not in _HONORIFICS]
    return " ".join(words)


_HONORIFICS = {"comrade", "mr", "mrs", "ms", "dr", "prof", "sir"}


LIFE_DATES = re.compile(r",\s*(?:(?:b|d|fl|ca)\.\s*)?\d{3,4}\??\s*(?:-\s*(?:\d{3,4}\??)?)?\.?\s*$")
"""Life dates closing a Library of Congress name heading ("Stalin, Joseph, 1879-1953",
"Bush, George, 1924-", "Smith, John, d. 1950"), as the archive's tags write people."""


def name_keys(name: str) -> list[str]:
    """Keys for a name as written and, for an inverted heading "Nehru, Jawaharlal", un-inverted;
    a heading's life dates are left out, so "Stalin, Joseph, 1879-1953" finds Joseph Stalin
    (display_name drops them too: the dated heading already had his URI, not his links)."""
    undated = LIFE_DATES.sub("", name)
    keys = [name_key(name), name_key(undated)]
    head, sep, rest = undated.partition(",")
    if sep and rest.strip() and not re.search(r"\d", rest):
        keys.append(name_key(f"{rest} {head}"))
    return [k for k in dict.fromkeys(keys) if k]


def _rows(name: str, vocab_dir: Path) -> list[dict[str, str]]:
    path = vocab_dir / name
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return [
                {k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)
            ]
    except OSError as exc:
        raise ConfigError(f"cannot read vocabulary table {path}: {exc.strerror}") from exc


@dataclass(frozen=True)
class Vocab:
    """All vocabulary tables, indexed for lookup by normalized label."""

    types: dict[str, DocType]
    languages: dict[str, Language]
    rights: tuple[Rights, ...]
    archives: dict[str, Archive]
    authorities: dict[str, Authority]
    context: dict[str, object]
    lod_ttl: str
    classifications: dict[str, Classification] = field(default_factory=dict)
    schemes: tuple[Scheme, ...] = ()
    names: Names = field(default_factory=Names)
    _memo: dict[tuple[str, str], object] = field(default_factory=dict, compare=False, repr=False)

    def _cached(self, kind: str, key: str, find: Callable[[str], Any]) -> Any:
        """Lookups by name repeat across records and normalizing a name is the costly part."""
        memo = self._memo
        try:
            return memo[(kind, key)]
        except KeyError:
            value = find(key)
            if len(memo) < 500_000:
                memo[(kind, key)] = value
            return value

    def doc_type(self, label: str) -> DocType | None:
        return self._cached("type", label, lambda v: self.types.get(name_key(v)))  # type: ignore[no-any-return]

    def language(self, label: str) -> Language | None:
        return self._cached("language", label, lambda v: self.languages.get(name_key(v)))  # type: ignore[no-any-return]

    def classification(self, value: str) -> Classification | None:
        """The level of a security marking: the whole value ("TOP SECRET"), or what comes before
        a distribution caption or handling note ("Secret; Nodis", "Top Secret, Special File")."""
        return self._cached("classification", value, self._classification)  # type: ignore[no-any-return]

    def _classification(self, value: str) -> Classification | None:
        head = re.split(r"[;,]", value, maxsplit=1)[0]
        return self.classifications.get(name_key(value)) or self.classifications.get(name_key(head))

    def rights_for(self, text: str) -> Rights | None:
        folded = text.lower()
        for rights in self.rights:
            if rights.match.lower() in folded:
                return rights
        return None

    def archive(self, name: str) -> Archive | None:
        return self._cached("archive", name, self._archive)  # type: ignore[no-any-return]

    def _archive(self, name: str) -> Archive | None:
        for key in name_keys(name):
            if key in self.archives:
                return self.archives[key]
        abbreviation = re.search(r"\(([A-Z][A-Za-z ]+)\)\s*$", name)
        if abbreviation:
            return self.archives.get(name_key(abbreviation.group(1)))
        return None

    def authority(self, name: str) -> Authority | None:
        return self._cached("authority", name, self._authority)  # type: ignore[no-any-return]

    def _authority(self, name: str) -> Authority | None:
        for key in name_keys(name):
            if key in self.authorities:
                return self.authorities[key]
        return None

    def link(self, target: str) -> Link | None:
        """The link row for a target URI an authority names (its relation and provenance)."""
        return self.names.links.get(target)

    def type_from_title(self, title: str) -> DocType | None:
        """The document type a title starts with ("Letter, ...", "Memorandum From ...")."""
        key = name_key(title)
        best: tuple[int, DocType] | None = None
        for variant, doc_type in self.types.items():
            if (key == variant or key.startswith(variant + " ")) and (
                best is None or len(variant) > best[0]
            ):
                best = (len(variant), doc_type)
        return best[1] if best else None


@lru_cache(maxsize=4)
def load_vocab(vocab_dir: Path = VOCAB_DIR) -> Vocab:
    types: dict[str, DocType] = {}
    for row in _rows("types.csv", vocab_dir):
        variants = tuple(_split(row["variants"]))
        doc_type = DocType(
            row["label"],
            row["slug"],
            row["aat"],
            row["dcmitype"],
            row["message"] == "yes",
            variants,
        )
        for label in [row["label"], *variants]:
            types[name_key(label)] = doc_type
    languages: dict[str, Language] = {}
    for row in _rows("languages.csv", vocab_dir):
        variants = tuple(_split(row["variants"]))
        language = Language(row["label"], row["iso639_2"], row["iso639_3"], row["bcp47"], variants)
        codes = [row["iso639_2"], row["iso639_3"], row["bcp47"]]
        for label in [row["label"], *codes, *variants]:
            languages[name_key(label)] = language
    rights = tuple(
        Rights(r["slug"], r["notation"], r["match"], r["uri"], r["label"])
        for r in _rows("rights.csv", vocab_dir)
    )
    archives: dict[str, Archive] = {}
    for row in _rows("archives.csv", vocab_dir):
        variants = tuple(_split(row["variants"]))
        archive = Archive(row["abbreviation"], row["slug"], row["label"], row["country"], variants)
        for label in [row["abbreviation"], row["label"], *variants]:
            archives[name_key(label)] = archive
    authorities, names = _authorities(vocab_dir)
    classifications: dict[str, Classification] = {}
    for row in _rows("classification.csv", vocab_dir):
        level = Classification(row["slug"], row["label"], tuple(_split(row["variants"])))
        for label in [level.label, *level.variants]:
            classifications[name_key(label)] = level
    schemes = tuple(
        Scheme(r["name"], r["label"], r["definition"]) for r in _rows("schemes.csv", vocab_dir)
    )
    try:
        context = json.loads((vocab_dir / "context.jsonld").read_text(encoding="utf-8"))
        lod_ttl = (vocab_dir / "lod.ttl").read_text(encoding="utf-8")
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"cannot read the JSON-LD context or lod.ttl in {vocab_dir}: {exc}"
        ) from exc
    return Vocab(
        types,
        languages,
        rights,
        archives,
        authorities,
        context,
        lod_ttl,
        classifications,
        schemes,
        names=names,
    )


def _authorities(vocab_dir: Path) -> tuple[dict[str, Authority], Names]:
    """Entities by every key of every name (vocab/authorities.csv) and their links (links.csv).

    A link table that could publish a wrong or unexplained link is refused at load time: an
    unknown relation, a verified link without evidence or date, a guess without confidence, two
    links to one hub, or one target claimed by two entities."""
    links: dict[str, Link] = {}
    by_slug: dict[str, list[str]] = {}
    for number, row in enumerate(_rows("links.csv", vocab_dir), 2):
        link = Link(*(row[k] for k in LINK_COLUMNS))
        problem = _link_problem(link, links, by_slug)
        if problem:
            raise ConfigError(f"{vocab_dir / 'links.csv'} row {number}: {problem}")
        links[link.target] = link
        by_slug.setdefault(link.slug, []).append(link.target)
    authorities: dict[str, Authority] = {}
    for row in _rows("authorities.csv", vocab_dir):
        authority = Authority(
            row["slug"],
            row["kind"],
            row["label"],
            tuple(_split(row["variants"])),
            tuple(by_slug.pop(row["slug"], ())),
            tuple(_split(row["text_names"])),
        )
        for label in [row["label"], *authority.variants]:
            for key in name_keys(label):
                authorities[key] = authority
    if by_slug:
        raise ConfigError(
            f"{vocab_dir / 'links.csv'} links entities vocab/authorities.csv does not have: "
            + ", ".join(sorted(by_slug))
        )
    family = frozenset(r["name"].lower() for r in _rows("family-names.csv", vocab_dir))
    titles = frozenset(r["title"].lower() for r in _rows("titles.csv", vocab_dir))
    return authorities, Names(links, family, titles)


def _link_problem(link: Link, links: dict[str, Link], by_slug: dict[str, list[str]]) -> str:
    if link.relation not in LINK_RELATIONS:
        return f"relation {link.relation!r} is none of {', '.join(LINK_RELATIONS)}"
    if link.relation == "skos:closeMatch":
        try:
            ok = 0 < float(link.confidence) < 1
        except ValueError:
            ok = False
        if not ok:
            return "an unverified link (skos:closeMatch) needs a confidence between 0 and 1"
    elif not (link.method and link.evidence and re.fullmatch(r"\d{4}-\d{2}-\d{2}", link.checked)):
        return f"a verified link ({link.relation}) needs how it was checked, evidence and a date"
    if link.target in links:
        return f"{link.target} is already linked from {links[link.target].slug}"
    if any(links[t].hub == link.hub for t in by_slug.get(link.slug, ())):
        return f"{link.slug} has two links to {link.hub}"
    return ""


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split("|") if part.strip()]
