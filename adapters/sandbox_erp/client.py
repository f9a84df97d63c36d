"""The sandbox ERP driven through its screens with Playwright: master-data source and posting target.

Robust the way legacy screens demand: a session that expired is logged into again and the step
repeated, slow pages get generous timeouts, and a timeout or an unknown screen becomes an
application error (retried by the caller) with a screenshot kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

from playwright.sync_api import Browser, Error, Page, Playwright, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from adapters.sandbox_erp.pages import (
    InvoiceDetailPage,
    InvoiceEntryPage,
    InvoiceSearchPage,
    LoginPage,
    OrderDetailPage,
    OrderListPage,
    ReceiptDetailPage,
    ReceiptListPage,
    UnexpectedScreen,
    VendorDetailPage,
    VendorListPage,
    _ListScreen,
    dmy,
    is_login_screen,
    typed,
)
from ledgerbot.core.domain import GoodsReceipt, PurchaseOrder, Vendor
from ledgerbot.core.target import ErpRejected, ErpUnavailable, PostResult, TargetInvoice

T = TypeVar("T")
CHROMIUM = "/usr/bin/chromium"  # Debian's; LEDGERBOT_CHROMIUM (TargetSettings.browser) names another
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def launch_browser(playwright: Playwright, executable: str = CHROMIUM) -> Browser:
    return playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)


class SandboxErp:
    """One logged-in robot session on the sandbox ERP (one account)."""

    name = "sandbox"

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        timeout_ms: float = 30_000,
        browser: str = CHROMIUM,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.username = username
        self._password = password
        self.account = f"{self.username}@{self.base_url}"
        self._playwright = sync_playwright().start()
        try:
            self._browser = launch_browser(self._playwright, browser)
        except Error as error:
            self._playwright.stop()
            raise ErpUnavailable(f"cannot start Chromium at {browser}: {error.message[:200]}") from error
        self._context = self._browser.new_context(viewport={"width": 1280, "height": 900})
        self._context.set_default_timeout(timeout_ms)
        self.page: Page = self._context.new_page()
        self.logins = 0

    # -- session handling -------------------------------------------------------------------
    def _log_in(self) -> None:
        login = LoginPage(self.page, self.base_url)
        if not login.is_showing():
            login.open()
        login.log_in(self.username, self._password)
        self.logins += 1
        if login.is_showing():
            raise ErpRejected(f"the ERP refused the robot's login: {login.error() or 'no reason shown'}")

    def _on_login_screen(self) -> bool:
        return LoginPage(self.page, self.base_url).is_showing()

    def _step(self, action: Callable[[], T], *, repeatable: bool = True) -> T:
        """Run one screen step; if the session expired, log in again and repeat it once.

        A step that must not run twice (submitting a form) is not repeated: the caller sees the
        login screen is gone and decides.
        """
        for attempt in range(2):
            try:
                result = action()
            except PlaywrightTimeout as error:
                if attempt == 0 and self._on_login_screen():
                    self._log_in()
                    continue
                raise ErpUnavailable(
                    f"the ERP did not answer in time ({error.message.splitlines()[0]})"
                ) from error
            except Error as error:
                raise ErpUnavailable(f"browser error: {error.message.splitlines()[0][:200]}") from error
            if not self._on_login_screen():
                return result
            if attempt == 0:
                self._log_in()
                if not repeatable:
                    return result
        raise UnexpectedScreen("the ERP keeps asking for a login")

    def _goto(self, path: str, query: dict[str, str] | None = None) -> None:
        """Open a screen, logging in first when the ERP sends the robot to its login screen."""
        url = f"{self.base_url}{path}" + (f"?{urlencode(query)}" if query else "")
        self._step(lambda: self.page.goto(url))

    def screenshot(self, path: Path) -> str | None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(path), full_page=True)
        except Error:
            return None
        return str(path)

    def close(self) -> None:
        for closer in (self._context.close, self._browser.close, self._playwright.stop):
            try:
                closer()
            except Error:
                pass

    def __enter__(self) -> SandboxErp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ------------------------------------------------------------------------------
    def _fetch(self, path: str, query: dict[str, str] | None = None) -> str:
        """A screen's HTML through the robot's logged-in browser session, without rendering it.

        Reading hundreds of detail screens is the slow part of a pull; fetching their HTML over
        the same session (same cookies, same screens) is an order of magnitude faster than
        drawing each one, and the page objects parse it with the same ids and classes.
        """
        url = f"{self.base_url}{path}" + (f"?{urlencode(query)}" if query else "")
        for _ in range(2):
            try:
                response = self._context.request.get(url)
                html = response.text()
            except PlaywrightTimeout as error:
                raise ErpUnavailable(f"the ERP did not answer in time for {path}") from error
            except Error as error:
                raise ErpUnavailable(f"cannot read {path}: {error.message.splitlines()[0][:200]}") from error
            if response.status >= 500:
                raise ErpUnavailable(f"the ERP answered {response.status} for {path}")
            if not is_login_screen(html):
                return html
            self._log_in()  # the session expired: log in through the screen and read again
        raise UnexpectedScreen(f"the ERP keeps asking for a login on {path}")

    def _all_rows(
        self, screen: type[_ListScreen], query: dict[str, str] | None = None
    ) -> Iterator[dict[str, str]]:
        page_no = 1
        while True:
            rows, has_next = screen.parse_page(
                self._fetch(screen.path, {**(query or {}), "page": str(page_no)})
            )
            yield from rows
            if not has_next:
                return
            page_no += 1

    def vendor_ids(self) -> list[str]:
        return [row["vendor_id"] for row in self._all_rows(VendorListPage)]

    def vendor(self, vendor_id: str) -> Vendor:
        return Vendor.model_validate(
            VendorDetailPage.parse(self._fetch(VendorDetailPage.path_for(vendor_id)))
        )

    def order_summaries(self) -> list[dict[str, str]]:
        return list(self._all_rows(OrderListPage))

    def order(self, po_number: str) -> PurchaseOrder:
        html = self._fetch(OrderDetailPage.path_for(po_number))
        return PurchaseOrder.model_validate(OrderDetailPage.parse(html))

    def receipt_summaries(self) -> list[dict[str, str]]:
        return list(self._all_rows(ReceiptListPage))

    def receipt(self, receipt_number: str) -> GoodsReceipt:
        html = self._fetch(ReceiptDetailPage.path_for(receipt_number))
        return GoodsReceipt.model_validate(ReceiptDetailPage.parse(html))

    def read_back(self, erp_doc_number: str) -> TargetInvoice | None:
        parsed = InvoiceDetailPage.parse(self._fetch(InvoiceDetailPage.path_for(erp_doc_number)))
        return None if parsed is None else TargetInvoice.model_validate(parsed)

    # -- posting ------------------------------------------------------------------------------
    def find_posted(self, vendor_id: str, invoice_number: str, *, external_ref: str = "") -> str | None:
        search = InvoiceSearchPage(self.page, self.base_url)
        self._goto(search.path)
        hits = self._step(lambda: search.search(vendor_id, invoice_number))
        return hits[0]["doc_number"] if hits else None

    def post(self, invoice: TargetInvoice, *, screenshot_to: Path, _tries: int = 2) -> PostResult:
        entry = InvoiceEntryPage(self.page, self.base_url)
        self._goto(entry.path)
        if not entry.is_showing():
            raise UnexpectedScreen("the invoice entry screen did not open")
        header = {
            "vendor_id": invoice.vendor_id,
            "invoice_number": invoice.invoice_number,
            "invoice_date": dmy(invoice.invoice_date),
            "due_date": dmy(invoice.due_date),
            "po_number": invoice.po_number or "",
            "currency": invoice.currency,
            "subtotal": typed(invoice.subtotal),
            "tax_amount": typed(invoice.tax_amount),
            "total": typed(invoice.total),
            "external_ref": invoice.external_ref,
        }

        def fill() -> None:
            entry.choose_transaction(invoice.doc_type.value)
            entry.fill_header(header)
            entry.ensure_rows(max(len(invoice.lines), 1))
            for index, line in enumerate(invoice.lines, start=1):
                entry.fill_line(
                    index,
                    {
                        "sku": line.sku or "",
                        "description": line.description,
                        "quantity": typed(line.quantity),
                        "unit_price": typed(line.unit_price),
                        "amount": typed(line.amount),
                    },
                )

        self._step(fill)
        logins = self.logins
        self._step(entry.submit, repeatable=False)
        if self.logins > logins:
            # The session ran out while typing: the ERP dropped the form, nothing was posted.
            if _tries <= 1:
                raise ErpUnavailable("the ERP session keeps expiring before the form is posted")
            return self.post(invoice, screenshot_to=screenshot_to, _tries=_tries - 1)
        confirmation = InvoiceDetailPage(self.page, self.base_url)
        if confirmation.is_confirmation():
            return PostResult(
                erp_doc_number=confirmation.doc_number(), screenshot=self.screenshot(screenshot_to)
            )
        errors = entry.errors() if entry.is_showing() else []
        if errors:
            shot = self.screenshot(screenshot_to.with_name(screenshot_to.stem + "-rejected.png"))
            raise ErpRejected(
                "the ERP refused the invoice: " + "; ".join(e["message"] for e in errors),
                errors=[f"{e['code']}:{e['field']}" for e in errors],
                screenshot=shot or "",
            )
        raise UnexpectedScreen(f"unexpected screen after posting: {self.page.url}")

    def describe(self) -> dict[str, Any]:
        return {"account": self.account, "logins": self.logins}
