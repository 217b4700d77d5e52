"""A short table per report for the terminal: the headline numbers, from the same report object."""

from __future__ import annotations


def _pct(value) -> str:
    return "—" if value is None or isinstance(value, str) else f"{value:.1%}"


def _interval(share, low, high) -> str:
    if share is None or isinstance(share, str):
        return "—"
    return f"{share:.1%} ({low:.1%}–{high:.1%})" if low is not None and high is not None else f"{share:.1%}"


def _group_name(group: dict, label: str) -> str:
    if group.get("name"):
        return f"{group['name']}, {group['state']}" if group.get("state") else group["name"]
    return str(group.get(label) or group.get("region") or "—")


def summary(report: dict) -> tuple[str, list[str], list[list]]:
    """(title, column names, rows) of the report's headline table; values are shown as they stand."""
    name = report["report"]
    if name == "non-cooperative":
        rows = [[f"{j['name']}, {j['state']}", (j["policy"] or {}).get("stance"), j["counts"]["people"],
                 j["counts"]["by_category"].get("sex_offense_child", 0)] for j in report["jurisdictions"]]
        return (f"People held with an active detainer on {report['as_of']}",
                ["jurisdiction", "policy", "people held", "charged: sex offence against a child"], rows)
    if name == "declined":
        rows = [[f"{j['name']}, {j['state']}" if j.get("jurisdiction_id") else "(unplaced facilities)",
                 j.get("policy_stance"), j["issued"], j["ended"], j["declined"], j["decided"],
                 _pct(j["decline_rate"])] for j in report["jurisdictions"]]
        return (f"Detainers ended {report['period']['from']} to {report['period']['to']}",
                ["jurisdiction", "policy", "issued", "ended", "declined", "decided", "decline rate"], rows)
    if name == "transfers":
        label = "jurisdiction_id" if report["parameters"].get("by", "jurisdiction") == "jurisdiction" else "region"
        rows = [[_group_name(g, label), f"FY{y['fy']}", y["honored_by_ended"], y["ended"],
                 _pct(y["share_honored"])] for g in report["groups"] for y in g["years"]]
        return ("Transfers to ICE custody by fiscal year (ended cohort)",
                ["group", "year", "honored", "ended", "share honored"], rows)
    if name == "policy-change":
        rows = [[w["window"], f"{w['from']} – {w['to']}", w["decided"],
                 _interval((w["shares"]["declined"] or {}).get("share"), (w["shares"]["declined"] or {}).get("low"),
                           (w["shares"]["declined"] or {}).get("high"))] for w in report["windows"]]
        return (f"{report['jurisdiction']['name']}: decline share before and after {report['parameters'].get('change_date', '')}",
                ["window", "days", "decided", "declined share (95% interval)"], rows)
    if name == "rearrest":
        rows = [[g["label"], g["released"], g["followed"], g["rebooked"], _interval(g["share"], g["low"], g["high"]),
                 g["median_days"] if g["median_days"] is not None else "—"] for g in report["groups"]]
        return (f"Booked again within {report['parameters'].get('follow_days', '')} days of release",
                ["group", "released", "followed", "re-booked", "share (95% interval)", "median days"], rows)
    return report.get("title", name), [], []
