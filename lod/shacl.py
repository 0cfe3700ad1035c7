"""SHACL validation of one resource's graph: vocab/shapes.ttl compiled into plain Python checks.

A build validates every record, and a general SHACL engine (pyshacl) takes tens of milliseconds
per graph. The shapes use a small part of SHACL Core (https://www.w3.org/TR/shacl/): class
targets, single-predicate paths, and the constraint components in VALUE_CHECKS and
COUNT_PARAMETERS. This module implements exactly that part and refuses a shapes file that uses
anything else (ConfigError), so no constraint is ever skipped silently; tests/test_shacl.py
checks its results against pyshacl's on the shared corpus.

A record's graph describes the entities it links to (their rdf:type and name), so sh:class on a
link is checked within the record's own graph.
"""

from __future__ import annotations

import calendar
import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NoReturn

from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, Triple, parse

from lod.errors import ConfigError
from lod.vocab import VOCAB_DIR

SH = "http://www.w3.org/ns/shacl#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SHAPES_FILE = VOCAB_DIR / "shapes.ttl"
SHAPES_PATH = "vocab/shapes"
"""Where the shapes are minted under a site's base URI: <{base}vocab/shapes#RecordShape>."""

Term = NamedNode | BlankNode | Literal | Triple
"""An RDF term as pyoxigraph gives it (a Triple is an RDF-star quoted triple)."""

RDF_TYPE = NamedNode(RDF + "type")
RDF_FIRST = NamedNode(RDF + "first")
RDF_REST = NamedNode(RDF + "rest")
RDF_NIL = NamedNode(RDF + "nil")
SUBCLASS_OF = NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf")
VIOLATION = SH + "Violation"

NODE_SHAPE = NamedNode(SH + "NodeShape")
NODE_SHAPE_MARKS = frozenset(
    SH + n for n in ("targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf", "property")
)
"""What makes a shape a node shape to compile (any target but sh:targetClass is then refused)."""
CLASSES = frozenset(
    NamedNode(iri)
    for iri in ("http://www.w3.org/2000/01/rdf-schema#Class", "http://www.w3.org/2002/07/owl#Class")
)

ANNOTATIONS = frozenset(SH + n for n in ("name", "description", "order", "group"))
"""SHACL terms that say nothing about validity (section 2.3.1.1 non-validating properties)."""


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
            "value": "" if self.value is None else _text(self.value),
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


# --- value checks: one class per constraint component, each with its parameter -------------------


def _date_ok(text: str) -> bool:
    match = _DATE.fullmatch(text)
    if match is None:
        return False
    year, month, day = int(match[1]), int(match[2]), int(match[3])
    return 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year % 400 or 400, month)[1]


def _date_time_ok(text: str) -> bool:
    date, _, time = text.partition("T")
    match = _TIME.fullmatch(time)
    if match is None or not _date_ok(date):
        return False
    hour, minute, second = int(match[1]), int(match[2]), float(match[3])
    if hour == 24:
        return minute == 0 and second == 0
    return hour < 24 and minute < 60 and second < 60


_ZONE = r"(?:Z|[+-](?:(?:0\d|1[0-3]):[0-5]\d|14:00))?"
_DATE = re.compile(r"(-?\d{4,})-(\d\d)-(\d\d)" + _ZONE)
_TIME = re.compile(r"(\d\d):(\d\d):(\d\d(?:\.\d+)?)" + _ZONE)
_GYEAR = re.compile(r"-?(?:[1-9]\d{4,}|\d{4})" + _ZONE)
_GYEAR_MONTH = re.compile(r"-?(?:[1-9]\d{4,}|\d{4})-(?:0[1-9]|1[0-2])" + _ZONE)
_INTEGER = re.compile(r"[+-]?\d+")
_NON_NEGATIVE = re.compile(r"\+?\d+|-0+")

