"""What a randomized invoice says: vendor, buyer, numbers, dates, lines, VAT rates and totals.

Content is drawn from wide distributions independent of the sandbox ERP's master data, so a
model trained on it meets many vendor names, number patterns, currencies, VAT rates, discounts
and line counts. Every amount is worked out once here (half-up cents, tax per rate), so the
rendered page and the truth can only agree.
"""

from __future__ import annotations

import random
import re
import string
import unicodedata
import zlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from stdnum import iban as stdnum_iban
from stdnum import numdb
from stdnum.eu import vat as eu_vat

from sandbox.corpus.formats import money
from sandbox.masterdata import iban_check_digits


@dataclass(frozen=True)
class Country:
    code: str
    language: str
    currency: str
    rates: tuple[Decimal, ...]  # standard rate first, then reduced rates
    cities: tuple[tuple[str, str], ...]  # (postal code, city)
    streets: tuple[str, ...]
    forms: tuple[str, ...]  # legal forms that end a company name there


def _d(*values: str) -> tuple[Decimal, ...]:
    return tuple(Decimal(v) for v in values)


COUNTRIES: dict[str, Country] = {
    c.code: c
    for c in [
        Country(
            "DE",
            "de",
            "EUR",
            _d("19", "7"),
            (
                ("10117", "Berlin"),
                ("20095", "Hamburg"),
                ("80331", "München"),
                ("50667", "Köln"),
                ("70173", "Stuttgart"),
                ("04109", "Leipzig"),
                ("90402", "Nürnberg"),
                ("28195", "Bremen"),
                ("33602", "Bielefeld"),
                ("79098", "Freiburg"),
            ),
            (
                "Hauptstraße",
                "Industriestraße",
                "Am Markt",
                "Gartenweg",
                "Mühlenstraße",
                "Schillerstraße",
                "Bahnhofsplatz",
                "Gewerbering",
                "Im Winkel",
                "Lindenstraße",
            ),
            ("GmbH", "AG", "GmbH & Co. KG", "KG", "e.K.", "UG (haftungsbeschränkt)", "OHG"),
        ),
        Country(
            "AT",
            "de",
            "EUR",
            _d("20", "10", "13"),
            (
                ("1010", "Wien"),
                ("8010", "Graz"),
                ("4020", "Linz"),
                ("5020", "Salzburg"),
                ("6020", "Innsbruck"),
            ),
            ("Ringstraße", "Landstraße", "Kirchengasse", "Wiener Straße", "Industriezeile"),
            ("GmbH", "AG", "KG", "e.U."),
        ),
        Country(
            "FR",
            "fr",
            "EUR",
            _d("20", "10", "5.5"),
            (
                ("75002", "Paris"),
                ("69002", "Lyon"),
                ("13001", "Marseille"),
                ("31000", "Toulouse"),
                ("59000", "Lille"),
                ("44000", "Nantes"),
                ("67000", "Strasbourg"),
                ("33000", "Bordeaux"),
            ),
            (
                "rue de la Paix",
                "avenue Victor Hugo",
                "boulevard Gambetta",
                "rue des Lilas",
                "chemin des Vignes",
                "place de la Gare",
                "rue Pasteur",
                "allée des Tilleuls",
            ),
            ("SARL", "SAS", "SA", "EURL", "SASU", "SCOP"),
        ),
        Country(
            "BE",
            "fr",
            "EUR",
            _d("21", "6", "12"),
            (("1000", "Bruxelles"), ("4000", "Liège"), ("5000", "Namur"), ("6000", "Charleroi")),
            ("rue Royale", "avenue Louise", "chaussée de Wavre", "rue Neuve"),
            ("SRL", "SA", "SPRL", "SC"),
        ),
        Country(
            "NL",
            "nl",
            "EUR",
            _d("21", "9"),
            (
                ("1012 AB", "Amsterdam"),
                ("3011 AD", "Rotterdam"),
                ("3511 LN", "Utrecht"),
                ("5611 AZ", "Eindhoven"),
                ("9711 LM", "Groningen"),
                ("2511 CV", "Den Haag"),
            ),
            ("Kerkstraat", "Industrieweg", "Stationsplein", "Dorpsstraat", "Havenkade", "Molenweg"),
            ("B.V.", "N.V.", "V.O.F."),
        ),
        Country(
            "ES",
            "es",
            "EUR",
            _d("21", "10", "4"),
            (
                ("28013", "Madrid"),
                ("08002", "Barcelona"),
                ("46001", "Valencia"),
                ("41001", "Sevilla"),
                ("48001", "Bilbao"),
                ("29001", "Málaga"),
            ),
            (
                "Calle Mayor",
                "Avenida de la Constitución",
                "Calle del Sol",
                "Paseo de Gracia",
                "Polígono Industrial Norte",
                "Calle Real",
            ),
            ("S.L.", "S.A.", "S.L.U.", "S.Coop."),
        ),
        Country(
            "IT",
            "it",
            "EUR",
            _d("22", "10", "4"),
            (
                ("00184", "Roma"),
                ("20121", "Milano"),
                ("10121", "Torino"),
                ("40121", "Bologna"),
                ("50123", "Firenze"),
                ("80133", "Napoli"),
            ),
            (
                "Via Roma",
                "Via Garibaldi",
                "Corso Italia",
                "Viale Europa",
                "Via dell'Industria",
                "Piazza Dante",
            ),
            ("S.r.l.", "S.p.A.", "S.n.c.", "S.a.s."),
        ),
        Country(
            "GB",
            "en",
            "GBP",
            _d("20", "5"),
            (
                ("EC1A 1BB", "London"),
                ("M1 1AE", "Manchester"),
                ("B1 1BB", "Birmingham"),
                ("LS1 4AP", "Leeds"),
                ("BS1 4DJ", "Bristol"),
                ("EH1 1YZ", "Edinburgh"),
            ),
            ("High Street", "Station Road", "Church Lane", "Mill Road", "Victoria Street", "Park Avenue"),
            ("Ltd", "Limited", "PLC", "LLP"),
        ),
        Country(
            "IE",
            "en",
            "EUR",
            _d("23", "13.5"),
            (("D02 X285", "Dublin"), ("T12 K8AF", "Cork"), ("H91 E2K3", "Galway")),
            ("Main Street", "Harbour Road", "Grafton Street"),
            ("Ltd", "DAC", "Limited"),
        ),
    ]
}

