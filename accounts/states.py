"""A company's engagement with the programme: its stages and the moves between them.

``prospect → in discussion → negotiating → signed``, and ``lapsed`` from any of
them; a lapsed company can come back into discussion or negotiation, a signed
one can reopen negotiation (new terms), and talks can step back from
negotiating to discussion. The stage is the centre's own reading of the
relationship, kept apart from any agreement: a company only "in discussion" has
none yet. ``accounts.services.organisation_engagement_change`` makes every move.
"""

from __future__ import annotations

from django.db import models

from core.states import Move


class EngagementStage(models.TextChoices):
    PROSPECT = "prospect", "Prospect"
    IN_DISCUSSION = "in_discussion", "In discussion"
    NEGOTIATING = "negotiating", "Negotiating"
    SIGNED = "signed", "Signed"
    LAPSED = "lapsed", "Lapsed"


# The order stages are shown in (the programme page's chart and table read left to right).
ENGAGEMENT_ORDER = tuple(EngagementStage)

ENGAGEMENT_MOVES: dict[str, Move] = {
    "discuss": Move(
        "Record as in discussion",
        (EngagementStage.PROSPECT, EngagementStage.NEGOTIATING, EngagementStage.LAPSED),
        EngagementStage.IN_DISCUSSION,
        "organisation.engage",
    ),
    "negotiate": Move(
        "Record as negotiating",
        (EngagementStage.PROSPECT, EngagementStage.IN_DISCUSSION, EngagementStage.SIGNED, EngagementStage.LAPSED),
        EngagementStage.NEGOTIATING,
        "organisation.engage",
    ),
    "sign": Move("Record as signed", (EngagementStage.NEGOTIATING,), EngagementStage.SIGNED, "organisation.engage"),
    # Ending a relationship is the one move whose reason the record must keep.
    "lapse": Move(
        "Record as lapsed",
        (
            EngagementStage.PROSPECT,
            EngagementStage.IN_DISCUSSION,
            EngagementStage.NEGOTIATING,
            EngagementStage.SIGNED,
        ),
        EngagementStage.LAPSED,
        "organisation.engage",
        needs_reason=True,
    ),
}


def engagement_move_to(current: str, target: str) -> Move | None:
    """The move from stage ``current`` to stage ``target``, or None when there is none."""
    for move in ENGAGEMENT_MOVES.values():
        if move.target == target and move.starts_from(current):
            return move
    return None


def engagement_targets(current: str) -> list[str]:
    """The stages a company at ``current`` may move to, in the order stages are shown."""
    return [stage for stage in ENGAGEMENT_ORDER if engagement_move_to(current, stage) is not None]
