"""A U.S. county choropleth from the vendored us-atlas TopoJSON, drawn offline with vl-convert.

`county_map(values, stances=...)` returns a Vega-Lite spec (a dict, built with Altair):
counties filled by a value per five-digit county FIPS code (people held, decline
rate, ...), with a colour legend; each county's policy stance drawn as its outline
(solid, dashed or dotted, with a legend); state borders on top, from the same file's
`states` object; albersUsa projection. Counties of the states shown that have no
value are light grey.

The geometry is inlined into the spec as data values (`format: topojson`), never
read from a URL, so drawing needs no network. By default only the states that hold
a county with a value or stance are drawn (`extent="states"`): the spec stays small
and the counties stay large enough to see; `extent="nation"` draws every state.
Draw with `charts.to_svg` / `charts.to_png`.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

import altair as alt

GEOMETRY = "geo/counties-10m.json"
#: Stance → outline dash pattern (stroke, gap); the legend shows them.
STANCE_DASH = {
    "declines": [1, 0],
    "limited": [5, 3],
    "honors": [1.5, 2.5],
}
NO_DATA = "#eef0f3"
COUNTY_STROKE = "#ffffff"
STATE_STROKE = "#4a5566"
OUTLINE = "#1d2430"
SCHEME = "blues"
_PLACEHOLDER = "detainers-geometry-"


@lru_cache(maxsize=1)
def topology() -> dict:
    """The vendored us-atlas 3.0.1 counties-10m TopoJSON (read once)."""
    text = resources.files("detainers.reports").joinpath(GEOMETRY).read_text(encoding="utf-8")
    return json.loads(text)


def state_of(fips: str) -> str:
    return fips[:2]


def _arc_ids(arcs) -> list[int]:
    """Every arc index in a geometry's (nested) `arcs`."""
    if isinstance(arcs, int):
        return [arcs]
    return [i for part in arcs for i in _arc_ids(part)]


def _remap(arcs, new: dict[int, int]):
    if isinstance(arcs, int):
        return new[arcs] if arcs >= 0 else ~new[~arcs]
    return [_remap(part, new) for part in arcs]


def subset(topo: dict, states: set[str] | None) -> dict:
    """The topology with only the counties and states of `states` (all when None), unused arcs dropped."""
    if states is None:
        return topo
    objects = {}
    for name in ("counties", "states"):
        obj = topo["objects"][name]
        geometries = [g for g in obj["geometries"] if g.get("id") and state_of(g["id"]) in states]
        objects[name] = {**obj, "geometries": geometries}
    used = sorted({i if i >= 0 else ~i for obj in objects.values() for g in obj["geometries"]
                   for i in _arc_ids(g.get("arcs", []))})
    new = {old: k for k, old in enumerate(used)}
    for obj in objects.values():
        obj["geometries"] = [{**g, "arcs": _remap(g["arcs"], new)} if "arcs" in g else g for g in obj["geometries"]]
    return {"type": "Topology", "transform": topo["transform"], "objects": objects,
            "arcs": [topo["arcs"][i] for i in used]}


def county_map(values: dict[str, float], *, stances: dict[str, str | None] | None = None,
               title: str = "By county", subtitle: list[str] | None = None, value_title: str = "value",
               value_format: str | None = None, domain: tuple[float, float] | None = None,
               synthetic: bool | str = False, extent: str = "states", width: int = 560, height: int = 340):
    """A choropleth of `values` (county FIPS → number) with `stances` (FIPS → stance) as outlines.

    Returns the Vega-Lite spec as a dict (the geometry inlined), ready for charts.to_svg / to_png.
    """
    from detainers.reports.charts import _CONFIG, _title  # shared look

    stances = {f: s for f, s in (stances or {}).items() if s}
    fips = {f.zfill(5) for f in values} | {f.zfill(5) for f in stances}
    if extent == "states":
        shown = {state_of(f) for f in fips}
        topo = subset(topology(), shown or None)
    elif extent == "nation":
        topo = topology()
    else:
        raise ValueError(f"extent is 'states' or 'nation', not {extent!r}")
    table = [{"fips": f.zfill(5), "value": v, "stance": stances.get(f)} for f, v in values.items()]
    table += [{"fips": f.zfill(5), "value": None, "stance": s} for f, s in stances.items() if f not in values]

    def geo(feature: str) -> alt.NamedData:
        # Named data here; the TopoJSON is put inline after to_dict, since Altair would walk every arc
        return alt.NamedData(name=f"{_PLACEHOLDER}{feature}")

    lookup = alt.LookupData(data=alt.Data(values=table), key="fips", fields=["value", "stance"])
    base = alt.Chart(geo("counties")).mark_geoshape(fill=NO_DATA, stroke=COUNTY_STROKE, strokeWidth=0.4)
    scale = alt.Scale(scheme=SCHEME, domain=list(domain)) if domain else alt.Scale(scheme=SCHEME, zero=True)
    legend = alt.Legend(title=value_title, format=value_format, orient="right", gradientLength=160) \
        if value_format else alt.Legend(title=value_title, orient="right", gradientLength=160)
    filled = (alt.Chart(geo("counties")).transform_lookup(lookup="id", from_=lookup)
              .transform_filter("isValid(datum.value)")
              .mark_geoshape(stroke=COUNTY_STROKE, strokeWidth=0.4)
              .encode(color=alt.Color("value:Q", scale=scale, legend=legend)))
    layers = [base, filled]
    if stances:
        kinds = [s for s in STANCE_DASH if s in set(stances.values())] + \
            sorted({s for s in stances.values() if s not in STANCE_DASH})
        dashes = [STANCE_DASH.get(s, [3, 1, 1, 1]) for s in kinds]
        layers.append(
            alt.Chart(geo("counties")).transform_lookup(lookup="id", from_=lookup)
            .transform_filter("isValid(datum.stance)")
            .mark_geoshape(fill=None, stroke=OUTLINE, strokeWidth=1.6)
            .encode(strokeDash=alt.StrokeDash("stance:N", title="policy (outline)",
                                              scale=alt.Scale(domain=kinds, range=dashes),
                                              legend=alt.Legend(orient="right", symbolType="stroke",
                                                                symbolStrokeWidth=1.6, symbolSize=300))))
    layers.append(alt.Chart(geo("states")).mark_geoshape(fill=None, stroke=STATE_STROKE, strokeWidth=0.9))
    chart = alt.layer(*layers).project(type="albersUsa").properties(
        width=width, height=height,
        title=_title(title, (subtitle or []) + ["Light grey: counties not in this report."], synthetic))
    spec = (chart.configure(font=_CONFIG["font"], background="white")
            .configure_title(**_CONFIG["title"]).configure_legend(**_CONFIG["legend"])
            .configure_view(stroke=None)).to_dict(validate=False)
    for layer in spec["layer"]:
        name = layer.get("data", {}).get("name", "")
        if name.startswith(_PLACEHOLDER):
            layer["data"] = {"values": topo, "format": {"type": "topojson", "feature": name[len(_PLACEHOLDER):]}}
    return spec
