"""SHACL validation of one resource's graph against vocab/shapes.ttl, and the validation report.

A build validates every record, and a general SHACL engine (pyshacl) takes tens of milliseconds
per graph; lod.shapes compiles the shapes into plain Python checks instead, refusing any SHACL
feature it does not implement. tests/test_shacl.py checks the results against pyshacl's on the
shared corpus.

A record's graph describes the entities it links to (their rdf:type and name), so sh:class on a
link is checked within the record's own graph.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from lod.shapes import (
    MAX_COUNT,
    MIN_COUNT,
    RDF_TYPE,
    SH,
    SHAPES_FILE,
    SHAPES_PATH,
    XSD,
    NodeShape,
    PropertyShape,
    Term,
    compile_shapes,
    shapes_turtle,
    term_text,
)

SUBCLASS_OF = NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf")


@dataclass(frozen=True, slots=True)
class Violation:
    """One validation result: `focus` is the node checked (an IRI, or `_:id` for a blank node),
    `path` the predicate (empty for a constraint on the node itself), `component` and
    `severity` full SHACL IRIs, `value` the offending value (None when a value is missing or
    one too many), `shape` the IRI of the shape whose constraint failed."""

    focus: str
    path: str
    component: str
    severity: str
    message: str
    value: Term | None
    shape: str

    def as_dict(self) -> dict[str, str]:
        """The row for a build report: SHACL's local names for component and severity."""
        return {
            "focus": self.focus,
            "path": self.path,
            "constraint": self.component.removeprefix(SH).removesuffix("ConstraintComponent"),
            "severity": self.severity.removeprefix(SH),
            "message": self.message,
            "value": "" if self.value is None else term_text(self.value),
            "shape": self.shape,
        }


class _Graph:
    """One resource's triples, indexed for the checks: the values of the shapes' paths by subject
    and predicate, and each node's classes (with their superclasses, if the graph states
    rdfs:subClassOf). Triples of other predicates are skipped unread: reading a pyoxigraph term
    is what costs most here."""

    __slots__ = ("values", "types")

    def __init__(self, triples: Iterable[Triple], paths: frozenset[NamedNode]) -> None:
        values: dict[Term, dict[NamedNode, list[Term]]] = {}
        types: dict[Term, dict[Term, None]] = {}
        parents: dict[Term, list[Term]] = {}
        for t in triples:
            p = t.predicate
            if p in paths:
                s, o = t.subject, t.object
                by_predicate = values.get(s)
                if by_predicate is None:
                    by_predicate = values[s] = {}
                objects = by_predicate.get(p)
                if objects is None:
                    by_predicate[p] = [o]
                elif o not in objects:
                    objects.append(o)
            if p == RDF_TYPE:
                types.setdefault(t.subject, {})[t.object] = None
            elif p == SUBCLASS_OF:
                parents.setdefault(t.subject, []).append(t.object)
        if parents:
            for classes in types.values():
                _close(classes, parents)
        self.values = values
        self.types = types


def _close(classes: dict[Term, None], parents: dict[Term, list[Term]]) -> None:
    """Add the superclasses of `classes` (an ordered set) that the graph states (SHACL 3.2)."""
    todo = list(classes)
    while todo:
        for parent in parents.get(todo.pop(), ()):
            if parent not in classes:
                classes[parent] = None
                todo.append(parent)


class Shapes:
    """Compiled shapes: `validate(triples)` checks one resource's graph (a record's, an
    entity's or the dataset description's) and returns its violations, in an order that
    depends on the triples' order only."""

    def __init__(self, text: str, source: str = "shapes") -> None:
        self.node_shapes = compile_shapes(text, source)
        self.by_class: dict[Term, list[NodeShape]] = {}
        for shape in self.node_shapes:
            for cls in shape.targets:
                self.by_class.setdefault(cls, []).append(shape)
        self._paths = frozenset(path for s in self.node_shapes for path in s.by_path)

    def validate(self, triples: Iterable[Triple]) -> list[Violation]:
        graph = _Graph(triples, self._paths)
        out: list[Violation] = []
        for focus, classes in graph.types.items():
            shapes = [s for c in classes for s in self.by_class.get(c, ())]
            for shape in dict.fromkeys(shapes) if len(shapes) > 1 else shapes:
                self._check_node(shape, focus, graph, out)
        return out

    def _check_node(
        self, shape: NodeShape, focus: Term, graph: _Graph, out: list[Violation]
    ) -> None:
        """Node constraints, then counts of the required paths, then each value present: a
        record has values for few of the paths its shape names."""
        name = _name(focus)
        for check in shape.checks:
            if not check.ok(focus, graph.types):
                default = f"the node is {check.describe()}"
                out.append(_violation(name, "", check.component, shape, default, focus))
        values_of = graph.values.get(focus, {})
        for prop in shape.required:
            if len(values_of.get(prop.path, ())) < prop.min_count:
                default = f"fewer than {prop.min_count} values"
                out.append(_violation(name, prop.path.value, MIN_COUNT, prop, default))
        for path, values in values_of.items():
            for prop in shape.by_path.get(path, ()):
                if prop.max_count is not None and len(values) > prop.max_count:
                    default = f"more than {prop.max_count} values"
                    out.append(_violation(name, path.value, MAX_COUNT, prop, default))
                for check in prop.checks:
                    for value in values:
                        if not check.ok(value, graph.types):
                            default = f"{term_text(value)} is {check.describe()}"
                            out.append(
                                _violation(name, path.value, check.component, prop, default, value)
                            )


