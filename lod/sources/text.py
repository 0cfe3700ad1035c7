"""Text helpers for the readers: HTML to plain text, whitespace, decoding with a clear error.

Every value a reader keeps passes through `clean`, `one_line` or `html_to_text`, so they are
also where hostile text is made harmless: control characters and lone surrogates go (neither
can be written as XML 1.0 or UTF-8), `<script>`/`<style>` elements go with their content,
UTF-8 read as Windows-1252 ("MÃ¼nchen") is repaired. What they change is noted (`collect`),
so the build report can say so: a librarian must learn that lod altered a value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from html import unescape
from html.parser import HTMLParser
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from lod.errors import SourceError, TooLargeError, UnsafeXMLError

_BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote"}
_DROP = {"style", "script", "head", "title"}
_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
"""Characters no record means and XML 1.0 cannot carry (U+FFFE/U+FFFF are no characters)."""
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_SCRIPT = re.compile(r"<\s*script\b.*?(?:<\s*/\s*script\s*>|$)", re.I | re.S)
_STYLE = re.compile(r"<\s*style\b.*?(?:<\s*/\s*style\s*>|$)", re.I | re.S)
"""A style sheet is normal in an HTML field (Word exports carry one) and dropped silently
there by html_to_text; in a plain-text field it is junk, removed and noted."""
_ACTIVE = re.compile(
    r"<\s*/?\s*(?:iframe|object|embed|frame|frameset|applet|base|meta|link)\b[^>]*>"
    r"|<[a-z][^>]*?(?:[\s/\"']on\w+\s*=|javascript\s*:)[^>]*>",
    re.I,
)
"""Markup that runs or loads something: frames and embeds, tags with event handlers
(onerror=, onload=; browsers also take a slash or a quote before one: `<svg/onload=...>`) or
javascript: links. Taken out whole; harmless markup is left to html_to_text, since the
sources' descriptions are HTML by design."""
_MOJIBAKE = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u203a\u20ac\u2122]{1,3}"
)
"""A UTF-8 lead byte and continuation bytes as Windows-1252 shows them ("Ã¼", "â€™")."""


@dataclass(frozen=True, slots=True)
class Note:
    """One change made to a value: why, the value as read, and what it became."""

    reason: str
    raw: str
    result: str


_NOTES: ContextVar[list[Note] | None] = ContextVar("lod_text_notes", default=None)


@contextmanager
def collect() -> Iterator[list[Note]]:
    """Note every change the helpers make to a value while the block runs."""
    notes: list[Note] = []
    token = _NOTES.set(notes)
    try:
        yield notes
    finally:
        _NOTES.reset(token)


def _note(reason: str, raw: str, result: str) -> None:
    notes = _NOTES.get()
    if notes is not None:
        notes.append(Note(reason, raw, result))


def needs_repair(text: str) -> bool:
    """Whether `_repair` would change the text (and note it): a reader that skips parsing
    what it already knows must still parse such a value, so its report row comes back."""
    return any(
        pattern.search(text)
        for pattern in (_SURROGATE, _CONTROL, _SCRIPT, _STYLE, _ACTIVE, _MOJIBAKE)
    )


_REMOVALS: tuple[tuple[re.Pattern[str], str, str, bool], ...] = (
    (_SURROGATE, "\ufffd", "replaced a lone surrogate (half of a UTF-16 pair) with U+FFFD", True),
    (_CONTROL, "", "removed control characters", True),
    (_SCRIPT, "", "removed a <script> element", True),
    (_STYLE, "", "removed a <style> element", False),
    (_ACTIVE, "", "removed active HTML (an event handler, a javascript: link or a frame)", True),
)
"""What cleaning removes, in order: (pattern, replacement, report note, also in HTML fields;
an HTML field's style sheets are the HTML parser's to drop)."""


def _repair(text: str, html: bool = False) -> str:
    """Hostile or broken characters out, noting each kind once per value; `html`: the value
    is HTML, whose style sheets are the HTML parser's to drop."""
    raw = text
    found: list[str] = []
    for pattern, replacement, note, in_html in _REMOVALS:
        if (in_html or not html) and pattern.search(text):
            text = pattern.sub(replacement, text)
            found.append(note)
    if _MOJIBAKE.search(text):
        fixed = _MOJIBAKE.sub(_unmojibake, text)
        if fixed != text:
            text = fixed
            found.append("repaired UTF-8 that had been read as Windows-1252 (mojibake)")
    if found:
        _note("; ".join(found), raw, text)
    return text


def _unmojibake(match: re.Match[str]) -> str:
    try:
        return match[0].encode("cp1252").decode("utf-8")
    except UnicodeError:
        return match[0]


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._drop = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP:
            self._drop += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP:
            self._drop = max(0, self._drop - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._drop:
            self.parts.append(data)


def looks_like_html(text: str) -> bool:
    return bool(_TAG.search(text))


def html_to_text(markup: str) -> str:
    """Visible text of an HTML fragment: scripts and styles dropped, blocks become line breaks."""
    if not looks_like_html(markup):
        return clean(unescape(markup))
    markup = _repair(markup, html=True)
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    return clean("".join(parser.parts))


def clean(text: str) -> str:
    """Trim each line, drop control characters, collapse blank runs to one blank line."""
    text = _repair(text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " "))
    lines = [" ".join(line.split()) for line in text.split("\n")]
    out = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", out).strip()


