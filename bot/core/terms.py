"""Words into search terms: English stems, question words set aside, a few synonyms joined.

Briefs and their articles are indexed with ``terms``; a question is read with
``read_question``, which also notes what kind of value it asks for ("when" → a
date, "where" → a place, "who" → a person, "how many" → a count) and the numbers
it names.
"""

import enum
import re
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

from bot.core.dates import MONTHS


class Holds(enum.Flag):
    """The kinds of value a passage holds, or a question asks for."""

    NOTHING = 0
    DATE = enum.auto()
    PLACE = enum.auto()
    PERSON = enum.auto()
    COUNT = enum.auto()
    REASON = enum.auto()
    """An explanation: why something happened or matters."""


class Tense(enum.Enum):
    """When a question places what it asks about, as the article tells it."""

    ANY = "any"
    BEFORE = "before"
    """Done by the time of the article: the summit and what it signed."""
    AHEAD = "ahead"
    """Still to come when the article was written: the next meetings, the follow-ups."""


_STOPWORDS = """
    a about above after again all also am an and any anything are as at be been before being
    below between both but by can could did do does doing done during each else ever few for
    from further get gets got had has have having he her here hers him his how i if in into is
    it its itself just me more most much my no nor not now of off on once only or other our out
    over own please same she should so some something than that the their theirs them then
    there these they this those through to too under until up us very was we were what whats
    when where which while who whom whose why will with would you your know tell say said
    happen happened happens going go goes went many anyone someone thing things article brief
    able without
"""
STOPWORDS = frozenset(_STOPWORDS.split())
"""Words that say nothing about what is asked: function words and question words."""

SYNONYMS: dict[str, tuple[str, ...]] = {
    "flight": ("air",),
    "flights": ("air",),
    "fly": ("air",),
    "plane": ("air",),
    "planes": ("air",),
    "start": ("begin", "launch"),
    "starts": ("begin", "launch"),
    "begin": ("launch",),
    "begins": ("launch",),
    "resident": ("inhabitant",),
    "residents": ("inhabitant",),
    "islanders": ("inhabitant",),
    "deportees": ("inhabitant",),
    "inhabitants": ("resident",),
    "agree": ("agreement", "memorandum", "pledge"),
    "agreed": ("agreement", "memorandum", "pledge"),
    "agreements": ("memorandum",),
    "deal": ("memorandum",),
    "deals": ("memorandum",),
    "mou": ("memorandum",),
    "mous": ("memorandum",),
    "memoranda": ("memorandum",),
    "promise": ("pledge",),
    "promised": ("pledge",),
    "korea": ("korean", "pyongyang"),
    "pyongyang": ("korean",),
    "usa": ("washington",),
    "america": ("usa", "washington"),
    "american": ("usa", "washington"),
    "americans": ("usa", "washington"),
    "fishing": ("fisheries",),
    "fish": ("fisheries",),
    "fishery": ("fisheries",),
    "medicine": ("pharmaceuticals",),
    "medicines": ("pharmaceuticals",),
    "drugs": ("pharmaceuticals",),
    "health": ("healthcare",),
    "medical": ("healthcare",),
    "tourism": ("ecotourism",),
    "tourists": ("ecotourism",),
    "mining": ("resource", "exploration"),
    "trip": ("tour",),
    "tour": ("trip",),
    "britain": ("uk",),
    "british": ("uk",),
    "scandinavia": ("nordic",),
    "scandinavian": ("nordic",),
    "met": ("meet", "meeting"),
    "meet": ("met", "meeting"),
    "meets": ("met", "meeting"),
    "times": ("meeting",),
    "take": ("took",),
    "taken": ("took",),
    "hold": ("held",),
    "begun": ("began", "launch"),
    "write": ("wrote", "writer"),
    "writer": ("author",),
    "author": ("writer",),
    "wrote": ("writer",),
    "documents": ("memorandum",),
    "accords": ("memorandum",),
    "matter": ("importance", "significant"),
    "matters": ("importance", "significant"),
}
"""Words a question may use for the article's own: each adds the words it stands for."""

_PHRASES = (
    (re.compile(r"\bu\.\s?s\.(?=\W|$)|\bunited states\b|\bus\b(?= (?:president|factor)\b)"), "usa"),
    (re.compile(r"\bg-20\b"), "g20"),
    (re.compile(r"\bunited kingdom\b"), "uk"),
)
_WORD = re.compile(r"[^\W_]+")
_NUMBER = re.compile(r"^(\d+)(?:st|nd|rd|th)?$")

