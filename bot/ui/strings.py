"""Every sentence a person reads in Slack, in neutral Latin American Spanish.

Kept in one place so the tone stays consistent and translators have one file.
To agents: infinitives and impersonal phrasing, never usted, tú or vos ("tu" as a
possessive is shared by both countries); "correo", never "e-mail". The reply an
agent pastes to a customer uses usted, which reads right in Argentina and Mexico.
One noun per provider: "factura" for Lummy; for TusFacturas the voucher's own type
("Factura B", "Nota de crédito A"), "comprobante" when speaking of any.
No text here contains <, > or &: Slack's mrkdwn would read them as markup.
"""

from __future__ import annotations

from typing import Final

# --- Provider outcomes ---------------------------------------------------------

PROVIDER_ERRORS: Final[dict[str, str]] = {
    "not_configured": (
        "{provider} no está configurado en el bot. "
        "Pedir al administrador del bot que cargue las credenciales de {provider}."
    ),
    "authentication_failed": (
        "{provider} rechazó las credenciales del bot o la conexión está mal configurada. "
        "Avisar al administrador del bot; reintentar no va a servir."
    ),
    "invalid_request": (
        "{provider} consideró inválidos los datos enviados. Revisar los datos y volver a intentar."
    ),
    "not_found": (
        "{provider} no encontró ese comprobante. "
        "Revisar el identificador (y la cuenta del cliente) y volver a intentar."
    ),
    "not_found.tusfacturas": (
        "TusFacturas no tiene un comprobante con esos datos. Revisar el tipo, la operación, "
        "el punto de venta y el número."
    ),
    "not_found.lummy": (
        "Lummy no tiene una factura con ese ID. Revisar que sea el ID de Lummy y no el folio "
        "fiscal del SAT."
    ),
    "rate_limited": "{provider} frenó el reenvío por exceso de solicitudes; no se envió nada.",
    "rate_limited.throttled": (
        "{provider} recibió demasiadas solicitudes en ese segundo y frenó el reenvío; no se "
        "envió nada."
    ),
    "rejected": "{provider} rechazó el reenvío (el motivo está en el detalle técnico).",
    "unavailable": (
        "{provider} no respondió o tuvo una falla interna; no se envió nada. "
        "Se puede reintentar sin riesgo."
    ),
    "unknown": (
        "{provider} no confirmó el reenvío: pudo haber salido de todos modos. "
        "Antes de reintentar, confirmar con el cliente si recibió el correo."
    ),
}

#: When credentials exist but none covers the value of one field, by field name.
NOT_CONFIGURED_FOR_FIELD: Final[dict[str, str]] = {
    "punto_venta": (
        "El bot no tiene credenciales de {provider} para el punto de venta {value}. "
        "Pedir al administrador del bot que las cargue."
    ),
}
NOT_CONFIGURED_FOR_VALUE: Final = (
    "El bot no tiene credenciales de {provider} para «{value}». "
    "Pedir al administrador del bot que las cargue."
)
INVALID_FIELD: Final[dict[str, str]] = {
    "email": (
        "El proveedor rechazó el correo alternativo. Revisar la dirección y volver a intentar."
    ),
}
RATE_LIMIT_PER_HOUR: Final = "El límite es de {limit} reenvíos por hora por factura."
RETRY_IN: Final = "Se puede volver a intentar en {wait}."
RETRY_SOON: Final = "Se puede reintentar en unos segundos."
#: Known reasons a provider gives for refusing, by `RejectedError.reason`.
REJECTION_REASONS: Final[dict[str, str]] = {
    "email_sending_off": (
        "{provider} no permite el reenvío: el cliente no tenía activado el envío por correo "
        "al emitirse (activarlo ahora no cambia lo ya emitido)."
    ),
}
#: What to do instead, when the lookup gave a link to the PDF (and when it did not).
PDF_NEXT_STEP: Final = (
    "Descargar el PDF (el enlace vale solo por hoy) y adjuntarlo en la respuesta."
)
PDF_ELSEWHERE: Final = "Descargar el PDF desde {provider} y enviárselo al cliente por otro medio."
SECONDS: Final = ("1 segundo", "{n} segundos")
MINUTES: Final = ("1 minuto", "{n} minutos")
HOURS: Final = ("1 hora", "{n} horas")
HOURS_AND_MINUTES: Final = "{hours} {minutes} min"


# --- Reading what agents paste -------------------------------------------------

