"""The county map of the home page, drawn on the server as SVG with clickable counties.

Counties are filled by the stance of the policy in force on a day (declines, limited,
honors, or no policy recorded) or by the number of detainers lodged with the county's
facilities (in one fiscal year, or ever), in classes the page's legend lists. A county
that is a jurisdiction in the data is a link to that jurisdiction's page; counties with
no jurisdiction in the data are light grey and are not links.

The geometry is the vendored us-atlas TopoJSON of reports.countymap (inlined into the
Vega-Lite spec, never fetched); vl-convert draws it (reports.charts.to_svg). Vega-Lite's
`href` channel makes vl-convert wrap each county in an `<a>`; vl-convert resolves a
relative href against its own base URL, so the spec carries absolute URLs on a sentinel
host that `finish_svg` turns back into site paths. Drawing takes a second or two, so
SVGs are kept in a small per-app cache keyed by the view and a data version.
"""

from __future__ import annotations

import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from html import escape
from math import cos, radians
from urllib.parse import quote

import altair as alt
from sqlalchemy import Connection, func, select

from detainers.analytics.policies import jurisdictions_on
from detainers.reports import charts, countymap
from detainers.store.schema import detainers, facilities, jurisdictions, policies, sources

VIEWS = ("stance", "volume")
#: Stance fills; the same colours as the `.stance` badges of style.css.
STANCE_COLOURS = {"declines": "#c2410c", "limited": "#ca8a04", "honors": "#1d4ed8", "unknown": "#9ca3af"}
STANCE_LABELS = {"declines": "Declines detainers", "limited": "Honors only under conditions",
                 "honors": "Honors detainers", "unknown": "No policy recorded for the day"}
#: Volume classes, lightest (none lodged) to darkest.
VOLUME_COLOURS = ("#e3eef9", "#9ecae1", "#4292c6", "#2166ac", "#08306b")
NO_JURISDICTION = "#e5e7eb"
NO_JURISDICTION_LABEL = "No jurisdiction in the data"
STATE_FILL = "#eef0f3"
_SENTINEL = "https://detainers.invalid"
_PLACEHOLDER = "detainers-map-"


@dataclass(frozen=True)
class MapQuery:
    """What the map shows: `view` stance or volume, one `state` (postal code) or all, a day, a FY."""

    view: str
    state: str | None
    day: date
    fy: int | None


# ---------------------------------------------------------------- data


def latest_day(conn: Connection) -> date | None:
    """The latest day the data describes: the last day a detainer was lodged."""
    return conn.execute(select(func.max(detainers.c.lodged_on))).scalar()


def fiscal_years(conn: Connection) -> list[int]:
    """Fiscal years in which detainers were lodged, newest first."""
    query = select(detainers.c.lodged_fy).where(detainers.c.lodged_fy.is_not(None)).distinct()
    return sorted((int(y) for y in conn.execute(query).scalars()), reverse=True)


def data_version(conn: Connection) -> tuple:
    """Changes whenever a source is loaded or a policy is added (what the cached maps depend on)."""
    src = conn.execute(select(func.max(sources.c.source_id), func.count()).select_from(sources)).one()
    pol = conn.execute(select(func.max(policies.c.policy_id), func.count()).select_from(policies)).one()
    return (src[0], src[1], pol[0], pol[1])


def state_choices(conn: Connection) -> list[dict]:
    """States that hold a county jurisdiction with a FIPS code: {state, fips, name}, by name."""
    query = (select(jurisdictions.c.state, jurisdictions.c.fips)
             .where(jurisdictions.c.fips.is_not(None), func.length(jurisdictions.c.fips) == 5))
    prefixes: dict[str, Counter] = {}
    for state, fips in conn.execute(query):
        prefixes.setdefault(state, Counter())[fips[:2]] += 1
    names = {g["id"]: g.get("properties", {}).get("name")
             for g in countymap.topology()["objects"]["states"]["geometries"] if g.get("id")}
    found = []
    for state, counter in prefixes.items():
        fips = counter.most_common(1)[0][0]
        found.append({"state": state, "fips": fips, "name": names.get(fips) or state})
    return sorted(found, key=lambda s: s["name"])


def detainer_counts(conn: Connection, fy: int | None) -> dict[str, int]:
    """Detainers lodged with each jurisdiction's facilities (in fiscal year `fy`, or ever)."""
    query = (select(facilities.c.jurisdiction_id, func.count().label("n"))
             .select_from(detainers.join(facilities, facilities.c.facility_id == detainers.c.facility_id))
             .where(facilities.c.jurisdiction_id.is_not(None))
             .group_by(facilities.c.jurisdiction_id))
    if fy is not None:
        query = query.where(detainers.c.lodged_fy == fy)
    return {r.jurisdiction_id: int(r.n) for r in conn.execute(query)}


