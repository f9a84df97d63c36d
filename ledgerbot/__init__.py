"""ledgerbot: accounts-payable automation from invoice arrival to posting."""

__version__ = "0.1.0"