def one_line(text: str) -> str:
    return " ".join(_repair(text).split())


BOMS = {b"\xff\xfe": "UTF-16LE", b"\xfe\xff": "UTF-16BE"}


def utf16_guess(data: bytes) -> str:
    """'UTF-16LE'/'UTF-16BE' when the bytes look like UTF-16 (a byte order mark, or ASCII text
    with every other byte zero), else ''."""
    for bom, name in BOMS.items():
        if data.startswith(bom):
            return name
    head = data[:4096]
    if len(head) >= 8:
        even, odd = head[0::2].count(0), head[1::2].count(0)
        if odd > len(head) // 4 and even == 0:
            return "UTF-16LE"
        if even > len(head) // 4 and odd == 0:
            return "UTF-16BE"
    return ""


def decode(data: bytes, path: str) -> str:
    """UTF-8 (with or without BOM); anything else is reported with the line of the first bad
    byte, or as UTF-16 when it is that."""
    utf16 = utf16_guess(data)
    if utf16:
        raise SourceError(
            f"the file is {utf16}, not UTF-8",
            file=path,
            line=1,
            field="encoding",
            value=f"{utf16}: {data[:8]!r}",
            hint=f"convert it to UTF-8 (for example: iconv -f {utf16} -t UTF-8)",
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        start = data.rfind(b"\n", 0, exc.start) + 1
        raise SourceError(
            "the file is not valid UTF-8",
            file=path,
            line=line,
            field="encoding",
            value=repr(data[exc.start : exc.start + 8])
            + " in "
            + data[start : start + 120].split(b"\n")[0].decode("utf-8", "replace"),
            hint="convert it to UTF-8 (for example: iconv -f WINDOWS-1252 -t UTF-8)",
        ) from exc


def xml_head(text: str, size: int = 4096) -> str:
    """The start of an XML document for a sniffer, past any DTD: a long internal subset (an
    entity bomb) must not hide the root element and get the file skipped instead of refused."""
    doctype = text.find("<!DOCTYPE", 0, size)
    if doctype < 0:
        return text[:size]
    end = text.find("]>", doctype)
    end = text.find(">", doctype) if end < 0 else end + 1
    return text[:doctype] + text[end + 1 : end + 1 + size]


def line_of(text: str, needle: str, start: int = 0) -> int | None:
    """The 1-based line where `needle` first occurs in `text` from `start`; None if it does not."""
    at = text.find(needle, start)
    return None if at < 0 else text.count("\n", 0, at) + 1


MAX_XML_DEPTH = 256
"""Deepest element nesting lod reads: real TEI and OAI-PMH stay under 30, and the readers
walk trees recursively, so a deeper file is refused before it can exhaust the stack."""

_DECLARATION = re.compile(r"<!(?:DOCTYPE|ENTITY)[^>]*>?", re.I)


def parse_xml(path: str, text: str) -> Element:
    """Parse XML with DTDs and entities refused before any expansion (entity bombs, XXE) and
    nesting limited (MAX_XML_DEPTH)."""
    data = re.sub(r"^<\?xml[^>]*\?>", "", text.lstrip("\ufeff"))
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        found = _DECLARATION.search(text)
        raise UnsafeXMLError(
            "the XML declares a DTD or entities, which lod refuses",
            file=path,
            line=text.count("\n", 0, found.start()) + 1 if found else None,
            field="<!DOCTYPE>",
            value=found[0] if found else "",
            hint="remove the <!DOCTYPE> and entity declarations",
        ) from exc
    except ParseError as exc:
        line = exc.position[0] if exc.position else None
        raise SourceError(
            f"malformed XML: {exc}",
            file=path,
            line=line,
            field="XML",
            value=_line(text, line),
            hint="fix the XML at that line (a validating editor shows where)",
        ) from exc
    check_depth(root, path)
    return root


def check_depth(root: Element, path: str, limit: int = MAX_XML_DEPTH) -> None:
    """Refuse a tree nested deeper than `limit`, level by level (no recursion, and the
    children of a level are gathered in C)."""
    level, depth = [root], 1
    while level:
        if depth > limit:
            raise TooLargeError(
                f"the XML nests elements more than {limit} deep",
                file=path,
                field=str(level[0].tag),
                value=f"depth {depth}",
                hint="flatten the document; archival XML never needs that many levels",
            )
        level = [child for element in level for child in element]
        depth += 1


def _line(text: str, line: int | None) -> str:
    if not line:
        return ""
    lines = text.split("\n", line)
    return lines[line - 1][:200] if len(lines) >= line else ""
