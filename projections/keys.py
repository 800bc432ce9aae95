"""Redis key layout of the read models. Show keys carry the show in a hash tag ({show_id}) so the same
layout works on Redis Cluster. `namespace` lets a replay build a complete new generation beside the live one."""

from __future__ import annotations

from dataclasses import dataclass

# Which generation of the read models is live; a replay builds the next one beside it, then switches.
ACTIVE_NAMESPACE_KEY = "bo:active"
DEFAULT_NAMESPACE = "bo:g0"
# Set by a replay while it hands over: live projection consumers pause and add themselves to PAUSED_KEY.
HANDOVER_KEY = "bo:handover"
PAUSED_KEY = "bo:handover:paused"
# Where each partition's decisions stand and how fast they go (written by the processor after each commit,
# read for a RECEIVED booking's place in line): partition -> next undecided offset / decisions per second.
DECIDED_KEY = "bo:decided"
DECIDED_RATE_KEY = "bo:decided_rate"


def active_namespace(raw: bytes | None) -> str:
    return raw.decode() if raw else DEFAULT_NAMESPACE


def changes_channel(show_id: str) -> str:
    """Pub/sub channel of a show's applied changes (the same in every generation: versions are the truth)."""
    return f"bo:changes:{{{show_id}}}"


def show_of_channel(channel: str) -> str:
    """The show of a changes channel: the inverse of changes_channel."""
    return channel.removeprefix("bo:changes:{").removesuffix("}")


async def live_keys(redis) -> Keys:
    """The keys of the generation reads are served from now."""
    return Keys(active_namespace(await redis.get(ACTIVE_NAMESPACE_KEY)))


@dataclass(frozen=True)
class Keys:
    namespace: str = DEFAULT_NAMESPACE

    def show(self, show_id: str) -> str:
        return f"{self.namespace}:show:{{{show_id}}}"

    def held(self, show_id: str) -> str:
        return f"{self.namespace}:seats:{{{show_id}}}:held"

    def booked(self, show_id: str) -> str:
        return f"{self.namespace}:seats:{{{show_id}}}:booked"

    def changes(self, show_id: str) -> str:
        """The show's recent applied changes (a capped stream, id = show_version), for clients resuming."""
        return f"{self.namespace}:changes:{{{show_id}}}"

    def booking(self, booking_id: str) -> str:
        return f"{self.namespace}:booking:{booking_id}"

    def holds(self, show_id: str) -> str:
        """The show's PENDING holds (a sorted set: member = booking, score = when it ends, epoch ms)."""
        return f"{self.namespace}:holds:{{{show_id}}}"

    def waitlist(self, show_id: str) -> str:
        """The show's waiting customers (a sorted set: member = customer, score = their place's seq)."""
        return f"{self.namespace}:waitlist:{{{show_id}}}"

    def waitlist_entry(self, show_id: str, customer_id: str) -> str:
        """A customer's place on a show's waiting list (their WaitlistView)."""
        return f"{self.namespace}:waitlist:{{{show_id}}}:{customer_id}"

    def checkin(self, checkin_id: str) -> str:
        """The answer to one scan (its CheckinView), by the scan's command id."""
        return f"{self.namespace}:checkin:{checkin_id}"

    def show_index(self) -> str:
        return f"{self.namespace}:shows"

    def positions(self) -> str:
        """booking.events partition -> the next offset this generation has applied (written with the applies)."""
        return f"{self.namespace}:positions"

    def pattern(self) -> str:
        return f"{self.namespace}:*"
