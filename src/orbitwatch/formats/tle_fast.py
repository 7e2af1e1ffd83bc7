"""Vectorised TLE/3LE reader: the same element sets and errors as :func:`~orbitwatch.formats.tle.read_tle`,
about ten times faster, for whole-catalogue ingest.

How it works
------------
1. The text is split into lines once, as bytes, with numpy (``np.frombuffer`` + newline positions).
2. Each line is classified (blank/comment, line 1, line 2, name) by vectorised tests on its first bytes and
   its length without trailing blanks — exactly the tests :func:`read_tle` applies. Lines holding anything
   but printable ASCII and TAB are classified by the same Python code :func:`read_tle` uses.
3. Records are grouped from the sequence of line kinds. Well-formed files (every line 1 followed by its
   line 2) are grouped by array operations; any irregular file goes through a small state machine over the
   kind codes that reproduces :func:`read_tle`'s pairing, naming and error reporting.
4. The 69 columns of both lines of every record are gathered into ``(n, 69)`` byte arrays. Line numbers,
   checksums, blank columns, classification and every numeric field are checked and converted by array
   operations. Numbers are converted from their digits (``mantissa / 10**k``: one IEEE division of two
   exact values is correctly rounded, hence bit-identical to ``float(text)``), and epochs with CPython's
   own ``timedelta(days=...)`` rounding (round half to even on the microsecond).
5. A record that fails *any* vectorised test — a bad checksum, an odd but legal spelling such as a
   catalogue number with leading blanks, a value out of range — is handed to
   :func:`~orbitwatch.formats.tle.parse_tle`, so its error message (or its element set) is the strict
   reader's own.

The equality with :func:`read_tle` is tested on every real catalogue in the shared data and the SGP4
verification file, and by hypothesis on generated text.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from orbitwatch.errors import RecordError, ValidationError
from orbitwatch.formats.records import ElementSet
from orbitwatch.formats.tle import _ALPHA5_VALUE, _LINE1_START, _LINE2_START, parse_tle

__all__ = ["COLUMNS", "ElsetTable", "TleReader", "read_tle_columns", "read_tle_fast", "read_tle_table", "regimes"]

_UNIX0 = datetime(1970, 1, 1, tzinfo=UTC)
_US_PER_DAY = 86_400_000_000

# Exact powers of ten as Python computes them (``10.0 ** k``), so products match the scalar reader bit for bit.
_POW10 = np.array([10.0 ** k for k in range(-12, 13)])
_POW10_OFFSET = 12
_INV_POW10_DIV = np.array([10.0 ** k for k in range(0, 23)])  # divisors 10**k, exact for k <= 22

_ALPHA5 = np.full(256, -1, dtype=np.int64)
for _c, _v in _ALPHA5_VALUE.items():
    _ALPHA5[ord(_c)] = _v

_KIND_SKIP, _KIND_NAME, _KIND_L1, _KIND_L2 = -1, 0, 1, 2
_CHUNK = 8192  # records per vectorised pass: bounds the temporaries (~12 MB)


def _kind_of_text(text: str) -> int:
    """:func:`read_tle`'s classification of one line (trailing CR/LF already removed)."""
    if not text.strip() or text.startswith("#"):
        return _KIND_SKIP
    if _LINE1_START.match(text):
        return _KIND_L1
    if _LINE2_START.match(text):
        return _KIND_L2
    return _KIND_NAME


# The byte classes of tle._LINE1_START / _LINE2_START: "1 " + catalogue field (blank, digit or Alpha-5
# letter, then four blanks or digits) + classification (line 1) + blank.
_CAT_HEAD = np.zeros(256, dtype=bool)
_CAT_HEAD[[32, *range(48, 58)]] = True
for _c in _ALPHA5_VALUE:
    _CAT_HEAD[ord(_c)] = True
_CAT_TAIL = np.zeros(256, dtype=bool)
_CAT_TAIL[[32, *range(48, 58)]] = True
_CLS_OK = np.zeros(256, dtype=bool)
_CLS_OK[[ord("U"), ord("C"), ord("S"), 32]] = True


def _name_of(text: str) -> str:
    return text[2:].strip() if text.startswith("0 ") else text.strip()


# ------------------------------------------------------------------------------ layout of a record
# Both lines of a record side by side: line 1 in columns 0-68, line 2 in columns 69-137 (0-based).
# Byte classes as bits, and for each column the classes a canonical TLE allows there. Anything else
# (a legal but unusual spelling, or an error) goes to the scalar reader.
_BLANK, _SIGN, _DIG, _DOT, _LETTER, _OTHER = 1, 2, 4, 8, 16, 32
_ANY = 63
_BITS = np.full(256, 0, dtype=np.uint8)  # 0: outside printable ASCII (never allowed)
_BITS[33:127] = _OTHER
_BITS[32] = _BLANK
_BITS[[43, 45]] = _SIGN
_BITS[48:58] = _DIG
_BITS[46] = _DOT
_BITS[65:91] = _LETTER
_ORDER = np.full(256, 9, dtype=np.int8)  # blanks, then a sign, then digits: the head of a number
_ORDER[32], _ORDER[43], _ORDER[45] = 0, 1, 1
_ORDER[48:58] = 2
_HEAD = _BLANK | _SIGN | _DIG