LEXICAL: dict[str, Callable[[str], bool]] = {
    XSD + "string": lambda text: True,
    XSD + "date": _date_ok,
    XSD + "dateTime": _date_time_ok,
    XSD + "gYear": lambda text: _GYEAR.fullmatch(text) is not None,
    XSD + "gYearMonth": lambda text: _GYEAR_MONTH.fullmatch(text) is not None,
    XSD + "integer": lambda text: _INTEGER.fullmatch(text) is not None,
    XSD + "nonNegativeInteger": lambda text: _NON_NEGATIVE.fullmatch(text) is not None,
}
"""XSD datatypes whose lexical forms the fast path checks (XML Schema 1.1 part 2, section 3):
sh:datatype fails on an ill-formed value, so a shape naming another XSD datatype is refused
rather than checked by its IRI alone. Datatypes outside XSD (EDTF) have no lexical rule here."""


@dataclass(frozen=True, slots=True)
class _Datatype:
    datatype: NamedNode
    component = SH + "DatatypeConstraintComponent"

    def ok(self, value: Term, graph: _Graph) -> bool:
        if not isinstance(value, Literal) or value.datatype != self.datatype:
            return False
        lexical = LEXICAL.get(self.datatype.value)
        return lexical is None or lexical(value.value)

    def describe(self) -> str:
        return f"not a literal of datatype <{self.datatype.value}>"


NODE_KINDS: dict[str, tuple[type, ...]] = {
    SH + "IRI": (NamedNode,),
    SH + "Literal": (Literal,),
    SH + "BlankNode": (BlankNode,),
    SH + "BlankNodeOrIRI": (BlankNode, NamedNode),
    SH + "BlankNodeOrLiteral": (BlankNode, Literal),
    SH + "IRIOrLiteral": (NamedNode, Literal),
}


@dataclass(frozen=True, slots=True)
class _NodeKind:
    kinds: tuple[type, ...]
    name: str
    component = SH + "NodeKindConstraintComponent"

    def ok(self, value: Term, graph: _Graph) -> bool:
        return isinstance(value, self.kinds)

    def describe(self) -> str:
        return f"not of node kind {self.name}"


@dataclass(frozen=True, slots=True)
class _Class:
    cls: NamedNode
    component = SH + "ClassConstraintComponent"

    def ok(self, value: Term, graph: _Graph) -> bool:
        return not isinstance(value, Literal) and self.cls in graph.types.get(value, ())

    def describe(self) -> str:
        return f"not an instance of <{self.cls.value}>"


@dataclass(frozen=True, slots=True)
class _In:
    allowed: frozenset[Term]
    component = SH + "InConstraintComponent"

    def ok(self, value: Term, graph: _Graph) -> bool:
        return value in self.allowed

    def describe(self) -> str:
        return "not one of the allowed values"


@dataclass(frozen=True, slots=True)
class _Pattern:
    regex: re.Pattern[str]
    component = SH + "PatternConstraintComponent"

    def ok(self, value: Term, graph: _Graph) -> bool:
        return isinstance(value, NamedNode | Literal) and self.regex.search(value.value) is not None

    def describe(self) -> str:
        return f"does not match {self.regex.pattern!r}"


@dataclass(frozen=True, slots=True)
class _Or:
    alternatives: tuple[tuple[_Check, ...], ...]
    component = SH + "OrConstraintComponent"

    def ok(self, value: Term, graph: _Graph) -> bool:
        return any(all(c.ok(value, graph) for c in checks) for checks in self.alternatives)

    def describe(self) -> str:
        return "matches none of the alternatives"


_Check = _Datatype | _NodeKind | _Class | _In | _Pattern | _Or

MIN_COUNT = SH + "MinCountConstraintComponent"
MAX_COUNT = SH + "MaxCountConstraintComponent"
COUNT_PARAMETERS = {SH + "minCount": MIN_COUNT, SH + "maxCount": MAX_COUNT}


@dataclass(frozen=True, slots=True)
class _PropertyShape:
    iri: str
    path: NamedNode
    min_count: int
    max_count: int | None
    checks: tuple[_Check, ...]
    severity: str
    message: str


