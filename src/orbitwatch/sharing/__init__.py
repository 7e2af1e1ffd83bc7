"""Coalition sharing: identities, the one authorisation filter, releases and the audit chain.

Public face (import from here)::

    from orbitwatch.sharing import Principal, readable_by, AuditLog, elsets_visible_to
"""

from orbitwatch.sharing.audit import AuditBuffer, AuditEntry, AuditLog, VerifyReport
from orbitwatch.sharing.authz import Where, is_restricted, readable_by
from orbitwatch.sharing.principal import ROLES, Principal, anonymous, is_public
from orbitwatch.sharing.views import derived_marking, elsets_visible_to, recompute_for

__all__ = [
    "ROLES", "AuditBuffer", "AuditEntry", "AuditLog", "Principal", "VerifyReport", "Where", "anonymous",
    "derived_marking", "elsets_visible_to", "is_public", "is_restricted", "readable_by", "recompute_for",
]
