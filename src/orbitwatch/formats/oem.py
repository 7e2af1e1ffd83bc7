"""CCSDS Orbit Ephemeris Messages (OEM, 502.0-B-2 / B-3): KVN and XML reader, KVN writer.

An OEM is a table of state vectors (and optionally accelerations and 6x6 covariances) for one object over
a time span, in the frame and time system its metadata names. It is *not* an element set and is not
stored in the catalogue; screening and exercises read it to compare against or to inject trajectories.

Units (as the standard fixes them): positions km, velocities km/s, accelerations km/s², covariance
km², km²/s, km²/s² (lower triangle of the 6x6 position-velocity matrix). Epochs are kept as
``numpy.datetime64[ns]`` *in the message's TIME_SYSTEM* (UTC, TDB, GPS, ...): nothing is converted.

:func:`read_oem` raises :class:`~orbitwatch.errors.ValidationError` naming the file, line and keyword of
the first problem; an ephemeris with a bad line is not half-read.
"""

from __future__ import annotations

import gzip
import math
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from orbitwatch.errors import ValidationError

__all__ = ["Oem", "OemSegment", "read_oem", "format_oem_kvn", "parse_ccsds_epochs"]

_DOY = re.compile(r"^(\d{4})-(\d{3})T(.*)$")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?$")
_KV = re.compile(r"\s*([A-Za-z][A-Za-z0-9_]*)\s*=(.*)$")
_REQUIRED_META = ("OBJECT_NAME", "OBJECT_ID", "CENTER_NAME", "REF_FRAME", "TIME_SYSTEM", "START_TIME",
                  "STOP_TIME")
_META_ORDER = ("OBJECT_NAME", "OBJECT_ID", "CENTER_NAME", "REF_FRAME", "REF_FRAME_EPOCH", "TIME_SYSTEM",
               "START_TIME", "USEABLE_START_TIME", "USEABLE_STOP_TIME", "STOP_TIME", "INTERPOLATION",
               "INTERPOLATION_DEGREE")
_COV_KEYS = ("CX_X", "CY_X", "CY_Y", "CZ_X", "CZ_Y", "CZ_Z", "CX_DOT_X", "CX_DOT_Y", "CX_DOT_Z",
             "CX_DOT_X_DOT", "CY_DOT_X", "CY_DOT_Y", "CY_DOT_Z", "CY_DOT_X_DOT", "CY_DOT_Y_DOT", "CZ_DOT_X",
             "CZ_DOT_Y", "CZ_DOT_Z", "CZ_DOT_X_DOT", "CZ_DOT_Y_DOT", "CZ_DOT_Z_DOT")
_TRIL = np.tril_indices(6)  # row-major lower triangle: the order of the KVN lines and XML keys


@dataclass
class OemSegment:
    """One metadata block and its ephemeris lines (and covariances)."""

    metadata: dict[str, str]
    epochs: np.ndarray  # datetime64[ns], in metadata TIME_SYSTEM
    positions_km: np.ndarray  # (n, 3)
    velocities_km_s: np.ndarray  # (n, 3)
    accelerations_km_s2: np.ndarray | None = None  # (n, 3) when the lines carry them
    covariance_epochs: np.ndarray = field(default_factory=lambda: np.empty(0, "datetime64[ns]"))
    covariances: np.ndarray = field(default_factory=lambda: np.empty((0, 6, 6)))  # km², km²/s, km²/s²
    covariance_frames: list[str | None] = field(default_factory=list)  # COV_REF_FRAME, None = REF_FRAME
    comments: list[str] = field(default_factory=list)

    @property
    def object_name(self) -> str:
        return self.metadata["OBJECT_NAME"]

    @property
    def object_id(self) -> str:
        return self.metadata["OBJECT_ID"]

    @property
    def center_name(self) -> str:
        return self.metadata["CENTER_NAME"]

    @property
    def ref_frame(self) -> str:
        return self.metadata["REF_FRAME"]

    @property
    def time_system(self) -> str:
        return self.metadata["TIME_SYSTEM"]

    @property
    def start_time(self) -> np.datetime64:
        return parse_ccsds_epochs([self.metadata["START_TIME"]])[0]

    @property
    def stop_time(self) -> np.datetime64:
        return parse_ccsds_epochs([self.metadata["STOP_TIME"]])[0]

    def seconds_since(self, t0: np.datetime64 | None = None) -> np.ndarray:
        """Epochs as float seconds after ``t0`` (default: the first epoch), same time system."""
        ref = self.epochs[0] if t0 is None else np.datetime64(t0, "ns")
        return (self.epochs - ref) / np.timedelta64(1, "s")


