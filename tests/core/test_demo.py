import datetime as dt

from sqlalchemy import func, select

from throughcare.db.engine import Database
from throughcare.db.models import TrainingRecord
from throughcare.demo import caseload as demo
from throughcare.induction import aid as induction
from throughcare.knowledge.schema import Knowledge


def test_a_reset_clears_every_table_even_after_the_induction_aid_was_used(
    demo_database: Database, knowledge: Knowledge, today: dt.date
) -> None:
    staff = demo.demo_practitioner_id(demo_database)
    course = next(iter(knowledge.training))
    induction.record_training(demo_database, knowledge, staff, course, today, today)
    assert demo.load_demo_data(demo_database, today, reset=True) > 0
    with demo_database.transaction() as session:
        # The old staff rows are gone, so nothing of theirs (training, answers, sessions) may remain.
        assert session.scalar(select(func.count()).select_from(TrainingRecord)) == 0
