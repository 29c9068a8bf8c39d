"""Safe reading of ZIP containers (DOCX, EPUB): corrupt archives, zip bombs, encryption and XML
entity tricks become typed errors with a message and a hint."""
import io
import xml.etree.ElementTree as ET
import zipfile
import zlib
from typing import Union

from ..errors import EncryptedSource, SourceTooLarge, UnreadableSource
from ..outside import shown

MAX_MEMBER_BYTES = 100 * 1024 * 1024  # one XML/XHTML part, uncompressed
MAX_TOTAL_BYTES = 400 * 1024 * 1024  # everything read from one archive
MAX_RATIO = 200  # uncompressed/compressed, for parts above RATIO_FLOOR
RATIO_FLOOR = 1024 * 1024
MAX_ENTRIES = 100_000

_BOMB_HINT = ("The file may be damaged or built to exhaust memory (a 'zip bomb'). If it is a real "
              "document, save it again from its application, or export it as PDF or text.")


class SafeZip:
    """A ZipFile that reads members with size and ratio checks."""

    def __init__(self, source: Union[str, bytes], label: str, what: str) -> None:
        self.label = label
        self.what = what  # "Word document", "EPUB book"
        self.total = 0
        try:
            self.zf = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
            infos = self.zf.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
                NotImplementedError, RuntimeError) as err:
            raise UnreadableSource(
                f"'{label}' is not a valid {what}: it cannot be opened as a ZIP archive ({shown(err)}).",
                f"The file may be damaged or only partly downloaded. Open it in its application and "
                f"save it again as {what_ext(what)}, or export it as PDF or text.",
            ) from None
        if len(infos) > MAX_ENTRIES:
            raise SourceTooLarge(
                f"'{label}' contains {len(infos)} files; more than {MAX_ENTRIES} is not accepted.",
                _BOMB_HINT,
            )
        self.names = {info.filename: info for info in infos}

    def has(self, name: str) -> bool:
        return name in self.names

    def find(self, name: str):
        """The ZipInfo for ``name``, tolerating case differences and a leading slash."""
        name = name.lstrip("/")
        info = self.names.get(name)
        if info is None:
            lower = name.lower()
            for key, candidate in self.names.items():
                if key.lower() == lower:
                    return candidate
        return info

    def read(self, name: str, missing_ok: bool = False) -> bytes:
        info = self.find(name)
        if info is None:
            if missing_ok:
                return b""
            raise UnreadableSource(
                f"'{self.label}' is not a valid {self.what}: the part '{shown(name)}' is missing.",
                f"Open it in its application and save it again as {what_ext(self.what)}, "
                "or export it as PDF or text.",
            )
        if info.flag_bits & 0x1:
            raise EncryptedSource(
                f"'{self.label}' is password-protected.",
                "Remove the password in the application that made it, then try again.",
            )
        if info.file_size > MAX_MEMBER_BYTES:
            raise SourceTooLarge(
                f"'{self.label}': the part '{shown(name)}' would unpack to {info.file_size // (1024 * 1024)} MB, "
                f"more than the {MAX_MEMBER_BYTES // (1024 * 1024)} MB accepted.",
                _BOMB_HINT,
            )
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(1, info.compress_size):
            raise SourceTooLarge(
                f"'{self.label}': the part '{shown(name)}' is compressed {info.file_size // max(1, info.compress_size)}:1, "
                "which only zip bombs do.",
                _BOMB_HINT,
            )
        cap = min(MAX_MEMBER_BYTES, MAX_TOTAL_BYTES - self.total)
        try:
            with self.zf.open(info) as f:
                data = f.read(cap + 1)  # the declared size may lie: never read more than the cap
        except RuntimeError as err:  # encrypted member
            raise EncryptedSource(
                f"'{self.label}' is password-protected ({shown(err)}).",
                "Remove the password in the application that made it, then try again.",
            ) from None
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError,
                NotImplementedError) as err:
            raise UnreadableSource(
                f"'{self.label}' is damaged: the part '{shown(name)}' cannot be unpacked ({shown(err)}).",
                "Open it in its application and save it again, or export it as PDF or text.",
            ) from None
        if len(data) > cap:
            raise SourceTooLarge(
                f"'{self.label}' unpacks to more data than its directory declares, or more than "
                f"{cap // (1024 * 1024)} MB.",
                _BOMB_HINT,
            )
        self.total += len(data)
        return data

    def close(self) -> None:
        self.zf.close()


def what_ext(what: str) -> str:
    return {"Word document": ".docx", "EPUB book": ".epub"}.get(what, "a standard file")


def check_xml(data: bytes, label: str, part: str) -> None:
    """Refuse XML with an internal DTD/entity declarations (billion laughs, external entities):
    real DOCX/EPUB parts never need them."""
    if b"<!ENTITY" in data:
        raise UnreadableSource(
            f"'{label}': the part '{shown(part)}' declares XML entities, which documents never need "
            "(this can be used to exhaust memory).",
            "Save the document again from its application, or export it as PDF or text.",
        )


def parse_xml(data: bytes, label: str, part: str, hint: str) -> ET.Element:
    """A part parsed after ``check_xml``; invalid XML becomes an UnreadableSource with ``hint``."""
    check_xml(data, label, part)
    try:
        return ET.fromstring(data)
    except ET.ParseError as err:
        raise UnreadableSource(
            f"'{label}' is damaged: its part '{shown(part)}' is not valid XML ({shown(err)}).", hint
        ) from None