#: What is wrong with a typed value, by the provider's problem code. ``{text}`` is what
#: the agent typed, ``{limit}`` the largest value allowed.
PROBLEMS: Final[dict[str, str]] = {
    "required": "Este dato es obligatorio.",
    "provider_required": "Elegir el proveedor.",
    "empty": "No hay nada para leer. Pegar el comprobante o el ID de la factura.",
    "not_a_reference": (
        "No se entiende «{text}». Se espera un comprobante de TusFacturas "
        "(Factura B 0002-00000006) o el ID de una factura de Lummy (un UUID, o el enlace a "
        "la factura)."
    ),
    "extra_text": "Sobra texto al final: «{text}».",
    "email_invalid": "«{text}» no es un correo válido: corregirlo o borrarlo.",
    "tipo_unknown": (
        "No se reconoce el tipo de comprobante «{text}». Ejemplos: Factura B, FC B, NC A, "
        "ND B, FCE A."
    ),
    "tipo_missing": "Falta el tipo de comprobante, por ejemplo: Factura B 0002-00000006.",
    "numbers_missing": (
        "Falta el punto de venta y el número. Formato esperado: Factura B 0002-00000006."
    ),
    "numbers_invalid": (
        "No se entiende «{text}» como punto de venta y número. Formato esperado: 0002-00000006."
    ),
    "tipo_invalid": "Elegir uno de los 27 tipos de comprobante de TusFacturas.",
    "operacion_invalid": "La operación debe ser V (venta) o C (compra).",
    "punto_venta_invalid": (
        "«{text}» no es un punto de venta: debe ser un número entre 1 y {limit}."
    ),
    "numero_invalid": "«{text}» no es un número de comprobante: debe ir de 1 a {limit}.",
    "invoice_id_invalid": (
        "«{text}» no es un ID de Lummy: debe ser un UUID como "
        "550e8400-e29b-41d4-a716-446655440000, o el enlace a la factura."
    ),
    "cuit_check_digit": (
        "El CUIT {text} no es válido: su último dígito no corresponde a los anteriores. "
        "Revisarlo con el cliente."
    ),
    "date_invalid": "«{text}» no es una fecha pasada válida (día/mes, o día/mes/año).",
    "nothing_to_search": (
        "No hay por qué buscar en «{text}». Escribir un CUIT, un RFC, un correo, una fecha, "
        "una serie-folio (A-1234) o «buscar» y el nombre del cliente."
    ),
}
#: For a problem code the bot has no words for (a provider added later).
PROBLEM_UNKNOWN: Final = "Revisar este dato."

# --- The modal -----------------------------------------------------------------

