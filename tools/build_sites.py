"""Digitise tbpa's schematic site outlines and the Tumen estuary draft boundary options.

No real boundary polygon of the registry sites is available offline, so each outline is
*schematic*: built from the published reference point, extent, orientation and reported area
(see ``../shared/reference/species-and-sites.md`` and ``data/boundaries/README.md``):

1. A seeded irregular outline ("blob": an ellipse with the site's aspect ratio and
   orientation whose radius is perturbed by a few low-order harmonics), or a belt along an
   international border (TLNP, LLNP), is drawn in a Lambert azimuthal equal-area plane
   centred on the site.
2. It is intersected with the site's own Natural Earth country polygon, with its published
   extent box where one is known, and with its parent site where it is nested (Hunchun and
   Wangqing inside TLNP); enclaves are cut out (Kedrovaya Pad from LLNP).
3. The outline is scaled about its centre by bisection until its geodesic area
   (pyproj.Geod on WGS 84) is within 0.5 % of the reported area.

Everything is deterministic (seed = CRC32 of the site id), so ``python tools/build_sites.py``
regenerates ``data/boundaries/sites.csv``, ``sites.gpkg`` and ``tumen_options.gpkg``
byte-for-byte identical attributes and geometry.
"""

from __future__ import annotations

import argparse
import math
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Geod, Transformer
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from tbpa._atomic import atomic_path  # noqa: E402

OUT = REPO / "data" / "boundaries"
GEOD = Geod(ellps="WGS84")
SEED = 20260402  # combined with the CRC32 of each site id
AREA_TOL = 0.005  # bisection stops within 0.5 % of the reported area


def dms(d: float, m: float = 0.0, s: float = 0.0) -> float:
    """Degrees-minutes-seconds to decimal degrees."""
    return d + m / 60.0 + s / 3600.0


# Published extent of Khasansky Nature Park's main southern cluster (Tumen seeds table).
KHASANSKY_BOX = (dms(130, 38, 25), dms(42, 18), dms(130, 47, 25), dms(42, 28, 25))


@dataclass
class Site:
    site_id: str
    name_en: str
    iso3: str
    landscape: str
    designation: str
    iucn_cat: str
    status_year: int | None
    reported_area_ha: float
    area_uncertain: bool
    lon: float  # published reference point (centroid or camera-network centre)
    lat: float
    source: str
    name_local: str
    names: dict = field(default_factory=dict)  # zh/ru/ko/mn
    # --- digitising recipe ---
    aspect: float = 1.5  # long / short axis of the base ellipse
    azimuth: float = 0.0  # direction of the long axis, degrees clockwise from north
    rough: float = 0.12  # amplitude of the harmonic perturbation
    anchor: tuple[float, float] | None = None  # where the outline is drawn if not (lon, lat)
    extent: tuple[float, float, float, float] | None = None  # published lon/lat box
    within: str | None = None  # parent site id (nested designation)
    holes: tuple[str, ...] = ()  # sites cut out (enclaves)
    belt: tuple[str, float, float] | None = None  # (other iso3, lat_min, lat_max) border belt
    lobes: tuple[tuple[float, float], ...] = ()  # extra lon/lat points a belt must reach
    method_note: str = ""
    parent_site: str = ""


