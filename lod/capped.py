"""SELECT answers written by pyoxigraph's own result writers, under the endpoint's row cap.

Writing solutions from Python (a dict per binding, then json.dumps) cost more than many of the
curated queries themselves: 1-3 ms for a hundred rows, some 20 ms for two thousand. pyoxigraph
writes the four SPARQL result formats natively, but it writes every solution it is given, so
the cap goes into the query instead: the outermost LIMIT becomes at most the cap plus one
(added where there is none), and the one solution over the cap, when the answer is long enough
to hold it, is cut from the written bytes. A query whose outermost clauses its tokens do not
show plainly gets None here, and the caller writes its answer from Python as before.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pyoxigraph import QueryResultsFormat, QuerySolutions

TokenLike = tuple[str, str, int, int]
"""lod.sparql.Token: kind, text, start, end."""

_NUMBER = re.compile(r"\s*(\d+)")


def cap_query(text: str, tokens: Sequence[TokenLike], cap: int) -> str | None:
    """`text` (a SELECT query, `tokens` its tokens) with its outermost LIMIT at most cap + 1:
    lowered when higher, added when missing (before a trailing VALUES block, which the grammar
    puts after the solution modifiers; on a line of its own, past any trailing comment).
    None when the outermost clauses are unclear: unbalanced brackets, two outermost LIMITs, a
    LIMIT without a number right after it."""
    depth = 0
    limit_end: int | None = None
    values_start: int | None = None
    for kind, word, start, end in tokens:
        if kind == "other":
            if word in "{([":
                depth += 1
            elif word in "})]":
                depth -= 1
        elif kind == "word" and depth == 0:
            keyword = word.upper()
            if keyword == "LIMIT":
                if limit_end is not None:
                    return None
                limit_end = end
            elif keyword == "VALUES" and values_start is None:
                values_start = start
    if depth != 0:
        return None
    if limit_end is None:
        at = len(text) if values_start is None else values_start
        return f"{text[:at]}\nLIMIT {cap + 1}\n{text[at:]}"
    number = _NUMBER.match(text, limit_end)
    if number is None:
        return None
    if int(number.group(1)) <= cap:
        return text
    return text[: number.start(1)] + str(cap + 1) + text[number.end(1) :]


def _cut_json(body: bytes, cap: int) -> tuple[bytes, bool]:
    document = json.loads(body)
    bindings = document["results"]["bindings"]
    if len(bindings) <= cap:
        return body, False
    document["results"]["bindings"] = bindings[:cap]
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), True


def _cut_xml(body: bytes, cap: int) -> tuple[bytes, bool]:
    # Text and attributes escape "<", so "<result>" is only ever the element's start tag.
    at = -1
    for _ in range(cap + 1):
        at = body.find(b"<result>", at + 1)
        if at < 0:
            return body, False
    return body[:at] + b"</results></sparql>", True


def _cut_tsv(body: bytes, cap: int) -> tuple[bytes, bool]:
    # A header line, then a line per solution: TSV escapes line breaks inside terms.
    lines = body.split(b"\n", cap + 1)
    if len(lines) < cap + 2 or not lines[-1]:
        return body, False
    return b"\n".join(lines[: cap + 1]) + b"\n", True


def _cut_csv(body: bytes, cap: int) -> tuple[bytes, bool]:
    # CSV quotes line breaks rather than escaping them: a CRLF ends a row where the quotes
    # before it are balanced (a quote inside a field is doubled, which keeps the balance). No
    # parse, so no field is too long (the csv module stops at 128 KB; full texts are longer).
    rows, inside, at = -1, False, 0  # the header is no solution
    while (found := body.find(b"\r\n", at)) >= 0:
        inside ^= body.count(b'"', at, found) % 2 == 1
        at = found + 2
        if not inside:
            rows += 1
            if rows == cap:
                return (body[:at], True) if at < len(body) else (body, False)
    return body, False


@dataclass(frozen=True, slots=True)
class ResultWriter:
    format: QueryResultsFormat
    shortest_row: int
    """The fewest bytes a solution takes in this format: an answer shorter than this times
    (cap + 1) cannot hold a solution over the cap, and needs no count."""
    cut: Callable[[bytes, int], tuple[bytes, bool]]
    """(answer, cap) -> the answer with at most `cap` solutions, and whether any was cut."""

    def write(self, solutions: QuerySolutions, cap: int) -> tuple[bytes, bool]:
        body = solutions.serialize(format=self.format)
        assert body is not None
        if len(body) < self.shortest_row * (cap + 1):
            return body, False
        return self.cut(body, cap)


NATIVE_WRITERS: dict[str, ResultWriter] = {
    "json": ResultWriter(QueryResultsFormat.JSON, len("{},"), _cut_json),
    "xml": ResultWriter(QueryResultsFormat.XML, len("<result></result>"), _cut_xml),
    "csv": ResultWriter(QueryResultsFormat.CSV, len("\r\n"), _cut_csv),
    "tsv": ResultWriter(QueryResultsFormat.TSV, len("\n"), _cut_tsv),
}
"""The SPARQL 1.1 result formats lod answers, by the names of lod.sparql.RESULT_WRITERS."""
