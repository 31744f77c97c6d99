"""Syntax check of UCUM unit expressions (The Unified Code for Units of Measure, §§ 1-9, case-sensitive form).

Grammar (UCUM specification, "The Grammar of Units and Unit Terms")::

    main-term  ::= "/" term | term
    term       ::= component (("." | "/") component)*
    component  ::= annotatable [annotation] | annotation | factor | "(" term ")"
    annotatable::= simple-unit [exponent]          exponent ::= ["+" | "-"] digits
    simple-unit::= [prefix] atom                   annotation ::= "{" printable-but-braces "}"

Atoms are checked against a table of the atoms home-monitoring devices actually send (base units, SI
derived units, clinical and customary units); an atom outside the table is *unknown*, which callers
report as a warning only, because the full UCUM atom table (~300 atoms) is not bundled.
"""

from __future__ import annotations

import enum
import functools

_PREFIXES = (
    "da",
    "Y",
    "Z",
    "E",
    "P",
    "T",
    "G",
    "M",
    "k",
    "h",
    "d",
    "c",
    "m",
    "u",
    "n",
    "p",
    "f",
    "a",
    "z",
    "y",
)

_ATOM_TABLE = """
m s g rad K C cd
10* 10^ [pi] % [ppth] [ppm] [ppb] mol sr Hz N Pa J W A V F Ohm S Wb Cel T H lm lx Bq Gy Sv kat U
[iU] [IU] eq osm [pH] g% bit By Bd B dB Np b st
min h d a wk mo a_j mo_j l L ar t bar u eV deg ' ''
mm[Hg] cm[H2O] m[H2O] m[Hg] [in_i] [ft_i] [yd_i] [lb_av] [oz_av] [degF] [drp] [mesh_i] [HPF] [LPF]
[CFU] [APL'U] [beth'U] atm att [psi] cal [Cal] kcal [mi_i] [gal_us] [qt_us] [pt_us] [foz_us] [cup_us]
"""
# lines: base units; dimensionless and SI derived; more derived; time/volume/angle; clinical and customary
_ATOMS = frozenset(_ATOM_TABLE.split())

_SIGNS = "+-"


class UcumProblem(enum.Enum):
    """Why a unit string is not acceptable UCUM."""

    SYNTAX = "syntax"
    UNKNOWN_ATOM = "unknown-atom"


class _SyntaxError(Exception):
    """Internal: raised by the recursive-descent parser, turned into UcumProblem.SYNTAX."""


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.atoms: list[str] = []

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def main_term(self) -> None:
        if self.peek() == "/":
            self.pos += 1
        self.term()
        if self.pos != len(self.text):
            raise _SyntaxError(f"unexpected {self.peek()!r} at {self.pos}")

    def term(self) -> None:
        self.component()
        while self.peek() and self.peek() in "./":
            self.pos += 1
            self.component()

    def component(self) -> None:
        char = self.peek()
        if char == "(":
            self.pos += 1
            self.term()
            if self.peek() != ")":
                raise _SyntaxError("unbalanced parenthesis")
            self.pos += 1
        elif char == "{":
            self.annotation()
        elif char.isdigit() and not self.text.startswith(("10*", "10^"), self.pos):
            while self.peek().isdigit():
                self.pos += 1
        elif char:
            self.simple_unit()
            if self.peek() and (self.peek() in _SIGNS or self.peek().isdigit()):
                self.exponent()
            if self.peek() == "{":
                self.annotation()
        else:
            raise _SyntaxError("missing component")

    def annotation(self) -> None:
        end = self.text.find("}", self.pos)
        body = self.text[self.pos + 1 : end] if end >= 0 else ""
        if end < 0 or "{" in body or not all(" " <= c <= "~" for c in body):
            raise _SyntaxError("bad annotation")
        self.pos = end + 1

    def exponent(self) -> None:
        if self.peek() and self.peek() in _SIGNS:
            self.pos += 1
        if not self.peek().isdigit():
            raise _SyntaxError("sign without exponent digits")
        while self.peek().isdigit():
            self.pos += 1

    def simple_unit(self) -> None:
        start = self.pos
        if self.text.startswith(("10*", "10^"), self.pos):
            self.pos += 3
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "[":
                end = self.text.find("]", self.pos)
                if end < 0 or " " in self.text[self.pos : end]:
                    raise _SyntaxError("unbalanced square bracket")
                self.pos = end + 1
            elif char.isdigit() or char in "+-./(){}]" or not ("!" <= char <= "~"):
                break
            else:
                self.pos += 1
        if self.pos == start:
            raise _SyntaxError(f"unit atom expected at {start}")
        self.atoms.append(self.text[start : self.pos])


def _known(symbol: str) -> bool:
    if symbol in _ATOMS:
        return True
    return any(symbol.startswith(prefix) and symbol[len(prefix) :] in _ATOMS for prefix in _PREFIXES)


@functools.lru_cache(maxsize=4096)
def check_ucum(unit: str) -> UcumProblem | None:
    """``None`` when ``unit`` is a well-formed UCUM expression made of known atoms, otherwise the problem."""
    if not unit or unit != unit.strip() or " " in unit or not unit.isascii():
        return UcumProblem.SYNTAX
    parser = _Parser(unit)
    try:
        parser.main_term()
    except _SyntaxError:
        return UcumProblem.SYNTAX
    if unit == "1" or all(_known(atom) for atom in parser.atoms):
        return None
    return UcumProblem.UNKNOWN_ATOM


__all__ = ["UcumProblem", "check_ucum"]
