"""The Markdown data dictionary (docs/standard.md), generated from the element dictionary."""

from __future__ import annotations

from jnx.standard.dictionary import DataElement, DateOrder, Dictionary, RecordType

INTRO = """\
This page is generated from `jnx/standard/data/elements.yaml` by
`jnx standard export --format markdown`; edit the dictionary, not this page. The same dictionary
generates the pydantic models (`jnx.standard.model_for`), the XSD (`--format xsd`) and the JSON
Schema (`--format jsonschema`). Check a file with `jnx standard validate FILE`.

**Publication rules (双公示).** `published`: shown as is · `masked`: shown masked when the party is a
natural person, in clear otherwise · `never_for_natural_person`: shown for organisations only ·
`not_published`: collected for matching, never shown.

**ID numbers in the disclosure formats (双公示).** A natural person's ID number never leaves jnx in
clear. In `credit_license` / `credit_penalty`, `XK_XDR_ZJHM` / `CF_XDR_ZJHM` with ID type 身份证
must be the masked form the outbound tables write: 6 digits, 8 `*`, 3 digits and a digit or X
(`370811********0027`). A full, valid ID number there is the error `id_number.clear_in_disclosure`
("a natural person's ID number must be published masked"); anything else that is not the masked
form is `id_number.masked_format`; neither message shows the value. The legal representative's ID
number (`XK_FR_ZJHM` / `CF_FR_ZJHM`) is never published: the outbound tables do not send it, so
the formats forbid it (use `forbidden`; the XSD gives it `maxOccurs="0"`, the JSON Schema
`not required`) rather than accept a masked copy nobody needs. The models and the JSON Schema
demand the masked form; the XSD cannot (the element also holds passport and other numbers, and
XSD 1.0 cannot make its type depend on the ID type), so there it is model-only.

**Rules only the models enforce** (XSD 1.0 cannot express them; the JSON Schema expresses the
conditional, forbidden and placeholder rules and the shape of an ID number — full or masked — by
ID type with `if`/`then`): check characters (GB 32100, GB 11714, GB 11643) and birth dates (so
also whether a disclosure's ID number that is not masked is a clear one or a malformed mask),
codes against the code set version in force on the record's decision date (处罚类别 2017 before
2021-07-15, 2021 from that day), date order, decisions not in the future, at most six decimals in
an amount given as a JSON number, no lone surrogate or Unicode non-character (U+FDD0…, U+FFFE…) in
a JSON text.

**Reading files.** `jnx standard validate` reads at most `--max-bytes` (16 MiB) of a file, a pipe
(`/dev/stdin`) or a device and refuses anything longer; a directory, a DTD (a `<!DOCTYPE` in the
prolog — the same letters in a comment or CDATA section are text), an undecodable byte (JSON must be
UTF-8), malformed JSON or XML or a JSON integer of more than 100 digits make the file unusable (exit
2). In XML a field's text is all of its text, comments and processing instructions inside it
skipped; a field given twice, an element inside a text field, text between fields or items, an
attribute other than a record's own `record_type` or a `<record_type>` element are errors of that
record, as they are for the XSD. Amount text is plain ASCII decimal notation (`0.2`, `12.345678`):
no sign, exponent, spaces or full-width digits. No message about an ID number shows its digits or its
birth date.
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _length(element: DataElement) -> str:
    if element.type.value == "decimal_wan":
        return "18,6"
    return str(element.max_length) if element.max_length else ""


def _record_section(record_type: RecordType) -> list[str]:
    lines = [
        f"### {record_type.name} — {record_type.name_zh} ({record_type.name_en})",
        "",
        f"Business key: {', '.join(f'`{f}`' for f in record_type.business_key)}."
        + (f" Code sets judged on `{record_type.reference_date}`." if record_type.reference_date else ""),
        "",
        "| id | field | 中文名 | type | required |",
        "| --- | --- | --- | --- | --- |",
    ]
    for use in record_type.uses:
        e = use.element
        lines.append(f"| {e.id} | `{e.field}` | {_cell(e.name_zh)} | {e.type.value}{f' ({e.codeset})' if e.codeset else ''} | {_cell(use.describe_use())} |")
    for rule in record_type.rules:
        if isinstance(rule, DateOrder):
            lines.append(f"\nRule: `{rule.earlier}` ≤ `{rule.later}`.")
        else:
            lines.append(f"\nRule: `{rule.field}` not after the validation day.")
    lines.append("")
    return lines


def generate_markdown(dictionary: Dictionary) -> str:
    lines = [f"# {dictionary.standard} 第{dictionary.version}版 — {dictionary.title_en}", "", INTRO, "## Record types", ""]
    for record_type in dictionary.record_types.values():
        lines += _record_section(record_type)
    lines += [
        "## Data elements",
        "",
        "| id | field | 中文名 | English | type | length | format | code set | publication | derives from | description |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for e in sorted(dictionary.elements.values(), key=lambda e: e.id):
        lines.append(
            f"| {e.id} | `{e.field}` | {_cell(e.name_zh)} | {_cell(e.name_en)} | {e.type.value} | {_length(e)} | {_cell(e.display_format)} "
            f"| {e.codeset or ''} | {e.publication.value} | {f'`{e.derives_from}`' if e.derives_from else ''} | {_cell(e.description)} |"
        )
    return "\n".join(lines) + "\n"
