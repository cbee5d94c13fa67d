"""Agreement pages. Each view fetches through the policy, parses a form, calls one service, renders."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import Organisation
from accounts.permissions import can, get_object_for, require, scope
from agreements import selectors, services
from agreements.actions import (
    agreement_actions_for,
    agreement_has_run_its_term,
    agreement_lifecycle,
    available_transitions,
    open_point_actions_for,
)
from agreements.forms import (
    AgreementCreateForm,
    AgreementFilterForm,
    DocumentForm,
    EntryForm,
    MeetingForm,
    NoticeToEndForm,
    OpenPointEditForm,
    OpenPointForm,
    ResolveForm,
    SignatureDueForm,
    SignForm,
    TermsForm,
    TransitionForm,
)
from agreements.models import Agreement, AgreementDocument, AgreementKind, OpenPoint, SignatureSide
from agreements.services.ending import agreement_give_notice as give_notice
from agreements.states import AGREEMENT_MOVES, TERMS_EDITABLE_STATUSES
from agreements.terms import terms_hash, terms_snapshot
from audit.downloads import file_response
from audit.exports import csv_export_response
from core.confirm import is_confirmed
from core.errors import RuleViolation, TransitionNotAllowed
from core.forms import form_add_rule_violation
from core.lists import list_context, valid_filters
from core.marking_forms import MarkingForm
from core.templatetags.markings import page_marking

PAGE_SIZE = 20


def _agreement(request, reference: str, action: str | None = None) -> Agreement:
    return get_object_for(
        request.user,
        Agreement.objects.select_related("organisation", "created_by", "parent"),
        action,
        reference=reference,
    )


def _save(request, form, agreement: Agreement, save, *, anchor: str = "", refused_anchor: str | None = None):
    """Run ``save(cleaned_data)`` (one service call) for a valid POST and redirect to the agreement.

    ``save`` returns the success message (or None when it said something itself). A refusal
    by the agreement's state is shown as a message on the agreement page (at ``refused_anchor``,
    by default ``anchor``); a refusal of the input is put on the form. Returns None when the
    form is to be shown (again).
    """
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        message = save(form.cleaned_data)
    except TransitionNotAllowed as exc:
        messages.error(request, str(exc))
        return _detail(agreement, anchor if refused_anchor is None else refused_anchor)
    except RuleViolation as exc:
        form_add_rule_violation(form, exc)
        return None
    if message:
        messages.success(request, message)
    return _detail(agreement, anchor)


def _detail(agreement: Agreement, anchor: str = ""):
    return redirect(f"{agreement_url(agreement)}{anchor}")


def agreement_url(agreement: Agreement) -> str:
    return reverse("agreements:detail", kwargs={"reference": agreement.reference})


def _agreement_rows(request):
    """The bound filter form and the agreements it selects, as the list and its CSV show them."""
    require(request.user, "nav.agreements")
    organisations = scope(Organisation.objects.filter(kind=Organisation.Kind.DEVELOPER), request.user).only(
        "public_id", "name"
    )
    form = AgreementFilterForm(request.GET or None, organisations=organisations)
    filters = valid_filters(form)
    qs = selectors.agreement_list(
        user=request.user,
        status=filters.get("status") or "",
        organisation_id=filters["organisation"].pk if filters.get("organisation") else None,
        overdue=bool(filters.get("overdue")),
        search=filters.get("q") or "",
        sort=request.GET.get("sort", ""),
    )
    return form, qs


@login_required
def agreement_list(request):
    form, qs = _agreement_rows(request)
    context = list_context(
        request,
        qs,
        sorts=selectors.LIST_SORTS,
        form=form,
        per_page=PAGE_SIZE,
        export_url=reverse("agreements:export"),
        clear_url=reverse("agreements:list"),
        noun="agreement",
    )
    return render(request, "agreements/list.html", {**context, "can_create": can(request.user, "agreement.create")})


# The columns of the CSV: what a row of the list shows, as plain values.
EXPORT_COLUMNS = [
    ("Reference", lambda a: a.reference),
    ("Title", lambda a: a.title),
    ("Company", lambda a: a.organisation.name),
    ("Status", lambda a: a.get_status_display()),
    ("Max window (days)", lambda a: a.max_window_days),
    ("Open points", lambda a: a.open_point_count),
    ("Overdue open points", lambda a: a.has_overdue),
    ("Effective", lambda a: a.effective_date),
    ("Expires", lambda a: a.expiry_date),
]


@login_required
@require_GET
def agreement_export(request):
    _, qs = _agreement_rows(request)
    return csv_export_response(request, qs, EXPORT_COLUMNS, what="the agreements list", filename="agreements")


@login_required
@require_http_methods(["GET", "POST"])
def agreement_create(request):
    require(request.user, "agreement.create")
    form = AgreementCreateForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            agreement = services.agreement_create(
                actor=request.user,
                organisation=form.cleaned_data["organisation"],
                title=form.cleaned_data["title"],
                terms=form.terms(),
                kind=form.cleaned_data.get("kind") or AgreementKind.STANDARD,
                parent=form.cleaned_data.get("parent"),
                amended_clauses=form.cleaned_data.get("amended_clauses") or [],
                request=request,
            )
        except RuleViolation as exc:
            form_add_rule_violation(form, exc)
        else:
            messages.success(request, f"{agreement.reference} was created as a draft (version 1 of its terms).")
            return _detail(agreement)
    return render(request, "agreements/form.html", {"form": form, "heading": "New agreement", "submit": "Create draft"})


@login_required
def agreement_detail(request, reference: str):
    agreement = _agreement(request, reference)
    user = request.user
    # Read once each, for the panels and the timeline.
    every_signature = list(agreement.signatures.select_related("signer"))
    signatures = {s.side: s for s in every_signature if s.voided_at is None}
    points = list(agreement.open_points.select_related("owner", "created_by", "resolved_by"))
    for point in points:
        point.actions = open_point_actions_for(user=user, point=point)
    documents = list(agreement.documents.select_related("uploaded_by", "marking", "attested_by"))
    for document in documents:
        document.agreement = agreement
        document.can_mark = can(user, "agreement_document.mark", document) or can(
            user, "agreement_document.mark_lower", document
        )
    versions = list(agreement.versions.select_related("created_by"))
    context = {
        "agreement": agreement,
        "terms": selectors.current_terms(agreement),
        "timeline": selectors.agreement_timeline(
            agreement, points=points, documents=documents, signatures=every_signature, versions=versions
        ),
        "open_points": points,
        "documents": documents,
        "signature_rows": [(label, signatures.get(value)) for value, label in SignatureSide.choices],
        "versions": versions,
        "transitions": available_transitions(user, agreement),
        "lifecycle": agreement_lifecycle(agreement),
        "release_notices": selectors.release_notice_list(user=user, agreement=agreement),
        "can_give_notice": agreement.is_active
        and not agreement.end_notice_given
        and can(user, "agreement.give_notice", agreement),
        "can_record_notice": agreement.is_active
        and not agreement.is_amending
        and can(user, "release_notice.record", agreement),
        **agreement_actions_for(user=user, agreement=agreement, signed_sides=set(signatures)),
        "today": timezone.localdate(),
        # The page lists the documents: it carries the most restrictive of their markings.
        "page_marking": page_marking(documents),
    }
    return render(request, "agreements/detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def agreement_edit_terms(request, reference: str):
    agreement = _agreement(request, reference, "agreement.edit_terms")
    if agreement.status not in TERMS_EDITABLE_STATUSES:
        messages.error(
            request,
            f"The terms can change only while the agreement is draft or negotiating; it is "
            f"{agreement.get_status_display().lower()}.",
        )
        return _detail(agreement)
    form = TermsForm(request.POST or None, agreement=agreement)

    def save(data):
        version = services.agreement_update_terms(
            actor=request.user,
            agreement=agreement,
            terms=form.terms(),
            title=data["title"],
            note=data.get("note") or "",
            decision=data.get("decision") or "",
            request=request,
        )
        if version is None:
            messages.info(request, "Nothing in the terms changed, so no new version was made.")
            return None
        return f"The terms were saved as version {version.number}."

    done = _save(request, form, agreement, save)
    if done:
        return done
    return render(
        request,
        "agreements/form.html",
        {"form": form, "agreement": agreement, "heading": "Edit the terms", "submit": "Save as a new version"},
    )


@login_required
@require_http_methods(["GET", "POST"])
def agreement_transition(request, reference: str, transition: str):
    if transition not in services.TRANSITIONS:
        raise Http404("No such transition.")
    agreement = _agreement(request, reference, AGREEMENT_MOVES[transition].action)
    # Only the confirmation page's own form moves the agreement: any other POST shows the page.
    form = TransitionForm(request.POST if is_confirmed(request) else None, transition=transition)

    def save(data):
        moved = services.agreement_apply_transition(
            actor=request.user,
            agreement=agreement,
            transition=transition,
            reason=data.get("reason") or "",
            signature_due=data.get("signature_due"),
            request=request,
        )
        return f"{moved.reference} is now {moved.get_status_display().lower()}."

    done = _save(request, form, agreement, save)
    if done:
        return done
    ends_agreement = transition in ("terminate", "expire", "withdraw")
    days_to_run = (agreement.expiry_date - timezone.localdate()).days if agreement.expiry_date else None
    return render(
        request,
        "agreements/transition.html",
        {
            "form": form,
            "agreement": agreement,
            "label": services.TRANSITIONS[transition],
            "transition": transition,
            # What follows: the cases still open under the agreement, and how long it had left.
            "dependents": selectors.agreement_dependents(user=request.user, agreement=agreement)
            if ends_agreement
            else [],
            "expires_early": transition == "expire" and not agreement_has_run_its_term(agreement),
            "days_to_run": days_to_run,
        },
    )


def _record_form(request, reference, *, action, form_class, heading, submit, save, anchor, files=False):
    """The shared body of the small 'add to the record' pages."""
    agreement = _agreement(request, reference, action)
    data = request.POST or None
    form = (
        form_class(data, request.FILES or None, agreement=agreement) if files else form_class(data, agreement=agreement)
    )
    done = _save(request, form, agreement, lambda data: save(agreement, data), anchor=anchor, refused_anchor="")
    if done:
        return done
    if files and request.method == "POST":
        form.file_reselect = True
    return render(
        request,
        "agreements/form.html",
        {"form": form, "agreement": agreement, "heading": heading, "submit": submit, "multipart": files},
    )


@login_required
@require_http_methods(["GET", "POST"])
def entry_add(request, reference: str):
    def save(agreement, data):
        entry = services.negotiation_entry_add(
            actor=request.user,
            agreement=agreement,
            kind=data["kind"],
            clause=data["clause"],
            text=data["text"],
            responds_to=data.get("responds_to"),
            request=request,
        )
        return f"Your {entry.get_kind_display().lower()} is on the record."

    return _record_form(
        request,
        reference,
        action="agreement.comment",
        form_class=EntryForm,
        heading="Add a proposal or comment",
        submit="Add to the record",
        save=save,
        anchor="#timeline",
    )


@login_required
@require_http_methods(["GET", "POST"])
def meeting_add(request, reference: str):
    def save(agreement, data):
        services.meeting_record(
            actor=request.user,
            agreement=agreement,
            held_at=data["held_at"],
            attendees=data["attendees"],
            minutes=data["minutes"],
            request=request,
        )
        return "The meeting and its minutes are on the record."

    return _record_form(
        request,
        reference,
        action="agreement.meeting",
        form_class=MeetingForm,
        heading="Record a meeting",
        submit="Save minutes",
        save=save,
        anchor="#timeline",
    )


@login_required
@require_http_methods(["GET", "POST"])
def open_point_add(request, reference: str):
    def save(agreement, data):
        point = services.open_point_add(
            actor=request.user,
            agreement=agreement,
            title=data["title"],
            description=data.get("description") or "",
            owner=data["owner"],
            due_date=data["due_date"],
            request=request,
        )
        return f"Open point “{point.title}” was added for {point.owner.full_name}."

    return _record_form(
        request,
        reference,
        action="agreement.open_point",
        form_class=OpenPointForm,
        heading="Raise an open point",
        submit="Add open point",
        save=save,
        anchor="#open-points",
    )


@login_required
@require_http_methods(["GET", "POST"])
def open_point_resolve(request, reference: str, point_id):
    agreement = _agreement(request, reference)
    point = get_object_for(
        request.user,
        OpenPoint.objects.select_related("agreement", "owner").filter(agreement=agreement),
        "open_point.resolve",
        public_id=point_id,
    )
    form = ResolveForm(request.POST or None)

    def save(data):
        services.open_point_resolve(actor=request.user, point=point, resolution=data["resolution"], request=request)
        return f"“{point.title}” is resolved."

    done = _save(request, form, agreement, save, anchor="#open-points")
    if done:
        return done
    return render(
        request,
        "agreements/form.html",
        {
            "form": form,
            "agreement": agreement,
            "heading": f"Resolve: {point.title}",
            "intro": point.description,
            "submit": "Mark resolved",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def open_point_edit(request, reference: str, point_id):
    agreement = _agreement(request, reference)
    point = get_object_for(
        request.user,
        OpenPoint.objects.select_related("agreement", "owner").filter(agreement=agreement),
        "open_point.edit",
        public_id=point_id,
    )
    initial = {"owner": point.owner.public_id, "due_date": point.due_date}
    form = OpenPointEditForm(request.POST or None, initial=initial, agreement=agreement)

    def save(data):
        services.open_point_update(
            actor=request.user, point=point, owner=data["owner"], due_date=data["due_date"], request=request
        )
        return f"“{point.title}” now belongs to {data['owner'].full_name}, due {data['due_date']:%d %B %Y}."

    done = _save(request, form, agreement, save, anchor="#open-points")
    if done:
        return done
    return render(
        request,
        "agreements/form.html",
        {"form": form, "agreement": agreement, "heading": f"Change: {point.title}", "submit": "Save"},
    )


@login_required
@require_http_methods(["GET", "POST"])
def document_upload(request, reference: str):
    def save(agreement, data):
        document = services.document_upload(
            actor=request.user,
            agreement=agreement,
            uploaded=data["file"],
            kind=data["kind"],
            description=data.get("description") or "",
            attested=data["no_classified_information"],
            request=request,
        )
        return f"{document.original_name} was uploaded (SHA-256 {document.sha256[:12]}…)."

    def form_class(data, files=None, *, agreement):
        return DocumentForm(data, files)

    return _record_form(
        request,
        reference,
        action="agreement.document_upload",
        form_class=form_class,
        heading="Upload a document",
        submit="Upload",
        save=save,
        anchor="#documents",
        files=True,
    )


@login_required
def document_download(request, reference: str, document_id):
    agreement = _agreement(request, reference, "agreement.document_download")
    document = get_object_for(
        request.user,
        AgreementDocument.objects.filter(agreement=agreement),
        public_id=document_id,
    )
    return file_response(request, document, case_ref=agreement.reference)


@login_required
@require_http_methods(["GET", "POST"])
def document_marking(request, reference: str, document_id):
    """A document's handling marking and the form that changes it (``agreement_document_set_marking``)."""
    agreement = _agreement(request, reference)
    document = get_object_for(
        request.user,
        AgreementDocument.objects.filter(agreement=agreement).select_related("agreement", "marking"),
        public_id=document_id,
    )
    if not (
        can(request.user, "agreement_document.mark", document)
        or can(request.user, "agreement_document.mark_lower", document)
    ):
        require(request.user, "agreement_document.mark", document, "You cannot change the marking of this document.")
    form = MarkingForm(request.POST or None, initial={"marking": document.marking.code})
    if request.method == "POST" and form.is_valid():
        try:
            services.agreement_document_set_marking(
                actor=request.user,
                document=document,
                marking=form.cleaned_data["marking"],
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except RuleViolation as exc:
            form_add_rule_violation(form, exc)
        else:
            messages.success(request, f"{document.original_name} is now marked “{form.cleaned_data['marking'].name}”.")
            return redirect(reverse("agreements:detail", kwargs={"reference": agreement.reference}) + "#documents")
    return render(
        request,
        "agreements/form.html",
        {
            "form": form,
            "agreement": agreement,
            "heading": f"Handling marking: {document.original_name}",
            "intro": f"Now marked {document.marking.name} ({document.marking.code}). Lowering a marking needs a lead "
            "evaluator or an admin, and is recorded with your reason.",
            "submit": "Change the marking",
            "page_marking": document.marking,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def agreement_sign(request, reference: str):
    agreement = _agreement(request, reference, "agreement.sign")
    initial = {"signer_name": request.user.full_name, "terms_hash_read": terms_hash(terms_snapshot(agreement))}
    form = SignForm(request.POST or None, initial=initial)

    def save(data):
        services.agreement_sign(
            actor=request.user,
            agreement=agreement,
            signer_name=data["signer_name"],
            capacity=data["capacity"],
            terms_hash_read=data.get("terms_hash_read") or "",
            request=request,
        )
        agreement.refresh_from_db()
        if agreement.is_active:
            return f"Both sides have signed: {agreement.reference} is now active."
        return "Your signature is recorded. The agreement becomes active when the other side signs."

    done = _save(request, form, agreement, save, anchor="#signatures")
    if done:
        return done
    return render(
        request,
        "agreements/sign.html",
        {"form": form, "agreement": agreement, "terms": selectors.current_terms(agreement)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def agreement_signature_due(request, reference: str):
    agreement = _agreement(request, reference, "agreement.signature_due")
    form = SignatureDueForm(request.POST or None, initial={"signature_due": agreement.signature_due})

    def save(data):
        services.agreement_change_signature_due(
            actor=request.user, agreement=agreement, signature_due=data["signature_due"], request=request
        )
        return f"Both sides should now sign by {data['signature_due']:%d %B %Y}."

    done = _save(request, form, agreement, save, anchor="#signatures")
    if done:
        return done
    return render(
        request,
        "agreements/form.html",
        {"form": form, "agreement": agreement, "heading": "Change the signature due date", "submit": "Save"},
    )


@login_required
def version_compare(request, reference: str):
    agreement = _agreement(request, reference)
    versions = list(agreement.versions.select_related("created_by").order_by("number"))
    if not versions:
        raise Http404("No versions.")
    by_number = {v.number: v for v in versions}

    def pick(name: str, default):
        try:
            return by_number[int(request.GET.get(name, ""))]
        except (KeyError, ValueError):
            return default

    newer = pick("to", versions[-1])
    older = pick("from", versions[-2] if len(versions) > 1 else versions[0])
    rows = selectors.version_compare(older, newer)
    return render(
        request,
        "agreements/compare.html",
        {
            "agreement": agreement,
            "versions": versions,
            "older": older,
            "newer": newer,
            "rows": rows,
            "changed_count": sum(1 for r in rows if r.changed),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def agreement_give_notice(request, reference: str):
    agreement = _agreement(request, reference, "agreement.give_notice")
    form = NoticeToEndForm(request.POST or None)

    def save(data):
        ended = give_notice(actor=request.user, agreement=agreement, reason=data["reason"], request=request)
        return f"Notice was given: {ended.reference} ends on {ended.ends_on:%d %B %Y}."

    done = _save(request, form, agreement, save)
    if done:
        return done
    return render(
        request,
        "agreements/form.html",
        {
            "form": form,
            "agreement": agreement,
            "heading": "Give notice to end the agreement",
            "intro": "Participation is voluntary on both sides. The agreement ends once the agreed notice period "
            "has run; cases still open under it are then withdrawn and their access ends. The other side sees "
            "your reason.",
            "submit": "Give notice",
        },
    )
