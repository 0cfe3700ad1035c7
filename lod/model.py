"""Plain records as the readers produce them: strings and lists, no RDF.

Every value keeps where it came from (an `Origin`), so the build report and the field audit can
name the file, line or row and the source field.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a value was read: file, 1-based line (text) or row (CSV, header is row 1), field."""

    file: str
    line: int | None = None
    field: str = ""

    def at(self, field_name: str, line: int | None = None) -> Origin:
        return Origin(self.file, self.line if line is None else line, field_name)


@dataclass(frozen=True, slots=True)
class Media:
    """A file attached to a record (PDF scan, transcript HTML)."""

    url: str
    filename: str = ""
    content_type: str = ""
    title: str = ""


@dataclass(slots=True)
class Record:
    """One archival record. Attribute names are the model's vocabulary; `origins` maps each filled
    attribute to the source field it came from."""

    id: str
    source_format: str
    origin: Origin
    kind: str = "document"
    title: str = ""
    alt_title: str = ""
    date: str = ""
    date_hint: str = ""
    summary: str = ""
    description: str = ""
    """A short description beside the summary (the JSON API's short_description)."""
    text: str = ""
    transcript: str = ""
    citation: str = ""
    rights: str = ""
    uploaded: str = ""
    modified: str = ""
    submitted: str = ""
    retrieved: str = ""
    doc_type: str = ""
    classification: str = ""
    credits: str = ""
    url: str = ""
    languages: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    contributors: list[str] = field(default_factory=list)
    people: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)
    archives: list[str] = field(default_factory=list)
    collections: list[str] = field(default_factory=list)
    donors: list[str] = field(default_factory=list)
    media: list[Media] = field(default_factory=list)
    unit: str = ""
    """Hash of the raw source unit (a CSV row) when the reader has one: a republish that finds
    the same hash skips parsing and mapping the row."""
    place_parents: dict[str, str] = field(default_factory=dict)
    header: dict[str, str] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)
    origins: dict[str, Origin] = field(default_factory=dict)
    graph: str = ""
    """A graph published elsewhere (N-Triples), taken as it is instead of mapping the fields:
    a record harvested in RDF publishes exactly the graph its provider published."""
    uri: str = ""
    """The resource `graph` describes; for other records lod mints the URI from the ID."""

    def put(self, attr: str, value: object, origin: Origin) -> None:
        """Set a scalar attribute (ignoring empty values) and remember where it came from."""
        if value in ("", None):
            return
        setattr(self, attr, value)
        self.origins[attr] = origin

    def add(self, attr: str, values: list[str], origin: Origin) -> None:
        """Append to a list attribute, skipping blanks and repeats, and remember the origin."""
        current: list[str] = getattr(self, attr)
        added = False
        for value in values:
            value = value.strip()
            if value and value not in current:
                current.append(value)
                added = True
        if added:
            self.origins.setdefault(attr, origin)

    def put_extra(self, name: str, value: str, origin: Origin) -> None:
        """Keep a source field the model has no attribute for; it is published, not dropped."""
        if value.strip():
            self.extra[name] = value
            self.origins[f"extra:{name}"] = origin

    def filled(self) -> list[str]:
        """Names of the attributes that carry a value (the field audit walks these)."""
        skip = {"id", "source_format", "origin", "kind", "origins", "extra", "graph", "uri", "unit"}
        return [f.name for f in fields(self) if f.name not in skip and getattr(self, f.name)]
