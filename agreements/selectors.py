"""Read-side queries of the agreements app. Every list starts from the permission policy's scope."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.permissions import scope
from agreements.models import (
    TERM_FIELDS,
    Agreement,
    AgreementVersion,
    Clause,
    EntryKind,
    OpenPoint,
    OpenPointStatus,
    ReleaseNotice,
    ReleaseNoticeStatus,
    RiskConsequence,
)
from core.choices import AccessKind, RiskDomain
from core.lists import Column, Sorts
from core.markings import marking_choices


def _overdue_points(today: datetime.date) -> QuerySet:
    return OpenPoint.objects.filter(agreement=OuterRef("pk"), status=OpenPointStatus.OPEN, due_date__lt=today)


# What a row of the list shows; the long texts of the terms stay in the database.
LIST_FIELDS = (
    "public_id",
    "reference",
    "title",
    "organisation__name",
    "status",
    "max_window_days",
    "effective_date",
    "expiry_date",
    "created_at",
)


def open_point_count() -> Coalesce:
    # Counted for the rows of the page only: a join with GROUP BY would count the points of every
    # agreement before the page is cut, and again for the list's total.
    open_points = (
        OpenPoint.objects.filter(agreement=OuterRef("pk"), status=OpenPointStatus.OPEN)
        .order_by()
        .values("agreement")
        .annotate(n=Count("pk"))
    )
    return Coalesce(Subquery(open_points.values("n")), 0)


def current_version_number() -> Subquery:
    """The number of an agreement's latest version (None before the first), for the rows of a page only."""
    latest = AgreementVersion.objects.filter(agreement=OuterRef("pk")).order_by("-number").values("number")[:1]
    return Subquery(latest)


# The list's columns and sorts; each ORDER BY reads an index (agreement_*_sort_idx, the
# reference's unique index, or the small table of companies by name).
LIST_COLUMNS = (
    Column("reference", "Reference", ("reference",)),
    Column("title", "Title", ("title", "-created_at")),
    Column("company", "Company", ("organisation__name", "-created_at")),
    Column("status", "Status", ("status", "-created_at")),
    Column("window", "Max window", ("max_window_days", "-created_at"), up="shortest first", down="longest first"),
    Column("open_points", "Open points"),
    Column("effective", "Effective", ("effective_date", "-created_at"), up="earliest first", down="latest first"),
)
LIST_SORTS = Sorts(
    LIST_COLUMNS,
    default="newest",
    named={"newest": ("Newest first", ("-created_at",)), "oldest": ("Oldest first", ("created_at",))},
)


def agreement_list(
    *,
    user: Any,
    status: str = "",
    organisation_id: int | None = None,
    overdue: bool = False,
    search: str = "",
    sort: str = "",
) -> QuerySet:
    """The agreements ``user`` may see, filtered, with counts of open and overdue points, in the
    order of ``sort`` (a key of ``LIST_SORTS``; newest first when it is not one)."""
    today = timezone.localdate()
    qs = (
        scope(Agreement.objects.all(), user)
        .select_related("organisation")
        .only(*LIST_FIELDS)
        .annotate(open_point_count=open_point_count(), has_overdue=Exists(_overdue_points(today)))
    )
    if status:
        qs = qs.filter(status=status)
    if organisation_id:
        qs = qs.filter(organisation_id=organisation_id)
    if overdue:
        qs = qs.filter(has_overdue=True)
    if search:
        qs = qs.filter(Q(title__icontains=search) | Q(reference__icontains=search))
    return qs.order_by(*LIST_SORTS.order_by(sort))


@dataclass
class TimelineItem:
    when: datetime.datetime
    kind: (
        str  # proposal | counter_proposal | comment | meeting | version | document | signature | open_point | resolved
    )
    title: str
    who: Any
    body: str = ""
    side: str = ""
    obj: Any = None

    @property
    def kind_label(self) -> str:
        """The item's type in words, shown beside it: the border colour alone tells nobody."""
        return TIMELINE_KIND_LABELS.get(self.kind, "Record")


