"""Code sets (代码集) and validators of the Jining data standard.

Pure: no I/O beyond reading the shipped data files (and a deployment's extension files) once, no clock, no database. Imports nothing of
jnx but ``jnx.errors``.
"""

from jnx.codesets.checks import VALIDATORS, Validator, check, known_names, named_check
from jnx.codesets.errors import UnknownCodeError
from jnx.codesets.regions import AgencyLevel, RegionKind, agency_level, region_kind, region_level, resolve_region
from jnx.codesets.registry import (
    CodeEntry,
    CodeSet,
    CodeSetRegistry,
    CodeSetVersion,
    default_registry,
)
from jnx.codesets.validators import (
    USCC_PLACEHOLDER,
    Notice,
    Verdict,
    check_amount_wan,
    check_date,
    check_id_number,
    check_org_code,
    check_registration_no_15,
    check_uscc,
    parse_amount_wan,
    upgrade_id_15_to_18,
    yuan_to_wan,
)

__all__ = [
    "USCC_PLACEHOLDER",
    "VALIDATORS",
    "Notice",
    "AgencyLevel",
    "RegionKind",
    "agency_level",
    "region_level",
    "UnknownCodeError",
    "Validator",
    "check",
    "known_names",
    "named_check",
    "region_kind",
    "resolve_region",
    "upgrade_id_15_to_18",
    "CodeEntry",
    "CodeSet",
    "CodeSetRegistry",
    "CodeSetVersion",
    "Verdict",
    "check_amount_wan",
    "check_date",
    "check_id_number",
    "check_org_code",
    "check_registration_no_15",
    "check_uscc",
    "default_registry",
    "parse_amount_wan",
    "yuan_to_wan",
]