_SURNAMES = {
    "en": (
        "Harper",
        "Whitfield",
        "Bennett",
        "Carlisle",
        "Ashford",
        "Thornton",
        "Pembroke",
        "Holloway",
        "Fairbanks",
        "Redgrave",
        "Lockwood",
        "Marlowe",
        "Kingsley",
        "Stanton",
        "Winslow",
        "Brook",
    ),
    "de": (
        "Müller",
        "Schäfer",
        "Becker",
        "Hoffmann",
        "Krüger",
        "Lehmann",
        "Wagner",
        "Brandt",
        "Vogel",
        "Seidel",
        "Hartmann",
        "Kühn",
        "Baumann",
        "Zimmermann",
        "Fuchs",
        "Lorenz",
    ),
    "fr": (
        "Moreau",
        "Lefèvre",
        "Girard",
        "Bonnet",
        "Dupuis",
        "Lambert",
        "Fontaine",
        "Rousseau",
        "Chevalier",
        "Garnier",
        "Mercier",
        "Blanchard",
        "Perrin",
        "Marchand",
    ),
    "nl": (
        "de Vries",
        "Jansen",
        "Bakker",
        "Visser",
        "Smit",
        "Meijer",
        "de Boer",
        "Mulder",
        "Bos",
        "Vos",
        "Peters",
        "Hendriks",
        "van Dijk",
    ),
    "es": (
        "García",
        "Fernández",
        "López",
        "Martínez",
        "Sánchez",
        "Romero",
        "Navarro",
        "Torres",
        "Domínguez",
        "Vázquez",
        "Ramos",
        "Gil",
        "Serrano",
    ),
    "it": (
        "Rossi",
        "Bianchi",
        "Ferrari",
        "Esposito",
        "Romano",
        "Colombo",
        "Ricci",
        "Marino",
        "Greco",
        "Bruno",
        "Gallo",
        "Conti",
        "Fontana",
        "Moretti",
    ),
}
_TRADES = {
    "en": (
        "Engineering",
        "Supplies",
        "Logistics",
        "Office Solutions",
        "Print",
        "Tools",
        "Electrical",
        "Packaging",
        "Consulting",
        "Facilities",
        "Hardware",
        "Industrial",
        "Catering",
        "Software",
    ),
    "de": (
        "Elektrotechnik",
        "Bürobedarf",
        "Logistik",
        "Maschinenbau",
        "Druckerei",
        "Werkzeuge",
        "Haustechnik",
        "Verpackung",
        "Beratung",
        "Gebäudeservice",
        "Metallbau",
        "Handel",
        "IT-Service",
    ),
    "fr": (
        "Fournitures",
        "Transports",
        "Imprimerie",
        "Outillage",
        "Électricité",
        "Emballages",
        "Conseil",
        "Nettoyage",
        "Informatique",
        "Menuiserie",
        "Distribution",
        "Services",
    ),
    "nl": (
        "Techniek",
        "Logistiek",
        "Kantoorartikelen",
        "Drukkerij",
        "Gereedschap",
        "Installatie",
        "Verpakkingen",
        "Advies",
        "Groothandel",
        "Bouw",
    ),
    "es": (
        "Suministros",
        "Transportes",
        "Imprenta",
        "Herramientas",
        "Instalaciones",
        "Embalajes",
        "Consultoría",
        "Distribuciones",
        "Informática",
        "Limpiezas",
    ),
    "it": (
        "Forniture",
        "Trasporti",
        "Tipografia",
        "Utensileria",
        "Impianti",
        "Imballaggi",
        "Consulenze",
        "Distribuzione",
        "Informatica",
        "Servizi",
    ),
}
_SYLLABLES = (
    "ver",
    "tro",
    "nix",
    "lum",
    "bar",
    "sol",
    "ka",
    "mer",
    "den",
    "fla",
    "or",
    "tec",
    "vo",
    "ra",
    "zen",
    "pol",
    "al",
    "dex",
    "qui",
    "mon",
    "sta",
    "rix",
    "neo",
    "ter",
)

