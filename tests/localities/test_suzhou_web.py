"""肃州区's registration page offers 当场办结 and one POST registers, handles and closes the case."""
from __future__ import annotations

from engine.models import Case
from tests.web.conftest import NEIGHBOUR_INTAKE, add_user, app, login  # noqa: F401 — fixtures
from web.extensions import db

SUZHOU = "620902"


def test_a_suzhou_clerk_closes_a_simple_request_on_the_spot_from_the_registration_page(app, login):
    with app.app_context():
        add_user("suzhou.clerk", "肃州区受理员", ("clerk",), SUZHOU)
        db.session.commit()
    clerk = login("suzhou.clerk")
    page = clerk.get("/cases/new?_category=neighbour").get_data(as_text=True)
    assert "当场办结" in page and "当场答复内容" in page
    assert "当场办结" not in login("clerk").get("/cases/new?_category=neighbour").get_data(as_text=True)
    response = clerk.post("/cases/new", data={
        "_category": "neighbour", "_jurisdiction": SUZHOU, **NEIGHBOUR_INTAKE, "_duplicate_decision": "new",
        "on_the_spot": "true", "on_the_spot_answer": "已当场答复维修责任划分及申请程序。"})
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        case = db.session.query(Case).filter_by(jurisdiction_code=SUZHOU).one()
        assert (case.status, case.outcome) == ("concluded", "resolved")
        assert case.intake["on_the_spot_answer"].startswith("已当场答复")