S = Site  # brevity in the table below
SITES: list[Site] = [
    # ------------------------------------------------------------------ land_of_big_cats
    S("TLNP", "Northeast China Tiger and Leopard National Park", "CHN", "land_of_big_cats",
      "National park", "Not Reported", 2021, 1_410_000, False, 130.85, 43.26,
      "Xinhua 2025 (14,100 km2); ecns.cn 2017-08-19 (pilot); centre of camera network: "
      "Biodiv. Sci. 2020, doi:10.17520/biods.2020139",
      "东北虎豹国家公园", {"zh": "东北虎豹国家公园"},
      belt=("RUS", 42.55, 44.25), lobes=((130.40, 43.40),),
      method_note="belt along the China-Russia border from the Tumen (42.55 N) to Dongning "
                  "(44.25 N), with a lobe reaching Wangqing; width scaled to the area"),
    S("KEDROVAYA_PAD", "Kedrovaya Pad Zapovednik", "RUS", "land_of_big_cats", "Zapovednik",
      "Ia", 1916, 17_900, True, 131.5, 43.1,
      "Joint directorate Land of the Leopard NP + Kedrovaya Pad (Minprirody RF); area ~17,900 ha "
      "(17,500 ha since 1951) not verified",
      "Кедровая Падь", {"ru": "Государственный природный биосферный заповедник «Кедровая Падь»"},
      aspect=1.8, azimuth=100, anchor=(131.42, 43.10),
      method_note="seeded outline around the reference point, elongated W-E"),
    S("LLNP", "Land of the Leopard National Park", "RUS", "land_of_big_cats", "National park",
      "II", 2012, 262_000, False, 131.2, 43.1,
      "Decree of 5 Apr 2012 (phys.org 2012; tass.com/russia/688387); 262,000 ha excludes the "
      "Kedrovaya Pad enclave (Wikipedia 2,799 km2 likely includes it)",
      "Земля леопарда", {"ru": "Национальный парк «Земля леопарда»"},
      belt=("CHN", 42.62, 43.80), lobes=((131.42, 43.10),), holes=("KEDROVAYA_PAD",),
      method_note="belt along the Russia-China border from the Khasan lowlands (42.62 N) to "
                  "43.80 N, with a lobe around Kedrovaya Pad, which is cut out as an enclave"),
    S("HUNCHUN_NNR", "Hunchun Amur Tiger National Nature Reserve", "CHN", "land_of_big_cats",
      "National nature reserve", "Not Reported", 2001, 108_700, True, 130.7, 43.0,
      "Jilin forestry; provincial reserve 2001, later national (WCS report); now part of TLNP; "
      "area ~108,700 ha not verified",
      "珲春东北虎国家级自然保护区", {"zh": "珲春东北虎国家级自然保护区"},
      aspect=1.6, azimuth=20, within="TLNP", parent_site="TLNP",
      method_note="seeded outline around the reference point, clipped to TLNP"),
    S("WANGQING_NNR", "Wangqing National Nature Reserve", "CHN", "land_of_big_cats",
      "National nature reserve", "Not Reported", None, 67_434, True, 130.4, 43.4,
      "Now within TLNP [unverified]; area ~67,434 ha not verified",
      "汪清国家级自然保护区", {"zh": "汪清国家级自然保护区"},
      aspect=1.4, azimuth=60, within="TLNP", parent_site="TLNP",
      method_note="seeded outline around the reference point, clipped to TLNP"),
    # ------------------------------------------------------------------ lesser_khingan
    S("KHINGANSKY", "Khingansky Zapovednik", "RUS", "lesser_khingan", "Zapovednik", "Ia", 1963,
      97_073, False, 130.447, 49.017,
      "Minprirody RF; Ramsar site 684 (13 Sep 1994); 97,073 ha (Russian sources) vs 93,995 ha "
      "(English sources)",
      "Хинганский заповедник", {"ru": "Хинганский государственный природный заповедник"},
      aspect=1.8, azimuth=45,
      method_note="seeded outline around the published centre"),
    S("BASTAK", "Bastak Zapovednik", "RUS", "lesser_khingan", "Zapovednik", "Ia", 1997, 127_000,
      True, 133.3, 48.9, "Minprirody RF (year); area >127,000 ha in two parts not verified",
      "Заповедник «Бастак»", {"ru": "Государственный природный заповедник «Бастак»"},
      aspect=1.7, azimuth=20,
      method_note="seeded outline around the reference point (one part; the real reserve has two)"),
    S("TAIPINGGOU_NNR", "Taipinggou National Nature Reserve", "CHN", "lesser_khingan",
      "National nature reserve", "Not Reported", None, 22_199, True, 130.6, 47.6,
      "Heilongjiang (Luobei county), faces Bastak/Khingansky across the Amur; area 22,199 ha "
      "is not from a cited source (order of magnitude only)",
      "太平沟国家级自然保护区", {"zh": "黑龙江太平沟国家级自然保护区"},
      aspect=1.6, azimuth=60,
      method_note="seeded outline around the reference point"),
    # ------------------------------------------------------------------ dauria
    S("DAURSKY", "Daursky Zapovednik", "RUS", "dauria", "Zapovednik", "Ia", 1987, 49_765, True,
      115.5, 50.1,
      "Minprirody RF; part of the Landscapes of Dauria World Heritage site (2017, WDPA "
      "555624857); core area ~49,765 ha not verified",
      "Даурский заповедник", {"ru": "Даурский государственный природный биосферный заповедник"},
      aspect=1.5, azimuth=70,
      method_note="seeded outline around the reference point (Barun-Torey lake)"),
    S("MONGOL_DAGUUR", "Mongol Daguur Strictly Protected Area", "MNG", "dauria",
      "Strictly protected area", "Ia", 1992, 103_016, True, 115.1, 49.7,
      "MNET Mongolia; part of the Landscapes of Dauria World Heritage site; area ~103,016 ha "
      "not verified",
      "Монгол Дагуур", {"mn": "Монгол Дагуурын дархан цаазат газар"},
      aspect=1.6, azimuth=80,
      method_note="seeded outline around the reference point"),
    S("DALAI_LAKE_NNR", "Dalai Lake (Hulun) National Nature Reserve", "CHN", "dauria",
      "National nature reserve", "Not Reported", None, 740_000, True, 117.4, 48.9,
      "Inner Mongolia; Ramsar (RIS 1146), MAB; DIPA member since 29 Mar 1994; area ~740,000 ha "
      "not verified",
      "达赉湖国家级自然保护区", {"zh": "达赉湖（呼伦湖）国家级自然保护区"},
      aspect=1.5, azimuth=30,
      method_note="seeded outline around Hulun lake"),
    # ------------------------------------------------------------------ tumen_estuary
    S("RASON", "Rason Migratory Bird Reserve", "PRK", "tumen_estuary", "Migratory bird reserve",
      "Not Reported", 1995, 3_525.7, False, dms(130, 35), dms(42, 20),
      "DPRK MoLEP; national reserve 1995, Ramsar site in force 16 May 2018 (lakes Manpho, "
      "Sobonpho, Tongbonpho); 3,525.7 ha (Ramsar figure; DPRK media say 3,500-odd / 3,200 ha)",
      "라선철새보호구", {"ko": "라선철새보호구"},
      aspect=2.2, azimuth=60, rough=0.15,
      method_note="seeded outline around 42 20'N 130 35'E, elongated along the coastal lagoons"),
    S("FANGCHUAN", "Fangchuan National Scenic Area", "CHN", "tumen_estuary",
      "National scenic area", "Not Reported", None, 1_416.13, True, 130.6, 42.43,
      "Hunchun (brief-supplied area 1,416.13 ha, unverified)",
      "防川风景名胜区", {"zh": "防川国家级风景名胜区"},
      aspect=1.8, azimuth=160, anchor=(130.552, 42.565),
      method_note="Natural Earth 1:10m cuts the Chinese strip short of the real Fangchuan tip "
                  "(42.43 N lies in Russia on that map), so the outline is drawn at the southern "
                  "tip of the Natural Earth China polygon (~14 km north of the real site)"),
    S("JINGXIN", "Jingxin Wetland", "CHN", "tumen_estuary", "Wetland", "Not Reported", None,
      8_000, True, 130.6, 42.5, "Hunchun (brief-supplied area 8,000 ha, unverified)",
      "敬信湿地", {"zh": "敬信湿地"},
      aspect=1.6, azimuth=140, anchor=(130.50, 42.645), holes=("FANGCHUAN",),
      method_note="drawn in the Natural Earth China strip north of Fangchuan (the real "
                  "reference point lies in Russia on the 1:10m map); Fangchuan cut out"),
    S("KHASANSKY", "Khasansky Nature Park (main southern cluster)", "RUS", "tumen_estuary",
      "Regional nature park", "Not Reported", None, 9_885.8, True, 130.72, 42.39,
      "Primorye regional nature park; extent 130 38'25\"-130 47'25\"E, 42 18'-42 28'25\"N and "
      "area 9,885.8 ha from the brief (Tumen seeds table), not found in a public source",
      "Хасанский природный парк", {"ru": "Природный парк «Хасанский»"},
      aspect=2.6, azimuth=15, anchor=(130.725, 42.39), extent=KHASANSKY_BOX,
      method_note="seeded outline elongated N-S, clipped to the published extent box and to "
                  "Russia"),
    S("MALOYE_MRAMORNOYE", "Khasansky Nature Park: Maloye Mramornoye Lake", "RUS",
      "tumen_estuary", "Regional nature park", "Not Reported", None, 83.3, True,
      dms(130, 46, 47), dms(42, 33, 15),
      "Separate part of Khasansky Nature Park; 83.3 ha at 130 46'47\"E 42 33'15\"N from the "
      "brief (Tumen seeds table), unverified",
      "озеро Малое Мраморное", {"ru": "Природный парк «Хасанский»: озеро Малое Мраморное"},
      aspect=1.3, azimuth=30, rough=0.08, parent_site="KHASANSKY",
      method_note="small seeded outline around the published point"),
    # ------------------------------------------------------------------ khanka
    S("KHANKAISKY", "Khankaisky Zapovednik", "RUS", "khanka", "Zapovednik", "Ia", 1990, 39_289,
      False, 132.5, 44.9,
      "Minprirody RF; core 39,289 ha, buffer 72,443 ha, biosphere reserve 299,896 ha (MAB 2005) "
      "(unesco.ru; wild-russia.org)",
      "Ханкайский заповедник", {"ru": "Ханкайский государственный природный биосферный заповедник"},
      aspect=2.5, azimuth=75, anchor=(132.45, 44.75),
      method_note="the real reserve is five clusters on the Russian shores; drawn as one "
                  "outline along the southern shore (the reference point is mid-lake)"),
    S("XINGKAI_HU_NNR", "Xingkai Hu National Nature Reserve", "CHN", "khanka",
      "National nature reserve", "Not Reported", None, 222_488, True, 132.5, 45.2,
      "Heilongjiang; Ramsar; Khanka-Xingkai international reserve agreement 1996; area "
      "~222,488 ha not verified",
      "兴凯湖国家级自然保护区", {"zh": "兴凯湖国家级自然保护区"},
      aspect=2.4, azimuth=80, anchor=(132.55, 45.30),
      method_note="seeded outline along the Chinese northern shore, clipped to China"),
    # ------------------------------------------------------------------ altai_sayan
    S("SAILYUGEMSKY", "Sailyugemsky National Park", "RUS", "altai_sayan", "National park", "II",
      2010, 118_380, False, 88.32, 49.57,
      "FGBU Sailyugemsky; decree 2010, institution 2012; sections Saylyugem, Ulandryk, Argut",
      "Сайлюгемский национальный парк", {"ru": "Национальный парк «Сайлюгемский»"},
      aspect=2.2, azimuth=80,
      method_note="one seeded outline along the border ridge (the real park has three sections)"),
    S("SIILKHEM", "Siilkhem National Park", "MNG", "altai_sayan", "National park",
      "Not Reported", 2000, 140_080, True, 89.0, 49.8,
      "MNET; parts A and B; year 2000 (ranger) vs 2003 (internationalparks.org); area "
      "~140,080 ha not verified",
      "Сийлхэмийн нуруу", {"mn": "Сийлхэмийн нурууны байгалийн цогцолборт газар"},
      aspect=2.4, azimuth=75, anchor=(89.25, 49.30),
      method_note="the reference point (89.0 E, 49.8 N) lies in Russia on the Natural Earth "
                  "map; drawn south of the border ridge as one outline (the park has two parts)"),
    S("TUNKINSKY", "Tunkinsky National Park", "RUS", "altai_sayan", "National park", "II", 1991,
      1_183_662, True, 102.3, 51.8, "Minprirody RF; area ~1,183,662 ha not verified",
      "Тункинский национальный парк", {"ru": "Тункинский национальный парк"},
      aspect=3.2, azimuth=75,
      method_note="seeded outline elongated along the Tunka valley"),
    S("KHUVSGUL", "Khuvsgul Lake National Park", "MNG", "altai_sayan", "National park",
      "Not Reported", 1992, 1_180_000, True, 100.5, 51.0,
      "MNET; area ~1.18 M ha not verified (other sources give 838,070 ha)",
      "Хөвсгөл нуурын байгалийн цогцолборт газар",
      {"mn": "Хөвсгөл нуурын байгалийн цогцолборт газар"},
      aspect=2.2, azimuth=5,
      method_note="seeded outline elongated N-S along Lake Khuvsgul"),
]
del S