@dataclass
class Oem:
    """One OEM message: header and segments."""

    version: str
    header: dict[str, str]  # CREATION_DATE, ORIGINATOR, MESSAGE_ID, CLASSIFICATION as given
    segments: list[OemSegment]
    comments: list[str] = field(default_factory=list)
    file: str | None = None

    @property
    def creation_date(self) -> str | None:
        return self.header.get("CREATION_DATE")

    @property
    def originator(self) -> str | None:
        return self.header.get("ORIGINATOR")


def parse_ccsds_epochs(texts: list[str], *, file: str | None = None, lines: list[int] | None = None,
                       field_name: str = "EPOCH") -> np.ndarray:
    """CCSDS epochs (``YYYY-MM-DDThh:mm:ss[.d...]`` or ``YYYY-DDDThh:mm:ss[.d...]``, optional ``Z``) as
    ``datetime64[ns]``; digits beyond nanoseconds are cut."""
    norm: list[str] = []
    for k, t in enumerate(texts):
        s = t.strip().rstrip("Zz")
        if m := _DOY.match(s):
            try:
                day = date(int(m.group(1)), 1, 1) + timedelta(days=int(m.group(2)) - 1)
            except (ValueError, OverflowError):
                s = "bad"
            else:
                s = f"{day.isoformat()}T{m.group(3)}"
        if not _ISO.match(s):
            raise ValidationError(f"epoch {t.strip()!r} is not YYYY-MM-DDThh:mm:ss[.d] or YYYY-DDDThh:mm:ss[.d]",
                                  file=file, line=lines[k] if lines else None, field=field_name)
        if "." in s and len(s) - s.index(".") > 10:
            s = s[: s.index(".") + 10]
        norm.append(s)
    try:
        return np.array(norm, dtype="datetime64[ns]")
    except ValueError as exc:
        raise ValidationError(f"epoch is not a valid date/time: {exc}", file=file,
                              line=lines[0] if lines else None, field=field_name) from None


def _float(tok: str, *, file: str | None, line: int | None, field_name: str) -> float:
    try:
        if "_" in tok or not tok.isascii():
            raise ValueError(tok)
        x = float(tok)
    except ValueError:
        raise ValidationError(f"{tok!r} is not a number", file=file, line=line, field=field_name) from None
    if not math.isfinite(x):
        raise ValidationError(f"{tok!r} is not a finite number", file=file, line=line, field=field_name)
    return x


