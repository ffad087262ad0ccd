"""Errors as RFC 9457 problem details (application/problem+json), whoever refuses.

A refusal of the service, of the body decoder, of the auth middleware or of aiohttp itself
(404, 405, 413) becomes one `Problem`: `detail` is the message a person reads, `errors`
the fields it is about, so a program can point at the input without parsing English.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from http import HTTPStatus

import msgspec
from aiohttp import web

from hub.schemas import FieldError, Problem

MEDIA_TYPE = "application/problem+json"

_encoder = msgspec.json.Encoder()


def problem(
    status: int,
    detail: str,
    errors: Sequence[FieldError] = (),
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """The response: `type` is about:blank, so `title` is the status's own phrase."""
    body = Problem(
        type="about:blank",
        title=_title(status),
        status=status,
        detail=detail,
        errors=list(errors),
    )
    return web.Response(
        body=_encoder.encode(body),
        status=status,
        content_type=MEDIA_TYPE,
        charset="utf-8",
        headers=headers,
    )


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


#: msgspec's "Expected `str` of length <= 64 - at `$.lines[0].sku`"
_AT_PATH = re.compile(r"^(?P<message>.*) - at `(?P<path>\$[^`]*)`$", re.DOTALL)


_BOUND = re.compile(r"^Expected `(?P<kind>str|array|object)` of length (?P<op>[<>]=) (?P<n>\d+)$")
_REGEX = re.compile(r"^Expected `str` matching regex '(?P<pattern>.*)'$", re.DOTALL)


def _patterns() -> dict[str, str]:
    from hub import schemas

    return {
        schemas.DECIMAL_PATTERN: '{path} must be a decimal string like "1.250"',
        schemas.LOCATION_PATTERN: (
            "{path} is not a valid location id: use letters, digits, '-' or '_' (at most 32), "
            "e.g. S01"
        ),
        schemas.PIN_PATTERN: "{path}: a PIN is 4 to 12 digits, e.g. 4821",
    }


def readable(message: str) -> str:
    """msgspec's message said as the service says its own: the field first, then what to
    send ("$.lines[0].sku is too long: at most 64 characters")."""
    m = _AT_PATH.match(message)
    if m is None:
        return message
    path, said = m["path"], m["message"]
    if b := _BOUND.match(said):
        n, unit = int(b["n"]), "characters" if b["kind"] == "str" else "items"
        if b["op"] == "<=":
            return f"{path} is too long: at most {n:,} {unit}"
        if n == 1:
            return f"{path} must not be empty"
        return f"{path} is too short: at least {n:,} {unit}"
    if r := _REGEX.match(said):
        # msgspec quotes the pattern as Python's repr does: its backslashes doubled
        known = _patterns().get(r["pattern"].replace("\\\\", "\\"))
        return known.format(path=path) if known else f"{path} must match {r['pattern']}"
    return message


#: msgspec names the field itself for these, and the object it is in by the path
_NAMED_FIELD = re.compile(r"^Object (?:contains unknown|missing required) field `(?P<name>[^`]*)`")


def decode_errors(message: str) -> list[FieldError]:
    """The field a msgspec error names (`… - at $.x`); none for a body that is no JSON."""
    m = _AT_PATH.match(message)
    said, path = (m["message"], m["path"]) if m else (message, "$")
    named = _NAMED_FIELD.match(said)
    if named:
        return [FieldError(field=f"{path}.{named['name']}", message=readable(message))]
    if m is None:
        return []
    return [FieldError(field=path, message=readable(message))]


#: "line 3 qty: …": the service numbers a document's lines from 1
_LINE_FIELD = re.compile(r"^line (?P<n>\d{1,7}) (?P<name>[a-z_]+)\b")
_FIRST_WORD = re.compile(r"^(?P<name>[a-z_]+)\b")


def refused_errors(
    message: str, body_fields: Sequence[str], parameters: Sequence[str]
) -> list[FieldError]:
    """The field a service refusal is about, read from its message: the service starts its
    messages with the field's name ("location 'x' is not…", "line 2 qty: …"). Only a name
    the route's body or parameters have counts, so a sentence is never taken for a field."""
    m = _LINE_FIELD.match(message)
    if m and "lines" in body_fields:
        return [FieldError(field=f"$.lines[{int(m['n']) - 1}].{m['name']}", message=message)]
    m = _FIRST_WORD.match(message)
    if m is None:
        return []
    name = m["name"]
    if name in body_fields:
        return [FieldError(field=f"$.{name}", message=message)]
    if name in parameters:
        return [FieldError(field=name, message=message)]
    return []


def field_error(field: str, message: str) -> list[FieldError]:
    """A refusal whose raiser named its field (`Refused(…, field="$.sku")`)."""
    return [FieldError(field=field, message=message)]
