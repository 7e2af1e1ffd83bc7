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

from datetime import UTC, datetime, timedelta

import numpy as np

from orbitwatch.errors import RecordError, ValidationError
from orbitwatch.formats.records import ElementSet
from orbitwatch.formats.tle import _ALPHA5_VALUE, _LINE1_START, _LINE2_START, parse_tle

__all__ = ["read_tle_fast"]

_UNIX0 = datetime(1970, 1, 1, tzinfo=UTC)
_US_PER_DAY = 86_400_000_000

# Exact powers of ten as Python computes them (``10.0 ** k``), so products match the scalar reader bit for bit.
_POW10 = np.array([10.0 ** k for k in range(-12, 13)])
_POW10_OFFSET = 12
_INV_POW10_DIV = np.array([10.0 ** k for k in range(0, 23)])  # divisors 10**k, exact for k <= 22

_CHECKSUM = np.array([(b - 48) if 48 <= b <= 57 else (1 if b == 45 else 0) for b in range(256)],
                     dtype=np.int64)
_ALPHA5 = np.full(256, -1, dtype=np.int64)
for _c, _v in _ALPHA5_VALUE.items():
    _ALPHA5[ord(_c)] = _v

_KIND_SKIP, _KIND_NAME, _KIND_L1, _KIND_L2 = -1, 0, 1, 2


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


# Byte classes for the layout checks: blank 0, sign 1, digit 2, point 3, anything else 9.
_CLASS = np.full(256, 9, dtype=np.int8)
_CLASS[32] = 0
_CLASS[[43, 45]] = 1
_CLASS[48:58] = 2
_CLASS[46] = 3
_DIGIT = np.zeros(256, dtype=np.float64)
_DIGIT[48:58] = np.arange(10)


def _fixed_point(f: np.ndarray, dot: int) -> tuple[np.ndarray, np.ndarray]:
    """Fields ``(n, w)`` laid out ``[blanks][sign][digits].digits`` with the point at column ``dot``.

    Returns ``(value, ok)``. Every canonical TLE number has this layout; ``ok`` is False for any other
    spelling (the caller then uses the scalar reader). The value is ``mantissa / 10**k`` - one IEEE
    division of two exact numbers, therefore the correctly rounded decimal, bit-identical to ``float``.
    """
    w = f.shape[1]
    cls = _CLASS[f]
    head = cls[:, :dot]
    ok = (cls[:, dot] == 3) & (cls[:, dot + 1:] == 2).all(1)
    if dot > 1:
        ok &= (np.diff(head, axis=1) >= 0).all(1)  # blanks, then at most one sign, then digits
    ok &= (head <= 2).all(1) & ((head == 1).sum(1) <= 1)
    k = w - dot - 1
    weights = np.array([10.0 ** (dot - 1 - c + k) for c in range(dot)]
                       + [0.0] + [10.0 ** (w - 1 - c) for c in range(dot + 1, w)])
    mant = (_DIGIT[f] * weights).sum(1)  # exact: integers below 2**53 (no BLAS: no thread pool)
    value = mant / _INV_POW10_DIV[k]
    neg = (f[:, :dot] == 45).any(1)
    return np.where(neg, -value, value), ok


