"""Finding every invoice reference a free text holds, for whichever provider names it."""

from __future__ import annotations

import pytest

from providers.registry import ProviderRegistry, builtin_registry
from providers.scanning import MAX_REFERENCES, references_in
from tests.test_new_provider import FACTURITA

REGISTRY = builtin_registry()
LUMMY_ID = "550e8400-e29b-41d4-a716-446655440000"
OTHER_LUMMY_ID = "3f2b8c1e-7a4d-4e9b-9c61-2d5f0a8b7e13"


def found(text: str, registry: ProviderRegistry = REGISTRY) -> list[tuple[str, str, str]]:
    """(provider, reference, words as written) of each reference, in order."""
    references, _ = references_in(text, registry.values())
    return [(r.request.provider, r.request.reference, r.text) for r in references]


def test_a_voucher_and_a_lummy_id_inside_sentences() -> None:
    text = (
        f"Hola, nunca me llegó la Factura B N° 0002-00000006. Tampoco la factura ({LUMMY_ID}) "
        "de México. Gracias!"
    )
    assert found(text) == [
        ("tusfacturas", "FACTURA B 0002-00000006", "Factura B N° 0002-00000006"),
        ("lummy", LUMMY_ID, LUMMY_ID),
    ]


@pytest.mark.parametrize(
    ("text", "reference"),
    [
        ("reenviar la fc b 2-6 por favor", "FACTURA B 0002-00000006"),
        ("NC A 0003-00000007, gracias", "NOTA DE CREDITO A 0003-00000007"),
        (
            "la FACTURA DE CREDITO ELECTRONICA MiPyME (FCE) A 0003-00000087 del mes",
            "FACTURA DE CREDITO ELECTRONICA MiPyME (FCE) A 0003-00000087",
        ),
        (f"link: <https://app.lummy.io/invoices/{LUMMY_ID}|ver factura>", LUMMY_ID),
        (f"*{LUMMY_ID}*", LUMMY_ID),
    ],
)
def test_every_form_the_parsers_know(text: str, reference: str) -> None:
    ((_, found_reference, _),) = found(text)
    assert found_reference == reference


def test_the_operation_word_after_a_voucher_belongs_to_it() -> None:
    ((provider, _, words),) = found("la FACTURA B 0002-00000006 compra no llegó")
    assert (provider, words) == ("tusfacturas", "FACTURA B 0002-00000006 compra")
    (reference,), _ = references_in("FACTURA B 0002-00000006 compra", REGISTRY.values())
    assert reference.request.qualifiers == ("compra",)


def test_addresses_are_collected_apart_and_never_taken_by_a_reference() -> None:
    text = f"{LUMMY_ID} <mailto:otro@cliente.com|otro@cliente.com>, copia a ana@empresa.com."
    references, emails = references_in(text, REGISTRY.values())
    assert emails == ("otro@cliente.com", "ana@empresa.com")
    (reference,) = references
    assert reference.request.alternative_email is None


def test_repeats_are_listed_once_in_order() -> None:
    text = f"{OTHER_LUMMY_ID}\n{LUMMY_ID}\nY de nuevo: {OTHER_LUMMY_ID}"
    assert [ref for _, ref, _ in found(text)] == [OTHER_LUMMY_ID, LUMMY_ID]


def test_nothing_to_find() -> None:
    assert found("Hola, ¿me ayudan con un reenvío? El número es 12-34.") == []
    assert references_in("", REGISTRY.values()) == ((), ())


def test_at_most_a_few_references() -> None:
    text = " ".join(f"FACTURA B 0002-{n:08d}" for n in range(1, 30))
    assert len(found(text)) == MAX_REFERENCES


def test_a_provider_added_later_is_found_the_same_way() -> None:
    registry = ProviderRegistry([*REGISTRY.values(), FACTURITA])
    assert found("Pidió la F-000123 y la FACTURA B 0002-00000006", registry) == [
        ("facturita", "F-000123", "F-000123"),
        ("tusfacturas", "FACTURA B 0002-00000006", "FACTURA B 0002-00000006"),
    ]
