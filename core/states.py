"""The shape every state machine of the portal is written in.

Each app keeps its machines in ``<app>/states.py``, beside its models: the
statuses (a ``TextChoices``), the named groups of statuses the rest of the
code asks about (open, ended, released…), and the moves, each a ``Move``
keyed by its name. Services check a move's ``sources`` before they write and
the policy action before anything; ``*_actions_for`` offers a button when
both would pass; the admin and the API call the same services.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Move:
    """One allowed change of status: where it may start, where it ends, and who may make it.

    ``action`` is the policy action asked of the actor; None when only the portal's
    own clock makes the move (an access period ending). ``needs_reason``: the person
    must say why, and the reason is kept on the record.
    """

    label: str
    sources: tuple[str, ...]
    target: str
    action: str | None
    needs_reason: bool = False

    def starts_from(self, status: str) -> bool:
        """True when an object in ``status`` may make this move."""
        return status in self.sources


@dataclass(frozen=True)
class Lifecycle:
    """The forward path of a state machine, for the step indicator on its record's page.

    ``path``: the statuses of the way forward, in order. ``exits``: the statuses that end
    the record off that path (withdrawn, rejected…), each with the path status it can only
    have left from, or None when the record could leave from several. ``labels`` maps every
    status to what a person reads. Built once in ``<app>/states.py`` from the machine's own
    statuses, so the indicator and the services read one definition.
    """

    path: tuple[str, ...]
    labels: dict[str, str]
    exits: dict[str, str | None]

    def steps(self, status: str, *, reached: str | None = None) -> dict:
        """The steps to show for a record in ``status``: each label with ``complete``, ``current``
        or ``upcoming``, the current step's number, the total, and whether the record has ended
        off the path. A record that reached an end on the path by a shortcut (access that expired
        before it was ever provided) is shown as leaving the path after ``reached``.

        ``reached`` names the last path status a record that left the path had reached, when
        the record itself knows (a released finding that was withdrawn); otherwise the exit's
        own source is used, or the first step.
        """
        on_path = status in self.path and (
            reached not in self.path or self.path.index(reached) >= self.path.index(status) - 1
        )
        if on_path:
            at = self.path.index(status)
            statuses = list(self.path)
            ended_off_path = False
        else:
            origin = reached or self.exits.get(status) or self.path[0]
            at = self.path.index(origin) + 1 if origin in self.path else 1
            statuses = [*self.path[:at], status]
            ended_off_path = True
        steps = []
        for index, name in enumerate(statuses):
            state = "complete" if index < at else "current" if index == at else "upcoming"
            steps.append({"label": self.labels.get(name, name), "state": state})
        return {
            "steps": steps,
            "number": at + 1,
            "total": len(statuses),
            "current": steps[at]["label"],
            "ended_off_path": ended_off_path,
        }


def lifecycle_from(moves: dict[str, Move], forward: tuple[str, ...], exits: tuple[str, ...], labels) -> Lifecycle:
    """The ``Lifecycle`` of a machine from its own moves: the path runs from the first forward
    move's source through each forward move's target; each exit move's target ends off the path,
    leaving from its source when it has only one. ``labels``: the machine's ``TextChoices``."""
    path = (moves[forward[0]].sources[0], *(moves[name].target for name in forward))
    ends = {moves[name].target: (moves[name].sources[0] if len(moves[name].sources) == 1 else None) for name in exits}
    return Lifecycle(path=path, labels=dict(labels.choices), exits=ends)
