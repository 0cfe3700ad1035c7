import pytest

from lod.citations import parse_citation


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("APRF, f. 45, op. 1, d. 337, ll. 1-3.", ("APRF", "45", "1", "337", "", "1-3", "")),
        (
            "RGANI, f. 5, op. 49, d. 131, ll. 193-194. Translated by Gary Goldberg.",
            ("RGANI", "5", "49", "131", "", "193-194", "Translated by Gary Goldberg."),
        ),
        (
            "AVPRF, f. 0100, op. 43, d. 43, papka 302, l. 1.",
            ("AVPRF", "0100", "43", "43", "302", "1", ""),
        ),
        (
            "BArch, B 136/59748, 403-410. Contributed, transcribed, and translated by Stephan Kieninger.",
            (
                "BArch",
                "",
                "",
                "B 136/59748",
                "",
                "403-410",
                "Contributed, transcribed, and translated by Stephan Kieninger.",
            ),
        ),
    ],
)
def test_parsed_parts(text: str, parts: tuple[str, ...]) -> None:
    c = parse_citation(text)
    assert (c.archive, c.fonds, c.series, c.file, c.folder, c.leaves, c.remainder) == parts
    assert c.verbatim == text
    assert c.parsed


def test_unknown_form_is_kept_verbatim_only() -> None:
    c = parse_citation("Nehru Memorial Museum and Library, File No. JNSG, vol. 21-1.")
    assert c.verbatim == "Nehru Memorial Museum and Library, File No. JNSG, vol. 21-1."
    assert not c.parsed and c.archive == ""
