"""Read-side queries of the assessments app. Every list starts from the permission policy's scope."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.apps import apps
from django.db.models import CharField, Count, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Coalesce, Replace
from django.utils import timezone

from accounts.models import Organisation, Role, User
from accounts.permissions import actor_for, scope
from assessments.models import AccessTicket, Assessment, CredentialReveal, ModelSubmission
from assessments.states import UNGRANTED_TICKET_STATUSES, TicketStatus
from audit.models import AuditEvent
from core.lists import Column, Sorts

# What the list pages show of each row; the long texts stay in the database.
SUBMISSION_LIST_FIELDS = (
    "public_id",
    "reference",
    "organisation__name",
    "model_name",
    "model_version",
    "modalities",
    "intended_release_date",
    "created_at",
)
ASSESSMENT_LIST_FIELDS = (
    "public_id",
    "reference",
    "submission__model_name",
    "submission__model_version",
    "submission__organisation__name",
    "lead__full_name",
    "lead__email",
    "window_start",
    "window_end",
    "status",
)
# A ticket as its list, the case's panel and the case's timeline show it (never the credential).
TICKET_LIST_FIELDS = (
    "public_id",
    "reference",
    "assessment__reference",
    "assessment__window_end",
    "assessment__submission__model_name",
    "assessment__submission__model_version",
    "assessment__submission__organisation__name",
    "kind",
    "status",
    "requested_by__full_name",
    "requested_by__email",
    "requested_at",
    "wanted_from",
    "wanted_to",
    "starts_at",
    "ends_at",
    "ended_at",
    "end_reason",
)


def _assessment_count() -> Coalesce:
    # A correlated count, evaluated for the rows of the page only; a join with GROUP BY would count
    # the assessments of every submission before the page is cut, and again to count the list.
    per_submission = (
        Assessment.objects.filter(submission=OuterRef("pk")).order_by().values("submission").annotate(n=Count("pk"))
    )
    return Coalesce(Subquery(per_submission.values("n")), 0)


def team_candidates() -> QuerySet[User]:
    """The people who may be put on a case's team: active centre evaluators and lead evaluators.

    Each comes with their membership, since choices are labelled with the person's role.
    The portal's case form and the admin offer the same list; the case services still check
    every choice.
    """
    return (
        User.objects.filter(
            is_active=True,
            membership__organisation__kind=Organisation.Kind.AGENCY,
            membership__role__in=[Role.EVALUATOR, Role.LEAD_EVALUATOR],
        )
        .select_related("membership")
        .order_by("full_name")
    )


# The lists' columns and sorts. Each ORDER BY reads an index, either way: the reference's unique
# index, or the ``*_sort_idx`` indexes of the models (see README, "Lists").
_NEWEST = {"newest": ("Newest first", ("-created_at",)), "oldest": ("Oldest first", ("created_at",))}
SUBMISSION_SORTS = Sorts(
    (
        Column("reference", "Reference", ("reference",)),
        Column("model", "Model", ("model_name", "model_version", "-created_at")),
        Column("company", "Company"),
        Column("modalities", "Modalities"),
        Column(
            "release",
            "Planned release",
            ("intended_release_date", "-created_at"),
            up="earliest first",
            down="latest first",
        ),
        Column("assessments", "Assessments"),
    ),
    default="newest",
    named=_NEWEST,
)
ASSESSMENT_SORTS = Sorts(
    (
        Column("reference", "Reference", ("reference",)),
        Column("model", "Model"),
        Column("company", "Company"),
        Column("lead", "Lead"),
        Column("window", "Access window", ("window_start",), up="earliest first", down="latest first", first_down=True),
        Column("status", "Status", ("status", "-window_start")),
    ),
    default="-window",
)
TICKET_SORTS = Sorts(
    (
        Column("reference", "Ticket", ("reference",)),
        Column("assessment", "Assessment"),
        Column("kind", "Kind", ("kind", "-requested_at")),
        Column("access", "Access"),
        Column("requested", "Requested", ("requested_at",), up="oldest first", down="newest first", first_down=True),
        Column("status", "Status", ("status", "-requested_at")),
    ),
    default="-requested",
)
ASSESSMENT_REFERENCE = re.compile(r"ASM-\d{4}-\d{4,}", re.IGNORECASE)
# What can be part of a case's reference ("ASM-2026-0042"): a search of other words cannot match one.
ASSESSMENT_REFERENCE_PART = re.compile(r"[ASM0-9-]+", re.IGNORECASE)
TICKET_REFERENCE = re.compile(r"TKT-\d{4}-\d{4,}", re.IGNORECASE)


def submission_list(*, user: Any, q: str = "", organisation: str = "", sort: str = "") -> QuerySet[ModelSubmission]:
    """The submissions ``user`` may see, with their number of cases, in the order of ``sort`` (a key
    of ``SUBMISSION_SORTS``; newest first, on submission_created_sort_idx, when it is not one)."""
    qs = scope(ModelSubmission.objects.all(), user).select_related("organisation").only(*SUBMISSION_LIST_FIELDS)
    if q:
        qs = qs.filter(Q(model_name__icontains=q) | Q(model_version__icontains=q) | Q(reference__icontains=q))
    if organisation:
        qs = qs.filter(organisation__public_id=organisation)
    return qs.annotate(n_assessments=_assessment_count()).order_by(*SUBMISSION_SORTS.order_by(sort))


def assessment_list(*, user: Any, status: str = "", q: str = "", sort: str = "") -> QuerySet[Assessment]:
    """The cases ``user`` may see, in the order of ``sort`` (a key of ``ASSESSMENT_SORTS``); by default
    latest window first (assessment_window_sort_idx, or assessment_status_sort_idx under the status
    filter)."""
    qs = (
        scope(Assessment.objects.all(), user)
        .select_related("submission__organisation", "lead")
        .only(*ASSESSMENT_LIST_FIELDS)
    )
    if status:
        qs = qs.filter(status=status)
    if q:
        # The model and company names are matched in their own (small) tables first, so the list
        # keeps walking its sort index and tests each case against that set, instead of joining
        # and filtering every case before it can sort.
        companies = Organisation.objects.filter(name__icontains=q).values("pk")
        named = ModelSubmission.objects.filter(Q(model_name__icontains=q) | Q(organisation__in=companies))
        by_name = Q(submission__in=named.values("pk"))
        # Only words that can be part of a reference are looked for in every case's reference (a
        # scan of the whole table): "Agent" never is, "0042" or "asm-2026" may be.
        qs = qs.filter(Q(reference__icontains=q) | by_name if ASSESSMENT_REFERENCE_PART.fullmatch(q) else by_name)
    return qs.order_by(*ASSESSMENT_SORTS.order_by(sort))


def ticket_list(
    *,
    user: Any,
    status: str = "",
    assessment: Assessment | None = None,
    kind: str = "",
    q: str = "",
    sort: str = "",
) -> QuerySet[AccessTicket]:
    """The tickets ``user`` may see, in the order of ``sort`` (a key of ``TICKET_SORTS``); by default
    newest request first (ticket_requested_ref_idx, or ticket_status_sort_idx under the status
    filter).

    ``q`` is a ticket's reference (exact, in any case), a case's reference (that case's tickets),
    or words of the model's or the company's name, matched in their own small tables first, as the
    cases list does, so the list keeps walking its sort index.
    """
    # Never selects more than the list shows: the credential column above all is left out on purpose.
    qs = (
        scope(AccessTicket.objects.all(), user)
        .select_related("assessment__submission__organisation", "requested_by")
        .only(*TICKET_LIST_FIELDS)
    )
    if status:
        qs = qs.filter(status=status)
    if assessment is not None:
        qs = qs.filter(assessment=assessment)
    if kind:
        qs = qs.filter(kind=kind)
    q = q.strip()
    if TICKET_REFERENCE.fullmatch(q):
        qs = qs.filter(reference=q.upper())
    elif ASSESSMENT_REFERENCE.fullmatch(q):
        case = Assessment.objects.filter(reference=q.upper()).values("pk")[:1]
        qs = qs.filter(assessment_id=Subquery(case))
    elif q:
        companies = Organisation.objects.filter(name__icontains=q).values("pk")
        named = ModelSubmission.objects.filter(Q(model_name__icontains=q) | Q(organisation__in=companies))
        qs = qs.filter(assessment__in=Assessment.objects.filter(submission__in=named.values("pk")).values("pk"))
    return qs.order_by(*TICKET_SORTS.order_by(sort))


# What the case page reads of each of its tickets: the tickets list's columns but the case's own
# (the page has its case already), which also carry the timeline's dates.
CASE_TICKET_FIELDS = (
    "assessment_id",
    *(name for name in TICKET_LIST_FIELDS if not name.startswith("assessment__")),
)


def case_tickets(*, user: Any, assessment: Assessment) -> list[AccessTicket]:
    """The tickets of ``assessment`` that ``user`` may see, newest request first, each with its
    requester; their case is ``assessment`` itself, not read again with every ticket (the
    tickets list's query reads each ticket's case, model and company: five objects a row)."""
    tickets = list(
        scope(AccessTicket.objects.filter(assessment=assessment), user)
        .select_related("requested_by")
        .only(*CASE_TICKET_FIELDS)
        .order_by(*TICKET_SORTS.order_by(""))
    )
    for ticket in tickets:
        ticket.assessment = assessment
    return tickets


def reveals_for(*, user: Any, ticket: AccessTicket) -> QuerySet[CredentialReveal]:
    return scope(CredentialReveal.objects.filter(ticket=ticket), user).select_related("revealed_by")


@dataclass
class TimelineEntry:
    when: datetime
    label: str
    detail: str = ""
    kind: str = "event"  # window | ticket | finding | release | now

    @property
    def kind_label(self) -> str:
        """The entry's type in words, shown beside it: the border colour alone tells nobody."""
        return TIMELINE_KIND_LABELS.get(self.kind, "Event")


# What each kind of case-timeline entry is called on the page.
TIMELINE_KIND_LABELS = {
    "window": "Window",
    "ticket": "Access",
    "finding": "Finding",
    "release": "Release",
    "now": "Today",
    "event": "Case",
}


def _as_datetime(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


@dataclass
class TimelinePart:
    """What a source adds to a case's timeline: the entries the user may see, and, when it dates only
    its newest, a sentence that says so with a link to the page that has them all."""

    entries: list[TimelineEntry]
    older_note: str = ""
    older_url: str = ""
    older_link_text: str = ""


# More of a case's story, from the apps above this one (findings adds the case's findings when it
# loads). Each source is called as ``source(user=..., assessment=...)`` and returns a TimelinePart.
TimelineSource = Callable[..., TimelinePart]
_timeline_sources: list[TimelineSource] = []


def timeline_source_register(source: TimelineSource) -> None:
    """Add ``source``'s entries to every case timeline; registering it twice has no further effect."""
    if source not in _timeline_sources:
        _timeline_sources.append(source)


def assessment_timeline(
    *, user: Any, assessment: Assessment, tickets: Iterable[AccessTicket] | None = None
) -> tuple[list[TimelineEntry], list[TimelinePart]]:
    """The dated story of a case: window, tickets and findings the user may see, release, today;
    and the sources' parts that leave older entries out (their notes say where those are).

    ``tickets`` are the case's tickets the user may see, when the caller has read them already.
    """
    entries = [
        TimelineEntry(assessment.window_start, "Access window opens", kind="window"),
        TimelineEntry(assessment.window_end, "Access window closes", kind="window"),
        TimelineEntry(timezone.now(), "Today", kind="now"),
    ]
    for ticket in ticket_list(user=user, assessment=assessment) if tickets is None else tickets:
        entries.append(
            TimelineEntry(ticket.requested_at, f"{ticket.reference} requested", ticket.get_kind_display(), "ticket")
        )
        if ticket.starts_at and ticket.status not in UNGRANTED_TICKET_STATUSES:
            entries.append(
                TimelineEntry(
                    ticket.starts_at, f"{ticket.reference} access begins", ticket.get_kind_display(), "ticket"
                )
            )
        if ticket.ended_at:
            entries.append(
                TimelineEntry(
                    ticket.ended_at,
                    f"{ticket.reference} {ticket.get_status_display().lower()}",
                    ticket.end_reason,
                    "ticket",
                )
            )
        elif ticket.ends_at and ticket.status != TicketStatus.REQUESTED:
            entries.append(
                TimelineEntry(
                    min(ticket.ends_at, assessment.window_end),
                    f"{ticket.reference} access ends",
                    ticket.get_kind_display(),
                    "ticket",
                )
            )
    shortened = []
    for source in _timeline_sources:
        part = source(user=user, assessment=assessment)
        entries.extend(part.entries)
        if part.older_note:
            shortened.append(part)
    release = assessment.submission.intended_release_date
    if release:
        entries.append(TimelineEntry(_as_datetime(release), "Planned release of the model", kind="release"))
    if assessment.closed_at:
        entries.append(
            TimelineEntry(assessment.closed_at, f"Case {assessment.get_status_display().lower()}", kind="event")
        )
    if assessment.outcome_acknowledged_at:
        entries.append(
            TimelineEntry(
                assessment.outcome_acknowledged_at,
                "Outcome acknowledged by the company",
                assessment.outcome_company_comment,
                kind="event",
            )
        )
    return sorted(entries, key=lambda e: e.when), shortened


# The case page shows this many of a timeline's tickets and findings on each side of today; the
# case's dates (window, release, today, closing) always. ``?timeline=all`` shows every entry.
TIMELINE_AROUND_NOW = 8
# Kinds of entries that are always shown: the case's own dates, a handful at most.
_TIMELINE_FIXED_KINDS = frozenset({"window", "release", "now", "event"})


@dataclass
class CaseTimeline:
    """A case's timeline as its page shows it, and how many entries it leaves out on each side."""

    entries: list[TimelineEntry]
    earlier_hidden: int = 0
    later_hidden: int = 0
    # Sources that date only their newest entries, whole timeline or not (TimelinePart's notes).
    shortened: list[TimelinePart] = field(default_factory=list)


def case_timeline(
    *, user: Any, assessment: Assessment, tickets: Iterable[AccessTicket] | None = None, whole: bool = False
) -> CaseTimeline:
    """The case's timeline around today: its own dates, and the ``TIMELINE_AROUND_NOW`` tickets' and
    findings' entries nearest today on each side (all of them when ``whole``).

    A big case has hundreds of entries (a ticket has up to three, and the case's findings their own);
    rendering them all made its page cost what the case stores rather than what a reader needs first.
    """
    entries, shortened = assessment_timeline(user=user, assessment=assessment, tickets=tickets)
    if whole:
        return CaseTimeline(entries, shortened=shortened)
    now = next((e.when for e in entries if e.kind == "now"), timezone.now())
    past = [i for i, e in enumerate(entries) if e.kind not in _TIMELINE_FIXED_KINDS and e.when < now]
    future = [i for i, e in enumerate(entries) if e.kind not in _TIMELINE_FIXED_KINDS and e.when >= now]
    shown_past, shown_future = past[-TIMELINE_AROUND_NOW:], future[:TIMELINE_AROUND_NOW]
    keep = set(shown_past) | set(shown_future)
    kept = [e for i, e in enumerate(entries) if e.kind in _TIMELINE_FIXED_KINDS or i in keep]
    return CaseTimeline(kept, len(past) - len(shown_past), len(future) - len(shown_future), shortened)


def days_left(assessment: Assessment) -> int | None:
    """Whole days until the window closes (0 on the last day), or None once it has closed."""
    remaining = assessment.window_end - timezone.now()
    if remaining.total_seconds() < 0:
        return None
    return remaining.days


# --- The case's audit history -------------------------------------------------------


def audit_history_for(case_ref: str, user: Any, *, limit: int | None = None) -> QuerySet[AuditEvent]:
    """The events recorded against case ``case_ref`` that ``user`` may read, newest first.

    Nobody who cannot see the case gets anything. Centre staff on the case
    read its whole history. A company liaison reads only the events about
    objects the policy lets them see (their agreement, submission, tickets and
    released findings), so an internal draft's title never reaches them.
    """
    actor = actor_for(user)
    if actor is None or not case_ref or not _case_visible(case_ref, user):
        return AuditEvent.objects.none()
    # The actor's name is shown beside each event: read with it, not one query per row.
    events = AuditEvent.objects.filter(case_ref=case_ref).select_related("actor")
    if not actor.is_centre_staff:
        events = _visible_events(events, user, case_ref=case_ref)
    events = events.order_by("-occurred_at", "-id")
    return events[:limit] if limit else events


def _case_visible(case_ref: str, user: Any) -> bool:
    return scope(Assessment.objects.filter(reference=case_ref), user).exists()


def _identifier_field(model) -> str | None:
    names = {f.name for f in model._meta.get_fields()}
    for name in ("reference", "public_id"):
        if name in names:
            return name
    return None


def _visible_events(events: QuerySet[AuditEvent], user: Any, *, case_ref: str) -> QuerySet[AuditEvent]:
    """``events`` narrowed, in SQL, to those whose object the user may see.

    One condition per kind of object in the case's history (one small query finds the kinds): the
    event's object id must be among the identifiers of that model's rows in the user's scope, a
    subquery of the policy's own filter over the rows those events name. So the page and its count
    read only the case's events and the rows they name, never a list of every event's id nor the
    whole of the user's scope. Events without an identifiable object stay with centre staff.
    """
    visible: list[Q] = []
    for object_type in events.order_by().values_list("object_type", flat=True).distinct():
        try:
            model = apps.get_model(object_type) if object_type else None
        except (LookupError, ValueError):
            model = None
        field = _identifier_field(model) if model is not None else None
        if field is None:
            continue
        rows = scope(model._default_manager.all(), user).order_by()
        of_the_case = True
        if model is Assessment:
            rows = rows.filter(reference=case_ref)
        elif any(f.name == "assessment" and f.many_to_one for f in model._meta.get_fields()):
            # A ticket or a finding of this case: the policy is asked of the case's rows only.
            rows = rows.filter(assessment__reference=case_ref)
        else:
            of_the_case = False
        if field == "reference":
            if not of_the_case:
                # Only the rows these events name are checked against the policy, not the whole of the
                # user's scope (a company's every agreement): the case's events drive the query. Rows of
                # the case are few already; naming them again from the events doubled the work.
                rows = rows.filter(reference__in=events.filter(object_type=object_type).order_by().values("object_id"))
            visible.append(Q(object_type=object_type, object_id__in=rows.values(field)))
        else:
            # A public id is a UUID, recorded as text with dashes; databases write a UUID as text with
            # (PostgreSQL) or without (SQLite) them, so both sides are compared without.
            idents = rows.annotate(_ident=Replace(Cast(field, CharField()), Value("-"), Value(""))).values("_ident")
            visible.append(Q(object_type=object_type, _object_ident__in=idents))
    if not visible:
        return events.none()
    condition = visible[0]
    for more in visible[1:]:
        condition |= more
    return events.alias(_object_ident=Replace(F("object_id"), Value("-"), Value(""))).filter(condition)
