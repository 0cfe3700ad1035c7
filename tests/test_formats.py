"""Serializations: JSON-LD checked against pyld, every format the same graph, HTML for people."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from pyld import jsonld
from rdflib import Graph
from rdflib.compare import isomorphic

from lod.formats import negotiate
from tests.conftest import BASE


def local_loader(site: Path) -> Any:
    """pyld never fetches: the only context it may load is the site's own file."""

    def load(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        if url != BASE + "context.jsonld":
            raise AssertionError(f"pyld tried to fetch {url}")
        return {
            "contextUrl": None,
            "documentUrl": url,
            "document": json.loads((site / "context.jsonld").read_text()),
        }

    return load


def pyld_graph(path: Path, site: Path) -> Graph:
    document = json.loads(path.read_text(encoding="utf-8"))
    nquads = jsonld.to_rdf(
        document, {"format": "application/n-quads", "documentLoader": local_loader(site)}
    )
    return Graph().parse(data=nquads, format="nt")  # all triples are in the default graph


def resources(site: Path) -> list[Path]:
    return sorted(site.glob("doc/**/*.ttl"))


def test_every_jsonld_is_the_turtle_graph(corpus_site: Path) -> None:
    files = resources(corpus_site)
    assert len(files) > 150
    for ttl in files:
        turtle = Graph().parse(ttl, format="turtle")
        assert isomorphic(pyld_graph(ttl.with_suffix(".jsonld"), corpus_site), turtle), ttl


@pytest.mark.parametrize(("suffix", "rdflib_format"), [(".nt", "nt"), (".rdf", "xml")])
def test_other_formats_are_the_same_graph(
    records_site: Path, suffix: str, rdflib_format: str
) -> None:
    for ttl in resources(records_site):
        other = Graph().parse(ttl.with_suffix(suffix), format=rdflib_format)
        assert isomorphic(other, Graph().parse(ttl, format="turtle")), ttl


def test_jsonld_is_compact_and_framed(records_site: Path) -> None:
    doc = json.loads((records_site / "doc/record/112095.jsonld").read_text())
    assert doc["@context"] == BASE + "context.jsonld"
    root = doc  # the description document nests under the record, so there is one tree
    assert root["foaf:isPrimaryTopicOf"]["@id"] == BASE + "doc/record/112095"
    assert root["@id"] == BASE + "record/112095"
    assert root["title"].startswith("Telegram from Mao Zedong")  # term with @language en
    assert root["creator"] == {
        "@id": BASE + "agent/mao-zedong",
        "@type": "schema:Person",
        "name": "Mao Zedong",  # a person's name has no language, and nor has the "name" term
    }
    assert root["additionalType"] == "aat:300026909"
    # an English name (a concept's label) keeps its language in a value object
    assert root["dctype"][1]["name"] == {"@value": "Telegram", "@language": "en"}
    period = root["lod:createdPeriod"]
    assert period["label"] == "January 16, 1951" and period["startDate"] == "1951-01-16"


def test_pyld_compaction_agrees(records_site: Path) -> None:
    """Compacting our document again with pyld changes nothing but pyld's own choices of shape."""
    path = records_site / "doc/record/112095.jsonld"
    options = {"documentLoader": local_loader(records_site)}
    doc = json.loads(path.read_text())
    again = jsonld.compact(jsonld.expand(doc, options), BASE + "context.jsonld", options)
    ours = jsonld.normalize(
        doc, {**options, "algorithm": "URDNA2015", "format": "application/n-quads"}
    )
    theirs = jsonld.normalize(
        again, {**options, "algorithm": "URDNA2015", "format": "application/n-quads"}
    )
    assert ours == theirs


def test_html_shows_fields_and_embeds_jsonld(records_site: Path) -> None:
    html = (records_site / "doc/record/112095.html").read_text()
    assert "<h1>Telegram from Mao Zedong to I.V. Stalin" in html
    assert "APRF, f. 45, op. 1, d. 337, ll. 1-3." in html and "With Bolshevik greetings" in html
    assert '<a href="../../doc/agent/mao-zedong.html">Mao Zedong</a>' in html
    for suffix, media in (
        (".ttl", "text/turtle"),
        (".jsonld", "application/ld+json"),
        (".nt", "application/n-triples"),
        (".rdf", "application/rdf+xml"),
    ):
        assert f'<link rel="alternate" type="{media}" href="112095{suffix}"' in html
    embedded = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert embedded and json.loads(embedded.group(1))["@id"] == BASE + "record/112095"


def test_html_escapes_hostile_literals(tmp_path: Path) -> None:
    from lod.config import Config
    from lod.publish.site import build

    src = tmp_path / "src"
    src.mkdir()
    (src / "x.csv").write_text(
        'record_id,title,note\nx1,Hostile,"</script><script>alert(1)</script><img src=x onerror=alert(2)><b>kept</b>"\n'
    )
    build([src], tmp_path / "out", Config(base_uri=BASE, progress=False))
    html = (tmp_path / "out/doc/record/x1.html").read_text()
    # The reader drops the script and the event handler (and reports it); what markup is left
    # in the literal is shown as text.
    assert "alert(1)" not in html and "<img src=x" not in html and "<b>kept" not in html
    assert "&lt;/script&gt;&lt;b&gt;kept&lt;/b&gt;" in html
    script = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert script and "</script" not in script.group(1)
    note = json.loads(script.group(1))["schema:additionalProperty"]
    assert note["schema:value"] == "</script><b>kept</b>"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("text/turtle", "turtle"),
        ("application/ld+json", "jsonld"),
        ("application/n-triples", "ntriples"),
        ("application/rdf+xml", "rdfxml"),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "html"),
        ("application/ld+json;q=0.9, text/turtle;q=0.5", "jsonld"),
        ("text/html;q=0, */*", "turtle"),
        ("text/*", "html"),
        ("", "html"),
        ("application/pdf", None),
        ("text/turtle;q=0", None),
    ],
)
def test_negotiate(accept: str, expected: str | None) -> None:
    fmt = negotiate(accept)
    assert (fmt.name if fmt else None) == expected