def _violation(
    focus: str,
    path: str,
    component: str,
    shape: NodeShape | PropertyShape,
    default: str,
    value: Term | None = None,
) -> Violation:
    """A result with the shape's severity and its sh:message, or `default` without one."""
    return Violation(
        focus, path, component, shape.severity, shape.message or default, value, shape.iri
    )


def _name(node: Term) -> str:
    return f"_:{node.value}" if isinstance(node, BlankNode) else term_text(node)


@lru_cache(maxsize=8)
def load_shapes(base_uri: str, path: Path = SHAPES_FILE) -> Shapes:
    """The shapes compiled once per process and base URI."""
    return Shapes(shapes_turtle(base_uri, path), str(path))


def validate(triples: Iterable[Triple], base_uri: str) -> list[Violation]:
    """Check one resource's graph against vocab/shapes.ttl."""
    return load_shapes(base_uri).validate(triples)


def report_triples(
    results: Sequence[Violation], conforms: bool | None, report_uri: str
) -> list[Triple]:
    """An sh:ValidationReport at `report_uri` with one sh:result per violation. Results are
    named by a hash of what they say (`{report_uri}#result-...`), so the report has no blank
    nodes and a result keeps its IRI from build to build; they come sorted, so the same results
    give the same bytes. `conforms` None means: conforms if there are no results (SHACL 3.6.1)."""
    report = NamedNode(report_uri)
    sep = "-" if "#" in report_uri else "#"
    rows = sorted(set(results), key=_sort_key)
    conforms = not rows if conforms is None else conforms
    out = [
        Triple(report, RDF_TYPE, NamedNode(SH + "ValidationReport")),
        Triple(report, NamedNode(SH + "conforms"), _boolean(conforms)),
    ]
    for v in rows:
        digest = hashlib.sha1("\n".join(_sort_key(v)).encode()).hexdigest()[:16]
        node = NamedNode(f"{report_uri}{sep}result-{digest}")
        out.append(Triple(report, NamedNode(SH + "result"), node))
        out.append(Triple(node, RDF_TYPE, NamedNode(SH + "ValidationResult")))
        focus = BlankNode(v.focus[2:]) if v.focus.startswith("_:") else NamedNode(v.focus)
        out.append(Triple(node, NamedNode(SH + "focusNode"), focus))
        if v.path:
            out.append(Triple(node, NamedNode(SH + "resultPath"), NamedNode(v.path)))
        if v.value is not None:
            out.append(Triple(node, NamedNode(SH + "value"), v.value))
        out += [
            Triple(node, NamedNode(SH + "resultSeverity"), NamedNode(v.severity)),
            Triple(node, NamedNode(SH + "sourceConstraintComponent"), NamedNode(v.component)),
            Triple(node, NamedNode(SH + "sourceShape"), NamedNode(v.shape)),
            Triple(node, NamedNode(SH + "resultMessage"), Literal(v.message, language="en")),
        ]
    return out


def _sort_key(v: Violation) -> tuple[str, ...]:
    return (v.focus, v.path, v.component, v.shape, "" if v.value is None else str(v.value))


def _boolean(value: bool) -> Literal:
    return Literal("true" if value else "false", datatype=NamedNode(XSD + "boolean"))


__all__ = [
    "SH",
    "SHAPES_FILE",
    "SHAPES_PATH",
    "Shapes",
    "Violation",
    "load_shapes",
    "report_triples",
    "shapes_turtle",
    "validate",
]
