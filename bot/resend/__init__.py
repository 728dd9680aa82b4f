"""The resend core: who may re-send, the duplicate guard, the run, the audit trail."""
