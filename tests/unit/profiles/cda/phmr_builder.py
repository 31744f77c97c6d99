"""A generator of PHMR-DK 1.3 documents for tests and benchmarks, written from the PHMR-DK facts (not a copy).

``build_phmr(n)`` gives a valid document with ``n`` measurements cycling through weight, blood pressure,
pulse and O2 saturation, some with red/yellow thresholds, inside one service period; tests parse it,
break one thing with lxml and serialise it again (:func:`mutate`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from lxml import etree

NS = {"h": "urn:hl7-org:v3", "xsi": "http://www.w3.org/2001/XMLSchema-instance"}

KINDS = (
    ("NPU03804", "Legeme masse;Pt", "kg", "{:.1f}", 70.0, 0.3, None),
    ("DNK05472", "Blodtryk systolisk;Arm", "mm[Hg]", "{:.0f}", 120.0, 1.0, ("90", "160")),
    ("DNK05473", "Blodtryk diastolisk;Arm", "mm[Hg]", "{:.0f}", 80.0, 1.0, None),
    ("NPU21692", "Puls;Hjerte", "/min", "{:.0f}", 60.0, 1.0, None),
    ("NPU03011", "O2 sat.;Hb(aB)", "%", "{:.0f}", 96.0, 0.1, ("92", None)),
)
VITAL = {"DNK05472", "DNK05473", "NPU21692", "NPU03011"}
TZ = timezone(timedelta(hours=2))
START = datetime(2024, 3, 1, 8, 0, 0, tzinfo=TZ)


def ts(moment: datetime) -> str:
    return moment.strftime("%Y%m%d%H%M%S%z")


def _threshold(code: str, low: str | None, high: str | None, unit: str) -> str:
    low_xml = f'<low value="{low}" unit="{unit}" inclusive="true"/>' if low else '<low nullFlavor="NA"/>'
    high_xml = f'<high value="{high}" unit="{unit}" inclusive="true"/>' if high else '<high nullFlavor="NA"/>'
    display = "RØD" if code == "RAL" else "GUL"
    return f"""
            <referenceRange>
              <observationRange classCode="OBS" moodCode="EVN.CRT">
                <templateId root="1.2.208.184.11.1.2"/>
                <code code="{code}" codeSystem="1.2.208.184.100.1"
                    displayName="Terapeutiske grænseværdier for {display} alarm"/>
                <value xsi:type="IVL_PQ">{low_xml}{high_xml}</value>
              </observationRange>
            </referenceRange>"""


def _measurement(index: int) -> tuple[str, str]:
    code, display, unit, fmt, base, step, red = KINDS[index % len(KINDS)]
    moment = START + timedelta(minutes=7 * index)
    value = fmt.format(base + step * (index % 7))
    ranges = ""
    if red is not None:
        ranges = _threshold("RAL", red[0], red[1], unit) + _threshold("GAL", red[0], red[1], unit)
    entry = f"""
      <entry typeCode="COMP" contextConductionInd="true">
        <organizer classCode="CLUSTER" moodCode="EVN">
          <templateId root="2.16.840.1.113883.10.20.1.35"/>
          <statusCode code="completed"/>
          <effectiveTime value="{ts(moment)}"/>
          <component typeCode="COMP" contextConductionInd="true">
            <observation classCode="OBS" moodCode="EVN">
              <templateId root="2.16.840.1.113883.10.20.1.31"/>
              <templateId root="2.16.840.1.113883.10.20.9.8"/>
              <id root="1.2.208.184" extension="obs-{index:04d}-5c1e" assigningAuthorityName="MedCom"/>
              <code nullFlavor="NI" codeSystem="2.16.840.1.113883.6.96" codeSystemName="SNOMED CT">
                <translation code="{code}" codeSystem="1.2.208.176.2.1" displayName="{display}"
                    codeSystemName="NPU terminologien"/>
              </code>
              <statusCode code="completed"/>
              <value xsi:type="PQ" value="{value}" unit="{unit}"/>
              <methodCode code="POT" codeSystem="1.2.208.184.100.1" displayName="Målt af borger"
                  codeSystemName="MedCom Message Codes"/>
              <methodCode code="AUT" codeSystem="1.2.208.184.100.1"
                  displayName="Måling overført automatisk" codeSystemName="MedCom Message Codes"/>{ranges}
            </observation>
          </component>
        </organizer>
      </entry>"""
    return code, entry


def _section(ccd_template: str, phmr_template: str, code: str, title: str, body: str) -> str:
    return f"""      <component typeCode="COMP" contextConductionInd="true">
        <section classCode="DOCSECT" moodCode="EVN">
          <templateId root="{ccd_template}"/>
          <templateId root="{phmr_template}"/>
          <templateId root="1.2.208.184.11.1"/>
          <code code="{code}" codeSystem="2.16.840.1.113883.6.1"/>
          <title>{title}</title>
          {body}
        </section>
      </component>"""


def build_phmr(measurements: int = 20, *, document_id: str = "5a0c1f3e-9d2b-4c77-8e61-2f4b9a7d0c11") -> bytes:
    """A PHMR-DK 1.3 document with ``measurements`` measurements that passes every DK PHMR rule."""
    vital: list[str] = []
    results: list[str] = []
    codes: list[str] = []
    for index in range(measurements):
        code, entry = _measurement(index)
        (vital if code in VITAL else results).append(entry)
        if code not in codes:
            codes.append(code)
    stop = START + timedelta(minutes=7 * max(measurements - 1, 0))
    event_codes = "".join(
        f"""
  <documentationOf typeCode="DOC">
    <serviceEvent classCode="MPROT" moodCode="EVN">
      <code code="{code}" codeSystem="1.2.208.176.2.1"/>
    </serviceEvent>
  </documentationOf>"""
        for code in codes
    )
    vital_text = "<text>Vital Signs</text>" if vital else "<text>No Vital Signs</text>"
    results_text = "<text>Results</text>" if results else "<text>No Results section</text>"
    document = f"""<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    classCode="DOCCLIN" moodCode="EVN">
  <realmCode code="DK"/>
  <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
  <templateId root="2.16.840.1.113883.10.20.9"/>
  <templateId root="1.2.208.184.11.1"/>
  <id root="1.2.208.184" extension="{document_id}" assigningAuthorityName="MedCom"/>
  <code code="53576-5" codeSystem="2.16.840.1.113883.6.1" codeSystemName="LOINC"
      displayName="Personal Health Monitoring Report"/>
  <title>Hjemmemonitorering for 2512484916</title>
  <effectiveTime value="{ts(stop + timedelta(hours=1))}"/>
  <confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25"/>
  <languageCode code="da-DK"/>
  <recordTarget typeCode="RCT" contextControlCode="OP">
    <patientRole classCode="PAT">
      <id extension="2512484916" root="1.2.208.176.1.2" assigningAuthorityName="CPR"/>
      <addr use="H">
        <streetAddressLine>Skovvejen 12</streetAddressLine>
        <postalCode>5700</postalCode>
        <city>Svendborg</city>
      </addr>
      <patient classCode="PSN" determinerCode="INSTANCE">
        <name><given>Nancy</given><given>Ann</given><family>Berggren</family></name>
        <administrativeGenderCode code="F" codeSystem="2.16.840.1.113883.5.1"/>
        <birthTime value="19481225"/>
      </patient>
    </patientRole>
  </recordTarget>
  <author typeCode="AUT" contextControlCode="OP">
    <time value="{ts(stop + timedelta(hours=1))}"/>
    <assignedAuthor classCode="ASSIGNED">
      <id extension="368061000016003" root="1.2.208.176.1.1" assigningAuthorityName="SOR"/>
      <addr use="WP">
        <streetAddressLine>Mølleparkvej 4</streetAddressLine><postalCode>9000</postalCode><city>Aalborg</city>
      </addr>
      <assignedPerson classCode="PSN" determinerCode="INSTANCE">
        <name><given>Anders</given><family>Andersen</family></name>
      </assignedPerson>
      <representedOrganization classCode="ORG" determinerCode="INSTANCE">
        <name>Lungemedicinsk afdeling</name>
      </representedOrganization>
    </assignedAuthor>
  </author>
  <custodian typeCode="CST">
    <assignedCustodian classCode="ASSIGNED">
      <representedCustodianOrganization classCode="ORG" determinerCode="INSTANCE">
        <id extension="368061000016003" root="1.2.208.176.1.1" assigningAuthorityName="SOR"/>
        <name>Aalborg Universitetshospital</name>
      </representedCustodianOrganization>
    </assignedCustodian>
  </custodian>
  <legalAuthenticator typeCode="LA" contextControlCode="OP">
    <time value="{ts(stop + timedelta(hours=1))}"/>
    <signatureCode nullFlavor="NI"/>
    <assignedEntity classCode="ASSIGNED">
      <id extension="368061000016003" root="1.2.208.176.1.1" assigningAuthorityName="SOR"/>
      <assignedPerson classCode="PSN" determinerCode="INSTANCE">
        <name><prefix>Læge</prefix><given>Lars</given><given>Ole</given><family>Olsen</family></name>
      </assignedPerson>
    </assignedEntity>
  </legalAuthenticator>
  <documentationOf typeCode="DOC">
    <serviceEvent classCode="MPROT" moodCode="EVN">
      <effectiveTime><low value="{ts(START)}"/><high value="{ts(stop)}"/></effectiveTime>
    </serviceEvent>
  </documentationOf>
  <documentationOf>
    <serviceEvent>
      <templateId root="1.2.208.184.200.1.10" extension="2019-09-10"/>
      <id root="1.2.208.184.100.3" extension="phmr-v1.3" assigningAuthorityName="MedCom"/>
    </serviceEvent>
  </documentationOf>{event_codes}
  <component typeCode="COMP" contextConductionInd="true">
    <structuredBody classCode="DOCBODY" moodCode="EVN">
{
        _section(
            "2.16.840.1.113883.10.20.1.16",
            "2.16.840.1.113883.10.20.9.2",
            "8716-3",
            "Vital Signs",
            vital_text + "".join(vital),
        )
    }
{
        _section(
            "2.16.840.1.113883.10.20.1.14",
            "2.16.840.1.113883.10.20.9.14",
            "30954-2",
            "Results",
            results_text + "".join(results),
        )
    }
      <component typeCode="COMP" contextConductionInd="true">
        <section classCode="DOCSECT" moodCode="EVN">
          <templateId root="2.16.840.1.113883.10.20.1.7"/>
          <templateId root="2.16.840.1.113883.10.20.9.1"/>
          <templateId root="1.2.208.184.11.1"/>
          <code code="46264-8" codeSystem="2.16.840.1.113883.6.1"/>
          <title>Medical Equipment</title>
          <text>Medical Equipment</text>
          <entry typeCode="COMP" contextConductionInd="true">
            <organizer classCode="CLUSTER" moodCode="EVN">
              <templateId root="2.16.840.1.113883.10.20.9.4"/>
              <statusCode code="completed"/>
              <participant typeCode="SBJ" contextControlCode="OP">
                <participantRole classCode="MANU">
                  <templateId root="2.16.840.1.113883.10.20.1.52"/>
                  <templateId root="2.16.840.1.113883.10.20.9.9"/>
                  <id root="1.2.208.184.100.3" extension="MCI00005" assigningAuthorityName="MedCom"/>
                  <playingDevice classCode="DEV" determinerCode="INSTANCE">
                    <code code="528399" codeSystem="2.16.840.1.113883.6.24" codeSystemName="MDC Dynamic"
                        displayName="MDC_DEV_SPEC_PROFILE_SCALE">
                      <translation code="MCI00005" codeSystem="1.2.208.184.100.3"
                          displayName="MedCom Instrument Codes"/>
                    </code>
                    <manufacturerModelName
                      >Manufacturer: A&amp;D Medical / Model: UA-767PlusBT-C</manufacturerModelName>
                    <softwareName>SerialNr: 6121ABT1-987 / SW Rev. 2.1</softwareName>
                  </playingDevice>
                </participantRole>
              </participant>
            </organizer>
          </entry>
        </section>
      </component>
    </structuredBody>
  </component>
</ClinicalDocument>
"""
    return document.encode("utf-8")


def mutate(document: bytes, change: Callable[[etree._Element], object]) -> bytes:
    """Parse ``document``, apply ``change`` to its root and serialise it again (line numbers shift little)."""
    root = etree.fromstring(document)
    change(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def all_of(root: etree._Element, xpath: str) -> list[etree._Element]:
    """Every element matching ``xpath`` (prefix ``h:`` for HL7 v3)."""
    found = root.xpath(xpath, namespaces=NS)
    return [item for item in found if isinstance(item, etree._Element)] if isinstance(found, list) else []


def first(root: etree._Element, xpath: str) -> etree._Element:
    """The first element matching ``xpath`` (prefix ``h:`` for HL7 v3); fails loudly when absent."""
    found = root.xpath(xpath, namespaces=NS)
    assert isinstance(found, list) and found and isinstance(found[0], etree._Element), xpath
    return found[0]
