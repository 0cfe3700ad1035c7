"""SHACL validation in a build: each resource's graph is checked where it is written (lod.shacl,
in the worker processes), its results kept per resource in the build state, and the report
(validation.ttl, report.json's `violations`) assembled from the state, so an incremental build
reports exactly what a full build of the same input would.

A result is reported under the resource whose graph was checked, with the record's ID, file and
line and the field it concerns: the source field a value was read from when the record knows
it, else the model attribute (a missing title has no source field to name).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pyoxigraph import NamedNode, RdfFormat, Triple, parse, serialize

from lod.mapping import ATTRIBUTE_PREDICATES
from lod.model import Record
from lod.namespaces import expand
from lod.publish.state import BuildState
from lod.shacl import SH, Violation, report_triples, shapes_turtle

REPORT_FILE = "validation.ttl"
SHAPES_FILE = "vocab/shapes.ttl"
SHAPES = "vocab/shapes"
"""The shapes' document URI (their IRIs are `{base}vocab/shapes#...`); the server answers it
with SHAPES_FILE."""
DQV = "http://www.w3.org/ns/dqv#"
WARNING = "Warning"

PREDICATE_FIELDS: dict[str, str] = {
    expand("schema:license"): "rights",
    expand("schema:sender"): "authors",
    expand("schema:dateSent"): "date",
}
"""Predicate IRI -> the model attribute it carries: those the mapping derives, then the first
attribute listing each predicate in ATTRIBUTE_PREDICATES."""
for _attr, _curies in ATTRIBUTE_PREDICATES.items():
    for _curie in _curies:
        if not _curie.startswith("lod:"):
            PREDICATE_FIELDS.setdefault(expand(_curie), _attr)


def rows(
    violations: Iterable[Violation],
    triples: list[Triple],
    uri: str,
    record: Record | None = None,
) -> tuple[dict[str, str], ...]:
    """Results as the state keeps them: SHACL's terms plus the field, and the value in
    N-Triples so the report can be written again from the state."""
    out = []
    for violation in violations:
        row = violation.as_dict()
        row["field"] = field_of(violation, triples, uri, record)
        row["term"] = "" if violation.value is None else str(violation.value)
        out.append(row)
    return tuple(out)


def field_of(violation: Violation, triples: list[Triple], uri: str, record: Record | None) -> str:
    """The field a result concerns. On a node the record links to (an author without a name),
    that is the field of the link."""
    path = violation.path
    if violation.focus != uri:
        focus = NamedNode(violation.focus) if violation.focus.startswith("http") else None
        subject = NamedNode(uri)
        link = next(
            (t.predicate.value for t in triples if t.object == focus and t.subject == subject),
            None,
        )
        path = link or path
    attr = PREDICATE_FIELDS.get(path, "")
    origin = record.origins.get(attr) if record is not None and attr else None
    if origin is not None and origin.field:
        return origin.field
    return attr or path.rsplit("/", 1)[-1].rsplit("#", 1)[-1]


@dataclass
class Validation:
    """The assembled results of a build: report.json's entries and the SHACL report."""

    entries: list[dict[str, object]] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)

    @property
    def conforms(self) -> bool:
        """SHACL's sh:conforms: no result at all, warnings included."""
        return not self.violations

    @property
    def invalid(self) -> int:
        """Results of severity sh:Violation (the others are warnings or notes)."""
        return sum(1 for e in self.entries if e["severity"] not in (WARNING, "Info"))


def assemble(state: BuildState) -> Validation:
    """Every stored result in report order (records, then the other resources by URI)."""
    found = Validation()
    for uri, record_id, file, line, row in state.violations():
        entry: dict[str, object] = {"resource": uri}
        if record_id:
            entry |= {"record": record_id, "file": file, "line": line}
        entry |= {k: row[k] for k in ("field", "path", "constraint", "severity", "message")}
        entry |= {"value": row["value"], "focus": row["focus"], "shape": row["shape"]}
        found.entries.append(entry)
        found.violations.append(_violation(row))
    return found


def _violation(row: dict[str, str]) -> Violation:
    value = None
    if row["term"]:
        (triple,) = parse(f"<urn:x:s> <urn:x:p> {row['term']} .\n".encode(), RdfFormat.N_TRIPLES)
        value = triple.object
    return Violation(
        row["focus"],
        row["path"],
        f"{SH}{row['constraint']}ConstraintComponent",
        SH + row["severity"],
        row["message"],
        value,
        row["shape"],
    )


def write_report(root: Path, base: str, found: Validation) -> list[Triple]:
    """validation.ttl (sh:ValidationReport) and the shapes it was checked against; returns the
    report's triples for the store."""
    triples = report_triples(found.violations, found.conforms, base + REPORT_FILE)
    data = serialize(triples, format=RdfFormat.TURTLE, prefixes={"sh": SH, "xsd": expand("xsd:")})
    (root / REPORT_FILE).write_bytes(data or b"")
    (root / SHAPES_FILE).parent.mkdir(exist_ok=True)
    (root / SHAPES_FILE).write_text(shapes_turtle(base), encoding="utf-8")
    return triples


def quality_triples(dataset: str, base: str, conforms: bool) -> list[Triple]:
    """The dataset description's links to its validation: the report as its quality metadata
    (W3C DQV), and conformance to the shapes only when the report says it conforms."""
    s = NamedNode(dataset)
    out = [Triple(s, NamedNode(DQV + "hasQualityMetadata"), NamedNode(base + REPORT_FILE))]
    if conforms:
        out.append(Triple(s, NamedNode(expand("dcterms:conformsTo")), NamedNode(base + SHAPES)))
    return out


def summary(found: Validation) -> list[str]:
    """Lines for the terminal: each violation, and warnings counted by message."""
    lines = []
    warnings: dict[str, int] = {}
    for entry in found.entries:
        if entry["severity"] in (WARNING, "Info"):
            message = str(entry["message"])
            warnings[message] = warnings.get(message, 0) + 1
            continue
        line = f":{entry['line']}" if entry.get("line") else ""
        where = f"{entry['file']}{line}: " if entry.get("file") else ""
        name = f"record {entry['record']}" if entry.get("record") else str(entry["resource"])
        lines.append(
            f"violation: {where}{name}: {entry['field']}: {entry['message']}"
            + (f" ({entry['value']})" if entry["value"] else "")
        )
    for message, count in sorted(warnings.items()):
        lines.append(f"notice: SHACL warning on {count} resource(s): {message} (see {REPORT_FILE})")
    return lines


__all__ = [
    "REPORT_FILE",
    "SHAPES_FILE",
    "Validation",
    "assemble",
    "rows",
    "summary",
    "write_report",
]