# What each kind of negotiation-timeline item is called on the page.
TIMELINE_KIND_LABELS = {
    **dict(EntryKind.choices),
    "meeting": "Meeting",
    "version": "Terms",
    "document": "Document",
    "signature": "Signature",
    "open_point": "Open point",
    "resolved": "Point resolved",
    "amendment": "Amendment",
}


# What else hangs on an agreement, from the apps above this one (assessments adds the cases open
# under it when it loads), so the page that ends an agreement can say what follows. Each source is
# called as ``source(user=..., agreement=...)`` and returns (reference, description, url) for the
# records that user may see.
DependentsSource = Callable[..., Iterable[tuple[str, str, str]]]
_dependents_sources: list[DependentsSource] = []


def agreement_dependents_register(source: DependentsSource) -> None:
    """Add ``source``'s records to what an agreement's ending page lists; twice has no further effect."""
    if source not in _dependents_sources:
        _dependents_sources.append(source)


def agreement_dependents(*, user: Any, agreement: Agreement) -> list[tuple[str, str, str]]:
    """The records still in progress under ``agreement`` that ``user`` may see."""
    found: list[tuple[str, str, str]] = []
    for source in _dependents_sources:
        found.extend(source(user=user, agreement=agreement))
    return found


def agreement_timeline(
    agreement: Agreement,
    *,
    points: Iterable[Any] | None = None,
    documents: Iterable[Any] | None = None,
    signatures: Iterable[Any] | None = None,
    versions: Iterable[Any] | None = None,
) -> list[TimelineItem]:
    """Everything that happened in the negotiation, newest first.

    ``points``, ``documents``, ``signatures`` (voided ones too) and ``versions`` are the agreement's
    own, when the caller has read them already for its panels (then they are not read twice).
    """
    items: list[TimelineItem] = []
    for entry in agreement.entries.select_related("author", "responds_to"):
        title = f"{entry.get_kind_display()} on {entry.get_clause_display().lower()}"
        items.append(
            TimelineItem(entry.created_at, entry.kind, title, entry.author, entry.text, entry.author_side, entry)
        )
    for meeting in agreement.meetings.select_related("recorded_by"):
        items.append(
            TimelineItem(meeting.held_at, "meeting", "Meeting", meeting.recorded_by, meeting.minutes, "", meeting)
        )
    for version in agreement.versions.select_related("created_by") if versions is None else versions:
        labels = ", ".join(Clause(c).label.lower() for c in version.changed_clauses if c in Clause.values)
        title = f"Terms version {version.number}" + (f": {labels}" if version.number > 1 and labels else "")
        body = version.note
        if version.affected_cases:
            body = (
                f"{body}\nRunning cases left outside these terms: {', '.join(version.affected_cases)}. "
                f"Decision: {version.decision}"
            ).strip()
        items.append(TimelineItem(version.created_at, "version", title, version.created_by, body, "", version))
    for document in agreement.documents.select_related("uploaded_by") if documents is None else documents:
        title = f"{document.get_kind_display()} uploaded: {document.original_name}"
        items.append(TimelineItem(document.uploaded_at, "document", title, document.uploaded_by, document.description))
    for signature in agreement.signatures.select_related("signer") if signatures is None else signatures:
        title = f"Signed for {signature.get_side_display().lower()} by {signature.signer_name}, {signature.capacity}"
        if signature.version_number:
            title += f" (version {signature.version_number})"
        if signature.voided_at:
            title += " — no longer binding: the terms changed"
        items.append(TimelineItem(signature.signed_at, "signature", title, signature.signer, "", signature.side))
    # Amendments and addenda are negotiated on their own pages; the parent's timeline shows each.
    for amendment in agreement.amendments.select_related("created_by").order_by("created_at"):
        labels = ", ".join(Clause(c).label.lower() for c in amendment.amended_clauses if c in Clause.values)
        title = (
            f"{amendment.get_kind_display()} {amendment.reference}: {amendment.title} "
            f"({amendment.get_status_display().lower()})"
        )
        items.append(
            TimelineItem(
                amendment.created_at, "amendment", title, amendment.created_by, f"Changes {labels}.", "", amendment
            )
        )
    for point in agreement.open_points.select_related("created_by", "resolved_by") if points is None else points:
        items.append(
            TimelineItem(point.created_at, "open_point", f"Open point raised: {point.title}", point.created_by)
        )
        if point.resolved_at:
            items.append(
                TimelineItem(
                    point.resolved_at,
                    "resolved",
                    f"Open point resolved: {point.title}",
                    point.resolved_by,
                    point.resolution,
                )
            )
    items.sort(key=lambda item: item.when, reverse=True)
    return items