_PRODUCTS = {
    "en": (
        "Hex bolt",
        "Cable tie",
        "Copy paper",
        "Toner cartridge",
        "Safety gloves",
        "LED panel",
        "Office chair",
        "Pallet wrap",
        "Drill bit set",
        "Network switch",
        "Cleaning service",
        "Consulting hours",
        "Maintenance visit",
        "Shipping fee",
        "Software licence",
        "Desk lamp",
        "Steel bracket",
        "Label roll",
        "Coffee beans",
        "Installation work",
        "Training day",
        "Hosting",
    ),
    "de": (
        "Sechskantschraube",
        "Kabelbinder",
        "Kopierpapier",
        "Tonerkartusche",
        "Schutzhandschuhe",
        "LED-Panel",
        "Bürostuhl",
        "Stretchfolie",
        "Bohrer-Set",
        "Netzwerk-Switch",
        "Unterhaltsreinigung",
        "Beratungsstunden",
        "Wartungseinsatz",
        "Frachtkosten",
        "Softwarelizenz",
        "Montagearbeiten",
        "Stahlwinkel",
        "Etikettenrolle",
        "Kaffeebohnen",
        "Schulungstag",
        "Webhosting",
        "Arbeitszeit",
    ),
    "fr": (
        "Vis hexagonale",
        "Collier de serrage",
        "Papier A4",
        "Cartouche de toner",
        "Gants de protection",
        "Dalle LED",
        "Chaise de bureau",
        "Film étirable",
        "Coffret de forets",
        "Commutateur réseau",
        "Prestation de nettoyage",
        "Heures de conseil",
        "Visite de maintenance",
        "Frais de port",
        "Licence logicielle",
        "Main d'œuvre",
        "Équerre acier",
        "Rouleau d'étiquettes",
        "Café en grains",
    ),
    "nl": (
        "Zeskantbout",
        "Kabelbinder",
        "Kopieerpapier",
        "Tonercartridge",
        "Werkhandschoenen",
        "LED-paneel",
        "Bureaustoel",
        "Rekfolie",
        "Borenset",
        "Netwerkswitch",
        "Schoonmaakdienst",
        "Advieswerk",
        "Onderhoudsbezoek",
        "Verzendkosten",
        "Softwarelicentie",
        "Arbeidsuren",
        "Koffiebonen",
    ),
    "es": (
        "Tornillo hexagonal",
        "Brida de nylon",
        "Papel de copia",
        "Cartucho de tóner",
        "Guantes de seguridad",
        "Panel LED",
        "Silla de oficina",
        "Film estirable",
        "Juego de brocas",
        "Switch de red",
        "Servicio de limpieza",
        "Horas de consultoría",
        "Visita de mantenimiento",
        "Portes",
        "Licencia de software",
        "Mano de obra",
        "Escuadra de acero",
        "Café en grano",
    ),
    "it": (
        "Bullone esagonale",
        "Fascetta",
        "Carta per fotocopie",
        "Cartuccia toner",
        "Guanti di protezione",
        "Pannello LED",
        "Sedia da ufficio",
        "Film estensibile",
        "Set di punte",
        "Switch di rete",
        "Servizio di pulizia",
        "Ore di consulenza",
        "Intervento di manutenzione",
        "Spese di trasporto",
        "Licenza software",
        "Manodopera",
        "Staffa in acciaio",
        "Caffè in grani",
    ),
}
_DETAILS = (
    "M8x40",
    "500 ml",
    "A4 80 g",
    "black",
    "size L",
    "4 port",
    "1000 pcs",
    "type B",
    "2 m",
    "blue",
    "12 V",
    "stainless",
    "10 x 10 cm",
    "XL",
    "Pro",
    "v2",
    "24 pack",
    "Ø 6 mm",
    "1 kg",
)
_UNITS = {
    "en": ("pcs", "h", "kg", "m", "box", "ea", "set", "pack"),
    "de": ("Stk.", "Std.", "kg", "m", "Pkt.", "St", "Satz", "VE"),
    "fr": ("pce", "h", "kg", "m", "u.", "lot", "boîte"),
    "nl": ("st.", "uur", "kg", "m", "doos", "set"),
    "es": ("ud.", "h", "kg", "m", "caja", "uds"),
    "it": ("pz", "ore", "kg", "m", "cf.", "nr"),
}
_HOURLY = (
    "Consulting hours",
    "Beratungsstunden",
    "Heures de conseil",
    "Advieswerk",
    "Horas de consultoría",
    "Ore di consulenza",
    "Installation work",
    "Montagearbeiten",
    "Main d'œuvre",
    "Arbeidsuren",
    "Mano de obra",
    "Manodopera",
    "Arbeitszeit",
)