LANDSCAPE_ORDER = ["land_of_big_cats", "lesser_khingan", "dauria", "tumen_estuary", "khanka",
                   "altai_sayan"]


# ----------------------------------------------------------------------------- geometry
def geodesic_area_ha(geom) -> float:
    return abs(GEOD.geometry_area_perimeter(geom)[0]) / 1e4


def local_crs(lon: float, lat: float) -> CRS:
    return CRS.from_proj4(f"+proj=laea +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m")


class Plane:
    """Forward/inverse transforms between lon/lat and a local equal-area plane."""

    def __init__(self, lon: float, lat: float):
        crs = local_crs(lon, lat)
        self.fwd = Transformer.from_crs(4326, crs, always_xy=True).transform
        self.inv = Transformer.from_crs(crs, 4326, always_xy=True).transform

    def to(self, geom):
        return shapely.transform(geom, lambda xy: np.column_stack(self.fwd(xy[:, 0], xy[:, 1])))

    def back(self, geom):
        return shapely.transform(geom, lambda xy: np.column_stack(self.inv(xy[:, 0], xy[:, 1])))


def blob(site: Site, n: int = 120) -> Polygon:
    """Unit-area irregular outline centred on (0, 0) in metres (seeded by the site id)."""
    rng = np.random.default_rng([SEED, zlib.crc32(site.site_id.encode())])
    t = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    a, b = math.sqrt(site.aspect), 1.0 / math.sqrt(site.aspect)
    r = a * b / np.sqrt((b * np.cos(t)) ** 2 + (a * np.sin(t)) ** 2)
    wobble = np.ones_like(t)
    for k in range(2, 7):
        wobble += rng.uniform(0.3, 1.0) * site.rough / (k - 1) * np.cos(k * t + rng.uniform(0, 2 * np.pi))
    r = r * np.clip(wobble, 0.5, None)
    # long axis along x, then rotate so it points to `azimuth` (clockwise from north)
    rot = math.radians(90.0 - site.azimuth)
    x = r * np.cos(t) * math.cos(rot) - r * np.sin(t) * math.sin(rot)
    y = r * np.cos(t) * math.sin(rot) + r * np.sin(t) * math.cos(rot)
    poly = Polygon(np.column_stack([x, y]))
    return shapely.affinity.scale(poly, 1 / math.sqrt(poly.area), 1 / math.sqrt(poly.area),
                                  origin=(0, 0))


