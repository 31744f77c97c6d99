"""FHIR R4 XML (``application/fhir+xml``) parse and serialise, driven by the base StructureDefinitions.

See https://hl7.org/fhir/R4/xml.html and https://hl7.org/fhir/R4/json.html.  Use :class:`FhirXmlCodec`
with any :class:`TypeDefinitions` (``profiles.canonical.CanonicalRegistry`` is one); decimals keep their
exact digits through :class:`LexicalDecimal`, :func:`load_json` and :func:`dump_json`.
"""

from profiles.fhir_xml.codec import MEDIA_TYPE, FhirXmlCodec, XmlReadResult
from profiles.fhir_xml.decimals import LexicalDecimal, dump_json, load_json
from profiles.fhir_xml.shapes import FHIR_NS, XHTML_NS
from profiles.fhir_xml.type_definitions import StructureDefinitionTable, TypeDefinitions

__all__ = [
    "FHIR_NS",
    "MEDIA_TYPE",
    "XHTML_NS",
    "FhirXmlCodec",
    "LexicalDecimal",
    "StructureDefinitionTable",
    "TypeDefinitions",
    "XmlReadResult",
    "dump_json",
    "load_json",
]
