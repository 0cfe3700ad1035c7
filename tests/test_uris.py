"""URI minting: slugs that fit stay as they are, longer ones stay readable and distinct; a URI
path names its files as a static server decodes it, without ever leaving the folder."""

from __future__ import annotations

import pytest

from lod.uris import SLUG_MAX, file_path, safe_id, slugify, uri_path

OFFICE = "Office of the Historian, Advisory Committee on Historical Diplomatic Documentation Files"


def test_a_slug_that_fits_is_unchanged() -> None:
    assert slugify("Nehru, Jawaharlal") == "nehru-jawaharlal"
    assert slugify("x" * SLUG_MAX) == "x" * SLUG_MAX


def test_long_values_sharing_a_prefix_get_distinct_bounded_slugs() -> None:
    early, late = slugify(f"{OFFICE}, 1957-1990"), slugify(f"{OFFICE}, 1972-2007")
    assert early != late
    assert early == slugify(f"{OFFICE}, 1957-1990")
    assert early.startswith("office-of-the-historian-advisory-committee-on-historical-")
    assert len(early) == len(late) == SLUG_MAX
    assert early.rsplit("-", 1)[1] != late.rsplit("-", 1)[1]


@pytest.mark.parametrize(
    ("record_id", "segment", "name"),
    [
        ("112095", "112095", "112095"),
        ("Doc 5", "Doc%205", "Doc 5"),
        ("dok-ü", "dok-%C3%BC", "dok-ü"),
        ("oai:archive.org:123", "oai%3Aarchive.org%3A123", "oai:archive.org:123"),
        ("a/b", "a%2Fb", "a%2Fb"),
        ("a%2Fb", "a%252Fb", "a%252Fb"),
        ("100%", "100%25", "100%25"),
        ("..", "%2E%2E", "%2E%2E"),
        ("nul\x00", "nul%00", "nul%00"),
    ],
)
def test_a_record_file_is_named_by_its_decoded_uri(record_id: str, segment: str, name: str) -> None:
    """Named as a static server decodes the request, but one file name inside its folder."""
    assert safe_id(record_id) == segment
    assert file_path(f"record/{segment}") == f"record/{name}"
    assert file_path(f"record/{segment}.ttl") == f"record/{name}.ttl"
    assert uri_path(f"record/{name}") == f"record/{segment}"


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("agent/../../x", "agent/%2E%2E/%2E%2E/x"),
        ("agent/%2E%2E/%2e%2e/x", "agent/%2E%2E/%2E%2E/x"),
        ("agent/./x", "agent/%2E/x"),
    ],
)
def test_a_file_path_never_climbs(path: str, name: str) -> None:
    assert file_path(path) == name
