"""vocab/shapes.ttl compiled into Python checks: the part of SHACL Core lod implements.

The shapes use a small part of SHACL Core (https://www.w3.org/TR/shacl/): class targets,
single-predicate paths, and the constraint components in VALUE_CHECKS and COUNT_PARAMETERS. This
module compiles exactly that part and refuses a shapes file that uses anything else
(ConfigError), so lod.shacl never skips a constraint silently.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
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
Types = dict[Term, dict[Term, None]]
"""Each node's classes in the graph checked, as ordered sets (lod.shacl builds them)."""

RDF_TYPE = NamedNode(RDF + "type")
RDF_FIRST = NamedNode(RDF + "first")
RDF_REST = NamedNode(RDF + "rest")
RDF_NIL = NamedNode(RDF + "nil")
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

    def ok(self, value: Term, types: Types) -> bool:
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

    def ok(self, value: Term, types: Types) -> bool:
        return isinstance(value, self.kinds)

    def describe(self) -> str:
        return f"not of node kind {self.name}"


@dataclass(frozen=True, slots=True)
class _Class:
    cls: NamedNode
    component = SH + "ClassConstraintComponent"

    def ok(self, value: Term, types: Types) -> bool:
        return not isinstance(value, Literal) and self.cls in types.get(value, ())

    def describe(self) -> str:
        return f"not an instance of <{self.cls.value}>"


@dataclass(frozen=True, slots=True)
class _In:
    allowed: frozenset[Term]
    component = SH + "InConstraintComponent"

    def ok(self, value: Term, types: Types) -> bool:
        return value in self.allowed

    def describe(self) -> str:
        return "not one of the allowed values"


@dataclass(frozen=True, slots=True)
class _Pattern:
    regex: re.Pattern[str]
    component = SH + "PatternConstraintComponent"

    def ok(self, value: Term, types: Types) -> bool:
        return isinstance(value, NamedNode | Literal) and self.regex.search(value.value) is not None

    def describe(self) -> str:
        return f"does not match {self.regex.pattern!r}"


@dataclass(frozen=True, slots=True)
class _Or:
    alternatives: tuple[tuple[_Check, ...], ...]
    component = SH + "OrConstraintComponent"

    def ok(self, value: Term, types: Types) -> bool:
        return any(all(c.ok(value, types) for c in checks) for checks in self.alternatives)

    def describe(self) -> str:
        return "matches none of the alternatives"


_Check = _Datatype | _NodeKind | _Class | _In | _Pattern | _Or

MIN_COUNT = SH + "MinCountConstraintComponent"
MAX_COUNT = SH + "MaxCountConstraintComponent"
COUNT_PARAMETERS = {SH + "minCount": MIN_COUNT, SH + "maxCount": MAX_COUNT}


@dataclass(frozen=True, slots=True)
class PropertyShape:
    iri: str
    path: NamedNode
    min_count: int
    max_count: int | None
    checks: tuple[_Check, ...]
    severity: str
    message: str


@dataclass(frozen=True, slots=True, eq=False)
class NodeShape:
    """A node shape: its target classes, and its property shapes as the checks use them: those
    with a minimum count, and all of them by path."""

    iri: str
    targets: tuple[Term, ...]
    checks: tuple[_Check, ...]
    required: tuple[PropertyShape, ...]
    by_path: dict[NamedNode, tuple[PropertyShape, ...]]
    severity: str
    message: str


def term_text(term: Term) -> str:
    """An IRI or a literal's lexical form; other terms as N-Triples writes them."""
    return term.value if isinstance(term, NamedNode | Literal) else str(term)


# --- compiling the shapes graph -----------------------------------------------------------------