@dataclass(frozen=True, slots=True, eq=False)
class _NodeShape:
    """A node shape with its property shapes as the checks use them: those with a minimum count,
    and all of them by path."""

    iri: str
    checks: tuple[_Check, ...]
    required: tuple[_PropertyShape, ...]
    by_path: dict[NamedNode, tuple[_PropertyShape, ...]]
    severity: str
    message: str


class Shapes:
    """Compiled shapes: `validate(triples)` checks one resource's graph (a record's, an
    entity's or the dataset description's) and returns its violations, in an order that
    depends on the triples' order only."""

    def __init__(self, text: str, source: str = "shapes") -> None:
        self.by_class: dict[Term, list[_NodeShape]] = {}
        self.node_shapes = _Compiler(text, source).compile(self.by_class)
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
        self, shape: _NodeShape, focus: Term, graph: _Graph, out: list[Violation]
    ) -> None:
        """Node constraints, then counts of the required paths, then each value present: a
        record has values for few of the paths its shape names."""
        name = _name(focus)
        for check in shape.checks:
            if not check.ok(focus, graph):
                message = shape.message or f"the node is {check.describe()}"
                out.append(
                    Violation(name, "", check.component, shape.severity, message, focus, shape.iri)
                )
        values_of = graph.values.get(focus, {})
        for prop in shape.required:
            if len(values_of.get(prop.path, ())) < prop.min_count:
                message = prop.message or f"fewer than {prop.min_count} values"
                out.append(
                    Violation(
                        name, prop.path.value, MIN_COUNT, prop.severity, message, None, prop.iri
                    )
                )
        for path, values in values_of.items():
            for prop in shape.by_path.get(path, ()):
                if prop.max_count is not None and len(values) > prop.max_count:
                    message = prop.message or f"more than {prop.max_count} values"
                    out.append(
                        Violation(
                            name, path.value, MAX_COUNT, prop.severity, message, None, prop.iri
                        )
                    )
                for check in prop.checks:
                    for value in values:
                        if not check.ok(value, graph):
                            message = prop.message or f"{_text(value)} is {check.describe()}"
                            out.append(
                                Violation(
                                    name,
                                    path.value,
                                    check.component,
                                    prop.severity,
                                    message,
                                    value,
                                    prop.iri,
                                )
                            )


def _name(node: Term) -> str:
    return f"_:{node.value}" if isinstance(node, BlankNode) else _text(node)


def _text(term: Term) -> str:
    """An IRI or a literal's lexical form; other terms as N-Triples writes them."""
    return term.value if isinstance(term, NamedNode | Literal) else str(term)


# --- compiling the shapes graph -----------------------------------------------------------------


