"""Reports drawn as plotly figures, returned as JSON for the page to hand to plotly.js.

A bar or point that leads to the questions behind it carries that link in `customdata`: the page's script
follows it on a click, and the table under each chart gives the same links without JavaScript.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Callable

import plotly.graph_objects as go

from dashboard.labels import day
from throughcare.labels import STAGES
from throughcare.reporting.reports import Report

# The Okabe-Ito palette, told apart by people with the common colour-vision deficiencies.
COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
OTHER_COLOUR = "#BBBBBB"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"
TOP_TOPICS = 8
LEGEND_CHARACTERS = 48
MAX_TICKS = 13


def _figure(traces: list[go.BaseTraceType], height: int = 360, **layout: object) -> str:
    figure = go.Figure(traces)
    # Zooming and dragging only confuse a chart that is read, not explored; a click is a drill-down.
    figure.update_layout(
        template="simple_white",
        font={"family": FONT, "size": 14, "color": "#1a1a1a"},
        height=height,
        margin={"l": 60, "r": 20, "t": 10, "b": 50},
        dragmode=False,
        hoverlabel={"font": {"size": 14}},
        xaxis={"fixedrange": True},
        yaxis={"fixedrange": True, "showgrid": True, "gridcolor": "#e5e5e5", "rangemode": "tozero"},
    )
    figure.update_layout(**layout)
    return figure.to_json()


def _week_axis(weeks: list[dt.date]) -> dict:
    """Ticks on the Mondays the figures are for (plotly's own fall on Sundays), at most about a dozen."""
    shown = weeks[:: max(1, math.ceil(len(weeks) / MAX_TICKS))]
    return {
        "title": {"text": "Week beginning"},
        "tickmode": "array",
        "tickvals": [week.isoformat() for week in shown],
        "ticktext": [f"{week.day} {week:%b}" for week in shown],
        "fixedrange": True,
    }


def fallback_figure(report: Report, link: Callable[[dt.date], str]) -> str:
    """The fallback rate per week as a line; a point leads to that week's questions that fell back."""
    weeks = [row[0] for row in report.rows]
    trace = go.Scatter(
        x=[week.isoformat() for week in weeks],
        y=[row[3] for row in report.rows],
        mode="lines+markers",
        name="Fell back",
        line={"color": COLOURS[0], "width": 3},
        marker={"size": 11},
        hovertext=[
            f"Week beginning {day(week)}<br>{fell_back} of {queries} questions fell back ({rate}%)"
            for week, queries, fell_back, rate in report.rows
        ],
        customdata=[link(week) for week in weeks],
        hovertemplate="%{hovertext}<extra></extra>",
    )
    return _figure(
        [trace],
        xaxis=_week_axis(weeks),
        yaxis={"title": {"text": "Questions that fell back"}, "ticksuffix": "%"},
    )


def topic_totals(report: Report, top: int = TOP_TOPICS) -> list[tuple[str | None, int]]:
    """The `top` topics most asked about in the period, then all the rest together under None."""
    totals: Counter[str] = Counter()
    for _week, topic, queries in report.rows:
        totals[topic] += queries
    leaders = totals.most_common(top)
    rest = sum(totals.values()) - sum(count for _topic, count in leaders)
    return [*leaders, (None, rest)] if rest else leaders


def _shortened(text: str) -> str:
    return text if len(text) <= LEGEND_CHARACTERS else text[: LEGEND_CHARACTERS - 1].rstrip() + "…"


def topics_figure(
    report: Report, label: Callable[[str], str], link: Callable[[dt.date, str], str], top: int = TOP_TOPICS
) -> str:
    """Questions per week as bars stacked by topic: the most asked topics, then the rest as "Other topics".
    A bar of a named topic leads to that week's questions on it."""
    weeks = sorted({row[0] for row in report.rows})
    counts: dict[str | None, Counter[dt.date]] = {topic: Counter() for topic, _total in topic_totals(report, top)}
    for week, topic, queries in report.rows:
        counts[topic if topic in counts else None][week] += queries
    traces = []
    for index, (topic, per_week) in enumerate(counts.items()):
        name = label(topic) if topic is not None else "Other topics"
        traces.append(
            go.Bar(
                x=[week.isoformat() for week in weeks],
                y=[per_week[week] for week in weeks],
                name=_shortened(name),
                marker={"color": COLOURS[index % len(COLOURS)] if topic is not None else OTHER_COLOUR},
                hovertext=[f"Week beginning {day(week)}<br>{name}: {per_week[week]}" for week in weeks],
                customdata=[link(week, topic) if topic is not None else "" for week in weeks],
                hovertemplate="%{hovertext}<extra></extra>",
            )
        )
    return _figure(
        traces,
        height=560,
        barmode="stack",
        xaxis=_week_axis(weeks),
        yaxis={"title": {"text": "Questions"}},
        legend={"orientation": "h", "x": 0, "y": -0.22, "yanchor": "top", "traceorder": "normal"},
        margin={"b": 10},
    )


def overdue_figure(report: Report) -> str:
    """Overdue steps per key worker as horizontal bars, the most overdue at the top."""
    rows = list(reversed(report.rows))
    trace = go.Bar(
        x=[row[2] for row in rows],
        y=[row[0] for row in rows],
        orientation="h",
        marker={"color": COLOURS[5]},
        text=[row[2] for row in rows],
        textposition="outside",
        hovertext=[
            f"{worker}{f' ({team})' if team else ''}<br>{steps} overdue steps for {clients} clients"
            for worker, team, steps, clients in rows
        ],
        hovertemplate="%{hovertext}<extra></extra>",
    )
    return _figure(
        [trace],
        height=120 + 45 * len(rows),
        xaxis={"title": {"text": "Overdue steps"}, "fixedrange": True, "showgrid": True, "gridcolor": "#e5e5e5"},
        yaxis={"fixedrange": True, "showgrid": False, "automargin": True},
        margin={"l": 10},
    )


def caseload_figure(report: Report, stage_label: Callable[[str], str], level_label: Callable[[str], str]) -> str:
    """Open clients per stage, each bar split by care level."""
    stages = [stage for stage in STAGES if any(row[0] == stage for row in report.rows)]
    levels = sorted({row[1] for row in report.rows}, key=lambda level: (level == "(not set)", level))
    clients = {(stage, level): count for stage, level, count in report.rows}
    traces = [
        go.Bar(
            x=[stage_label(stage) for stage in stages],
            y=[clients.get((stage, level), 0) for stage in stages],
            name=level_label(level),
            marker={"color": OTHER_COLOUR if level == "(not set)" else COLOURS[index % len(COLOURS)]},
            hovertext=[
                f"{stage_label(stage)}<br>{level_label(level)}: {clients.get((stage, level), 0)} clients"
                for stage in stages
            ],
            hovertemplate="%{hovertext}<extra></extra>",
        )
        for index, level in enumerate(levels)
    ]
    return _figure(
        traces,
        height=420,
        barmode="stack",
        yaxis={"title": {"text": "Open clients"}},
        legend={"title": {"text": "Care level"}},
    )
