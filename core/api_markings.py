"""Handling markings in the REST API (``core.markings``): how a marking reads, how a change is asked for.

Every marked resource shows ``marking`` as ``MarkingSerializer``; a change is a POST of
``MarkingInputSerializer`` (the code of the new marking, and a reason when lowering) to the
resource's ``marking`` endpoint, which calls the entity's ``<entity>_set_marking`` service.
An upload body carries ``no_classified_information`` (``attestation_field``), which must be true.
"""

from __future__ import annotations

from rest_framework import serializers

from core import bounds
from core.markings import UNCLASSIFIED_STATEMENT, HandlingMarking


class MarkingSerializer(serializers.ModelSerializer):
    class Meta:
        model = HandlingMarking
        fields = ["code", "name", "rank", "banner_text"]
        read_only_fields = fields


class MarkingInputSerializer(serializers.Serializer):
    marking = serializers.SlugRelatedField(
        slug_field="code",
        queryset=HandlingMarking.objects.all(),
        help_text="The code of the new handling marking (e.g. CBI).",
    )
    reason = serializers.CharField(
        max_length=bounds.NOTE,
        required=False,
        allow_blank=True,
        default="",
        help_text="Why; required to lower a marking (a lead evaluator or an admin only).",
    )


def attestation_field() -> serializers.BooleanField:
    """The required confirmation of an upload body; the service refuses anything but true."""
    return serializers.BooleanField(
        required=True,
        help_text=f"Must be true: “{UNCLASSIFIED_STATEMENT}” Recorded with the file (who, when, this statement).",
    )