# --- Version comparison -----------------------------------------------------------------

_LABELS: dict[str, dict[str, str]] = {
    "risk_domains": dict(RiskDomain.choices),
    "access_modalities": dict(AccessKind.choices),
    "risk_consequence": dict(RiskConsequence.choices),
}


def term_display(name: str, value: Any) -> str:
    """A stored term value as a person reads it."""
    if name == "default_marking":
        # A code of the marking list; blank means the programme's default marking.
        return dict(marking_choices()).get(value, value) if value else "Programme default"
    if value in (None, "", []):
        return "—"
    labels = _LABELS.get(name)
    if isinstance(value, list):
        return ", ".join(labels.get(v, v) if labels else str(v) for v in value)
    if labels:
        return labels.get(value, str(value))
    if name.endswith("_date"):
        day = datetime.date.fromisoformat(value)
        return f"{day.day} {day:%B %Y}"
    if name.endswith("_days"):
        return f"{value} day{'s' if value != 1 else ''}"
    return str(value)


@dataclass
class ClauseDiff:
    name: str
    label: str
    old: str
    new: str
    changed: bool


def version_compare(old: AgreementVersion, new: AgreementVersion) -> list[ClauseDiff]:
    """Clause-by-clause comparison of two versions' terms, in the order terms are shown."""
    rows = []
    for name in TERM_FIELDS:
        a, b = old.terms.get(name), new.terms.get(name)
        rows.append(
            ClauseDiff(
                name=name,
                label=Clause(name).label,
                old=term_display(name, a),
                new=term_display(name, b),
                changed=a != b,
            )
        )
    return rows


def current_terms(agreement: Agreement) -> list[tuple[str, str]]:
    """(label, display value) of each current term."""
    return [(Clause(name).label, term_display(name, _stored(getattr(agreement, name)))) for name in TERM_FIELDS]


def _stored(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime.date) else value


# --- Release notices ----------------------------------------------------------------------


def release_notices_upcoming(*, user: Any, days: int = 90, today: datetime.date | None = None) -> QuerySet:
    """Covered releases expected within ``days`` of ``today`` (still expected or submitted) that
    ``user`` may see, soonest first, with agreement and company joined: one query."""
    today = today or timezone.localdate()
    return (
        scope(ReleaseNotice.objects.all(), user)
        .filter(
            status__in=(ReleaseNoticeStatus.EXPECTED, ReleaseNoticeStatus.SUBMITTED),
            planned_release_date__gte=today,
            planned_release_date__lte=today + datetime.timedelta(days=days),
        )
        .select_related("agreement", "organisation", "lead")
        .order_by("planned_release_date", "reference")
    )


def release_notices_late(*, user: Any, today: datetime.date | None = None) -> QuerySet:
    """Notices given inside the agreed notice period whose release is today or later, soonest first."""
    today = today or timezone.localdate()
    return (
        scope(ReleaseNotice.objects.all(), user)
        .filter(is_late=True, planned_release_date__gte=today)
        .exclude(status=ReleaseNoticeStatus.CANCELLED)
        .select_related("agreement", "organisation", "lead")
        .order_by("planned_release_date", "reference")
    )


def release_notice_list(*, user: Any, agreement: Agreement | None = None) -> QuerySet:
    """Every release notice ``user`` may see (of one agreement when given), latest release first."""
    qs = scope(ReleaseNotice.objects.all(), user).select_related("agreement", "organisation", "lead")
    if agreement is not None:
        qs = qs.filter(agreement=agreement)
    return qs.order_by("-planned_release_date", "-reference")
