"""Loopback HTTP emulators of the invoicing providers, for the demo and the tests."""

from devkit.emulators.common import (
    ALL_ROUTES,
    LOOKUP_ROUTE,
    RESEND_ROUTE,
    Clock,
    EmulatorServer,
    Fault,
    FaultKind,
    RecordedRequest,
    utc_now,
)
from devkit.emulators.lummy import (
    CUSTOMER_ROUTE,
    CUSTOMERS_ROUTE,
    DEFAULT_LUMMY_DETAILS,
    DEFAULT_LUMMY_INVOICES,
    LummyEmulator,
    LummyInvoiceDetails,
    LummySend,
)
from devkit.emulators.lummy_customers import (
    DEFAULT_LUMMY_CUSTOMERS,
    DEFAULT_LUMMY_INVOICE_CUSTOMERS,
    LummyCustomer,
    is_valid_rfc,
)
from devkit.emulators.tusfacturas import (
    TusFacturasCredentials,
    TusFacturasEmulator,
    TusFacturasSend,
    format_voucher,
    tusfacturas_key,
)
from devkit.emulators.tusfacturas_search import (
    CONSULTA_AVANZADA_ROUTE,
    CUENTA_CORRIENTE_ROUTE,
    page_key,
)
from devkit.emulators.tusfacturas_vouchers import (
    DEFAULT_TUSFACTURAS_VOUCHERS,
    VoucherKey,
    VoucherRecord,
)

__all__ = [
    "ALL_ROUTES",
    "CONSULTA_AVANZADA_ROUTE",
    "CUENTA_CORRIENTE_ROUTE",
    "CUSTOMERS_ROUTE",
    "CUSTOMER_ROUTE",
    "DEFAULT_LUMMY_CUSTOMERS",
    "DEFAULT_LUMMY_DETAILS",
    "DEFAULT_LUMMY_INVOICES",
    "DEFAULT_LUMMY_INVOICE_CUSTOMERS",
    "DEFAULT_TUSFACTURAS_VOUCHERS",
    "LOOKUP_ROUTE",
    "RESEND_ROUTE",
    "Clock",
    "EmulatorServer",
    "Fault",
    "FaultKind",
    "LummyCustomer",
    "LummyEmulator",
    "LummyInvoiceDetails",
    "LummySend",
    "RecordedRequest",
    "TusFacturasCredentials",
    "TusFacturasEmulator",
    "TusFacturasSend",
    "VoucherKey",
    "VoucherRecord",
    "format_voucher",
    "is_valid_rfc",
    "page_key",
    "tusfacturas_key",
    "utc_now",
]
