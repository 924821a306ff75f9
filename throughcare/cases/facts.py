"""A client's episode as the protocol engine reads it: the case store's rows turned into EpisodeFacts."""

from __future__ import annotations

from throughcare.db.models import (
    Episode,
)
from throughcare.protocol.engine import EpisodeFacts


def facts_of(episode: Episode) -> EpisodeFacts:
    return EpisodeFacts(
        prison_number=episode.client.prison_number,
        initials=episode.client.initials,
        referral_date=episode.referral_date,
        referral_route=episode.referral_route.value,
        stage=episode.stage.value,
        care_level=episode.care_level,
        key_worker=episode.key_worker.display_name if episode.key_worker else None,
        on_prescription=episode.on_prescription,
        parole_case=episode.parole_case,
        consent_to_share=episode.consent_to_share,
        reception_date=episode.reception_date,
        initial_assessment_date=episode.initial_assessment_date,
        triage_date=episode.triage_date,
        last_review_date=episode.last_review_date,
        joint_review_date=episode.joint_review_date,
        expected_release_date=episode.expected_release_date,
        planned_transfer_date=episode.planned_transfer_date,
        closure_reason=episode.closure_reason.value if episode.closure_reason else None,
        closure_date=episode.closure_date,
        progress={(p.procedure_id, p.step_id): p.status.value for p in episode.progress},
    )