class _Compiler:
    """Reads the shapes graph into _NodeShapes, refusing what the fast path does not implement."""

    def __init__(self, text: str, source: str) -> None:
        self.source = source
        try:
            triples = [q.triple for q in parse(text, format=RdfFormat.TURTLE)]
        except SyntaxError as exc:
            raise ConfigError(f"{source}: the shapes do not parse: {exc}") from None
        self.index: dict[Term, dict[str, list[Term]]] = {}
        for t in triples:
            self.index.setdefault(t.subject, {}).setdefault(t.predicate.value, []).append(t.object)
        self.compiled: set[Term] = set()

    def compile(self, by_class: dict[Term, list[_NodeShape]]) -> list[_NodeShape]:
        shapes: list[_NodeShape] = []
        for subject, props in self.index.items():
            if not NODE_SHAPE_MARKS.intersection(props) and NODE_SHAPE not in props.get(
                RDF_TYPE.value, []
            ):
                continue
            shape = self.node_shape(subject, props)
            shapes.append(shape)
            for cls in props.get(SH + "targetClass", []):
                by_class.setdefault(cls, []).append(shape)
        for subject, props in self.index.items():
            if subject not in self.compiled and any(p.startswith(SH) for p in props):
                self.refuse(
                    subject, "is never applied: it has no sh:targetClass and no shape uses it"
                )
        return shapes

    def refuse(self, node: Term, problem: str) -> NoReturn:
        raise ConfigError(
            f"{self.source}: shape {node} {problem}; lod's SHACL fast path (lod/shacl.py) "
            "implements class targets, single-predicate paths and the sh:minCount, sh:maxCount, "
            "sh:datatype, sh:nodeKind, sh:class, sh:in, sh:pattern and sh:or constraints"
        )

    def node_shape(self, node: Term, props: dict[str, list[Term]]) -> _NodeShape:
        if not isinstance(node, NamedNode):
            self.refuse(node, "is a blank node: give it an IRI, so validation reports can name it")
        self.compiled.add(node)
        if CLASSES.intersection(props.get(RDF_TYPE.value, [])):
            self.refuse(node, "is also a class (an implicit class target, SHACL 2.1.3.3)")
        rest = self.known(node, props, {SH + "targetClass", SH + "property"})
        properties = [self.property_shape(p) for p in props.get(SH + "property", [])]
        by_path: dict[NamedNode, tuple[_PropertyShape, ...]] = {}
        for prop in properties:
            by_path[prop.path] = (*by_path.get(prop.path, ()), prop)
        return _NodeShape(
            node.value,
            self.checks(node, rest),
            tuple(p for p in properties if p.min_count),
            by_path,
            *self.severity_message(node, props),
        )

    def property_shape(self, node: Term) -> _PropertyShape:
        props = self.index.get(node, {})
        if not isinstance(node, NamedNode):
            self.refuse(node, "is a blank node: give it an IRI, so validation reports can name it")
        self.compiled.add(node)
        if SH + "targetClass" in props:
            self.refuse(node, "is a property shape with targets of its own")
        rest = self.known(node, props, {SH + "path", *COUNT_PARAMETERS})
        paths = props.get(SH + "path", [])
        if len(paths) != 1 or not isinstance(paths[0], NamedNode):
            self.refuse(node, "has a path other than one predicate IRI (sh:path)")
        min_count = self.count(node, props, SH + "minCount")
        return _PropertyShape(
            node.value,
            paths[0],
            0 if min_count is None else min_count,
            self.count(node, props, SH + "maxCount"),
            self.checks(node, rest),
            *self.severity_message(node, props),
        )

    def known(self, node: Term, props: dict[str, list[Term]], allowed: set[str]) -> set[str]:
        """The value-constraint parameters of a shape, after refusing unknown SHACL terms."""
        rest = set()
        for predicate in props:
            if not predicate.startswith(SH) or predicate in allowed or predicate in ANNOTATIONS:
                continue
            if predicate in (SH + "severity", SH + "message"):
                continue
            if predicate not in VALUE_CHECKS and predicate != SH + "flags":
                self.refuse(node, f"uses <{predicate}>")
            rest.add(predicate)
        return rest

    def checks(self, node: Term, parameters: set[str]) -> tuple[_Check, ...]:
        props = self.index.get(node, {})
        out: list[_Check] = []
        for parameter, build in VALUE_CHECKS.items():
            if parameter in parameters:
                out.extend(build(self, node, value) for value in props[parameter])
        if SH + "flags" in parameters and SH + "pattern" not in parameters:
            self.refuse(node, "has sh:flags without sh:pattern")
        return tuple(out)

    def count(self, node: Term, props: dict[str, list[Term]], parameter: str) -> int | None:
        values = props.get(parameter, [])
        if not values:
            return None
        if len(values) > 1 or not isinstance(values[0], Literal) or not values[0].value.isdigit():
            self.refuse(node, f"needs one non-negative integer as {parameter.removeprefix(SH)}")
        return int(values[0].value)

    def severity_message(self, node: Term, props: dict[str, list[Term]]) -> tuple[str, str]:
        severities = props.get(SH + "severity", [])
        if len(severities) > 1 or not all(isinstance(s, NamedNode) for s in severities):
            self.refuse(node, "needs at most one sh:severity IRI")
        messages = [m for m in props.get(SH + "message", []) if isinstance(m, Literal)]
        english = [m for m in messages if m.language in ("en", None)]
        message = (english or messages)[0].value if messages else ""
        return (_text(severities[0]) if severities else VIOLATION), message

    def members(self, node: Term, head: Term) -> list[Term]:
        """The members of an RDF list (sh:in, sh:or)."""
        out: list[Term] = []
        while head != RDF_NIL:
            cell = self.index.get(head, {})
            first, rest = cell.get(RDF_FIRST.value, []), cell.get(RDF_REST.value, [])
            if len(first) != 1 or len(rest) != 1:
                self.refuse(node, "has a malformed RDF list")
            self.compiled.add(head)
            out.append(first[0])
            head = rest[0]
        return out

    def alternative(self, node: Term, member: Term) -> tuple[_Check, ...]:
        """One shape of an sh:or: value constraints on the value node only."""
        props = self.index.get(member, {})
        self.compiled.add(member)
        shape_terms = {p for p in props if p.startswith(SH) and p not in ANNOTATIONS}
        unsupported = shape_terms - set(VALUE_CHECKS) - {SH + "flags"}
        if unsupported or not shape_terms:
            self.refuse(node, "has an sh:or alternative other than value constraints")
        return self.checks(member, shape_terms)


