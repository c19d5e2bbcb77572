from pathway.store.db import SessionFactory
from pathway.views import queries
from tests.conftest import RECORDED_AT, treated_pathway


def test_treated_pathway_moves_to_registry_stage(factory: SessionFactory) -> None:
    treated_pathway(factory)
    with factory() as session:
        rows = queries.worklist(session, RECORDED_AT.date())
    assert [r.pathway for r in rows] == ["P1"]
    assert rows[0].stage == "follow_up"
    assert rows[0].window_days_left is None
