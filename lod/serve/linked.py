"""Linked data over HTTP: thing URIs, their negotiated documents, and the site's static files.

A thing URI (`/record/112095`) answers 303 to its describing document (`/doc/record/112095`), or
200 with `Content-Location` when the build is set up so; the document picks its format by
`Accept` (q-values, wildcards), by `?format=`, or by a file suffix. Request paths are mapped,
not hosts, so a build minted under any base URI serves the same from 127.0.0.1.
"""

from __future__ import annotations

import os
import posixpath
import re
from functools import lru_cache
from http import HTTPStatus

from lod.changelog import ChangeLog
from lod.errors import StoreError
from lod.formats import BY_NAME, BY_SUFFIX, FORMATS, Format, negotiate
from lod.serve import tombstone
from lod.serve.http import Request, Response, error, file_response
from lod.serve.remote import RemotePool
from lod.uris import ENTITY_KINDS, file_path, uri_path

THING_ROOTS = tuple(f"/{kind}/" for kind in ENTITY_KINDS) + ("/dataset",)
VOCAB_FILES = {
    "/vocab/lod": "/vocab/lod.ttl",
    "/vocab/lod.ttl": "/vocab/lod.ttl",
    "/vocab/shapes": "/vocab/shapes.ttl",
    "/vocab/shapes.ttl": "/vocab/shapes.ttl",
}
"""lod's own terms and the SHACL shapes: files beside the concept schemes under /vocab/, not
things; their namespace documents (`{base}vocab/shapes#Record-title`) answer with the file."""
FORMAT_ALIASES = {
    **{f.name: f for f in FORMATS},
    **{f.suffix[1:]: f for f in FORMATS},
    **{f.media_type: f for f in FORMATS},
    "json-ld": BY_NAME["jsonld"],
    "json": BY_NAME["jsonld"],
    "xml": BY_NAME["rdfxml"],
    "n-triples": BY_NAME["ntriples"],
}
STATIC_TYPES = {
    **{f.suffix: f.content_type for f in FORMATS},
    ".gz": "application/gzip",
    ".jsonl": "application/jsonl; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
}
WELL_KNOWN = {"/.well-known/void": "/doc/dataset"}
"""Well-known URIs and the document each stands for. The build writes the Turtle at the
well-known path (a static host serves that); `lod serve` negotiates among the RDF syntaxes."""
RDF_FORMATS = tuple(f for f in FORMATS if f.name != "html")
"""The RDF syntaxes, Turtle first: what a well-known URI answers to `*/*` or to no Accept."""
HIDDEN = ("store", "search.sqlite", "build.json", "changes.sqlite")
"""Top-level names of the output that are the server's own, not the published site's."""


def clean_path(raw: str) -> str | None:
    """The request path as the file it names (decoded as the build named its files), or None
    for one that tries to leave the site. Encoded dots and slashes stay inside one file name
    (lod.uris.file_path), so '%2E%2E' names a file in its folder, and nothing above the site."""
    if "\x00" in raw or ".." in raw.split("/"):
        return None
    return file_path(posixpath.normpath(raw)) if raw not in ("", "/") else "/"


def is_thing(path: str) -> bool:
    return (path.startswith(THING_ROOTS) and path not in VOCAB_FILES) or path == "/dataset"


def thing(
    root: str,
    request: Request,
    path: str,
    redirect: bool,
    log: ChangeLog | None = None,
    base: str = "",
) -> Response:
    """A thing URI: 303 to its document, or (redirect off) the document with Content-Location;
    410 with a tombstone when the change log says it was deleted."""
    doc = "/doc" + path
    fmt, problem = _chosen(request)
    if not os.path.isfile(root + doc + ".html"):
        gone = _gone(log, base, path, fmt) if fmt else None
        return gone or not_found(request, f"no resource {path} in this dataset")
    if problem is not None:
        return problem
    if redirect:
        location = _quote(doc + (fmt.suffix if fmt and "format=" in request.query_string else ""))
        return Response(
            HTTPStatus.SEE_OTHER,
            {
                "Location": location,
                "Vary": "Accept",
                "Link": f'<{_quote(doc)}>; rel="describedby"',
                "Content-Type": "text/plain; charset=utf-8",
            },
            f"See {location}\n".encode(),
        )
    answer = document(root, request, doc)
    if answer.status == HTTPStatus.OK:
        answer.headers["Link"] += f', <{_quote(doc)}>; rel="describedby"'
    return answer


def document(
    root: str, request: Request, path: str, log: ChangeLog | None = None, base: str = ""
) -> Response:
    """A describing document: the format from ?format=, a suffix, or Accept. A path whose last
    segment has a dot is first taken as a whole ID (IDs may hold dots), then as stem + suffix.
    The document of a deleted thing answers 410 with its tombstone."""
    fmt, problem = _chosen(request)
    stem = path
    answer = file_response(root + path + fmt.suffix, fmt.content_type) if fmt else None
    if answer is None:
        head, suffix = posixpath.splitext(path)
        by_suffix = BY_SUFFIX.get(suffix)
        answer = file_response(root + path, by_suffix.content_type) if by_suffix else None
        if answer is None or by_suffix is None:
            gone = _gone(log, base, path[4:], fmt) if fmt else None
            if gone is None and by_suffix is not None:
                gone = _gone(log, base, head[4:], by_suffix)
            return gone or problem or not_found(request, f"no document {path} in this dataset")
        stem, fmt = head, by_suffix
    assert fmt is not None
    answer.headers.update(
        {"Vary": "Accept", "Content-Location": _quote(stem + fmt.suffix), "Link": _links(stem, fmt)}
    )
    return answer