def _build_datatype(c: _Compiler, node: Term, value: Term) -> _Check:
    if not isinstance(value, NamedNode):
        c.refuse(node, "has an sh:datatype that is not an IRI")
    if value.value.startswith(XSD) and value.value not in LEXICAL:
        c.refuse(node, f"uses sh:datatype <{value.value}>, whose lexical forms are not checked")
    return _Datatype(value)


def _build_node_kind(c: _Compiler, node: Term, value: Term) -> _Check:
    if not isinstance(value, NamedNode) or value.value not in NODE_KINDS:
        c.refuse(node, f"has an unknown sh:nodeKind {value}")
    return _NodeKind(NODE_KINDS[value.value], value.value.removeprefix(SH))


def _build_class(c: _Compiler, node: Term, value: Term) -> _Check:
    if not isinstance(value, NamedNode):
        c.refuse(node, "has an sh:class that is not an IRI")
    return _Class(value)


def _build_in(c: _Compiler, node: Term, value: Term) -> _Check:
    return _In(frozenset(c.members(node, value)))


FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}
"""XPath regular-expression flags (sh:flags, XPath 3.1 section 5.6.1) as Python's."""


def _build_pattern(c: _Compiler, node: Term, value: Term) -> _Check:
    flags = 0
    if not isinstance(value, Literal):
        c.refuse(node, "has an sh:pattern that is not a literal")
    for letter in "".join(_text(f) for f in c.index.get(node, {}).get(SH + "flags", [])):
        if letter not in FLAGS:
            c.refuse(node, f"uses the regular-expression flag {letter!r}")
        flags |= FLAGS[letter]
    try:
        return _Pattern(re.compile(value.value, flags))
    except re.error as exc:
        c.refuse(node, f"has an sh:pattern Python cannot compile ({exc})")


def _build_or(c: _Compiler, node: Term, value: Term) -> _Check:
    return _Or(tuple(c.alternative(node, m) for m in c.members(node, value)))


VALUE_CHECKS: dict[str, Callable[[_Compiler, Term, Term], _Check]] = {
    SH + "datatype": _build_datatype,
    SH + "nodeKind": _build_node_kind,
    SH + "class": _build_class,
    SH + "in": _build_in,
    SH + "pattern": _build_pattern,
    SH + "or": _build_or,
}
"""The value-constraint components the fast path implements, by parameter (SHACL 4.1-4.6)."""


# --- loading and reporting -----------------------------------------------------------------------


def shapes_turtle(base_uri: str, path: Path = SHAPES_FILE) -> str:
    """The shapes file with its shapes minted under `base_uri` (as lod publishes vocab/lod.ttl)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the SHACL shapes {path}: {exc.strerror}") from None
    return text.replace("<BASE/", f"<{base_uri}")


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
    "SHAPES_FILE",
    "SHAPES_PATH",
    "Shapes",
    "Violation",
    "load_shapes",
    "report_triples",
    "shapes_turtle",
    "validate",
]
