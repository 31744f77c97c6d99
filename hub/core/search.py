"""Search values and criteria shared by the FHIR layer (which parses and extracts) and storage (which indexes
and compiles SQL).

FHIR R4 search: https://hl7.org/fhir/R4/search.html.  Index rows are keyed by
:func:`param_hash` of (resource type, parameter code), as in HAPI and the
Microsoft FHIR server, so one typed table serves every parameter of that type.

Dates are stored as closed ranges of microseconds since the Unix epoch (UTC):
a partial date such as ``2024-03`` covers ``[2024-03-01T00:00:00, 2024-03-31T23:59:59.999999]``.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from decimal import Decimal


class SearchParamType(enum.Enum):
    """http://hl7.org/fhir/search-param-type"""

    NUMBER = "number"
    DATE = "date"
    STRING = "string"
    TOKEN = "token"
    REFERENCE = "reference"
    COMPOSITE = "composite"
    QUANTITY = "quantity"
    URI = "uri"
    SPECIAL = "special"


class Prefix(enum.Enum):
    """Comparison prefixes for ordered parameter types (number, date, quantity)."""

    EQ = "eq"
    NE = "ne"
    GT = "gt"
    LT = "lt"
    GE = "ge"
    LE = "le"
    SA = "sa"
    EB = "eb"
    AP = "ap"


class Modifier(enum.Enum):
    """Search modifiers telehub supports."""

    NONE = ""
    EXACT = "exact"
    CONTAINS = "contains"
    NOT = "not"
    TEXT = "text"
    MISSING = "missing"
    IDENTIFIER = "identifier"
    BELOW = "below"
    ABOVE = "above"
    TYPE = "type"  # reference modifier :[Type], target type held in the criterion


def param_hash(resource_type: str, code: str) -> int:
    """Stable signed 64-bit key of (resource type, parameter code) used in every index table."""
    digest = hashlib.blake2b(f"{resource_type}|{code}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


# ---------------------------------------------------------------- index values (written at create/update)


@dataclass(frozen=True, slots=True)
class TokenIndex:
    system: str | None
    code: str | None
    # normalised display/text for the :text modifier (casefolded, accents stripped)
    text: str | None = None


@dataclass(frozen=True, slots=True)
class StringIndex:
    normalized: str  # casefolded, accents stripped, whitespace collapsed
    exact: str


@dataclass(frozen=True, slots=True)
class DateIndex:
    start: int  # microseconds since epoch UTC, inclusive
    end: int  # inclusive


@dataclass(frozen=True, slots=True)
class NumberIndex:
    low: Decimal
    high: Decimal
    value: Decimal


@dataclass(frozen=True, slots=True)
class QuantityIndex:
    value: Decimal
    low: Decimal  # implicit precision range
    high: Decimal
    system: str | None
    code: str | None
    unit: str | None


@dataclass(frozen=True, slots=True)
class ReferenceIndex:
    target_type: str | None
    target_id: str | None
    url: str | None  # absolute / canonical reference when not a local Type/id
    identifier_system: str | None = None  # Reference.identifier, for :identifier
    identifier_value: str | None = None


@dataclass(frozen=True, slots=True)
class UriIndex:
    uri: str


IndexValue = TokenIndex | StringIndex | DateIndex | NumberIndex | QuantityIndex | ReferenceIndex | UriIndex


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One search-index row for a resource version: which parameter, and its typed value."""

    param_hash: int
    param_type: SearchParamType
    value: IndexValue


# ---------------------------------------------------------------- criteria (parsed from a search request)


@dataclass(frozen=True, slots=True)
class TokenQuery:
    system: str | None  # None: any system; "" : no system ("|code")
    code: str | None  # None with a system: any code in that system ("system|")
    text: str | None = None  # for :text


@dataclass(frozen=True, slots=True)
class StringQuery:
    value: str  # normalised for default/contains, original for exact


@dataclass(frozen=True, slots=True)
class DateQuery:
    prefix: Prefix
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class NumberQuery:
    prefix: Prefix
    value: Decimal
    low: Decimal
    high: Decimal


@dataclass(frozen=True, slots=True)
class QuantityQuery:
    prefix: Prefix
    value: Decimal
    low: Decimal
    high: Decimal
    system: str | None
    code: str | None


@dataclass(frozen=True, slots=True)
class ReferenceQuery:
    target_type: str | None
    target_id: str | None
    url: str | None = None
    identifier_system: str | None = None  # for :identifier
    identifier_value: str | None = None


@dataclass(frozen=True, slots=True)
class UriQuery:
    uri: str


@dataclass(frozen=True, slots=True)
class MissingQuery:
    missing: bool


QueryValue = (
    TokenQuery
    | StringQuery
    | DateQuery
    | NumberQuery
    | QuantityQuery
    | ReferenceQuery
    | UriQuery
    | MissingQuery
)


@dataclass(frozen=True, slots=True)
class Criterion:
    """One ``name[:modifier]=v1,v2`` parameter: values are OR-ed; repeated parameters are AND-ed.

    A chained parameter (``subject:Patient.identifier=…``) has ``chain`` set: the
    reference parameter selects targets of ``chain.resource_type`` matching ``chain``.
    """

    resource_type: str
    code: str
    param_type: SearchParamType
    modifier: Modifier
    values: tuple[QueryValue, ...]
    chain: Criterion | None = None

    @property
    def hash(self) -> int:
        return param_hash(self.resource_type, self.code)


@dataclass(frozen=True, slots=True)
class SortKey:
    code: str
    param_type: SearchParamType
    descending: bool
    resource_type: str

    @property
    def hash(self) -> int:
        return param_hash(self.resource_type, self.code)
