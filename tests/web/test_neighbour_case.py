"""A neighbour dispute handled start to finish through the web pages, as each role would."""
from datetime import timedelta

from engine.models import CaseEvent, HumanTask


def test_a_leaking_ceiling_dispute_goes_from_registration_to_archive(
        login, register, ready_task, stored_case, clock, success_path):
    case_id = register(login("clerk"))
    clients = {}

    for username, element_id, fields in success_path:
        client = clients.setdefault(username, login(username))
        task_id = ready_task(case_id, element_id)
        assert task_id in client.get("/tasks").get_data(as_text=True), f"{element_id} not in {username}'s inbox"
        assert client.get(f"/tasks/{task_id}").status_code == 200

        response = client.post(f"/tasks/{task_id}", data=fields)

        assert response.status_code == 302, response.get_data(as_text=True)
        assert response.headers["Location"] == f"/cases/{case_id}"
        clock.advance(timedelta(hours=2))

    case = stored_case(case_id)
    assert case.status == "concluded"
    assert (case.risk_color, case.handling_level, case.department) == ("黄", "village", "村人民调解委员会")
    html = clients["clerk"].get(f"/cases/{case_id}").get_data(as_text=True)
    assert "已办结" in html
    html = html[html.index("办理记录"):]  # the timeline
    for step in ("登记受理：邻里纠纷", "办理：受理审查", "办理：分析研判", "办理：分流转办", "办理：调处",
                 "办理：调解协议", "办理：结果告知", "办理：回访", "办理：归档"):
        assert step in html
    assert html.index("办理：受理审查") < html.index("办理：归档")
    assert "司法确认" not in html.replace("申请司法确认", "")  # that branch was not taken
    assert "张调解" in html and "双方同意由楼上住户修复并赔偿。" in html
    assert "2026-03-02 09:00" in html  # registered at 9:00 Beijing time


def test_after_registration_the_clerk_sees_the_acceptance_review_in_the_inbox(login, register):
    clerk = login("clerk")
    register(clerk)

    html = clerk.get("/tasks").get_data(as_text=True)

    assert "150207-2026-" in html and "楼上漏水纠纷" in html and "受理审查" in html
    assert "2026-03-03 23:59" in html  # 1 工作日 from Monday morning
    assert "正常" in html


def test_a_judgement_without_risk_colour_or_opinion_is_refused_and_nothing_changes(
        login, register, ready_task, event_count, db_read):
    case_id = register(login("clerk"))
    login("clerk").post(f"/tasks/{ready_task(case_id, 'accept')}", data={"accepted": "true"})
    analyst = login("analyst")
    task_id = ready_task(case_id, "assess")
    events_before = event_count(case_id)

    response = analyst.post(f"/tasks/{task_id}", data={"complexity": "complex", "assessment": "  "})

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert html.count("必填") >= 2  # under 风险等级 and under 研判意见
    assert 'value="complex" checked' in html  # what the analyst chose is kept
    assert event_count(case_id) == events_before
    assert db_read(lambda s: s.get(HumanTask, task_id).state) == "ready"


def test_an_amount_that_is_not_a_number_is_shown_under_its_field_with_the_input_kept(
        login, register, ready_task, success_path, event_count):
    case_id = register(login("clerk"))
    for username, element_id, fields in success_path[:4]:
        login(username).post(f"/tasks/{ready_task(case_id, element_id)}", data=fields)
    task_id = ready_task(case_id, "agreement")
    events_before = event_count(case_id)

    response = login("mediator").post(f"/tasks/{task_id}", data={
        "agreement_terms": "赔偿三千元", "agreement_amount": "三千", "apply_judicial_confirmation": "false"})

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "应为数字" in html
    assert 'value="三千"' in html and "赔偿三千元" in html
    assert event_count(case_id) == events_before


def test_registration_with_a_malformed_phone_number_is_refused_and_no_case_is_created(login, intake, db_read):
    clerk = login("clerk")

    response = clerk.post("/cases/new", data={"_category": "neighbour", "_jurisdiction": "150207",
                                               **intake, "applicant_phone": "12345", "people_count": "两"})

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "格式不正确" in html and "应为整数" in html
    assert 'value="楼上漏水纠纷"' in html
    assert db_read(lambda s: s.query(CaseEvent).count()) == 0


def test_a_task_done_by_someone_else_meanwhile_cannot_be_done_twice(login, register, ready_task):
    clerk = login("clerk")
    case_id = register(clerk)
    task_id = ready_task(case_id, "accept")
    second_window = login("clerk")
    second_window.get(f"/tasks/{task_id}")
    assert clerk.post(f"/tasks/{task_id}", data={"accepted": "true"}).status_code == 302

    response = second_window.post(f"/tasks/{task_id}", data={"accepted": "false"})

    assert response.status_code == 409
    assert "该任务已被他人办理或已撤回" in response.get_data(as_text=True)


def test_rejecting_a_case_at_acceptance_terminates_it(login, register, ready_task, stored_case):
    clerk = login("clerk")
    case_id = register(clerk)

    clerk.post(f"/tasks/{ready_task(case_id, 'accept')}", data={"accepted": "false", "reject_reason": "不属于受理范围"})

    assert stored_case(case_id).status == "terminated"
    assert "已终止" in clerk.get(f"/cases/{case_id}").get_data(as_text=True)


def test_case_pages_show_identity_and_phone_numbers_masked(login, register, ready_task, intake):
    clerk = login("clerk")
    case_id = register(clerk)
    case_page = clerk.get(f"/cases/{case_id}").get_data(as_text=True)
    pages = [case_page, clerk.get("/cases").get_data(as_text=True), clerk.get("/tasks").get_data(as_text=True),
             clerk.get(f"/tasks/{ready_task(case_id, 'accept')}").get_data(as_text=True)]

    for html in pages:
        assert intake["applicant_id_number"] not in html
        assert intake["applicant_phone"] not in html
        assert intake["respondent_phone"] not in html
    assert "150207********1234" in case_page
    assert "138****8000" in case_page


def test_the_dispatch_form_proposes_what_the_routing_table_decided(login, register, ready_task):
    case_id = register(login("clerk"))
    login("clerk").post(f"/tasks/{ready_task(case_id, 'accept')}", data={"accepted": "true"})
    login("analyst").post(f"/tasks/{ready_task(case_id, 'assess')}",
                          data={"risk_color": "橙", "complexity": "ordinary", "assessment": "可能激化"})

    html = login("director").get(f"/tasks/{ready_task(case_id, 'dispatch')}").get_data(as_text=True)

    assert 'value="township" checked' in html
    assert 'value="乡镇人民调解委员会"' in html
    assert 'name="applicant_id_number"' not in html  # case data outside the form is not a field


def test_text_a_user_typed_is_shown_back_as_text_never_as_markup(login, intake):
    response = login("clerk").post("/cases/new", data={
        "_category": "neighbour", "_jurisdiction": "150207", **intake,
        "title": '"><script>alert(1)</script>', "applicant_phone": "bad"})

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<script>alert(1)</script>" not in html
    assert "&#34;&gt;&lt;script&gt;" in html