@dataclass
class Party:
    name: str
    street: str
    postal: str
    city: str
    country: str
    tax_id: str | None = None


@dataclass
class Vendor(Party):
    iban: str | None = None
    bic: str = ""
    bank_name: str = ""
    phone: str = ""
    email: str = ""
    web: str = ""
    register: str = ""
    director: str = ""


@dataclass
class Line:
    description: str
    sku: str | None
    quantity: Decimal | None  # None only for e-invoice lines that state none
    unit: str
    unit_price: Decimal | None
    discount: Decimal  # percent off the line, 0 when none
    vat_rate: Decimal
    amount: Decimal | None  # net, after the discount, positive even on credit notes


@dataclass
class Invoice:
    """One document's business content; amounts are positive, the doc type gives the sign."""

    doc_type: str  # invoice | credit_note
    language: str
    vendor: Vendor
    buyer: Party
    number: str
    issued: date
    due: date | None
    terms_days: int
    po_number: str | None
    customer_no: str
    currency: str | None
    lines: list[Line]
    tax_by_rate: dict[Decimal, tuple[Decimal, Decimal]] = field(default_factory=dict)  # rate: (net, tax)
    subtotal: Decimal | None = Decimal("0.00")
    tax: Decimal | None = Decimal("0.00")
    total: Decimal | None = Decimal("0.00")
    delivery_date: date | None = None
    refers_to: tuple[str, date] | None = None  # (invoice number, date) a credit note corrects
    reverse_charge: bool = False
    # False when the VAT rates are unknown (an e-invoice read for its totals): one VAT row, no rate column.
    print_rates: bool = True
    # Document-level allowances (-) and charges (+) between the lines' sum and the subtotal.
    adjustment: Decimal = Decimal(0)

    def compute_totals(self) -> None:
        """Subtotal = sum of line amounts; tax per rate rounded half up; total = subtotal + tax."""
        by_rate: dict[Decimal, Decimal] = {}
        for line in self.lines:
            assert line.amount is not None
            by_rate[line.vat_rate] = by_rate.get(line.vat_rate, Decimal("0.00")) + line.amount
        self.tax_by_rate = {
            rate: (net, money(net * rate / 100)) for rate, net in sorted(by_rate.items(), reverse=True)
        }
        self.subtotal = sum((line.amount or Decimal(0) for line in self.lines), Decimal("0.00"))
        self.tax = sum((tax for _, tax in self.tax_by_rate.values()), Decimal("0.00"))
        self.total = self.subtotal + self.tax


