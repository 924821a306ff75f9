import datetime as dt
from dataclasses import replace

import pytest

from throughcare.db.models import ReferralRoute
from throughcare.protocol.engine import EpisodeFacts, next_steps, pending_steps, subject_plan

REFERRED = EpisodeFacts(
    prison_number="A1234BC",
    initials="JS",
    referral_date=dt.date(2026, 12, 24),
    referral_route="self_referral",
    stage="referred",
)


def keys(steps) -> list[str]:  # type: ignore[no-untyped-def]
    return [s.key for s in steps]


def test_initial_assessment_is_due_five_working_days_after_referral_across_christmas(knowledge) -> None:
    [step] = next_steps(REFERRED, knowledge, dt.date(2026, 12, 29))
    assert step.key == "initial_assessment"
    assert step.due == dt.date(2027, 1, 5)
    assert step.who == "support worker"
    assert str(step.source).startswith("000, ")
    assert not step.overdue


def test_initial_assessment_is_overdue_the_day_after_it_was_due(knowledge) -> None:
    assert not next_steps(REFERRED, knowledge, dt.date(2027, 1, 5))[0].overdue
    assert next_steps(REFERRED, knowledge, dt.date(2027, 1, 6))[0].overdue


def test_illicit_use_referral_is_visited_within_72_hours_before_the_assessment(knowledge) -> None:
    facts = replace(REFERRED, referral_route="illicit_use", referral_date=dt.date(2027, 3, 1))
    steps = next_steps(facts, knowledge, dt.date(2027, 3, 1))
    assert keys(steps) == ["illicit_use_visit", "initial_assessment"]
    assert steps[0].due == dt.date(2027, 3, 4)
    assert "ideally 24" in steps[0].rule


def test_triage_is_due_ten_working_days_after_the_initial_assessment_across_easter(knowledge) -> None:
    facts = replace(REFERRED, stage="assessed", initial_assessment_date=dt.date(2027, 3, 25))
    [step] = next_steps(facts, knowledge, dt.date(2027, 3, 25))
    assert (step.key, step.due, step.who) == ("triage", dt.date(2027, 4, 12), "recovery practitioner")


def test_triage_across_the_late_may_bank_holiday(knowledge) -> None:
    facts = replace(REFERRED, stage="assessed", initial_assessment_date=dt.date(2027, 5, 21))
    assert next_steps(facts, knowledge, dt.date(2027, 5, 21))[0].due == dt.date(2027, 6, 7)


def in_treatment(**changes) -> EpisodeFacts:  # type: ignore[no-untyped-def]
    base = replace(
        REFERRED,
        referral_date=dt.date(2026, 9, 1),
        stage="in_treatment",
        initial_assessment_date=dt.date(2026, 9, 3),
        triage_date=dt.date(2026, 9, 10),
        care_level="dars_dependence",
    )
    return replace(base, **changes)


def test_review_for_dependence_is_due_at_four_weeks_and_overdue_only_after_six(knowledge) -> None:
    facts = in_treatment(last_review_date=dt.date(2026, 10, 1))
    review = next_steps(facts, knowledge, dt.date(2026, 11, 5))[0]
    assert (review.key, review.due, review.overdue) == ("care_plan_review", dt.date(2026, 10, 29), False)
    assert next_steps(facts, knowledge, dt.date(2026, 11, 13))[0].overdue


def test_high_risk_clients_are_reviewed_fortnightly_and_tc_freedom_six_weekly(knowledge) -> None:
    high = next_steps(in_treatment(care_level="dars_high_risk"), knowledge, dt.date(2026, 9, 11))[0]
    tc = next_steps(in_treatment(care_level="tc_freedom"), knowledge, dt.date(2026, 9, 11))[0]
    assert high.due == dt.date(2026, 9, 24)
    assert tc.due == dt.date(2026, 10, 22)


def test_clients_on_a_prescription_have_a_13_week_joint_review(knowledge) -> None:
    steps = next_steps(in_treatment(on_prescription=True), knowledge, dt.date(2026, 9, 11))
    joint = next(s for s in steps if s.key == "joint_review")
    assert joint.due == dt.date(2026, 12, 10)
    assert "joint_review" not in keys(next_steps(in_treatment(), knowledge, dt.date(2026, 9, 11)))


def test_release_preparation_starts_twelve_weeks_before_release(knowledge) -> None:
    facts = in_treatment(expected_release_date=dt.date(2027, 3, 5), last_review_date=dt.date(2026, 11, 20))
    early = next_steps(facts, knowledge, dt.date(2026, 11, 23))
    assert "release_preparation" in keys(early)
    assert next(s for s in early if s.key == "release_preparation").due == dt.date(2026, 12, 11)
    inside = keys(next_steps(facts, knowledge, dt.date(2026, 12, 14)))
    assert "release:harm_reduction_session" in inside
    # Referral to the community drug team applies to clinical clients only.
    assert "release:cdt_referral" not in inside
    clinical = keys(next_steps(replace(facts, on_prescription=True), knowledge, dt.date(2026, 12, 14)))
    assert "release:cdt_referral" in clinical


def test_done_and_skipped_checklist_steps_drop_off_the_list(knowledge) -> None:
    facts = in_treatment(
        expected_release_date=dt.date(2026, 12, 18),
        progress={("release", "harm_reduction_session"): "done", ("release", "ttg_support"): "skipped"},
    )
    listed = keys(next_steps(facts, knowledge, dt.date(2026, 12, 1)))
    assert "release:harm_reduction_session" not in listed
    assert "release:ttg_support" not in listed
    assert "release:naloxone" in listed


