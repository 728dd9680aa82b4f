"""Lummy (Mexico, CFDI): re-send an invoice's PDF by e-mail.

Contract: ``POST {base}/invoices/{invoiceId}/resend-pdf`` answering in the
StandardResponse envelope (``requestId`` plus ``data`` or ``error``). Every
logical re-send carries one ``x-idempotency`` key, so a 5xx may be retried with
the same key; Lummy replays the first result instead of e-mailing twice.

Lookup: ``GET {base}/invoices/{invoiceId}`` exists in Lummy's documentation
("consultar factura") but its answer is not documented beyond carrying
``cfdiUuid``. The client reads it as optional and tolerant: the StandardResponse
``data`` (or ``data.invoice``), with the customer under ``customer``/``receptor``
and the usual names for serie, folio, total, currency, date, status and e-mail.
Whatever is missing or shaped otherwise is simply not known.

Search: ``GET {base}/customers?search=`` finds customers by RFC or razón social
(partial, case-insensitive). Lummy documents no list of invoices, so a search
resolves customers only; see `search`.

Everything the bot knows about Lummy is here: the invoice, the settings
(``LUMMY_*``) and its quota in `model`, how agents write its ids (pasted links to
an invoice included) in `parser`, the API in `client`, how a customer search is
asked and read in `search`, and the form with the `InvoiceProvider` object in
`provider`.
"""
