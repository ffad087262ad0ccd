"""Messages a person reads, in zh-CN (the default) and English.

A message is written once, in English, as a `str.format` template with named fields
(`"quantity {qty!r} must be more than zero"`); the module that raises it registers the
zh-CN text of its templates (`register({...})`). An error keeps its template and fields
and is rendered when it is shown, in the language of the one who reads it (`KUCUN_LANG`:
`zh-CN` unless it starts with `en`): the till, the CLI and the logs each render the same
error in their own language, and a template without a translation falls back to English.
Pure: no I/O beyond reading the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

LANGUAGES = ("zh-CN", "en")

#: English template → zh-CN template, from every `register` call
_ZH: dict[str, str] = {}


def language() -> str:
    """The reader's language: KUCUN_LANG (`en…` → English), else zh-CN."""
    lang = os.environ.get("KUCUN_LANG", "zh-CN")
    return "en" if lang.lower().startswith("en") else "zh-CN"


def register(zh: Mapping[str, str]) -> None:
    """Add zh-CN texts for English templates (each keeps the template's field names)."""
    _ZH.update(zh)


def translations() -> Mapping[str, str]:
    """Every registered template and its zh-CN text (for the catalogue's tests)."""
    return _ZH


def render(template: str, fields: Mapping[str, object], lang: str | None = None) -> str:
    """`template` in `lang` (default: the reader's), its fields filled in; fields that are
    messages themselves are rendered in the same language."""
    lang = lang or language()
    text = _ZH.get(template, template) if lang == "zh-CN" else template
    values = {k: v.text(lang) if isinstance(v, Translatable) else v for k, v in fields.items()}
    return text.format(**values) if values else text


class Translatable(Exception):
    """An error whose text is rendered when shown: `str(error)` in the reader's language,
    `error.text("en")` in a given one."""

    def __init__(self, template: str, /, **fields: object) -> None:
        super().__init__(template)
        self.template = template
        self.fields = fields

    def text(self, lang: str | None = None) -> str:
        return render(self.template, self.fields, lang)

    def __str__(self) -> str:
        return self.text()
