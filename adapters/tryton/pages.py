"""Page objects for Tryton's web client sao, one per screen; every selector of sao lives here.

Fields are found by their Tryton field name (sao renders ``<input name="party">``), never by
the ids sao generates; many2one fields are chosen from their completion list
(``ul.dropdown-completion``) by the exact record name; after a choice the page waits for the
server's on-change to fill the dependent fields before anything else is typed, because an
on-change that lands late overwrites what was typed meanwhile.
"""

from __future__ import annotations

import itertools
import json
from datetime import date
from decimal import Decimal
from urllib.parse import quote

from playwright.sync_api import JSHandle, Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from ledgerbot.core.errors import ApplicationError


class UnexpectedScreen(ApplicationError):
    code = "E741"


# sao's many2one completion asks the server after a short pause in typing.
COMPLETION_TIMEOUT_MS = 20_000
# How long sao must have had nothing in flight, and no callback waiting on a short timer, to
# count as idle (see _Form.wait_idle).
QUIET_MS = 60
# Timers this short (ms) are how jQuery runs the callbacks of an answer (and sao the work after a
# keystroke): one pending means more may follow. Longer ones (sao's 300 ms completion pause, its
# "processing" notice, ajax time-outs) are waited on by what needs them, not by wait_idle.
SHORT_TIMER_MS = 50
# How often (ms) a wait asks the page whether its condition holds. Asking on every animation
# frame (Playwright's default) makes headless Chromium draw 60 frames a second for the whole
# wait: most of the browser's CPU on a busy machine, taken from sao itself.
POLL_MS = 40
# Numbers each wait, so the page can tell when the current one began.
_waits = itertools.count()


def wait_until(page: Page, condition: str, arg: object = None, timeout: float | None = None) -> JSHandle:
    """Wait until the page's ``condition`` (a JavaScript function of ``arg``) returns something true."""
    return page.wait_for_function(condition, arg=arg, timeout=timeout, polling=POLL_MS)


def typed(value: Decimal) -> str:
    return format(value, "f")


# Notes in the page when sao last sent or finished a request, or ran a short timer's callback,
# and which short timers are still pending (wrapping setTimeout only counts them: every callback
# runs as sao scheduled it). Installed once per page, before sao is used.
_TRACK_ACTIVITY = """([short]) => {
    if (window.__ledgerbotTimers !== undefined || !window.jQuery) return;
    const pending = new Set();
    window.__ledgerbotTimers = pending;
    window.__ledgerbotAjax = performance.now();
    const mark = () => { window.__ledgerbotAjax = performance.now(); };
    jQuery(document).ajaxSend(mark).ajaxComplete(mark);
    const set = window.setTimeout.bind(window);
    const clear = window.clearTimeout.bind(window);
    window.setTimeout = function (callback, delay, ...args) {
        if (typeof callback !== 'function' || (Number(delay) || 0) > short) {
            return set(callback, delay, ...args);
        }
        const id = set(function () {
            pending.delete(id);
            try { return callback.apply(this, arguments); } finally { mark(); }
        }, delay, ...args);
        pending.add(id);
        return id;
    };
    window.clearTimeout = function (id) { pending.delete(id); return clear(id); };
}"""


_NO_MOTION_CSS = "*, *::before, *::after { transition: none !important; animation: none !important; }"
# Bootstrap decides per dialog whether to wait for a transition's end; jQuery whether to animate.
_NO_MOTION_JS = "() => { jQuery.support.transition = false; jQuery.fx.off = true; }"