class _SegmentBuilder:
    def __init__(self, meta: dict[str, str], meta_line: int, file: str | None):
        for key in _REQUIRED_META:
            if not meta.get(key):
                raise ValidationError(f"metadata keyword {key} is missing", file=file, line=meta_line,
                                      field=key)
        self.meta = meta
        self.meta_line = meta_line
        self.file = file
        self.epoch_text: list[str] = []
        self.epoch_lines: list[int] = []
        self.rows: list[list[float]] = []
        self.cov_epoch_text: list[str] = []
        self.cov_epoch_lines: list[int] = []
        self.cov_frames: list[str | None] = []
        self.cov_values: list[list[float]] = []
        self.comments: list[str] = []

    def state(self, epoch: str, values: list[float], line: int) -> None:
        if self.rows and len(values) != len(self.rows[0]):
            raise ValidationError(f"ephemeris line has {len(values)} numbers, earlier lines have "
                                  f"{len(self.rows[0])}", file=self.file, line=line, field="data")
        self.epoch_text.append(epoch)
        self.epoch_lines.append(line)
        self.rows.append(values)

    def build(self) -> OemSegment:
        file = self.file
        if not self.rows:
            raise ValidationError("segment has no ephemeris data lines", file=file, line=self.meta_line,
                                  field="data")
        epochs = parse_ccsds_epochs(self.epoch_text, file=file, lines=self.epoch_lines)
        bad = np.flatnonzero(np.diff(epochs) < np.timedelta64(0, "ns"))
        if len(bad):
            raise ValidationError("ephemeris epochs go backwards", file=file,
                                  line=self.epoch_lines[int(bad[0]) + 1], field="EPOCH")
        start, stop = parse_ccsds_epochs([self.meta["START_TIME"], self.meta["STOP_TIME"]], file=file,
                                         lines=[self.meta_line, self.meta_line], field_name="START_TIME")
        outside = np.flatnonzero((epochs < start) | (epochs > stop))
        if len(outside):
            k = int(outside[0])
            raise ValidationError(f"epoch {self.epoch_text[k].strip()} is outside START_TIME..STOP_TIME "
                                  f"({self.meta['START_TIME']} .. {self.meta['STOP_TIME']})", file=file,
                                  line=self.epoch_lines[k], field="EPOCH")
        data = np.array(self.rows, dtype=np.float64)
        cov_epochs = (parse_ccsds_epochs(self.cov_epoch_text, file=file, lines=self.cov_epoch_lines)
                      if self.cov_epoch_text else np.empty(0, "datetime64[ns]"))
        covs = np.zeros((len(self.cov_values), 6, 6))
        for k, vals in enumerate(self.cov_values):
            covs[k][_TRIL] = vals
            covs[k] = covs[k] + np.tril(covs[k], -1).T
        return OemSegment(metadata=self.meta, epochs=epochs, positions_km=data[:, 0:3],
                          velocities_km_s=data[:, 3:6],
                          accelerations_km_s2=data[:, 6:9] if data.shape[1] == 9 else None,
                          covariance_epochs=cov_epochs, covariances=covs, covariance_frames=self.cov_frames,
                          comments=self.comments)


def _read_kvn(text: str, file: str | None) -> Oem:
    lines = text.split("\n")
    version = None
    header: dict[str, str] = {}
    comments: list[str] = []
    segments: list[OemSegment] = []
    seg: _SegmentBuilder | None = None
    mode = "header"  # header | meta | data | cov
    meta: dict[str, str] = {}
    meta_line = 0
    meta_comments: list[str] = []
    cov_vals: list[float] = []
    cov_line = 0

    def close_cov_matrix() -> None:
        nonlocal cov_vals
        if seg is None or not seg.cov_epoch_text or len(seg.cov_values) == len(seg.cov_epoch_text):
            return
        if len(cov_vals) != 21:
            raise ValidationError(f"covariance matrix has {len(cov_vals)} numbers, expected 21 (lower "
                                  "triangle of 6x6)", file=file, line=cov_line, field="COVARIANCE")
        seg.cov_values.append(cov_vals)
        cov_vals = []

    for i, raw in enumerate(lines, start=1):
        s = raw.strip()
        if not s:
            continue
        head = s.split(None, 1)[0].upper()
        if head == "COMMENT":
            note = s[7:].strip()
            if seg is not None and mode in ("data", "cov"):
                seg.comments.append(note)
            elif mode == "header":
                comments.append(note)
            else:
                meta_comments.append(note)
            continue
        if head == "META_START":
            close_cov_matrix()
            if seg is not None:
                segments.append(seg.build())
                seg = None
            if version is None:
                raise ValidationError("OEM does not start with CCSDS_OEM_VERS", file=file, line=1,
                                      field="CCSDS_OEM_VERS")
            mode, meta, meta_line, meta_comments = "meta", {}, i, []
            continue
        if head == "META_STOP":
            if mode != "meta":
                raise ValidationError("META_STOP without META_START", file=file, line=i, field="META_STOP")
            seg = _SegmentBuilder(meta, meta_line, file)
            seg.comments.extend(meta_comments)
            mode = "data"
            continue
        if head == "COVARIANCE_START":
            if seg is None:
                raise ValidationError("COVARIANCE_START before any ephemeris segment", file=file, line=i)
            mode = "cov"
            continue
        if head == "COVARIANCE_STOP":
            close_cov_matrix()
            mode = "data"
            continue
        m = _KV.match(s)
        if mode == "header":
            if m is None:
                raise ValidationError(f"line is not 'KEYWORD = value': {s[:40]!r}", file=file, line=i)
            key, value = m.group(1).upper(), m.group(2).strip()
            if key.startswith("CCSDS_") and key.endswith("_VERS"):
                if key != "CCSDS_OEM_VERS":
                    raise ValidationError(f"this is a CCSDS {key[6:-5]}, not an OEM", file=file, line=i,
                                          field=key)
                version = value
            else:
                header[key] = value
            continue
        if mode == "meta":
            if m is None:
                raise ValidationError(f"metadata line is not 'KEYWORD = value': {s[:40]!r}", file=file, line=i)
            meta[m.group(1).upper()] = m.group(2).strip()
            continue
        if mode == "cov":
            if m is not None:
                key, value = m.group(1).upper(), m.group(2).strip()
                if key == "EPOCH":
                    close_cov_matrix()
                    seg.cov_epoch_text.append(value)
                    seg.cov_epoch_lines.append(i)
                    seg.cov_frames.append(None)
                    cov_line = i
                elif key == "COV_REF_FRAME" and seg.cov_frames:
                    seg.cov_frames[-1] = value
                else:
                    raise ValidationError(f"unexpected keyword {key} in a covariance block", file=file,
                                          line=i, field=key)
                continue
            if not seg.cov_epoch_text:
                raise ValidationError("covariance numbers before the covariance EPOCH", file=file, line=i,
                                      field="EPOCH")
            cov_vals.extend(_float(t, file=file, line=i, field_name="COVARIANCE") for t in s.split())
            continue
        # mode == "data": an ephemeris line "epoch x y z vx vy vz [ax ay az]"
        if seg is None:
            raise ValidationError("data before META_START/META_STOP", file=file, line=i)
        toks = s.split()
        if len(toks) not in (7, 10):
            raise ValidationError(f"ephemeris line has {len(toks) - 1} numbers after the epoch, expected 6 "
                                  "(position, velocity) or 9 (with acceleration)", file=file, line=i,
                                  field="data")
        seg.state(toks[0], [_float(t, file=file, line=i, field_name="data") for t in toks[1:]], i)
    if mode == "meta":
        raise ValidationError("metadata block has no META_STOP", file=file, line=meta_line, field="META_STOP")
    close_cov_matrix()
    if seg is not None:
        segments.append(seg.build())
    if version is None:
        raise ValidationError("not an OEM: no CCSDS_OEM_VERS line", file=file, line=1, field="CCSDS_OEM_VERS")
    if not segments:
        raise ValidationError("OEM has no segments", file=file, line=1)
    return Oem(version=version, header=header, segments=segments, comments=comments, file=file)