def jurisdiction_rows(conn: Connection, q: MapQuery) -> list[dict]:
    """The jurisdictions in the map's scope with their stance on the day and their detainers."""
    counts = detainer_counts(conn, q.fy)
    rows = []
    for j in jurisdictions_on(conn, q.day):
        if q.state and j.state != q.state:
            continue
        fips = j.fips if j.fips and len(j.fips) == 5 and j.fips.isdigit() else None
        rows.append({"jurisdiction_id": j.jurisdiction_id, "name": j.name, "state": j.state, "kind": j.kind,
                     "fips": fips, "stance": j.stance or "unknown", "agreement": j.agreement,
                     "detainers": counts.get(j.jurisdiction_id, 0)})
    return rows


# ---------------------------------------------------------------- classes and legend


def volume_breaks(values: list[int], classes: int = 4) -> list[tuple[int, int | None]]:
    """Classes by order of magnitude (1–9, 10–99, ...) up to max(values), at most `classes` of them
    (the lowest merged first); the top class is open: (low, None). Empty when every value is 0.

    Detainer counts are skewed (a few counties hold most), so equal ranges would put nearly
    every county in the lowest class.
    """
    top = max(values, default=0)
    if top <= 0:
        return []
    lows = [1]
    while lows[-1] * 10 <= top:
        lows.append(lows[-1] * 10)
    while len(lows) > classes:
        del lows[1]
    return [(low, (lows[i + 1] - 1) if i + 1 < len(lows) else None) for i, low in enumerate(lows)]


def classify(rows: list[dict], view: str) -> list[dict]:
    """The legend (key, label, colour, counties) and each mapped row's `cls` key (set in place)."""
    mapped = [r for r in rows if r["fips"]]
    if view == "stance":
        legend = [{"key": s, "label": STANCE_LABELS[s], "colour": c} for s, c in STANCE_COLOURS.items()]
        for r in mapped:
            r["cls"] = r["stance"] if r["stance"] in STANCE_COLOURS else "unknown"
    elif view == "volume":
        breaks = volume_breaks([r["detainers"] for r in mapped])
        legend = [{"key": "v0", "label": "None lodged", "colour": VOLUME_COLOURS[0]}]
        for i, (low, high) in enumerate(breaks, start=1):
            label = f"{low:,} or more" if high is None else (f"{low:,}" if low == high else f"{low:,}–{high:,}")
            legend.append({"key": f"v{i}", "label": label, "colour": VOLUME_COLOURS[i]})
        for r in mapped:
            n = r["detainers"]
            r["cls"] = "v0" if n <= 0 else "v" + str(next(
                i for i, (_, hi) in enumerate(breaks, start=1) if hi is None or n <= hi))
    else:
        raise ValueError(f"view is one of {', '.join(VIEWS)}, not {view!r}")
    used = Counter(r["cls"] for r in mapped)
    for item in legend:
        item["counties"] = used.get(item["key"], 0)
    legend.append({"key": "none", "label": NO_JURISDICTION_LABEL, "colour": NO_JURISDICTION, "counties": None})
    return legend


# ---------------------------------------------------------------- drawing


def county_label(row: dict, view: str) -> str:
    """What a county's link says (its accessible name and hover title)."""
    what = (STANCE_LABELS.get(row["stance"], row["stance"]).lower() if view == "stance"
            else f"{row['detainers']:,} detainers lodged")
    return f"{row['name']}, {row['state']}: {what}"


def _bounds(topo: dict) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) in degrees of every arc of a quantized TopoJSON topology."""
    (kx, ky), (dx, dy) = topo["transform"]["scale"], topo["transform"]["translate"]
    xs, ys = [], []
    for arc in topo["arcs"]:
        x = y = 0
        for step in arc:
            x, y = x + step[0], y + step[1]
            xs.append(x)
            ys.append(y)
    if not xs:
        return None
    return min(xs) * kx + dx, min(ys) * ky + dy, max(xs) * kx + dx, max(ys) * ky + dy


def map_height(topo: dict, width: int, low: int = 260, high: int = 620) -> int:
    """A height that fits one state's shape at `width` (so a wide state leaves no empty band)."""
    box = _bounds(topo)
    if box is None:
        return high
    west, south, east, north = box
    across = (east - west) * cos(radians((north + south) / 2))
    if across <= 0:
        return high
    return int(min(high, max(low, width * (north - south) / across)))


