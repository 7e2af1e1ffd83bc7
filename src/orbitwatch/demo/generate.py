"""The bundled demo catalogue: a few thousand SIMULATED objects in realistic shells.

Used by ``make run`` when the machine has no network (so no live CelesTrak download). Everything here is
made up by the project, deterministic (seeded), and marked ``SIMULATED``; catalogue numbers start at
900000 so they can never be mistaken for, or collide with, real objects (TLE cannot carry them: the demo
ships as CelesTrak-style OMM CSV).

Shells follow the public parameters of real systems: a Starlink-like 550 km/53° shell, a OneWeb-like
1200 km/87.9° shell, sun-synchronous Earth observation, GPS/Galileo/GLONASS/BeiDou MEO planes, QZSS
IGSO, a populated GEO belt, Molniya orbits, two debris clouds (800 km SSO and 470 km/82°), rocket bodies,
and one foreign "inspector" 5 km behind an allied ISR satellite for the exercise scenarios.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from orbitwatch.formats.records import ElementSet, SatcatRecord, format_epoch

MU_WGS72 = 398600.8  # km^3/s^2, the constant SGP4 element sets are fitted with
RE_KM = 6378.135
DEMO_EPOCH = datetime(2026, 11, 20, 0, 0, 0, tzinfo=UTC)
FIRST_ID = 900000
DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "demo"
OMM_FILE = DATA_DIR / "demo_catalog.omm.csv.gz"
SATCAT_FILE = DATA_DIR / "demo_satcat.csv.gz"
SIZES_FILE = DATA_DIR / "demo_sizes.csv.gz"  # NASA CARA HBR/mass layout

OMM_COLUMNS = ["OBJECT_NAME", "OBJECT_ID", "EPOCH", "MEAN_MOTION", "ECCENTRICITY", "INCLINATION",
               "RA_OF_ASC_NODE", "ARG_OF_PERICENTER", "MEAN_ANOMALY", "EPHEMERIS_TYPE",
               "CLASSIFICATION_TYPE", "NORAD_CAT_ID", "ELEMENT_SET_NO", "REV_AT_EPOCH", "BSTAR",
               "MEAN_MOTION_DOT", "MEAN_MOTION_DDOT"]
SATCAT_COLUMNS = ["OBJECT_NAME", "OBJECT_ID", "NORAD_CAT_ID", "OBJECT_TYPE", "OPS_STATUS_CODE", "OWNER",
                  "LAUNCH_DATE", "LAUNCH_SITE", "DECAY_DATE", "PERIOD", "INCLINATION", "APOGEE", "PERIGEE",
                  "RCS", "DATA_STATUS_CODE", "ORBIT_CENTER", "ORBIT_TYPE"]


def mean_motion_rev_per_day(sma_km: float) -> float:
    return math.sqrt(MU_WGS72 / sma_km**3) * 86400.0 / (2.0 * math.pi)


@dataclass
class _Builder:
    rng: np.random.Generator
    elsets: list[ElementSet]
    satcat: list[SatcatRecord]
    next_id: int = FIRST_ID
    launch_no: int = 1

    def add(self, name: str, owner: str, kind: str, sma: float, ecc: float, inc: float, raan: float,
            argp: float, ma: float, *, bstar: float = 0.0, launch: int | None = None, piece: str = "A",
            mass_kg: float | None = None, hbr_m: float | None = None) -> int:
        norad = self.next_id
        self.next_id += 1
        launch = launch if launch is not None else self.launch_no
        object_id = f"2026-{launch:03d}{piece}"
        n = mean_motion_rev_per_day(sma)
        self.elsets.append(ElementSet(
            norad_id=norad, epoch=DEMO_EPOCH, mean_motion=round(n, 8), eccentricity=round(ecc, 7),
            inclination=round(inc % 180.0, 4), raan=round(raan % 360.0, 4), arg_perigee=round(argp % 360.0, 4),
            mean_anomaly=round(ma % 360.0, 4), bstar=bstar, object_name=name, object_id=object_id,
            element_set_no=999, rev_at_epoch=1, source_format="omm"))
        period = 1440.0 / n
        self.satcat.append(SatcatRecord(
            norad_id=norad, object_id=object_id, object_name=name, object_type=kind, owner=owner,
            launch_date="2026-01-01", launch_site="SIM", period_min=round(period, 2),
            inclination=round(inc, 2), apogee_km=round(sma * (1 + ecc) - RE_KM, 1),
            perigee_km=round(sma * (1 - ecc) - RE_KM, 1), mass_kg=mass_kg, hbr_m=hbr_m,
            ops_status="+" if kind == "PAYLOAD" else None))
        return norad

    def walker(self, prefix: str, owner: str, alt_km: float, inc: float, planes: int, per_plane: int,
               *, phasing: int = 1, ecc: float = 0.0002, bstar: float = 0.0, mass_kg: float = 260.0,
               hbr_m: float = 2.0) -> None:
        sma = RE_KM + alt_km
        total = planes * per_plane
        for p in range(planes):
            launch = self.launch_no
            self.launch_no += 1
            for s in range(per_plane):
                ma = 360.0 * s / per_plane + 360.0 * phasing * p / total
                self.add(f"{prefix}-{p * per_plane + s + 1}", owner, "PAYLOAD", sma, ecc, inc,
                         360.0 * p / planes, 90.0, ma, bstar=bstar, launch=launch,
                         piece=_piece(s), mass_kg=mass_kg, hbr_m=hbr_m)


def _piece(i: int) -> str:
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    return letters[i] if i < len(letters) else letters[i // len(letters) - 1] + letters[i % len(letters)]


def generate_demo_catalog(seed: int = 2026) -> tuple[list[ElementSet], list[SatcatRecord]]:
    """Deterministic demo objects (element sets at :data:`DEMO_EPOCH`) and their SATCAT entries."""
    rng = np.random.default_rng(seed)
    b = _Builder(rng, [], [])
    # LEO broadband shells.
    b.walker("SIM STARLINK", "US", 550.0, 53.0, 22, 22, bstar=2.0e-4, mass_kg=800.0, hbr_m=5.0)
    b.walker("SIM ONEWEB", "UK", 1200.0, 87.9, 12, 20, bstar=1.0e-5, mass_kg=150.0, hbr_m=2.0)
    # Navigation.
    b.walker("SIM NAVSTAR", "US", 20180.0, 55.0, 6, 5, ecc=0.005, mass_kg=2000.0, hbr_m=6.0)
    b.walker("SIM GALILEO", "ESA", 23222.0, 56.0, 3, 8, ecc=0.0003, mass_kg=700.0, hbr_m=4.0)
    b.walker("SIM GLONASS", "CIS", 19130.0, 64.8, 3, 8, ecc=0.001, mass_kg=1400.0, hbr_m=4.0)
    b.walker("SIM BEIDOU", "PRC", 21528.0, 55.0, 3, 8, ecc=0.001, mass_kg=1000.0, hbr_m=4.0)
    qzss_sma = 42164.0
    for i, raan in enumerate((40.0, 160.0, 280.0)):
        b.add(f"SIM QZS-{i + 1}", "JPN", "PAYLOAD", qzss_sma, 0.075, 41.0, raan, 270.0, 120.0 * i,
              launch=b.launch_no, mass_kg=4000.0, hbr_m=8.0)
        b.launch_no += 1
    # Sun-synchronous Earth observation and ISR, owners across partners and others.
    sso_owners = ["US"] * 30 + ["FR"] * 10 + ["GER"] * 8 + ["IT"] * 8 + ["JPN"] * 10 + ["CA"] * 6 + \
        ["UK"] * 8 + ["AUS"] * 4 + ["NOR"] * 4 + ["NZ"] * 2 + ["PRC"] * 40 + ["CIS"] * 20 + ["IND"] * 10
    for i, owner in enumerate(sso_owners):
        alt = float(rng.uniform(480.0, 800.0))
        inc = math.degrees(math.acos(-((RE_KM + alt) / 12352.0) ** 3.5))  # sun-synchronous inclination
        b.add(f"SIM EO-{owner}-{i + 1}", owner, "PAYLOAD", RE_KM + alt, float(rng.uniform(0.0001, 0.002)), inc,
              float(rng.uniform(0, 360)), float(rng.uniform(0, 360)), float(rng.uniform(0, 360)),
              bstar=float(rng.uniform(2e-5, 2e-4)), launch=b.launch_no, mass_kg=float(rng.uniform(100, 4000)),
              hbr_m=float(rng.uniform(1.0, 6.0)))
        b.launch_no += 1
    # A crewed station.
    b.add("SIM STATION", "ISS", "PAYLOAD", RE_KM + 420.0, 0.0004, 51.64, 120.0, 60.0, 10.0, bstar=3e-4,
          launch=b.launch_no, mass_kg=420000.0, hbr_m=60.0)
    b.launch_no += 1
    # GEO belt: longitudes spread, small inclinations.
    geo_owners = ["US"] * 90 + ["FR"] * 20 + ["UK"] * 20 + ["JPN"] * 20 + ["IT"] * 8 + ["GER"] * 8 + \
        ["CA"] * 10 + ["AUS"] * 6 + ["NOR"] * 4 + ["EUTE"] * 30 + ["SES"] * 30 + ["PRC"] * 60 + \
        ["CIS"] * 40 + ["IND"] * 20 + ["ITSO"] * 20
    for i, owner in enumerate(geo_owners):
        lon = float(rng.uniform(0, 360))
        inc = float(abs(rng.normal(0.0, 0.05))) if rng.random() < 0.8 else float(rng.uniform(0.5, 6.0))
        b.add(f"SIM GEO-{owner}-{i + 1}", owner, "PAYLOAD", 42164.2 + float(rng.normal(0, 2)),
              float(rng.uniform(0.0001, 0.0005)), inc, float(rng.uniform(0, 360)), 0.0, lon,
              launch=b.launch_no, mass_kg=float(rng.uniform(2000, 6000)), hbr_m=float(rng.uniform(5, 15)))
        b.launch_no += 1
    # Molniya.
    for i in range(24):
        b.add(f"SIM MOLNIYA-{i + 1}", "CIS", "PAYLOAD", 26560.0, 0.72, 63.4, 30.0 * (i % 12), 270.0,
              float(rng.uniform(0, 360)), launch=b.launch_no, mass_kg=1600.0, hbr_m=4.0)
        b.launch_no += 1
    # Rocket bodies in transfer and LEO disposal orbits.
    for i in range(200):
        perigee = float(rng.uniform(200, 900))
        apogee = perigee + float(rng.exponential(3000.0)) if i % 3 == 0 else perigee + float(rng.uniform(0, 200))
        sma = RE_KM + (perigee + apogee) / 2
        ecc = (apogee - perigee) / (2 * sma)
        owner = ["US", "PRC", "CIS", "FR", "JPN", "IND"][i % 6]
        b.add(f"SIM R/B {i + 1}", owner, "ROCKET BODY", sma, ecc, float(rng.uniform(5, 100)),
              float(rng.uniform(0, 360)), float(rng.uniform(0, 360)), float(rng.uniform(0, 360)),
              bstar=float(rng.uniform(5e-5, 5e-4)), launch=b.launch_no, mass_kg=float(rng.uniform(1000, 9000)),
              hbr_m=float(rng.uniform(3, 8)))
        b.launch_no += 1
    # Two debris clouds: a Fengyun-1C-like SSO cloud and a Cosmos-1408-like cloud.
    for cloud, owner, alt, inc, count in (("SIM FY DEB", "PRC", 850.0, 98.8, 900),
                                          ("SIM KOS DEB", "CIS", 470.0, 82.6, 500)):
        launch = b.launch_no
        b.launch_no += 1
        raan0 = float(rng.uniform(0, 360))
        for i in range(count):
            spread = float(rng.normal(0, 60.0))
            sma = RE_KM + alt + spread
            b.add(f"{cloud}", owner, "DEBRIS", sma, float(abs(rng.normal(0.004, 0.004))),
                  inc + float(rng.normal(0, 0.3)), raan0 + float(rng.normal(0, 8.0)),
                  float(rng.uniform(0, 360)), float(rng.uniform(0, 360)), bstar=float(rng.uniform(1e-4, 2e-3)),
                  launch=launch, piece=_piece(i % 576), mass_kg=None, hbr_m=0.1)
    # An allied ISR satellite and a foreign inspector 5 km behind it, same plane: the Shadow scenario.
    isr = b.add("SIM ALLIED ISR-1", "US", "PAYLOAD", RE_KM + 520.0, 0.0005, 97.45, 40.0, 90.0, 100.0,
                bstar=8e-5, launch=b.launch_no, mass_kg=3000.0, hbr_m=5.0)
    b.launch_no += 1
    delta_ma = math.degrees(5.0 / (RE_KM + 520.0))
    b.add("SIM INSPECTOR-7", "CIS", "PAYLOAD", RE_KM + 520.4, 0.0005, 97.45, 40.0, 90.0, 100.0 - delta_ma,
          bstar=8e-5, launch=b.launch_no, mass_kg=600.0, hbr_m=2.0)
    b.launch_no += 1
    del isr
    return b.elsets, b.satcat


def omm_csv(elsets: list[ElementSet]) -> str:
    """CelesTrak-style OMM CSV text for element sets."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(OMM_COLUMNS)
    for e in elsets:
        w.writerow([e.object_name, e.object_id, format_epoch(e.epoch), f"{e.mean_motion:.8f}",
                    f"{e.eccentricity:.7f}", f"{e.inclination:.4f}", f"{e.raan:.4f}", f"{e.arg_perigee:.4f}",
                    f"{e.mean_anomaly:.4f}", e.ephemeris_type, e.classification_type, e.norad_id,
                    e.element_set_no, e.rev_at_epoch, f"{e.bstar:.8g}", f"{e.mean_motion_dot:.8g}",
                    f"{e.mean_motion_ddot:.8g}"])
    return buf.getvalue()


