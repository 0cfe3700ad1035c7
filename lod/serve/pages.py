"""The two pages librarians use: the SPARQL query page and keyword search (HTML and JSON).

The query page is one self-contained HTML file (no CDN, no third-party code): an editor with
the prefixes preloaded, the curated example queries from vocab/queries/, results as a table,
a CSV download and a permalink (`/query?query=...`). Its one script is allowed by its hash
(lod.serve.http.CONTENT_SECURITY_POLICY); the examples reach it as JSON data, the query as
the editor's text.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from functools import lru_cache
from html import escape
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

from lod.curated import load_curated
from lod.formats import MediaType, negotiate
from lod.publish.html import environment
from lod.serve.http import Request, Response, content_security_policy, error
from lod.textindex import KINDS, MARK_END, MARK_START, TextIndex

DEFAULT_QUERY = """SELECT ?record ?title ?date WHERE {
  ?record dcterms:identifier ?id ;
          dcterms:title ?title .
  OPTIONAL { ?record dcterms:created ?date }
}
ORDER BY ?date
LIMIT 50"""
SEARCH_OFFERS = (MediaType("html", "text/html"), MediaType("json", "application/json"))
PAGE_SIZE = 20
MAX_OFFSET = 10_000


def query_page(
    request: Request, title: str, base: str, prefixes: dict[str, str], timeout: float, rows: int
) -> Response:
    examples = load_curated()
    params = request.params
    query = params.get("query", [""])[0]
    slug = params.get("example", [""])[0]
    chosen = next((q for q in examples if q.slug == slug), None)
    text = query or (chosen.sparql if chosen else "")
    if not text:
        head = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in prefixes.items())
        text = head + "\n" + DEFAULT_QUERY
    data = {
        "base": base,
        "examples": {q.slug: q.sparql for q in examples},
        "run": bool(query or chosen),
    }
    html = (
        environment()
        .get_template("query.html")
        .render(
            title=title,
            query=text,
            examples=examples,
            timeout=f"{timeout:g}",
            row_limit=f"{rows:,}",
            # JSON inside <script>: no "<" at all, so neither </script> nor <!-- can end it.
            data=json.dumps(data).replace("<", "\\u003c"),
        )
    )
    headers = {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": _query_page_policy(),
    }
    return Response(HTTPStatus.OK, headers, html.encode())


@lru_cache(maxsize=1)
def _query_page_policy() -> str:
    """The policy that lets the query page's inline script run: the script is template text
    with no template syntax in it, so the page carries it exactly as the template file has it."""
    env = environment()
    assert env.loader is not None
    source = env.loader.get_source(env, "query.html")[0]
    scripts = re.findall(r"<script>(.*?)</script>", source, re.S)
    return content_security_policy(
        *(base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() for s in scripts)
    )


def search_view(request: Request, index: TextIndex | None, title: str, base: str) -> Response:
    """`/search?q=words[&kind=record][&offset=N]`: HTML for people, JSON for programs."""
    params = request.params
    wanted = params.get("format", [""])[0].lower()
    chosen = (
        next((o for o in SEARCH_OFFERS if o.name == wanted), None)
        if wanted
        else negotiate(request.header("accept"), SEARCH_OFFERS)
    )
    if chosen is None:
        return error(HTTPStatus.NOT_ACCEPTABLE, "search answers as text/html or application/json")
    media = "application/json" if chosen.name == "json" else "text/html"
    q = params.get("q", [""])[0]
    kind = params.get("kind", [""])[0] or None
    if kind is not None and kind not in KINDS:
        return error(HTTPStatus.BAD_REQUEST, f"kind must be one of: {', '.join(KINDS)}", media)
    try:
        offset = min(max(0, int(params.get("offset", ["0"])[0])), MAX_OFFSET)
    except ValueError:
        return error(HTTPStatus.BAD_REQUEST, "offset must be a whole number", media)
    if index is None:
        return error(HTTPStatus.NOT_FOUND, "this build has no search index; rebuild it", media)
    result = index.search(q, kind=kind, limit=PAGE_SIZE, offset=offset)
    hits = [_hit(hit, base) for hit in result.hits]
    query = {"q": q, **({"kind": kind} if kind else {})}
    if chosen.name == "json":
        document: dict[str, Any] = {
            "query": q,
            "kind": kind,
            "total": result.total,
            "offset": offset,
            "limit": PAGE_SIZE,
            "hits": [
                {
                    k: h[k]
                    for k in ("uri", "href", "kind", "title", "snippet", "snippet_html", "score")
                }
                for h in hits
            ],
        }
        body = json.dumps(document, ensure_ascii=False).encode("utf-8")
        return Response(
            HTTPStatus.OK,
            {"Content-Type": "application/json; charset=utf-8", "Vary": "Accept"},
            body,
        )
    page = lambda start: "/search?" + urlencode({**query, "offset": start})  # noqa: E731
    html = (
        environment()
        .get_template("search.html")
        .render(
            title=title,
            q=q,
            kind=kind or "",
            kinds=KINDS,
            total=result.total,
            offset=offset,
            hits=hits,
            json_href="/search?" + urlencode({**query, "offset": offset, "format": "json"}),
            previous_href=page(max(0, offset - PAGE_SIZE)) if offset else "",
            next_href=page(offset + PAGE_SIZE) if offset + PAGE_SIZE < result.total else "",
        )
    )
    return Response(
        HTTPStatus.OK, {"Content-Type": "text/html; charset=utf-8", "Vary": "Accept"}, html.encode()
    )


def _hit(hit: Any, base: str) -> dict[str, Any]:
    local = "/" + hit.uri[len(base) :] if hit.uri.startswith(base) else hit.uri
    plain = hit.snippet.replace(MARK_START, "").replace(MARK_END, "")
    marked = escape(hit.snippet).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")
    return {
        "uri": hit.uri,
        "href": local,
        "kind": hit.kind,
        "title": hit.title,
        "snippet": plain,
        "snippet_html": marked,
        "score": hit.score,
    }
