"""Money: a show's currency (ISO 4217) and prices in its minor units (cents for EUR, yen for JPY).

A fixed allow-list rather than any three capital letters: each code here has known minor units (the
notifier formats totals with them; they agree with CLDR's, which the web client's Intl.NumberFormat uses),
and a typo such as "EUD" is refused at the door instead of printing an unknown currency on a ticket.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

Currency = Literal[
    "EUR", "USD", "GBP", "CHF", "JPY", "CAD", "AUD", "NZD", "SEK", "NOK", "DKK", "ISK", "PLN", "CZK", "HUF",
    "RON", "BGN", "TRY", "ILS", "AED", "SAR", "INR", "CNY", "HKD", "SGD", "KRW", "THB", "MYR", "PHP", "IDR",
    "MXN", "BRL", "CLP", "COP", "ZAR", "UAH", "BHD", "KWD", "JOD", "OMR", "TND",
]  # fmt: skip
DEFAULT_CURRENCY: Final = "EUR"

# Digits after the decimal point (ISO 4217); every code not listed has 2.
_MINOR_UNITS: Final = {"JPY": 0, "ISK": 0, "KRW": 0, "CLP": 0, "BHD": 3, "KWD": 3, "JOD": 3, "OMR": 3, "TND": 3}
CURRENCIES: Final = frozenset(get_args(Currency))


def minor_units(currency: str) -> int:
    return _MINOR_UNITS.get(currency, 2)


def format_money(amount: int, currency: str) -> str:
    """`amount` minor units as people read it, code first: "EUR 12.50", "JPY 1,200", "BHD 1.250"."""
    digits = minor_units(currency)
    major, minor = divmod(abs(amount), 10**digits)
    sign = "-" if amount < 0 else ""
    return f"{currency} {sign}{major:,}" + (f".{minor:0{digits}d}" if digits else "")
