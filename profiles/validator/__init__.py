"""The FHIR profile validator: compiled profiles, instance walking, OperationOutcome issues.

See https://hl7.org/fhir/R4/validation.html.
"""

from profiles.validator.context import CustomCheck, CustomChecks
from profiles.validator.messages import MessageId
from profiles.validator.model import CompiledProfile
from profiles.validator.options import BundleRule, ReferencePolicy, ValidationOptions
from profiles.validator.service import CORE_MISSING, ProfileValidator
from profiles.validator.write_validation import CONFORMANCE_TYPES, WriteValidationService

__all__ = [
    "CONFORMANCE_TYPES",
    "CORE_MISSING",
    "BundleRule",
    "CompiledProfile",
    "CustomCheck",
    "CustomChecks",
    "MessageId",
    "ProfileValidator",
    "ReferencePolicy",
    "ValidationOptions",
    "WriteValidationService",
]
