"""Strings that carry HTML markup: a security risk wherever content is later rendered as HTML.

The HL7 reference validator's ``-security-checks`` option
(https://confluence.hl7.org/display/FHIR/Using+the+FHIR+Validator): a ``string`` value that
contains something that looks like an HTML tag is an error with the option on, and an
information issue without it.  Narrative (``xhtml``) and ``markdown`` are meant to carry markup
and are not checked here (narrative has its own rules, txt-1/txt-2).
"""

from __future__ import annotations

import re

from hub.core.issues import IssueType
from profiles.validator.context import ValidationContext
from profiles.validator.messages import MessageId

# an opening or closing tag of an element that renders or runs something (HTML allows no space
# between "<" and the tag name, so "a < b" is not a tag)
_TAG = re.compile(
    r"</?(?:a|abbr|applet|audio|b|base|body|br|button|canvas|code|details|div|em|embed|font|"
    r"form|frame|frameset|h[1-6]|head|html|i|iframe|img|input|link|meta|object|ol|option|p|pre|"
    r"script|select|span|strong|style|svg|table|td|textarea|th|tr|u|ul|video)(?:\s[^<>]*)?/?\s*>",
    re.IGNORECASE,
)


def check(value: str, path: str, ctx: ValidationContext) -> None:
    """Called for ``string`` values that contain a ``<``."""
    if _TAG.search(value) is None:
        return
    if ctx.options.security_checks:
        ctx.error(
            IssueType.SECURITY,
            "The string value contains text that looks like embedded HTML tags, which are not allowed "
            "for security reasons in this context",
            path,
            MessageId.STRING_HTML,
        )
    else:
        ctx.info(
            IssueType.SECURITY,
            "The string value contains text that looks like embedded HTML tags. If this content is "
            "rendered to HTML without appropriate post-processing, it may be a security risk",
            path,
            MessageId.STRING_HTML,
        )
