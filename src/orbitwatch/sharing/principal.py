"""Who is asking: the :class:`Principal` every read and act is checked against."""

from __future__ import annotations

from dataclasses import dataclass, field

from orbitwatch.markings import DEFAULT_SCHEME, ClassificationScheme, Marking, can_read

#: Roles a user may hold. Roles say what a user may *do*; releasability alone says what it may *read*
#: (an admin reads no more than its nation and clearance allow).
ROLES: tuple[str, ...] = ("analyst", "operator", "exercise-control", "admin")


@dataclass(frozen=True)
class Principal:
    """An authenticated caller (or the anonymous public when ``kind == "anonymous"``).

    A national user has ``nation`` (a partner trigraph); a partner-organisation user has
    ``organisation`` and ``nation=None`` and reads only TLP-marked data at the lowest level.
    """

    username: str
    nation: str | None
    clearance: str
    roles: frozenset[str] = field(default_factory=frozenset)
    organisation: str | None = None
    user_id: int | None = None
    kind: str = "user"  # user | anonymous
    auth: str = "token"  # token | session | none (how the caller proved who it is)

    @property
    def is_anonymous(self) -> bool:
        return self.kind == "anonymous"

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def can_read(self, marking: Marking, scheme: ClassificationScheme = DEFAULT_SCHEME) -> bool:
        """The Python twin of :func:`orbitwatch.sharing.authz.readable_by` (tested to agree)."""
        if self.is_anonymous:
            return is_public(marking, scheme)
        return can_read(marking, nation=self.nation, clearance=self.clearance,
                        organisation=self.organisation, scheme=scheme)

    @property
    def label(self) -> str:
        """How the principal appears in audit entries and logs."""
        who = self.nation or (f"ORG {self.organisation}" if self.organisation else "PUBLIC")
        return f"{self.username} ({who}, {self.clearance})"


def is_public(marking: Marking, scheme: ClassificationScheme = DEFAULT_SCHEME) -> bool:
    """Records the anonymous public may read (when the node enables public access): lowest level and
    ``TLP:CLEAR`` - the marking that says "disclosure is not limited"."""
    return marking.classification == scheme.lowest and marking.tlp == "CLEAR"


def anonymous(scheme: ClassificationScheme = DEFAULT_SCHEME) -> Principal:
    return Principal(username="anonymous", nation=None, clearance=scheme.lowest, kind="anonymous",
                     auth="none")