PREFILL_NOTICE: Final = (
    ":warning: No se entendió todo lo escrito: {problem} Completar o corregir abajo."
)
#: Under a prefilled field whose value has a problem (the modal refuses it until fixed).
FIELD_PROBLEM: Final = ":warning: {problem}"
PROVIDER_WORD_READ_AS: Final = ":information_source: Se tomó «{word}» como {provider}."
PROVIDER_WORD_OVERRULED: Final = (
    ":information_source: «{word}» no corresponde a este comprobante: es de {provider}."
)
MODAL_TITLE: Final = "Reenviar comprobante"
MODAL_SUBMIT: Final = "Reenviar"
MODAL_CLOSE: Final = "Cancelar"
PROVIDER_LABEL: Final = "Proveedor"
PROVIDER_OPTION: Final = "{label} ({country})"
#: Country names by ISO code, for the provider choice.
COUNTRY_NAMES: Final[dict[str, str]] = {"AR": "Argentina", "MX": "México"}
PROVIDER_NOT_CONFIGURED_SHORT: Final = "No configurado en el bot"
SELECT_PLACEHOLDER: Final = "Elegir o escribir para buscar"
#: Form field labels: ``provider.field`` first, then the bare field name.
FIELD_LABELS: Final[dict[str, str]] = {
    "tusfacturas.tipo": "Tipo de comprobante",
    "tusfacturas.operacion": "Operación",
    "tusfacturas.punto_venta": "Punto de venta",
    "tusfacturas.numero": "Número",
    "lummy.invoice_id": "ID de la factura en Lummy",
    "email": "Correo alternativo",
}
#: Hints under form fields, looked up like the labels.
FIELD_HINTS: Final[dict[str, str]] = {
    "tusfacturas.numero": (
        "Como en el comprobante impreso: Factura B 0002-00000006 es punto de venta 0002, número "
        "00000006. Se envía a los correos cargados en el cliente."
    ),
    "lummy.invoice_id": "Se puede pegar el enlace a la factura en Lummy.",
    "email": (
        "Opcional. Si se completa, el PDF va a esta dirección en lugar del correo del cliente, "
        "solo en este envío."
    ),
}
# An address typed for a provider that sends only to the e-mails on the customer's file
# (TusFacturas): the modal, the message shortcut, the outcome and its ready reply.
#: One line, in the modal and beside the addresses a message names.
FILE_ONLY_NOTE: Final = "{provider} envía solo a los correos cargados en el cliente."
FILE_ONLY_PDF: Final = (
    "Para que le llegue a {address}, descargar el PDF (el enlace vale solo por hoy) y reenviárselo."
)
FILE_ONLY_NO_PDF: Final = (
    "Para que le llegue a {address}, descargar el PDF desde {provider} y reenviárselo."
)
FILE_CONFIRM_LABEL: Final = "Destinatarios"
FILE_CONFIRM_OPTION: Final = "Reenviar a los correos cargados en el cliente"
FILE_CONFIRM_REQUIRED: Final = (
    "Marcar la casilla para reenviar a los correos cargados en el cliente, o cancelar."
)
FILE_ONLY_SENT: Final = (
    "No fue a {address}: {provider} envía solo a los correos cargados en el cliente."
)
FILE_ONLY_SENT_PDF: Final = "La respuesta lleva el enlace al PDF (vale solo por hoy)."
FILE_ONLY_SENT_NO_PDF: Final = (
    "Para esa dirección, descargar el PDF desde {provider} y reenviárselo."
)
#: Added to the ready reply (usted).
REPLY_FILE_ONLY: Final = (
    "Nuestro sistema envía los comprobantes solo a los correos registrados en su cuenta, por "
    "eso no salió a {address}."
)
REPLY_PDF_LINK: Final = "Puede descargar el PDF aquí (el enlace vale solo por hoy): {url}"
#: Labels of choice values (``field`` → value → label); a value without one shows as is.
CHOICE_LABELS: Final[dict[str, dict[str, str]]] = {
    "operacion": {"V": "Venta", "C": "Compra"},
}
#: Headings of grouped choices, in display order.
CHOICE_GROUPS: Final[dict[str, str]] = {
    "facturas": "Facturas",
    "notas_de_debito": "Notas de débito",
    "notas_de_credito": "Notas de crédito",
    "recibos": "Recibos",
    "fce": "MiPyME (FCE)",
    "no_validas": "No válidas en ARCA (ex AFIP)",
}
#: How a voucher type reads, word by word (API words without accents); a word not listed
#: (a letter, MiPyME, (FCE), AFIP) stays as it is. The first word is capitalized.
DOCUMENT_TYPE_WORDS: Final[dict[str, str]] = {
    "FACTURA": "factura",
    "NOTA": "nota",
    "DE": "de",
    "DEBITO": "débito",
    "CREDITO": "crédito",
    "ELECTRONICA": "electrónica",
    "RECIBO": "recibo",
    "NO": "no",
    "VALIDA": "válida",
    "EN": "en",
}
#: The article of a voucher type, by its first API word ("la" when not listed).
DOCUMENT_TYPE_ARTICLES: Final[dict[str, str]] = {"RECIBO": "el"}
#: What a provider calls its documents, with the article, when they have no types.
INVOICE_NOUNS: Final[dict[str, tuple[str, str]]] = {"lummy": ("la", "factura")}
INVOICE_NOUN_ANY: Final = ("el", "comprobante")
#: The invoice as the customer is told about it when it has no number they know.
YOUR_INVOICE: Final = "su factura"

# --- Messages in the channel ---------------------------------------------------

