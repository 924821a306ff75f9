"""Obligations from the protocol documents that the procedures carry as steps, and when "what's next" shows them."""

import datetime as dt
from dataclasses import replace

import pytest

from throughcare.protocol.engine import EpisodeFacts, NextStep, next_steps

TODAY = dt.date(2027, 3, 1)
IN_TREATMENT = EpisodeFacts(
    prison_number="A1234BC",
    initials="JS",
    referral_date=dt.date(2026, 9, 1),
    referral_route="self_referral",
    stage="in_treatment",
    initial_assessment_date=dt.date(2026, 9, 3),
    triage_date=dt.date(2026, 9, 10),
    last_review_date=dt.date(2027, 2, 15),
    care_level="dars_dependence",
)
CLOSING = ("release", "transfer", "positive_exit", "withdrawal")


def by_key(steps: list[NextStep]) -> dict[str, NextStep]:
    return {s.key: s for s in steps}


def started(procedure_id: str, first_step: str, **changes) -> EpisodeFacts:  # type: ignore[no-untyped-def]
    return replace(IN_TREATMENT, progress={(procedure_id, first_step): "done"}, **changes)


def test_a_client_released_in_two_weeks_is_given_the_appointment_24_7_line_and_self_help_details(knowledge) -> None:
    release = TODAY + dt.timedelta(weeks=2)
    steps = by_key(next_steps(replace(IN_TREATMENT, expected_release_date=release), knowledge, TODAY))
    for key in ("release_planning:release_contacts", "release_planning:self_help_details"):
        step = steps[key]
        assert (step.who, step.due, step.mandatory, step.overdue) == ("recovery practitioner", release, True, False)
    assert "24/7" in steps["release_planning:release_contacts"].what
    assert str(steps["release_planning:release_contacts"].source).startswith("001, Client management pathway timeline")
    assert str(steps["release_planning:self_help_details"].source) == "002, §3.5 Self Help Groups"


def test_the_release_contacts_wait_until_the_release_window_opens(knowledge) -> None:
    far = replace(IN_TREATMENT, expected_release_date=TODAY + dt.timedelta(weeks=20))
    listed = by_key(next_steps(far, knowledge, TODAY))
    assert "release_planning:release_contacts" not in listed
    assert "release_preparation" in listed


@pytest.mark.parametrize("procedure_id", CLOSING)
def test_every_closing_procedure_sends_a_summary_to_the_offender_manager(knowledge, procedure_id) -> None:
    step = knowledge.procedures[procedure_id].step("summary_to_offender_manager")
    assert step.mandatory and step.who == "recovery practitioner" and step.condition is None
    assert "consent" in step.what
    assert str(step.source) == "004, §3 Screening and Assessment (including Risk Assessment)"


def test_a_positive_exit_flow_includes_the_summary_and_the_end_of_treatment_questionnaire(knowledge) -> None:
    steps = by_key(next_steps(started("positive_exit", "agree_at_review"), knowledge, TODAY))
    summary = steps["positive_exit:summary_to_offender_manager"]
    assert (summary.who, summary.mandatory, summary.due) == ("recovery practitioner", True, None)
    questionnaire = steps["positive_exit:end_of_treatment_questionnaire"]
    assert not questionnaire.mandatory
    assert str(questionnaire.source).startswith("004, §5 ")


def test_a_withdrawal_flow_includes_the_summary_questionnaire_and_a_re_engagement_follow_up(knowledge) -> None:
    listed = by_key(next_steps(started("withdrawal", "discuss_reasons"), knowledge, TODAY))
    for step_id in ("summary_to_offender_manager", "end_of_treatment_questionnaire", "reengagement_follow_up"):
        assert f"withdrawal:{step_id}" in listed
    assert str(listed["withdrawal:reengagement_follow_up"].source).startswith("004, §1 ")


def test_release_and_transfer_checklists_include_the_summary_when_their_date_nears(knowledge) -> None:
    release = TODAY + dt.timedelta(weeks=2)
    released = by_key(next_steps(replace(IN_TREATMENT, expected_release_date=release), knowledge, TODAY))
    assert released["release:summary_to_offender_manager"].due == release
    assert "release:end_of_treatment_questionnaire" in released
    moving = replace(IN_TREATMENT, planned_transfer_date=TODAY + dt.timedelta(days=10))
    transferred = by_key(next_steps(moving, knowledge, TODAY))
    assert transferred["transfer:summary_to_offender_manager"].due == TODAY + dt.timedelta(days=10)
    # Treatment carries on at the receiving prison, so no end-of-treatment questionnaire at transfer.
    assert not any(key.endswith("end_of_treatment_questionnaire") for key in transferred)


def test_the_stabilisation_minimums_before_a_transfer_are_clinical_and_only_for_prescriptions(knowledge) -> None:
    moving = replace(IN_TREATMENT, planned_transfer_date=TODAY + dt.timedelta(days=10))
    assert "transfer:stabilisation_minimums" not in by_key(next_steps(moving, knowledge, TODAY))
    clinical = by_key(next_steps(replace(moving, on_prescription=True), knowledge, TODAY))
    step = clinical["transfer:stabilisation_minimums"]
    assert step.clinical and step.who == "clinical team"
    assert "7 days" in step.what and "2mg" in step.what
    assert str(step.source) == "001, §7.1.1"


def test_the_triage_walk_draws_up_the_contingency_plan_and_shares_the_care_plan(knowledge) -> None:
    facts = started("triage", "triage_appointment")
    listed = by_key(next_steps(facts, knowledge, TODAY))
    contingency = listed["triage:contingency_plan"]
    share = listed["triage:share_care_plan"]
    assert contingency.who == share.who == "recovery practitioner"
    assert share.mandatory and "consent" in share.what
    assert "OMU" in share.what and "healthcare" in share.what
    order = [s.id for s in knowledge.procedures["triage"].steps]
    assert order.index("care_plan_objectives") < order.index("contingency_plan")


def test_a_safeguarding_walk_reminds_staff_to_bring_treatment_information_to_acct_reviews(knowledge) -> None:
    listed = by_key(next_steps(started("safeguarding", "tell_line_manager"), knowledge, TODAY))
    step = listed["safeguarding:acct_review_information"]
    assert step.who == "recovery practitioner"
    assert str(step.source) == "001, §2.3.9"


def test_referral_routes_include_the_community_team_pre_release_and_re_engagement(knowledge) -> None:
    referral = knowledge.procedures["referral"]
    community = referral.step("community_team_referral")
    assert community.timescale == "dir_to_prison" and community.mandatory
    assert knowledge.timescale("dir_to_prison").amount == 24
    assert str(community.source) == "001, §5.4.1"
    assert str(referral.step("community_provider_information").source) == "001, §5.2.1"
    assert str(referral.step("pre_release_re_referral").source) == "004, §2 Referrals"
    assert str(referral.step("reengage_non_engagers").source).startswith("004, §1 ")


def test_audit_outcomes_are_discussed_and_checked_by_senior_leadership(knowledge) -> None:
    step = knowledge.procedures["record_keeping"].step("audit_outcomes")
    assert step.who == "service manager" and step.mandatory
    assert str(step.source) == "000, Clean Through › Regular audit cycles"


def test_the_reporting_measures_cover_all_of_the_minimum_data_list(knowledge) -> None:
    # 004 §5 lists seven minimum items; recovery outcomes and the questionnaire were the two missing.
    assert {"recovery_outcomes", "client_experience"} <= set(knowledge.measures)
    assert len(knowledge.measures) == 7
    assert all(m.source.document == "004" and m.source.section.startswith("§5 ") for m in knowledge.measures.values())
