"""Element-set and catalogue formats: parse into canonical records, write back.

The public face (imported lazily, so ``import orbitwatch.formats`` costs nothing until used):

- :func:`read_path`, :func:`read_bytes` -> :class:`ReadResult` (format detected from content, gzip read
  directly; ``records`` + per-record ``errors``), :func:`detect_format`;
- TLE/3LE: :func:`read_tle` (strict, scalar), :func:`read_tle_fast` (vectorised, same results),
  :func:`parse_tle`, :func:`format_tle`, :func:`alpha5_encode`, :func:`alpha5_decode`;
- OMM: :func:`read_omm_kvn`, :func:`read_omm_xml`, :func:`read_omm_json`, :func:`read_omm_csv`,
  :func:`format_omm_kvn`, :func:`format_omm_xml`, :func:`format_omm_json`, :func:`format_omm_csv`;
- SATCAT: :func:`read_satcat_csv`, :func:`read_satcat_json`, :func:`format_satcat_csv`;
- OEM: :func:`read_oem`, :func:`format_oem_kvn`, :class:`Oem`, :class:`OemSegment`;
- records: :class:`ElementSet`, :class:`SatcatRecord`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "ReadResult": "detect", "FORMATS": "detect", "read_path": "detect", "read_bytes": "detect",
    "detect_format": "detect",
    "ElementSet": "records", "SatcatRecord": "records", "TLE_MAX_NORAD": "records",
    "read_tle": "tle", "parse_tle": "tle", "format_tle": "tle", "alpha5_encode": "tle",
    "alpha5_decode": "tle", "checksum": "tle",
    "read_tle_fast": "tle_fast", "read_tle_columns": "tle_fast",
    "read_omm_kvn": "omm", "read_omm_xml": "omm", "read_omm_json": "omm", "read_omm_csv": "omm",
    "format_omm_kvn": "omm", "format_omm_xml": "omm", "format_omm_json": "omm", "format_omm_csv": "omm",
    "elset_from_fields": "omm", "omm_fields": "omm",
    "read_satcat_csv": "satcat", "read_satcat_json": "satcat", "format_satcat_csv": "satcat",
    "normalise_object_type": "satcat",
    "read_oem": "oem", "format_oem_kvn": "oem", "Oem": "oem", "OemSegment": "oem",
}

__all__ = [
    "ElementSet", "FORMATS", "Oem", "OemSegment", "ReadResult", "SatcatRecord", "TLE_MAX_NORAD",
    "alpha5_decode", "alpha5_encode", "checksum", "detect_format", "elset_from_fields", "format_oem_kvn",
    "format_omm_csv", "format_omm_json", "format_omm_kvn", "format_omm_xml", "format_satcat_csv",
    "format_tle", "normalise_object_type", "omm_fields", "parse_tle", "read_bytes", "read_oem",
    "read_omm_csv", "read_omm_json", "read_omm_kvn", "read_omm_xml", "read_path", "read_satcat_csv",
    "read_satcat_json", "read_tle", "read_tle_columns", "read_tle_fast",
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from orbitwatch.formats.detect import FORMATS, ReadResult, detect_format, read_bytes, read_path
    from orbitwatch.formats.oem import Oem, OemSegment, format_oem_kvn, read_oem
    from orbitwatch.formats.omm import (
        elset_from_fields,
        format_omm_csv,
        format_omm_json,
        format_omm_kvn,
        format_omm_xml,
        omm_fields,
        read_omm_csv,
        read_omm_json,
        read_omm_kvn,
        read_omm_xml,
    )
    from orbitwatch.formats.records import TLE_MAX_NORAD, ElementSet, SatcatRecord
    from orbitwatch.formats.satcat import (
        format_satcat_csv,
        normalise_object_type,
        read_satcat_csv,
        read_satcat_json,
    )
    from orbitwatch.formats.tle import alpha5_decode, alpha5_encode, checksum, format_tle, parse_tle, read_tle
    from orbitwatch.formats.tle_fast import read_tle_columns, read_tle_fast


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'orbitwatch.formats' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"orbitwatch.formats.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
