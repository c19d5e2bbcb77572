"""What typed text may hold, and when two spellings are the same reference or the same site.

A reference (patient, pathway) names a record, so it must not look like another one: new references
are NFKC-normalised (fullwidth `Ｐ1` is `P1`) and made of Latin letters, digits and `- _ / .` only,
which also refuses look-alikes from other scripts (Cyrillic `Н100`). A site is free text, but two
spellings that differ only in compatibility forms, white space or case are one site: `site_key` is
what sites are compared by. Format characters (Unicode category Cf: zero-width joiner and space,
right-to-left override, soft hyphen...) are invisible, so no text field may hold them. Text a user
typed that goes into markdown (the dashboard, the governance digest) goes through `markdown_literal`.
Pure: no I/O.
"""

import re
import unicodedata

# A new reference: a letter or digit first, then letters, digits and - _ / . (ASCII after NFKC).
REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_/.\-]*")
REFERENCE_RULE = "must be Latin letters A-Z, digits 0-9 and - _ / . only, starting with a letter or digit"


def _describe(ch: str) -> str:
    """A character by code point and Unicode name (never the character itself: it may be invisible)."""
    return f"U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed character')}"


def invisible_character(value: str) -> str | None:
    """The first format character (Cf) in the text, described, or None."""
    if value.isascii():  # every format character is outside ASCII (the first is U+00AD)
        return None
    found = next((ch for ch in value if unicodedata.category(ch) == "Cf"), None)
    return _describe(found) if found else None


def normalise_reference(value: str) -> str:
    """The reference as stored and looked up: NFKC, surrounding white space stripped."""
    return unicodedata.normalize("NFKC", value).strip()


def reference_problem(reference: str) -> str | None:
    """Why a normalised reference may not name a new record, or None when it may."""
    if REFERENCE.fullmatch(reference):
        return None
    other = next((ch for ch in reference if not REFERENCE.fullmatch("A" + ch)), None)
    found = f" (found {_describe(other)})" if other else ""
    return REFERENCE_RULE + found


def site_spelling(value: str) -> str:
    """A site as first registered: NFKC, every run of white space (no-break spaces too) one space."""
    return " ".join(unicodedata.normalize("NFKC", value).split())


def site_key(value: str) -> str:
    """What sites are compared by: the spelling, case-folded (`North\u00a0Vale` and `north vale` are one)."""
    return site_spelling(value).casefold()


# In CommonMark any ASCII punctuation may be backslash-escaped, and an escaped one is literal. Escaped
# wherever they are: code and emphasis (` * ~), links, images and directives ([ ]), HTML and
# autolinks (< > & @), LaTeX ($), the escape itself, and the colon that starts every Streamlit
# directive (`:red[...]`, `:material/...:`, `:emoji:` shortcodes) and a URL scheme. Escaped where they
# would act: an underscore at a word's edge, the dot of "www.", a table's pipe, and a line's leading
# list or heading marker (- + # > or "1." "1)"). The rest is left as typed, so references, names and
# rules read as they are.
_ACTIVE = re.compile(r"[\\`*~\[\]<>&@:$|]|(?<![^\W_])_|_(?![^\W_])|(?i:(?<=www)\.)|^[-+#>]")
_ORDERED = re.compile(r"^(\d{1,9})([.)])")


def markdown_literal(text: object) -> str:
    """User text made literal inside markdown: shown as typed, never as markup.

    White space (line breaks too) is collapsed to single spaces, so the text stays on its line.
    """
    escaped = _ACTIVE.sub(lambda found: "\\" + found.group(), " ".join(str(text).split()))
    return _ORDERED.sub(r"\1\\\2", escaped)
