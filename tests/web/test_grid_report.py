"""A grid worker (网格员) of 新光一村一组网格 reports a dispute from a phone with photos of the scene;
新光一村综治站 handles it and sees the photos, 昆都仑区 does not."""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlalchemy import select

from engine import jurisdictions
from engine.attachments import AttachmentStore
from engine.models import Attachment, Case, CaseEvent
from tests.web.conftest import add_user
from web.extensions import db

GRID, VILLAGE, TOWNSHIP, COUNTY = "150207100001001", "150207100001", "150207100", "150207"
REPORT = {
    "_category": "other",
    "_place": GRID,
    "title": "村道旁堆放杂物引发争执",
    "summary": "两户村民因村道旁堆放柴草杂物发生口角，一方称影响通行。",
    "address": "新光一村一组村道东侧",
    "applicant_name": "郝文明",
    "applicant_phone": "13904721234",
    "respondent_name": "贾二虎",
}


def photo(kind: str, color=(90, 140, 60), size=(64, 48)) -> bytes:
    image = Image.effect_noise(size, 50).convert("RGB")
    image.paste(color, (0, 0, size[0] // 2, size[1] // 2))
    out = io.BytesIO()
    image.save(out, kind)
    return out.getvalue()


PNG, JPEG = photo("PNG"), photo("JPEG", color=(20, 60, 200))


@pytest.fixture
def files_dir(app, tmp_path):
    folder = tmp_path / "attachments"
    app.config["ATTACHMENTS_DIR"] = str(folder)
    return folder


@pytest.fixture
def village(app, files_dir):
    """九原区 → 哈林格尔镇 → 新光一村 (综治站) → 一组网格 (no center), its grid worker and the station's clerk."""
    with app.app_context():
        jurisdictions.save(db.session, COUNTY, "九原区", "county", None, "九原区综治中心")
        jurisdictions.save(db.session, TOWNSHIP, "哈林格尔镇", "township", COUNTY, "哈林格尔镇综治中心")
        jurisdictions.save(db.session, VILLAGE, "新光一村", "village", TOWNSHIP, "新光一村综治站")
        jurisdictions.save(db.session, GRID, "新光一村一组网格", "grid", VILLAGE, None)
        db.session.flush()
        add_user("wangge", "高网格", ["grid_worker"], GRID)
        add_user("station", "新光一村综治专干", ["clerk", "analyst"], VILLAGE)
        db.session.commit()


def send(client, fields=None, photos=(), **changes):
    data = {**REPORT, **(fields or {}), **changes}
    data["photos"] = [(io.BytesIO(content), name) for name, content in photos]
    return client.post("/grid/report", data=data, content_type="multipart/form-data")


def stored_files(folder) -> list:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def cases(db_read) -> list[Case]:
    return db_read(lambda s: list(s.scalars(select(Case))))


def test_a_grid_worker_reports_with_two_photos_and_the_village_station_gets_the_case(
        village, login, db_read, files_dir):
    worker = login("wangge")
    response = send(worker, photos=[("IMG_2031.JPG", JPEG), ("路口.png", PNG)])

    assert response.status_code == 302
    case_id = int(re.search(r"reported=(\d+)", response.headers["Location"]).group(1))
    case = db_read(lambda s: s.get(Case, case_id))
    assert (case.category_code, case.jurisdiction_code, case.handling_jurisdiction_code) == ("other", GRID, VILLAGE)
    assert case.intake["channel"] == "grid" and case.created_by == "wangge" and case.title == REPORT["title"]
    attachments = db_read(lambda s: list(s.scalars(select(Attachment).where(Attachment.case_id == case_id)
                                                   .order_by(Attachment.id))))
    assert [(a.filename, a.content_type) for a in attachments] == [("IMG_2031.JPG", "image/jpeg"),
                                                                    ("路口.png", "image/png")]
    assert len(stored_files(files_dir)) == 2
    events = db_read(lambda s: [e.kind for e in s.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id))])
    assert "attachments_added" in events

    confirmation = worker.get(response.headers["Location"]).get_data(as_text=True)
    assert "上报成功" in confirmation and case.code in confirmation and "新光一村综治站" in confirmation

    station = login("station")
    page = station.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "附件" in page and "IMG_2031.JPG" in page and "路口.png" in page and "高网格" in page
    for attachment, content in zip(attachments, (JPEG, PNG)):
        url = f"/cases/{case_id}/attachments/{attachment.id}"
        shown = station.get(url)
        assert shown.status_code == 200 and shown.data == content
        assert shown.headers["X-Content-Type-Options"] == "nosniff"
        assert shown.headers["Content-Type"] == attachment.content_type
        saved = station.get(url + "?download=1")
        assert saved.headers["Content-Disposition"].startswith("attachment;")
        thumbnail = station.get(url + "?thumb=1")
        assert thumbnail.status_code == 200 and thumbnail.mimetype == "image/jpeg"
    assert "filename*=UTF-8''%E8%B7%AF%E5%8F%A3.png" in station.get(
        f"/cases/{case_id}/attachments/{attachments[1].id}").headers["Content-Disposition"]

    foreign = login("other")  # 昆都仑区, every role
    assert foreign.get(f"/cases/{case_id}/attachments/{attachments[0].id}").status_code == 404
    assert foreign.get(f"/cases/{case_id}/attachments/{attachments[0].id}?thumb=1").status_code == 404