def _digits(rng: random.Random, k: int) -> str:
    return "".join(rng.choices(string.digits, k=k))


def vat_id(rng: random.Random, country: str) -> str:
    """A VAT id that passes the country's own check (python-stdnum), as real ones do."""
    makers = {
        "DE": lambda: "DE" + str(rng.randint(1, 9)) + _digits(rng, 8),
        "AT": lambda: "ATU" + _digits(rng, 8),
        "FR": lambda: "FR" + _digits(rng, 2) + str(rng.randint(1, 9)) + _digits(rng, 8),
        "BE": lambda: "BE0" + str(rng.randint(2, 9)) + _digits(rng, 8),
        "NL": lambda: "NL" + _digits(rng, 9) + "B0" + str(rng.randint(1, 9)),
        "ES": lambda: "ES" + rng.choice("ABCDEFGHJ") + _digits(rng, 7) + rng.choice(string.digits),
        "IT": lambda: "IT" + _digits(rng, 7) + f"{rng.randint(1, 100):03d}" + _digits(rng, 1),
        "GB": lambda: "GB" + _digits(rng, 9),
        "IE": lambda: "IE" + _digits(rng, 7) + rng.choice("ABCDEFGHW"),
    }
    for _ in range(400):
        candidate = makers[country]()
        if eu_vat.is_valid(candidate):
            return eu_vat.compact(candidate)
    return candidate  # a checksum this sampler cannot hit: the format alone is right


_IBAN_REGISTRY = numdb.get("iban")


def make_iban(rng: random.Random, country: str) -> str:
    """A random IBAN with the country's BBAN structure and valid check digits."""
    structure = _IBAN_REGISTRY.info(country)[0][1]["bban"]
    for _ in range(200):
        bban = ""
        for count, kind in re.findall(r"(\d+)!([nac])", structure):
            alphabet = {
                "n": string.digits,
                "a": string.ascii_uppercase,
                "c": string.ascii_uppercase + string.digits,
            }[kind]
            bban += "".join(rng.choices(alphabet, k=int(count)))
        candidate = country + iban_check_digits(country, bban) + bban
        if stdnum_iban.is_valid(candidate):
            return candidate
    return candidate


