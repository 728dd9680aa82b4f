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
    DEFAULT_LUMMY_DETAILS,
    DEFAULT_LUMMY_INVOICES,
    LummyEmulator,
    LummyInvoiceDetails,
    LummySend,
)
from devkit.emulators.tusfacturas import (
    DEFAULT_TUSFACTURAS_VOUCHERS,
    TusFacturasCredentials,
    TusFacturasEmulator,
    TusFacturasSend,
    VoucherKey,
    VoucherRecord,
    format_voucher,
    tusfacturas_key,
)

__all__ = [
    "ALL_ROUTES",
    "DEFAULT_LUMMY_DETAILS",
    "DEFAULT_LUMMY_INVOICES",
    "DEFAULT_TUSFACTURAS_VOUCHERS",
    "LOOKUP_ROUTE",
    "RESEND_ROUTE",
    "Clock",
    "EmulatorServer",
    "Fault",
    "FaultKind",
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
    "tusfacturas_key",
    "utc_now",
]
