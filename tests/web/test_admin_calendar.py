"""Administrators record holidays and make-up working days the holiday library does not know yet."""
from datetime import date

from engine.models import CalendarOverride


def test_an_administrator_declares_a_2027_spring_festival_rest_day(login, db_read):
    admin = login("admin")

    response = admin.post("/admin/calendar", data={"day": "2027-02-08", "kind": "restday", "note": "2027年春节"},
                          follow_redirects=True)

    html = response.get_data(as_text=True)
    assert "已设置 2027-02-08 为休息日" in html
    assert "2027年春节" in html and "admin" in html
    row = db_read(lambda s: s.get(CalendarOverride, ("", date(2027, 2, 8))))
    assert (row.is_workday, row.note) == (False, "2027年春节")


def test_declaring_the_same_day_again_replaces_the_earlier_ruling(login, db_read):
    admin = login("admin")
    admin.post("/admin/calendar", data={"day": "2027-02-20", "kind": "restday", "note": "误录"})

    admin.post("/admin/calendar", data={"day": "2027-02-20", "kind": "workday", "note": "调休上班"})

    rows = db_read(lambda s: s.query(CalendarOverride).all())
    assert [(r.day, r.is_workday, r.note) for r in rows] == [(date(2027, 2, 20), True, "调休上班")]


def test_a_missing_date_is_refused(login, db_read):
    response = login("admin").post("/admin/calendar", data={"day": "", "kind": "workday"})

    assert response.status_code == 422
    assert "请填写日期" in response.get_data(as_text=True)
    assert db_read(lambda s: s.query(CalendarOverride).count()) == 0


def test_others_may_not_change_the_calendar(login):
    assert login("director").post("/admin/calendar", data={"day": "2027-01-01", "kind": "restday"}).status_code == 403