def _domain(name: str, forms: tuple[str, ...] = ()) -> str:
    """A web domain from a company name, shaped as companies shape theirs: the first word
    ("becker.example"), the whole name run together ("beckerzimmermann.example") or hyphenated
    ("becker-zimmermann.example"), without the legal form. The shape follows from the name
    (a checksum, not the random stream), so every other draw of a corpus stays as it was."""
    base = next(
        (name[: -len(f) - 1] for f in sorted(forms, key=len, reverse=True) if name.endswith(" " + f)), name
    )
    words = [_ascii_word(w) for w in base.split()]
    words = [w for w in words if w] or ["shop"]
    shape = zlib.crc32(name.encode()) % 10
    if shape < 4 or len(words) == 1:
        return f"{words[0]}.example"
    return ("" if shape < 7 else "-").join(words) + ".example"


def _ascii_word(word: str) -> str:
    folded = unicodedata.normalize("NFKD", word.lower()).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded if ch.isalnum())


def _company_name(rng: random.Random, country: Country) -> str:
    language = country.language
    surnames, trades = _SURNAMES[language], _TRADES[language]
    form = rng.choice(country.forms)
    pattern = rng.randrange(6)
    if pattern == 0:
        base = f"{rng.choice(surnames)} {rng.choice(trades)}"
    elif pattern == 1:
        a, b = rng.sample(surnames, 2)
        base = f"{a} & {b}"
    elif pattern == 2:
        base = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()
        base += rng.choice(["", f" {rng.choice(trades)}"])
    elif pattern == 3:
        base = "".join(rng.choices(string.ascii_uppercase, k=rng.randint(2, 4))) + f" {rng.choice(trades)}"
    elif pattern == 4:
        base = f"{rng.choice(trades)} {rng.choice(surnames)}"
    else:
        invented = "".join(rng.choice(_SYLLABLES) for _ in range(2)).capitalize()
        base = f"{invented} {rng.choice(trades)}"
    return f"{base} {form}"


def _party(rng: random.Random, country: Country) -> tuple[str, str, str, str]:
    postal, city = rng.choice(country.cities)
    number = str(rng.randint(1, 180)) + rng.choice(["", "", "", "a", "b"])
    street = rng.choice(country.streets)
    if country.code in ("FR", "BE", "GB", "IE", "IT"):
        street_line = f"{number} {street}" if country.code in ("FR", "GB", "IE") else f"{street} {number}"
    elif country.code == "ES":
        street_line = f"{street}, {number}"
    else:
        street_line = f"{street} {number}"
    return _company_name(rng, country), street_line, postal, city


def _number_pattern(rng: random.Random, issued: date, credit: bool) -> str:
    """An invoice number in one of many shapes, as invoicing programs print them."""
    n = rng.randint(1, 10 ** rng.randint(3, 7) - 1)
    width = rng.choice([0, 4, 5, 6, 8])
    core = f"{n:0{width}d}" if width else str(n)
    prefix = rng.choice(
        [
            "",
            "",
            "INV",
            "RE",
            "R",
            "F",
            "FA",
            "FAC",
            "FV",
            "2" + str(issued.year)[-1],
            "".join(rng.choices(string.ascii_uppercase, k=rng.randint(1, 3))),
        ]
    )
    if credit:
        prefix = rng.choice(["CN", "GS", "AV", "CR", "NC", "G", prefix or "C"])
    sep = rng.choice(["-", "/", "", ".", " ", "_"]) if prefix else ""
    year = rng.choice(["", "", str(issued.year), f"{issued.year % 100:02d}"])
    ysep = rng.choice(["-", "/", ""])
    if year and rng.random() < 0.5:
        number = f"{prefix}{sep}{year}{ysep}{core}"
    elif year:
        number = f"{prefix}{sep}{core}{ysep or '/'}{year}"
    else:
        number = f"{prefix}{sep}{core}"
    return number.strip()


