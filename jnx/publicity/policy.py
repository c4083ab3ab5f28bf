"""The publication policy as data: ``<JNX_HOME>/policy/publicity.yaml`` (validated, versioned, audited).

What the law leaves open — display periods by 处罚类别 and sector, whether 简易程序 penalties and low
fines are published, thresholds by party type, how natural persons appear — is a setting, not code:
one YAML file holding a :class:`~jnx.publicity.rules.DisplayPolicy` and a
:class:`~jnx.publicity.rules.PublicationPolicy`, read whole and refused with the file and the reason
when anything in it is wrong (an unknown 处罚类别, a threshold with seven decimals, an unknown key).
``jnx init`` installs :data:`DEFAULT_POLICY` — the documented default of docs/disclosures.md, each
number with its source — when the folder has none. A file carries a ``version``: changing the
policy means raising it; the first time a version is used it is appended to the audit chain
(``publicity.policy``, with its content hash), and a version whose content changed in place is
refused, as a mapping table's would be.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from jnx.errors import ConfigError
from jnx.publicity.rules import DisplayPolicy, PublicationPolicy

FORMAT = 1
POLICY_FILE = Path("policy") / "publicity.yaml"
AUDITED_FILE = Path("policy") / "audited.lock"

DEFAULT_POLICY = """\
# 双公示 publication policy (docs/disclosures.md, "Rules by source article, and what is a setting").
# Installed by `jnx init`. To change it: edit, raise `version`, and restart the jnx processes; the
# new version is audited when first used. A version never changes once used.
format: 1
version: 1
source: jnx default (docs/disclosures.md) — confirm the unconfirmed rules before go-live
display:
  # 国家发展改革委令第58号 (as REFERENCE §2.3 states it): penalties 3 months – 3 years from the decision
  name: 国家发展改革委令第58号
  penalty: {shortest_months: 3, longest_months: 36}
  # 58号: 特种设备, 安全生产, 消防 at least one year
  sector_shortest_months: {特种设备: 12, 安全生产: 12, 消防: 12}
  # several 处罚类别 in one decision: the longest applies; no per-category figure is sourced
  category_periods: {}
  # jnx's choice (no source found): a licence without end of validity is displayed 36 months
  licence_open_ended_months: 36
publication:
  # 公开为常态、不公开为例外 (发改办财金〔2018〕424号): every category published; 58号's exclusion of
  # 警告 / 通报批评 / 较低数额罚款 is unconfirmed — name them here once confirmed
  excluded_penalty_categories: []
  low_fine_threshold_wan: null
  # by party type, e.g. {自然人: "0.02", 法人及非法人组织: "0.3"} (the 200 / 3,000 元 of 《行政处罚法》第五十一条)
  low_fine_thresholds_wan: {}
  # REFERENCE §2.2: natural persons published masked (or withheld) — unconfirmed which on 信用山东
  natural_persons: masked
  # 简易程序 (当场) penalties, 《行政处罚法》第五十一条: published (default) or withheld — unconfirmed
  simple_procedure: published
  # a licence whose XK_ZT turns 2 (无效): the national format's reading, a correction carrying the status
  # (REFERENCE §2.4, unconfirmed); `withdrawn` withdraws it instead (and never publishes one invalid when first seen)
  invalid_licences: corrected
"""


class PolicyDocument(BaseModel):
    """One policy file, validated whole."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: int = Field(ge=FORMAT, le=FORMAT)
    version: int = Field(ge=1)
    source: str = Field(min_length=1)
    display: DisplayPolicy = DisplayPolicy()
    publication: PublicationPolicy = PublicationPolicy()

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the validated content (comments and layout do not count)."""
        content = self.model_dump(mode="json")
        return hashlib.sha256(json.dumps(content, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class LoadedPolicy:
    document: PolicyDocument
    path: Path | None  # None: no file, the built-in default (same content as DEFAULT_POLICY)


def parse_policy(text: str, origin: str) -> PolicyDocument:
    try:
        raw: Any = yaml.safe_load(text)
        return PolicyDocument.model_validate(raw)
    except yaml.YAMLError as exc:
        raise ConfigError(f"policy file {origin}: not valid YAML: {exc}", hint="correct it (docs/disclosures.md)") from exc
    except ValidationError as exc:
        reasons = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(file)'}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"policy file {origin}: {reasons}", hint="correct it against docs/disclosures.md "
                          "(\"Rules by source article, and what is a setting\")") from None


def load_policy(home: Path) -> LoadedPolicy:
    """The policy of an installation: its file, or the built-in default when it has none."""
    path = home / POLICY_FILE
    if not path.exists():
        return LoadedPolicy(parse_policy(DEFAULT_POLICY, "(built-in default)"), None)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"policy file {path}: cannot be read ({exc})", hint="save it as UTF-8") from exc
    return LoadedPolicy(parse_policy(text, str(path)), path)


def install_default(home: Path) -> tuple[Path, bool]:
    """Write the documented default policy unless the installation has one; (path, written?)."""
    path = home / POLICY_FILE
    if path.exists():
        return path, False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(DEFAULT_POLICY, encoding="utf-8")
    return path, True


def check_version(home: Path, policy: LoadedPolicy) -> dict[str, Any] | None:
    """Compare the policy with the versions already used (``policy/audited.lock``): None if known;
    else the audit details of a version used for the first time (:func:`record_version` once
    audited). A known version with other content is refused."""
    if policy.path is None:
        return None
    lock = home / AUDITED_FILE
    used = dict(line.split(" ", 1) for line in lock.read_text(encoding="utf-8").split("\n") if " " in line) if lock.exists() else {}
    version, digest = str(policy.document.version), policy.document.fingerprint
    if version in used:
        if used[version].strip() != digest:
            raise ConfigError(f"policy file {policy.path}: version {version} was changed after it was used "
                              f"(hash {digest[:12]}, used {used[version].strip()[:12]})",
                              hint=f"set version: {max(int(v) for v in used) + 1} in the file: a policy version never changes")
        return None
    return {"version": policy.document.version, "sha256": digest, "source": policy.document.source, "file": str(policy.path),
            "policy": policy.document.model_dump(mode="json")}


def record_version(home: Path, policy: LoadedPolicy) -> None:
    """Note the policy's version as used (after its audit entry was written)."""
    lock = home / AUDITED_FILE
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a", encoding="utf-8") as out:
        out.write(f"{policy.document.version} {policy.document.fingerprint}\n")


__all__ = ["DEFAULT_POLICY", "LoadedPolicy", "PolicyDocument", "check_version", "install_default", "load_policy", "parse_policy",
           "record_version"]