def _layout() -> tuple[np.ndarray, list[tuple[int, int]], dict[str, tuple[slice, np.ndarray]]]:
    allowed = np.full(138, _ANY, dtype=np.uint8)

    def put(cols, bits):
        allowed[list(cols)] = bits

    # line 1
    put([0, 18, 19, 68], _DIG)
    put([1, 8, 17, 32, 43, 52, 61], _BLANK)
    put([2], _BLANK | _DIG | _LETTER)
    put(range(3, 7), _BLANK | _DIG)
    put([7], _BLANK | _LETTER)
    put(range(9, 14), _BLANK | _DIG)
    put(range(20, 23), _HEAD)
    put([23, 34], _DOT)
    put(range(24, 32), _DIG)
    put([33], _HEAD)
    put(range(35, 43), _DIG)
    put([44, 53], _BLANK | _SIGN)
    put([*range(45, 50), 51, *range(54, 59), 60], _DIG)
    put([50, 59], _SIGN)
    put(range(64, 68), _BLANK | _DIG)
    # line 2 (offset 69)
    o = 69
    put([o + 0, o + 68], _DIG)
    put([o + c for c in (1, 7, 16, 25, 33, 42, 51)], _BLANK)
    put([o + 2], _BLANK | _DIG | _LETTER)
    put(range(o + 3, o + 7), _BLANK | _DIG)
    for head, dot in ((8, 11), (17, 20), (34, 37), (43, 46), (52, 54)):
        put(range(o + head, o + dot), _HEAD)
        put([o + dot], _DOT)
    put([*range(o + 12, o + 16), *range(o + 21, o + 25), *range(o + 26, o + 33), *range(o + 38, o + 42),
         *range(o + 47, o + 51), *range(o + 55, o + 63)], _DIG)
    put(range(o + 63, o + 68), _BLANK | _DIG)
    # Number heads read left to right must be blanks, at most one sign, digits.
    heads = [(20, 23), (64, 68), (o + 8, o + 11), (o + 17, o + 20), (o + 34, o + 37), (o + 43, o + 46),
             (o + 52, o + 54), (o + 63, o + 68), (3, 7), (o + 3, o + 7)]  # the last two: catalogue tails
    pairs = [(c, c + 1) for a, b in heads for c in range(a, b - 1)]
    # Mantissas: digit columns and their powers of ten, one column of the weight matrix per field.
    fields = {  # name: (first column, last column + 1); points are skipped (their digit value is 0)
        "cat1": (2, 7), "cat2": (o + 2, o + 7), "yy": (18, 20), "day": (20, 32), "ndot": (33, 43),
        "nddot": (45, 50), "nddot_e": (51, 52), "bstar": (54, 59), "bstar_e": (60, 61), "eph": (62, 63),
        "esn": (64, 68), "inc": (o + 8, o + 16), "raan": (o + 17, o + 25), "ecc": (o + 26, o + 33),
        "argp": (o + 34, o + 42), "ma": (o + 43, o + 51), "mm": (o + 52, o + 63), "rev": (o + 63, o + 68),
    }
    points = {23, 34, o + 11, o + 20, o + 37, o + 46, o + 54}
    # Each field: its column slice and the power of ten of every column (0 for the decimal point,
    # whose digit value is 0 anyway), so a mantissa is one multiply-and-sum over a contiguous slice.
    spans: dict[str, tuple[slice, np.ndarray]] = {}
    for name, (a, b) in fields.items():
        digits = [c for c in range(a, b) if c not in points]
        w = np.array([0.0 if c in points else 10.0 ** (len(digits) - 1 - digits.index(c))
                      for c in range(a, b)])
        spans[name] = (slice(a, b), w)
    return allowed, pairs, spans


_ALLOWED, _PAIRS, _SPANS = _layout()
_PAIR_L = np.array([a for a, _ in _PAIRS])
_PAIR_R = np.array([b for _, b in _PAIRS])
# The digit columns of every field, most significant first (decimal points left out): a mantissa is
# Horner's rule over them in int64, exact (at most 11 digits).
_DIGIT_COLS = {name: [c for c, wt in zip(range(span.start, span.stop), weights, strict=True) if wt > 0]
               for name, (span, weights) in _SPANS.items()}


