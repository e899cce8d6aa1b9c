"""Who may see and do what: roles decide the tasks, jurisdiction decides the cases."""


def test_each_user_sees_only_the_tasks_of_their_roles_in_their_jurisdiction(login, register):
    register(login("clerk"))  # 九原区 150207
    register(login("other"), jurisdiction="150203", title="昆都仑区噪音纠纷")

    clerk_inbox = login("clerk").get("/tasks").get_data(as_text=True)
    analyst_inbox = login("analyst").get("/tasks").get_data(as_text=True)
    other_inbox = login("other").get("/tasks").get_data(as_text=True)

    assert "楼上漏水纠纷" in clerk_inbox and "昆都仑区噪音纠纷" not in clerk_inbox
    assert "受理审查" not in analyst_inbox and "暂无待办事项" in analyst_inbox
    assert "昆都仑区噪音纠纷" in other_inbox and "楼上漏水纠纷" not in other_inbox


def test_the_inbox_lists_the_earliest_deadline_first(login, register, ready_task, clock):
    other = login("other")
    first = register(other, jurisdiction="150203", title="先登记的纠纷")
    other.post(f"/tasks/{ready_task(first, 'accept')}", data={"accepted": "true"})
    clock.advance(days=1)
    register(other, jurisdiction="150203", title="后登记的纠纷")

    html = other.get("/tasks").get_data(as_text=True)

    assert html.index("先登记的纠纷") < html.index("后登记的纠纷")


def test_a_task_past_its_deadline_is_shown_overdue_and_one_near_it_as_due_soon(login, register, clock):
    clerk = login("clerk")
    register(clerk)

    clock.advance(hours=36)  # Tuesday 21:00: 80% of the working day has passed
    assert "临期" in clerk.get("/tasks").get_data(as_text=True)
    clock.advance(hours=12)  # Wednesday 09:00
    assert "超期" in clerk.get("/tasks").get_data(as_text=True)


def test_a_deadline_reaching_into_an_unpublished_holiday_year_is_marked_provisional(login, register, clock):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    clock.set(datetime(2026, 12, 31, 16, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    clerk = login("clerk")
    register(clerk)

    assert "暂定" in clerk.get("/tasks").get_data(as_text=True)


def test_a_case_of_another_county_does_not_exist_for_its_staff(login, register, ready_task):
    case_id = register(login("clerk"))
    task_id = ready_task(case_id, "accept")
    other = login("other")

    assert other.get(f"/cases/{case_id}").status_code == 404
    assert other.get(f"/tasks/{task_id}").status_code == 404
    response = other.post(f"/tasks/{task_id}", data={"accepted": "true"})
    assert response.status_code == 404
    assert "不在您的管辖范围内" in response.get_data(as_text=True)
    assert "楼上漏水纠纷" not in other.get("/cases").get_data(as_text=True)


def test_a_user_without_the_tasks_role_may_look_but_not_act(login, register, ready_task, stored_case):
    case_id = register(login("clerk"))
    task_id = ready_task(case_id, "accept")
    analyst = login("analyst")

    page = analyst.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "您没有该角色" in page and 'name="accepted"' not in page
    assert f"/tasks/{task_id}" not in analyst.get(f"/cases/{case_id}").get_data(as_text=True)

    assert analyst.post(f"/tasks/{task_id}", data={"accepted": "true"}).status_code == 403
    assert stored_case(case_id).current_nodes == ["受理审查"]


def test_only_clerks_register_disputes_and_only_in_their_own_jurisdiction(login, intake):
    assert login("analyst").get("/cases/new").status_code == 403

    response = login("clerk").post("/cases/new", data={"_category": "neighbour", "_jurisdiction": "150203", **intake})

    assert response.status_code == 422
    assert "不在您的管辖范围内" in response.get_data(as_text=True)


def test_a_clerk_may_register_a_case_for_a_township_inside_the_county(login, register, stored_case):
    case_id = register(login("clerk"), jurisdiction="150207001")

    assert stored_case(case_id).jurisdiction_code == "150207001"


def test_the_case_list_filters_by_status(login, register, ready_task):
    clerk = login("clerk")
    register(clerk, title="仍在办理的纠纷")
    rejected = register(clerk, title="不予受理的纠纷")
    clerk.post(f"/tasks/{ready_task(rejected, 'accept')}", data={"accepted": "false"})

    open_cases = clerk.get("/cases?status=open").get_data(as_text=True)
    terminated = clerk.get("/cases?status=terminated").get_data(as_text=True)

    assert "仍在办理的纠纷" in open_cases and "不予受理的纠纷" not in open_cases
    assert "不予受理的纠纷" in terminated and "仍在办理的纠纷" not in terminated