def shared_border(countries: gpd.GeoDataFrame, a: str, b: str, lat_min: float, lat_max: float):
    """Shared boundary line of countries *a* and *b* between two latitudes (lon/lat)."""
    ga = countries.loc[a].geometry
    gb = countries.loc[b].geometry
    line = ga.boundary.intersection(gb.buffer(1e-6))
    line = line.intersection(box(-180, lat_min, 180, lat_max))
    return shapely.line_merge(line) if line.geom_type == "MultiLineString" else line


def largest_parts(geom, keep_share: float = 0.03):
    """Drop clipping crumbs: keep polygon parts with at least *keep_share* of the area."""
    if geom.is_empty or geom.geom_type == "Polygon":
        return geom
    parts = [p for p in getattr(geom, "geoms", [geom]) if p.geom_type == "Polygon"]
    total = sum(p.area for p in parts)
    keep = [p for p in parts if p.area >= keep_share * total]
    return keep[0] if len(keep) == 1 else MultiPolygon(keep)


def digitise(site: Site, countries: gpd.GeoDataFrame, done: dict[str, object]):
    """Schematic outline of *site* (lon/lat polygon) at its reported area."""
    cx, cy = site.anchor or (site.lon, site.lat)
    plane = Plane(cx, cy)
    # limits are applied in lon/lat on the original Natural Earth coordinates, so outlines
    # that follow a border share its vertices exactly (no numerical slivers or overlaps)
    window = box(cx - 8, cy - 6, cx + 8, cy + 6)
    limit = countries.loc[site.iso3].geometry.intersection(window)
    if site.extent is not None:
        limit = limit.intersection(box(*site.extent))
    if site.within is not None:
        limit = limit.intersection(done[site.within])
    cut = shapely.unary_union([done[h] for h in site.holes]) if site.holes else None

    if site.belt is not None:
        other, lat0, lat1 = site.belt
        border = plane.to(shared_border(countries, site.iso3, other, lat0, lat1))
        anchors = [plane.to(Point(p)) for p in site.lobes]
        spokes = [LineString([p, border.interpolate(border.project(p))]) for p in anchors]

        def shape(s: float):  # s = belt half-width in metres
            parts = [border.buffer(s, quad_segs=12)]
            parts += [sp.buffer(0.8 * s, quad_segs=12) for sp in spokes]
            parts += [p.buffer(0.8 * s, quad_segs=12) for p in anchors]
            return shapely.unary_union(parts)
        lo, hi = 1e2, 3e5
    else:
        unit = blob(site)

        def shape(s: float):  # s = linear scale in metres (sqrt of the unclipped area)
            return shapely.affinity.scale(unit, s, s, origin=(0, 0))
        # up to 25x the target area before clipping; larger blobs would wrap in the plane
        lo, hi = 10.0, 5.0 * math.sqrt(site.reported_area_ha * 1e4)

    target = site.reported_area_ha

    def build(s: float):
        g = shapely.make_valid(plane.back(shape(s))).intersection(limit)
        if cut is not None:
            g = g.difference(cut)
        return largest_parts(shapely.make_valid(g))

    if geodesic_area_ha(build(hi)) < target * (1 - 0.15):
        raise SystemExit(f"{site.site_id}: cannot reach {target} ha inside its limits")
    for _ in range(80):  # bisection: area grows monotonically with s (up to clipping)
        mid = math.sqrt(lo * hi)
        area = geodesic_area_ha(build(mid))
        if abs(area - target) <= AREA_TOL * target:
            break
        lo, hi = (mid, hi) if area < target else (lo, mid)
    return build(mid)


