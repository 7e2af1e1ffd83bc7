"""Security markings: classification, releasability, data mode and TLP, and the rule for derived products.

A marking string reads like the banner an analyst already knows::

    UNCLASSIFIED//REL TO USA, AUS, GBR
    SECRET//GBR EYES ONLY//EXERCISE
    UNCLASSIFIED//REL TO USA, CAN//TLP:AMBER//ORG ACME

Segments after the classification, in any order:

* ``REL TO A, B, ...`` - releasable to these partner nations (ISO 3166 trigraphs, or the tetragraphs
  ``FVEY`` and ``CSPO``). Lists are written USA first, then alphabetically, as in US/IC ISM practice.
* ``XXX EYES ONLY`` - national only (``NOFORN`` is read as ``USA EYES ONLY``).
* ``REAL``, ``EXERCISE``, ``SIMULATED`` or ``TEST`` - the data mode; absent means ``REAL``.
* ``TLP:CLEAR|GREEN|AMBER|AMBER+STRICT|RED`` - Traffic Light Protocol 2.0 for partner organisations.
* ``ORG A, B`` - partner organisations named as recipients of ``TLP:AMBER``/``AMBER+STRICT``/``RED`` data.

A bare ``UNCLASSIFIED`` is releasable to all ten partners. Anything above the lowest level must say
where it may go; a bare ``SECRET`` is refused rather than guessed.

Derived products (a conjunction from two element sets, an alert from a conjunction) take the highest
classification, the *intersection* of releasabilities, the least-real data mode and the most
restrictive TLP of their inputs: :func:`derive` also explains which input restricted what.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from orbitwatch.errors import MarkingError

#: The ten Combined Space Operations partners, ISO 3166-1 alpha-3.
NATIONS: tuple[str, ...] = ("USA", "AUS", "CAN", "DEU", "FRA", "GBR", "ITA", "JPN", "NOR", "NZL")
ALL_NATIONS: frozenset[str] = frozenset(NATIONS)
TETRAGRAPHS: dict[str, frozenset[str]] = {
    "FVEY": frozenset({"AUS", "CAN", "GBR", "NZL", "USA"}),
    "CSPO": ALL_NATIONS,
}
DATA_MODES: tuple[str, ...] = ("REAL", "SIMULATED", "TEST", "EXERCISE")
#: TLP 2.0 levels from least to most restrictive.
TLP_LEVELS: tuple[str, ...] = ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")

# One bit per nation, so the store can filter releasability with one integer AND in SQL.
_NATION_BIT: dict[str, int] = {n: 1 << i for i, n in enumerate(NATIONS)}


def nation_bit(trigraph: str) -> int:
    """The releasability bit of a partner nation (raises :class:`MarkingError` for others)."""
    try:
        return _NATION_BIT[trigraph]
    except KeyError:
        raise MarkingError(f"unknown nation {trigraph!r}; expected one of {', '.join(NATIONS)}",
                           field="nation") from None


def nations_from_mask(mask: int) -> frozenset[str]:
    return frozenset(n for n, b in _NATION_BIT.items() if mask & b)


def sort_trigraphs(trigraphs: Iterable[str]) -> list[str]:
    """USA first, then alphabetical - the order releasability lists are written in."""
    return sorted(set(trigraphs), key=lambda t: (t != "USA", t))


@dataclass(frozen=True)
class ClassificationScheme:
    """Ordered classification levels, lowest first. Coalitions may configure their own."""

    levels: tuple[str, ...] = ("UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET")

    def rank(self, level: str) -> int:
        try:
            return self.levels.index(level)
        except ValueError:
            raise MarkingError(f"unknown classification {level!r}; expected one of "
                               f"{' < '.join(self.levels)}", field="classification") from None

    def normalise(self, token: str) -> str:
        token = token.strip().upper()
        if token in self.levels:
            return token
        abbreviations = {lvl[0]: lvl for lvl in self.levels}
        if len(abbreviations) == len(self.levels) and token in abbreviations:
            return abbreviations[token]
        raise MarkingError(f"unknown classification {token!r}; expected one of "
                           f"{' < '.join(self.levels)}", field="classification")

    @property
    def lowest(self) -> str:
        return self.levels[0]


DEFAULT_SCHEME = ClassificationScheme()


@dataclass(frozen=True, slots=True)
class Marking:
    """The marking every record carries. Immutable; build with :meth:`parse` or the constructor."""

    classification: str = "UNCLASSIFIED"
    rel_to: frozenset[str] = ALL_NATIONS
    data_mode: str = "REAL"
    tlp: str | None = None
    orgs: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not self.rel_to:
            raise MarkingError("releasability is empty: a record must be releasable to at least its "
                               "originator", field="rel_to")
        unknown = set(self.rel_to) - ALL_NATIONS
        if unknown:
            raise MarkingError(f"unknown trigraph(s) {', '.join(sorted(unknown))} in REL TO; expected "
                               f"partner nations {', '.join(NATIONS)}", field="rel_to")
        if self.data_mode not in DATA_MODES:
            raise MarkingError(f"unknown data mode {self.data_mode!r}; expected one of "
                               f"{', '.join(DATA_MODES)}", field="data_mode")
        if self.tlp is not None and self.tlp not in TLP_LEVELS:
            raise MarkingError(f"unknown TLP {self.tlp!r}; expected TLP:{'/'.join(TLP_LEVELS)}",
                               field="tlp")

    # -- text form -------------------------------------------------------------------------------
    @classmethod
    def parse(cls, text: str, *, scheme: ClassificationScheme = DEFAULT_SCHEME,
              strict: bool = False) -> Marking:
        """Parse a banner string. ``strict`` also rejects REL TO lists not in USA-first order."""
        if not text or not text.strip():
            raise MarkingError("empty marking; expected e.g. 'UNCLASSIFIED//REL TO USA, GBR'",
                               field="marking")
        parts = [p.strip() for p in text.strip().split("//")]
        classification = scheme.normalise(parts[0])
        rel_to: frozenset[str] | None = None
        data_mode = "REAL"
        tlp = None
        orgs: frozenset[str] = frozenset()
        for part in parts[1:]:
            up = part.upper()
            if not up:
                raise MarkingError(f"empty segment in marking {text!r}", field="marking")
            if up.startswith("REL TO"):
                if rel_to is not None:
                    raise MarkingError("two releasability segments in one marking", field="rel_to")
                rel_to = _parse_rel_list(up[6:], strict=strict)
            elif m := re.fullmatch(r"([A-Z]{3}) (?:EYES )?ONLY", up):
                if rel_to is not None:
                    raise MarkingError("two releasability segments in one marking", field="rel_to")
                nation_bit(m.group(1))
                rel_to = frozenset({m.group(1)})
            elif up == "NOFORN":
                rel_to = frozenset({"USA"})
            elif up in DATA_MODES:
                data_mode = up
            elif up.startswith("TLP:"):
                tlp = up[4:].strip()
                if tlp not in TLP_LEVELS:
                    raise MarkingError(f"unknown TLP {tlp!r}; expected TLP:{'/'.join(TLP_LEVELS)}",
                                       field="tlp")
            elif up.startswith("ORG "):
                orgs = frozenset(o.strip() for o in part[4:].split(",") if o.strip())
            else:
                raise MarkingError(
                    f"unrecognised segment {part!r} in marking {text!r}; expected 'REL TO ...', "
                    f"'XXX EYES ONLY', a data mode ({', '.join(DATA_MODES)}) or 'TLP:...'",
                    field="marking")
        if rel_to is None:
            if classification != scheme.lowest:
                raise MarkingError(
                    f"{classification} needs a releasability: add '//REL TO ...' or '//XXX EYES ONLY'",
                    field="rel_to")
            rel_to = ALL_NATIONS
        return cls(classification, rel_to, data_mode, tlp, orgs)

    def __str__(self) -> str:
        parts = [self.classification]
        if len(self.rel_to) == 1:
            parts.append(f"{next(iter(self.rel_to))} EYES ONLY")
        else:
            parts.append("REL TO " + ", ".join(sort_trigraphs(self.rel_to)))
        if self.data_mode != "REAL":
            parts.append(self.data_mode)
        if self.tlp:
            parts.append(f"TLP:{self.tlp}")
        if self.orgs:
            parts.append("ORG " + ", ".join(sorted(self.orgs)))
        return "//".join(parts)

    def short(self) -> str:
        """Compact banner for tables and screens: tetragraphs where a list equals one (CSPO, FVEY)."""
        text = str(self)
        for tetra, members in TETRAGRAPHS.items():
            if self.rel_to == members and len(members) > 1:
                return text.replace("REL TO " + ", ".join(sort_trigraphs(members)), f"REL TO {tetra}")
        return text

    # -- questions -------------------------------------------------------------------------------
    @property
    def rel_mask(self) -> int:
        mask = 0
        for n in self.rel_to:
            mask |= _NATION_BIT[n]
        return mask

    @property
    def national_only(self) -> bool:
        return len(self.rel_to) == 1

    def check_originator(self, originator: str) -> None:
        """An originator must always be able to read what it marked (IC ISM in spirit)."""
        nation_bit(originator)
        if originator not in self.rel_to:
            raise MarkingError(f"REL TO list {', '.join(sort_trigraphs(self.rel_to))} does not include "
                               f"the originator {originator}", field="rel_to")

    def widened(self, nations: Iterable[str]) -> Marking:
        """The same marking released to more nations (a release never narrows)."""
        extra = frozenset(nations)
        for n in extra:
            nation_bit(n)
        return Marking(self.classification, self.rel_to | extra, self.data_mode, self.tlp, self.orgs)


def can_read(marking: Marking, *, nation: str | None, clearance: str,
             organisation: str | None = None, scheme: ClassificationScheme = DEFAULT_SCHEME) -> bool:
    """The releasability rule, stated once. The store's SQL filter must agree with it (tested).

    A national user reads a record when its nation is in the releasability and its clearance is at
    least the classification. A partner organisation (``nation=None``) reads only records at the lowest
    level carrying TLP:CLEAR/GREEN, or TLP:AMBER/AMBER+STRICT/RED naming it in ``ORG``.
    """
    if scheme.rank(clearance) < scheme.rank(marking.classification):
        return False
    if nation is not None:
        return nation in marking.rel_to
    if organisation is None or marking.tlp is None or marking.classification != scheme.lowest:
        return False
    if marking.tlp in ("CLEAR", "GREEN"):
        return True
    return organisation in marking.orgs


@dataclass(frozen=True)
class DerivedMarking:
    marking: Marking
    reasons: tuple[str, ...]


def derive(inputs: Sequence[tuple[str, Marking]], *,
           scheme: ClassificationScheme = DEFAULT_SCHEME) -> DerivedMarking:
    """Marking of a product derived from labelled inputs, with the reasons for each restriction.

    ``inputs`` pairs a human label (``"elset 25544 @ 2023-10-09T12:00Z"``) with that input's marking.
    """
    if not inputs:
        raise MarkingError("a derived product needs at least one input marking", field="marking")
    reasons: list[str] = []
    top_label, top = max(inputs, key=lambda lm: scheme.rank(lm[1].classification))
    classification = top.classification
    if scheme.rank(classification) > scheme.rank(inputs[0][1].classification) or len(
            {m.classification for _, m in inputs}) > 1:
        reasons.append(f"classification {classification} from {top_label}")
    rel_to = ALL_NATIONS
    for label, m in inputs:
        narrowed = rel_to & m.rel_to
        if narrowed != rel_to:
            removed = sort_trigraphs(rel_to - narrowed)
            reasons.append(f"{label} is not releasable to {', '.join(removed)}")
        rel_to = narrowed
    if not rel_to:
        raise MarkingError("the inputs share no releasable nation: the product could be read by "
                           "nobody; derive per nation instead", field="rel_to")
    modes = [m.data_mode for _, m in inputs]
    data_mode = max(modes, key=DATA_MODES.index)
    if data_mode != "REAL":
        src = next(label for label, m in inputs if m.data_mode == data_mode)
        reasons.append(f"data mode {data_mode} from {src}")
    tlps = [m.tlp for _, m in inputs]
    # An input without TLP is not for partner organisations at all, so neither is the product.
    tlp = None if any(t is None for t in tlps) else max(tlps, key=TLP_LEVELS.index)
    # TLP:CLEAR/GREEN inputs are for every partner organisation: only the named lists of the restrictive
    # levels narrow who may read the product (RED naming ACME with GREEN is still RED naming ACME).
    named = [m.orgs for _, m in inputs if m.tlp not in (None, "CLEAR", "GREEN")]
    orgs = frozenset.intersection(*named) if tlp is not None and named else frozenset()
    return DerivedMarking(Marking(classification, rel_to, data_mode, tlp, orgs), tuple(reasons))


def combine(markings: Iterable[Marking], *, scheme: ClassificationScheme = DEFAULT_SCHEME) -> Marking:
    """The marking of a product derived from these inputs (see :func:`derive` for the reasons)."""
    return derive([(f"input {i}", m) for i, m in enumerate(markings)], scheme=scheme).marking


def _parse_rel_list(body: str, *, strict: bool) -> frozenset[str]:
    tokens = [t.strip() for t in body.replace(" ", ",").split(",") if t.strip()]
    if not tokens:
        raise MarkingError("REL TO with no nations; expected e.g. 'REL TO USA, GBR'", field="rel_to")
    nations: set[str] = set()
    for t in tokens:
        if t in TETRAGRAPHS:
            nations |= TETRAGRAPHS[t]
        elif t in _NATION_BIT:
            if t in nations:
                raise MarkingError(f"{t} listed twice in REL TO", field="rel_to")
            nations.add(t)
        else:
            raise MarkingError(f"unknown trigraph {t!r} in REL TO; expected partner nations "
                               f"{', '.join(NATIONS)} or {', '.join(TETRAGRAPHS)}", field="rel_to")
    trigraphs = [t for t in tokens if t not in TETRAGRAPHS]
    if strict and trigraphs != sort_trigraphs(trigraphs):
        raise MarkingError(f"REL TO list out of order: write {', '.join(sort_trigraphs(trigraphs))} "
                           "(USA first, then alphabetical)", field="rel_to")
    return frozenset(nations)
