"""HL7 v2 data types CX, XCN, XON (ITI TF-3 4.2.3.1.7)."""

from __future__ import annotations

import pytest

from xds.hl7v2 import CX, HD, XCN, XON, Hl7FormatError


def test_cx_danish_patient_id_round_trips() -> None:
    cx = CX.parse("2512489996^^^&1.2.208.176.1.2&ISO")
    assert (cx.id, cx.assigning_authority, cx.authority_type) == ("2512489996", "1.2.208.176.1.2", "ISO")
    assert cx.is_xds_patient_id
    assert cx.format() == "2512489996^^^&1.2.208.176.1.2&ISO"
    assert str(cx) == cx.format()


def test_cx_keeps_other_components_and_reports_non_xds_form() -> None:
    raw = "pid1^^^&1.2.3&ISO^PI^fac"
    cx = CX.parse(raw)
    assert cx.other == ((4, "PI"), (5, "fac"))
    assert not cx.is_xds_patient_id
    assert cx.format() == raw


def test_cx_without_iso_type_is_not_xds_form() -> None:
    assert not CX.parse("x^^^ns&1.2.3&DNS").is_xds_patient_id


@pytest.mark.parametrize("bad", ["", "^^^&1.2.3&ISO", "123", "123^^^", "123^^^&&ISO", "1^^^a&b&c&d"])
def test_cx_rejects_missing_parts(bad: str) -> None:
    with pytest.raises(Hl7FormatError):
        CX.parse(bad)


def test_hd_plain_namespace() -> None:
    assert HD.parse("NS").format() == "NS"
    assert HD.parse("&1.2&ISO") == HD("", "1.2", "ISO")


def test_xcn_danish_person_with_middle_names() -> None:
    xcn = XCN.parse("^Andersen^Anders^Frederik&Ingolf^^^^^^^&ISO")
    assert (xcn.family, xcn.given, xcn.further_given) == ("Andersen", "Anders", "Frederik&Ingolf")
    built = XCN(family="Andersen", given="Anders", further_given="Frederik&Ingolf").format()
    assert built == "^Andersen^Anders^Frederik&Ingolf"
    assert XCN.parse(built) == XCN(family="Andersen", given="Anders", further_given="Frederik&Ingolf")


def test_xcn_with_id_and_authority() -> None:
    xcn = XCN(id="123", family="Hansen", assigning_authority="1.2.208.176.1.3")
    assert xcn.format() == "123^Hansen^^^^^^^&1.2.208.176.1.3&ISO"
    assert XCN.parse(xcn.format()).assigning_authority == "1.2.208.176.1.3"


def test_xcn_needs_id_or_family() -> None:
    with pytest.raises(Hl7FormatError):
        XCN.parse("^^Anders")


def test_xon_sor_institution() -> None:
    raw = "Odense Universitetshospital^^^^^&1.2.208.176.1.1&ISO^^^^8071000016009"
    xon = XON.parse(raw)
    assert (xon.name, xon.assigning_authority, xon.identifier) == (
        "Odense Universitetshospital",
        "1.2.208.176.1.1",
        "8071000016009",
    )
    assert xon.format() == raw
    assert XON("Plain Clinic").format() == "Plain Clinic"


def test_xon_needs_name() -> None:
    with pytest.raises(Hl7FormatError):
        XON.parse("^^^^^&1.2&ISO")
