"""Reader for TEI documents of the U.S. Office of the Historian (frus-history).

The header gives the complete and short titles, `created` and `posted` dates and a scan; the body
opens with a "Source:" note (the source, then the security marking: the classification) and a
"Cited in" note, then one `div type="document"` per letter,
memo or session with its head and dateline. XML is parsed with DTDs refused, so entity bombs and
external entities fail before any expansion.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import PurePath
from xml.etree.ElementTree import Element

from lod.errors import SourceError
from lod.model import Media, Origin, Record
from lod.sources.text import clean, line_of, one_line, parse_xml, xml_head
from lod.vocab import load_vocab

FORMAT = "tei"
TEI = "{http://www.tei-c.org/ns/1.0}"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
_SPACE = re.compile(r"\s+")
_BLOCK = {
    f"{TEI}{name}"
    for name in ("p", "head", "dateline", "item", "list", "div", "lb", "quote", "note")
}


def sniff(text: str) -> bool:
    head = xml_head(text)
    return "<TEI" in head and "http://www.tei-c.org/ns/1.0" in head


def read(path: str, text: str) -> Iterator[Record | SourceError]:
    """One record per file; a SourceError raised here is reported by lod.sources.read_file."""
    yield _read(path, text)


def _read(path: str, text: str) -> Record:
    root = parse_xml(path, text)
    origin = Origin(path, 1)
    stem = PurePath(path).stem
    record = Record(id=root.get(XML_ID) or stem, source_format=FORMAT, origin=origin)
    record.origins["id"] = origin.at(
        "TEI/@xml:id" if root.get(XML_ID) else "filename", _line(text, "xml:id=")
    )
    header = root.find(f"{TEI}teiHeader")
    body = root.find(f"{TEI}text/{TEI}body")
    if header is None or body is None:
        raise SourceError(
            "a TEI document needs a teiHeader and a text/body",
            file=path,
            hint="check the TEI structure",
        )
    titles = _line(text, "<title")
    for title in header.iter(f"{TEI}title"):
        kind = title.get("type", "complete")
        attr = "title" if kind in ("complete", "main") and not record.title else "alt_title"
        record.put(attr, one_line(_text(title)), origin.at(f"title[@type='{kind}']", titles))
    for date in header.iter(f"{TEI}date"):
        kind = date.get("type", "")
        where = origin.at(f"date[@type='{kind}']", _line(text, f'type="{kind}"'))
        if kind == "created":
            record.put("date", one_line(_text(date)), where)
            record.put("date_hint", date.get("when", ""), where.at(f"date[@type='{kind}']/@when"))
        elif kind == "posted":
            record.put("uploaded", date.get("when") or one_line(_text(date)), where)
        elif kind:
            record.put_extra(f"date-{kind}", date.get("when") or one_line(_text(date)), where)
    for ref in header.iter(f"{TEI}ref"):
        if ref.get("target"):
            record.media.append(
                Media(
                    url=ref.get("target", ""),
                    content_type=_media_type(ref.get("target", "")),
                    title=one_line(_text(ref)) or "scan",
                )
            )
            record.origins["media"] = origin.at("sourceDesc/ref/@target")
    source_desc = header.find(f".//{TEI}sourceDesc")
    if source_desc is not None:
        record.put_extra("sourceDesc", one_line(_text(source_desc)), origin.at("sourceDesc"))
    texts: list[str] = []
    for child in body:
        content = clean(_text(child))
        if child.tag == f"{TEI}p" and content.startswith("Source:"):
            note = one_line(content[len("Source:") :])
            record.put("citation", note, origin.at("body/p[Source]"))
            record.put("classification", marking(note), origin.at("body/p[Source]"))
        elif child.tag == f"{TEI}p" and content.startswith("Cited in"):
            record.put_extra("citedIn", one_line(content), origin.at("body/p[Cited in]"))
        elif content:
            texts.append(content)
    record.put("text", "\n\n".join(texts), origin.at("body/div", _line(text, "<body")))
    record.put_extra(
        "documentParts",
        "; ".join(one_line(_text(head)) for head in body.iter(f"{TEI}head")),
        origin.at("body/div/head"),
    )
    return record


def _line(text: str, needle: str) -> int:
    """The line a value comes from: ElementTree keeps no positions, so the first line with
    the element's start tag (or attribute) stands for it; the file's first line failing that."""
    return line_of(text, needle) or 1


def marking(note: str) -> str:
    """The security marking a source note gives after the source, as FRUS notes do ("..., Box 2,
    1968—Minutes. Limited Official Use. Page 2 of the minutes is missing ..."): the first later
    sentence that is a level vocab/classification.csv knows, with any distribution caption
    ("Secret; Nodis"), as written; "" when there is none."""
    vocab = load_vocab()
    for sentence in re.split(r"(?<=\.)\s+", note)[1:]:
        sentence = sentence.rstrip(".")
        if vocab.classification(sentence):
            return sentence
    return ""


def _text(element: Element) -> str:
    """Text content with line breaks between block elements."""
    parts: list[str] = []

    def walk(node: Element) -> None:
        if node.tag in _BLOCK:
            parts.append("\n")
        if node.text:
            parts.append(_SPACE.sub(" ", node.text))
        for child in node:
            walk(child)
            if child.tail:
                parts.append(_SPACE.sub(" ", child.tail))
        if node.tag in _BLOCK:
            parts.append("\n")

    walk(element)
    return "".join(parts)


def _media_type(url: str) -> str:
    return {"pdf": "application/pdf", "html": "text/html", "xml": "application/tei+xml"}.get(
        url.rsplit(".", 1)[-1].lower(), ""
    )
