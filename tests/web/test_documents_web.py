"""文书 on the case page: listed with links, shown ready to print, downloadable as PDF with a Chinese
font embedded, and as invisible to another county as the case itself."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zlib

import pytest

from engine.documents import DocumentRenderer, issue_document
from engine.models import Case
from web.extensions import db

from tests.web.conftest import APPLICANT_ID_NUMBER, APPLICANT_PHONE


@pytest.fixture
def issue(app):
    """issue(case_id, doc_type) → (document id, number), issued as the engine issues it."""

    def _issue(case_id: int, doc_type: str = "acceptance_notice") -> tuple[int, str]:
        with app.app_context():
            case = db.session.get(Case, case_id)
            document = issue_document(db.session, case, doc_type, {}, app.config["CLOCK"].now(),
                                      DocumentRenderer(), "邻里纠纷")
            db.session.commit()
            return document.id, document.number

    return _issue


def test_the_case_page_lists_its_documents_with_links(login, register, issue):
    clerk = login("clerk")
    case_id = register(clerk)
    doc_id, number = issue(case_id)

    html = clerk.get(f"/cases/{case_id}").get_data(as_text=True)

    assert "文书" in html and number in html and "受理告知单" in html
    assert f'href="/cases/{case_id}/documents/{doc_id}"' in html
    assert f'href="/cases/{case_id}/documents/{doc_id}.pdf"' in html


def test_a_document_page_shows_the_issued_document_ready_to_print(login, register, issue):
    clerk = login("clerk")
    case_id = register(clerk)
    doc_id, number = issue(case_id)

    response = clerk.get(f"/cases/{case_id}/documents/{doc_id}")

    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert number in html and "受理告知单" in html and "楼上漏水纠纷" in html and "刘桂兰" in html
    assert "window.print()" in html and ".doc-toolbar { display: none !important; }" in html
    assert APPLICANT_ID_NUMBER not in html and "150207********1234" in html
    assert APPLICANT_PHONE not in html and "138****8000" in html
    assert "no-store" in response.headers["Cache-Control"]


def test_a_document_downloads_as_a_pdf_with_a_chinese_font_embedded(login, register, issue):
    _require_pdf_toolchain()
    clerk = login("clerk")
    case_id = register(clerk)
    doc_id, number = issue(case_id)

    response = clerk.get(f"/cases/{case_id}/documents/{doc_id}.pdf")

    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = response.get_data()
    assert pdf.startswith(b"%PDF")
    fonts = _font_names(pdf)
    assert b"WenQuanYi" in fonts or b"CJK" in fonts, "no CJK font embedded: Chinese would print as boxes"


def test_without_weasyprint_the_pdf_is_refused_with_an_explanation(login, register, issue, monkeypatch):
    clerk = login("clerk")
    case_id = register(clerk)
    doc_id, _ = issue(case_id)
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # makes `import weasyprint` fail

    response = clerk.get(f"/cases/{case_id}/documents/{doc_id}.pdf")

    assert response.status_code == 503
    assert "无法生成PDF" in response.get_data(as_text=True)


def test_another_countys_staff_cannot_open_the_document(login, register, issue):
    case_id = register(login("clerk"))
    doc_id, _ = issue(case_id)
    other = login("other")

    assert other.get(f"/cases/{case_id}/documents/{doc_id}").status_code == 404
    assert other.get(f"/cases/{case_id}/documents/{doc_id}.pdf").status_code == 404


def test_a_document_is_only_found_under_its_own_case(login, register, issue):
    clerk = login("clerk")
    first, second = register(clerk), register(clerk, title="第二起纠纷")
    doc_id, _ = issue(first)

    assert clerk.get(f"/cases/{second}/documents/{doc_id}").status_code == 404
    assert clerk.get(f"/cases/{second}/documents/{doc_id}.pdf").status_code == 404
    assert clerk.get(f"/cases/{first}/documents/{doc_id + 1000}").status_code == 404


def test_documents_need_a_login(app, login, register, issue):
    case_id = register(login("clerk"))
    doc_id, _ = issue(case_id)

    response = app.test_client().get(f"/cases/{case_id}/documents/{doc_id}")

    assert response.status_code == 302 and "/login" in response.headers["Location"]


def _require_pdf_toolchain() -> None:
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:
        pytest.skip(f"WeasyPrint unavailable ({exc}); scripts/setup.sh installs it")
    fc_list = shutil.which("fc-list")
    fonts = subprocess.run([fc_list, ":lang=zh"], capture_output=True, text=True).stdout if fc_list else ""
    if not fonts.strip():
        pytest.skip("no CJK font installed (fc-list :lang=zh is empty); scripts/setup.sh installs fonts-wqy-zenhei")


def _font_names(pdf: bytes) -> bytes:
    """The PDF with its compressed streams inflated, where the embedded fonts' names are."""
    parts = [pdf]
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", pdf, re.DOTALL):
        try:
            parts.append(zlib.decompressobj().decompress(match.group(1)))
        except zlib.error:
            continue
    return b"".join(parts)
