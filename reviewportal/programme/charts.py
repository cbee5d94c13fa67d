"""The programme page's charts, laid out here and drawn by the template as inline SVG.

Each chart is numbers placed on a fixed grid (the SVG's viewBox; it scales with the page), so the
template writes no arithmetic and the page needs no script. Meaning never rests on colour alone:
every bar and mark carries its number or name as text, shapes differ (a bar is a case window, a
diamond a planned release, an outlined diamond with "late" beside it a late notice), and each chart
is followed on the page by a table with the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from accounts.states import EngagementStage

# The stages' fills, darkest for signed; each bar also carries its stage's name and count.
STAGE_CLASSES = {
    EngagementStage.PROSPECT: "portal-chart__bar--prospect",
    EngagementStage.IN_DISCUSSION: "portal-chart__bar--discussion",
    EngagementStage.NEGOTIATING: "portal-chart__bar--negotiating",
    EngagementStage.SIGNED: "portal-chart__bar--signed",
    EngagementStage.LAPSED: "portal-chart__bar--lapsed",
}

LABEL_WIDTH = 180  # the names at the left of each row
PLOT_WIDTH = 520
ROW_HEIGHT = 36
BAR_HEIGHT = 20
TOP = 28  # room for the axis labels of the timeline
TIMELINE_WIDTH = LABEL_WIDTH + PLOT_WIDTH + 20
CHAR_WIDTH = 6.6  # the average width of a character of the charts' 12px text, for placing labels


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    x: int
    y: int
    width: int
    css: str
    text_x: int


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    width: int
    height: int
    bar_height: int
    label_x: int


def stage_chart(stage_counts: list[tuple[str, str, int]]) -> BarChart:
    """One horizontal bar per engagement stage, as long as the number of companies at it."""
    most = max((n for _v, _l, n in stage_counts), default=0) or 1
    bars = []
    for row, (value, label, count) in enumerate(stage_counts):
        width = round(PLOT_WIDTH * count / most)
        y = row * ROW_HEIGHT + 8
        bars.append(
            Bar(
                label=label,
                count=count,
                x=LABEL_WIDTH,
                y=y,
                width=width,
                css=STAGE_CLASSES[value],
                text_x=LABEL_WIDTH + width + 8,
            )
        )
    return BarChart(
        bars=bars,
        width=LABEL_WIDTH + PLOT_WIDTH + 60,
        height=len(stage_counts) * ROW_HEIGHT + 8,
        bar_height=BAR_HEIGHT,
        label_x=LABEL_WIDTH - 10,
    )


@dataclass(frozen=True)
class TimelineItem:
    """One line of the timeline: a case's access window (a bar) or a planned release (a diamond).

    ``company`` is set on the first line of each company's group. The text goes right of the shape,
    or left of it (``anchor`` end) when the shape lies in the right half, so it stays on the chart.
    """

    company: str
    kind: str  # "case" or "release"
    y: int
    x: int
    width: int
    text: str
    text_x: int
    anchor: str
    late: bool = False
    url: str = ""

    @property
    def is_release(self) -> bool:
        return self.kind == "release"


@dataclass(frozen=True)
class Tick:
    x: int
    label: str


@dataclass(frozen=True)
class Timeline:
    items: list[TimelineItem]
    ticks: list[Tick]
    width: int
    height: int
    plot_top: int
    bar_height: int
    label_x: int
    today_x: int


def _x(day: date, start: date, days: int) -> int:
    return LABEL_WIDTH + round(PLOT_WIDTH * (day - start).days / days)


def _item(company: str, kind: str, y: int, x: int, width: int, text: str, **extra) -> TimelineItem:
    # The text goes right of the shape when it fits on the chart, otherwise left of it.
    room = round(len(text) * CHAR_WIDTH)
    fits_right = x + width + 10 + room <= TIMELINE_WIDTH
    text_x = x + width + 10 if fits_right else x - 10
    return TimelineItem(company, kind, y, x, width, text, text_x, "start" if fits_right else "end", **extra)


def timeline_chart(*, start: date, days: int, cases, releases) -> Timeline:
    """The next ``days`` days from ``start``: each company's case windows and planned releases, one per line.

    ``cases`` are (assessment, url) pairs, ``releases`` (release notice, url) pairs; what falls
    outside the period is left out, and a window that began before it is drawn from its start.
    """
    end = start + timedelta(days=days)
    lines: list[tuple[str, date, str, dict]] = []
    for case, url in cases:
        first, last = case.window_start.date(), case.window_end.date()
        if last < start or first > end:
            continue
        x0, x1 = _x(max(first, start), start, days), _x(min(last, end), start, days)
        text = f"{case.reference}: window ends {last:%-d %b}"
        lines.append(
            (
                case.submission.organisation.name,
                first,
                "case",
                {"x": x0, "width": max(x1 - x0, 6), "text": text, "url": url},
            )
        )
    for notice, url in releases:
        day = notice.planned_release_date
        if not start <= day <= end:
            continue
        text = f"{notice.model_name} public release {day:%-d %b}" + (" — late notice" if notice.is_late else "")
        lines.append(
            (
                notice.organisation.name,
                day,
                "release",
                {"x": _x(day, start, days), "width": 0, "text": text, "late": notice.is_late, "url": url},
            )
        )
    lines.sort(key=lambda line: (line[0], line[1], line[2]))
    items, previous = [], None
    for index, (company, _day, kind, parts) in enumerate(lines):
        y = TOP + index * ROW_HEIGHT
        items.append(_item(company if company != previous else "", kind, y, **parts))
        previous = company
    ticks = [
        Tick(x=_x(start + timedelta(days=d), start, days), label=f"{start + timedelta(days=d):%-d %b}")
        for d in range(0, days + 1, 15)
    ]
    return Timeline(
        items=items,
        ticks=ticks,
        width=TIMELINE_WIDTH,
        height=TOP + max(len(items), 1) * ROW_HEIGHT + 4,
        plot_top=TOP - 6,
        bar_height=BAR_HEIGHT,
        label_x=LABEL_WIDTH - 10,
        today_x=LABEL_WIDTH,
    )


@dataclass(frozen=True)
class Segment:
    severity: str
    label: str
    count: int
    x: int
    width: int


@dataclass(frozen=True)
class StackedRow:
    company: str
    y: int
    segments: list[Segment]
    text: str
    text_x: int


@dataclass(frozen=True)
class StackedChart:
    rows: list[StackedRow]
    width: int
    height: int
    bar_height: int
    label_x: int


SEVERITY_PLOT_WIDTH = 300  # the bars leave room at their right for the counts written out


def severity_chart(companies) -> StackedChart:
    """Per company with open findings, one bar of its open findings split by severity (most severe first).

    Beside each bar the counts are written out ("2 critical, 1 high"), so the split never rests on
    the segments' colours. ``companies`` are the page's company rows.
    """
    rows_in = [c for c in companies if c.open_findings]
    most = max((c.open_findings for c in rows_in), default=0) or 1
    rows = []
    for index, company in enumerate(rows_in):
        y, x, segments = index * ROW_HEIGHT + 8, LABEL_WIDTH, []
        for value, label, count in company.findings_by_severity:
            if not count:
                continue
            width = max(round(SEVERITY_PLOT_WIDTH * count / most), 3)
            segments.append(Segment(severity=value, label=label, count=count, x=x, width=width))
            x += width
        text = ", ".join(f"{s.count} {s.label.lower()}" for s in segments)
        rows.append(StackedRow(company=company.organisation.name, y=y, segments=segments, text=text, text_x=x + 8))
    return StackedChart(
        rows=rows,
        width=LABEL_WIDTH + SEVERITY_PLOT_WIDTH + 380,
        height=max(len(rows), 1) * ROW_HEIGHT + 8,
        bar_height=BAR_HEIGHT,
        label_x=LABEL_WIDTH - 10,
    )