def _read_xml(data: bytes, file: str | None) -> Oem:
    from orbitwatch.formats.omm import parse_xml_tree

    root, err = parse_xml_tree(data, file=file)
    if err is not None:
        raise err
    if root is None:
        raise ValidationError("empty XML document", file=file)
    oems = [c for c in root.children if c.tag == "oem"] if root.tag == "ndm" else [root]
    if not oems or oems[0].tag != "oem":
        raise ValidationError(f"XML root <{root.tag}> holds no <oem>", file=file, line=root.line)
    if len(oems) > 1:
        raise ValidationError(f"NDM holds {len(oems)} OEMs; split it, read_oem reads one", file=file,
                              line=oems[1].line)
    node = oems[0]
    header: dict[str, str] = {}
    comments: list[str] = []
    h = node.find("header")
    for c in h.children if h is not None else []:
        if c.tag == "COMMENT":
            comments.append(c.value() or "")
        else:
            header[c.tag] = c.value() or ""
    segments: list[OemSegment] = []
    body = node.find("body")
    for sg in body.children if body is not None else []:
        if sg.tag != "segment":
            continue
        md = sg.find("metadata")
        meta = {c.tag: (c.value() or "") for c in (md.children if md is not None else []) if c.tag != "COMMENT"}
        b = _SegmentBuilder(meta, md.line if md is not None else sg.line, file)
        dt = sg.find("data")
        for item in dt.children if dt is not None else []:
            if item.tag == "COMMENT":
                b.comments.append(item.value() or "")
            elif item.tag == "stateVector":
                v = {c.tag: c for c in item.children}
                keys = ["X", "Y", "Z", "X_DOT", "Y_DOT", "Z_DOT"]
                if "X_DDOT" in v:
                    keys += ["X_DDOT", "Y_DDOT", "Z_DDOT"]
                for k in ["EPOCH", *keys]:
                    if k not in v or v[k].value() is None:
                        raise ValidationError(f"stateVector lacks {k}", file=file, line=item.line, field=k)
                b.state(v["EPOCH"].value(), [_float(v[k].value(), file=file, line=v[k].line, field_name=k)
                                             for k in keys], item.line)
            elif item.tag == "covarianceMatrix":
                v = {c.tag: c for c in item.children}
                if "EPOCH" not in v or v["EPOCH"].value() is None:
                    raise ValidationError("covarianceMatrix lacks EPOCH", file=file, line=item.line, field="EPOCH")
                vals = []
                for k in _COV_KEYS:
                    if k not in v or v[k].value() is None:
                        raise ValidationError(f"covarianceMatrix lacks {k}", file=file, line=item.line, field=k)
                    vals.append(_float(v[k].value(), file=file, line=v[k].line, field_name=k))
                b.cov_epoch_text.append(v["EPOCH"].value())
                b.cov_epoch_lines.append(v["EPOCH"].line)
                b.cov_frames.append(v["COV_REF_FRAME"].value() if "COV_REF_FRAME" in v else None)
                b.cov_values.append(vals)
        segments.append(b.build())
    if not segments:
        raise ValidationError("OEM has no segments", file=file, line=node.line)
    return Oem(version=node.attrib.get("version", ""), header=header, segments=segments, comments=comments,
               file=file)


