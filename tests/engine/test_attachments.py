"""Attachments: a photo is recognised by its bytes, stored once on disk under its checksum, and read
back only if it is still the file that was stored."""
from __future__ import annotations

import hashlib
import io
import threading

import pytest
from PIL import Image
from sqlalchemy import func, select

from engine.attachments import AttachmentError, AttachmentStore, StoredFileError, safe_filename
from engine.models import Attachment, Case
from tests.engine.scenario import INTAKE


def photo(kind: str = "PNG", size=(64, 48), color=(200, 30, 30)) -> bytes:
    """A real little image, as a phone would send one (noise, so JPEG and PNG are not trivially small)."""
    image = Image.effect_noise(size, 60).convert("RGB")
    image.paste(color, (0, 0, size[0] // 2, size[1] // 2))
    out = io.BytesIO()
    image.save(out, kind)
    return out.getvalue()


@pytest.fixture
def store(tmp_path):
    return AttachmentStore(tmp_path / "attachments")


@pytest.fixture
def case_id(sessions, runtime, staff):
    with sessions() as session:
        return runtime.start_case(session, "neighbour", dict(INTAKE), "150207", staff).id


def stored_files(store) -> list:
    return sorted(p for p in store.root.rglob("*") if p.is_file())


# -- what is accepted -----------------------------------------------------------------------------

@pytest.mark.parametrize("kind, content_type", [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")])
def test_a_real_photo_is_accepted_with_the_type_its_bytes_have(store, kind, content_type):
    data = photo(kind)
    checked = store.check("现场.jpg", data)  # the name says JPEG; the bytes decide
    assert (checked.filename, checked.content_type, checked.data) == ("现场.jpg", content_type, data)


def test_a_photo_is_stored_on_disk_under_its_checksum_and_not_in_the_database(
        store, sessions, case_id, clock, tmp_path):
    data = photo("JPEG")
    with sessions() as session:
        row = store.add(session, session.get(Case, case_id), "IMG_0001.JPG", data, "wangge", clock.now())
        session.commit()
        attachment_id = row.id
    sha = hashlib.sha256(data).hexdigest()
    assert store.root / sha[:2] / sha == store.path(sha)
    assert store.path(sha).read_bytes() == data
    with sessions() as session:
        row = session.get(Attachment, attachment_id)
        assert (row.case_id, row.filename, row.content_type, row.size, row.sha256, row.uploaded_by) == \
               (case_id, "IMG_0001.JPG", "image/jpeg", len(data), sha, "wangge")
        assert store.open(row) == data
    database_files = list(tmp_path.glob("cases.sqlite*"))  # the SQLite file and its WAL, when on SQLite
    assert all(data[100:200] not in path.read_bytes() for path in database_files)


# -- what is refused ------------------------------------------------------------------------------

def test_a_text_file_named_jpg_is_refused_naming_the_file(store):
    with pytest.raises(AttachmentError) as refused:
        store.check("现场照片.jpg", "这不是照片，是一段文字。".encode())
    assert refused.value.filename == "现场照片.jpg"
    assert "不是可识别的照片" in refused.value.message and "JPEG" in refused.value.message
    assert str(refused.value).startswith("现场照片.jpg：")


def test_an_oversized_file_is_refused_before_it_is_decoded(tmp_path):
    store = AttachmentStore(tmp_path, max_size=1024)
    data = photo("PNG", size=(200, 200))
    assert len(data) > 1024
    with pytest.raises(AttachmentError) as refused:
        store.check("大图.png", data)
    assert "超过每个文件" in refused.value.message and refused.value.filename == "大图.png"


@pytest.mark.parametrize("kind", ["JPEG", "PNG"])
def test_a_truncated_image_is_refused(store, kind):
    data = photo(kind, size=(120, 90))
    with pytest.raises(AttachmentError) as refused:
        store.check("断了.img", data[: len(data) * 2 // 3])
    assert "损坏或不完整" in refused.value.message


def test_an_empty_file_and_a_decompression_bomb_are_refused(store, monkeypatch):
    with pytest.raises(AttachmentError, match="空"):
        store.check("空.jpg", b"")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # so a 40×40 image counts as a bomb
    with pytest.raises(AttachmentError, match="像素过多"):
        store.check("炸弹.png", photo("PNG", size=(40, 40)))


def test_a_format_outside_the_list_is_refused_even_though_pillow_reads_it(store):
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "GIF")
    with pytest.raises(AttachmentError, match="不是可识别的照片"):
        store.check("动图.gif", out.getvalue())


def test_more_than_nine_photos_in_one_report_are_refused_and_every_bad_file_is_named(store):
    files = [(f"{n}.png", photo("PNG", size=(8, 8))) for n in range(10)] + [("坏.jpg", b"not an image")]
    checked, problems = store.check_all(files)
    assert len(checked) == 10
    assert [p.filename for p in problems] == ["", "坏.jpg"]
    assert "最多上传 9 张" in problems[0].message and "11 张" in problems[0].message


@pytest.mark.parametrize("sent, shown", [
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\张三\\Pictures\\现场.jpg", "现场.jpg"),
    ("photo\u202egpj.exe", "photogpj.exe"),  # a right-to-left override would show it as "photoexe.jpg"
    (".hidden.png", "hidden.png"),
    ("  ", "照片"),
    (None, "照片"),
    ("很长" * 150 + ".jpeg", "很长" * 97 + "很.jpeg"),
])
def test_filenames_are_shown_without_folders_or_control_characters(sent, shown):
    assert safe_filename(sent) == shown
    assert len(safe_filename(sent)) <= 200


# -- reading back ----------------------------------------------------------------------------------

def test_a_stored_file_altered_or_removed_on_disk_is_detected_when_opened(store, sessions, case_id, clock):
    data = photo("PNG")
    with sessions() as session:
        row = store.add(session, session.get(Case, case_id), "a.png", data, "wangge", clock.now())
        session.commit()
        path = store.path(row.sha256)
        path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
        with pytest.raises(StoredFileError, match="checksum"):
            store.open(row)
        path.unlink()
        with pytest.raises(StoredFileError, match="missing"):
            store.open(row)


def test_a_thumbnail_is_a_small_upright_jpeg(store, sessions, case_id, clock):
    with sessions() as session:
        wide = photo("PNG", size=(800, 400))
        row = store.add(session, session.get(Case, case_id), "wide.png", wide, "w", clock.now())
        session.commit()
        thumbnail = Image.open(io.BytesIO(store.thumbnail(row)))
    assert thumbnail.format == "JPEG" and max(thumbnail.size) == 240 and thumbnail.size[0] > thumbnail.size[1]


# -- one file per content --------------------------------------------------------------------------

def test_the_same_photo_sent_concurrently_is_stored_once_and_whole(store):
    data = photo("JPEG", size=(400, 300))
    start = threading.Barrier(8)
    digests, errors = [], []

    def send():
        try:
            start.wait()
            digests.append(store.put(data)[0])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert set(digests) == {hashlib.sha256(data).hexdigest()}
    assert stored_files(store) == [store.path(digests[0])]  # no second copy, no temporary file left
    assert store.path(digests[0]).read_bytes() == data


def test_two_cases_attaching_the_same_photo_share_one_file(store, sessions, runtime, staff, case_id, clock):
    data = photo("PNG")
    with sessions() as session:
        other = runtime.start_case(session, "neighbour", dict(INTAKE), "150207", staff)
        for target in (session.get(Case, case_id), other):
            store.add(session, target, "same.png", data, "w", clock.now())
        session.commit()
        assert session.scalar(select(func.count()).select_from(Attachment)) == 2
    assert len(stored_files(store)) == 1


def test_a_failed_transaction_removes_the_files_it_wrote_but_not_files_others_use(store, sessions, case_id, clock):
    shared, fresh = photo("PNG", color=(1, 2, 3)), photo("PNG", color=(4, 5, 6))
    with sessions() as session:
        store.add(session, session.get(Case, case_id), "earlier.png", shared, "w", clock.now())
        session.commit()
    with sessions() as session, pytest.raises(RuntimeError):
        with store.batch(session) as batch:
            case = session.get(Case, case_id)
            for name, data in (("again.png", shared), ("new.png", fresh)):
                batch.add(case, store.check(name, data), "w", clock.now())
            raise RuntimeError("the commit failed")
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Attachment)) == 1
    assert stored_files(store) == [store.path(hashlib.sha256(shared).hexdigest())]