def test_an_invalid_phone_keeps_everything_typed_and_registers_nothing(village, login, db_read, files_dir):
    response = send(login("wangge"), applicant_phone="1390472", _category="neighbour",
                    photos=[("现场.jpg", JPEG)])

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "本次上报未提交" in page
    assert re.search(r'id="f-applicant_phone-error">[^<]+<', page)
    for value in (REPORT["title"], REPORT["summary"], REPORT["address"], REPORT["applicant_name"], "1390472",
                  REPORT["respondent_name"]):
        assert value in page
    assert re.search(r'<option value="neighbour" selected>', page)
    assert re.search(rf'<option value="{GRID}" selected>', page)
    assert "照片需要重新选择" in page and "现场.jpg" in page
    assert cases(db_read) == [] and stored_files(files_dir) == []


def test_a_bad_photo_registers_no_case_and_stores_no_file(village, login, db_read, files_dir):
    response = send(login("wangge"), photos=[("好的.png", PNG), ("现场.jpg", "不是照片".encode())])

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r"现场\.jpg：<span class=\"field-error\">不是可识别的照片", page)
    assert "好的.png：" in page and "请重新选择" in page
    assert REPORT["summary"] in page
    assert cases(db_read) == [] and stored_files(files_dir) == []


def test_if_storing_a_photo_fails_the_case_is_not_registered_and_stored_photos_are_removed(
        village, login, db_read, files_dir, monkeypatch):
    real_put, calls = AttachmentStore.put, []

    def failing_put(store, data):
        calls.append(data)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real_put(store, data)

    monkeypatch.setattr(AttachmentStore, "put", failing_put)
    response = send(login("wangge"), photos=[("一.jpg", JPEG), ("二.png", PNG)])

    assert response.status_code == 500
    assert "案件未登记" in response.get_data(as_text=True)
    assert cases(db_read) == [] and db_read(lambda s: list(s.scalars(select(Attachment)))) == []
    assert stored_files(files_dir) == []


def test_a_category_that_needs_more_asks_for_it_next_to_its_field(village, login, db_read):
    response = send(login("wangge"), _category="labour")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'name="employer_name"' in page and 'id="f-employer_name-error"' in page
    assert cases(db_read) == []


def test_only_grid_workers_report(village, login):
    clerk = login("clerk")
    assert clerk.get("/grid").status_code == 403
    assert clerk.get("/grid/report").status_code == 403
    assert send(clerk).status_code == 403


def test_the_report_page_is_one_mobile_form_with_the_camera(village, login):
    page = login("wangge").get("/grid/report").get_data(as_text=True)
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in page
    assert 'enctype="multipart/form-data"' in page
    assert re.search(r'<input type="file" id="f-photos" name="photos" accept="image/\*" capture="environment" multiple',
                     page)
    assert '<option value="other" selected>其他纠纷</option>' in page
    assert re.search(rf'<option value="{GRID}" selected>新光一村一组网格</option>', page)
    assert 'name="channel"' not in page  # always 网格员上报
    assert 'inputmode="tel"' in page
    assert "grid.css" in page


def test_the_report_list_shows_each_reports_progress_in_plain_words(village, login, db_read, ready_task):
    worker = login("wangge")
    assert "还没有上报过纠纷" in worker.get("/grid").get_data(as_text=True)
    send(worker, photos=[("一.jpg", JPEG)])
    case = cases(db_read)[0]
    listing = worker.get("/grid").get_data(as_text=True)
    assert case.code in listing and "已收到，等待受理审查" in listing and "照片 1 张" in listing

    station = login("station")
    assert station.post(f"/tasks/{ready_task(case.id, 'accept')}", data={"accepted": "true"}).status_code == 302
    assert "已受理，正在研判" in worker.get("/grid").get_data(as_text=True)


def test_staff_who_read_the_case_add_a_photo_on_the_case_page(village, login, db_read, files_dir):
    send(login("wangge"))
    case = cases(db_read)[0]
    station = login("station")
    url = f"/cases/{case.id}/attachments"

    added = station.post(url, data={"photos": [(io.BytesIO(PNG), "补拍.png")]}, content_type="multipart/form-data")
    assert added.status_code == 302 and added.headers["Location"].endswith(f"/cases/{case.id}#attachments")
    refused = station.post(url, data={"photos": [(io.BytesIO(b"%PDF-1.4"), "x.jpg")]},
                           content_type="multipart/form-data", follow_redirects=True)
    assert "未上传：x.jpg：不是可识别的照片" in refused.get_data(as_text=True)
    rows = db_read(lambda s: list(s.scalars(select(Attachment).where(Attachment.case_id == case.id))))
    assert [(row.filename, row.uploaded_by) for row in rows] == [("补拍.png", "station")]
    assert len(stored_files(files_dir)) == 1


def test_an_upload_over_the_size_limit_gets_a_chinese_page(app, village, login, db_read):
    app.config["MAX_CONTENT_LENGTH"] = 4096
    response = send(login("wangge"), photos=[("大.png", photo("PNG", size=(200, 200)))])
    assert response.status_code == 413
    assert "上传内容过大" in response.get_data(as_text=True)
    assert cases(db_read) == []


def test_a_grid_worker_lands_on_the_report_page_after_login(village, login):
    client = login("wangge")
    response = client.get("/tasks")
    assert response.status_code == 302 and response.headers["Location"].endswith("/grid")
