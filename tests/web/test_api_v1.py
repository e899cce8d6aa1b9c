"""The channel API over HTTP: answers as the OpenAPI document says, RFC 9457 errors per field, idempotent
re-sends, and a channel confined to its own cases in its token's jurisdiction."""
from __future__ import annotations

from openapi_spec_validator import validate as validate_openapi
from sqlalchemy import func, select

from engine import channels
from engine.models import Case, ChannelSubmission, ChannelToken
from tests.web.api_helpers import FOREIGN, HOME, bearer, conforms, make_channel

SUBMISSION = {
    "reference": "110-20260302-0007",
    "category": "neighbour",
    "jurisdiction": HOME,
    "title": "邻里噪音纠纷",
    "facts": "110 非警务警情：楼上夜间噪音，双方争吵，民警现场劝解后移交。",
    "occurred_on": "2026-03-01",
    "address": "九原区某小区 3 栋",
    "people_count": 2,
    "applicant": {"name": "刘桂兰", "phone": "13800138000", "id_number": "150207196505121234"},
    "respondent": {"name": "陈建国", "phone": "13912345678"},
}


def post_case(client, token, body=None, **changes):
    response = client.post("/api/v1/cases", json={**(body or SUBMISSION), **changes}, headers=bearer(token))
    conforms(response, "/api/v1/cases", "post")
    return response


def cases_stored(app) -> int:
    from web.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Case))


def test_the_published_document_is_valid_openapi_3_1(app):
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    validate_openapi(document)
    assert document["openapi"] == "3.1.0"
    assert {"/api/v1/cases", "/api/v1/cases/{reference}"} <= set(document["paths"])


def test_a_submission_creates_a_case_and_a_re_send_returns_it(app):
    token, client = make_channel(app, "police-110", "police_110"), app.test_client()
    created = post_case(client, token)
    assert created.status_code == 201
    body = created.get_json()
    assert body["reference"] == SUBMISSION["reference"] and body["progress"]["stage"] == "received"
    assert body["progress"]["center"] == "九原区综治中心"
    assert created.headers["Location"].endswith("/api/v1/cases/110-20260302-0007")
    again = post_case(client, token)
    assert again.status_code == 200 and again.get_json()["case_code"] == body["case_code"]
    assert cases_stored(app) == 1
    pulled = client.get(created.headers["Location"], headers=bearer(token))
    conforms(pulled, "/api/v1/cases/{reference}", "get")
    assert pulled.get_json()["case_code"] == body["case_code"]


def test_invalid_fields_answer_problem_details_naming_each_and_nothing_is_created(app):
    token, client = make_channel(app), app.test_client()
    response = post_case(client, token, applicant={"name": "", "phone": "138"}, people_count=0, jurisdiction="abc")
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["type"] == "/api/v1/problems/validation" and problem["status"] == 422
    pointers = {error["pointer"] for error in problem["errors"]}
    assert {"#/applicant/name", "#/applicant/phone", "#/people_count", "#/jurisdiction"} <= pointers
    assert cases_stored(app) == 0


def test_an_unknown_category_field_and_category_are_named(app):
    token, client = make_channel(app), app.test_client()
    response = post_case(client, token, extra={"no_such_field": "x"})
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == ["extra.no_such_field"]
    response = post_case(client, token, category="no_such_category")
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "category"


def test_a_court_submission_carries_its_case_number_in_extra(app):
    token, client = make_channel(app, "court-0207", "court"), app.test_client()
    response = post_case(client, token, category="court_referral", reference="(2026)蒙0207民诉前调123号",
                         extra={"court_name": "九原区人民法院", "court_case_number": "(2026)蒙0207民诉前调123号"})
    assert response.status_code == 201, response.get_json()
    pulled = client.get("/api/v1/cases/(2026)蒙0207民诉前调123号", headers=bearer(token))
    assert pulled.status_code == 200 and pulled.get_json()["category"] == "court_referral"


def test_the_same_reference_with_other_content_is_a_conflict_naming_the_first_case(app):
    token, client = make_channel(app), app.test_client()
    first = post_case(client, token).get_json()
    response = post_case(client, token, title="另一件事")
    assert response.status_code == 409
    assert response.get_json()["type"] == "/api/v1/problems/reference-reused"
    assert response.get_json()["case_code"] == first["case_code"]


def test_a_channel_cannot_create_outside_its_jurisdiction(app):
    token, client = make_channel(app), app.test_client()
    response = post_case(client, token, jurisdiction=FOREIGN)
    assert response.status_code == 403 and response.get_json()["type"] == "/api/v1/problems/forbidden"
    assert cases_stored(app) == 0