def _right_int(f: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fields read by ``s.strip()`` then ``int(s) if s.isdigit() else None``.

    Returns ``(value, is_int, ok)``: canonical spellings are right-aligned digits after blanks
    (``is_int``) or all blanks (not ``is_int``); ``ok`` is False for anything else.
    """
    w = f.shape[1]
    cls = _CLASS[f]
    blank = (cls == 0).all(1)
    is_int = (cls <= 2).all(1) & (cls != 1).all(1) & (cls[:, -1] == 2)
    if w > 1:
        is_int &= (np.diff(cls, axis=1) >= 0).all(1)
    weights = np.array([10.0 ** (w - 1 - c) for c in range(w)])
    value = (_DIGIT[f] * weights).sum(1).astype(np.int64)
    return value, is_int, is_int | blank


def _implied(f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """TLE exponent notation ``[sign|blank]ddddd(+|-)d`` (`` 28098-4`` = 0.28098e-4) exactly as the
    scalar reader computes it: ``(sign * float("0." + digits)) * 10.0 ** exponent``."""
    cls = _CLASS[f]
    ok = (cls[:, 0] <= 1) & (cls[:, 1:6] == 2).all(1) & (cls[:, 6] == 1) & (cls[:, 7] == 2)
    mant = (_DIGIT[f[:, 1:6]] * np.array([1e4, 1e3, 1e2, 1e1, 1.0])).sum(1)
    expo = np.where(f[:, 6] == 45, -1, 1) * (f[:, 7].astype(np.int64) - 48)
    sign = np.where(f[:, 0] == 45, -1.0, 1.0)
    value = (sign * (mant / 1e5)) * _POW10[np.clip(expo, -9, 9) + _POW10_OFFSET]
    return value, ok


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


def _classify(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, text_lines: list[str]
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kind code of every line, its length without trailing blanks, and whether it is 'plain'
    (printable ASCII only): only plain lines may take the vectorised path."""
    # Bytes outside 32..126: LFs and the CRs of CRLF endings are expected, anything else makes its line
    # non-plain (TAB, other controls, non-ASCII) and the line is then classified by the scalar rules.
    odd = np.flatnonzero(np.subtract(buf, 32, dtype=np.uint8) > 94)
    ob = buf[odd]
    nxt = buf[np.minimum(odd + 1, len(buf) - 1)]
    odd = odd[(ob != 10) & ~((ob == 13) & (nxt == 10))]
    plain = np.ones(len(starts), dtype=bool)
    plain[np.searchsorted(starts, odd, side="right") - 1] = False
    length = ends - starts
    b0 = buf[starts]
    b1 = buf[np.minimum(starts + 1, len(buf) - 1)]
    blast = buf[np.maximum(ends - 1, 0)]
    rlen = length.copy()
    kind = np.full(len(starts), _KIND_NAME, dtype=np.int8)
    kind[(length == 0) | (b0 == 35)] = _KIND_SKIP
    head = buf[np.minimum(starts[:, None] + np.arange(9), len(buf) - 1)]
    head = np.where(np.arange(9) < length[:, None], head, 0)  # bytes past the line end match nothing
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


def read_tle_fast(data: bytes | str, *, file: str | None = None
                  ) -> tuple[list[ElementSet], list[RecordError]]:
    """Read TLE/3LE text into element sets and per-record errors, in file order.

    Same result as ``read_tle(text.split("\\n"), file=file)`` split into its element sets and its
    errors. ``data`` as bytes is decoded as UTF-8 (undecodable bytes replaced; only name lines may hold
    non-ASCII text in a valid file). Units and conventions are those of :class:`ElementSet`.
    """
    if isinstance(data, str):
        text = data
        raw = data.encode("utf-8", "surrogatepass")
    else:
        raw = bytes(data)
        text = raw.decode("utf-8", "replace")
    text_lines = text.split("\n")
    buf, starts, ends = _split_lines(raw)
    if len(starts) != len(text_lines):  # cannot happen: both split on the same LF bytes
        raise ValidationError("internal line split mismatch", file=file)
    kind, rlen, plain = _classify(buf, starts, ends, text_lines)
    name_idx, i1, i2, errors = _group(kind, file, len(text_lines))
    nrec = len(i1)
    out: list[ElementSet | None] = [None] * nrec
    if nrec == 0:
        errors.sort(key=lambda e: e[0])
        return [], [e for _, e in errors]

    s1, s2 = starts[i1], starts[i2]
    # A record is vectorisable when both lines are plain and exactly 69 columns long once the
    # strict reader has cut what follows a blank after column 69.
    elig = plain[i1] & plain[i2]
    for s, ln in ((s1, i1), (s2, i2)):
        r = rlen[ln]
        after = buf[np.minimum(s + 69, len(buf) - 1)]
        elig &= (r >= 69) & ((r == 69) | (after == 32) | (after == 9))
    ev = np.flatnonzero(elig)
    cols = np.arange(69)
    w1 = buf[s1[ev, None] + cols]
    w2 = buf[s2[ev, None] + cols]
    ok = ((w1 >= 32) & (w1 < 127)).all(1) & ((w2 >= 32) & (w2 < 127)).all(1)  # no TAB in the fields
    ok &= (w1[:, 0] == 49) & (w2[:, 0] == 50) & (w1[:, 1] == 32) & (w2[:, 1] == 32)
    for w in (w1, w2):
        given = w[:, 68].astype(np.int64) - 48
        ok &= (given >= 0) & (given <= 9) & (_CHECKSUM[w[:, :68]].sum(1) % 10 == given)
    ok &= (w1[:, [8, 17, 32, 43, 52, 61]] == 32).all(1) & (w2[:, [7, 16, 25, 33, 42, 51]] == 32).all(1)
    cls = w1[:, 7]
    ok &= (cls == 85) | (cls == 67) | (cls == 83) | (cls == 32)

    def catno(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # Five digits (leading blanks allowed, as in old catalogues) or Alpha-5: a letter + 4 digits.
        value, is_int, _ = _right_int(w[:, 2:7])
        head = w[:, 2]
        letter = _ALPHA5[head]
        tail = _CLASS[w[:, 3:7]]
        alpha = (letter >= 0) & (tail == 2).all(1)
        tail_val = (_DIGIT[w[:, 3:7]] * np.array([1e3, 1e2, 1e1, 1.0])).sum(1).astype(np.int64)
        return np.where(alpha, letter * 10000 + tail_val, value), is_int | alpha

    norad1, ok1 = catno(w1)
    norad2, ok2 = catno(w2)
    ok &= ok1 & ok2 & (norad1 == norad2)
    yy = w1[:, 18:20].astype(np.int64) - 48
    ok &= ((yy >= 0) & (yy <= 9)).all(1)
    year2 = yy[:, 0] * 10 + yy[:, 1]
    year = np.where(year2 >= 57, 1900 + year2, 2000 + year2)
    day, okd = _fixed_point(w1[:, 20:32], 3)
    ok &= okd & (day >= 1.0) & (day < 367.0)
    ndot, okn = _fixed_point(w1[:, 33:43], 1)
    nddot, okdd = _implied(w1[:, 44:52])
    bstar, okb = _implied(w1[:, 53:61])
    ok &= okn & okdd & okb
    # International designator: blank, or YYNNN + piece (the string itself is built per record below).
    des = _CLASS[w1[:, 9:17]]
    des_nb = des != 0
    des_first = np.minimum(des_nb.argmax(1), 3)
    five = des[np.arange(len(ev))[:, None], des_first[:, None] + np.arange(5)]
    ok &= ~des_nb.any(1) | (five == 2).all(1)
    eph_b = w1[:, 62].astype(np.int64)
    eph = np.where((eph_b >= 48) & (eph_b <= 57), eph_b - 48, 0)
    esn, esn_int, okesn = _right_int(w1[:, 64:68])
    inc, oki = _fixed_point(w2[:, 8:16], 3)
    raan, okr = _fixed_point(w2[:, 17:25], 3)
    ecc_f = w2[:, 26:33]
    ecc = (_DIGIT[ecc_f] * np.array([10.0 ** (6 - c) for c in range(7)])).sum(1) / 1e7
    argp, oka = _fixed_point(w2[:, 34:42], 3)
    ma, okm = _fixed_point(w2[:, 43:51], 3)
    mm, okmm = _fixed_point(w2[:, 52:63], 2)
    rev, rev_int, okrev = _right_int(w2[:, 63:68])
    ok &= okesn & okrev & oki & okr & (_CLASS[ecc_f] == 2).all(1) & oka & okm & okmm
    ok &= (inc >= 0.0) & (inc <= 180.0) & (raan >= 0.0) & (raan <= 360.0) & (argp >= 0.0) \
        & (argp <= 360.0) & (ma >= 0.0) & (ma <= 360.0) & (mm > 0.0)

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
    # Text built by array operations: "line1\nline2" of every record, and canonical designators
    # (``YYNNNPPP`` with the piece left-aligned) as "YYYY-NNNPPP"; other designators are built below by
    # the scalar rule.
    pair = np.empty((m, 139), dtype=np.uint8)
    pair[:, :69] = w1[sel]
    pair[:, 69] = 10
    pair[:, 70:] = w2[sel]
    pair_text = pair.view("S139").ravel().astype("U139").tolist()
    des_s = des[sel]
    piece = des_s[:, 5:8] != 0
    canon = (des_s[:, :5] == 2).all(1) & (np.diff(piece.astype(np.int8), axis=1) <= 0).all(1)
    oid = np.zeros((m, 11), dtype=np.uint8)
    d1 = w1[sel]
    launch_yy = (d1[:, 9].astype(np.int64) - 48) * 10 + (d1[:, 10].astype(np.int64) - 48)
    cent = np.where(launch_yy >= 57, 19, 20)  # the designator's own 1957 pivot
    oid[:, 0] = 48 + cent // 10
    oid[:, 1] = 48 + cent % 10
    oid[:, 2:4] = d1[:, 9:11]
    oid[:, 4] = 45
    oid[:, 5:8] = d1[:, 11:14]
    oid[:, 8:11] = np.where(piece, d1[:, 14:17], 0)
    oid_text = oid.view("S11").ravel().astype("U11").tolist()
    blank_des = ~des_nb.any(1)[sel]
    for r in np.flatnonzero(~canon).tolist():
        if blank_des[r]:
            oid_text[r] = None
        else:
            d = pair_text[r][9:17].strip()
            yy2 = int(d[:2])
            oid_text[r] = f"{1900 + yy2 if yy2 >= 57 else 2000 + yy2}-{d[2:5]}{d[5:]}"
    lines_out = (i1[good] + 1).tolist()
    names: list[str | None] = [None if j < 0 else _name_of(text_lines[j].rstrip("\r\n"))
                               for j in name_idx[good].tolist()]
    cls_b = cls[sel]
    cls_text = np.where(cls_b == 32, 85, cls_b).astype(np.uint8).view("S1").astype("U1").tolist()
    esn_v = np.where(esn_int[sel], esn[sel], None).tolist()
    rev_v = np.where(rev_int[sel], rev[sel], None).tolist()
    td = timedelta
    unix0 = _UNIX0
    epochs = [unix0 + td(microseconds=x) for x in epoch_us[sel].tolist()]
    originals = [t if n is None else f"0 {n}\n{t}" for n, t in zip(names, pair_text, strict=True)]
    m_ = len(sel)
    built = list(map(ElementSet, norad1[sel].tolist(), epochs, mm[sel].tolist(), ecc[sel].tolist(),
                     inc[sel].tolist(), raan[sel].tolist(), argp[sel].tolist(), ma[sel].tolist(),
                     bstar[sel].tolist(), ndot[sel].tolist(), nddot[sel].tolist(), names, oid_text,
                     cls_text, eph[sel].tolist(), esn_v, rev_v, ["tle"] * m_, originals, [file] * m_,
                     lines_out))
    if m_ == nrec:
        out = built
    else:
        for r, es in zip(good.tolist(), built, strict=True):
            out[r] = es

    # Everything else: the strict scalar reader, which yields the element set or the exact error.
    done = np.zeros(nrec, dtype=bool)
    done[good] = True
    for r in np.flatnonzero(~done).tolist():
        j1, j2, jn = int(i1[r]), int(i2[r]), int(name_idx[r])
        name = _name_of(text_lines[jn].rstrip("\r\n")) if jn >= 0 else None
        try:
            out[r] = parse_tle(text_lines[j1].rstrip("\r\n"), text_lines[j2].rstrip("\r\n"), name,
                               file=file, line=j1 + 1)
        except ValidationError as exc:
            errors.append((j2, RecordError.from_exc(exc)))
    errors.sort(key=lambda e: e[0])
    return [e for e in out if e is not None], [e for _, e in errors]