HELP_TEXT: Final = (
    "*Reenviar una factura al cliente*\n"
    "• `/reenviar`: abre el formulario.\n"
    "• `/reenviar Factura B 0002-00000006`: TusFacturas (venta; agregar `compra` si "
    "corresponde). También `FC B`, `NC A`, `ND B`.\n"
    "• `/reenviar 550e8400-e29b-41d4-a716-446655440000`: Lummy, al correo del cliente (o "
    "pegar el enlace a la factura).\n"
    "• `/reenviar 550e8400-e29b-41d4-a716-446655440000 otro@cliente.com`: Lummy, a otra "
    "dirección.\n"
    "• Se puede anteponer el proveedor: `/reenviar lummy …`, `/reenviar tusfacturas …`.\n"
    "• `/reenviar historial Factura B 0002-00000006`: últimos intentos de ese comprobante.\n"
    "El resultado queda publicado en el canal, con una respuesta lista para el cliente."
)
SUBJECT: Final = "{reference} ({provider})"
#: Words after a reference for what the request's qualifiers say.
QUALIFIERS: Final[dict[str, str]] = {"compra": "(compra)"}
PROGRESS: Final = "Reenviando {subject}, a solicitud de {user}…"
ATTEMPT: Final = "Intento {attempt}."
#: The outcome's first line: what the agent repeats to the customer.
SUCCESS_HEADLINE: Final = ":white_check_mark: *Se reenvió a {recipients}*"
SUCCESS_TEXT: Final = "Se reenvió {invoice} a {recipients} ({provider})."
FAILURE_HEADLINE: Final = ":x: *No se pudo reenviar {invoice}*"
UNKNOWN_HEADLINE: Final = ":grey_question: *No se sabe si se reenvió {invoice}*"
#: The outcome's second line: the invoice in the agent's terms, when, and who asked.
OUTCOME_DETAILS: Final = "{invoice} en {provider}{customer} · {when} · pedido por {user}"
SENT_WHEN: Final = "{date} {time}, hora {zone}"
REQUESTED_BY: Final = "Pedido por {user}"
RETRIED_BY: Final = "Reintentado por {user}."
#: Who it went to when the provider does not say (and a lookup could not tell), by provider.
DEFAULT_RECIPIENTS: Final[dict[str, str]] = {
    "tusfacturas": "los correos cargados en el cliente (TusFacturas no informa cuáles)",
    "lummy": "el correo del receptor registrado en el CFDI",
}
DEFAULT_RECIPIENTS_ANY: Final = "los correos registrados del cliente"
AND_MORE: Final = "y {count} más"
LIST_AND: Final = " y "
#: Time zones by their everyday name, as in "hora de Argentina" ("hora" + the name).
ZONE_NAMES: Final[dict[str, str]] = {
    "America/Argentina/Buenos_Aires": "de Argentina",
    "America/Mexico_City": "del centro de México",
    "UTC": "UTC",
}
#: A zone not listed, by its IANA name.
ZONE_OTHER: Final = "de {zone}"
#: The reply an agent pastes to the customer (usted, for both countries), quoted.
REPLY_SENT: Final = (
    "Le reenviamos {invoice} a {recipients} hoy a las {time}. Si no le llega, revise el "
    "correo no deseado."
)
REPLY_SENT_ON_FILE: Final = (
    "Le reenviamos {invoice} al correo que tenemos registrado hoy a las {time}. Si no le "
    "llega, revise el correo no deseado."
)
#: The small context line under an outcome.
SENT_UTC: Final = "{time} UTC"
TECHNICAL_DETAIL: Final = "Detalle técnico: {detail}"
PROVIDER_SAYS: Final = "{provider} respondió «{message}»"
REQUEST_ID: Final = "ID de solicitud: `{request_id}`"
IDEMPOTENCY_KEY: Final = "Clave: `{key}`"
FIX_BUTTON: Final = "Corregir y reenviar"
PDF_BUTTON: Final = "Descargar PDF"
RETRY_BUTTON: Final = "Reintentar"
RETRY_CONFIRM_TITLE: Final = "¿Reintentar el reenvío?"
RETRY_CONFIRM_SAFE: Final = "No se envió nada la vez anterior. Se va a pedir el reenvío otra vez."
#: After an unknown outcome, for a provider that gets no idempotency key (TusFacturas).
RETRY_CONFIRM_UNKNOWN: Final = (
    "{provider} no usa una clave de reenvío: si el intento anterior salió, reintentar le "
    "manda un segundo correo al cliente. Antes, conviene preguntarle si ya le llegó."
)
#: After an unknown outcome, for a provider that replays a reused key (Lummy).
RETRY_CONFIRM_REPLAYED: Final = (
    "Se reintenta con la misma clave: si el intento anterior salió, {provider} repite su "
    "respuesta y no manda otro correo."
)
#: Providers that answer a reused ``x-idempotency`` key with the first answer, sending nothing.
RETRY_REPLAYS: Final = frozenset({"lummy"})
RETRY_CONFIRM_YES: Final = "Reintentar"
#: The dialog's confirm label when the retry may e-mail the customer again.
RETRY_CONFIRM_RISKY_YES: Final = "Reintentar igual"
RETRY_CONFIRM_NO: Final = "Cancelar"
#: A retry pressed after the invoice was re-sent again, shown only to the clicker.
RETRY_NEWER_SEND: Final = (
    "Ya se reenvió después de este intento: {ago}, por {user}, a {recipients}."
)
RETRY_NEWER_SEND_ON_FILE: Final = (
    "Ya se reenvió después de este intento: {ago}, por {user}, a los correos del cliente."
)
RETRY_NEWER_UNCERTAIN: Final = (
    "Después de este intento, {user} la volvió a reenviar {ago} y el resultado quedó incierto: "
    "el cliente pudo haberla recibido."
)
RETRY_NEWER_UNVERIFIED: Final = (
    "No se pudo consultar el historial a tiempo: no se sabe si esta factura se reenvió "
    "después de este intento."
)
RETRY_NEWER_RISK: Final = (
    "Reintentar ahora puede mandarle otro correo al cliente. Revisar primero si ya le llegó."
)
RETRY_ANYWAY_BUTTON: Final = "Reintentar de todos modos"
RETRY_EXPIRED: Final = "Este botón ya no sirve. Volver a pedir el reenvío con /reenviar."
INTERNAL_ERROR: Final = (
    "Algo falló dentro del bot (error {error_id}); el reenvío puede no haberse completado. "
    "Avisar al administrador del bot con ese código."
)
#: The same, when the failure came before any re-send started.
INTERNAL_ERROR_NOTHING_SENT: Final = (
    "Algo falló dentro del bot (error {error_id}); no se envió nada. Volver a intentar y, si "
    "se repite, avisar al administrador del bot con ese código."
)
DM_FALLBACK_NOTICE: Final = (
    ":information_source: No se pudo publicar en {channel}: el bot no tiene acceso. "
    "El resultado queda aquí; invitar al bot al canal para dejarlo a la vista del equipo."
)
MODAL_OPEN_FAILED: Final = (
    "No se pudo abrir el formulario ({reason}); no se envió nada. Volver a escribir el comando."
)
SLACK_ANSWERED: Final = "Slack lo rechazó; detalle técnico: {error}"
SLACK_TOO_SLOW: Final = "Slack no respondió a tiempo"
THE_CHANNEL: Final = "el canal"

