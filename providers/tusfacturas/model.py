"""The TusFacturas voucher, its vocabulary, and the settings (``TUSFACTURAS_*``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from providers.base import ProviderSettings, ResendRequest, blank_is_unset

KEY: Final = "tusfacturas"

_FCE_KINDS: Final = ("FACTURA DE CREDITO", "NOTA DE DEBITO", "NOTA DE CREDITO")

#: The 27 voucher types TusFacturas accepts, spelled exactly as its API expects.
VOUCHER_TYPES: Final[tuple[str, ...]] = (
    *(f"FACTURA {letter}" for letter in "ABCME"),
    *(f"NOTA DE DEBITO {letter}" for letter in "ABCME"),
    *(f"NOTA DE CREDITO {letter}" for letter in "ABCME"),
    "RECIBO C",
    "FACTURA NO VALIDA EN AFIP",
    "NOTA DE CREDITO NO VALIDA EN AFIP",
    *(f"{kind} ELECTRONICA MiPyME (FCE) {letter}" for kind in _FCE_KINDS for letter in "ABC"),
)

PUNTO_VENTA_MAX: Final = 99_999
NUMERO_MAX: Final = 99_999_999


class Operacion(StrEnum):
    """Whether the voucher belongs to sales (``V``) or purchases (``C``)."""

    VENTA = "V"
    COMPRA = "C"


def _known_voucher_type(tipo: str) -> str:
    if tipo not in VOUCHER_TYPES:
        raise ValueError(f"unknown voucher type {tipo!r}")
    return tipo


class TusFacturasVoucher(ResendRequest):
    """A TusFacturas voucher, identified the way its API expects."""

    provider = KEY

    tipo: str
    operacion: Operacion = Operacion.VENTA
    punto_venta: int = Field(ge=1, le=PUNTO_VENTA_MAX)
    numero: int = Field(ge=1, le=NUMERO_MAX)

    _tipo_known = field_validator("tipo")(_known_voucher_type)

    @property
    def reference(self) -> str:
        """The printed form agents hold, e.g. ``FACTURA B 0002-00000006``."""
        return f"{self.tipo} {self.punto_venta:04d}-{self.numero:08d}"

    @property
    def invoice_key(self) -> str:
        """A stable identity for history and duplicate checks (operacion included)."""
        parts = (self.tipo, self.operacion.value, self.punto_venta, self.numero)
        return f"{self.provider}:" + "|".join(str(part) for part in parts)

    @property
    def qualifiers(self) -> tuple[str, ...]:
        """``compra`` for a purchase voucher (sales are the default, left unsaid)."""
        return ("compra",) if self.operacion is Operacion.COMPRA else ()

    @property
    def document_type(self) -> str:
        """The voucher type, as the API spells it (``FACTURA B``)."""
        return self.tipo

    @property
    def short_reference(self) -> str:
        """Punto de venta and number, as printed: ``0002-00000006``."""
        return f"{self.punto_venta:04d}-{self.numero:08d}"


class TusFacturasCredentials(BaseModel):
    """One credential set; TusFacturas issues one per punto de venta."""

    # A validation error must not print the secrets it was given.
    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    apikey: SecretStr
    apitoken: SecretStr
    usertoken: SecretStr


class TusFacturasSettings(ProviderSettings):
    """``TUSFACTURAS_*``: a default credential set, plus optional sets per punto de venta."""

    model_config = SettingsConfigDict(env_prefix="TUSFACTURAS_")

    apikey: SecretStr | None = None
    apitoken: SecretStr | None = None
    usertoken: SecretStr | None = None
    credentials: dict[int, TusFacturasCredentials] = Field(
        default_factory=dict,
        description='JSON map of punto de venta to credentials: {"2": {"apikey": ...}}',
    )
    base_url: HttpUrl = HttpUrl("https://www.tusfacturas.app/app/api/v2")

    _blank_is_unset = field_validator("apikey", "apitoken", "usertoken", mode="before")(
        blank_is_unset
    )

    @field_validator("credentials")
    @classmethod
    def _puntos_de_venta_in_range(
        cls, value: dict[int, TusFacturasCredentials]
    ) -> dict[int, TusFacturasCredentials]:
        bad = [pv for pv in value if not 1 <= pv <= PUNTO_VENTA_MAX]
        if bad:
            raise ValueError(f"TUSFACTURAS_CREDENTIALS has puntos de venta out of range: {bad}")
        return value

    def config(self) -> TusFacturasConfig | None:
        """Endpoint and credentials, or None when there are none."""
        default: TusFacturasCredentials | None = None
        if self.apikey and self.apitoken and self.usertoken:
            default = TusFacturasCredentials(
                apikey=self.apikey, apitoken=self.apitoken, usertoken=self.usertoken
            )
        if default is None and not self.credentials:
            return None
        return TusFacturasConfig(
            base_url=str(self.base_url),
            default_credentials=default,
            credentials_by_punto_venta=dict(self.credentials),
        )


@dataclass(frozen=True)
class TusFacturasConfig:
    """Endpoint and credentials: a default set and optional per-punto-de-venta sets."""

    base_url: str
    default_credentials: TusFacturasCredentials | None = None
    credentials_by_punto_venta: Mapping[int, TusFacturasCredentials] = field(default_factory=dict)

    def credentials_for(self, punto_venta: int) -> TusFacturasCredentials | None:
        """The set for this punto de venta, else the default set, else None."""
        return self.credentials_by_punto_venta.get(punto_venta, self.default_credentials)
