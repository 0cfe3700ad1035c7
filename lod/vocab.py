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
    """A verified entity: the links are published as owl:sameAs, so only verified ones belong."""

    slug: str
    kind: str
    label: str
    variants: tuple[str, ...]
    same_as: tuple[str, ...]


def name_key(name: str) -> str:
    """A matching key: case, accents, punctuation and titles ("Comrade") do not matter."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"\[.*?\]|\(.*?\)", " ", text)
    text = re.sub(r"[^\w\s]", " ", text)
    words = [w for w in text.split() if w not in _HONORIFICS]
    return " ".join(words)


_HONORIFICS = {"comrade", "mr", "mrs", "ms", "dr", "prof", "sir"}


def name_keys(name: str) -> list[str]:
    """Keys for a name as written and, for an inverted heading "Nehru, Jawaharlal", un-inverted."""
    keys = [name_key(name)]
    head, sep, rest = name.partition(",")
    if sep and rest.strip() and not re.search(r"\d", rest):
        keys.append(name_key(f"{rest} {head}"))
    return [k for k in keys if k]


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
        return self._cached(
            "classification", value, lambda v: self.classifications.get(name_key(v))
        )  # type: ignore[no-any-return]

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
    authorities: dict[str, Authority] = {}
    for row in _rows("authorities.csv", vocab_dir):
        same_as = []
        if row["wikidata"]:
            same_as.append(WIKIDATA + row["wikidata"])
        if row["geonames"]:
            same_as.append(f"{GEONAMES}{row['geonames']}/")
        authority = Authority(
            row["slug"], row["kind"], row["label"], tuple(_split(row["variants"])), tuple(same_as)
        )
        for label in [row["label"], *authority.variants]:
            for key in name_keys(label):
                authorities[key] = authority
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
        types, languages, rights, archives, authorities, context, lod_ttl, classifications, schemes
    )


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split("|") if part.strip()]