# --- Access control ------------------------------------------------------------

REFUSED_CHANNEL: Final = (
    "Este canal no está habilitado para reenviar facturas. "
    "Usar el comando desde un canal de soporte habilitado."
)
REFUSED_USER: Final = (
    "Tu usuario no tiene permiso para reenviar facturas. Pedir acceso al administrador del bot."
)
REFUSED_PREFIX: Final = ":no_entry: "
ACCESS_CHECK_TIMEOUT: Final = (
    "No se pudo verificar el permiso a tiempo. Volver a enviar el formulario en unos segundos."
)
RETRY_IN_PROGRESS: Final = "{user} ya está reintentando este reenvío. Esperar el resultado."
REFUSAL_LABELS: Final[dict[str, str]] = {
    "channel_not_allowed": "canal no habilitado",
    "user_not_allowed": "usuario sin permiso",
    "alternative_email_off": "correo alternativo desactivado",
    "alternative_email_not_allowed": "sin permiso para correo alternativo",
    "alternative_email_domain": "dominio de correo no permitido",
    "quota_exhausted": "límite por hora agotado",
    "access_check_timeout": "permiso no verificado a tiempo",
}
DUPLICATE_AUDIT: Final = "ya reenviada por {user}"
REFUSED_ALT_EMAIL_OFF: Final = (
    "El envío a un correo alternativo está desactivado. Dejar el campo vacío para enviar "
    "al correo del cliente."
)
REFUSED_ALT_EMAIL_USER: Final = (
    "Tu usuario no tiene permiso para enviar a un correo alternativo. Dejar el campo vacío "
    "o pedir el permiso al administrador del bot."
)
REFUSED_ALT_EMAIL_DOMAIN: Final = "No se permite enviar a direcciones de «{domain}»."

# --- History, duplicates, quota, audit -----------------------------------------