def load_countries() -> gpd.GeoDataFrame:
    path = OUT / "countries.gpkg"
    if not path.exists():
        raise SystemExit(f"{path} missing: run tools/build_embedded_data.py --only countries first")
    return gpd.read_file(path).set_index("iso3")


def build_sites(countries) -> gpd.GeoDataFrame:
    done: dict[str, object] = {}
    rows = []
    for site in SITES:
        geom = digitise(site, countries, done)
        done[site.site_id] = geom
        area = geodesic_area_ha(geom)
        print(f"  {site.site_id:<18} {site.iso3} reported {site.reported_area_ha:>12,.1f} ha  "
              f"schematic {area:>12,.1f} ha ({100 * (area / site.reported_area_ha - 1):+.1f} %)")
        rows.append({
            "site_id": site.site_id,
            "name_en": site.name_en,
            "name_local": site.name_local,
            "name_zh": site.names.get("zh", ""),
            "name_ru": site.names.get("ru", ""),
            "name_ko": site.names.get("ko", ""),
            "name_mn": site.names.get("mn", ""),
            "iso3": site.iso3,
            "designation": site.designation,
            "iucn_cat": site.iucn_cat,
            "status_year": site.status_year,
            "reported_area_ha": site.reported_area_ha,
            "landscape": site.landscape,
            "source": site.source,
            "geometry_quality": "schematic",
            "area_uncertain": site.area_uncertain,
            "parent_site": site.parent_site,
            "ref_lon": round(site.lon, 5),
            "ref_lat": round(site.lat, 5),
            "schematic_area_ha": round(area, 1),
            "method": site.method_note,
            "geometry": geom,
        })
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    gdf["status_year"] = gdf["status_year"].astype("Int64")
    order = {name: i for i, name in enumerate(LANDSCAPE_ORDER)}
    gdf = gdf.sort_values("landscape", key=lambda s: s.map(order), kind="stable")
    return gdf.reset_index(drop=True)


