"""Code sets (代码集) and validators of the Jining data standard.

Pure: no I/O beyond reading the shipped data files once, no clock, no database. Imports nothing of
jnx but ``jnx.errors``.
"""

from jnx.codesets.registry import CodeEntry, CodeSet, CodeSetRegistry, CodeSetVersion, default_registry
from jnx.codesets.validators import (
    USCC_PLACEHOLDER,
    Verdict,
    check_amount_wan,
    check_date,
    check_id_number,
    check_org_code,
    check_uscc,
    parse_amount_wan,
    yuan_to_wan,
)

__all__ = [
    "USCC_PLACEHOLDER",
    "CodeEntry",
    "CodeSet",
    "CodeSetRegistry",
    "CodeSetVersion",
    "Verdict",
    "check_amount_wan",
    "check_date",
    "check_id_number",
    "check_org_code",
    "check_uscc",
    "default_registry",
    "parse_amount_wan",
    "yuan_to_wan",
]
