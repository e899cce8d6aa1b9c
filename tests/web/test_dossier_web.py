"""导出卷宗 over HTTP: 九原区's clerk downloads the whole dossier of a concluded case from its page —
photo included under its original name, numbers in full for the handling center's staff, masked for a
supervisor above — and 昆都仑区 cannot reach it (404)."""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from urllib.parse import quote

from PIL import Image

from tests.web.conftest import APPLICANT_ID_NUMBER, add_user
from web.extensions import db


def photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (10, 10), (30, 120, 30)).save(out, "JPEG")
    return out.getvalue()


def test_the_case_page_exports_the_whole_dossier_to_those_who_read_the_case(app, login, register, act, success_path,
                                                                             tmp_path):
    app.config["ATTACHMENTS_DIR"] = str(tmp_path / "files")
    with app.app_context():
        add_user("city", "包头市主任", ["director"], "150200")
        db.session.commit()
    clerk = act.client("clerk")
    case_id = register(clerk)
    response = clerk.post(f"/cases/{case_id}/attachments", data={"photos": [(io.BytesIO(photo()), "现场照片.jpg")]},
                          content_type="multipart/form-data")
    assert response.status_code == 302
    for username, element_id, fields in success_path:
        act(username, case_id, element_id, fields)

    page = clerk.get(f"/cases/{case_id}").get_data(as_text=True)
    assert f'href="/cases/{case_id}/dossier"' in page and "导出卷宗" in page

    response = clerk.get(f"/cases/{case_id}/dossier")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Cache-Control"] == "private, no-store"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    manifest = json.loads(archive.read("manifest.json"))
    code = manifest["case_code"]
    assert quote(f"卷宗_{code}.zip") in response.headers["Content-Disposition"]
    names = archive.namelist()
    assert names[0] == "卷宗目录.html" and "附件/01_现场照片.jpg" in names
    assert archive.read("附件/01_现场照片.jpg") == photo()
    assert sum(name.startswith("文书/") for name in names) >= 3  # 受理告知单, 调解协议书, 结果告知单 …
    for entry in manifest["files"]:
        assert entry["sha256"] == hashlib.sha256(archive.read(entry["path"])).hexdigest()
    assert manifest["personal_data"] == "full"
    assert APPLICANT_ID_NUMBER in archive.read("卷宗目录.html").decode("utf-8")

    above = zipfile.ZipFile(io.BytesIO(login("city").get(f"/cases/{case_id}/dossier").data))
    assert json.loads(above.read("manifest.json"))["personal_data"] == "masked"
    assert APPLICANT_ID_NUMBER not in above.read("卷宗目录.html").decode("utf-8")

    assert login("other").get(f"/cases/{case_id}/dossier").status_code == 404  # 昆都仑区
    assert app.test_client().get(f"/cases/{case_id}/dossier").status_code in (302, 401)