# ----------------------------------------------------------------------------- Tumen options
def build_tumen_options(sites: gpd.GeoDataFrame, countries) -> gpd.GeoDataFrame:
    """Draft boundary options A/B/C for the transboundary Tumen estuary Ramsar site."""
    geom = sites.set_index("site_id").geometry
    plane = Plane(130.65, 42.45)
    frame = box(130.30, 42.20, 131.00, 42.80)
    land = {c: plane.to(countries.loc[c].geometry.intersection(frame)) for c in ("CHN", "RUS", "PRK")}
    all_land = shapely.unary_union(list(land.values()))

    core = shapely.unary_union([plane.to(geom[s]) for s in ("RASON", "FANGCHUAN", "KHASANSKY")])
    # the lower Tumen: the shared DPRK-Russia and DPRK-China borders from Fangchuan to the sea
    river = shapely.unary_union([
        plane.to(shared_border(countries, "PRK", "RUS", 42.20, 42.62)),
        plane.to(shared_border(countries, "PRK", "CHN", 42.52, 42.62)),
    ])
    corridor = river.buffer(1_500).intersection(all_land)
    delta = shapely.unary_union([core, corridor] + [plane.to(geom[s]) for s in
                                                     ("JINGXIN", "MALOYE_MRAMORNOYE")])
    # coastal lagoons: land within 4 km of the sea between the Rason lagoons and Khasan
    shared = shapely.unary_union([
        shared_border(countries, a, b, 42.0, 43.0)
        for a, b in (("PRK", "RUS"), ("PRK", "CHN"), ("CHN", "RUS"))
    ])
    coast = plane.to(shapely.unary_union(
        [countries.loc[c].geometry.intersection(frame).boundary for c in ("CHN", "RUS", "PRK")]
    ).difference(shared.buffer(1e-4)).difference(frame.exterior.buffer(1e-4)))
    lagoon_zone = plane.to(box(130.45, 42.25, 130.82, 42.58))
    coastal = coast.buffer(4_000).intersection(all_land).intersection(lagoon_zone)
    extended = shapely.unary_union([delta.buffer(2_000), coastal]).intersection(all_land)

    def out(g):
        return largest_parts(shapely.make_valid(plane.back(g)), 0.0)

    options = gpd.GeoDataFrame(
        {
            "option_id": ["A", "B", "C"],
            "name": ["Ramsar core", "Delta complex", "Extended estuary"],
            "description": [
                "The existing wetland sites only: Rason Migratory Bird Reserve (PRK), Fangchuan "
                "(CHN) and the main cluster of Khasansky Nature Park (RUS).",
                "Option A plus Jingxin wetland (CHN), Maloye Mramornoye Lake (RUS) and a 1.5 km "
                "corridor each side of the lower Tumen between them.",
                "Option B buffered by 2 km plus the coastal lagoon zone (land within 4 km of the "
                "sea between 130.45 and 130.82 E, 42.25-42.58 N), on land only.",
            ],
            "geometry_quality": "schematic",
            "geometry": [out(core), out(delta), out(extended)],
        },
        geometry="geometry", crs="EPSG:4326",
    )
    for _, r in options.iterrows():
        print(f"  option {r.option_id} {r['name']:<17} {geodesic_area_ha(r.geometry):>10,.0f} ha")
    return options


# ----------------------------------------------------------------------------- writing
def write_outputs(sites: gpd.GeoDataFrame, options: gpd.GeoDataFrame, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(out_dir / "sites.csv") as tmp:
        pd.DataFrame(sites.drop(columns="geometry")).to_csv(tmp, index=False)
    with atomic_path(out_dir / "sites.gpkg") as tmp:
        sites.to_file(tmp, layer="sites", driver="GPKG")
    with atomic_path(out_dir / "tumen_options.gpkg") as tmp:
        options.to_file(tmp, layer="options", driver="GPKG")
    for name in ("sites.csv", "sites.gpkg", "tumen_options.gpkg"):
        p = out_dir / name
        print(f"  wrote {p} ({p.stat().st_size:,} bytes)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help="output directory")
    args = parser.parse_args(argv)
    countries = load_countries()
    print("[sites]")
    sites = build_sites(countries)
    print("[tumen options]")
    options = build_tumen_options(sites, countries)
    write_outputs(sites, options, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
