"""Deterministic master data (vendors, purchase orders, goods receipts) for the sandbox.

The sandbox ERP seeds its database from here and the corpus generator writes invoices against
the same vendors and orders, so a generated invoice always refers to something the ERP knows.
The same seed gives the same data on every machine.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from ledgerbot.core.domain import Address, GoodsReceipt, POLine, PurchaseOrder, ReceiptLine, Vendor

DEFAULT_SEED = 20260301
COMPANIES = ("1000", "2000")


@dataclass(frozen=True)
class _Country:
    currency: str
    cities: list[tuple[str, str]]
    streets: list[str]
    suffixes: list[str]
    bank: str


_COUNTRIES: dict[str, _Country] = {
    "DE": _Country(
        currency="EUR",
        cities=[
            ("Berlin", "10115"),
            ("Hamburg", "20095"),
            ("München", "80331"),
            ("Köln", "50667"),
            ("Stuttgart", "70173"),
            ("Leipzig", "04109"),
        ],
        streets=["Hauptstraße", "Industriestraße", "Bahnhofstraße", "Gewerbepark", "Lindenallee"],
        suffixes=["GmbH", "AG", "GmbH & Co. KG", "KG"],
        bank="37040044",
    ),
    "FR": _Country(
        currency="EUR",
        cities=[
            ("Paris", "75002"),
            ("Lyon", "69002"),
            ("Marseille", "13001"),
            ("Toulouse", "31000"),
            ("Lille", "59000"),
        ],
        streets=[
            "Rue de la République",
            "Avenue Jean Jaurès",
            "Boulevard Voltaire",
            "Rue du Commerce",
        ],
        suffixes=["SARL", "SA", "SAS"],
        bank="30004",
    ),
    "GB": _Country(
        currency="GBP",
        cities=[
            ("London", "EC1A 1BB"),
            ("Manchester", "M1 1AE"),
            ("Leeds", "LS1 4AP"),
            ("Bristol", "BS1 4DJ"),
        ],
        streets=["High Street", "Station Road", "Mill Lane", "Victoria Road"],
        suffixes=["Ltd", "Limited", "plc"],
        bank="NWBK",
    ),
    "NL": _Country(
        currency="EUR",
        cities=[("Amsterdam", "1012 AB"), ("Rotterdam", "3011 AA"), ("Utrecht", "3511 AA")],
        streets=["Damrak", "Coolsingel", "Oudegracht"],
        suffixes=["B.V.", "N.V."],
        bank="ABNA",
    ),
    "US": _Country(
        currency="USD",
        cities=[("Chicago", "60601"), ("Boston", "02108"), ("Austin", "78701")],
        streets=["Main Street", "Market Street", "Commerce Drive"],
        suffixes=["Inc.", "LLC", "Corp."],
        bank="",
    ),
}
# Weighted so most vendors are EU (the product's home market), a few GBP/USD.
_COUNTRY_WEIGHTS = {"DE": 12, "FR": 7, "GB": 5, "NL": 4, "US": 3}

_NAME_PARTS = [
    "Acme",
    "Nordwind",
    "Bergmann",
    "Lumière",
    "Kessler",
    "Atlas",
    "Falkenberg",
    "Horizon",
    "Vektor",
    "Brightline",
    "Dufour",
    "Rheinmetall Tools",
    "Orbis",
    "Seidel",
    "Pellerin",
    "Ironbridge",
    "Weiss",
    "Quadrant",
    "Hanse",
    "Moreau",
    "Stellar",
    "Greenfield",
    "Altmann",
    "Castell",
    "Blueprint",
    "Zenith",
    "Lambert",
    "Kronos",
    "Meridian",
    "Fontaine",
    "Hartmann",
    "Polaris",
    "Sterling",
    "Vogel",
    "Beaumont",
    "Northgate",
    "Eisenwerk",
    "Tulip",
    "Delta",
]
_NAME_TRADES = [
    "Tools",
    "Industriebedarf",
    "Fournitures",
    "Supplies",
    "Logistik",
    "Office",
    "Verpackung",
    "Électrique",
    "Components",
    "Chemie",
    "IT Services",
    "Maschinenbau",
    "Hygiène",
    "Print",
]

# (sku prefix, description, unit price range in major units, unit)
_CATALOGUE: list[tuple[str, str, tuple[int, int]]] = [
    ("HX", "Hex bolt M8x40, box of 100", (8, 40)),
    ("HX", "Hex nut M10, box of 200", (6, 25)),
    ("WS", "Washer DIN 125 M12, box of 500", (5, 18)),
    ("SC", "Wood screw 4x50 zinc, box of 200", (7, 22)),
    ("CB", "Cable tie 300mm black, pack of 1000", (12, 35)),
    ("GL", "Nitrile gloves size L, box of 100", (6, 14)),
    ("PA", "Copy paper A4 80g, carton of 5 reams", (18, 32)),
    ("TN", "Toner cartridge black TK-5240", (45, 120)),
    ("LB", "Shipping label 100x150, roll of 500", (9, 21)),
    ("BX", "Corrugated box 400x300x200, bundle of 25", (22, 48)),
    ("TP", "Packing tape 50mm x 66m, pack of 36", (28, 55)),
    ("PL", "Euro pallet 1200x800, used grade A", (9, 16)),
    ("SF", "Safety shoes S3 size 43", (48, 95)),
    ("HL", "Hard hat EN 397 white", (11, 24)),
    ("LU", "Lubricant spray 400ml, case of 12", (38, 76)),
    ("CL", "Industrial cleaner 10l canister", (24, 58)),
    ("FL", "LED panel 60x60 36W", (31, 70)),
    ("KB", "USB keyboard, German layout", (14, 39)),
    ("MS", "Wireless mouse, ergonomic", (12, 35)),
    ("MN", "Monitor 27in IPS 1440p", (189, 349)),
    ("LT", "Laptop docking station USB-C", (119, 229)),
    ("SV", "On-site service hour, technician", (65, 140)),
    ("CN", "Consulting day, senior engineer", (850, 1400)),
    ("FT", "Air filter F7 592x592", (19, 44)),
    ("BT", "Battery AA alkaline, pack of 40", (11, 23)),
    ("DR", "Drill bit set HSS 1-10mm", (17, 46)),
    ("GR", "Grinding disc 125mm, pack of 25", (21, 52)),
    ("WD", "Welding wire 0.8mm, 15kg spool", (44, 89)),
    ("PP", "Printer paper roll 80mm thermal, 50 rolls", (29, 61)),
    ("ST", "Stapler heavy duty, 100 sheets", (23, 49)),
]


@dataclass(frozen=True)
class MasterData:
    vendors: list[Vendor]
    purchase_orders: list[PurchaseOrder]
    receipts: list[GoodsReceipt]

    def vendor(self, vendor_id: str) -> Vendor:
        return next(v for v in self.vendors if v.vendor_id == vendor_id)

    def orders_for(self, vendor_id: str) -> list[PurchaseOrder]:
        return [po for po in self.purchase_orders if po.vendor_id == vendor_id]

    def receipts_for(self, po_number: str) -> list[GoodsReceipt]:
        return [gr for gr in self.receipts if gr.po_number == po_number]


def iban_check_digits(country: str, bban: str) -> str:
    """ISO 13616 check digits (mod 97-10) for a country code and BBAN."""
    rearranged = bban + country + "00"
    numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    return f"{98 - int(numeric) % 97:02d}"


def make_iban(rng: random.Random, country: str, bank: str) -> str | None:
    if country == "US":
        return None
    if country == "DE":
        bban = bank + "".join(rng.choices(string.digits, k=10))
    elif country == "FR":
        bban = bank + "".join(rng.choices(string.digits, k=18))
        bban = bban[:23]
    elif country == "GB":
        bban = bank + "".join(rng.choices(string.digits, k=14))
    else:  # NL
        bban = bank + "".join(rng.choices(string.digits, k=10))
    return country + iban_check_digits(country, bban) + bban


def make_tax_id(rng: random.Random, country: str) -> str:
    digits = lambda k: "".join(rng.choices(string.digits, k=k))  # noqa: E731
    return {
        "DE": lambda: "DE" + digits(9),
        "FR": lambda: "FR" + digits(2) + digits(9),
        "GB": lambda: "GB" + digits(9),
        "NL": lambda: "NL" + digits(9) + "B01",
        "US": lambda: digits(2) + "-" + digits(7),
    }[country]()


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    cents = rng.randint(low * 100, high * 100)
    # Prices end in .00, .50, .90, .95 or odd cents, as real price lists do.
    cents = rng.choice([cents - cents % 100, cents - cents % 50, cents - cents % 10 + 5, cents])
    return (Decimal(max(cents, 100)) / 100).quantize(Decimal("0.01"))


def generate_master_data(seed: int = DEFAULT_SEED, n_vendors: int = 36, n_orders: int = 320) -> MasterData:
    rng = random.Random(seed)
    vendors: list[Vendor] = []
    used_names: set[str] = set()
    countries = list(_COUNTRY_WEIGHTS)
    weights = list(_COUNTRY_WEIGHTS.values())
    for index in range(n_vendors):
        country = rng.choices(countries, weights)[0]
        spec = _COUNTRIES[country]
        while True:
            name = f"{rng.choice(_NAME_PARTS)} {rng.choice(_NAME_TRADES)} {rng.choice(spec.suffixes)}"
            if name not in used_names:
                used_names.add(name)
                break
        city, postal = rng.choice(spec.cities)
        street = f"{rng.choice(spec.streets)} {rng.randint(1, 180)}"
        vendors.append(
            Vendor(
                vendor_id=f"V{index + 1:04d}",
                name=name,
                tax_id=make_tax_id(rng, country),
                iban=make_iban(rng, country, spec.bank),
                bic=None,
                currency=spec.currency,
                address=Address(street=street, postal_code=postal, city=city, country=country),
            )
        )

    # Each vendor sells from its own slice of the catalogue, as real suppliers do.
    assortments = {v.vendor_id: rng.sample(range(len(_CATALOGUE)), k=rng.randint(6, 14)) for v in vendors}
    prices = {
        (v.vendor_id, i): _money(rng, *_CATALOGUE[i][2]) for v in vendors for i in assortments[v.vendor_id]
    }

    orders: list[PurchaseOrder] = []
    receipts: list[GoodsReceipt] = []
    start = date(2026, 1, 5)
    for number in range(n_orders):
        vendor = vendors[number % n_vendors] if number < n_vendors else rng.choice(vendors)
        assortment = assortments[vendor.vendor_id]
        # Mostly short orders; one in ten is long enough to run over a page on the invoice.
        n_lines = rng.randint(18, 32) if rng.random() < 0.1 else rng.randint(1, 8)
        picks = [rng.choice(assortment) for _ in range(n_lines)]
        order_date = start + timedelta(days=rng.randint(0, 240))
        lines = []
        for line_no, item in enumerate(picks, start=1):
            prefix, description, _ = _CATALOGUE[item]
            lines.append(
                POLine(
                    line_no=line_no,
                    sku=f"{prefix}-{10000 + item * 37 + int(vendor.vendor_id[1:]) % 7:05d}",
                    description=description,
                    quantity=Decimal(rng.choice([1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 24, 25, 40, 50, 100])),
                    unit_price=prices[(vendor.vendor_id, item)],
                )
            )
        po_number = f"PO-{45000 + number}"
        status = "closed" if rng.random() < 0.04 else "open"
        orders.append(
            PurchaseOrder(
                po_number=po_number,
                vendor_id=vendor.vendor_id,
                currency=vendor.currency,
                status=status,
                order_date=order_date,
                company=rng.choice(COMPANIES),
                lines=lines,
            )
        )
        # Receipts: most orders fully received, some partly (and some in two deliveries),
        # a few not yet received at all.
        roll = rng.random()
        if roll < 0.06:
            continue
        received_on = order_date + timedelta(days=rng.randint(2, 20))
        if roll < 0.22:
            first = [
                ReceiptLine(po_line_no=line.line_no, quantity=(line.quantity / 2).to_integral_value())
                for line in lines
                if (line.quantity / 2).to_integral_value() > 0
            ]
            receipts.append(
                GoodsReceipt(
                    receipt_number=f"GR-{len(receipts) + 70001}",
                    po_number=po_number,
                    date=received_on,
                    lines=first,
                )
            )
            if roll < 0.14:
                rest = [
                    ReceiptLine(
                        po_line_no=line.line_no,
                        quantity=line.quantity - (line.quantity / 2).to_integral_value(),
                    )
                    for line in lines
                ]
                receipts.append(
                    GoodsReceipt(
                        receipt_number=f"GR-{len(receipts) + 70001}",
                        po_number=po_number,
                        date=received_on + timedelta(days=rng.randint(3, 15)),
                        lines=rest,
                    )
                )
        else:
            receipts.append(
                GoodsReceipt(
                    receipt_number=f"GR-{len(receipts) + 70001}",
                    po_number=po_number,
                    date=received_on,
                    lines=[ReceiptLine(po_line_no=line.line_no, quantity=line.quantity) for line in lines],
                )
            )
    return MasterData(vendors=vendors, purchase_orders=orders, receipts=receipts)


def received_quantities(data: MasterData, po_number: str) -> dict[int, Decimal]:
    """Total received per PO line across all receipts of an order."""
    totals: dict[int, Decimal] = {}
    for receipt in data.receipts_for(po_number):
        for line in receipt.lines:
            totals[line.po_line_no] = totals.get(line.po_line_no, Decimal(0)) + line.quantity
    return totals