QUOTA_USED: Final = "Reenvíos de esta factura en la última hora: {used} de {limit}."
QUOTA_USED_SHORT: Final = "Reenvíos en la última hora: {used} de {limit}"
QUOTA_EXHAUSTED: Final = (
    "Ya se usaron los {limit} reenvíos por hora de esta factura en {provider}. "
    "Se puede volver a intentar en {wait}."
)
#: In the modal, as soon as the invoice is known.
QUOTA_EXHAUSTED_UNTIL: Final = (
    ":no_entry: Ya se usaron los {limit} reenvíos por hora de esta factura en {provider}: "
    "se puede volver a reenviar desde las {time}."
)
#: A time with the zone it is in, when it is not the agent's own.
TIME_IN_ZONE: Final = "{time} (hora {zone})"
#: The quota used up, under the invoice in the modal and as the submit's error: from
#: when the next re-send frees up, in the agent's time with the zone named.
QUOTA_FULL_UNTIL: Final = (
    "Ya se usaron los {limit} reenvíos por hora de esta factura en {provider}. "
    "Se puede volver a reenviar desde las {time} (hora {zone})."
)
QUOTA_FULL_PREFIX: Final = ":no_entry: "
#: Near the limit (`QuotaUsage.nearly_exhausted`): in the modal's main text.
QUOTA_NEARLY_USED: Final = (
    ":warning: Reenvíos de esta factura en la última hora: {used} de {limit} "
    "(límite de {provider}). {left}."
)
QUOTA_LEFT: Final = ("Queda 1", "Quedan {n}")
#: A quota refusal in `historial` and the Home tab.
QUOTA_REFUSAL_LABEL: Final = "límite de {provider}"
DUPLICATE_RECENT: Final = "Ya fue reenviada {ago} por {user} a {recipients}."
DUPLICATE_RECENT_TO_CUSTOMER: Final = "Ya fue reenviada {ago} por {user} al cliente."
DUPLICATE_UNCERTAIN: Final = (
    "{user} intentó reenviarla {ago} y el resultado quedó incierto: el cliente pudo haberla "
    "recibido."
)
HISTORY_UNVERIFIED: Final = (
    "No se pudo consultar el historial a tiempo: no se sabe si esta factura se reenvió hace "
    "poco. Confirmar para enviarla de todos modos."
)
DUPLICATE_IN_PROGRESS: Final = "{user} la está reenviando en este momento."
DUPLICATE_CONFIRM_LABEL: Final = "Confirmación"
DUPLICATE_CONFIRM_OPTION: Final = "Reenviar de todos modos (el cliente va a recibir otro correo)"
JUST_NOW: Final = "hace un momento"
MINUTES_AGO: Final = "hace {minutes} min"
HISTORY_HEADER: Final = "*Últimos intentos de {reference}* ({count}):"
HISTORY_SHOWN_OF: Final = "los {shown} más recientes de {total}"
#: What the agent typed when it named no invoice (a refusal before one was known).
TYPED_REFERENCE: Final = "«{text}»"
HISTORY_EMPTY: Final = "No hay intentos registrados de {reference}."
HISTORY_ZONE: Final = "Horario {zone}."
HISTORY_USAGE: Final = (
    "Indicar el comprobante: `/reenviar historial Factura B 0002-00000006`, o "
    "`/reenviar historial` seguido del ID de la factura de Lummy."
)
HISTORY_UNAVAILABLE: Final = (
    "El historial no está disponible en este momento. Volver a intentar en unos minutos."
)
OUTCOME_LABELS: Final[dict[str, str]] = {
    "success": "enviada",
    "not_configured": "proveedor no configurado",
    "authentication_failed": "credenciales rechazadas",
    "invalid_request": "datos inválidos",
    "not_found": "no encontrada",
    "rate_limited": "frenada por exceso de solicitudes",
    "rejected": "rechazada",
    "unavailable": "proveedor no disponible",
    "unknown": "resultado incierto",
    "refused": "no permitido",
    "duplicate_warning": "aviso de duplicado",
}
AUDIT_ICONS: Final[dict[str, str]] = {
    "success": ":white_check_mark:",
    "refused": ":no_entry:",
    "duplicate_warning": ":warning:",
    "unknown": ":grey_question:",
}
AUDIT_LINE: Final = "{icon} {user} · {subject}{provider}{channel} · {outcome}"
IN_CHANNEL: Final = "en {channel}"
NO_REFERENCE: Final = "(sin comprobante)"
SEE_MESSAGE: Final = "ver mensaje"

# --- What a provider says about an invoice before it is sent -------------------

