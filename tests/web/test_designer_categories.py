"""新建纠纷类别 in the browser: a county designer creates a category from a template, publishes it,
and only that county's clerks are offered it at registration."""
from __future__ import annotations

from tests.web.conftest import add_user
from web.extensions import db

JIUYUAN = "150207"


def create(client, **fields):
    data = {"name": "物业服务纠纷", "code": "property_service", "template": "neighbour", "jurisdiction": JIUYUAN,
            **fields}
    return client.post("/designer/categories", data=data)


def test_a_designer_creates_publishes_and_the_county_registers_the_new_category(app, login):
    with app.app_context():
        add_user("zhou", "周设计", ["designer"], JIUYUAN)
        db.session.commit()
    designer = login("zhou")
    assert "新建纠纷类别" in designer.get("/designer").get_data(as_text=True)
    response = create(designer)
    assert response.status_code == 303
    url = response.headers["Location"]
    page = designer.get(url).get_data(as_text=True)
    assert "物业服务纠纷" in page
    state = designer.get(f"{url}/files").get_json()
    assert state["problems"] == [] and 'id="property_service_dispute"' in state["files"]["neighbour.bpmn"]
    assert "物业服务纠纷" in designer.get("/designer").get_data(as_text=True)  # listed with its draft

    clerk = login("clerk")
    assert "物业服务纠纷" not in clerk.get("/cases/new").get_data(as_text=True)  # not before it is published
    published = designer.post(f"{url}/publish", json={"reason": "新增物业服务纠纷类别"})
    assert published.status_code == 200, published.get_json()
    assert published.get_json()["version_number"] == 1
    assert "物业服务纠纷" in clerk.get("/cases/new").get_data(as_text=True)
    form = clerk.get("/cases/new?_category=property_service")
    assert form.status_code == 200 and "applicant_name" in form.get_data(as_text=True)
    other_county = login("other")  # 昆都仑区: the category is 九原区's own
    assert "物业服务纠纷" not in other_county.get("/cases/new").get_data(as_text=True)


def test_a_taken_code_or_a_foreign_level_is_refused_with_a_message(app, login):
    with app.app_context():
        add_user("zhou", "周设计", ["designer"], JIUYUAN)
        db.session.commit()
    designer = login("zhou")
    response = create(designer, code="neighbour")
    assert response.status_code == 303 and response.headers["Location"].endswith("/designer")
    assert "类别代码 neighbour 已被使用" in designer.get("/designer").get_data(as_text=True)
    assert create(designer, jurisdiction="150202").status_code == 403
    assert login("clerk").post("/designer/categories", data={}).status_code == 403