def test_transfer_within_28_days_of_custody_adds_the_receiving_team_notice(knowledge) -> None:
    transfer = knowledge.procedures["transfer"]
    early = in_treatment(reception_date=dt.date(2026, 9, 1), planned_transfer_date=dt.date(2026, 9, 20))
    late = replace(early, planned_transfer_date=dt.date(2026, 10, 20))
    assert "notify_28_days" in [s.id for s in pending_steps(transfer, early, dt.date(2026, 9, 15))]
    assert "notify_28_days" not in [s.id for s in pending_steps(transfer, late, dt.date(2026, 9, 15))]
    steps = next_steps(late, knowledge, dt.date(2026, 10, 21))
    assert all(s.overdue for s in steps if s.key.startswith("transfer:"))


def test_overdue_steps_come_first(knowledge) -> None:
    facts = in_treatment(last_review_date=dt.date(2026, 9, 10), expected_release_date=dt.date(2027, 6, 1))
    steps = next_steps(facts, knowledge, dt.date(2026, 11, 23))
    assert steps[0].overdue and steps[0].key == "care_plan_review"


def test_a_closed_episode_has_nothing_next(knowledge) -> None:
    facts = in_treatment(closure_date=dt.date(2026, 11, 1), closure_reason="positive_exit")
    assert next_steps(facts, knowledge, dt.date(2026, 11, 23)) == []


@pytest.mark.parametrize(
    ("route", "first", "due", "rule"),
    [
        # Referred on Monday 1 March 2027.
        ("illicit_use", "illicit_use_visit", dt.date(2027, 3, 4), "within 72 hours (ideally 24) after referral"),
        ("positive_drug_test", "illicit_use_visit", dt.date(2027, 3, 4), "within 72 hours (ideally 24) after referral"),
        ("induction", "initial_assessment", dt.date(2027, 3, 8), "within 5 working days of referral"),
        ("self_referral", "initial_assessment", dt.date(2027, 3, 8), "within 5 working days of referral"),
        ("staff_referral", "initial_assessment", dt.date(2027, 3, 8), "within 5 working days of referral"),
        ("community_team", "initial_assessment", dt.date(2027, 3, 8), "within 5 working days of referral"),
    ],
)
def test_each_referral_route_has_its_first_step_and_timescale(knowledge, route, first, due, rule) -> None:  # type: ignore[no-untyped-def]
    facts = replace(REFERRED, referral_route=route, referral_date=dt.date(2027, 3, 1))
    step = next_steps(facts, knowledge, dt.date(2027, 3, 1))[0]
    assert (step.key, step.due, step.rule) == (first, due, rule)


def test_every_referral_route_is_one_the_engine_knows(knowledge) -> None:  # type: ignore[no-untyped-def]
    for route in ReferralRoute:
        facts = replace(REFERRED, referral_route=route.value)
        assert next_steps(facts, knowledge, REFERRED.referral_date)[-1].key == "initial_assessment"


def test_a_positive_drug_test_is_visited_and_offered_an_appointment_as_004_says(knowledge) -> None:  # type: ignore[no-untyped-def]
    facts = replace(REFERRED, referral_route="positive_drug_test")
    steps = next_steps(facts, knowledge, REFERRED.referral_date)
    assert steps[0].what == "Visit after the positive drug test"
    referral = knowledge.procedures["referral"]
    assert "positive_drug_test" in [s.id for s in pending_steps(referral, facts, REFERRED.referral_date)]
    assert "positive_drug_test" not in [s.id for s in pending_steps(referral, REFERRED, REFERRED.referral_date)]


IN_TREATMENT = replace(
    REFERRED,
    stage="in_treatment",
    referral_date=dt.date(2026, 9, 1),
    initial_assessment_date=dt.date(2026, 9, 3),
    triage_date=dt.date(2026, 9, 10),
    care_level="dars_high_risk",
    on_prescription=True,
)


def test_a_release_plan_lists_every_release_step_even_before_the_window_opens(knowledge) -> None:
    facts = replace(IN_TREATMENT, expected_release_date=dt.date(2027, 3, 3))
    today = dt.date(2026, 12, 2)
    # What's next shows only when preparation starts, as yet.
    assert [k for k in keys(next_steps(facts, knowledge, today)) if "release" in k] == ["release_preparation"]
    plan = subject_plan(facts, knowledge, today, "release")
    assert plan.opens == dt.date(2027, 3, 3) - dt.timedelta(weeks=12)
    assert {"release:cdt_referral", "release:harm_reduction_session", "release_planning:release_contacts"} <= set(
        keys(plan.steps)
    )
    assert all(s.due == dt.date(2027, 3, 3) for s in plan.steps)
    # The client's conditions apply: no parole, so no parole report; the local checklist comes first.
    assert "release:parole_report" not in keys(plan.steps)
    assert plan.steps[0].key == "release:start_preparation"


def test_a_transfer_plan_without_a_date_lists_the_steps_undated_and_drops_what_is_done(knowledge) -> None:
    facts = replace(IN_TREATMENT, progress={("transfer", "ndtms_form"): "done"})
    plan = subject_plan(facts, knowledge, dt.date(2026, 12, 2), "transfer")
    assert plan.date is None and plan.opens is None
    assert "transfer:transfer_email" in keys(plan.steps) and "transfer:ndtms_form" not in keys(plan.steps)
    assert "transfer:prescription_record" in keys(plan.steps)
    assert all(s.due is None and not s.overdue for s in plan.steps)
    no_script = subject_plan(replace(facts, on_prescription=False), knowledge, dt.date(2026, 12, 2), "transfer")
    assert "transfer:prescription_record" not in keys(no_script.steps)


def test_a_closed_episode_has_no_plan(knowledge) -> None:
    closed = replace(IN_TREATMENT, closure_date=dt.date(2026, 11, 1), closure_reason="released")
    assert subject_plan(closed, knowledge, dt.date(2026, 12, 2), "release").steps == []