def map_spec(rows: list[dict], legend: list[dict], view: str, state_fips: str | None,
             width: int = 880, height: int | None = None) -> dict:
    """The Vega-Lite spec: grey counties of the states shown, coloured linked counties, state borders.

    The nation is drawn 880 × 540; one state gets a height that fits its shape (unless given)."""
    mapped = [r for r in rows if r["fips"] and r.get("cls")]
    if state_fips:
        shown = {state_fips}
    else:
        shown = {r["fips"][:2] for r in mapped}
    topo = countymap.subset(countymap.topology(), shown or {"__"})
    if height is None:
        height = map_height(topo, width) if state_fips else 540
    table = [{"fips": r["fips"], "cls": r["cls"], "label": county_label(r, view),
              "url": f"{_SENTINEL}/jurisdictions/{quote(r['jurisdiction_id'], safe='')}"} for r in mapped]
    keys = [item["key"] for item in legend if item["key"] != "none"]
    colours = [item["colour"] for item in legend if item["key"] != "none"]

    def geo(what: str) -> alt.NamedData:
        return alt.NamedData(name=f"{_PLACEHOLDER}{what}")

    lookup = alt.LookupData(data=alt.Data(values=table), key="fips", fields=["cls", "label", "url"])
    layers = []
    if not state_fips:  # the nation for context: states without data are drawn whole, without counties
        layers.append(alt.Chart(geo("nation:states")).mark_geoshape(fill=STATE_FILL, stroke="#ffffff",
                                                                   strokeWidth=0.8))
    layers.append(alt.Chart(geo("shown:counties")).mark_geoshape(fill=NO_JURISDICTION, stroke="#ffffff",
                                                                 strokeWidth=0.5))
    layers.append(
        alt.Chart(geo("shown:counties")).transform_lookup(lookup="id", from_=lookup)
        .transform_filter("isValid(datum.url)")
        .mark_geoshape(stroke="#ffffff", strokeWidth=0.6, cursor="pointer")
        .encode(color=alt.Color("cls:N", scale=alt.Scale(domain=keys, range=colours), legend=None),
                href=alt.Href("url:N"), description=alt.Description("label:N")))
    layers.append(alt.Chart(geo("shown:states")).mark_geoshape(fill=None, stroke="#4a5566", strokeWidth=1.0))
    chart = alt.layer(*layers).project(type="albersUsa").properties(width=width, height=height)
    spec = chart.configure(background="white").configure_view(stroke=None).to_dict(validate=False)
    full = countymap.topology()
    for layer in spec["layer"]:
        name = layer.get("data", {}).get("name", "")
        if name.startswith(_PLACEHOLDER):
            which, feature = name[len(_PLACEHOLDER):].split(":")
            layer["data"] = {"values": full if which == "nation" else topo,
                             "format": {"type": "topojson", "feature": feature}}
    return spec


_ANCHOR = re.compile(r'<a xlink:href="([^"]*)">')
_PATH_DATA = re.compile(r' d="([^"]*)"')
_DECIMALS = re.compile(r"(\d+\.\d)\d+")
_LINKED_PATH = re.compile(r'(<a href="[^"]*">)(<path aria-label="([^"]*)")')


def finish_svg(svg: str, label: str) -> str:
    """Site-relative links (anything else unwrapped), a hover title per county, rounded paths, a label."""
    def anchor(m: re.Match) -> str:
        href = m.group(1)
        if href.startswith(_SENTINEL + "/"):
            return f'<a href="{href[len(_SENTINEL):]}">'
        return "<a>"  # not ours: keep the element balanced, but it links nowhere

    svg = _ANCHOR.sub(anchor, svg)
    svg = _LINKED_PATH.sub(lambda m: f"{m.group(1)}<title>{m.group(3)}</title>{m.group(2)}", svg)
    svg = _PATH_DATA.sub(lambda m: ' d="' + _DECIMALS.sub(r"\1", m.group(1)) + '"', svg)
    return svg.replace("<svg ", f'<svg class="county-map" role="group" aria-label="{escape(label)}" ', 1)


def render(rows: list[dict], legend: list[dict], view: str, state_fips: str | None, label: str) -> str:
    """The map as SVG text, ready to inline in a page."""
    return finish_svg(charts.to_svg(map_spec(rows, legend, view, state_fips)), label)


# ---------------------------------------------------------------- cache


class SvgCache:
    """A small least-recently-used cache of drawn maps (thread-safe: sync routes run in a pool)."""

    def __init__(self, size: int = 32) -> None:
        self._size = size
        self._items: OrderedDict[tuple, str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, make: Callable[[], str]) -> tuple[str, bool]:
        """The SVG for `key`, drawn by `make` when missing; and whether it came from the cache."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key], True
        svg = make()
        with self._lock:
            self._items[key] = svg
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return svg, False

    def __len__(self) -> int:
        return len(self._items)


_CACHES_LOCK = threading.Lock()


def cache_of(app) -> SvgCache:
    """The app's map cache (one per app, so two databases never share drawings)."""
    with _CACHES_LOCK:
        cache = getattr(app.state, "map_cache", None)
        if cache is None:
            cache = app.state.map_cache = SvgCache()
        return cache