def _split_lines(data: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Byte buffer (with a sentinel newline) and ``starts``/``ends`` of each ``text.split("\\n")`` line,
    ``ends`` excluding trailing CRs (``rstrip("\\r\\n")``)."""
    buf = np.frombuffer(data + b"\n", dtype=np.uint8)
    nl = np.flatnonzero(buf == 10)
    starts = np.empty(len(nl), dtype=np.int64)
    starts[0] = 0
    starts[1:] = nl[:-1] + 1
    ends = nl.astype(np.int64)
    while True:
        cr = (ends > starts) & (buf[np.maximum(ends - 1, 0)] == 13)
        if not cr.any():
            break
        ends[cr] -= 1
    return buf, starts, ends


_PRINTABLE_LF = bytes(range(32, 127)) + b"\n"


def _line_end_crs(raw: bytes, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """How many CRs ``rstrip("\\r\\n")`` cut from the end of each line."""
    nl = np.empty(len(starts), dtype=np.int64)
    nl[:-1] = starts[1:] - 1
    nl[-1] = len(raw)  # the sentinel newline
    return nl - ends


def _classify(raw: bytes, buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, text_lines: Sequence[str]
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kind code of every line, its length without trailing blanks, and whether it is 'plain'
    (printable ASCII only): only plain lines may take the vectorised path."""
    # Bytes outside 32..126: LFs and the CRs of CRLF endings are expected, anything else makes its line
    # non-plain (TAB, other controls, non-ASCII) and the line is then classified by the scalar rules.
    plain = np.ones(len(starts), dtype=bool)
    # The usual file has none: one pass of C over the bytes keeps only what is neither printable nor LF;
    # if that is exactly the line-ending CRs, every line is plain.
    dropped = _line_end_crs(raw, starts, ends)
    line_end_crs = int(dropped.sum())
    if (len(raw.translate(None, _PRINTABLE_LF)) != line_end_crs or raw.count(b"\r") != line_end_crs
            or (line_end_crs and dropped.max() > 1)):
        odd = np.flatnonzero(np.subtract(buf, 32, dtype=np.uint8) > 94)
        ob = buf[odd]
        nxt = buf[np.minimum(odd + 1, len(buf) - 1)]
        odd = odd[(ob != 10) & ~((ob == 13) & (nxt == 10))]
        plain[np.searchsorted(starts, odd, side="right") - 1] = False
    length = ends - starts
    b0 = buf[starts]
    b1 = buf[np.minimum(starts + 1, len(buf) - 1)]
    blast = buf[np.maximum(ends - 1, 0)]
    rlen = length.copy()
    kind = np.full(len(starts), _KIND_NAME, dtype=np.int8)
    kind[(length == 0) | (b0 == 35)] = _KIND_SKIP
    padded = np.concatenate((buf, np.zeros(9, dtype=np.uint8)))
    head = np.lib.stride_tricks.sliding_window_view(padded, 9)[starts]  # first 9 bytes of every line
    head[np.arange(9) >= length[:, None]] = 0  # bytes past the line end match nothing
    catno = (b1 == 32) & _CAT_HEAD[head[:, 2]] & _CAT_TAIL[head[:, 3:7]].all(1)
    kind[catno & (b0 == 49) & _CLS_OK[head[:, 7]] & (head[:, 8] == 32)] = _KIND_L1
    kind[catno & (b0 == 50) & (head[:, 7] == 32)] = _KIND_L2
    # Lines ending in a blank (padded names, padded element lines) and non-plain lines: scalar rules.
    for j in np.flatnonzero(~plain | ((length > 0) & (blast == 32))).tolist():
        text = text_lines[j].rstrip("\r\n")
        kind[j] = _kind_of_text(text)
        rlen[j] = len(text.rstrip())
    return kind, rlen, plain


def _group(kind: np.ndarray, file: str | None, nlines: int
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[int, RecordError]]]:
    """Pair line 1 with line 2 as :func:`read_tle` does: ``(name_idx, l1_idx, l2_idx, errors)``.

    ``name_idx`` is -1 where a record has no name line; errors carry the line index at which
    :func:`read_tle` would emit them, so merged output keeps its order.
    """
    idx = np.flatnonzero(kind != _KIND_SKIP)
    k = kind[idx]
    p1 = np.flatnonzero(k == _KIND_L1)
    p2 = np.flatnonzero(k == _KIND_L2)
    regular = (len(p1) == len(p2)) and bool(np.all(p2 == p1 + 1))
    if regular:
        prev = p1 - 1
        has_name = (prev >= 0) & (k[np.maximum(prev, 0)] == _KIND_NAME)
        name_idx = np.where(has_name, idx[np.maximum(prev, 0)], -1)
        return name_idx, idx[p1], idx[p2], []
    names: list[int] = []
    l1s: list[int] = []
    l2s: list[int] = []
    errors: list[tuple[int, RecordError]] = []
    name = -1
    pending = -1
    not_followed = "line 1 is not followed by a line 2"
    for j, kd in zip(idx.tolist(), k.tolist(), strict=True):
        if kd == _KIND_L1:
            if pending >= 0:
                errors.append((j, RecordError(file, pending + 1, "line_number", not_followed)))
            pending = j
        elif kd == _KIND_L2:
            if pending < 0:
                errors.append((j, RecordError(file, j + 1, "line_number",
                                              "line 2 without a preceding line 1")))
            else:
                names.append(name)
                l1s.append(pending)
                l2s.append(j)
                pending = -1
            name = -1
        else:
            if pending >= 0:
                errors.append((j, RecordError(file, pending + 1, "line_number", not_followed)))
                pending = -1
            name = j
    if pending >= 0:
        errors.append((nlines, RecordError(file, pending + 1, "line_number", not_followed)))
    as_arr = lambda v: np.asarray(v, dtype=np.int64)  # noqa: E731
    return as_arr(names), as_arr(l1s), as_arr(l2s), errors


