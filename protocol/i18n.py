"""Messages a person reads, in zh-CN (the default) and English.

A message is written once, in English, as a `str.format` template with named fields
(`"quantity {qty!r} must be more than zero"`); the module that raises it registers the
zh-CN text of its templates (`register({...})`). An error keeps its template and fields
and is rendered when it is shown, in the language of the one who reads it (`KUCUN_LANG`:
`zh-CN` unless it starts with `en`): the till, the CLI and the logs each render the same
error in their own language, and a template without a translation falls back to English.

`Translatable` is an error; `Message` is the same for a text that is no error (a word
inside another message, a status line); `Joined` lists messages with the language's
separator. A field whose value is any of them is rendered in the reader's language too.
Pure: no I/O beyond reading the environment.
"""

from __future__ import annotations

import os
import string
from collections.abc import Iterable, Mapping

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


def field_names(template: str) -> set[str]:
    """The names a template fills in: `{qty!r}` and `{n:,}` are `qty` and `n`."""
    names = set()
    for _, name, _, _ in string.Formatter().parse(template):
        if name is not None:
            names.add(name.split(".")[0].split("[")[0])
    return names


def _rendered(value: object, lang: str) -> object:
    if isinstance(value, Translatable | Message | Joined):
        return _Shown(value.text(lang))
    return value


class _Shown(str):
    """A nested message already rendered: `{reason!r}` quotes it no more than `{reason}`
    (a message inside a message is text to read, not a value to quote)."""

    def __repr__(self) -> str:
        return str(self)


def render(template: str, fields: Mapping[str, object], lang: str | None = None) -> str:
    """`template` in `lang` (default: the reader's), its fields filled in; fields that are
    messages themselves are rendered in the same language."""
    lang = lang or language()
    text = _ZH.get(template, template) if lang == "zh-CN" else template
    values = {k: _rendered(v, lang) for k, v in fields.items()}
    if not values:
        return text
    for candidate in (text, template):  # showing an error must never raise another
        try:
            return candidate.format(**values)
        except (KeyError, IndexError, ValueError, AttributeError, TypeError):
            continue
    return template


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

    def __reduce__(self) -> tuple:
        # copy and pickle keep the fields (Exception's default would call cls(template))
        return (_rebuild, (type(self), self.template, self.fields))


def _rebuild(cls: type[Translatable], template: str, fields: dict[str, object]) -> Translatable:
    return cls(template, **fields)


class Message:
    """A text that is no error, rendered when shown: a word a template fills in
    (`Message("price")`), a status line."""

    __slots__ = ("fields", "template")

    def __init__(self, template: str, /, **fields: object) -> None:
        self.template = template
        self.fields = fields

    def text(self, lang: str | None = None) -> str:
        return render(self.template, self.fields, lang)

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return f"Message({self.template!r}, **{self.fields!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Message) and (self.template, self.fields) == (
            other.template,
            other.fields,
        )

    def __hash__(self) -> int:
        return hash(self.template)


#: how a list of clauses is separated, per language
_SEPARATORS = {"zh-CN": {"; ": "；", ", ": "，"}, "en": {}}


class Joined:
    """Messages (or plain texts) listed in one line: `sep` in English, its full-width
    counterpart in zh-CN ("; " → "；", ", " → "，")."""

    __slots__ = ("parts", "sep")

    def __init__(self, parts: Iterable[object], sep: str = "; ") -> None:
        self.parts = tuple(parts)
        self.sep = sep

    def text(self, lang: str | None = None) -> str:
        lang = lang or language()
        sep = _SEPARATORS.get(lang, {}).get(self.sep, self.sep)
        return sep.join(str(_rendered(p, lang)) for p in self.parts)

    def __str__(self) -> str:
        return self.text()

    def __bool__(self) -> bool:
        return bool(self.parts)