def _po_number(rng: random.Random) -> str:
    shape = rng.randrange(6)
    if shape == 0:
        return f"PO-{rng.randint(10000, 99999)}"
    if shape == 1:
        return f"45{_digits(rng, 8)}"  # ERP purchasing documents are often plain 10-digit numbers
    if shape == 2:
        prefix = rng.choice(["BE", "BST", "ORD", "BC", "PED", "ODA"])
        return f"{prefix}-{rng.randint(2020, 2026)}-{rng.randint(1, 9999):04d}"
    if shape == 3:
        return f"{rng.randint(100000, 999999)}"
    if shape == 4:
        return f"PO{rng.randint(1000, 99999)}"
    return f"{''.join(rng.choices(string.ascii_uppercase, k=2))}/{rng.randint(100, 9999)}"


def _description(rng: random.Random, language: str) -> str:
    product = rng.choice(_PRODUCTS[language])
    roll = rng.random()
    if roll < 0.35:
        return product
    if roll < 0.8:
        return f"{product} {rng.choice(_DETAILS)}"
    # Long descriptions wrap over several printed lines in narrow columns.
    extra = ", ".join(rng.sample(_DETAILS, k=rng.randint(2, 4)))
    return f"{product} {rng.choice(_DETAILS)} - {extra}"


def _price(rng: random.Random, quantity: Decimal) -> Decimal:
    # Bulk quantities come at small unit prices, single items may be expensive.
    if quantity >= 50:
        magnitude = rng.choice([1, 1, 10])
    elif quantity >= 10:
        magnitude = rng.choice([1, 10, 10, 100])
    else:
        magnitude = rng.choice([1, 10, 10, 100, 100, 1000])
    cents = rng.randint(magnitude * 10, magnitude * 150)
    cents = rng.choice([cents, cents - cents % 100, cents - cents % 5, cents - cents % 10 + 9])
    return (Decimal(max(cents, 5)) / 100).quantize(Decimal("0.01"))


def _quantity(rng: random.Random, hourly: bool) -> Decimal:
    if hourly:
        return Decimal(rng.choice(["0.5", "1", "1.5", "2", "2.5", "3.25", "4", "7.5", "8", "12", "16"]))
    roll = rng.random()
    if roll < 0.75:
        return Decimal(rng.choice([1, 1, 1, 2, 2, 3, 4, 5, 6, 10, 12, 20, 24, 25, 50, 100, 250, 1000]))
    if roll < 0.9:
        return Decimal(rng.randint(1, 400))
    return (Decimal(rng.randint(1, 9999)) / 100).normalize()


@dataclass(frozen=True)
class ContentOptions:
    """How wide the content distributions are for one draw."""

    credit_rate: float = 0.12
    # Share of documents with a long order (``long_lines`` lines) that runs over two or more pages.
    long_share: float = 0.1
    long_lines: tuple[int, int] = (14, 45)
    min_date: date = date(2023, 1, 1)
    max_date: date = date(2026, 11, 20)


