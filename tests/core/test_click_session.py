"""Click-session bookkeeping: coalesced results, exact undo plans, stale results refused."""

from __future__ import annotations

from desktop_app.core.clicks.engine import Click
from desktop_app.core.clicks.session import ClickSession


def test_one_result_per_click_undoes_one_step():
    s = ClickSession()
    s.add(Click(1, 1))
    assert s.pending and s.accept_result(1)
    s.add(Click(5, 5, False))
    assert s.accept_result(2) and not s.pending
    plan = s.undo_click()
    assert plan.undo_document_steps == 1 and not plan.rerun
    assert [c.positive for c in s.clicks] == [True]


def test_coalesced_result_is_undone_and_rerun():
    s = ClickSession()
    s.add(Click(1, 1))
    s.add(Click(2, 2))
    s.add(Click(3, 3))
    assert s.accept_result(3)  # one run covered three rapid clicks
    plan = s.undo_click()
    assert plan.undo_document_steps == 1 and plan.rerun and len(s.clicks) == 2


def test_stale_and_out_of_order_results_are_refused():
    s = ClickSession()
    s.add(Click(1, 1))
    s.add(Click(2, 2))
    assert s.accept_result(2)
    assert not s.accept_result(1)  # older than what is shown
    s.undo_click()
    assert not s.accept_result(2)  # that click was undone meanwhile


def test_clear_reports_applied_steps_and_starts_a_new_session():
    s = ClickSession()
    s.add(Click(1, 1))
    s.accept_result(1)
    s.add(Click(2, 2))
    s.accept_result(2)
    sid = s.session_id
    assert s.clear() == 2 and s.clicks == [] and s.session_id == sid + 1
    assert s.undo_click().undo_document_steps == 0
