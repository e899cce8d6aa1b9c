"""The link to the public status page (办理进度查询) printed on notices, and its QR code.

The citizen scans the code on the 受理告知单, or types the address, and then enters the case code and
the last four digits of the phone number given at registration. The page itself is `web/public_status.py`;
the engine only knows its address, which the web layer passes in (PUBLIC_BASE_URL).
"""
from __future__ import annotations

from urllib.parse import quote

import segno
from markupsafe import Markup

STATUS_PATH = "/status"


def status_url(base_url: str, case_code: str) -> str:
    """The public status page of `case_code` under `base_url` (https://fengqiao.example.cn → …/status?code=…)."""
    return f"{base_url.rstrip('/')}{STATUS_PATH}?code={quote(case_code, safe='-')}"


def qr_code(text: str) -> segno.QRCode:
    """The QR code printed for `text`: a regular (not micro) code, error correction raised as far as
    the size allows, so a creased or stamped notice still scans."""
    return segno.make(text, error="m", micro=False, boost_error=True)


def qr_svg(text: str) -> Markup:
    """`text` as an inline SVG QR code for documents kept as HTML: no image file, no request to anyone
    when the notice is opened or printed. Sized in millimetres (0.75 mm a module, about 3 cm for a
    status link) so it prints the same on screen, paper and PDF."""
    svg = qr_code(text).svg_inline(scale=0.75, unit="mm", border=4, svgclass="qr-code",
                                   title="办理进度查询二维码")
    return Markup(svg)