def satcat_csv(records: list[SatcatRecord]) -> str:
    """CelesTrak-style SATCAT CSV text (no RCS: the demo has no radar)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(SATCAT_COLUMNS)
    for r in records:
        w.writerow([r.object_name, r.object_id, r.norad_id, r.object_type, r.ops_status or "", r.owner,
                    r.launch_date, r.launch_site, r.decay_date or "", r.period_min, r.inclination,
                    r.apogee_km, r.perigee_km, "", "", "EA", "ORB"])
    return buf.getvalue()


def sizes_csv(records: list[SatcatRecord]) -> str:
    """Hard-body radius and mass in the layout of NASA CARA's HBR/mass estimates file."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["ObjectID", "HBR", "HBRSigma", "HBRSource", "Mass", "MassSigma", "MassSource"])
    for r in records:
        w.writerow([r.norad_id, "" if r.hbr_m is None else round(r.hbr_m, 2), 0, "SIMULATED",
                    "" if r.mass_kg is None else round(r.mass_kg, 1), 0, "SIMULATED"])
    return buf.getvalue()


def write_demo_files(directory: Path = DATA_DIR, seed: int = 2026) -> list[Path]:
    """(Re)generate the shipped demo files; byte-identical for the same seed (gzip mtime 0)."""
    elsets, satcat = generate_demo_catalog(seed)
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for name, text in ((OMM_FILE.name, omm_csv(elsets)), (SATCAT_FILE.name, satcat_csv(satcat)),
                       (SIZES_FILE.name, sizes_csv(satcat))):
        path = directory / name
        with open(path, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0, filename="") as gz:
            gz.write(text.encode())
        out.append(path)
    return out