def read_oem(data: bytes | str, *, file: str | None = None) -> Oem:
    """Read an OEM from KVN or XML text (bytes may be gzip-compressed). Raises ValidationError."""
    if isinstance(data, str):
        raw = data.encode("utf-8")
    else:
        raw = bytes(data)
        if raw[:2] == b"\x1f\x8b":
            try:
                raw = gzip.decompress(raw)
            except (OSError, EOFError) as exc:
                raise ValidationError(f"gzip data cannot be read: {exc}", file=file) from None
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    if raw.lstrip()[:1] == b"<":
        return _read_xml(raw, file)
    return _read_kvn(raw.decode("utf-8", "replace"), file)


def _fmt_epoch(t: np.datetime64) -> str:
    s = np.datetime_as_string(t, unit="ns")
    head, frac = s.split(".")
    frac = frac.rstrip("0")
    return f"{head}.{frac.ljust(3, '0')}"


def format_oem_kvn(oem: Oem) -> str:
    """KVN text of an OEM. Numbers are written with the shortest exact text, epochs to the nanosecond, so
    :func:`read_oem` gives back the same arrays."""
    out = [f"CCSDS_OEM_VERS = {oem.version or '3.0'}"]
    out += [f"COMMENT {c}" for c in oem.comments]
    for key in ("CLASSIFICATION", "CREATION_DATE", "ORIGINATOR", "MESSAGE_ID"):
        if key in oem.header:
            out.append(f"{key} = {oem.header[key]}")
    out += [f"{k} = {v}" for k, v in oem.header.items()
            if k not in ("CLASSIFICATION", "CREATION_DATE", "ORIGINATOR", "MESSAGE_ID")]
    for seg in oem.segments:
        out += ["", "META_START"]
        keys = [k for k in _META_ORDER if k in seg.metadata]
        keys += [k for k in seg.metadata if k not in _META_ORDER]
        out += [f"{k} = {seg.metadata[k]}" for k in keys]
        out += ["META_STOP", ""]
        out += [f"COMMENT {c}" for c in seg.comments]
        cols = [seg.positions_km, seg.velocities_km_s]
        if seg.accelerations_km_s2 is not None:
            cols.append(seg.accelerations_km_s2)
        table = np.hstack(cols)
        for t, row in zip(seg.epochs, table, strict=True):
            out.append(_fmt_epoch(t) + " " + " ".join(repr(float(x)) for x in row))
        if len(seg.covariances):
            out += ["", "COVARIANCE_START"]
            for k, (t, cov) in enumerate(zip(seg.covariance_epochs, seg.covariances, strict=True)):
                out.append(f"EPOCH = {_fmt_epoch(t)}")
                frame = seg.covariance_frames[k] if k < len(seg.covariance_frames) else None
                if frame:
                    out.append(f"COV_REF_FRAME = {frame}")
                for r in range(6):
                    out.append(" ".join(repr(float(cov[r, c])) for c in range(r + 1)))
            out.append("COVARIANCE_STOP")
    return "\n".join(out) + "\n"
