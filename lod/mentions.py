"""People and places named in a record's full text, for schema:mentions.

Only entities of vocab/authorities.csv are looked for, and only by names that are safe in running
text. The rule, chosen so that every mention found is a real one (precision 1.0 on the
hand-checked list in tests/data/mentions.csv):

1. A name is found as whole words: "Stalin" is not found in "Stalingrad" or "Stalinist", nor
   "Japan" in "Japanese". Case, accents and the separators inside a name (space, hyphen, dot)
   do not matter, so "MAO ZEDONG", "Kim Il-sung" and "I. V. Stalin" are found; the name's first
   letter must be a capital in the text ("china" is tableware).
2. The names looked for are the entity's label, its variants of two or more words ("Peng Dehuai",
   "Chairman Mao", "Chou En-lai") and the one-word names the table lists as safe in text
   (`text_names`: "Stalin", "Filippov", "Molotov", "Yeltsin"). Other one-word variants ("Mao",
   "Kim", "Nehru", "Kohl") are never looked for alone: they name several people.
3. The longest name wins where names overlap: "North Korea" is North Korea, not Korea.
4. A one-word name next to another capitalized word, on the same line, is not taken:
   "Stalin Prize", "China Sea", "East Germany", "Kim Roosevelt" name something else. A title
   before it ("Comrade", "President", vocab/titles.csv) or a capital that only starts a sentence
   ("In China") does not count. A longer name followed, one space on, by a capitalized word is
   part of another name too ("John F. Kennedy School of Government", "Kim Il Sung Square").

Matching works on word tokens with one dictionary lookup per word, so it costs little more than
reading the text once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from lod.vocab import Authority, Vocab

WORD = re.compile(r"[^\W_]+")
ASCII_WORD = re.compile(r"[a-z0-9]+")
"""WORD on lowered ASCII text, where it is several times faster."""
JOINER = re.compile(r"[\s.\-‐‑’']{1,3}")
"""What may stand between the words of one name: spaces, a hyphen, the dot of an initial."""
SAME_LINE_SPACE = re.compile(r"[ \t]+")
SENTENCE_ENDS = frozenset('.!?:;"“([\n')
"""Characters after which a capitalized word only starts a sentence (or a line)."""

KINDS = {"person": "agent", "organization": "agent", "place": "place"}
"""Authority kinds the finder looks for, and the kind of entity each becomes."""
SEARCHED = ("person", "place")


@dataclass(frozen=True, slots=True)
class _Name:
    words: tuple[str, ...]
    authority: Authority


def fold(text: str) -> str:
    """Accents off, case kept: 'Satō' -> 'Sato' (NFKD, then combining marks dropped). Marks are
    looked up once per distinct character, not per character: full texts run to megabytes."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    marks = {ord(c): None for c in set(decomposed) if unicodedata.combining(c)}
    return decomposed.translate(marks) if marks else decomposed


class MentionFinder:
    """Finds the people and places of vocab/authorities.csv in a text (the rule above)."""

    def __init__(self, vocab: Vocab) -> None:
        self.titles = vocab.names.titles
        self._by_first: dict[str, list[_Name]] = {}
        seen: set[int] = set()
        for authority in vocab.authorities.values():
            if authority.kind not in SEARCHED or id(authority) in seen:
                continue
            seen.add(id(authority))
            for name in _text_names(authority):
                words = tuple(w.lower() for w in WORD.findall(fold(name)))
                if words:
                    self._by_first.setdefault(words[0], []).append(_Name(words, authority))
        for names in self._by_first.values():
            names.sort(key=lambda n: -len(n.words))

    def find(self, *texts: str) -> list[tuple[str, str]]:
        """(entity kind, label) of every person and place the texts mention, in order of first
        mention; the label resolves to the authority's entity."""
        found: dict[str, tuple[str, str]] = {}
        for text in texts:
            for authority in self._matches(text):
                found.setdefault(authority.slug, (KINDS[authority.kind], authority.label))
        return list(found.values())

    def _matches(self, text: str) -> Iterator[Authority]:
        if not text:
            return
        folded = fold(text)
        lowered = _lowered_words(folded)
        first = self._by_first
        starts = [i for i, word in enumerate(lowered) if word in first]
        if not starts:
            return
        tokens = list(WORD.finditer(folded))
        index = 0
        # Only words that start some name are tried, in one pass over the words.
        for start in starts:
            if start < index:
                continue
            match = self._match_at(folded, tokens, lowered, start)
            if match is None:
                continue
            index = start
            name, end = match
            alone = (
                self._stands_alone(folded, tokens, index)
                if len(name.words) == 1
                else not _named_after(folded, tokens, end)
            )
            if alone:
                yield name.authority
            index = end

    def _match_at(
        self, folded: str, tokens: list[re.Match[str]], lowered: list[str], index: int
    ) -> tuple[_Name, int] | None:
        """The longest name starting at token `index` (capitalized), and the token after it."""
        candidates = self._by_first.get(lowered[index])
        if not candidates or not tokens[index].group()[0].isupper():
            return None
        for name in candidates:
            end = index + len(name.words)
            if end > len(tokens) or tuple(lowered[index:end]) != name.words:
                continue
            gaps = (folded[tokens[i].end() : tokens[i + 1].start()] for i in range(index, end - 1))
            if all(JOINER.fullmatch(gap) for gap in gaps):
                return name, end
        return None

    def _stands_alone(self, folded: str, tokens: list[re.Match[str]], index: int) -> bool:
        """Rule 4: no capitalized word joined to a one-word name on the same line."""
        token = tokens[index]
        if index + 1 < len(tokens):
            after = tokens[index + 1]
            gap = folded[token.end() : after.start()]
            if SAME_LINE_SPACE.fullmatch(gap) and after.group()[0].isupper():
                return False
        if index > 0:
            before = tokens[index - 1]
            gap = folded[before.end() : token.start()]
            if (
                SAME_LINE_SPACE.fullmatch(gap)
                and before.group()[0].isupper()
                and before.group().lower() not in self.titles
                and not _starts_sentence(folded, before.start())
            ):
                return False
        return True


def _lowered_words(text: str) -> list[str]:
    """The text's words in lower case, as WORD finds them. ASCII text is lowered whole, which
    keeps every word where it was; other text word by word, since lowering may change a
    character's length ('İ')."""
    if text.isascii():
        return ASCII_WORD.findall(text.lower())
    return [word.lower() for word in WORD.findall(text)]


def _named_after(text: str, tokens: list[re.Match[str]], end: int) -> bool:
    """Rule 4 for longer names: the next word, one space on, is capitalized."""
    if end >= len(tokens):
        return False
    after = tokens[end]
    return text[tokens[end - 1].end() : after.start()] == " " and after.group()[0].isupper()


def _starts_sentence(text: str, start: int) -> bool:
    """Whether the word at `start` is the first of its text, line or sentence."""
    at = start
    while at > 0 and text[at - 1] in " \t":
        at -= 1
    return at == 0 or text[at - 1] in SENTENCE_ENDS


def _text_names(authority: Authority) -> list[str]:
    """Rule 2: the label, variants of two or more words, and the listed one-word names."""
    names = [authority.label, *authority.text_names]
    names += [v for v in authority.variants if len(WORD.findall(v)) > 1]
    return list(dict.fromkeys(names))