PREVIEW_CUSTOMER: Final = ":bust_in_silhouette: *{name}*"
PREVIEW_TAX_ID: Final = "{kind} {number}"
PREVIEW_NUMBER: Final = "Folio {number}"
PREVIEW_ISSUED: Final = "Fecha {date}"
PREVIEW_TOTAL: Final = "Total {amount}"
PREVIEW_RECIPIENTS: Final = "Se va a enviar a {recipients}."
PREVIEW_RECIPIENTS_OR_ALTERNATIVE: Final = (
    "Se va a enviar a {recipients} (o al correo alternativo, si se completa)."
)
PREVIEW_TO_ALTERNATIVE: Final = (
    "Se va a enviar a {alternative}, el correo alternativo (no a {recipients})."
)
PREVIEW_NO_EMAIL: Final = (
    ":warning: El cliente no tiene ningún correo cargado en {provider}: el reenvío no va a "
    "llegar a nadie. Cargar el correo en {provider}, o enviar el PDF por otro medio."
)
PREVIEW_NOT_FOUND: Final = (
    ":warning: {provider} no encuentra nada con estos datos: revisarlos antes de reenviar."
)
PREVIEW_STATUS: Final = ":warning: {status} (estado en {provider}: «{text}»)."
#: What an invoice's status means for a re-send, by `InvoiceStatus` (issued says nothing).
STATUS_WARNINGS: Final[dict[str, str]] = {
    "queued": "Todavía no se emitió: está en cola para emitirse",
    "awaiting_approval": "Todavía no se emitió: espera aprobación",
    "failed": "La emisión falló",
    "cancelled": "Se anuló",
    "other": "El estado no indica que se haya emitido",
}
#: Currency symbols by ISO 4217 code; other codes show as they are.
CURRENCY_SYMBOLS: Final[dict[str, str]] = {"ARS": "$", "MXN": "$", "USD": "US$", "EUR": "€"}

# --- Where the escalation lives: a message's shortcut, the App Home, a workflow step --

SHORTCUT_NOTHING_FOUND: Final = (
    ":information_source: El mensaje no menciona ningún comprobante de TusFacturas ni ID de "
    "Lummy. Completar los datos abajo; el resultado va a quedar en el hilo del mensaje."
)
REFERENCE_LABEL: Final = "Comprobante del mensaje"
REFERENCE_HINT: Final = "El mensaje menciona varios: elegir cuál reenviar."
REFERENCE_OPTION: Final = "{text} ({provider})"
MESSAGE_EMAILS: Final = "Correos en el mensaje: {emails}."
HOME_HEADER: Final = "Reenviar facturas"
HOME_BUTTON: Final = "Reenviar una factura"
HOME_INTRO: Final = (
    "Reenvía facturas de TusFacturas (Argentina) y Lummy (México) al cliente. Desde aquí el "
    "resultado llega por mensaje directo; desde un canal queda a la vista del equipo."
)
HOME_RECENT: Final = "*Últimos intentos* ({count})"
HOME_EMPTY: Final = "Todavía no hay intentos registrados."
HOME_UNAVAILABLE: Final = (
    ":warning: El historial no está disponible en este momento; volver a abrir esta pestaña "
    "en unos minutos."
)
HOME_LINE: Final = "• {when} · {subject} · {outcome}"
HOME_HELP: Final = (
    "*En Slack*\n"
    "• En un mensaje (el de un cliente o el aviso de un ticket): menú ⋮ → *Reenviar factura*. "
    "El formulario viene con el comprobante del mensaje y el resultado queda en su hilo.\n"
    "• En Workflow Builder: el paso *Reenviar factura* (proveedor, comprobante y correo "
    "alternativo opcional)."
)
HOME_CHANNEL_REQUIRED: Final = (
    "Los reenvíos están limitados a ciertos canales: usar /reenviar o el atajo «Reenviar "
    "factura» en un mensaje de un canal habilitado."
)
STEP_SENT: Final = "Reenviada {invoice} ({provider}) a {recipients}."
STEP_NOT_SENT: Final = "No se reenvió {invoice} ({provider}): {explanation}"
STEP_UNKNOWN: Final = "Resultado incierto de {invoice} ({provider}): {explanation}"
STEP_REFUSED: Final = "No se reenvió: {reason}"
STEP_INVALID: Final = "No se reenvió: datos inválidos. {problem}"
STEP_NO_ALTERNATIVE: Final = (
    "No se reenvió: {provider} no permite enviar a otra dirección. Dejar vacío el correo "
    "alternativo."
)
STEP_NO_USER: Final = (
    "No se reenvió: Slack no informó quién ejecuta el flujo. Agregar al flujo un paso que "
    "identifique a la persona (por ejemplo, un mensaje con botón) antes de este."
)
STEP_DUPLICATE: Final = (
    "No se reenvió: {warning} Para enviarla otra vez, reenviarla desde Slack y confirmar."
)
STEP_BOT_FAILED: Final = (
    "Algo falló dentro del bot; el reenvío puede no haberse completado. El mensaje del "
    "resultado tiene el código del error para el administrador del bot."
)
STEP_INTERNAL_ERROR: Final = (
    "Algo falló dentro del bot (error {error_id}); el reenvío puede no haberse completado. "
    "Avisar al administrador del bot con ese código."
)


# --- Search: finding the invoice from what the customer says --------------------