def draw_invoice(rng: random.Random, options: ContentOptions = ContentOptions()) -> Invoice:
    """One invoice or credit note with consistent amounts."""
    country = COUNTRIES[
        rng.choice(["DE", "DE", "DE", "AT", "FR", "FR", "BE", "NL", "NL", "ES", "ES", "IT", "IT", "GB", "IE"])
    ]
    # Most vendors write in their country's language; some export in English.
    language = country.language if rng.random() < 0.8 else rng.choice(["en", "en", "de", "fr"])
    name, street, postal, city = _party(rng, country)
    domain = _domain(name, country.forms)
    vendor = Vendor(
        name=name,
        street=street,
        postal=postal,
        city=city,
        country=country.code,
        tax_id=vat_id(rng, country.code),
        iban=make_iban(rng, country.code),
        bic="".join(rng.choices(string.ascii_uppercase, k=4))
        + country.code
        + "".join(rng.choices(string.ascii_uppercase + string.digits, k=2))
        + rng.choice(["", "XXX"]),
        bank_name=rng.choice(
            [
                "Sparkasse",
                "Volksbank",
                "Crédit Agricole",
                "BNP Paribas",
                "ING",
                "Rabobank",
                "Banco Santander",
                "Intesa Sanpaolo",
                "Barclays",
                "Bank of Ireland",
                "Commerzbank",
                "Société Générale",
                "ABN AMRO",
                "UniCredit",
                "BBVA",
                "Erste Bank",
            ]
        ),
        phone=f"+{rng.randint(30, 49)} {rng.randint(10, 999)} {rng.randint(100000, 9999999)}",
        email=f"{rng.choice(['info', 'billing', 'invoices', 'accounts', 'office'])}@{domain}",
        web=f"www.{domain}",
        register=f"{rng.choice(['HRB', 'HRA', 'RCS', 'KvK', 'REA', 'No.'])} {rng.randint(10000, 999999)}",
        director=f"{rng.choice(_SURNAMES[language])}",
    )
    buyer_country = COUNTRIES[rng.choice(list(COUNTRIES))]
    bname, bstreet, bpostal, bcity = _party(rng, buyer_country)
    buyer = Party(bname, bstreet, bpostal, bcity, buyer_country.code, vat_id(rng, buyer_country.code))
    credit = rng.random() < options.credit_rate
    span = (options.max_date - options.min_date).days
    issued = options.min_date + timedelta(days=rng.randint(0, span))
    terms = rng.choice([0, 7, 10, 14, 14, 30, 30, 30, 45, 60, 90])
    currency = country.currency if rng.random() < 0.85 else rng.choice(["EUR", "USD", "GBP", "CHF"])
    n_lines = (
        rng.choice([1, 1, 2, 2, 3, 3, 4, 5, 6, 7, 8, 10, 12])
        if rng.random() < 1.0 - options.long_share
        else rng.randint(*options.long_lines)
    )
    several_rates = rng.random() < 0.25 and len(country.rates) > 1
    reverse_charge = not several_rates and rng.random() < 0.05
    discounts = rng.random() < 0.2
    lines: list[Line] = []
    for _ in range(n_lines):
        description = _description(rng, language)
        hourly = description.split(" ")[0] in {h.split(" ")[0] for h in _HOURLY}
        quantity = _quantity(rng, hourly)
        price = _price(rng, quantity)
        discount = Decimal(rng.choice([0, 0, 2, 3, 5, 10, 15, 20, 25])) if discounts else Decimal(0)
        rate = (
            Decimal(0)
            if reverse_charge
            else (rng.choice(country.rates) if several_rates else country.rates[0])
        )
        amount = money(quantity * price * (100 - discount) / 100)
        sku = (
            rng.choice(["", "A", "ART-", "X", "P", "10-", "SKU"]) + _digits(rng, rng.randint(4, 8))
            if rng.random() < 0.9
            else "".join(rng.choices(string.ascii_uppercase, k=3)) + "-" + _digits(rng, 3)
        )
        lines.append(
            Line(description, sku, quantity, rng.choice(_UNITS[language]), price, discount, rate, amount)
        )
    invoice = Invoice(
        doc_type="credit_note" if credit else "invoice",
        language=language,
        vendor=vendor,
        buyer=buyer,
        number=_number_pattern(rng, issued, credit),
        issued=issued,
        due=None if credit else issued + timedelta(days=terms),
        terms_days=terms,
        po_number=_po_number(rng),
        customer_no=str(rng.randint(1000, 9999999)) if rng.random() < 0.8 else f"K{rng.randint(100, 99999)}",
        currency=currency,
        lines=lines,
        delivery_date=issued - timedelta(days=rng.randint(0, 20)),
        reverse_charge=reverse_charge,
    )
    if credit:
        invoice.refers_to = (
            _number_pattern(rng, issued, False),
            issued - timedelta(days=rng.randint(3, 60)),
        )
    invoice.compute_totals()
    return invoice
