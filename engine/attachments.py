"""Files attached to a case (a grid worker's photos of the scene …): checked, stored on disk by
content, read back verified.

The bytes live outside the database, under root/<sha256[:2]>/<sha256>; the `Attachment` row keeps
the name, type, size and checksum. Identical content is stored once, however many cases attach it.

What a file is is decided by its bytes (Pillow must recognise and fully decode it), never by its
name or the content type the browser sent. Photos are kept exactly as sent: nothing is re-encoded
and the EXIF data (capture time, device, often the GPS position) is not stripped, because it is
part of what makes a photo evidence. That data is personal too, so files are served only to staff
who may read the case.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import unicodedata
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import EngineError
from .events import EventLog
from .models import Attachment, Case

MIB = 1024 * 1024
DEFAULT_MAX_SIZE = 10 * MIB
MAX_PER_REPORT = 9  # 一次上报最多 9 张照片
MAX_FILENAME = 200  # Attachment.filename
THUMBNAIL_SIZE = 240
# Pillow format → the content type the file is stored and served with. A phone's JPEG is often an
# MPO (a JPEG with a second, preview image), which is still a JPEG to every viewer.
CONTENT_TYPES = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp",
                 "HEIF": "image/heic"}
BROWSER_IMAGES = frozenset({"image/jpeg", "image/png", "image/webp"})  # shown inline; HEIC is downloaded
TEMP_PREFIX = ".tmp-"


class AttachmentError(EngineError):
    """A file that cannot be attached. `filename` names it ("" for the set as a whole); `message`
    is the Chinese sentence the user sees next to it."""

    def __init__(self, filename: str, message: str):
        self.filename = filename
        self.message = message
        super().__init__(f"{filename}：{message}" if filename else message)


class StoredFileError(EngineError):
    """An attachment's stored file is missing or no longer matches its checksum (altered on disk)."""

    def __init__(self, attachment: Attachment, problem: str):
        self.attachment_id = attachment.id
        super().__init__(f"attachment {attachment.id} ({attachment.sha256}): {problem}")


@dataclass(frozen=True)
class CheckedFile:
    """A file that passed the checks, with its display name and the type its bytes have."""

    filename: str
    content_type: str
    data: bytes = field(repr=False)


def safe_filename(name: str | None, fallback: str = "照片") -> str:
    """A name fit to show and to offer for download: no folders, no control or direction-override
    characters (which can disguise "gpj.exe" as "exe.jpg"), no leading dots, at most 200 characters
    with the extension kept."""
    text = unicodedata.normalize("NFC", name or "")
    text = re.split(r"[\\/]", text)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = text.strip().lstrip(".").rstrip(". ").strip()
    if not text:
        return fallback
    if len(text) > MAX_FILENAME:
        stem, dot, extension = text.rpartition(".")
        if dot and stem and len(extension) <= 10:
            text = stem[:MAX_FILENAME - len(extension) - 1] + "." + extension
        else:
            text = text[:MAX_FILENAME]
    return text


def is_browser_image(content_type: str) -> bool:
    """True if browsers can show files of this type inline (HEIC they cannot)."""
    return content_type in BROWSER_IMAGES


def _formats() -> dict[str, str]:
    """The formats accepted here: HEIC only when a Pillow plugin for it (pillow-heif) is installed."""
    from PIL import Image

    try:
        from pillow_heif import register_heif_opener  # optional; without it HEIC photos are refused
    except ImportError:
        pass
    else:
        register_heif_opener()
    Image.init()
    return {name: kind for name, kind in CONTENT_TYPES.items() if name in Image.OPEN}


