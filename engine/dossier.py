"""一案一码一卷: a case's whole dossier (卷宗) as one ZIP file, for every case of every locality.

The ZIP holds
    卷宗目录.html            cover (case code 一案一码, title, category, places, dates) and the table of
                             contents, printable; each file listed with its SHA-256
    办理记录.html            the timeline: every event of the case log, oldest first
    文书/<number>_<title>.html   every issued document exactly as stored when it was issued
    附件/<nn>_<original name>    every attachment, bytes verified against their checksum
    manifest.json            per file: path, what it is, size, SHA-256 (the index's list, machine-readable)

Personal data: issued documents were masked when issued and stay as they are. The index and the
timeline show ID and phone numbers in full only when `show_personal` is set — the web layer sets it
for the handling center's own staff (`sees_personal_data`); everyone else who may read the case gets
them masked (engine/masking.py). Attachments are included as stored (a photo's EXIF is evidence),
which is what the case page already serves to the same readers.

An attachment whose stored file is missing or altered is not silently dropped: the index and the
manifest list it as 缺失, so a dossier never looks complete when it is not.
"""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from jinja2 import Environment
from sqlalchemy import select
from sqlalchemy.orm import Session

from .actors import Actor
from .attachments import AttachmentStore, StoredFileError
from .calendar import SHANGHAI
from .documents import DOCUMENT_TYPES, case_documents
from .masking import mask_data, mask_text
from .models import Attachment, Case, CaseEvent, Jurisdiction, User

INDEX = "卷宗目录.html"
TIMELINE = "办理记录.html"
MANIFEST = "manifest.json"
DOCUMENTS_DIR = "文书"
ATTACHMENTS_DIR = "附件"
STATUS_NAMES = {"open": "办理中", "concluded": "已办结", "terminated": "已终止"}
# Roles of the handling center that work with the parties and so see their numbers in full.
PERSONAL_DATA_ROLES = frozenset({"clerk", "analyst", "mediator", "director"})
# Events whose data is what a person submitted (the rest carry engine bookkeeping).
SUBMITTED_DATA_EVENTS = frozenset({"case_started", "task_completed", "submission_merged"})
UNSAFE_IN_NAMES = str.maketrans({c: "_" for c in '/\\:*?"<>|'})


@dataclass(frozen=True)
class DossierFile:
    path: str  # inside the ZIP
    kind: str  # 目录 / 办理记录 / 文书 / 附件
    description: str
    size: int
    sha256: str | None  # None: the file could not be included (缺失)


@dataclass(frozen=True)
class Dossier:
    filename: str  # 卷宗_<case code>.zip
    data: bytes
    files: list[DossierFile]


def sees_personal_data(actor: Actor, case: Case) -> bool:
    """Whether `actor` is staff of the center handling `case` (not a liaison, not a supervisor above)."""
    return any(g.role in PERSONAL_DATA_ROLES and g.jurisdiction_code == case.handling_jurisdiction_code
               for g in actor.grants)


