"""The document page as a clerk reads it: evidence in words, grouped exceptions, duplicates side by side,
receipts and invoiced-before quantities, comments."""

from __future__ import annotations

import re

from ledgerbot.core.store import FileStore, Store
from tests.review_app import factory
from tests.review_app.conftest import csrf


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_evidence_is_in_words_counted_from_one_with_amounts_formatted(client_for, seeded) -> None:
    page = client_for("carol").get(f"/documents/{seeded['price']}").text
    text = _text(page)
    assert "Price differs from the order PRICE_VARIANCE" in text
    assert "Invoice line invoice_line 1" in text  # evidence index 0 is the message's line 1
    assert "Invoiced price invoice_price €115.00" in text and "Ordered price po_price €100.00" in text
    # The PO side of the line table shows the receipt and what was invoiced before.
    assert "GR-1 · 2026-03-10 · 10" in text and "Invoiced before" in text


def test_exceptions_of_one_kind_are_one_card_and_duplicates_sit_side_by_side(
    client_for, seeded, sqlite_store: Store, files: FileStore
) -> None:
    original = seeded["price"]
    duplicate = [
        (
            "DUPLICATE_SUSPECT",
            f"Same invoice number as document {original}",
            {"rule": "invoice_number", "other_source": f"doc:{original}", "other_status": "exception"},
        )
    ]
    many = [
        ("LOW_CONFIDENCE", f"Field f{i} was read with confidence 0.5", {"field": f"f{i}"}) for i in range(20)
    ]
    spec = factory.InvoiceSpec(invoice_number="RE-2026-1001", unit_price=factory.Decimal("116.00"))
    spec.exceptions = duplicate + many
    with sqlite_store.session() as session:
        document_id = factory.exception_document(session, files, spec).id
    page = client_for("carol").get(f"/documents/{document_id}").text
    assert page.count('class="exc-card') == 2
    assert "20 open" in page
    assert f'href="/documents/{original}"' in page
    compare = page[page.index(f'id="duplicate-{original}"') :]
    compare = compare[: compare.index("</table>")]
    rows = re.findall(r'<tr class="(differs|same)"><th>([^<]+)</th><td>([^<]*)</td><td>([^<]*)</td>', compare)
    by_label = {label: (kind, mine, theirs) for kind, label, mine, theirs in rows}
    assert by_label["Total"] == ("differs", "1380.40", "1368.50")
    assert by_label["Invoice no."][0] == "same"


def test_comments_are_kept_on_the_document(client_for, seeded) -> None:
    carol = client_for("carol")
    path = f"/documents/{seeded['html']}"
    token = csrf(carol, path)
    assert carol.post(f"{path}/comments", data={"csrf_token": token, "text": "   "}).status_code == 422
    done = carol.post(
        f"{path}/comments", data={"csrf_token": token, "text": "Vendor says <b>credit</b> follows"}
    )
    assert done.status_code == 303
    alice_view = client_for("alice").get(path).text
    assert "Vendor says &lt;b&gt;credit&lt;/b&gt; follows" in alice_view


def test_boxes_on_a_tilted_scan_sit_on_the_text(
    client_for, seeded, sqlite_store: Store, files: FileStore
) -> None:
    import io

    from PIL import Image, ImageDraw, ImageFont

    from ledgerbot.core.store.models import ExtractionRow

    upright = Image.new("L", (1240, 1754), 255)
    draw = ImageDraw.Draw(upright)
    font = ImageFont.load_default(size=28)
    for i in range(30):
        draw.text((100, 100 + i * 50), f"Line {i} Hex bolt M8x40 box of 100 1,368.50 EUR", fill=0, font=font)
    bbox = (900.0, 1600.0, 1100.0, 1640.0)  # the total, as the text layer boxed it on the straightened page
    mask = Image.new("L", upright.size, 0)
    ImageDraw.Draw(mask).rectangle(bbox, fill=255)
    tilt = 3.0
    scan = upright.rotate(tilt, resample=Image.Resampling.BILINEAR, fillcolor=255)
    where = mask.rotate(tilt, resample=Image.Resampling.BILINEAR).getbbox()
    assert where is not None
    buffer = io.BytesIO()
    scan.save(buffer, format="PNG")
    spec = factory.InvoiceSpec(invoice_number="RE-SCAN-1")
    with sqlite_store.session() as session:
        document = factory.exception_document(session, files, spec, (buffer.getvalue(), "scan.png"))
        row = session.query(ExtractionRow).filter_by(document_id=document.id).one()
        row.result = {**row.result, "field_boxes": {"total": {"page": 1, "bbox": list(bbox)}}}
        document_id = document.id
    data = client_for("carol").get(f"/api/documents/{document_id}").json()
    box = next(f["box"] for f in data["fields"] if f["name"] == "total")
    assert abs(box["rotate"] + tilt) < 0.2
    centre_x = (box["left"] + box["width"] / 2) * 1240 / 100
    centre_y = (box["top"] + box["height"] / 2) * 1754 / 100
    assert abs(centre_x - (where[0] + where[2]) / 2) < 6 and abs(centre_y - (where[1] + where[3]) / 2) < 6
    # Placed straight, the box would sit ~50 px off the text at this corner of the page.
    straight = (
        (bbox[0] + bbox[2]) / 2 - (where[0] + where[2]) / 2,
        (bbox[1] + bbox[3]) / 2 - (where[1] + where[3]) / 2,
    )
    assert (straight[0] ** 2 + straight[1] ** 2) ** 0.5 > 40