class AttachmentStore:
    """Attachment files under `root`, content-addressed by SHA-256.

    `max_size` is the limit per file in bytes; `max_per_report` the number of files one report (or
    one upload on the case page) may carry.
    """

    def __init__(self, root: Path, *, max_size: int = DEFAULT_MAX_SIZE, max_per_report: int = MAX_PER_REPORT):
        self.root = Path(root)
        self.max_size = max_size
        self.max_per_report = max_per_report

    # -- checking ---------------------------------------------------------------------------------

    def accepted_formats(self) -> str:
        """The accepted formats as the error messages and the upload hint name them."""
        names = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP", "HEIF": "HEIC"}
        return "、".join(dict.fromkeys(names[f] for f in _formats() if f in names))

    def check(self, filename: str, data: bytes) -> CheckedFile:
        """The file as it will be stored, or AttachmentError naming it and what is wrong."""
        from PIL import Image, UnidentifiedImageError

        name = safe_filename(filename)
        if not data:
            raise AttachmentError(name, "文件是空的，请重新选择")
        if len(data) > self.max_size:
            raise AttachmentError(name, f"文件大小 {_megabytes(len(data))}，超过每个文件 "
                                        f"{_megabytes(self.max_size)} 的上限，请压缩或换一张后重新选择")
        formats = _formats()
        unsupported = AttachmentError(name, f"不是可识别的照片，仅支持 {self.accepted_formats()} 格式")
        try:
            with warnings.catch_warnings():
                # A huge pixel count in a small file is a decompression bomb: refuse, do not just warn.
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                # Only the accepted formats' decoders are tried, so no other parser (EPS would start
                # Ghostscript) ever sees an uploaded file.
                with Image.open(io.BytesIO(data), formats=list(formats)) as image:
                    kind = image.format
                    image.verify()  # structure and checksums (PNG chunks)
                with Image.open(io.BytesIO(data), formats=list(formats)) as image:
                    image.load()  # every pixel: a truncated JPEG only fails here
        except UnidentifiedImageError:
            raise unsupported from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise AttachmentError(name, "图片像素过多，无法处理，请换一张照片") from None
        except Exception:  # noqa: BLE001 - decoders of untrusted bytes raise many types; all mean "broken"
            raise AttachmentError(name, "图片已损坏或不完整，请重新拍摄或选择") from None
        if kind not in formats:
            raise unsupported
        return CheckedFile(name, formats[kind], data)

    def check_all(self, files: Sequence[tuple[str, bytes]]) -> tuple[list[CheckedFile], list[AttachmentError]]:
        """Check files sent together: the ones that pass, and every problem (the count, then each
        file), so the user can fix them all at once."""
        problems: list[AttachmentError] = []
        if len(files) > self.max_per_report:
            problems.append(AttachmentError("", f"一次最多上传 {self.max_per_report} 张照片，"
                                                f"您选择了 {len(files)} 张，请减少后重新选择"))
        checked = []
        for filename, data in files:
            try:
                checked.append(self.check(filename, data))
            except AttachmentError as problem:
                problems.append(problem)
        return checked, problems

    # -- storing ----------------------------------------------------------------------------------

    def path(self, sha256: str) -> Path:
        """Where the file with this SHA-256 lives (root/<first two hex digits>/<digest>)."""
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> tuple[str, bool]:
        """Store `data` under its SHA-256; returns the digest and whether this call wrote the file.

        The bytes go to a temporary file in the target folder, are synced, and are then renamed into
        place, so a crash leaves either the whole file or none under the final name (at most a
        stray ".tmp-" file). Two writers of the same content both rename whole, identical files.
        """
        sha = hashlib.sha256(data).hexdigest()
        target = self.path(sha)
        if target.exists() and _digest(target) == sha:
            return sha, False
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=target.parent)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _sync_folder(target.parent)
        return sha, True

    def add(self, session: Session, case: Case, filename: str, data: bytes, uploaded_by: str,
            now: datetime) -> Attachment:
        """Check `data`, store it and add its row to `case` (flushed, not committed); raises
        AttachmentError. Use `batch` to have the files removed again if the transaction fails."""
        return self._add(session, case, self.check(filename, data), uploaded_by, now)[0]

    def _add(self, session: Session, case: Case, checked: CheckedFile, uploaded_by: str,
             now: datetime) -> tuple[Attachment, bool]:
        sha, written = self.put(checked.data)
        row = Attachment(case_id=case.id, filename=checked.filename, content_type=checked.content_type,
                         size=len(checked.data), sha256=sha, uploaded_by=uploaded_by, uploaded_at=now)
        session.add(row)
        session.flush()
        return row, written

    def batch(self, session: Session) -> "AttachmentBatch":
        """A context for adding attachments in one transaction the caller commits inside it: if
        anything raises, the session is rolled back and the files written in it are removed."""
        return AttachmentBatch(self, session)

    def discard(self, session: Session, digests: Sequence[str]) -> None:
        """Remove stored files no committed attachment refers to (after a failed transaction).

        A concurrent upload of the very same photo that has not committed yet could lose its file
        here; reading it then raises StoredFileError rather than serving anything wrong.
        """
        for sha in dict.fromkeys(digests):
            used = session.scalars(select(Attachment.id).where(Attachment.sha256 == sha).limit(1)).first()
            if used is None:
                self.path(sha).unlink(missing_ok=True)
                self._thumbnail_path(sha, THUMBNAIL_SIZE).unlink(missing_ok=True)

    # -- reading ----------------------------------------------------------------------------------

    def open(self, attachment: Attachment) -> bytes:
        """The attachment's bytes, re-checked against its SHA-256; StoredFileError if the file is
        missing or was altered."""
        try:
            data = self.path(attachment.sha256).read_bytes()
        except FileNotFoundError:
            raise StoredFileError(attachment, "the stored file is missing") from None
        if len(data) != attachment.size or hashlib.sha256(data).hexdigest() != attachment.sha256:
            raise StoredFileError(attachment, "the stored file does not match its checksum (altered on disk)")
        return data

    def thumbnail(self, attachment: Attachment, size: int = THUMBNAIL_SIZE) -> bytes:
        """A JPEG at most `size` pixels on its longer side, turned upright by its EXIF orientation;
        made once from the verified original and kept beside it."""
        from PIL import Image, ImageOps

        cached = self._thumbnail_path(attachment.sha256, size)
        if cached.exists():
            return cached.read_bytes()
        formats = list(_formats())
        with Image.open(io.BytesIO(self.open(attachment)), formats=formats) as image:
            image.draft("RGB", (size, size))  # JPEG decodes at a reduced scale: fast on 12-megapixel photos
            small = ImageOps.exif_transpose(image).convert("RGB")
        small.thumbnail((size, size))
        out = io.BytesIO()
        small.save(out, "JPEG", quality=80)
        data = out.getvalue()
        cached.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=cached.parent)
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, cached)
        return data

    def _thumbnail_path(self, sha256: str, size: int) -> Path:
        return self.root / "thumbnails" / f"{sha256}-{size}.jpg"