def build_dossier(session: Session, case: Case, store: AttachmentStore | None, now: datetime, *,
                  category_name: str = "", show_personal: bool = False) -> Dossier:
    """The dossier of `case` as one ZIP (see the module docstring). The caller checks who may read it."""
    names = _names(session, case)
    files: list[DossierFile] = []
    contents: dict[str, bytes] = {}

    def add(path: str, kind: str, description: str, data: bytes | None) -> None:
        sha = hashlib.sha256(data).hexdigest() if data is not None else None
        files.append(DossierFile(path, kind, description, len(data) if data is not None else 0, sha))
        if data is not None:
            contents[path] = data

    events = list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)))
    add(TIMELINE, "办理记录", f"办理记录（{len(events)} 条）",
        _render(TIMELINE_TEMPLATE, case=case, events=[_event_row(e, names, show_personal) for e in events],
                now=_local(now)).encode("utf-8"))
    for document in case_documents(session, case):
        title = DOCUMENT_TYPES[document.doc_type].title if document.doc_type in DOCUMENT_TYPES else document.title
        add(f"{DOCUMENTS_DIR}/{_safe(document.number)}_{_safe(title)}.html", "文书",
            f"{title} {document.number}（{_local(document.created_at):%Y-%m-%d %H:%M}）", document.html.encode("utf-8"))
    attachments = list(session.scalars(select(Attachment).where(Attachment.case_id == case.id)
                                       .order_by(Attachment.uploaded_at, Attachment.id)))
    for number, attachment in enumerate(attachments, start=1):
        data = None
        if store is not None:
            try:
                data = store.open(attachment)
            except StoredFileError:
                data = None
        uploader = names.get(attachment.uploaded_by, attachment.uploaded_by)
        note = "" if data is not None else "（缺失：存储的文件不存在或已被改动，未收入本卷）"
        add(f"{ATTACHMENTS_DIR}/{number:02d}_{_safe(attachment.filename)}", "附件",
            f"{attachment.filename}，{uploader} 上传于 {_local(attachment.uploaded_at):%Y-%m-%d %H:%M}{note}", data)

    index = _render(INDEX_TEMPLATE, case=case, category_name=category_name or case.category_code,
                    status=STATUS_NAMES.get(case.status, case.status), places=_places(session, case),
                    intake=_rows(case.intake or {}, show_personal), files=files, now=_local(now),
                    local=_local, masked=not show_personal)
    index_data = index.encode("utf-8")
    manifest = {
        "case_code": case.code, "title": case.title, "generated_at": _local(now).isoformat(),
        "personal_data": "full" if show_personal else "masked",
        "files": [{"path": INDEX, "kind": "目录", "size": len(index_data),
                   "sha256": hashlib.sha256(index_data).hexdigest()}]
                 + [{"path": f.path, "kind": f.kind, "description": f.description, "size": f.size,
                     "sha256": f.sha256, "missing": f.sha256 is None} for f in files],
    }
    buffer = io.BytesIO()
    stamp = _local(now).timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in [(INDEX, index_data), *contents.items(),
                           (MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8"))]:
            info = zipfile.ZipInfo(path, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.flag_bits |= 0x800  # names are UTF-8: Chinese names open correctly on every unzip tool
            archive.writestr(info, data)
    index_file = DossierFile(INDEX, "目录", "卷宗目录", len(index_data), hashlib.sha256(index_data).hexdigest())
    return Dossier(f"卷宗_{case.code}.zip", buffer.getvalue(), [index_file, *files])


# -- helpers ---------------------------------------------------------------------------------------

def _names(session: Session, case: Case) -> dict[str, str]:
    usernames = set(session.scalars(select(CaseEvent.actor).where(CaseEvent.case_id == case.id)))
    usernames |= set(session.scalars(select(Attachment.uploaded_by).where(Attachment.case_id == case.id)))
    names = {"system": "系统"}
    if usernames:
        names.update({u: d or u for u, d in session.execute(
            select(User.username, User.display_name).where(User.username.in_(usernames)))})
    return names


def _places(session: Session, case: Case) -> dict[str, str]:
    def name(code: str | None) -> str:
        if not code:
            return ""
        row = session.get(Jurisdiction, code)
        label = (row.center_name or row.name) if row is not None else ""
        return f"{label}（{code}）" if label else code
    return {"registered": name(case.jurisdiction_code), "handling": name(case.handling_jurisdiction_code)}


def _rows(data: dict[str, Any], show_personal: bool) -> list[tuple[str, str]]:
    shown = data if show_personal else mask_data(data)
    rows = []
    for key, value in shown.items():
        if isinstance(value, (dict, list)):
            value = json.dumps(value, ensure_ascii=False)
        text = "" if value is None else str(value)
        rows.append((key, text if show_personal else mask_text(text)))
    return rows


def _event_row(event: CaseEvent, names: dict[str, str], show_personal: bool) -> dict[str, Any]:
    data = event.data if event.kind in SUBMITTED_DATA_EVENTS and isinstance(event.data, dict) else {}
    summary = event.summary if show_personal else mask_text(event.summary)
    return {"at": _local(event.at), "actor": names.get(event.actor, event.actor), "kind": event.kind,
            "summary": summary, "rows": _rows(data, show_personal)}


def _local(moment: datetime) -> datetime:
    if moment.tzinfo is None:  # SQLite returns naive UTC
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(SHANGHAI)


def _safe(name: str) -> str:
    return name.translate(UNSAFE_IN_NAMES).strip() or "_"


_ENV = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)


def _render(template: str, **context: Any) -> str:
    return _ENV.from_string(template).render(**context)


STYLE = """<style>
body { font: 14px "Noto Serif CJK SC", "SimSun", serif; max-width: 210mm; margin: 0 auto; padding: 12mm; }
h1 { text-align: center; font-size: 26px; margin: 30mm 0 8mm; letter-spacing: 4px; }
.code { text-align: center; font-size: 18px; margin-bottom: 20mm; }
table { border-collapse: collapse; width: 100%; margin: 4mm 0; }
th, td { border: 1px solid #333; padding: 4px 6px; text-align: left; vertical-align: top; }
.hash { font-family: monospace; font-size: 10px; word-break: break-all; }
.cover { page-break-after: always; }
@media print { body { padding: 0; } }
</style>"""

INDEX_TEMPLATE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>卷宗目录 {{ case.code }}</title>""" + STYLE + """</head>
<body>
<section class="cover">
  <h1>矛盾纠纷案件卷宗</h1>
  <p class="code">案件编号（一案一码）：<strong>{{ case.code }}</strong></p>
  <table>
    <tr><th>事件名称</th><td>{{ case.title }}</td></tr>
    <tr><th>纠纷类别</th><td>{{ category_name }}</td></tr>
    <tr><th>登记地</th><td>{{ places.registered }}</td></tr>
    <tr><th>承办中心</th><td>{{ places.handling }}</td></tr>
    <tr><th>承办单位</th><td>{{ case.department or "" }}</td></tr>
    <tr><th>登记时间</th><td>{{ local(case.created_at).strftime("%Y-%m-%d %H:%M") }}</td></tr>
    <tr><th>办理状态</th><td>{{ status }}{% if case.closed_at %}（{{ local(case.closed_at).strftime("%Y-%m-%d %H:%M") }}）{% endif %}</td></tr>
    <tr><th>组卷时间</th><td>{{ now.strftime("%Y-%m-%d %H:%M") }}</td></tr>
  </table>
</section>
<h2>卷宗目录</h2>
<table>
  <tr><th>序号</th><th>类别</th><th>文件</th><th>说明</th><th>SHA-256</th></tr>
  {% for f in files %}
  <tr><td>{{ loop.index }}</td><td>{{ f.kind }}</td><td>{{ f.path }}</td><td>{{ f.description }}</td>
      <td class="hash">{{ f.sha256 or "缺失" }}</td></tr>
  {% endfor %}
</table>
<p>每个文件的 SHA-256 校验值亦记于 manifest.json，可据此核验卷宗完整、未被改动。</p>
<h2>登记信息</h2>
{% if masked %}<p>（证件号码、联系电话已按个人信息保护要求脱敏）</p>{% endif %}
<table>
  {% for key, value in intake %}<tr><th>{{ key }}</th><td>{{ value }}</td></tr>{% endfor %}
</table>
</body></html>
"""

TIMELINE_TEMPLATE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>办理记录 {{ case.code }}</title>""" + STYLE + """</head>
<body>
<h2>办理记录 · {{ case.code }} {{ case.title }}</h2>
<table>
  <tr><th>时间</th><th>办理人</th><th>事项</th><th>内容</th></tr>
  {% for e in events %}
  <tr><td>{{ e.at.strftime("%Y-%m-%d %H:%M") }}</td><td>{{ e.actor }}</td><td>{{ e.summary }}</td>
      <td>{% for key, value in e.rows %}{{ key }}：{{ value }}<br>{% endfor %}</td></tr>
  {% endfor %}
</table>
<p>组卷时间 {{ now.strftime("%Y-%m-%d %H:%M") }}</p>
</body></html>
"""