class LoginPage:
    """sao's two-step login: user name, then the password dialog."""

    def __init__(self, page: Page, url: str) -> None:
        self.page = page
        self.url = url

    def is_showing(self) -> bool:
        return self.page.locator("input[name=login]:visible").count() > 0 or (
            self.page.locator("input[name=password]:visible").count() > 0
        )

    def open(self) -> None:
        self.page.goto(f"{self.url}/")
        self.page.locator("input[name=login]").wait_for()
        # No motion, as a user who asks the system for reduced motion gets it: dialogs and
        # dropdowns appear at once instead of after Bootstrap's 150-300 ms fades, and nothing
        # moves under the robot's clicks (Playwright waits for a moving element to stand still).
        self.page.add_style_tag(content=_NO_MOTION_CSS)
        self.page.evaluate(_NO_MOTION_JS)
        self.page.evaluate(_TRACK_ACTIVITY, [SHORT_TIMER_MS])

    def log_in(self, login: str, password: str) -> None:
        if self.page.locator("input[name=login]:visible").count():
            self.page.fill("input[name=login]", login)
            self.page.locator("input[name=login]").press("Enter")
        self.page.locator("input[name=password]:visible").fill(password)
        self.page.locator("input[name=password]:visible").press("Enter")
        # Logged in once sao holds a session and has drawn the menu.
        wait_until(
            self.page,
            "() => window.Sao && Sao.Session && Sao.Session.current_session"
            " && Sao.Session.current_session.user_id && Sao.main_menu_screen",
        )