SEARCH_TITLE: Final = "Buscar comprobante"
SEARCH_SUBMIT: Final = "Buscar"
SEARCH_QUERY_LABEL: Final = "Qué dio el cliente"
SEARCH_QUERY_HINT: Final = (
    "CUIT, RFC, correo, fecha (15/11), serie-folio (A-1234) o «buscar» y el nombre. "
    "Sumar un mes (noviembre) o un monto acota los resultados."
)
SEARCH_QUERY_PLACEHOLDER: Final = "30-71543210-9 noviembre"
SEARCHING: Final = ":hourglass_flowing_sand: Buscando {what} {where}…"
SEARCH_WHERE_ONE: Final = "en {provider} y en el historial del bot"
SEARCH_WHERE_ALL: Final = "en los proveedores y en el historial del bot"
SEARCH_OVERRULED: Final = "{named} no busca por {kind}: se busca en {provider}."
#: What was searched, inside a sentence, by `SearchKind`.
SEARCH_WHAT: Final[dict[str, str]] = {
    "cuit": "el CUIT {value}",
    "rfc": "el RFC {value}",
    "email": "el correo {value}",
    "date": "el {value}",
    "serie_folio": "la serie-folio {value}",
    "name": "«{value}»",
}
SEARCH_KIND_NAMES: Final[dict[str, str]] = {
    "cuit": "CUIT",
    "rfc": "RFC",
    "email": "correo",
    "date": "fecha",
    "serie_folio": "serie-folio",
    "name": "nombre",
}
SEARCH_IN_MONTH: Final = " en {month} de {year}"
SEARCH_OF_AMOUNT: Final = " por {amount}"
MONTH_NAMES: Final = (
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
)
SEARCH_FOUND: Final = "*{count}* para {what}."
SEARCH_PICK_LABEL: Final = "Comprobante a reenviar"
SEARCH_COUNT: Final = ("1 comprobante", "{n} comprobantes")
SEARCH_MORE: Final = (
    "Se muestran los 10 más recientes. Para ver otros, sumar un mes (noviembre) o un monto."
)
SEARCH_CUSTOMERS: Final = "Cliente en {provider}: {names}"
SEARCH_NOTHING: Final = "No se encontraron comprobantes para {what}{where}."
SEARCH_NOTHING_IN: Final = " en {places}"
SEARCH_NOTHING_PROVIDER: Final = "{provider}{points}"
SEARCH_POINTS: Final = ("punto de venta {points}", "puntos de venta {points}")
SEARCH_NOTHING_HISTORY: Final = "el historial del bot"
SEARCH_NOTHING_NEXT: Final = (
    "Revisar el dato con el cliente, o escribir el comprobante a mano con el botón de abajo."
)
SEARCH_PROVIDER_FAILED: Final = (
    ":warning: {provider} no pudo buscar ({reason}): se muestra lo que sabe el historial."
)
SEARCH_FAILURE_REASONS: Final[dict[str, str]] = {
    "timeout": "no respondió a tiempo",
    "rate_limited": "recibió demasiadas consultas seguidas; probar en unos segundos",
    "authentication": "rechazó las credenciales del bot",
    "other": "respondió con un error",
}
SEARCH_HISTORY_DOWN: Final = (
    ":warning: El historial del bot no respondió: puede faltar lo que ya se reenvió."
)
#: For providers whose API lists no invoices, by provider key: what is shown and where
#: to find the others.
SEARCH_NO_INVOICE_LIST: Final[dict[str, str]] = {
    "lummy": (
        "Lummy no permite buscar facturas por cliente, folio ni fecha: se muestran las que el "
        "bot ya reenvió. Para otra, pegar su enlace o su ID (en Lummy: Facturas › abrir la "
        "factura › el ID está al final de la dirección)."
    ),
}
SEARCH_NO_INVOICE_LIST_ANY: Final = (
    "{provider} no permite buscar comprobantes: se muestran los que el bot ya reenvió."
)
SEARCH_MANUAL: Final = "Escribir el comprobante"
SEARCH_AGAIN: Final = "Buscar otro"
SEARCH_OPTION_SENT: Final = "reenviada {when}"
#: Payment status labels, by `PaymentStatus`.
PAYMENT_LABELS: Final[dict[str, str]] = {
    "paid": "pagada",
    "unpaid": "impaga",
    "partial": "pago parcial",
}
#: Invoice status labels for a search option, by `InvoiceStatus` (issued says nothing).
STATUS_SHORT: Final[dict[str, str]] = {
    "queued": "en cola",
    "awaiting_approval": "sin aprobar",
    "failed": "con error",
    "cancelled": "anulada",
}
