"""Two-line (TLE) and three-line (3LE) element sets: strict reading, exact writing, Alpha-5 numbers.

Column rules follow the Space-Track / CelesTrak TLE format description. Reading is strict: each line
must be 69 columns (anything after column 69 must be separated by a blank and is ignored, as in the
SGP4 verification file), the modulo-10 checksums must match, and the catalogue numbers of the two lines
must agree. Catalogue numbers 100000-339999 are written in Alpha-5 (``A0000`` = 100000, letters I and
O skipped); larger numbers cannot be carried by a TLE at all and :func:`format_tle` says so.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator

from orbitwatch.errors import RecordError, ValidationError
from orbitwatch.formats.records import TLE_MAX_NORAD, ElementSet, epoch_from_year_day

# What a (possibly truncated) TLE line looks like, as opposed to a satellite name line.
_LINE1_START = re.compile(r"^1 [ 0-9A-HJ-NP-Z][ 0-9]{4}[UCS ] ")
_LINE2_START = re.compile(r"^2 [ 0-9A-HJ-NP-Z][ 0-9]{4} ")
_ALPHA5_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I, no O: they read as 1 and 0
_ALPHA5_VALUE = {c: 10 + i for i, c in enumerate(_ALPHA5_LETTERS)}

# Checksum by byte translation: digits count their value, '-' counts 1, everything else 0.
_CHECKSUM_TABLE = bytes(
    (b - 48) if 48 <= b <= 57 else (1 if b == 45 else 0) for b in range(256)
)


def _digits(text: str) -> bool:
    """True for a non-empty run of ASCII digits (``str.isdigit`` also accepts '²' and other Unicode
    digits that ``int``/``float`` then refuse)."""
    return text.isascii() and text.isdigit()


def checksum(line: str) -> int:
    """Modulo-10 checksum of the first 68 columns of a TLE line."""
    return sum(line[:68].encode("ascii", "replace").translate(_CHECKSUM_TABLE)) % 10


def alpha5_decode(field: str) -> int:
    """Catalogue number from the 5-column TLE field (``25544``, ``A0000`` = 100000, ``Z9999``)."""
    f = field.strip()
    if not f:
        raise ValueError("empty catalogue number")
    head = f[0]
    if _digits(head):
        if not _digits(f):
            raise ValueError(f"catalogue number {field!r} is not a number")
        return int(f)
    if head not in _ALPHA5_VALUE or len(f) != 5 or not _digits(f[1:]):
        raise ValueError(f"catalogue number {field!r} is neither 5 digits nor Alpha-5 "
                         "(a letter A-Z without I/O, then 4 digits)")
    return _ALPHA5_VALUE[head] * 10000 + int(f[1:])


def alpha5_encode(norad_id: int) -> str:
    """The 5-column TLE catalogue field for a number up to 339999."""
    if norad_id < 0 or norad_id > TLE_MAX_NORAD:
        raise ValidationError(f"catalogue number {norad_id} cannot be written in a TLE (maximum "
                              f"{TLE_MAX_NORAD}, Alpha-5 Z9999); write OMM instead", field="norad_id")
    if norad_id < 100000:
        return f"{norad_id:05d}"
    return _ALPHA5_LETTERS[norad_id // 10000 - 10] + f"{norad_id % 10000:04d}"


def _implied_decimal(field: str) -> float:
    """TLE 'assumed decimal point' exponent notation: `` 28098-4`` = 0.28098e-4."""
    f = field.strip()
    if not f:
        return 0.0
    sign = -1.0 if f[0] == "-" else 1.0
    if f[0] in "+-":
        f = f[1:]
    if len(f) < 2 or f[-2] not in "+-":
        # Some producers omit the exponent; read the mantissa alone.
        if not _digits(f):
            raise ValueError(f"{field!r} is not in TLE exponent notation")
        return sign * float("0." + f)
    mantissa, exponent = f[:-2], f[-2:]
    if (mantissa.strip() and not _digits(mantissa.strip())) or not _digits(exponent[1]):
        raise ValueError(f"{field!r} is not in TLE exponent notation")
    return sign * float("0." + mantissa.strip()) * 10.0 ** int(exponent)


def _format_implied(value: float) -> str:
    """Inverse of :func:`_implied_decimal`: 8 columns like `` 28098-4`` or ``-11606-4``."""
    if value == 0.0:
        return " 00000+0"
    sign = "-" if value < 0 else " "
    exponent = math.floor(math.log10(abs(value))) + 1
    mantissa = round(abs(value) / 10.0 ** exponent * 1e5)
    if mantissa >= 100000:  # rounding carried into a new digit
        mantissa //= 10
        exponent += 1
    esign = "-" if exponent < 0 else "+"
    if abs(exponent) > 9:
        raise ValidationError(f"value {value!r} is out of the TLE exponent range", field="bstar")
    return f"{sign}{mantissa:05d}{esign}{abs(exponent)}"


def _international_designator(field: str) -> str | None:
    """``98067A  `` -> ``1998-067A`` (COSPAR form used by OMM and SATCAT)."""
    f = field.strip()
    if not f:
        return None
    if len(f) < 5 or not _digits(f[:5]):
        raise ValueError(f"international designator {field!r} must start with YYNNN")
    yy = int(f[:2])
    year = 1900 + yy if yy >= 57 else 2000 + yy
    return f"{year}-{f[2:5]}{f[5:]}"


def _designator_field(object_id: str | None) -> str:
    if not object_id:
        return " " * 8
    s = object_id.strip()
    if len(s) >= 9 and s[4] == "-":
        s = s[2:4] + s[5:]
    return f"{s:<8.8}"


def _clean(line: str, number: str, *, file: str | None, lineno: int | None) -> str:
    line = line.rstrip("\r\n")
    stripped = line.rstrip()
    if len(stripped) > 69:
        if line[69] not in " \t":
            raise ValidationError(f"line {number} is {len(stripped)} columns long; a TLE line has 69",
                                  file=file, line=lineno, field="length")
        line = line[:69]
    line = line.ljust(69) if len(stripped) >= 68 else line
    if len(line.rstrip()) < 68:
        raise ValidationError(f"line {number} is {len(line.rstrip())} columns long; a TLE line has 69",
                              file=file, line=lineno, field="length")
    return line


def parse_tle(line1: str, line2: str, name: str | None = None, *, file: str | None = None,
              line: int | None = None) -> ElementSet:
    """Parse one element set from its two lines (and optional name line).

    ``line`` is the 1-based file line number of ``line1``; errors name it (or ``line + 1``).
    Raises :class:`~orbitwatch.errors.ValidationError` naming the field and what was expected.
    """
    l2no = line + 1 if line is not None else None
    l1 = _clean(line1, "1", file=file, lineno=line)
    l2 = _clean(line2, "2", file=file, lineno=l2no)

    def bad(reason: str, field: str, which: int = 1) -> ValidationError:
        return ValidationError(reason, file=file, line=line if which == 1 else l2no, field=field)

    if l1[0] != "1" or l1[1] != " ":
        raise bad(f"line 1 must start with '1 ', found {l1[:2]!r}", "line_number")
    if l2[0] != "2" or l2[1] != " ":
        raise bad(f"line 2 must start with '2 ', found {l2[:2]!r}", "line_number", 2)
    for ln, which in ((l1, 1), (l2, 2)):
        given = ln[68]
        if not _digits(given):
            raise bad(f"line {which} checksum column 69 is {given!r}, expected a digit", "checksum", which)
        expected = checksum(ln)
        if int(given) != expected:
            raise bad(f"line {which} checksum is {given}, computed {expected}", "checksum", which)
    try:
        norad = alpha5_decode(l1[2:7])
    except ValueError as exc:
        raise bad(str(exc), "norad_id") from None
    try:
        norad2 = alpha5_decode(l2[2:7])
    except ValueError as exc:
        raise bad(str(exc), "norad_id", 2) from None
    if norad != norad2:
        raise bad(f"catalogue numbers differ between lines: {l1[2:7]!r} vs {l2[2:7]!r}", "norad_id", 2)
    classification = l1[7] if l1[7] != " " else "U"
    if classification not in "UCS":
        raise bad(f"classification column 8 is {l1[7]!r}, expected U, C or S", "classification")
    for col in (8, 17, 32, 43, 52, 61):
        if l1[col] != " ":
            raise bad(f"line 1 column {col + 1} must be blank, found {l1[col]!r}", "columns")
    for col in (7, 16, 25, 33, 42, 51):
        if l2[col] != " ":
            raise bad(f"line 2 column {col + 1} must be blank, found {l2[col]!r}", "columns", 2)

    def num(text: str, field: str, which: int = 1) -> float:
        # float() alone would also take 'nan', 'inf', '1_0' and non-ASCII digits: none is a TLE number.
        try:
            if not text.isascii() or "_" in text:
                raise ValueError(text)
            value = float(text)
        except ValueError:
            raise bad(f"{text.strip()!r} is not a number", field, which) from None
        if not math.isfinite(value):
            raise bad(f"{text.strip()!r} is not a finite number", field, which)
        return value

    try:
        object_id = _international_designator(l1[9:17])
    except ValueError as exc:
        raise bad(str(exc), "object_id") from None
    yy = l1[18:20]
    if not _digits(yy.strip()):
        raise bad(f"epoch year {yy!r} is not two digits", "epoch")
    year = int(yy)
    year += 1900 if year >= 57 else 2000
    day = num(l1[20:32], "epoch")
    if not 1.0 <= day < 367.0:
        raise bad(f"epoch day of year {day} is outside 1..366", "epoch")
    ndot = num(l1[33:43], "mean_motion_dot")
    try:
        nddot = _implied_decimal(l1[44:52])
        bstar = _implied_decimal(l1[53:61])
    except ValueError:
        raise bad(f"{l1[44:52].strip()!r} / {l1[53:61].strip()!r} not in TLE exponent notation",
                  "bstar") from None
    eph = l1[62].strip()
    esn = l1[64:68].strip()
    inc = num(l2[8:16], "inclination", 2)
    raan = num(l2[17:25], "raan", 2)
    ecc_field = l2[26:33]
    if not _digits(ecc_field.strip()):
        raise bad(f"eccentricity {ecc_field!r} must be 7 digits with an implied leading decimal point",
                  "eccentricity", 2)
    ecc = float("0." + ecc_field.strip())
    argp = num(l2[34:42], "arg_perigee", 2)
    ma = num(l2[43:51], "mean_anomaly", 2)
    n = num(l2[52:63], "mean_motion", 2)
    rev = l2[63:68].strip()
    if not 0.0 <= inc <= 180.0:
        raise bad(f"inclination {inc} is outside 0..180 degrees", "inclination", 2)
    for value, field in ((raan, "raan"), (argp, "arg_perigee"), (ma, "mean_anomaly")):
        if not 0.0 <= value <= 360.0:
            raise bad(f"{field} {value} is outside 0..360 degrees", field, 2)
    if not n > 0.0:
        raise bad(f"mean motion {n} rev/day must be positive", "mean_motion", 2)
    return ElementSet(
        norad_id=norad,
        epoch=epoch_from_year_day(year, day),
        mean_motion=n,
        eccentricity=ecc,
        inclination=inc,
        raan=raan,
        arg_perigee=argp,
        mean_anomaly=ma,
        bstar=bstar,
        mean_motion_dot=ndot,
        mean_motion_ddot=nddot,
        object_name=name,
        object_id=object_id,
        classification_type=classification,
        ephemeris_type=int(eph) if _digits(eph) else 0,
        element_set_no=int(esn) if _digits(esn) else None,
        rev_at_epoch=int(rev) if _digits(rev) else None,
        source_format="tle",
        original="\n".join(x for x in (f"0 {name}" if name is not None else None,
                                       l1.rstrip(), l2.rstrip()) if x is not None),
        file=file,
        line=line,
    )


def read_tle(lines: Iterable[str], *, file: str | None = None) -> Iterator[ElementSet | RecordError]:
    """Read TLE or 3LE text, yielding an :class:`ElementSet` or a :class:`RecordError` per record.

    Name lines may carry the ``0 `` prefix of 3LE or not. Comment lines (``#``) and blank lines are
    skipped. A broken record is reported and reading resumes at the next line that starts a record.
    """
    name: str | None = None
    pending: tuple[str, int] | None = None  # a line 1 waiting for its line 2
    for lineno, raw in enumerate(lines, start=1):
        text = raw.rstrip("\r\n")
        if not text.strip() or text.startswith("#"):
            continue
        if _LINE1_START.match(text):
            if pending is not None:
                yield RecordError(file, pending[1], "line_number", "line 1 is not followed by a line 2")
            pending = (text, lineno)
            continue
        if _LINE2_START.match(text):
            if pending is None:
                yield RecordError(file, lineno, "line_number", "line 2 without a preceding line 1")
                name = None
                continue
            try:
                yield parse_tle(pending[0], text, name, file=file, line=pending[1])
            except ValidationError as exc:
                yield RecordError.from_exc(exc)
            pending = None
            name = None
            continue
        # Anything else is a name line (3LE "0 NAME" or a bare name).
        if pending is not None:
            yield RecordError(file, pending[1], "line_number", "line 1 is not followed by a line 2")
            pending = None
        name = text[2:].strip() if text.startswith("0 ") else text.strip()
    if pending is not None:
        yield RecordError(file, pending[1], "line_number", "line 1 is not followed by a line 2")


def format_tle(es: ElementSet, *, name_line: bool = False) -> str:
    """Write an element set as TLE (or 3LE with ``name_line``). Round-trips :func:`parse_tle`."""
    sat = alpha5_encode(es.norad_id)
    ep = es.epoch
    start = ep.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    day = (ep - start).total_seconds() / 86400.0 + 1.0
    ndot = f"{es.mean_motion_dot: .8f}".replace("0.", ".", 1)
    if abs(es.mean_motion_dot) >= 1.0:
        raise ValidationError(f"mean_motion_dot {es.mean_motion_dot} does not fit a TLE",
                              field="mean_motion_dot")
    esn = es.element_set_no if es.element_set_no is not None else 999
    line1 = (f"1 {sat}{es.classification_type or 'U'} {_designator_field(es.object_id)} "
             f"{ep.year % 100:02d}{day:012.8f} {ndot:>10} {_format_implied(es.mean_motion_ddot)} "
             f"{_format_implied(es.bstar)} {es.ephemeris_type or 0} {esn % 10000:4d}")
    ecc = f"{es.eccentricity:.7f}"[2:]
    rev = es.rev_at_epoch if es.rev_at_epoch is not None else 0
    line2 = (f"2 {sat} {es.inclination:8.4f} {es.raan:8.4f} {ecc} {es.arg_perigee:8.4f} "
             f"{es.mean_anomaly:8.4f} {es.mean_motion:11.8f}{rev % 100000:5d}")
    line1 += str(checksum(line1))
    line2 += str(checksum(line2))
    if name_line:
        return f"0 {es.object_name or 'UNKNOWN'}\n{line1}\n{line2}"
    return f"{line1}\n{line2}"
