"""XML namespaces and qualified names of ebRIM/ebRS 3.0, XDS.b, SOAP 1.2, WS-Addressing and XOP.

ebXML RegRep 3.0 (OASIS regrep-rim-3.0 / regrep-rs-3.0), IHE ITI TF-2b 3.41.4.1.2 (XDS.b namespace
``urn:ihe:iti:xds-b:2007``), SOAP 1.2 Part 1 §5, WS-Addressing 1.0 Core, XOP 1.0.
"""

from __future__ import annotations

RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
LCM = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
RS = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0"
QUERY = "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"
XDSB = "urn:ihe:iti:xds-b:2007"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
WSA = "http://www.w3.org/2005/08/addressing"
XOP = "http://www.w3.org/2004/08/xop/include"
XML = "http://www.w3.org/XML/1998/namespace"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"

# Prefixes used when telehub writes XML (readers never depend on prefixes).
NSMAP: dict[str, str] = {
    "rim": RIM,
    "lcm": LCM,
    "rs": RS,
    "query": QUERY,
    "xdsb": XDSB,
}


def rim(local: str) -> str:
    return f"{{{RIM}}}{local}"


def lcm(local: str) -> str:
    return f"{{{LCM}}}{local}"


def rs(local: str) -> str:
    return f"{{{RS}}}{local}"


def query(local: str) -> str:
    return f"{{{QUERY}}}{local}"


def xdsb(local: str) -> str:
    return f"{{{XDSB}}}{local}"
