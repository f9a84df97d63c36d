"""Creates a Tryton database and seeds it with a company, books, taxes and the sandbox's master data.

Runs inside Tryton's own virtual environment (``python seed_database.py CONFIG DATABASE DATA.json``),
in one process: the modules are activated as ``trytond-admin`` does it, then the books are set up
through Tryton's test helpers and the master data through its model layer. It imports nothing of
ledgerbot: the modules and master data arrive as JSON written by ``sandbox.tryton.environment``.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

# Quantities are floats in Tryton: what is left of a line below this is nothing left.
QUANTITY_EPSILON = 1e-9


@contextmanager
def _module_data_trusted() -> Iterator[None]:
    """Tryton's record validation switched off while its modules load their own XML data.

    The data is the pinned releases' own (validated by their test suites) and validation writes
    nothing, so the database comes out the same; it costs about a third of the activation's CPU.
    The master data seeded afterwards is validated as always.
    """
    from trytond.model import ModelStorage

    validate = ModelStorage.__dict__["_validate"]
    ModelStorage._validate = classmethod(lambda cls, records, field_names=None: None)  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        ModelStorage._validate = validate  # type: ignore[method-assign]


@contextmanager
def _pool_kept() -> Iterator[None]:
    """proteus connects without registering Tryton's classes and loading its modules again: the
    activation left the pool of this database loaded (both would cost seconds of CPU)."""
    from trytond.pool import Pool

    start, init = Pool.__dict__["start"], Pool.__dict__["init"]
    Pool.start = classmethod(lambda cls: None)  # type: ignore[method-assign,assignment]
    Pool.init = lambda self, *args, **kwargs: None  # type: ignore[method-assign]
    try:
        yield
    finally:
        Pool.start, Pool.init = start, init  # type: ignore[method-assign]


def _activate_modules(config_file: str, database: str, data: dict[str, Any]) -> None:
    """A new database with the modules (and their dependencies) activated, like ``trytond-admin``
    run with ``--all -u MODULES --activate-dependencies``; the admin password comes from
    ``TRYTONPASSFILE``."""
    from trytond import admin, config
    from trytond.commandline import get_parser_admin

    config.update_etc(config_file)
    options = get_parser_admin().parse_args(
        [
            *("-c", config_file, "-d", database, "--all", "--email", data["admin_email"]),
            *("-u", *data["modules"], "--activate-dependencies"),
        ]
    )
    with _module_data_trusted():
        admin.run(options)


def _setup_books(data: dict[str, Any]) -> None:
    """Company, currencies, fiscal years, chart of accounts, VAT taxes and their rules, with proteus."""
    from proteus import Model
    from trytond.modules.account.tests.tools import create_chart, create_fiscalyear, create_tax, get_accounts
    from trytond.modules.account_invoice.tests.tools import set_fiscalyear_invoice_sequences
    from trytond.modules.company.tests.tools import create_company, get_company

    Currency = Model.get("currency.currency")
    Rate = Model.get("currency.currency.rate")
    currencies = {}
    for code, rate in data["currencies"].items():
        currency = Currency(name=code, symbol=code, code=code, rounding=Decimal("0.01"))
        currency.save()
        Rate(currency=currency, date=dt.date(2000, 1, 1), rate=Decimal(rate)).save()
        currencies[code] = currency
    Party = Model.get("party.party")
    company_party = Party(name=data["company_name"])
    company_party.save()
    create_company(company_party, currencies[data["company_currency"]])
    company = get_company()
    for year in data["fiscal_years"]:
        fiscalyear = set_fiscalyear_invoice_sequences(
            create_fiscalyear(company, (dt.date(year, 1, 1), dt.date(year, 12, 31)))
        )
        fiscalyear.click("create_period")
    create_chart(company)
    accounts = get_accounts(company)

    # Invoices in a foreign currency post their rounding differences here.
    Configuration = Model.get("account.configuration")
    configuration = Configuration(1)
    configuration.currency_exchange_credit_account = accounts["revenue"]
    configuration.currency_exchange_debit_account = accounts["expense"]
    configuration.save()

    Tax = Model.get("account.tax")
    Rule = Model.get("account.tax.rule")
    for country, rate in data["tax_rates"].items():
        tax = create_tax(Decimal(rate) / 100, company)
        tax.name = tax.description = f"VAT {rate}% {country}"
        tax.save()
        rule = Rule(name=f"Purchases from {country}", kind="purchase", company=company)
        line = rule.lines.new()
        line.tax = Tax(tax.id)
        rule.save()

    Category = Model.get("product.category")
    category = Category(name="Purchased goods", accounting=True)
    category.account_expense = accounts["expense"]
    category.save()
    # The first login would otherwise open the configuration wizard instead of the client.
    Item = Model.get("ir.module.config_wizard.item")
    for item in Item.find([]):
        item.state = "done"
        item.save()
    User = Model.get("res.user")
    Group = Model.get("res.group")
    robot = User(name="AP robot", login=data["robot_login"])
    robot.password = data["robot_password"]
    robot.groups.extend(Group.find([]))
    robot.companies.append(company)
    robot.company = company
    robot.save()


def _chunks(records: list[Any], size: int = 25) -> list[list[Any]]:
    # SQLite's parser overflows on the long OR-queries Tryton validates big batches with.
    return [records[i : i + size] for i in range(0, len(records), size)]


def _master_data(database: str, data: dict[str, Any]) -> dict[str, int]:
    """Suppliers (with their bank accounts), products, purchase orders and goods receipts, in bulk."""
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    counts = {}
    with Transaction().start(database, 0, context={"company": 1}) as transaction:
        pool = Pool()
        Company = pool.get("company.company")
        Country = pool.get("country.country")
        Currency = pool.get("currency.currency")
        Party = pool.get("party.party")
        BankAccount = pool.get("bank.account")
        Rule = pool.get("account.tax.rule")
        Tax = pool.get("account.tax")
        Uom = pool.get("product.uom")
        Category = pool.get("product.category")
        Template = pool.get("product.template")
        Product = pool.get("product.product")
        Purchase = pool.get("purchase.purchase")
        Move = pool.get("stock.move")
        Shipment = pool.get("stock.shipment.in")
        Location = pool.get("stock.location")

        (company,) = Company.search([])
        with transaction.set_context(company=company.id):
            currency_by_code = {c.code: c for c in Currency.search([])}
            countries = {
                code: Country(name=code, code=code)
                for code in sorted({v["address"]["country"] for v in data["vendors"] if v.get("address")})
            }
            Country.save(list(countries.values()))
            rules = {rule.name.rsplit(" ", 1)[-1]: rule for rule in Rule.search([])}
            taxes = {tax.name.rsplit(" ", 1)[-1]: tax for tax in Tax.search([])}
            parties = []
            for vendor in data["vendors"]:
                address = vendor.get("address") or {}
                country = address.get("country")
                parties.append(
                    Party(
                        name=vendor["name"],
                        code=vendor["vendor_id"],
                        identifiers=[{"type": None, "code": vendor["tax_id"]}]
                        if vendor.get("tax_id")
                        else [],
                        addresses=[
                            {
                                "street": address.get("street"),
                                "postal_code": address.get("postal_code"),
                                "city": address.get("city"),
                                "country": countries[country].id if country else None,
                            }
                        ],
                        supplier_currency=currency_by_code[vendor["currency"]],
                        supplier_tax_rule=rules.get(country),
                        # Ordered goods become invoice lines of their own, waiting for the
                        # supplier's invoice: the robot links its lines to them.
                        purchase_invoice_line_standalone=True,
                    )
                )
            for chunk in _chunks(parties):
                Party.save(chunk)
            party_by_code = {p.code: p for p in parties}
            counts["suppliers"] = len(parties)
            accounts = [
                BankAccount(
                    owners=[party_by_code[vendor["vendor_id"]]],
                    currency=currency_by_code[vendor["currency"]],
                    numbers=[{"type": "iban", "number": vendor["iban"]}],
                )
                for vendor in data["vendors"]
                if vendor.get("iban")
            ]
            for chunk in _chunks(accounts):
                BankAccount.save(chunk)
            counts["bank_accounts"] = len(accounts)

            (unit,) = Uom.search([("symbol", "=", "u")])
            (category,) = Category.search([("name", "=", "Purchased goods")])
            products: dict[str, Any] = {}
            for order in data["orders"]:
                for line in order["lines"]:
                    if line["sku"] and line["sku"] not in products:
                        products[line["sku"]] = Template(
                            name=line["description"],
                            type="goods",
                            default_uom=unit,
                            purchasable=True,
                            purchase_uom=unit,
                            list_price=Decimal(0),
                            account_category=category,
                            products=[{"suffix_code": line["sku"]}],
                        )
            for chunk in _chunks(list(products.values())):
                Template.save(chunk)
            variant = {p.code: p for p in Product.search([])}
            counts["products"] = len(variant)

            (warehouse,) = Location.search([("type", "=", "warehouse")])
            purchases = []
            for order in data["orders"]:
                party = party_by_code[order["vendor_id"]]
                tax = taxes.get(_country_of(data, order["vendor_id"]))
                purchases.append(
                    Purchase(
                        company=company,
                        number=order["po_number"],
                        party=party,
                        invoice_address=party.addresses[0],
                        currency=currency_by_code[order["currency"]],
                        purchase_date=dt.date.fromisoformat(order["order_date"]),
                        warehouse=warehouse,
                        invoice_method="order",
                        lines=[
                            {
                                "sequence": line["line_no"],
                                "type": "line",
                                "product": variant[line["sku"]].id if line["sku"] else None,
                                "description": line["description"],
                                "quantity": float(line["quantity"]),
                                "unit": unit.id,
                                "unit_price": Decimal(line["unit_price"]),
                                "taxes": [tax.id] if tax else [],
                            }
                            for line in order["lines"]
                        ],
                    )
                )
            for chunk in _chunks(purchases):
                Purchase.save(chunk)
                Purchase.quote(chunk)
                Purchase.confirm(chunk)
                Purchase.process(chunk)
            counts["purchase_orders"] = len(purchases)

            by_number = {p.number: p for p in Purchase.browse([p.id for p in purchases])}
            waiting = {}  # purchase line id -> the move Tryton made for its goods
            for purchase in by_number.values():
                for line in purchase.lines:
                    (waiting[line.id],) = [m for m in line.moves if m.state == "draft"]
            # Which receipt takes how much of each line's goods, in receipt order: a partial
            # delivery leaves the rest waiting on a move of its own (a copy of the line's move)
            # for a later receipt. Planned first, so Tryton copies, numbers and assigns all the
            # moves in one call each instead of once per receipt.
            rest = {line_id: move.quantity for line_id, move in waiting.items()}
            received_on: dict[int, list[tuple[int, float]]] = {}  # line id -> (receipt, quantity)
            for index, receipt in enumerate(data["receipts"]):
                lines = {line.sequence: line for line in by_number[receipt["po_number"]].lines}
                for received in receipt["lines"]:
                    line_id = lines[received["po_line_no"]].id
                    quantity = min(float(received["quantity"]), rest[line_id])
                    if quantity > 0:
                        received_on.setdefault(line_id, []).append((index, quantity))
                        rest[line_id] -= quantity
            # Each line's moves: its own for the first delivery, copies for the later ones and
            # for the goods still waiting.
            copies_of = [
                waiting[line_id]
                for line_id, deliveries in received_on.items()
                for _ in range(len(deliveries) - 1 + (rest[line_id] > QUANTITY_EPSILON))
            ]
            copies = iter(Move.copy(copies_of)) if copies_of else iter(())
            days = [dt.date.fromisoformat(receipt["date"]) for receipt in data["receipts"]]
            shipments = [
                Shipment(
                    company=company,
                    number=receipt["receipt_number"],
                    supplier=by_number[receipt["po_number"]].party,
                    warehouse=warehouse,
                    warehouse_input=warehouse.input_location,
                    warehouse_storage=warehouse.storage_location,
                    effective_date=day,
                    planned_date=day,
                )
                for receipt, day in zip(data["receipts"], days, strict=True)
            ]
            Shipment.save(shipments)
            writes: list[Any] = []
            for line_id, deliveries in received_on.items():
                for position, (index, quantity) in enumerate(deliveries):
                    move = waiting[line_id] if position == 0 else next(copies)
                    day = days[index]
                    writes += [
                        [move],
                        {
                            "quantity": quantity,
                            "shipment": str(shipments[index]),
                            "effective_date": day,
                            "planned_date": day,
                        },
                    ]
                if rest[line_id] > QUANTITY_EPSILON:
                    writes += [[next(copies)], {"quantity": rest[line_id]}]
            if writes:
                Move.write(*writes)
            # Received and done together: each receipt's moves are its own already, and Tryton
            # processes the orders behind a batch once instead of once per receipt.
            Shipment.receive(shipments)
            Shipment.do(shipments)
            counts["goods_receipts"] = len(shipments)
            closed = [by_number[o["po_number"]] for o in data["orders"] if o["status"] == "closed"]
            if closed:
                Purchase.write(closed, {"state": "done"})
        transaction.commit()
    return counts


def _country_of(data: dict[str, Any], vendor_id: str) -> str | None:
    for vendor in data["vendors"]:
        if vendor["vendor_id"] == vendor_id:
            return (vendor.get("address") or {}).get("country")
    return None


def main(config_file: str, database: str, data_file: str) -> None:
    from proteus import config as proteus_config

    with open(data_file, encoding="utf-8") as stream:
        data = json.load(stream)
    seconds = {}
    started = time.monotonic()
    _activate_modules(config_file, database, data)
    seconds["modules"] = time.monotonic() - started
    with _pool_kept():
        proteus_config.set_trytond(database, config_file=config_file)
    _setup_books(data)
    seconds["books"] = time.monotonic() - started - sum(seconds.values())
    counts: dict[str, Any] = _master_data(database, data)
    seconds["master_data"] = time.monotonic() - started - sum(seconds.values())
    counts["seconds"] = {step: round(value, 1) for step, value in seconds.items()}
    print(json.dumps(counts))


if __name__ == "__main__":
    main(*sys.argv[1:4])
