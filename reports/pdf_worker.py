"""What lays out a PDF's parts side by side (reports.exports.pdf_file): HTML in, PDF out, one part after
the other, in a process of its own. A module that imports only WeasyPrint, run as

    python -m reports.pdf_worker IN.html OUT.pdf [IN.html OUT.pdf ...]

Each PDF appears whole (written under another name, then renamed), so that the parent may count the
parts done by the files it finds."""

from __future__ import annotations

import sys
from pathlib import Path


def pdf_from_html(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html).write_pdf()


def main(arguments: list[str]) -> int:
    if not arguments or len(arguments) % 2:
        print("usage: python -m reports.pdf_worker IN.html OUT.pdf [IN.html OUT.pdf ...]", file=sys.stderr)
        return 2
    for source, target in zip(arguments[::2], arguments[1::2], strict=True):
        out = Path(target)
        partial = out.with_name(out.name + ".part")
        partial.write_bytes(pdf_from_html(Path(source).read_text(encoding="utf-8")))
        partial.replace(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
