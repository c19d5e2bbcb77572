"""Checking the audit trail (`pathway audit verify`, the weekly digest, restore): the store's chain,
row fingerprints and external anchors, offered to the adapters as one service."""

from pathway.store.audit_anchor import AnchorStore, store_for
from pathway.store.audit_check import AuditCheck, check_audit

anchor_store_for = store_for

__all__ = ["AnchorStore", "AuditCheck", "anchor_store_for", "check_audit"]