def store_document(
    pool: RemotePool, request: Request, path: str, log: ChangeLog | None = None, base: str = ""
) -> Response:
    """A describing document built from the resource's graph in the external store (`lod
    serve --store`), negotiated as `document` negotiates the files."""
    fmt, problem = _chosen(request)
    head, suffix = posixpath.splitext(path)
    by_suffix = BY_SUFFIX.get(suffix)
    tries = [(head, by_suffix), (path, fmt)] if by_suffix else [(path, fmt)]
    for stem, chosen in tries:
        if chosen is None:
            continue
        graph = pool.base + uri_path(stem[1:])
        try:
            triples = pool.graph(graph)
        except StoreError:
            return error(
                HTTPStatus.SERVICE_UNAVAILABLE,
                "the store behind this site cannot answer now; try again shortly",
                **{"Retry-After": "5"},
            )
        if triples:
            thing = pool.base + uri_path(stem[len("/doc/") :])
            body = pool.document(chosen, triples, thing, uri_path(stem))
            headers = {
                "Content-Type": chosen.content_type,
                "Vary": "Accept",
                "Content-Location": _quote(stem + chosen.suffix),
                "Link": _links(stem, chosen),
            }
            return Response(HTTPStatus.OK, headers, body)
    gone = _gone(log, base, path[4:], fmt) if fmt else None
    if gone is None and by_suffix is not None:
        gone = _gone(log, base, head[4:], by_suffix)
    return gone or problem or not_found(request, f"no document {path} in this dataset")


def _gone(log: ChangeLog | None, base: str, path: str, fmt: Format) -> Response | None:
    """The tombstone of the thing at `path` ('/record/1'), if the log says it was deleted."""
    if log is None:
        return None
    found = log.resource(base + uri_path(path[1:]))
    return tombstone.gone(found, fmt, base) if found and found.deleted else None


@lru_cache(maxsize=4096)
def _links(stem: str, fmt: Format) -> str:
    return ", ".join(
        f'<{_quote(stem + other.suffix)}>; rel="alternate"; type="{other.media_type}"'
        for other in FORMATS
        if other is not fmt
    )


_SAFE = re.compile(r"[A-Za-z0-9/._~-]*")


def _quote(path: str) -> str:
    """A path as it may stand in a header, the URI path of the file path: percent-encoded
    unless it is plainly safe."""
    return path if _SAFE.fullmatch(path) else uri_path(path)


def _chosen(request: Request) -> tuple[Format | None, Response | None]:
    """The format asked for by ?format= or Accept; a 406 (listing the offers) when none fits."""
    wanted = request.params.get("format") if request.query_string else None
    if wanted:
        fmt = FORMAT_ALIASES.get(wanted[0].lower())
        if fmt is None:
            names = ", ".join(f.name for f in FORMATS)
            return None, error(
                HTTPStatus.BAD_REQUEST, f"unknown format {wanted[0]!r}; use one of: {names}"
            )
        return fmt, None
    fmt = negotiate(request.header("accept"))
    if fmt is None:
        offers = ", ".join(f.media_type for f in FORMATS)
        return None, error(
            HTTPStatus.NOT_ACCEPTABLE,
            f"none of the requested media types is available; available: {offers}",
            Vary="Accept",
        )
    return fmt, None


def static(root: str, request: Request, path: str) -> Response:
    """Any other published file (index, dumps, context, vocabulary, sitemap)."""
    if path == "/":
        path = "/index.html"
    path = VOCAB_FILES.get(path, path)
    if path in WELL_KNOWN:
        return well_known(root, request, WELL_KNOWN[path])
    top = path.lstrip("/").split("/", 1)[0]
    name = path.rsplit("/", 1)[-1]
    if top in HIDDEN or name.startswith("."):
        return not_found(request, f"no file {path}")
    media_type = STATIC_TYPES.get(posixpath.splitext(path)[1], "application/octet-stream")
    answer = file_response(root + path, media_type)
    if answer is None and path == "/favicon.ico":
        # No icon: 204 says so to the browsers that ask for one by themselves (viewing the
        # OAI-PMH XML, say), which would log a 404 as an error; lod's pages name an empty one.
        return Response(HTTPStatus.NO_CONTENT)
    return answer if answer is not None else not_found(request, f"no file {path}")


def well_known(root: str, request: Request, doc: str) -> Response:
    """A well-known URI (VoID's /.well-known/void): its document in the RDF syntax the client
    asks for, so an RDF/XML or JSON-LD harvester need not read Turtle; Turtle when it names no
    RDF syntax (`*/*`, a browser's HTML)."""
    fmt = negotiate(request.header("accept"), RDF_FORMATS) or RDF_FORMATS[0]
    answer = file_response(root + doc + fmt.suffix, fmt.content_type)
    if answer is None:
        return not_found(request, f"no document {doc} in this output")
    answer.headers["Vary"] = "Accept"
    return answer


def not_found(request: Request, message: str) -> Response:
    """404 in the format the client asked for (an empty graph with a comment for RDF)."""
    fmt = negotiate(request.header("accept"))
    media_type = fmt.media_type if fmt is not None else "text/plain"
    return error(HTTPStatus.NOT_FOUND, message, media_type, Vary="Accept")
