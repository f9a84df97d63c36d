"""The finance report: figures in the workbook agree with the store; layout a finance user needs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from ledgerbot.core.domain import DocState
from ledgerbot.core.lifecycle import Actor, transition
from ledgerbot.core.store import Store
from ledgerbot.core.store.models import (
    DocumentRow,
    ExceptionRow,
    ExtractionRow,
    PostingRow,
    VendorRow,
    utcnow,
)
from ledgerbot.reports import SHEETS, write_report
from ledgerbot.reports.data import ReportError, _reason_figures, bucket_for, collect

S = DocState
ROBOT = Actor("robot:process", component="rules", version="default@4")


def _today() -> date:
    """Today in UTC, asked when a test runs: a suite collected before midnight may run after it."""
    return utcnow().date()


PATH_TO_MATCHED = [S.RECEIVED, S.PARSED, S.CLASSIFIED, S.EXTRACTED, S.VALIDATED, S.MATCHED]


def _document(
    store: Store,
    n: int,
    *,
    vendor: str,
    number: str,
    total: str,
    doc_type: str = "invoice",
    states: list[DocState],
    approval: tuple[str, str, dict[str, Any]] | None = None,
) -> int:
    amount = Decimal(total)
    net = (amount / Decimal("1.19")).quantize(Decimal("0.01"))
    with store.session() as session:
        document = DocumentRow(
            sha256=f"{n:064x}", source="test", filename=f"{n}.pdf", mime="application/pdf", size=1, state=None
        )
        session.add(document)
        for state in states:
            if state is S.APPROVED and approval is not None:
                actor, outcome, detail = approval
                transition(
                    session,
                    document,
                    state,
                    actor=Actor(actor),
                    stage="approve",
                    outcome=outcome,
                    detail=detail,
                )
            else:
                transition(session, document, state, actor=ROBOT, stage=state.value)
            if state is S.EXTRACTED:
                document.doc_type, document.vendor_id = doc_type, vendor
                session.add(
                    ExtractionRow(
                        document_id=document.id,
                        method="test",
                        result={
                            "source": "x",
                            "doc_type": doc_type,
                            "fields": {
                                "invoice_number": number,
                                "invoice_date": "2026-10-01",
                                "due_date": "2026-10-31",
                                "po_number": "PO-1",
                                "currency": "EUR",
                                "subtotal": str(net),
                                "tax_amount": str(amount - net),
                                "total": total,
                            },
                        },
                    )
                )
        return document.id


def _post(store: Store, doc_id: int, erp: str, at: datetime | None = None) -> None:
    with store.session() as session:
        document = session.get(DocumentRow, doc_id)
        assert document is not None
        session.add(
            PostingRow(
                document_id=doc_id,
                idempotency_key=f"LB-{doc_id}",
                erp_account="ap-robot@erp",
                status="posted",
                erp_doc_number=erp,
                attempts=1,
                posted_at=at or utcnow(),
            )
        )
        transition(session, document, S.POSTED, actor=Actor("robot:post"), stage="post")


def _exception(
    store: Store,
    doc_id: int,
    code: str,
    age_days: int,
    status: str = "open",
    resolved_after: timedelta | None = None,
) -> None:
    raised = utcnow() - timedelta(days=age_days, hours=1)
    with store.session() as session:
        session.add(
            ExceptionRow(
                document_id=doc_id,
                code=code,
                message=f"{code} on {doc_id}",
                status=status,
                created_at=raised,
                resolved_at=raised + resolved_after if resolved_after is not None else None,
            )
        )


@pytest.fixture
def books(store: Store) -> Store:
    with store.session() as session:
        session.add_all(
            [
                VendorRow(vendor_id="V1", name="Acme Tools GmbH"),
                VendorRow(vendor_id="V2", name="Beta Bolts SARL"),
            ]
        )
    posted = [*PATH_TO_MATCHED, S.APPROVED]
    auto = ("robot:process", "straight_through", {})
    a = _document(store, 1, vendor="V1", number="A-1", total="1190.00", states=posted, approval=auto)
    _post(store, a, "DOC-1")
    c = _document(
        store,
        2,
        vendor="V1",
        number="CN-1",
        total="-119.00",
        doc_type="credit_note",
        states=posted,
        approval=auto,
    )
    _post(store, c, "DOC-2")
    clerk = ("bob", "ok", {"approvers": ["alice", "bob"]})
    b = _document(
        store,
        3,
        vendor="V2",
        number="B-7",
        total="500.00",
        states=[*PATH_TO_MATCHED[:-1], S.EXCEPTION, S.APPROVED],
        approval=clerk,
    )
    _exception(store, b, "PRICE_VARIANCE", 0, status="resolved", resolved_after=timedelta(minutes=30))
    _post(store, b, "DOC-3")
    old = _document(store, 4, vendor="V2", number="B-1", total="80.00", states=posted, approval=auto)
    _post(store, old, "DOC-0", at=datetime.combine(_today() - timedelta(days=90), datetime.min.time(), UTC))
    e = _document(
        store, 5, vendor="V2", number="B-9", total="238.00", states=[*PATH_TO_MATCHED[:-1], S.EXCEPTION]
    )
    _exception(store, e, "QUANTITY_OVER_RECEIVED", 1)
    _exception(store, e, "BANK_ACCOUNT_CHANGED", 20)
    _document(
        store,
        6,
        vendor="V1",
        number="X",
        total="1.00",
        states=[S.RECEIVED, S.PARSED, S.CLASSIFIED, S.REJECTED],
    )
    return store


def _rows(ws: Any) -> list[dict[str, Any]]:
    header = [c.value for c in ws[1]]
    return [dict(zip(header, (c.value for c in row), strict=True)) for row in ws.iter_rows(min_row=2)]


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def test_workbook_figures_agree_with_the_store(books: Store, tmp_path: Path) -> None:
    today = _today()
    out = write_report(books, today - timedelta(days=30), today, tmp_path / "ap.xlsx")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == list(SHEETS)

    processed = _rows(wb["Processed invoices"])
    assert [r["Document"] for r in processed] == [1, 2, 3]  # document 4 was posted before the period
    by_number = {r["Invoice number"]: r for r in processed}
    assert _money(by_number["A-1"]["Posted amount"]) == Decimal("1190.00")
    assert _money(by_number["CN-1"]["Posted amount"]) == Decimal("-119.00")
    assert by_number["CN-1"]["Type"] == "credit_note"
    assert by_number["A-1"]["ERP document"] == "DOC-1"
    assert by_number["A-1"]["Approved by"] == "straight-through (robot:process)"
    assert by_number["B-7"]["Approved by"] == "alice, bob"
    assert by_number["B-7"]["Vendor"] == "Beta Bolts SARL"
    assert by_number["A-1"]["Invoice date"] == datetime(2026, 10, 1)
    with books.session() as session:
        stored = {p.document_id: p.erp_doc_number for p in session.query(PostingRow)}
    assert {r["Document"]: r["ERP document"] for r in processed} == {
        k: v for k, v in stored.items() if k != 4
    }

    exceptions = _rows(wb["Open exceptions"])
    assert sorted((r["Reason"], r["Age bucket"], r["Age (days)"]) for r in exceptions) == [
        ("BANK_ACCOUNT_CHANGED", "15-30 days", 20),
        ("QUANTITY_OVER_RECEIVED", "0-2 days", 1),
    ]
    assert {r["Document"] for r in exceptions} == {5}

    by_reason = {r["Reason"]: r for r in _rows(wb["Exceptions by reason"])}
    reasons = {code: r["Exceptions"] for code, r in by_reason.items()}
    assert reasons == {"PRICE_VARIANCE": 1, "QUANTITY_OVER_RECEIVED": 1, "BANK_ACCOUNT_CHANGED": 1}
    price = by_reason["PRICE_VARIANCE"]
    assert (price["Documents"], price["Resolved"], price["Still open"]) == (1, 1, 0)
    assert price["Review rate (of documents decided)"] == pytest.approx(1 / 5)
    assert price["Hours to resolve, median"] == pytest.approx(0.5)
    open_one = by_reason["QUANTITY_OVER_RECEIVED"]
    assert (open_one["Resolved"], open_one["Still open"], open_one["Hours to resolve, median"]) == (
        0,
        1,
        None,
    )
    vendors = {r["Vendor id"]: r for r in _rows(wb["Exceptions by vendor"])}
    # Decided in the period: 1, 2 (straight through), 3 and 5 (review); 4 was decided today too.
    assert vendors["V1"]["Documents decided"] == 2 and vendors["V1"]["Straight through"] == 2
    assert vendors["V2"]["Documents decided"] == 3 and vendors["V2"]["Straight through"] == 1
    assert vendors["V2"]["Exceptions"] == 3 and vendors["V2"]["Documents with exceptions"] == 2

    spend = {r["Vendor id"]: r for r in _rows(wb["Spend by vendor"])}
    assert _money(spend["V1"]["Total"]) == Decimal("1071.00")
    assert (spend["V1"]["Invoices"], spend["V1"]["Credit notes"]) == (1, 1)
    assert _money(spend["V2"]["Total"]) == Decimal("500.00")

    summary = {
        row[0].value: row[1].value for row in wb["Summary"].iter_rows(min_row=3, max_row=14) if row[0].value
    }
    assert summary["Invoices and credit notes posted"] == 3
    assert summary["Documents reaching a decision (matched or sent to review)"] == 5
    assert summary["Approved straight through"] == 3
    assert summary["Straight-through rate"] == pytest.approx(3 / 5)
    assert _money(summary["Posted total EUR"]) == Decimal("1571.00")
    assert summary["Open exceptions"] == 2


def test_workbook_layout_frozen_headers_filters_formats_and_charts(books: Store, tmp_path: Path) -> None:
    today = _today()
    out = write_report(books, today - timedelta(days=30), today, tmp_path / "ap.xlsx")
    wb = openpyxl.load_workbook(out)
    for name in SHEETS[1:]:
        ws = wb[name]
        assert ws.freeze_panes == "A2", name
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:"), name
    ws = wb["Processed invoices"]
    header = [c.value for c in ws[1]]
    amount = ws.cell(row=2, column=header.index("Posted amount") + 1)
    assert amount.number_format == "#,##0.00" and amount.data_type == "n"
    assert ws.cell(row=2, column=header.index("Invoice date") + 1).number_format == "yyyy-mm-dd"
    assert ws.cell(row=2, column=header.index("Posted at (UTC)") + 1).is_date
    # Native charts survive a save and reload with openpyxl only as drawings in the package; check
    # the file itself holds one chart part per charted sheet.
    import zipfile

    with zipfile.ZipFile(out) as package:
        charts = [n for n in package.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 3


def test_reason_figures_review_rate_and_hours_to_resolve() -> None:
    raised = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    as_of = raised + timedelta(days=3)

    def row(doc: int, code: str, hours: float | None) -> Any:
        resolved = raised + timedelta(hours=hours) if hours is not None else None
        return SimpleNamespace(
            document_id=doc,
            code=code,
            status="open" if hours is None else "resolved",
            created_at=raised,
            resolved_at=resolved,
        )

    rows = [row(1, "PRICE_VARIANCE", 1), row(2, "PRICE_VARIANCE", 3), row(2, "PRICE_VARIANCE", 5)]
    rows += [row(3, "PRICE_VARIANCE", None), row(4, "NO_RECEIPT", 10), row(5, "NO_RECEIPT", 200)]
    figures = {r.code: r for r in _reason_figures(rows, decided=8, as_of=as_of)}
    price = figures["PRICE_VARIANCE"]
    assert (price.exceptions, price.documents, price.resolved, price.still_open) == (4, 3, 3, 1)
    assert price.review_rate == pytest.approx(3 / 8)
    assert price.hours_to_resolve_p50 == pytest.approx(3.0)
    assert price.hours_to_resolve_p90 == pytest.approx(4.6)  # between 3 and 5, inclusive method
    # A resolution later than the report's moment is counted but not timed.
    receipt = figures["NO_RECEIPT"]
    assert receipt.hours_to_resolve_p50 == pytest.approx(10.0) and receipt.resolved == 2
    assert list(figures) == ["PRICE_VARIANCE", "NO_RECEIPT"]
    assert _reason_figures(rows, decided=0, as_of=as_of)[0].review_rate is None


def test_period_and_file_name_errors_are_coded(books: Store, tmp_path: Path) -> None:
    with pytest.raises(ReportError) as bad_period:
        write_report(books, _today(), _today() - timedelta(days=1), tmp_path / "x.xlsx")
    assert bad_period.value.code == "E820"
    with pytest.raises(ReportError):
        write_report(books, _today(), _today(), tmp_path / "x.csv")


def test_an_empty_period_gives_an_empty_but_valid_workbook(books: Store, tmp_path: Path) -> None:
    out = write_report(books, date(2020, 1, 1), date(2020, 1, 31), tmp_path / "empty.xlsx")
    wb = openpyxl.load_workbook(out)
    assert wb["Processed invoices"].max_row == 1
    assert collect(books, date(2020, 1, 1), date(2020, 1, 31)).straight_through_rate == 0.0


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (0, "0-2 days"),
        (2, "0-2 days"),
        (3, "3-7 days"),
        (14, "8-14 days"),
        (30, "15-30 days"),
        (31, "over 30 days"),
    ],
)
def test_ageing_bucket_edges(days: int, bucket: str) -> None:
    assert bucket_for(days) == bucket


def test_cli_writes_the_report_and_prints_its_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ledgerbot.cli.app import _load_commands, app
    from ledgerbot.core.store import get_store

    _load_commands()
    store = get_store()
    auto = ("robot:process", "straight_through", {})
    doc = _document(
        store,
        1,
        vendor="V1",
        number="A-1",
        total="119.00",
        states=[*PATH_TO_MATCHED, S.APPROVED],
        approval=auto,
    )
    _post(store, doc, "DOC-1")
    out = tmp_path / "r.xlsx"
    result = CliRunner().invoke(
        app, ["report", "--from", _today().isoformat(), "--to", _today().isoformat(), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    import json

    line = json.loads(result.stdout.strip().splitlines()[-1])
    assert line["posted"] == 1 and line["sheets"] == list(SHEETS) and out.is_file()
    bad = CliRunner().invoke(
        app, ["report", "--from", "2026-13-01", "--to", _today().isoformat(), "--out", str(out)]
    )
    assert bad.exit_code == 2