@dataclass
class AttachmentBatch:
    """Attachments added within one transaction; see `AttachmentStore.batch`."""

    store: AttachmentStore
    session: Session
    written: list[str] = field(default_factory=list)  # digests of files this batch created
    added: list[Attachment] = field(default_factory=list)

    def add(self, case: Case, checked: CheckedFile, uploaded_by: str, now: datetime) -> Attachment:
        """Store a checked file and add its row to `case`."""
        row, written = self.store._add(self.session, case, checked, uploaded_by, now)
        if written:
            self.written.append(row.sha256)
        self.added.append(row)
        return row

    def log(self, case: Case, actor: str, now: datetime) -> None:
        """One event in the case's timeline for the files added (names, sizes, checksums)."""
        if not self.added:
            return
        names = "、".join(row.filename for row in self.added)
        EventLog(self.session, case.id, now).add(
            actor, "attachments_added", f"上传附件 {len(self.added)} 个：{names}",
            data={"attachments": [{"filename": row.filename, "size": row.size, "sha256": row.sha256}
                                  for row in self.added]})

    def __enter__(self) -> "AttachmentBatch":
        return self

    def __exit__(self, exc_type, exc, traceback) -> bool:
        if exc_type is not None:
            self.session.rollback()
            self.store.discard(self.session, self.written)
        return False


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _sync_folder(folder: Path) -> None:
    # Makes the rename itself durable; not every platform lets a folder be opened for this.
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def _megabytes(size: int) -> str:
    return f"{size / MIB:.1f} MB".replace(".0 MB", " MB")
