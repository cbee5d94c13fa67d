"""The demo agreements' documents: small, real PDFs uploaded through the document service."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from agreements import services
from agreements.models import Agreement, AgreementDocument


def demo_pdf(title: str, lines: list[str]) -> bytes:
    """A small, valid one-page PDF with ``title`` and ``lines`` of text (Helvetica)."""

    def escape(text: str) -> str:
        return (
            text.encode("latin-1", "replace")
            .decode("latin-1")
            .replace("\\", "\\\\")
            .replace("(", "\\(")
            .replace(")", "\\)")
        )

    text_ops = ["BT", "/F1 16 Tf", "72 760 Td", f"({escape(title)}) Tj", "/F1 11 Tf", "0 -28 Td"]
    for line in lines:
        text_ops += [f"({escape(line)}) Tj", "0 -16 Td"]
    text_ops.append("ET")
    stream = "\n".join(text_ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def upload_document(
    actor, agreement: Agreement, name: str, kind: str, description: str, lines: list[str], when
) -> None:
    content = demo_pdf(agreement.title, [agreement.reference, *lines])
    document = services.document_upload(
        actor=actor,
        agreement=agreement,
        uploaded=SimpleUploadedFile(name, content, content_type="application/pdf"),
        kind=kind,
        description=description,
        attested=True,
    )
    AgreementDocument.objects.filter(pk=document.pk).update(uploaded_at=when)
