"""URI minting: slugs that fit stay as they are, longer ones stay readable and distinct."""

from __future__ import annotations

from lod.uris import SLUG_MAX, slugify

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