_ASKS = (
    (
        Holds.DATE,
        re.compile(
            r"\bwhen\b|\b(?:what|which) (?:date|day|month|year|time)\b|\bhow soon\b"
            r"|\bhow long (?:until|till|before)\b|\bwhat dates?\b"
        ),
    ),
    (
        Holds.PLACE,
        re.compile(r"\bwhere\b|\b(?:what|which|in what|in which) (?:city|country|place|venue)\b"),
    ),
    (Holds.PERSON, re.compile(r"\bwho(?:m|se)?\b|\bwhich leaders?\b")),
    (Holds.COUNT, re.compile(r"\bhow (?:many|often)\b|\bnumber of\b|\bhow much\b")),
    (Holds.REASON, re.compile(r"\bwhy\b|\bwhat for\b|\bhow come\b")),
)
_BEFORE = re.compile(r"\b(?:was|were|did|had|took|held|signed|met|agreed)\b")
_AHEAD = re.compile(r"\b(?:will|next|upcoming|going to|shall|planned|future|coming)\b")
MONTH_WORDS = frozenset(month.casefold() for month in MONTHS)
_LIGHT = """
    part play plays role kind way make made give given take taken mean means matter matters
    important lot real really new old good bad big
"""
LIGHT = frozenset(_LIGHT.split())
"""Words of little weight in deciding whether a question is covered: general words that
any subject may use. They are searched for as usual."""
LIGHT_WEIGHT = 0.1
NEGATED = 8
"""The shortest ``un…`` word read as a negation as well (``unnoticed``, not ``under``)."""


@lru_cache(maxsize=1)
def _stemmer() -> "snowballstemmer.stemmer":
    return snowballstemmer.stemmer("english")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The English stem of one folded word; a number keeps its digits (``17th`` → ``17``)."""
    number = _NUMBER.match(word)
    if number:
        return number.group(1)
    return str(_stemmer().stemWord(word))


def words(text: str) -> list[str]:
    """The folded words of ``text``, with a few phrases joined into one word."""
    folded = text.casefold().replace("\u2019", "'")
    for pattern, word in _PHRASES:
        folded = pattern.sub(f" {word} ", folded)
    return [word for word in _WORD.findall(folded.replace("'s ", " ")) if len(word) > 1]


def terms(text: str) -> list[str]:
    """The search terms of ``text``: stems of its words, function words left out.

    A word negated with ``un`` also stands for the word it negates (``unnoticed`` →
    ``noticed``), so that a question may ask the other way round.
    """
    found = []
    for word in words(text):
        if word in STOPWORDS:
            continue
        found.append(stem(word))
        if word.startswith("un") and len(word) >= NEGATED:
            found.append(stem(word[2:]))
    return found


@dataclass(frozen=True)
class Question:
    """A question as search terms: each word's stem with the stems of its synonyms."""

    groups: tuple[tuple[str, ...], ...]
    asks: Holds
    numbers: frozenset[str]
    tense: Tense = Tense.ANY
    light: frozenset[str] = frozenset()
    """The stems of the question's words of little weight (``LIGHT``)."""

    @property
    def terms(self) -> list[str]:
        """Every term to search for, each once, the question's own words first."""
        seen: dict[str, None] = {}
        for group in self.groups:
            seen.update(dict.fromkeys(group))
        return list(seen)


def read_question(text: str) -> Question:
    """The terms of a question, what kind of value it asks for, and the numbers it names."""
    found = words(text)
    folded = " ".join(found)
    asks = Holds.NOTHING
    for holds, pattern in _ASKS:
        if pattern.search(folded):
            asks |= holds
    groups: dict[str, tuple[str, ...]] = {}
    light: set[str] = set()
    for word in found:
        if word in STOPWORDS:
            continue
        own = stem(word)
        group = (own, *(stem(other) for other in SYNONYMS.get(word, ())))
        groups.setdefault(own, tuple(dict.fromkeys(group)))
        if word in LIGHT:
            light.add(own)
    numbers = frozenset(term for term in groups if term.isdigit())
    tense = Tense.ANY
    if _AHEAD.search(folded):
        tense = Tense.AHEAD
    elif _BEFORE.search(folded):
        tense = Tense.BEFORE
    return Question(tuple(groups.values()), asks, numbers, tense, frozenset(light))
