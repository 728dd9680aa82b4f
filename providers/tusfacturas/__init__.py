"""TusFacturas.app (Argentina, ARCA ex AFIP): re-send a voucher by e-mail.

Contract: ``POST {base}/facturacion/reenviar`` with the credentials in the body.
Business and validation errors come as HTTP 200 with ``error: "S"``; transport
and access errors as 4xx, possibly without JSON. There is no request id and no
idempotency: a 5xx (a gateway timing out, say) may come after the e-mail went out,
so it is never retried automatically and its outcome is reported as unknown.
A 429 is a per-second throttle: nothing was sent, and trying again shortly works.

Lookup: ``POST {base}/facturacion/consulta`` takes the same body and answers the
customer (name, tax id, e-mails on file) and the voucher (date, total, currency,
status, a PDF link valid for the day); it is not billed as a request.

Search (`search`): by CUIT, the customer's account (``POST {base}/clientes/cuenta-corriente``,
billed as a request) from every credential set; by date, the advanced search (``POST
{base}/facturacion/consulta_avanzada``, not billed) page by page per credential set.
Calls of one credential set are spaced by a little over 100 ms, and a 429 is tried again.

Everything the bot knows about TusFacturas is here: the voucher and the settings
(``TUSFACTURAS_*``) in `model`, how agents write vouchers in `parser`, the API in
`client` (what its answers say in `facts`, the searches in `search`), and the form
with the `InvoiceProvider` object in `provider`.
"""
