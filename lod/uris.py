"""URI minting: one base URI, opaque slugs, thing URIs apart from the documents describing them.

{base}record/{id}            the archival record (a thing)
{base}doc/record/{id}        the document describing it (.ttl .jsonld .nt .rdf .html)
{base}agent/{slug}, place/, subject/, archive/, collection/   shared entities
{base}vocab/{scheme}[/{slug}]  controlled vocabularies: SKOS concept schemes and their concepts
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

from lod.errors import ConfigError

ENTITY_KINDS = ("agent", "place", "subject", "archive", "collection", "record", "vocab")
SLUG_MAX = 80
"""Longest slug; longer ones keep a readable prefix and a hash of the whole slug."""
SLUG_HASH = 8


def slugify(text: str) -> str:
    """Lowercase ASCII words joined by '-'; names without Latin letters get a stable hash slug."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if not slug:
        return "x" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]
    return slug if len(slug) <= SLUG_MAX else _shortened(slug)


def _shortened(slug: str) -> str:
    """Cutting alone would merge values that differ only past the cut (two series of one office
    told apart by their dates), so the hash of the whole slug follows the prefix."""
    digest = hashlib.sha1(slug.encode("ascii")).hexdigest()[:SLUG_HASH]
    return f"{slug[: SLUG_MAX - SLUG_HASH - 1].rstrip('-')}-{digest}"


def safe_id(record_id: str) -> str:
    """A record ID as one URI path segment and file name."""
    return quote(record_id.strip(), safe="-._~")


@dataclass(frozen=True, slots=True)
class Minter:
    base: str

    def __post_init__(self) -> None:
        if not re.match(r"^https?://[^/\s]+(/[^\s]*)?/$", self.base):
            raise ConfigError(f"base URI {self.base!r} must be an http(s) URI ending in '/'")

    def thing(self, kind: str, key: str) -> str:
        return f"{self.base}{kind}/{key}"

    def doc(self, thing_uri: str) -> str:
        """The document describing a thing: {base}doc/{path}."""
        return f"{self.base}doc/{thing_uri[len(self.base) :]}"

    def path(self, uri: str) -> str:
        """The path of a URI under the base ('record/112095'), or '' if it is not ours."""
        return uri[len(self.base) :] if uri.startswith(self.base) else ""

    def scheme(self, name: str) -> str:
        """A controlled vocabulary as a SKOS concept scheme ({base}vocab/type)."""
        return f"{self.base}vocab/{name}"

    def concept(self, scheme: str, slug: str) -> str:
        """A concept of a scheme ({base}vocab/type/telegram)."""
        return f"{self.base}vocab/{scheme}/{slug}"

    @property
    def vocab(self) -> str:
        return f"{self.base}vocab/lod#"

    @property
    def dataset(self) -> str:
        return f"{self.base}dataset"