class Compiler:
    """Reads the shapes graph into NodeShapes, refusing what the fast path does not implement."""

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

    def compile(self) -> list[NodeShape]:
        shapes: list[NodeShape] = []
        for subject, props in self.index.items():
            if not NODE_SHAPE_MARKS.intersection(props) and NODE_SHAPE not in props.get(
                RDF_TYPE.value, []
            ):
                continue
            shapes.append(self.node_shape(subject, props))
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

    def node_shape(self, node: Term, props: dict[str, list[Term]]) -> NodeShape:
        if not isinstance(node, NamedNode):
            self.refuse(node, "is a blank node: give it an IRI, so validation reports can name it")
        self.compiled.add(node)
        if CLASSES.intersection(props.get(RDF_TYPE.value, [])):
            self.refuse(node, "is also a class (an implicit class target, SHACL 2.1.3.3)")
        rest = self.known(node, props, {SH + "targetClass", SH + "property"})
        properties = [self.property_shape(p) for p in props.get(SH + "property", [])]
        by_path: dict[NamedNode, tuple[PropertyShape, ...]] = {}
        for prop in properties:
            by_path[prop.path] = (*by_path.get(prop.path, ()), prop)
        return NodeShape(
            node.value,
            tuple(props.get(SH + "targetClass", [])),
            self.checks(node, rest),
            tuple(p for p in properties if p.min_count),
            by_path,
            *self.severity_message(node, props),
        )

    def property_shape(self, node: Term) -> PropertyShape:
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
        return PropertyShape(
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
        return (term_text(severities[0]) if severities else VIOLATION), message

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


def _build_datatype(c: Compiler, node: Term, value: Term) -> _Check:
    if not isinstance(value, NamedNode):
        c.refuse(node, "has an sh:datatype that is not an IRI")
    if value.value.startswith(XSD) and value.value not in LEXICAL:
        c.refuse(node, f"uses sh:datatype <{value.value}>, whose lexical forms are not checked")
    return _Datatype(value)


def _build_node_kind(c: Compiler, node: Term, value: Term) -> _Check:
    if not isinstance(value, NamedNode) or value.value not in NODE_KINDS:
        c.refuse(node, f"has an unknown sh:nodeKind {value}")
    return _NodeKind(NODE_KINDS[value.value], value.value.removeprefix(SH))


def _build_class(c: Compiler, node: Term, value: Term) -> _Check:
    if not isinstance(value, NamedNode):
        c.refuse(node, "has an sh:class that is not an IRI")
    return _Class(value)


def _build_in(c: Compiler, node: Term, value: Term) -> _Check:
    return _In(frozenset(c.members(node, value)))


FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}
"""XPath regular-expression flags (sh:flags, XPath 3.1 section 5.6.1) as Python's."""


def _build_pattern(c: Compiler, node: Term, value: Term) -> _Check:
    flags = 0
    if not isinstance(value, Literal):
        c.refuse(node, "has an sh:pattern that is not a literal")
    for letter in "".join(term_text(f) for f in c.index.get(node, {}).get(SH + "flags", [])):
        if letter not in FLAGS:
            c.refuse(node, f"uses the regular-expression flag {letter!r}")
        flags |= FLAGS[letter]
    try:
        return _Pattern(re.compile(value.value, flags))
    except re.error as exc:
        c.refuse(node, f"has an sh:pattern Python cannot compile ({exc})")


def _build_or(c: Compiler, node: Term, value: Term) -> _Check:
    return _Or(tuple(c.alternative(node, m) for m in c.members(node, value)))


VALUE_CHECKS: dict[str, Callable[[Compiler, Term, Term], _Check]] = {
    SH + "datatype": _build_datatype,
    SH + "nodeKind": _build_node_kind,
    SH + "class": _build_class,
    SH + "in": _build_in,
    SH + "pattern": _build_pattern,
    SH + "or": _build_or,
}
"""The value-constraint components the fast path implements, by parameter (SHACL 4.1-4.6)."""


def shapes_turtle(base_uri: str, path: Path = SHAPES_FILE) -> str:
    """The shapes file with its shapes minted under `base_uri` (as lod publishes vocab/lod.ttl)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the SHACL shapes {path}: {exc.strerror}") from None
    return text.replace("<BASE/", f"<{base_uri}")


def compile_shapes(text: str, source: str = "shapes") -> list[NodeShape]:
    """The node shapes of a shapes graph (Turtle); ConfigError for what lod does not implement."""
    return Compiler(text, source).compile()


__all__ = [
    "SH",
    "SHAPES_FILE",
    "SHAPES_PATH",
    "NodeShape",
    "PropertyShape",
    "compile_shapes",
    "shapes_turtle",
    "term_text",
]
