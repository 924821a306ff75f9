"""What the core refuses, in words fit to show staff: raised by the case store, access and the induction aid, caught by
every gateway."""

from __future__ import annotations


class CaseError(Exception):
    """A request the store refuses; the message is written for the member of staff who asked."""


class UnknownClient(CaseError):
    pass


class AlreadyReferred(CaseError):
    """The client already has an open episode, often opened a moment ago by someone else."""


class AlreadyMarked(CaseError):
    """The step already has the mark asked for, often put there a moment ago by someone else."""


class NotAStep(CaseError):
    """The step is not in the procedure, or does not apply to this client's episode."""
