"""一案一码一卷: a concluded 邻里纠纷 with a photo exports as one ZIP — index with the case code, the
timeline, every issued document as stored and the photo under its original name, each with its SHA-256."""
from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest
from PIL import Image

from engine.actors import Actor
from engine.attachments import AttachmentStore
from engine.documents import case_documents
from engine.dossier import INDEX, MANIFEST, TIMELINE, build_dossier, sees_personal_data
from engine.models import Case
from tests.engine.scenario import INTAKE, CaseScenario, mediate


def photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 12), (200, 40, 40)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def concluded(sessions, runtime, staff, clock, tmp_path):
    """A neighbour case through its whole loop, with one photo of the scene attached on the way."""
    store = AttachmentStore(tmp_path / "files")
    scenario = CaseScenario(sessions, runtime, staff, clock)
    scenario.do_all("accept", "assess", "dispatch")
    with sessions() as session:
        store.add(session, session.get(Case, scenario.case_id), "天花板 漏水.png", photo(), "staff", clock.now())
        session.commit()
    scenario.do_all(("mediate", mediate("success")), "agreement", "notify_result", "follow_up", "archive")
    return scenario, store


def export(sessions, scenario, store, clock, **options):
    with sessions() as session:
        dossier = build_dossier(session, session.get(Case, scenario.case_id), store, clock.now(),
                                category_name="邻里纠纷", **options)
    return dossier, zipfile.ZipFile(io.BytesIO(dossier.data))


def test_the_dossier_holds_index_timeline_documents_and_attachments_with_their_hashes(sessions, clock, concluded):
    scenario, store = concluded
    case = scenario.case()
    dossier, archive = export(sessions, scenario, store, clock)
    assert case.status == "concluded" and dossier.filename == f"卷宗_{case.code}.zip"
    names = archive.namelist()
    documents = scenario.documents()
    assert {"acceptance_notice", "result_notice", "mediation_agreement"} <= {d.doc_type for d in documents}
    expected_documents = [f"文书/{d.number}_{d.title}.html" for d in documents]
    assert names == [INDEX, TIMELINE, *expected_documents, "附件/01_天花板 漏水.png", MANIFEST]
    for document, name in zip(documents, expected_documents):
        assert archive.read(name).decode("utf-8") == document.html  # as issued, unchanged
    assert archive.read("附件/01_天花板 漏水.png") == photo()

    manifest = json.loads(archive.read(MANIFEST))
    assert manifest["case_code"] == case.code and manifest["personal_data"] == "masked"
    assert [f["path"] for f in manifest["files"]] == names[:-1]
    for entry in manifest["files"]:
        assert entry["sha256"] == hashlib.sha256(archive.read(entry["path"])).hexdigest(), entry["path"]

    index = archive.read(INDEX).decode("utf-8")
    assert case.code in index and "一案一码" in index and "邻里纠纷" in index
    for entry in manifest["files"][1:]:  # the table of contents lists every other file with its hash
        assert entry["path"] in index and entry["sha256"] in index
    timeline = archive.read(TIMELINE).decode("utf-8")
    assert timeline.count("<tr>") - 1 == len(scenario.events())
    assert "调处记录：success" in timeline


def test_personal_numbers_are_masked_unless_the_reader_works_at_the_handling_center(sessions, clock, concluded):
    scenario, store = concluded
    phone, id_number = INTAKE["applicant_phone"], INTAKE["applicant_id_number"]
    _, masked = export(sessions, scenario, store, clock)
    for name in (INDEX, TIMELINE):
        text = masked.read(name).decode("utf-8")
        assert phone not in text and id_number not in text and "139****0001" in text
    _, full = export(sessions, scenario, store, clock, show_personal=True)
    assert phone in full.read(INDEX).decode("utf-8") and id_number in full.read(TIMELINE).decode("utf-8")

    case = scenario.case()
    assert sees_personal_data(Actor.of("m", {"mediator"}, case.handling_jurisdiction_code), case)
    assert not sees_personal_data(Actor.of("mgr", {"manager"}, case.handling_jurisdiction_code), case)
    assert not sees_personal_data(Actor.of("city", {"director"}, "150200"), case)


def test_a_missing_attachment_file_is_listed_as_missing_not_dropped(sessions, clock, concluded):
    scenario, store = concluded
    for path in (store.root).rglob("*"):
        if path.is_file():
            path.write_bytes(b"altered")
    dossier, archive = export(sessions, scenario, store, clock)
    assert not any(name.startswith("附件/") for name in archive.namelist())
    manifest = json.loads(archive.read(MANIFEST))
    [entry] = [f for f in manifest["files"] if f["kind"] == "附件"]
    assert entry["missing"] is True and entry["sha256"] is None
    assert "缺失" in archive.read(INDEX).decode("utf-8")
    with sessions() as session:
        assert len(case_documents(session, session.get(Case, scenario.case_id))) == \
            sum(1 for f in manifest["files"] if f["kind"] == "文书")
