"""What each kind of request says: one typed schema per kind, checked on every write.

A request keeps its form content in one JSON column (``Request.payload``); these
dataclasses are the only way in and out. ``parse`` turns stored JSON into the
kind's dataclass and refuses anything else (a missing or unknown key, a wrong type,
an unknown level); ``to_json`` turns it back. ``Request.clean`` and
``Request.set_payload`` validate on write, the ``Request.payload_for_*`` accessors
read. Dates are ISO strings in JSON and ``datetime.date`` here; amounts are strings
in JSON and ``Decimal`` here.
"""

import dataclasses
import datetime
import types
import typing
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError

from reconi.levels import AssuranceLevel

_PRIMITIVES = (str, int, bool)


def _is_date_type(kind) -> bool:
    # By name: a test clock (freezegun) swaps ``datetime.date`` for a subclass at run time.
    return getattr(kind, "__module__", "") == "datetime" and getattr(kind, "__name__", "") == "date"


def _level(value: str, path: str) -> None:
    if value not in AssuranceLevel.values:
        raise ValidationError(f"{path}: unknown assurance level {value!r}.", code="payload")


def _decode(kind, value, path: str):
    """One JSON value into ``kind`` (a type hint), or ValidationError naming where it is wrong."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [option for option in typing.get_args(kind) if option is not type(None)]
        return None if value is None else _decode(options[0], value, path)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ValidationError(f"{path}: a list is expected.", code="payload")
        (item_kind, _ellipsis) = typing.get_args(kind)
        return tuple(_decode(item_kind, item, f"{path}[{index}]") for index, item in enumerate(value))
    if dataclasses.is_dataclass(kind):
        return _from_dict(kind, value, path)
    if _is_date_type(kind):
        try:
            return kind.fromisoformat(value)
        except (TypeError, ValueError):
            raise ValidationError(f"{path}: a date (YYYY-MM-DD) is expected.", code="payload") from None
    if kind is Decimal:
        try:
            if isinstance(value, bool) or not isinstance(value, str | int):
                raise InvalidOperation
            return Decimal(str(value))
        except InvalidOperation:
            raise ValidationError(f"{path}: an amount is expected.", code="payload") from None
    if kind in _PRIMITIVES:
        # bool is an int in Python; JSON true is not a number here, nor 1 a boolean.
        if type(value) is not kind:
            raise ValidationError(f"{path}: {kind.__name__} expected, not {type(value).__name__}.", code="payload")
        return value
    raise TypeError(f"{path}: no decoder for {kind!r}")  # a schema bug, not bad input


def _from_dict(cls, data, path: str):
    if not isinstance(data, dict):
        raise ValidationError(f"{path or cls.__name__}: an object is expected.", code="payload")
    hints = typing.get_type_hints(cls)
    fields = {field.name: field for field in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ValidationError(f"{path or cls.__name__}: unknown field(s) {', '.join(unknown)}.", code="payload")
    values = {}
    for name, field in fields.items():
        where = f"{path}.{name}" if path else name
        if name in data:
            values[name] = _decode(hints[name], data[name], where)
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise ValidationError(f"{where}: required.", code="payload")
    return cls(**values)


def parse(cls, data: dict):
    """``data`` as the dataclass ``cls`` (a payload or a part of one, such as ``Person``)."""
    return _from_dict(cls, data, "")


def _encode(value):
    if dataclasses.is_dataclass(value):
        return {field.name: _encode(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_encode(item) for item in value]
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, str):  # a TextChoices member is stored as its plain value
        return str(value)
    return value


@dataclasses.dataclass(frozen=True, kw_only=True)
class Payload:
    """Shared by every kind: the representatives who must sign (rule 10), set when it is sent."""

    signers: tuple[int, ...] = ()

    @classmethod
    def parse(cls, data: dict) -> "Payload":
        return parse(cls, data)

    def to_json(self) -> dict:
        return _encode(self)


@dataclasses.dataclass(frozen=True, kw_only=True)
class AuthorizationLine:
    """One authorization a form asks for: a scope, a level, a period; a label for the form."""

    scope: str
    level: str
    years: int
    service_id: int | None = None
    provider_id: int | None = None
    user_id: int | None = None
    branch_number: str = ""
    label: str = ""

    def __post_init__(self):
        _level(self.level, "authorization")


@dataclasses.dataclass(frozen=True, kw_only=True)
class IdentityCheck:
    method: str
    document_type: str
    document_last4: str
    by: str
    at: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class Person:
    """One person on a new-means form; after fulfilment also who they became."""

    first_name: str
    initials: str = ""
    last_name: str
    date_of_birth: datetime.date
    email: str
    phone: str = ""
    level: str
    years: int
    authorizations: tuple[AuthorizationLine, ...] = ()
    identity_check: IdentityCheck | None = None
    user_id: int | None = None
    means_id: int | None = None
    authorization_ids: tuple[int, ...] = ()

    def __post_init__(self):
        _level(self.level, "person")


@dataclasses.dataclass(frozen=True, kw_only=True)
class NewMeansPayload(Payload):
    people: tuple[Person, ...]


@dataclasses.dataclass(frozen=True, kw_only=True)
class UpgradePayload(Payload):
    means_id: int
    from_level: str
    to_level: str
    # Above the manager's own level: the representative signs and support checks identity in person.
    in_person_check: bool = False

    def __post_init__(self):
        _level(self.from_level, "from_level")
        _level(self.to_level, "to_level")


@dataclasses.dataclass(frozen=True, kw_only=True)
class NewAuthorizationsPayload(Payload):
    authorizations: tuple[AuthorizationLine, ...]


@dataclasses.dataclass(frozen=True, kw_only=True)
class LinkUserPayload(Payload):
    from_organization_id: int
    from_organization: str = ""
    declined: bool = False


@dataclasses.dataclass(frozen=True, kw_only=True)
class ManagerDetails:
    name: str
    email: str
    date_of_birth: datetime.date | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class AppointManagerPayload(Payload):
    manager: ManagerDetails
    means_level: str

    def __post_init__(self):
        _level(self.means_level, "means_level")


@dataclasses.dataclass(frozen=True, kw_only=True)
class MeansRenewalPayload(Payload):
    means_id: int
    years: int
    valid_until: datetime.date
    new_valid_until: datetime.date
    price: Decimal
    approvers: tuple[int, ...] = ()
    renewed_until: datetime.date | None = None
