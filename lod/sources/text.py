"""Text helpers for the readers: HTML to plain text, whitespace, decoding with a clear error."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from lod.errors import SourceError, UnsafeXMLError

_BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote"}
_DROP = {"style", "script", "head", "title"}
_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


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
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    return clean("".join(parser.parts))


def clean(text: str) -> str:
    """Trim each line, drop control characters, collapse blank runs to one blank line."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " "))
    lines = [" ".join(line.split()) for line in text.split("\n")]
    out = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", out).strip()


def one_line(text: str) -> str:
    return " ".join(_CONTROL.sub("", text).split())


def decode(data: bytes, path: str) -> str:
    """UTF-8 (with or without BOM); anything else is reported with the line of the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SourceError(
            "the file is not valid UTF-8",
            file=path,
            line=line,
            value=repr(data[exc.start : exc.start + 8]),
            hint="convert it to UTF-8 (for example: iconv -f WINDOWS-1252 -t UTF-8)",
        ) from exc


def parse_xml(path: str, text: str) -> Element:
    """Parse XML with DTDs and entities refused before any expansion (entity bombs, XXE)."""
    data = re.sub(r"^<\?xml[^>]*\?>", "", text.lstrip("\ufeff"))
    try:
        return fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise UnsafeXMLError(
            "the XML declares a DTD or entities, which lod refuses",
            file=path,
            hint="remove the <!DOCTYPE> and entity declarations",
        ) from exc
    except ParseError as exc:
        line = exc.position[0] if exc.position else None
        raise SourceError(
            f"malformed XML: {exc}",
            file=path,
            line=line,
            hint="fix the XML at that line (a validating editor shows where)",
        ) from exc
