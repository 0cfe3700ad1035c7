"""`lod serve --store URL`: SPARQL and documents answered by an external store.

The web tier keeps the build folder for what is not data (pages, dumps, the keyword index, the
change log) and asks the store for the rest, so it holds no query state and can run on many
machines in front of one store. Queries go through the same checks as on the embedded store
(lod.remote.answer_remote); the time limit is kept by the client, which stops reading and
drops the connection, since the store cannot be trusted to stop on its own. A document is the
resource's named graph, less the provenance statements the embedded build keeps out of its
documents too, written in the negotiated format.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from functools import cached_property
from typing import Any

from pyoxigraph import Literal, NamedNode, Triple

from lod.config import Config
from lod.errors import QueryTimeout
from lod.formats import Format, Writer
from lod.jsonld import Compactor, dumps
from lod.namespaces import expand, prefixes_for
from lod.publish.html import Page, render
from lod.remote import Endpoints, RemoteStore, answer_remote, store_session
from lod.serve.pool import Job
from lod.sparql import Answer, Search
from lod.vocab import load_vocab

PROVENANCE_OF_GRAPH = {
    expand(c) for c in ("prov:wasDerivedFrom", "prov:wasGeneratedBy", "prov:generatedAtTime")
}
"""What lod.provenance says about a graph's own node; its `#source` and `#generation` nodes
are provenance whole."""
PROV_ENTITY = (NamedNode(expand("rdf:type")), NamedNode(expand("prov:Entity")))
TITLES = tuple(expand(c) for c in ("dcterms:title", "schema:name", "skos:prefLabel", "rdfs:label"))


class RemotePool:
    """Stands in for the query pool (same `run`), answering from the external store."""

    def __init__(self, config: Config, base: str, search: Search | None) -> None:
        self.config = config
        self.base = base
        self.vocab_ns = base + "vocab/lod#"
        self.search = search
        self._local = threading.local()

    @property
    def remote(self) -> RemoteStore:
        """One HTTP session per thread (requests sessions are not thread-safe)."""
        remote: RemoteStore | None = getattr(self._local, "remote", None)
        if remote is None:
            c = self.config
            session = store_session(
                c.store_user, c.store_password, c.store_auth, timeout=c.query_timeout, attempts=1
            )
            remote = RemoteStore(Endpoints(c.store), session)
            self._local.remote = remote
        return remote

    async def run(self, job: Job) -> Answer:
        """The store's answer, awaited in a thread: requests blocks. The client hears at the
        time limit, whatever the thread still does (it stops at its next read of the answer)."""
        limit = self.config.query_timeout
        try:
            return await asyncio.wait_for(asyncio.to_thread(self.answer, job), limit)
        except TimeoutError as exc:
            raise QueryTimeout.after(limit) from exc

    def answer(self, job: Job) -> Answer:
        return answer_remote(
            self.remote,
            job.text,
            job.fmt,
            vocab_ns=self.vocab_ns,
            search=self.search,
            row_limit=job.row_limit,
            base_iri=self.base,
            timeout=self.config.query_timeout,
            default_graphs=job.default_graphs,
            named_graphs=job.named_graphs,
            analysis=job.analysis,
        )

    def graph(self, iri: str) -> list[Triple]:
        """A resource's graph as its document shows it: without the provenance."""
        source, generation = NamedNode(iri + "#source"), NamedNode(iri + "#generation")
        graph = NamedNode(iri)
        return [
            t
            for t in self.remote.graph(iri)
            if t.subject not in (source, generation)
            and not (
                t.subject == graph
                and (
                    t.predicate.value in PROVENANCE_OF_GRAPH
                    or (t.predicate, t.object) == PROV_ENTITY
                )
            )
        ]

    @cached_property
    def writer(self) -> Writer:
        context: dict[str, Any] = dict(load_vocab().context["@context"])  # type: ignore[call-overload]
        context["lod"] = self.vocab_ns
        return Writer(prefixes_for(self.vocab_ns), Compactor(context), self.base + "context.jsonld")

    def document(self, fmt: Format, triples: list[Triple], thing: str, path: str) -> bytes:
        """The document of `thing` in `fmt`; `path` is its site path without suffix, encoded."""
        if fmt.name != "html":
            return self.writer.rdf(fmt, triples, thing)
        line = dumps(self.writer.jsonld(triples, thing))
        page = Page(self.base, self.writer.compactor, path.lstrip("/"))
        return render(triples, page, title_of(triples, thing), thing, line).encode("utf-8")

    def close(self) -> None:
        remote: RemoteStore | None = getattr(self._local, "remote", None)
        if remote is not None:
            remote.session.close()


def title_of(triples: list[Triple], thing: str) -> str:
    subject = NamedNode(thing)
    found: Callable[[str], str | None] = lambda predicate: next(  # noqa: E731
        (
            t.object.value
            for t in triples
            if t.subject == subject
            and t.predicate.value == predicate
            and isinstance(t.object, Literal)
        ),
        None,
    )
    return next((title for p in TITLES if (title := found(p))), thing)


__all__ = ["RemotePool", "title_of"]