@dataclass(eq=False)
class ElsetTable:
    """Element sets as columns, for bulk loaders: no Python object per record.

    Row ``k`` is the element set ``to_elsets()[k]`` with the same values bit for bit (``epoch_us`` is the
    epoch in integer microseconds since 1970-01-01T00:00Z, exact). Numeric fields are numpy arrays;
    text and optional integers are lists.
    """

    norad_id: np.ndarray  # int64
    epoch_us: np.ndarray  # int64
    mean_motion: np.ndarray
    eccentricity: np.ndarray
    inclination: np.ndarray
    raan: np.ndarray
    arg_perigee: np.ndarray
    mean_anomaly: np.ndarray
    bstar: np.ndarray
    mean_motion_dot: np.ndarray
    mean_motion_ddot: np.ndarray
    ephemeris_type: np.ndarray  # int64
    element_set_no: list
    rev_at_epoch: list
    classification_type: list
    object_name: list
    object_id: list
    original: list
    source_format: list
    file: list
    line: list

    ARRAYS = ("norad_id", "epoch_us", "mean_motion", "eccentricity", "inclination", "raan", "arg_perigee",
              "mean_anomaly", "bstar", "mean_motion_dot", "mean_motion_ddot", "ephemeris_type")
    LISTS = ("element_set_no", "rev_at_epoch", "classification_type", "object_name", "object_id", "original",
             "source_format", "file", "line")

    def __len__(self) -> int:
        return len(self.norad_id)

    @property
    def epoch_unix(self) -> np.ndarray:
        """Float seconds since 1970 UTC, equal to :attr:`ElementSet.epoch_unix` bit for bit."""
        return self.epoch_us / 1e6

    @classmethod
    def empty(cls) -> ElsetTable:
        return cls(**{n: np.empty(0, dtype=_dtype(n)) for n in cls.ARRAYS}, **{n: [] for n in cls.LISTS})

    @classmethod
    def from_elsets(cls, elsets: Sequence[ElementSet]) -> ElsetTable:
        """The table of element sets from any reader (OMM, scalar TLE ...)."""
        one_us = timedelta(microseconds=1)
        cols: dict = {n: np.array([getattr(e, n) for e in elsets], dtype=_dtype(n))
                      for n in cls.ARRAYS if n != "epoch_us"}
        cols["epoch_us"] = np.array([(e.epoch - _UNIX0) // one_us for e in elsets], dtype=np.int64)
        for n in cls.LISTS:
            cols[n] = [getattr(e, n) for e in elsets]
        return cls(**cols)

    @classmethod
    def concat(cls, parts: Sequence[ElsetTable]) -> ElsetTable:
        if not parts:
            return cls.empty()
        if len(parts) == 1:
            return parts[0]
        return cls(**{n: np.concatenate([getattr(p, n) for p in parts]) for n in cls.ARRAYS},
                   **{n: _joined([getattr(p, n) for p in parts]) for n in cls.LISTS})

    def take(self, order: np.ndarray) -> ElsetTable:
        """Rows in the order of the integer index array ``order``."""
        idx = order.tolist()
        return ElsetTable(**{n: getattr(self, n)[order] for n in self.ARRAYS},
                          **{n: [getattr(self, n)[i] for i in idx] for n in self.LISTS})

    def to_elsets(self) -> list[ElementSet]:
        td = timedelta
        unix0 = _UNIX0
        epochs = [unix0 + td(microseconds=x) for x in self.epoch_us.tolist()]
        a = {n: getattr(self, n).tolist() for n in self.ARRAYS}
        return list(map(ElementSet, a["norad_id"], epochs, a["mean_motion"], a["eccentricity"],
                        a["inclination"], a["raan"], a["arg_perigee"], a["mean_anomaly"], a["bstar"],
                        a["mean_motion_dot"], a["mean_motion_ddot"], self.object_name, self.object_id,
                        self.classification_type, a["ephemeris_type"], self.element_set_no, self.rev_at_epoch,
                        self.source_format, self.original, self.file, self.line))

    def columns(self) -> dict[str, np.ndarray]:
        """The :data:`COLUMNS` arrays of :func:`read_tle_columns`."""
        out = {n: getattr(self, n) for n in COLUMNS if n not in ("epoch_unix", "line")}
        out["epoch_unix"] = self.epoch_unix
        out["line"] = np.array([0 if v is None else v for v in self.line], dtype=np.int64)
        return out


def _joined(lists: Sequence[list]) -> list:
    out: list = []
    for part in lists:
        out.extend(part)
    return out


def _dtype(name: str):
    return np.int64 if name in ("norad_id", "epoch_us", "ephemeris_type") else np.float64


class _Lines(Sequence):
    """``text.split("\\n")``, split only if a line is asked for (a regular file never asks)."""

    def __init__(self, text: str, n: int | None = None) -> None:
        self._text = text
        self._lines: list[str] | None = None
        self._n = text.count("\n") + 1 if n is None else n

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i):
        if self._lines is None:
            self._lines = self._text.split("\n")
        return self._lines[i]


@dataclass
class _Text:
    """The file as bytes, numpy buffer, text and lines, with each line's byte span and class."""

    raw: bytes
    buf: np.ndarray
    text: str
    lines: Sequence[str]
    starts: np.ndarray
    ends: np.ndarray
    plain: np.ndarray
    #: The text without the CRs that end lines (``rstrip("\\r\\n")`` of every line, joined by LF), and the
    #: offset of each line in it; None when the bytes are not ASCII (offsets are then not characters).
    lf_text: str | None
    lf_starts: np.ndarray


def _convert(t: _Text, i1: np.ndarray, i2: np.ndarray, ev: np.ndarray, name_idx: np.ndarray,
             file: str | None) -> tuple[np.ndarray, ElsetTable]:
    """Check and convert the records ``ev`` (indices into ``i1``/``i2``, the line indices of their two
    lines). Returns the records that passed every check and their table."""
    buf = t.buf
    s1, s2 = t.starts[i1[ev]], t.starts[i2[ev]]
    # Gather both 69-column lines of every record: rows of a sliding-window view (one memcpy a row).
    win = np.lib.stride_tricks.sliding_window_view(buf, 69)
    w = np.empty((len(ev), 138), dtype=np.uint8)
    w[:, :69] = win[s1]
    w[:, 69:] = win[s2]
    # One pass for the layout: every column holds a class its position allows ...
    ok = np.all(np.take(_BITS, w) & _ALLOWED, axis=1)
    # ... number heads are blanks, at most one sign, then digits ...
    order = _ORDER[w[:, _PAIR_L]]
    after = _ORDER[w[:, _PAIR_R]]
    ok &= ((order <= after) & ~((order == 1) & (after == 1))).all(1)
    # ... and the exact characters where the layout names them.
    ok &= (w[:, 0] == 49) & (w[:, 69] == 50) & _CLS_OK[w[:, 7]]
    des_blank = (w[:, 9:17] == 32).all(1)
    ok &= des_blank | ((w[:, 9:14] >= 48) & (w[:, 9:14] <= 57)).all(1)
    # Digit values (0 for anything else) by arithmetic: ten times cheaper than a table lookup.
    digit = w - np.uint8(48)
    digit *= digit < 10
    minus = w == 45
    # Checksums: digits plus one per minus sign, modulo 10, against column 69 of each line.
    check = digit + minus
    for c0 in (0, 69):
        total = check[:, c0:c0 + 68].sum(1, dtype=np.int64)
        ok &= total % 10 == w[:, c0 + 68].astype(np.int64) - 48
    digit = digit.T  # mantissas by Horner's rule over columns

    def col(name: str) -> np.ndarray:
        cols = _DIGIT_COLS[name]
        v = digit[cols[0]].astype(np.int64)
        for c in cols[1:]:
            v *= 10
            v += digit[c]
        return v.astype(np.float64)

    def fixed(name: str, head: slice, k: int) -> np.ndarray:
        v = col(name) / _INV_POW10_DIV[k]  # mantissa / 10**k: the correctly rounded decimal
        return np.where(minus[:, head].any(1), -v, v)

    def implied(name: str, lead: int, esign: int) -> np.ndarray:
        expo = np.where(w[:, esign] == 45, -1, 1) * col(name + "_e").astype(np.int64)
        sign = np.where(w[:, lead] == 45, -1.0, 1.0)
        return (sign * (col(name) / 1e5)) * _POW10[expo + _POW10_OFFSET]

    def catno(c0: int, name: str) -> tuple[np.ndarray, np.ndarray]:
        # Five digits after optional blanks ("    5" in old catalogues), or Alpha-5: a letter (no I, O)
        # and four digits. The tail's blanks-then-digits order is part of the global head check.
        head = w[:, c0]
        letter = _ALPHA5[head]
        is_letter = _BITS[head] == _LETTER
        first_tail = w[:, c0 + 1]
        ok = (_BITS[w[:, c0 + 4]] == _DIG) & np.where(
            is_letter, (letter >= 0) & (_BITS[first_tail] == _DIG), _ORDER[head] <= _ORDER[first_tail])
        return col(name).astype(np.int64) + np.where(letter >= 0, letter * 10000, 0), ok

    norad1, ok1 = catno(2, "cat1")
    norad2, ok2 = catno(71, "cat2")
    ok &= ok1 & ok2 & (norad1 == norad2)
    year2 = col("yy").astype(np.int64)
    year = np.where(year2 >= 57, 1900 + year2, 2000 + year2)
    day = fixed("day", slice(20, 23), 8)
    ndot = fixed("ndot", slice(33, 34), 8)
    nddot = implied("nddot", 44, 50)
    bstar = implied("bstar", 53, 59)
    eph = col("eph").astype(np.int64)
    esn = col("esn").astype(np.int64)
    esn_int = w[:, 67] != 32
    inc = fixed("inc", slice(77, 80), 4)
    raan = fixed("raan", slice(86, 89), 4)
    ecc = col("ecc") / 1e7
    argp = fixed("argp", slice(103, 106), 4)
    ma = fixed("ma", slice(112, 115), 4)
    mm = fixed("mm", slice(121, 123), 8)
    rev = col("rev").astype(np.int64)
    rev_int = w[:, 136] != 32
    ok &= (day >= 1.0) & (day < 367.0) & (inc >= 0.0) & (inc <= 180.0) & (raan >= 0.0) & (raan <= 360.0) \
        & (argp >= 0.0) & (argp <= 360.0) & (ma >= 0.0) & (ma <= 360.0) & (mm > 0.0)

    # Epoch: datetime(year, 1, 1) + timedelta(days=day - 1.0) with CPython's rounding (modf, then
    # round-half-even of the microseconds).
    x = day - 1.0
    ip = np.floor(x)
    us = ip.astype(np.int64) * _US_PER_DAY + np.rint((x - ip) * float(_US_PER_DAY)).astype(np.int64)
    year_us = (year - 1970).astype("datetime64[Y]").astype("datetime64[us]").astype(np.int64)
    epoch_us = year_us + us

    good = ev[ok]
    sel = np.flatnonzero(ok)
    m = len(sel)
    d1 = w[sel]
    a1 = s1[sel]
    # Designators: canonical ones (``YYNNNPPP``, piece left-aligned) become "YYYY-NNNPPP" by array
    # operations and one decode; others by the scalar rule below.
    blank_des = des_blank[sel]
    piece = d1[:, 14:17] != 32
    canon = ~blank_des & (np.diff(piece.astype(np.int8), axis=1) <= 0).all(1)
    oid = np.zeros((m, 12), dtype=np.uint8)
    launch_yy = (d1[:, 9].astype(np.int64) - 48) * 10 + (d1[:, 10].astype(np.int64) - 48)
    cent = np.where(launch_yy >= 57, 19, 20)  # the designator's own 1957 pivot
    oid[:, 0] = 48 + cent // 10
    oid[:, 1] = 48 + cent % 10
    oid[:, 2:4] = d1[:, 9:11]
    oid[:, 4] = 45
    oid[:, 5:8] = d1[:, 11:14]
    oid[:, 8:11] = np.where(piece, d1[:, 14:17], 0)
    oid[:, 11] = 10
    oid_text: list = oid.tobytes().replace(b"\x00", b"").decode("ascii").split("\n")[:m]
    raw = t.raw
    for r in np.flatnonzero(~canon).tolist():
        if blank_des[r]:
            oid_text[r] = None
        else:
            a = int(a1[r])
            d = raw[a + 9:a + 17].decode("ascii").strip()
            yy2 = int(d[:2])
            oid_text[r] = f"{1900 + yy2 if yy2 >= 57 else 2000 + yy2}-{d[2:5]}{d[5:]}"
    cls_b = d1[:, 7]
    if (cls_b == 85).all():
        cls_text = ["U"] * m
    else:
        cls_text = list(np.where(cls_b == 32, 85, cls_b).astype(np.uint8).tobytes().decode("ascii"))
    esn_s, rev_s = esn_int[sel], rev_int[sel]
    esn_v = esn[sel].tolist() if esn_s.all() else np.where(esn_s, esn[sel], None).tolist()
    rev_v = rev[sel].tolist() if rev_s.all() else np.where(rev_s, rev[sel], None).tolist()
    table = ElsetTable(
        norad_id=norad1[sel], epoch_us=epoch_us[sel], mean_motion=mm[sel], eccentricity=ecc[sel],
        inclination=inc[sel], raan=raan[sel], arg_perigee=argp[sel], mean_anomaly=ma[sel], bstar=bstar[sel],
        mean_motion_dot=ndot[sel], mean_motion_ddot=nddot[sel], ephemeris_type=eph[sel],
        element_set_no=esn_v, rev_at_epoch=rev_v, classification_type=cls_text, object_name=[],
        object_id=oid_text, original=[], source_format=["tle"] * m, file=[file] * m,
        line=(i1[good] + 1).tolist())
    return good, table


def _names_and_originals(t: _Text, jn: np.ndarray, l1: np.ndarray, l2: np.ndarray) -> tuple[list, list]:
    """Name (:func:`read_tle`'s rule) and original text ("0 NAME\\nline 1\\nline 2", each element line cut
    to its 69 columns) of vectorised records (name line ``jn``, -1 for none; element lines ``l1``, ``l2``).

    In a plain 3LE file both are slices of the LF text, taken by one list comprehension each; records
    spelled otherwise (bare or padded names, longer lines, non-ASCII files) are patched by the scalar rule.
    """
    buf, starts, ends = t.buf, t.starts, t.ends
    m = len(jn)
    has = jn >= 0
    j = np.maximum(jn, 0)
    ns, ne = starts[j], ends[j]
    a1, a2 = starts[l1], starts[l2]
    last = len(buf) - 1
    # "0 NAME": plain, no blank after "0 " and none at the end, so text[2:].strip() is a slice.
    simple = (has & t.plain[j] & (ne - ns >= 3) & (buf[ns] == 48) & (buf[np.minimum(ns + 1, last)] == 32)
              & (buf[np.minimum(ns + 2, last)] != 32) & (buf[np.maximum(ne - 1, 0)] != 32))
    # Element lines exactly 69 columns and the record's lines back to back once line-ending CRs are
    # dropped: the original is one slice of the LF text.
    ls = t.lf_starts
    n0, b1, b2 = ls[j], ls[l1], ls[l2]
    n1 = n0 + (ne - ns)
    one_slice = ((ends[l1] == a1 + 69) & (ends[l2] == a2 + 69) & (b1 + 70 == b2)
                 & np.where(has, simple & (n1 + 1 == b1), True))
    text, lines = t.lf_text, t.lines
    if text is None:  # character offsets are not byte offsets: the scalar rule for every record
        text = ""
        simple[:] = False
        one_slice[:] = False
    names: list = [text[x:y] for x, y in zip((n0 + 2).tolist(), n1.tolist(), strict=True)]
    originals: list = [text[x:y] for x, y in zip(np.where(has, n0, b1).tolist(), (b2 + 69).tolist(), strict=True)]
    for r in np.flatnonzero(~simple).tolist():
        names[r] = _name_of(lines[jn[r]].rstrip("\r\n")) if has[r] else None
    raw = t.raw
    for r in np.flatnonzero(~one_slice).tolist():
        x, y = int(a1[r]), int(a2[r])
        pair = raw[x:x + 69].decode("ascii") + "\n" + raw[y:y + 69].decode("ascii")
        originals[r] = pair if names[r] is None else f"0 {names[r]}\n{pair}"
    assert len(names) == len(originals) == m
    return names, originals


#: Numeric columns :func:`read_tle_columns` returns, aligned with the element sets (same values, bit for bit).
COLUMNS = ("norad_id", "epoch_unix", "mean_motion", "eccentricity", "inclination", "raan", "arg_perigee",
           "mean_anomaly", "bstar", "mean_motion_dot", "mean_motion_ddot", "line")


def read_tle_fast(data: bytes | str, *, file: str | None = None
                  ) -> tuple[list[ElementSet], list[RecordError]]:
    """Read TLE/3LE text into element sets and per-record errors, in file order.

    Same result as ``read_tle(text.split("\\n"), file=file)`` split into its element sets and its
    errors. ``data`` as bytes is decoded as UTF-8 (undecodable bytes replaced; only name lines may hold
    non-ASCII text in a valid file). Units and conventions are those of :class:`ElementSet`.
    """
    table, errors = read_tle_table(data, file=file)
    return table.to_elsets(), errors


def read_tle_columns(data: bytes | str, *, file: str | None = None
                     ) -> tuple[list[ElementSet], list[RecordError], dict[str, np.ndarray]]:
    """:func:`read_tle_fast` plus the numeric fields as arrays aligned with the element sets.

    ``columns[name][k]`` equals ``getattr(elsets[k], name)`` exactly for every name in :data:`COLUMNS`
    (``epoch_unix`` is :attr:`ElementSet.epoch_unix`, float seconds since 1970 UTC; ``norad_id`` and
    ``line`` are int64): bulk loaders can use them without touching the objects.
    """
    table, errors = read_tle_table(data, file=file)
    return table.to_elsets(), errors, table.columns()


def _lf_text(raw: bytes, buf: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[str | None, np.ndarray]:
    """The text with line-ending CRs dropped, and where each line starts in it (see :class:`_Text`)."""
    if not raw.isascii():
        return None, starts
    dropped = _line_end_crs(raw, starts, ends)
    nl = ends + dropped
    if not dropped.any():
        return raw.decode("ascii"), starts
    shift = np.zeros(len(starts), dtype=np.int64)
    np.cumsum(dropped[:-1], out=shift[1:])
    if dropped.max() == 1 and int(dropped.sum()) == raw.count(b"\r"):  # CRLF endings and no other CR
        return raw.replace(b"\r", b"").decode("ascii"), starts - shift
    keep = np.ones(len(raw), dtype=bool)
    runs = np.flatnonzero(dropped)
    for j in runs[dropped[runs] > 1].tolist():  # CRCRLF and worse: rare
        keep[ends[j]:nl[j]] = False
    one = runs[dropped[runs] == 1]
    keep[ends[one]] = False
    return buf[:-1][keep].tobytes().decode("ascii"), starts - shift


def read_tle_table(data: bytes | str, *, file: str | None = None) -> tuple[ElsetTable, list[RecordError]]:
    """:func:`read_tle_fast` as an :class:`ElsetTable` (columns, file order) and the errors.

    The bulk path of ingest: no Python object is made per record, except the strings a database row
    holds anyway (name, designator, original text).
    """
    reader = TleReader(data, file=file)
    table = ElsetTable.concat(list(reader.chunks()))
    rest, order = reader.rest()
    if len(rest):
        table = ElsetTable.concat([table, rest]).take(order)
    return table, reader.errors


class TleReader:
    """A TLE/3LE text read in steps, for loaders that overlap reading with writing.

    Construction splits, classifies and pairs the lines (about a third of the work). :meth:`chunks`
    then yields the records that pass the vectorised checks as tables of at most ``size`` rows, in file
    order; :meth:`rest` reads the others with the strict scalar reader. :attr:`errors` (a list, the same
    object throughout) is complete, in file order, once :meth:`rest` has run. :func:`read_tle_table` is
    ``chunks`` + ``rest`` put back into file order.
    """

    def __init__(self, data: bytes | str, *, file: str | None = None) -> None:
        if isinstance(data, str):
            text = data
            raw = data.encode("utf-8", "surrogatepass")
        else:
            raw = data if isinstance(data, bytes) else bytes(data)
            text = raw.decode("utf-8", "replace")
        self.file = file
        buf, starts, ends = _split_lines(raw)
        text_lines = _Lines(text, len(starts))  # UTF-8 decoding keeps every LF byte an LF
        kind, rlen, plain = _classify(raw, buf, starts, ends, text_lines)
        self._name_idx, self._i1, self._i2, self._errors = _group(kind, file, len(text_lines))
        self.errors: list[RecordError] = []
        self._lines = text_lines
        self._good: list[np.ndarray] = []
        nrec = len(self._i1)
        self.records = nrec
        if nrec == 0:
            self._text = None
            self._ev = np.empty(0, dtype=np.int64)
            return
        self._text = _Text(raw, buf, text, text_lines, starts, ends, plain, *_lf_text(raw, buf, starts, ends))
        i1, i2 = self._i1, self._i2
        s1, s2 = starts[i1], starts[i2]
        # A record is vectorisable when both lines are plain and exactly 69 columns long once the
        # strict reader has cut what follows a blank after column 69.
        elig = plain[i1] & plain[i2]
        for s, ln in ((s1, i1), (s2, i2)):
            r = rlen[ln]
            after = buf[np.minimum(s + 69, len(buf) - 1)]
            elig &= (r >= 69) & ((r == 69) | (after == 32) | (after == 9))
        self._ev = np.flatnonzero(elig)

    def chunks(self, size: int = _CHUNK, first: int | None = None) -> Iterator[ElsetTable]:
        """Tables of the records the vectorised checks accept (chunks of the text: temporaries stay in
        cache). ``first``: a smaller first chunk, so that a writer waiting for it starts sooner."""
        i1, i2, name_idx, ev = self._i1, self._i2, self._name_idx, self._ev
        bounds = [0, *range(first or size, len(ev), size), len(ev)] if len(ev) else []
        for a, b in zip(bounds, bounds[1:], strict=False):
            good, table = _convert(self._text, i1, i2, ev[a:b], name_idx, self.file)
            table.object_name, table.original = _names_and_originals(self._text, name_idx[good], i1[good], i2[good])
            self._good.append(good)
            if len(table):
                yield table

    def rest(self) -> tuple[ElsetTable, np.ndarray]:
        """The remaining records by the strict scalar reader (after :meth:`chunks`), and the permutation
        that puts ``chunks`` + ``rest`` into file order. Completes :attr:`errors`."""
        nrec = self.records
        good = np.concatenate(self._good) if self._good else np.empty(0, dtype=np.int64)
        errors = self._errors
        scalar_idx: list[int] = []
        scalar_sets: list[ElementSet] = []
        if len(good) < nrec:
            done = np.zeros(nrec, dtype=bool)
            done[good] = True
            lines, file = self._lines, self.file
            for r in np.flatnonzero(~done).tolist():
                j1, j2, jn = int(self._i1[r]), int(self._i2[r]), int(self._name_idx[r])
                name = _name_of(lines[jn].rstrip("\r\n")) if jn >= 0 else None
                try:
                    scalar_sets.append(parse_tle(lines[j1].rstrip("\r\n"), lines[j2].rstrip("\r\n"), name,
                                                 file=file, line=j1 + 1))
                    scalar_idx.append(r)
                except ValidationError as exc:
                    errors.append((j2, RecordError.from_exc(exc)))
        errors.sort(key=lambda e: e[0])
        self.errors[:] = [e for _, e in errors]
        order = np.argsort(np.concatenate([good, np.asarray(scalar_idx, dtype=np.int64)]), kind="stable")
        return (ElsetTable.from_elsets(scalar_sets) if scalar_sets else ElsetTable.empty()), order


_REGIME_NAMES = np.array(["LEO", "MEO", "GEO", "HEO"], dtype=object)


def regimes(mean_motion: np.ndarray, ecc: np.ndarray) -> np.ndarray:
    """:func:`~orbitwatch.formats.records.regime_of` over arrays (same branches, in the same order)."""
    n, e = mean_motion, ecc
    code = np.where(e >= 0.25, 3, np.where(n >= 11.25, 0, np.where((n >= 0.9) & (n <= 1.1) & (e < 0.01), 2,
                                                                    np.where(n > 1.1, 1, np.where(e >= 0.01, 3, 2)))))
    return _REGIME_NAMES[code]
