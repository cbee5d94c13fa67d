"""Handling markings: how carefully an item must be handled, shown as a banner wherever it appears.

The programme keeps one list of markings (``HandlingMarking``, edited by programme admins in the
Django admin), each with a rank: the higher the rank, the more restrictive the marking. A data
migration seeds the usual three (Public, Company proprietary / CBI, Controlled unclassified).

Adopting markings in a model takes one line, inheriting the abstract ``Marked``::

    from core.markings import Marked

    class EvaluationLog(Marked, StoredFile):
        ...

then ``makemigrations`` for its app. The model gains ``marking`` (a protected foreign key to
``HandlingMarking``; a new row without one gets the programme's default marking). The owning app
then sets the marking from the agreement's default when it creates a row, changes it only through
a ``<entity>_set_marking`` service that asks ``marking_change_kind`` whether the change raises or
lowers it (lowering needs a lead and is audited), and shows ``{% marking_banner item %}``
(``core.templatetags.markings``) at the top and bottom of every page, PDF and email showing the
item. A file a person uploads also inherits ``UnclassifiedAttestation``, which records who
confirmed the file holds no classified information, when, and the statement they confirmed.

Everything here is plain data and lookups; permissions and audit live in the apps' services.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils import timezone

from core.bounds import NOTE
from core.errors import RuleViolation


class BannerColour(models.TextChoices):
    """Banner colours, each with at least 4.5:1 contrast for white text (black text on gold)."""

    GREEN = "green", "Green"
    BLUE = "blue", "Blue"
    PURPLE = "purple", "Purple"
    GOLD = "gold", "Gold"
    RED = "red", "Red"


# Background and text colour of each banner colour (the U.S. Web Design System's palette), used
# by pages, PDFs and HTML emails alike so the banner looks the same everywhere.
BANNER_STYLES: dict[str, tuple[str, str]] = {
    BannerColour.GREEN: ("#216e1f", "#ffffff"),
    BannerColour.BLUE: ("#005ea2", "#ffffff"),
    BannerColour.PURPLE: ("#54278f", "#ffffff"),
    BannerColour.GOLD: ("#ffbe2e", "#1b1b1b"),
    BannerColour.RED: ("#b50909", "#ffffff"),
}


class HandlingMarking(models.Model):
    """One marking of the programme's list; ``rank`` orders them from least to most restrictive."""

    name = models.CharField(max_length=80, unique=True)
    code = models.CharField(
        max_length=16,
        unique=True,
        help_text="Short code shown in lists and exports, e.g. CBI. Agreements name their default marking by it, "
        "so it cannot change once set.",
    )
    rank = models.PositiveSmallIntegerField(
        unique=True, help_text="Restrictiveness: a higher rank is more restrictive. A page shows the highest."
    )
    banner_text = models.CharField(max_length=120, help_text="The words of the banner, e.g. CONTROLLED UNCLASSIFIED.")
    colour = models.CharField(max_length=10, choices=BannerColour.choices, default=BannerColour.BLUE)
    description = models.TextField(
        blank=True,
        max_length=NOTE,
        validators=[MaxLengthValidator(NOTE)],
        help_text="How material so marked is handled.",
    )
    is_default = models.BooleanField(
        default=False, help_text="The marking of company material when the agreement names none. Only one."
    )

    class Meta:
        ordering = ["rank"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="handling_marking_one_default"
            ),
            models.CheckConstraint(
                condition=models.Q(colour__in=[c.value for c in BannerColour]), name="handling_marking_colour_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def banner_background(self) -> str:
        return BANNER_STYLES.get(self.colour, BANNER_STYLES[BannerColour.BLUE])[0]

    @property
    def banner_foreground(self) -> str:
        return BANNER_STYLES.get(self.colour, BANNER_STYLES[BannerColour.BLUE])[1]


@dataclass(frozen=True)
class MarkingSeed:
    name: str
    code: str
    rank: int
    banner_text: str
    colour: str
    description: str
    is_default: bool = False


# The list the programme starts with (seeded by core's migration 0004; admins may add or edit).
STANDARD_MARKINGS = (
    MarkingSeed(
        "Public",
        "PUBLIC",
        0,
        "PUBLIC",
        BannerColour.GREEN,
        "May be shared without restriction.",
    ),
    MarkingSeed(
        "Company proprietary / CBI",
        "CBI",
        20,
        "COMPANY PROPRIETARY / CONFIDENTIAL BUSINESS INFORMATION",
        BannerColour.BLUE,
        "The company's confidential business information: handled under the agreement's trade-secret "
        "terms and shared only with the company and the centre staff on the case.",
        True,
    ),
    MarkingSeed(
        "Controlled unclassified",
        "CUI",
        30,
        "CONTROLLED UNCLASSIFIED INFORMATION",
        BannerColour.PURPLE,
        "Unclassified information that needs safeguarding; shared only with people who need it for the case.",
    ),
)


def markings_seed(model: type[models.Model] = HandlingMarking) -> None:
    """Create the standard markings that are missing (by code); existing rows are left as they are.

    ``model`` is the historical model when a migration calls this.
    """
    for seed in STANDARD_MARKINGS:
        if model.objects.filter(code=seed.code).exists():
            continue
        model.objects.create(
            name=seed.name,
            code=seed.code,
            rank=seed.rank,
            banner_text=seed.banner_text,
            colour=seed.colour,
            description=seed.description,
            is_default=seed.is_default and not model.objects.filter(is_default=True).exists(),
        )


def marking_default() -> HandlingMarking:
    """The marking of company material when nothing more specific applies.

    The one flagged ``is_default``; failing that the most restrictive (never the least: an
    unmarked item is handled with care, not published). An empty list is seeded first, so
    every item always has a marking.
    """
    marking = (
        HandlingMarking.objects.filter(is_default=True).first() or HandlingMarking.objects.order_by("-rank").first()
    )
    if marking is None:
        markings_seed()
        return marking_default()
    return marking


def marking_default_pk() -> int:
    """``marking_default`` as a primary key: the default of every ``Marked.marking``."""
    return marking_default().pk


def marking_for_code(code: str | None) -> HandlingMarking:
    """The marking with this code (an agreement's default), else the programme default."""
    if code:
        marking = HandlingMarking.objects.filter(code=code).first()
        if marking is not None:
            return marking
    return marking_default()


def marking_choices() -> list[tuple[str, str]]:
    """(code, name) of every marking, least restrictive first: the choices of a marking field."""
    return list(HandlingMarking.objects.order_by("rank").values_list("code", "name"))


def most_restrictive(markings: Iterable[HandlingMarking | None]) -> HandlingMarking | None:
    """The highest-ranked marking of several (None when there is none): what a page or export carries."""
    present = [m for m in markings if m is not None]
    return max(present, key=lambda m: m.rank) if present else None


# --- The marking of a record named by its page (for emails, which carry the path of what they concern) --

PathResolver = Callable[[str], "HandlingMarking | None"]
_PATH_RESOLVERS: list[PathResolver] = []


def marking_path_resolver(fn: PathResolver) -> PathResolver:
    """Register ``fn(path)``: the marking of the record whose portal page is ``path``, or None if not its.

    Apps with marked records register one when they load (``AppConfig.ready``), so a lower layer
    (the reminder and hand-off emails) can print the banner of a record it knows only by its page.
    """
    _PATH_RESOLVERS.append(fn)
    return fn


def marking_for_path(path: str) -> HandlingMarking | None:
    """The handling marking of the record at ``path``, asked of every registered resolver (None: unmarked)."""
    if not path:
        return None
    for resolve in _PATH_RESOLVERS:
        marking = resolve(path)
        if marking is not None:
            return marking
    return None


class MarkingChange(models.TextChoices):
    SAME = "same", "Unchanged"
    RAISE = "raise", "Raised"
    LOWER = "lower", "Lowered"


def marking_change_kind(old: HandlingMarking, new: HandlingMarking) -> str:
    """Whether moving from ``old`` to ``new`` raises, lowers or keeps the restrictiveness."""
    if new.rank > old.rank:
        return MarkingChange.RAISE
    if new.rank < old.rank:
        return MarkingChange.LOWER
    return MarkingChange.SAME


class Marked(models.Model):
    """Abstract: a handling marking on the row. Inherit it to adopt markings (see the module docstring)."""

    marking = models.ForeignKey(
        HandlingMarking,
        on_delete=models.PROTECT,
        related_name="+",
        default=marking_default_pk,
        help_text="The handling marking, shown as a banner wherever the item appears.",
    )

    class Meta:
        abstract = True


# The statement a person confirms when attaching a file (kept with the file, word for word).
UNCLASSIFIED_STATEMENT = (
    "I confirm this file holds no classified information. The centre's assessments are unclassified."
)


# The name of the confirmation in forms and API bodies, and so of its errors.
ATTESTATION_FIELD = "no_classified_information"


def attestation_require(confirmed: bool, *, field: str = ATTESTATION_FIELD) -> None:
    """Refuse an upload whose uploader did not confirm ``UNCLASSIFIED_STATEMENT`` (400 naming ``field``)."""
    if confirmed is not True:
        message = "Confirm that the file holds no classified information."
        raise RuleViolation(message, errors={field: [message]})


class UnclassifiedAttestation(models.Model):
    """Abstract: who confirmed an uploaded file holds no classified information, when, and the words.

    The uploading service fills all three from ``UNCLASSIFIED_STATEMENT`` after the person ticked
    the confirmation (forms) or sent it (API); files made by the portal itself (reports) have none.
    """

    attested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    attested_at = models.DateTimeField(null=True, blank=True, editable=False)
    attestation = models.CharField(max_length=300, blank=True, editable=False)

    class Meta:
        abstract = True

    @property
    def is_attested(self) -> bool:
        return self.attested_at is not None

    def attest(self, *, user) -> None:
        """Record on this (unsaved) row that ``user`` confirmed the statement now."""
        self.attested_by = user
        self.attested_at = timezone.now()
        self.attestation = UNCLASSIFIED_STATEMENT