class Dialog:
    """The topmost modal sao shows (a line form, a warning, a confirmation, an error)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.root: Locator = page.locator(".modal.in .modal-dialog").last

    def is_showing(self) -> bool:
        return self.page.locator(".modal.in .modal-dialog").count() > 0

    def text(self) -> str:
        return (self.root.locator(".modal-body").inner_text() or "").strip()

    def title(self) -> str:
        return (self.root.locator(".modal-header").inner_text() or "").strip()

    def click(self, label: str) -> None:
        self.root.locator(".modal-footer button", has_text=label).first.click()


class ServerDialog:
    """The dialogs sao opens for the server: a user warning, an error, a confirmation, a message."""

    KINDS = ("user-warning-dialog", "error-dialog", "warning-dialog", "confirmation-dialog", "message-dialog")

    def __init__(self, page: Page) -> None:
        self.page = page

    def showing(self) -> str | None:
        """The kind of the dialog on screen (``user-warning-dialog``, ...), or None."""
        for kind in self.KINDS:
            if self.page.locator(f".modal.{kind}.in").count():
                return kind
        return None

    def text(self, kind: str) -> str:
        return " ".join(self.page.locator(f".modal.{kind}.in .modal-body").all_inner_texts()).strip()

    def answer(self, kind: str, *labels: str) -> None:
        """Click the first of ``labels`` the dialog offers (a user error has OK, an application
        error Close, a user warning No and Yes)."""
        buttons = self.page.locator(f".modal.{kind}.in .modal-footer button")
        # sao's theme shows the labels in capitals; the title attribute keeps the label itself.
        offered = [buttons.nth(i).get_attribute("title") or "" for i in range(buttons.count())]
        label = next((lb for lb in labels if lb in offered), None)
        if label is None:
            raise UnexpectedScreen(f"the {kind} offers {offered}, none of {list(labels)}")
        buttons.nth(offered.index(label)).click()
        self.page.locator(f".modal.{kind}.in").wait_for(state="detached")


class _Form:
    """Field access shared by the invoice form and its line dialog, scoped to one container."""

    def __init__(self, page: Page, scope: Locator) -> None:
        self.page = page
        self.scope = scope

    def field(self, name: str) -> Locator:
        # Notebook pages drawn but not shown (the line's Stock page) repeat some field names.
        return self.scope.locator(f"[name={name}]:visible").first

    def value(self, name: str) -> str:
        return self.field(name).input_value()

    def fill(self, name: str, text: str, timeout: float | None = None) -> None:
        field = self.field(name)
        field.fill(text, timeout=timeout)
        # Leaving the field is what makes sao send the value and run its on-change.
        field.press("Tab")

    def type_number(self, name: str, text: str, timeout: float | None = None) -> None:
        """sao draws a number as two inputs of the same name: a text input that shows the
        formatted value and, once that is focused, a number input (shown in its place, focused
        a timer tick later) that takes what is typed. Typing into the text input races that
        swap (the text is lost when the swap lands before Tab), so the robot focuses the text
        input, waits for the number input to hold the focus, and types there."""
        self.field(name).click(timeout=timeout)
        editor = self.scope.locator(f"input[type=number][name={name}]:visible").first
        editor.wait_for(timeout=timeout)
        wait_until(
            self.page, "el => document.activeElement === el", arg=editor.element_handle(), timeout=timeout
        )
        editor.fill(text, timeout=timeout)
        # Leaving the field is what makes sao send the value and run its on-change.
        editor.press("Tab", timeout=timeout)

    def fill_numbers(self, values: dict[str, Decimal]) -> None:
        """Type several numbers, wait for sao's on-changes once, and check each stuck; one a late
        on-change cleared is typed again on its own (``fill_number``)."""
        for name, value in values.items():
            try:
                self.type_number(name, typed(value), timeout=15_000)
            except PlaywrightTimeout:
                # sao redraws the field while an on-change lands: fill_number types it again.
                self.wait_idle()
        self.wait_idle()
        for name, value in values.items():
            if not self._shows(name, value):
                self.fill_number(name, value)

    def _shows(self, name: str, value: Decimal) -> bool:
        shown = self.value(name).replace(",", "").replace("\xa0", "").strip()
        try:
            return bool(shown) and Decimal(shown) == value
        except ArithmeticError:
            return False

    def fill_number(self, name: str, value: Decimal, tries: int = 3) -> None:
        """Type a number and check it stuck (a late on-change may clear it): type again if not."""
        for _ in range(tries):
            try:
                self.type_number(name, typed(value), timeout=15_000)
            except PlaywrightTimeout:
                # sao redraws the field while an on-change lands: wait for quiet and type again.
                self.wait_idle()
                continue
            self.wait_idle()
            if self._shows(name, value):
                return
        raise UnexpectedScreen(f"sao does not keep {value} in {name} (shows {self.value(name)!r})")

    def choose(self, name: str, search: str, record_name: str) -> None:
        """A many2one: type ``search``, pick the completion whose text is exactly ``record_name``."""
        field = self.field(name)
        for _ in range(3):
            field.fill("")
            # All but the last character arrive as one input event (no key events: sao's
            # keydown handlers and a change event would search the partial text), the last as
            # a key press, whose input event sao answers with the completion list.
            self.page.keyboard.insert_text(search[:-1])
            field.press_sequentially(search[-1:])
            # A dialog that is still opening takes the focus (and the first letters) away.
            if field.input_value() == search:
                break
            self.page.wait_for_timeout(300)
        completion = field.locator("xpath=..").locator("ul.dropdown-completion li.completion")
        wanted = completion.filter(has_text=record_name)
        try:
            wanted.first.wait_for(timeout=COMPLETION_TIMEOUT_MS)
        except Exception as error:
            offered = [t.strip() for t in completion.all_inner_texts()]
            raise ChoiceMissing(name, record_name, offered) from error
        exact = [i for i, text in enumerate(wanted.all_inner_texts()) if text.strip() == record_name]
        wanted.nth(exact[0] if exact else 0).click()
        self.wait_filled(name)

    def wait_filled(self, name: str, timeout: float = 20_000) -> None:
        wait_until(self.page, "el => el.value !== ''", arg=self.field(name).element_handle(), timeout=timeout)

    def wait_idle(self) -> None:
        """Wait until sao has no call to the server in flight and none about to go out.

        sao talks to the server through jQuery's ajax, which counts open requests in
        ``jQuery.active``. A call an answer or a keystroke starts goes out a timer tick later
        (jQuery runs its callbacks on short timers), so zero alone is not enough: the page also
        counts the short timers still pending (``_TRACK_ACTIVITY``), and sao counts as idle once
        neither was the case for ``QUIET_MS``, from the later of the last request, the last
        timer callback, and the moment we began to wait. Counting the timers is what makes a
        short quiet moment enough on a busy machine, where a callback can run late.
        """
        self.page.evaluate(_TRACK_ACTIVITY, [SHORT_TIMER_MS])
        wait_until(
            self.page,
            """([quiet, wait]) => {
                if (!window.jQuery || window.__ledgerbotTimers === undefined) return false;
                const now = performance.now();
                if (window.__ledgerbotWait !== wait) {
                    window.__ledgerbotWait = wait;
                    window.__ledgerbotWaitStart = now;
                }
                if (jQuery.active !== 0 || window.__ledgerbotTimers.size !== 0) return false;
                return now - Math.max(window.__ledgerbotAjax, window.__ledgerbotWaitStart) >= quiet;
            }""",
            arg=[QUIET_MS, next(_waits)],
        )


class ChoiceMissing(Exception):
    """A completion list did not offer the record the robot was to choose."""

    def __init__(self, field: str, wanted: str, offered: list[str]) -> None:
        super().__init__(f"{field}: {wanted!r} not offered (offered: {offered[:5]})")
        self.field, self.wanted, self.offered = field, wanted, offered


# The ids of the invoice's lines in the current tab (new lines have negative ids).
_LINE_IDS = """() => {
    const invoice = Sao.Tab.tabs.get_current().screen.current_record;
    return invoice.field_get_client('lines').map(line => line.id);
}"""
# The line dialog's screen shows a line the invoice did not hold before New was pressed.
_SHOWS_NEW_LINE = """(before) => {
    const invoice = Sao.Tab.tabs.get_current().screen.current_record;
    const lines = invoice.field_get_client('lines');
    return lines.screens.some(screen => {
        const shown = screen.current_record;
        return shown && lines.includes(shown) && !before.includes(shown.id);
    });
}"""


# The current tab shows a supplier invoice in its form, saved and unchanged, and no dialog is open.
_REUSABLE_TAB = """() => {
    const tab = Sao.Tab.tabs.get_current();
    const screen = tab && tab.screen;
    if (!screen || screen.model_name !== 'account.invoice') return false;
    if (!screen.current_view || screen.current_view.view_type !== 'form') return false;
    const record = screen.current_record;
    if (!record || record.id < 0 || screen.modified()) return false;
    return !document.querySelector('.modal.in');
}"""


# After Save, what the page shows first: a dialog (the server objects), sao's own refusal in
# the message bar, or the record saved (a saved record has the id the server gave it).
_AFTER_SAVE = """() => {
    if (document.querySelector('.modal.in .modal-dialog')) return 'dialog';
    const bars = document.querySelectorAll('.tab-pane.active .alert-danger');
    if ([...bars].some(bar => bar.offsetParent !== null && bar.innerText.trim())) return 'refused';
    const tab = Sao.Tab.tabs.get_current();
    const record = tab && tab.screen.current_record;
    return record && record.id >= 0 ? 'saved' : false;
}"""
# After Post, what the page shows first: one of the server's dialogs (by kind), or the invoice
# redrawn with the number Tryton gives it when posting.
_AFTER_POST = """(kinds) => {
    for (const kind of kinds) {
        if (document.querySelector(`.modal.${kind}.in`)) return kind;
    }
    const numbers = document.querySelectorAll('.tab-pane.active [name=number]');
    const shown = [...numbers].find(el => el.offsetParent !== null);
    return shown && shown.value !== '' ? 'posted' : false;
}"""


class SupplierInvoiceForm(_Form):
    """Financial > Supplier Invoices, a new invoice in the form view."""

    def __init__(self, page: Page, database: str) -> None:
        super().__init__(page, page.locator(".tab-pane.active .form").first)
        self.database = database

    def open_new(self, *, reuse: bool = False) -> None:
        """A new supplier invoice in the form view. With ``reuse``, New is pressed on the invoice
        tab already open when it shows a saved invoice nothing was changed in (the one just
        posted): the tab, its views and its list are not opened again."""
        if reuse and self.page.evaluate(_REUSABLE_TAB):
            self.page.locator(".tab-pane.active button#new_:visible").first.click()
            self.page.locator(".tab-pane.active input[name=party]:not([readonly])").wait_for()
            self.scope = self.page.locator(".tab-pane.active .form").first
            return
        params = "&".join(
            [
                "context=" + quote(json.dumps({"type": "in"})),
                "domain=" + quote(json.dumps([["type", "=", "in"]])),
                "name=" + quote(json.dumps("Supplier Invoices")),
                # The list behind the form is never looked at: one row, not the whole ledger
                # (sao reads up to a thousand invoices otherwise, more work with every posting).
                "limit=" + quote(json.dumps(1)),
            ]
        )
        # One tab at a time: the tabs of earlier invoices (saved and posted) are closed first, so
        # the New button clicked is the new tab's and tabs do not pile up over a batch.
        self.page.evaluate("async () => { for (const tab of [...Sao.Tab.tabs]) { await tab.close(); } }")
        self.page.evaluate("url => Sao.open_url(url)", f"{self.database}/model/account.invoice;{params}")
        self.page.locator(".tab-pane.active button#new_:visible").first.click()
        self.page.locator(".tab-pane.active input[name=party]:not([readonly])").wait_for()
        self.scope = self.page.locator(".tab-pane.active .form").first

    def set_date(self, name: str, value: date, date_format: str) -> None:
        self.fill(name, value.strftime(date_format))

    def lines(self) -> Locator:
        # sao draws a one2many without its field name: it is the panel headed by the field's label.
        return self.scope.locator(
            "div.form-one2many", has=self.page.locator(".form-one2many-menu label", has_text="Lines")
        ).first

    def new_line(self) -> InvoiceLineDialog:
        """Open the line dialog on a new line, once sao shows that line in it.

        sao opens the dialog on the line it showed last and swaps in the new line only after
        the server's defaults and on-changes for it have come back; what is typed before the
        swap lands on the earlier line (its product cleared, its quantity overwritten). The
        lines the invoice holds are noted before New, and the dialog counts as ready once the
        line it shows is none of them.
        """
        before = self.page.evaluate(_LINE_IDS)
        self.lines().locator(".form-one2many-toolbar button[title=New]").first.click()
        wait_until(self.page, _SHOWS_NEW_LINE, arg=before)
        dialog = InvoiceLineDialog(self.page)
        dialog.field("quantity").wait_for()
        dialog.wait_idle()
        return dialog

    def line_count(self) -> int:
        return self.lines().locator("tbody tr").count()

    def save(self) -> None:
        self.page.locator(".tab-pane.active button#save:visible, button#save:visible").first.click()
        self.wait_idle()

    def settle_after_save(self, timeout: float) -> str | None:
        """Wait for the page to show how Save ended (``dialog``, ``refused``, ``saved``); None
        when it shows nothing within ``timeout`` ms."""
        return self._settle(_AFTER_SAVE, None, timeout)

    def settle_after_post(self, timeout: float) -> str | None:
        """Wait for a server dialog (its kind) or the posted invoice's number (``posted``)."""
        return self._settle(_AFTER_POST, list(ServerDialog.KINDS), timeout)

    def _settle(self, condition: str, arg: object, timeout: float) -> str | None:
        try:
            shown = wait_until(self.page, condition, arg=arg, timeout=timeout)
        except PlaywrightTimeout:
            return None
        return str(shown.json_value())

    def reload(self) -> None:
        """Read the record again from the server (the form does not redraw a state changed there)."""
        self.page.locator(".tab-pane.active button#reload:visible, button#reload:visible").first.click()
        self.wait_idle()

    def click_button(self, name: str) -> None:
        self.scope.locator(f"button[name={name}]:visible").first.click()

    def state(self) -> str:
        return self.field("state").input_value() if self.field("state").count() else ""

    def errors(self) -> list[str]:
        """What sao refused in its message bar (a required field left empty, a value out of domain)."""
        bar = self.page.locator(".tab-pane.active .alert-danger:visible span:not([aria-hidden])")
        return [t.strip() for t in bar.all_inner_texts() if t.strip()]

    def messages(self) -> list[str]:
        """Error and warning texts sao shows in its message bar or a dialog."""
        texts = [t.strip() for t in self.page.locator(".tab-pane.active .alert:visible").all_inner_texts()]
        return [t for t in texts if t]


class InvoiceLineDialog(_Form):
    """The invoice line form sao opens as a dialog over the invoice."""

    def __init__(self, page: Page) -> None:
        super().__init__(page, page.locator(".modal.in .modal-dialog").last)

    def choose_origin(self, model_label: str, search: str, record_name: str) -> None:
        """A reference field: pick the model in its selection, then the record from the completion."""
        select = self.field("origin").locator(
            "xpath=ancestor::div[contains(@class,'form-reference')]//select"
        )
        select.select_option(label=model_label)
        self.choose("origin", search, record_name)

    def add(self) -> None:
        self.scope.locator(".modal-footer button", has_text="Add").last.click()
        self.scope.wait_for(state="detached")