def test_a_channel_reads_neither_another_channels_cases_nor_another_jurisdictions(app):
    ours, client = make_channel(app), app.test_client()
    assert post_case(client, ours).status_code == 201
    url = f"/api/v1/cases/{SUBMISSION['reference']}"
    other_channel = make_channel(app, "petition-office", "petition")
    other_place = make_channel(app, place=FOREIGN)  # the same channel, a token for another county
    for token in (other_channel, other_place):
        response = client.get(url, headers=bearer(token))
        conforms(response, "/api/v1/cases/{reference}", "get")
        assert response.status_code == 404


def test_missing_unknown_and_revoked_tokens_are_refused(app):
    token, client = make_channel(app), app.test_client()
    assert client.get("/api/v1/channel").status_code == 401
    assert client.get("/api/v1/channel", headers=bearer("fq_nope")).status_code == 401
    assert client.get("/api/v1/channel", headers={"Authorization": f"Basic {token}"}).status_code == 401
    assert client.get("/api/v1/channel", headers=bearer(token)).status_code == 200
    from web.extensions import db
    from web.services import services

    with app.app_context():
        row = db.session.scalar(select(ChannelToken))
        channels.revoke_token(db.session, row.id, "admin", services().clock.now())
        db.session.commit()
    response = client.post("/api/v1/cases", json=SUBMISSION, headers=bearer(token))
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
    conforms(response, "/api/v1/cases", "post")
    assert cases_stored(app) == 0


def test_bodies_that_are_not_json_are_refused_with_problems(app):
    token, client = make_channel(app), app.test_client()
    wrong_type = client.post("/api/v1/cases", data="reference=1", headers=bearer(token),
                             content_type="application/x-www-form-urlencoded")
    assert wrong_type.status_code == 415
    broken = client.post("/api/v1/cases", data="{", headers=bearer(token), content_type="application/json")
    assert broken.status_code == 400 and broken.mimetype == "application/problem+json"
    assert client.delete("/api/v1/cases", headers=bearer(token)).status_code == 405


def test_a_source_deadline_needs_a_time_zone(app):
    token, client = make_channel(app), app.test_client()
    response = post_case(client, token, source_deadline="2026-03-05T18:00:00")
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "source_deadline"
    response = post_case(client, token, source_deadline="2026-03-05T18:00:00+08:00")
    assert response.status_code == 201
    assert response.get_json()["source_deadline"].startswith("2026-03-05T10:00:00")


def test_a_channel_registers_its_callback_and_gets_the_signing_secret(app):
    token, client = make_channel(app), app.test_client()
    response = client.put("/api/v1/channel/callback", json={"url": "https://12345.example.gov.cn/fengqiao"},
                          headers=bearer(token))
    conforms(response, "/api/v1/channel/callback", "put")
    assert response.status_code == 200 and len(response.get_json()["signing_secret"]) > 30
    bad = client.put("/api/v1/channel/callback", json={"url": "ftp://x"}, headers=bearer(token))
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "url"
    me = client.get("/api/v1/channel", headers=bearer(token))
    conforms(me, "/api/v1/channel", "get")
    assert me.get_json()["callback_url"] == "https://12345.example.gov.cn/fengqiao"
    assert "signing_secret" not in me.get_json()


def test_categories_list_their_extra_fields(app):
    token, client = make_channel(app), app.test_client()
    response = client.get("/api/v1/categories", headers=bearer(token))
    conforms(response, "/api/v1/categories", "get")
    by_code = {c["code"]: c for c in response.get_json()}
    assert by_code["court_referral"]["extra_fields"]["court_case_number"]
    assert "applicant_phone" not in by_code["neighbour"]["extra_fields"]


def test_the_api_ignores_staff_sessions_and_needs_no_csrf(csrf_app):
    token = make_channel(csrf_app)
    client = csrf_app.test_client()
    response = client.post("/api/v1/cases", json=SUBMISSION, headers=bearer(token))
    assert response.status_code == 201
    with csrf_app.app_context():
        from web.extensions import db

        assert db.session.scalar(select(func.count()).select_from(ChannelSubmission)) == 1


def test_a_channel_over_its_rate_limit_gets_429_problem_details(app):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    token, client = make_channel(app, "rate-test"), app.test_client()
    answers = [client.get("/api/v1/channel", headers=bearer(token)) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    conforms(answers[-1], "/api/v1/channel", "get")
    assert answers[-1].get_json()["type"] == "/api/v1/problems/too-many-requests"
    other = make_channel(app, "rate-other")
    assert client.get("/api/v1/channel", headers=bearer(other)).status_code == 200  # limits are per token
