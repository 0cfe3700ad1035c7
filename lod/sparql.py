"""SPARQL for a public, read-only endpoint: check a query's tokens, run it on the store with a
row cap, and write the results in the SPARQL 1.1 result formats or an RDF format.

The check works on tokens, not a second parse (a full rdflib parse costs 6-27 ms, more than
most lookups on pyoxigraph): SERVICE outside strings, IRIs and comments is refused before the
query runs, because pyoxigraph would otherwise send the request itself and cannot be told not
to. The one SERVICE allowed is lod's own keyword search (`SERVICE lod:search { ?doc lod:query
"words" ; lod:score ?score }`), which is answered from the full-text index and spliced into the
query as a VALUES block before pyoxigraph sees it, so it joins with any graph pattern.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple
from xml.sax.saxutils import escape, quoteattr

from pyoxigraph import (
    BlankNode,
    Literal,
    NamedNode,
    QueryBoolean,
    QuerySolutions,
    RdfFormat,
    Store,
    Triple,
    serialize,
)

from lod.capped import NATIVE_WRITERS, cap_query
from lod.errors import LodError, QueryRefused, QuerySyntaxError
from lod.formats import keep_carriage_returns, trim_prefixes
from lod.namespaces import prefixes_for
from lod.store import BUILD_INFO, STORE_DIR
from lod.textindex import INDEX_FILE, TextIndex

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
XSD_DOUBLE = "http://www.w3.org/2001/XMLSchema#double"

_TOKEN = re.compile(
    r"""
    (?P<string>"{3}(?:[^"\\]|\\.|"(?!""))*"{3}|'{3}(?:[^'\\]|\\.|'(?!''))*'{3}
              |"(?:[^"\\\n\r]|\\.)*"|'(?:[^'\\\n\r]|\\.)*')
    |(?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    |(?P<comment>\#[^\n\r]*)
    |(?P<var>[?$][\w\u00b7-\uffff]+)
    |(?P<pname>(?:[A-Za-z\u00c0-\uffff][\w\-.\u00b7-\uffff]*)?:(?:[\w\-:%\u00b7-\uffff]|\\.|\.(?=[\w\-:%]))*)
    |(?P<word>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<space>\s+)
    |(?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
QUERY_FORMS = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}
MAX_NESTING = 100
"""Deepest nesting of { ( [ a query may have: pyoxigraph's parser recurses once per level, and
a few thousand levels overflow the query process's stack (real queries stay under 20)."""
OPENERS = {"{": "}", "(": ")", "[": "]"}
MAX_OPERATORS = 5000
"""Most operator characters (! && || + - * / ^ = < >) in a query: pyoxigraph's parser and
optimizer also recurse once per operator of a chain (`true && true && ...`, `!!!...`), and some
10,000 overflow an 8 MB stack. A longer list of alternatives fits in a VALUES block."""
OPERATORS = frozenset("!&|+-*/^=<>")
UPDATE_FORMS = {
    "INSERT",
    "DELETE",
    "LOAD",
    "CLEAR",
    "DROP",
    "CREATE",
    "ADD",
    "MOVE",
    "COPY",
    "WITH",
}


class Token(NamedTuple):
    """A named tuple, not a dataclass: every query is tokenized on its way to the store, and
    building frozen dataclasses took three quarters of the time."""

    kind: str
    text: str
    start: int
    end: int


SKIPPED = frozenset({"space", "comment"})


def tokenize(text: str) -> list[Token]:
    """SPARQL tokens without spaces and comments (good enough to find keywords and IRIs)."""
    make = Token._make
    return [
        make((m.lastgroup or "other", m.group(), *m.span()))
        for m in _TOKEN.finditer(text)
        if m.lastgroup not in SKIPPED
    ]


@dataclass(frozen=True, slots=True)
class Analysis:
    form: str  # SELECT, ASK, CONSTRUCT or DESCRIBE
    prefixes: dict[str, str]
    search_blocks: list[tuple[int, int, list[Token]]]  # (start, end, inner tokens) of lod:search
    dataset: bool = False
    """The query names its own dataset (FROM / FROM NAMED)."""


def analyse(text: str, search_iri: str = "", prefixes: dict[str, str] | None = None) -> Analysis:
    """Find the query form, refuse updates and federation; raise QuerySyntaxError for a text
    that is no query at all (the parser later reports finer errors with their position)."""
    tokens = tokenize(text)
    known = dict(prefixes or {})
    form = ""
    blocks: list[tuple[int, int, list[Token]]] = []
    dataset = False
    _check_shape(tokens)
    for index, token in enumerate(tokens):
        if token.kind == "pname" and index >= 1 and tokens[index - 1].text.upper() == "PREFIX":
            if index + 1 < len(tokens) and tokens[index + 1].kind == "iri":
                known[token.text[:-1]] = tokens[index + 1].text[1:-1]
            continue
        if token.kind != "word":
            continue
        keyword = token.text.upper()
        if not form and keyword in UPDATE_FORMS:
            raise QueryRefused(
                f"{keyword} is a SPARQL Update operation; this endpoint is read-only"
            )
        if not form and keyword in QUERY_FORMS:
            form = keyword
        if keyword == "SERVICE":
            blocks.append(_search_block(text, tokens, index, known, search_iri))
        dataset = dataset or keyword == "FROM"
    if not form:
        raise QuerySyntaxError("no SELECT, ASK, CONSTRUCT or DESCRIBE query found in the text")
    return Analysis(form, known, blocks, dataset)


def _check_shape(tokens: list[Token]) -> None:
    """Refuse the shapes that would crash a query process rather than take long."""
    depth = operators = 0
    for token in tokens:
        if token.kind != "other":
            continue
        if token.text in OPERATORS:
            operators += 1
            if operators > MAX_OPERATORS:
                raise QueryRefused(
                    f"the query has over {MAX_OPERATORS} operators (at character {token.start}); "
                    "list alternatives in a VALUES block instead"
                )
        if token.text in OPENERS:
            depth += 1
            if depth > MAX_NESTING:
                raise QueryRefused(
                    f"the query nests {{ ( [ deeper than {MAX_NESTING} levels (at character "
                    f"{token.start}); flatten it"
                )
        elif token.text in OPENERS.values():
            depth -= 1


def dataset_iris(
    tokens: list[Token], analysis: Analysis, base_iri: str
) -> tuple[list[str], list[str]]:
    """The graphs a query's FROM and FROM NAMED clauses name. A store may fetch a graph it
    does not hold from the web (Virtuoso's sponger), so each must be one of the dataset's."""
    found: tuple[list[str], list[str]] = ([], [])
    for index, token in enumerate(tokens[:-1]):
        if token.kind != "word" or token.text.upper() != "FROM":
            continue
        target = tokens[index + 1]
        named = target.kind == "word" and target.text.upper() == "NAMED"
        if named and index + 2 < len(tokens):
            target = tokens[index + 2]
        if target.kind == "iri":
            iri = target.text[1:-1]
            found[named].append(iri if ":" in iri else base_iri + iri)
        elif target.kind == "pname":
            prefix, _, local = target.text.partition(":")
            if prefix not in analysis.prefixes:
                # Never left for a store to resolve: an external one may know the prefix
                # and fetch the graph.
                raise QuerySyntaxError(
                    f"the prefix {prefix}: of FROM {target.text} is not declared; declare it "
                    "with PREFIX or write the graph's full IRI"
                )
            found[named].append(analysis.prefixes[prefix] + local)
    return found


def graph_node(iri: str) -> NamedNode:
    """A dataset graph's node; a refusal naming `iri` where it is no IRI at all."""
    try:
        return NamedNode(iri)
    except ValueError as exc:
        raise QueryRefused(f"graph <{iri[:200]}> is not a valid absolute IRI") from exc


def not_in_dataset(graph: str) -> QueryRefused:
    return QueryRefused(
        f"graph <{graph}> is not in this dataset; this endpoint does not load remote graphs "
        "(name only graphs of this dataset in FROM, default-graph-uri and named-graph-uri, or "
        "leave them out to query all data)"
    )


def _search_block(
    text: str, tokens: list[Token], index: int, prefixes: dict[str, str], search_iri: str
) -> tuple[int, int, list[Token]]:
    position = index + 1
    if position < len(tokens) and tokens[position].text.upper() == "SILENT":
        position += 1
    target = _iri(tokens[position], prefixes) if position < len(tokens) else None
    if not search_iri or target != search_iri:
        raise QueryRefused(
            "SERVICE (federated query) is not allowed on this endpoint"
            + (f"; the one service offered is keyword search, <{search_iri}>" if search_iri else "")
        )
    if position + 1 >= len(tokens) or tokens[position + 1].text != "{":
        raise QuerySyntaxError("SERVICE lod:search must be followed by { ... }")
    inner: list[Token] = []
    for token in tokens[position + 2 :]:
        if token.text == "}":
            return tokens[index].start, token.end, inner
        if token.text == "{":
            break
        inner.append(token)
    raise QuerySyntaxError("SERVICE lod:search { ... } must hold only triple patterns")


def _iri(token: Token, prefixes: dict[str, str]) -> str | None:
    if token.kind == "iri":
        return token.text[1:-1]
    if token.kind == "pname":
        prefix, _, local = token.text.partition(":")
        if prefix in prefixes:
            return prefixes[prefix] + local
    return None


Search = Callable[[str, int], list[tuple[str, float]]]
"""Keyword search: (words, limit) -> best-first (uri, score)."""


def expand_search(
    text: str, analysis: Analysis, vocab_ns: str, search: Search | None, limit: int
) -> str:
    """Replace each `SERVICE lod:search { ?doc lod:query "words" ; lod:score ?score }` block
    with a VALUES block holding the index's hits, best first (at most `limit`)."""
    if not analysis.search_blocks:
        return text
    if search is None:
        raise QueryRefused("keyword search is not available for this build")
    out: list[str] = []
    cursor = 0
    for start, end, inner in analysis.search_blocks:
        subject, words, score = _search_terms(inner, analysis.prefixes, vocab_ns)
        hits = search(words, limit)
        names = f"?{subject}" + (f" ?{score}" if score else "")
        rows = " ".join(
            f'(<{uri}> "{value!r}"^^<{XSD_DOUBLE}>)' if score else f"<{uri}>" for uri, value in hits
        )
        out.append(text[cursor:start])
        out.append(f"VALUES ({names}) {{ {rows} }}" if score else f"VALUES {names} {{ {rows} }}")
        cursor = end
    out.append(text[cursor:])
    return "".join(out)


def _search_terms(
    inner: list[Token], prefixes: dict[str, str], vocab_ns: str
) -> tuple[str, str, str]:
    subject = ""
    words = ""
    score = ""
    position = 0
    while position < len(inner):
        token = inner[position]
        if token.kind == "var" and not subject:
            subject = token.text[1:]
        elif token.kind in ("iri", "pname") and position + 1 < len(inner):
            predicate = _iri(token, prefixes)
            value = inner[position + 1]
            if predicate == vocab_ns + "query" and value.kind == "string":
                words = _unquote(value.text)
            elif predicate == vocab_ns + "score" and value.kind == "var":
                score = value.text[1:]
            else:
                raise QuerySyntaxError(
                    f'SERVICE lod:search understands lod:query "words" and lod:score ?var, '
                    f"not {token.text} {value.text}"
                )
            position += 1
        position += 1
    if not subject or not words:
        raise QuerySyntaxError('SERVICE lod:search needs ?var lod:query "words"')
    return subject, words, score


def _unquote(literal: str) -> str:
    quote = 3 if literal[:3] in ('"""', "'''") else 1
    body = literal[quote:-quote]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


SEARCH_HITS = 10_000
"""Most keyword hits a `SERVICE lod:search` block injects into a query."""


def answer_query(
    store: Store,
    text: str,
    fmt: str | None,
    *,
    vocab_ns: str,
    search: Search | None,
    row_limit: int,
    base_iri: str,
    default_graphs: list[str] | None = None,
    named_graphs: list[str] | None = None,
    analysis: Analysis | None = None,
) -> Answer:
    """The whole path of one query, shared by the server's query processes and `lod query`:
    check its tokens, splice in keyword hits, run it, write it as `fmt` (by default TSV for
    SELECT/ASK and Turtle for graphs). `analysis` is analyse(text) where the caller has it."""
    query = prepare_query(text, fmt, vocab_ns, search, analysis)
    if query.analysis.dataset:
        named_in_query = dataset_iris(tokenize(text), query.analysis, base_iri)
        for graph in named_in_query[0] + named_in_query[1]:
            if not store.contains_named_graph(graph_node(graph)):
                raise not_in_dataset(graph)
    return run_query(
        store,
        query.text,
        query.fmt,
        prefixes=query.prefixes,
        row_limit=row_limit,
        base_iri=base_iri,
        default_graphs=default_graphs,
        named_graphs=named_graphs,
        union=not query.analysis.dataset,
        select=query.analysis.form == "SELECT",
    )


@dataclass(frozen=True, slots=True)
class Prepared:
    """A checked query, keyword hits spliced in, and how its answer will be written."""

    text: str
    analysis: Analysis
    fmt: str
    prefixes: dict[str, str]

    @property
    def graph(self) -> bool:
        return self.analysis.form in ("CONSTRUCT", "DESCRIBE")


def prepare_query(
    text: str,
    fmt: str | None,
    vocab_ns: str,
    search: Search | None,
    analysis: Analysis | None = None,
) -> Prepared:
    """What every store's path does first (the embedded one and an external one): check the
    query's tokens (unless `analysis` says what a check of them found), pick the answer's
    format (by default TSV for SELECT/ASK, Turtle for graphs), refuse one that does not fit the
    query form, splice in keyword hits."""
    prefixes = prefixes_for(vocab_ns)
    analysis = analysis or analyse(text, vocab_ns + "search", prefixes)
    graph = analysis.form in ("CONSTRUCT", "DESCRIBE")
    fmt = fmt or ("turtle" if graph else "tsv")
    if (fmt in GRAPH_WRITERS) != graph:
        kinds = ", ".join(GRAPH_WRITERS if graph else RESULT_WRITERS)
        raise QueryRefused(f"a {analysis.form} query can be written as: {kinds}")
    expanded = expand_search(text, analysis, vocab_ns, search, SEARCH_HITS)
    return Prepared(expanded, analysis, fmt, prefixes)


@dataclass(frozen=True, slots=True)
class Answer:
    body: bytes
    truncated: bool


def run_query(
    store: Store,
    text: str,
    fmt: str,
    *,
    prefixes: dict[str, str],
    row_limit: int,
    base_iri: str | None = None,
    default_graphs: list[str] | None = None,
    named_graphs: list[str] | None = None,
    union: bool = True,
    select: bool = False,
) -> Answer:
    """Run a checked query and write its results as `fmt` (a name from RESULT_WRITERS or
    GRAPH_WRITERS); at most `row_limit` solutions or triples are written. Relative IRIs resolve
    against `base_iri`, the build's base URI, so `<record/112095>` names that record.

    Each resource is a named graph; unless the query or the protocol names a dataset, the
    default graph is the union of all of them (`union`; Oxigraph would let the flag override
    a FROM clause, so it is set only when there is none). A SELECT query (`select`) is written
    by pyoxigraph under a capped LIMIT (lod.capped) where its clauses allow."""
    for graph in (default_graphs or []) + (named_graphs or []):
        if not store.contains_named_graph(graph_node(graph)):
            raise not_in_dataset(graph)
    options: dict[str, Any] = {"prefixes": prefixes, "base_iri": base_iri}
    if default_graphs is not None:
        options["default_graph"] = [NamedNode(g) for g in default_graphs]
    if named_graphs is not None:
        options["named_graphs"] = [NamedNode(g) for g in named_graphs]
    if union and default_graphs is None and named_graphs is None:
        options["use_default_graph_as_union"] = True
    native = NATIVE_WRITERS.get(fmt) if select else None
    capped = cap_query(text, tokenize(text), row_limit) if native else None
    if native and capped:
        try:
            solutions = store.query(capped, **options)
        except SyntaxError:
            pass  # the query's own error: the plain run below reports it against its text
        else:
            assert isinstance(solutions, QuerySolutions)
            return Answer(*native.write(solutions, row_limit))
    try:
        result = store.query(text, **options)
    except SyntaxError as exc:
        raise QuerySyntaxError(_clip(str(exc))) from exc
    return write_answer(result, fmt, prefixes, row_limit)


def write_answer(
    result: QueryBoolean | QuerySolutions | Iterable[Triple],
    fmt: str,
    prefixes: dict[str, str],
    row_limit: int,
) -> Answer:
    """A query's result written as `fmt`, at most `row_limit` solutions or triples: one writer
    for the embedded store's results and an external store's (a graph as any triples)."""
    if isinstance(result, QueryBoolean):
        return Answer(BOOLEAN_WRITERS[fmt](bool(result)), False)
    if isinstance(result, QuerySolutions):
        names = [v.value for v in result.variables]
        rows = list(_take(result, row_limit + 1))
        cut = len(rows) > row_limit
        return Answer(RESULT_WRITERS[fmt](names, rows[:row_limit]), cut)
    triples = list(_take(result, row_limit + 1))
    cut = len(triples) > row_limit
    return Answer(GRAPH_WRITERS[fmt](triples[:row_limit], prefixes), cut)


def _take(items: Iterable[Any], count: int) -> Iterator[Any]:
    for index, item in enumerate(items):
        if index >= count:
            return
        yield item


def _clip(message: str, limit: int = 400) -> str:
    message = " ".join(message.split())
    return message if len(message) <= limit else message[:limit] + "…"


Term = NamedNode | BlankNode | Literal | Triple


def _json_term(term: Term) -> dict[str, Any]:
    if isinstance(term, NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, Literal):
        out: dict[str, Any] = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    return {
        "type": "triple",
        "value": {
            "subject": _json_term(term.subject),
            "predicate": _json_term(term.predicate),
            "object": _json_term(term.object),
        },
    }


def write_json(names: list[str], rows: list[Any]) -> bytes:
    bindings = []
    for row in rows:
        binding = {}
        for name in names:
            term = row[name]
            if term is not None:
                binding[name] = _json_term(term)
        bindings.append(binding)
    document = {"head": {"vars": names}, "results": {"bindings": bindings}}
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


def _xml_term(term: Term) -> str:
    if isinstance(term, NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, Literal):
        if term.language:
            return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
        if term.datatype.value != XSD_STRING:
            return (
                f"<literal datatype={quoteattr(term.datatype.value)}>{escape(term.value)}</literal>"
            )
        return f"<literal>{escape(term.value)}</literal>"
    return (
        f"<triple><subject>{_xml_term(term.subject)}</subject>"
        f"<predicate>{_xml_term(term.predicate)}</predicate>"
        f"<object>{_xml_term(term.object)}</object></triple>"
    )


XML_HEAD = '<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">\n'


def write_xml(names: list[str], rows: list[Any]) -> bytes:
    parts = [XML_HEAD, "<head>"]
    parts += [f"<variable name={quoteattr(n)}/>" for n in names]
    parts.append("</head>\n<results>\n")
    for row in rows:
        parts.append("<result>")
        for name in names:
            term = row[name]
            if term is not None:
                parts.append(f"<binding name={quoteattr(name)}>{_xml_term(term)}</binding>")
        parts.append("</result>\n")
    parts.append("</results>\n</sparql>\n")
    return "".join(parts).encode("utf-8")


def _csv_value(term: Term | None) -> str:
    if term is None:
        return ""
    if isinstance(term, BlankNode):
        return "_:" + term.value
    if isinstance(term, NamedNode | Literal):
        return term.value
    return str(term)


def write_csv(names: list[str], rows: list[Any]) -> bytes:
    """SPARQL 1.1 CSV: plain values, CRLF line ends (section 3 of the CSV/TSV results note)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(names)
    for row in rows:
        writer.writerow([_csv_value(row[name]) for name in names])
    return buffer.getvalue().encode("utf-8")


def write_tsv(names: list[str], rows: list[Any]) -> bytes:
    """SPARQL 1.1 TSV: terms in their Turtle/N-Triples form, so types and languages survive."""
    lines = ["\t".join("?" + n for n in names)]
    for row in rows:
        lines.append("\t".join("" if row[n] is None else str(row[n]) for n in names))
    return ("\n".join(lines) + "\n").encode("utf-8")


def _boolean_xml(value: bool) -> bytes:
    return f"{XML_HEAD}<head/>\n<boolean>{'true' if value else 'false'}</boolean>\n</sparql>\n".encode()


RESULT_WRITERS: dict[str, Callable[[list[str], list[Any]], bytes]] = {
    "json": write_json,
    "xml": write_xml,
    "csv": write_csv,
    "tsv": write_tsv,
}
BOOLEAN_WRITERS: dict[str, Callable[[bool], bytes]] = {
    "json": lambda value: json.dumps({"head": {}, "boolean": value}).encode(),
    "xml": _boolean_xml,
    "csv": lambda value: f"_askResult\r\n{'true' if value else 'false'}\r\n".encode(),
    "tsv": lambda value: f"?_askResult\n{'true' if value else 'false'}\n".encode(),
}


def _graph_writer(rdf_format: RdfFormat) -> Callable[[list[Triple], dict[str, str]], bytes]:
    def write(triples: list[Triple], prefixes: dict[str, str]) -> bytes:
        data = serialize(
            triples,
            format=rdf_format,
            prefixes=None if rdf_format is RdfFormat.N_TRIPLES else prefixes,
        )
        assert data is not None
        if rdf_format is RdfFormat.RDF_XML:
            return keep_carriage_returns(data)
        return trim_prefixes(data) if rdf_format is RdfFormat.TURTLE else data

    return write


GRAPH_WRITERS: dict[str, Callable[[list[Triple], dict[str, str]], bytes]] = {
    "turtle": _graph_writer(RdfFormat.TURTLE),
    "jsonld": _graph_writer(RdfFormat.JSON_LD),
    "ntriples": _graph_writer(RdfFormat.N_TRIPLES),
    "rdfxml": _graph_writer(RdfFormat.RDF_XML),
}


@dataclass(frozen=True, slots=True)
class LocalBuild:
    """A built output opened for queries in this process: `lod query`, and benchmarks that hold
    the server's answers against the same path run in process."""

    store: Store
    search: Search | None
    base: str

    @classmethod
    def open(cls, directory: Path) -> LocalBuild:
        try:
            info = json.loads((directory / BUILD_INFO).read_text(encoding="utf-8"))
            store = Store.read_only(str(directory / STORE_DIR))
        except (OSError, ValueError) as exc:
            raise LodError(
                f"{directory} is not a lod build; run `lod build --out {directory}` first"
            ) from exc
        index = directory / INDEX_FILE
        search = TextIndex(index).uris if index.is_file() else None
        return cls(store, search, info["base_uri"])

    def answer(self, text: str, fmt: str | None, row_limit: int) -> Answer:
        """What a server's query process answers, with the build's keyword search and prefixes."""
        return answer_query(
            self.store,
            text,
            fmt,
            vocab_ns=self.base + "vocab/lod#",
            search=self.search,
            row_limit=row_limit,
            base_iri=self.base,
        )


def run_local(directory: Path, text: str, fmt: str | None, limit: int | None) -> bytes:
    """`lod query`: run a query on a built output in this process (no time limit: the caller
    is the person who owns the data)."""
    return LocalBuild.open(directory).answer(text, fmt, limit or 10**12).body
