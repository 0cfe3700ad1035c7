"""URI minting: one base URI, opaque slugs, thing URIs apart from the documents describing them.

{base}record/{id}            the archival record (a thing)
{base}doc/record/{id}        the document describing it (.ttl .jsonld .nt .rdf .html)
{base}agent/{slug}, place/, subject/, archive/, collection/   shared entities
{base}vocab/{scheme}[/{slug}]  controlled vocabularies: SKOS concept schemes and their concepts

A URI path is percent-encoded (`record/Doc%205`); the file holding its document is named as a
static server decodes the request path before it looks (`doc/record/Doc 5.ttl`), see file_path.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote, unquote

from lod.errors import ConfigError

ENTITY_KINDS = ("agent", "place", "subject", "archive", "collection", "record", "vocab")
NAMESPACES = ("vocab/lod", "vocab/shapes")
"""lod's own terms and its SHACL shapes: files beside the concept schemes, not things."""
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


URI_SAFE = "-._~"
"""What a URI path segment lod mints leaves unencoded: RFC 3986's unreserved characters."""
KEPT_ENCODED = re.compile(r"(%2[EeFf5]|%00)")
"""Escapes a file name keeps: a decoded '/' would make folders of one ID, NUL cannot be in a
file name, '%' keeps the IDs 'a/b' and 'a%2Fb' apart, and '.' keeps '%2E%2E' from being '..'."""
DOT_SEGMENTS = (".", "..")


def safe_id(record_id: str) -> str:
    """A record ID as one URI path segment. An ID of '.' or '..' is encoded too, so that a
    file named after it stays in its folder; as a URI it is still a dot segment, which clients
    remove from a path (RFC 3986 5.2.4), so no record is published with such an ID
    (lod.sources.limits.unaddressable)."""
    segment = quote(record_id.strip(), safe=URI_SAFE)
    return segment.replace(".", "%2E") if segment in DOT_SEGMENTS else segment


def has_document(path: str) -> bool:
    """Whether a build writes documents (doc/{path}.html and the RDF formats) for the resource
    at `path`: a record, a shared entity, a vocabulary, the dataset. Not the site's own files
    (index, dumps, statistics), the server's routes (sparql) or lod's namespaces."""
    kind, _, rest = path.partition("/")
    return path == "dataset" or (kind in ENTITY_KINDS and bool(rest) and path not in NAMESPACES)


def file_path(uri_path: str) -> str:
    """The file name of a URI path ('record/Doc%205' -> 'record/Doc 5'): what a static server
    looks up, as it decodes the request path first. Each segment stays one name that cannot
    leave its folder (KEPT_ENCODED), and a suffix added before or after gives the same name."""
    return "/".join(_file_name(segment) for segment in uri_path.split("/"))


def _file_name(segment: str) -> str:
    parts = KEPT_ENCODED.split(segment)  # text, kept escape, text, ...
    parts[::2] = [unquote(text) for text in parts[::2]]
    parts[1::2] = [escape.upper() for escape in parts[1::2]]
    name = "".join(parts)
    return name.replace(".", "%2E") if name in DOT_SEGMENTS else name


def uri_path(path: str) -> str:
    """The URI path of a file path, the inverse of file_path: how links and Location headers
    name it."""
    return quote(path, safe="/%" + URI_SAFE)


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

    def doc_file(self, thing_uri: str) -> str:
        """Where the documents of a thing are written, without suffix ('doc/record/Doc 5')."""
        return "doc/" + file_path(self.path(thing_uri))

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
