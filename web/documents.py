"""文书: one issued document of a case, as its stored HTML (print-ready) or as PDF.

Both pages are scoped exactly like the case page: a case outside the user's jurisdiction, or a
document of another case, does not exist (404).
"""
from __future__ import annotations

import io
import re

from flask import Blueprint, Response, abort, current_app, send_file, url_for
from markupsafe import escape

from engine.models import CaseDocument
from engine.queries import get_case

from .errors import error_page
from .extensions import db
from .session_user import current_actor, login_required

bp = Blueprint("documents", __name__)

PDF_UNAVAILABLE = ("暂时无法生成PDF：服务器未安装 WeasyPrint 或其所需的系统组件（Pango、中文字体）。"
                   "请使用文书页面上的“打印”按钮打印或另存为PDF，并请管理员运行 scripts/setup.sh。")
# A toolbar added when the page is shown, never stored in the document; print media hides it.
TOOLBAR = """<style>
.doc-toolbar {{ display: flex; gap: 12px; align-items: center; max-width: 210mm; margin: 0 auto 12px;
  font: 15px -apple-system, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "WenQuanYi Zen Hei", sans-serif; }}
.doc-toolbar button, .doc-toolbar a {{ padding: 6px 14px; border: 1px solid #1d5fa8; border-radius: 6px;
  background: #fff; color: #1d5fa8; text-decoration: none; cursor: pointer; font: inherit; }}
.doc-toolbar button {{ background: #1d5fa8; color: #fff; }}
@media print {{ .doc-toolbar {{ display: none !important; }} }}
</style>
<nav class="doc-toolbar no-print" aria-label="文书操作">
  <button type="button" onclick="window.print()">打印</button>
  <a href="{pdf}">下载PDF</a>
  <a href="{case}">返回案件</a>
</nav>
"""
BODY_TAG = re.compile(r"<body[^>]*>", re.IGNORECASE)


def _document(case_id: int, doc_id: int) -> CaseDocument:
    case = get_case(db.session, current_actor(), case_id)  # NotFound outside the jurisdiction
    document = db.session.get(CaseDocument, doc_id)
    if document is None or document.case_id != case.id:
        abort(404)
    return document


@bp.route("/cases/<int:case_id>/documents/<int:doc_id>")
@login_required
def show(case_id: int, doc_id: int):
    document = _document(case_id, doc_id)
    toolbar = TOOLBAR.format(pdf=escape(url_for("documents.pdf", case_id=case_id, doc_id=doc_id)),
                             case=escape(url_for("cases.detail", case_id=case_id)))
    html = document.html
    match = BODY_TAG.search(html)
    html = html[:match.end()] + toolbar + html[match.end():] if match else toolbar + html
    return _private(Response(html, mimetype="text/html"))


@bp.route("/cases/<int:case_id>/documents/<int:doc_id>.pdf")
@login_required
def pdf(case_id: int, doc_id: int):
    document = _document(case_id, doc_id)
    try:
        from weasyprint import HTML  # imported on use: it needs Pango, which a server may lack
    except (ImportError, OSError) as exc:
        current_app.logger.warning("PDF unavailable: %s", exc)
        return error_page(503, PDF_UNAVAILABLE)
    try:
        content = HTML(string=document.html).write_pdf()
    except OSError as exc:  # a system library missing at render time (fonts, cairo)
        current_app.logger.warning("PDF rendering failed for document %s: %s", document.id, exc)
        return error_page(503, PDF_UNAVAILABLE)
    response = send_file(io.BytesIO(content), mimetype="application/pdf", download_name=f"{document.number}.pdf")
    return _private(response)


def _private(response: Response) -> Response:
    # Documents carry (masked) personal data: keep them out of shared caches.
    response.headers["Cache-Control"] = "private, no-store"
    return response
