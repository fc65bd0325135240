"""What a delivery is keyed by, the nonce a post carries, and the ids the columns can hold."""

import hashlib
from dataclasses import dataclass

REMINDER_ID_LENGTH = 255
PLATFORM_LENGTH = 32
CHANNEL_ID_LENGTH = 128
NONCE_LENGTH = 25  # Discord refuses longer nonces

_NONCE_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class DeliveryKey:
    """One reminder in one channel of one platform: the unit delivered exactly once.

    Each field is 1 to 255 (reminder), 32 (platform) or 128 (channel) characters,
    without NUL, on every database alike.
    """

    reminder_id: str
    platform: str
    channel_id: str

    def __post_init__(self) -> None:
        check_id("reminder_id", self.reminder_id, REMINDER_ID_LENGTH)
        check_id("platform", self.platform, PLATFORM_LENGTH)
        check_id("channel_id", self.channel_id, CHANNEL_ID_LENGTH)

    def nonce(self) -> str:
        """A deterministic 25-character ``[0-9a-z]`` id of this key, the same on every attempt.

        It is 128 bits of a BLAKE2b hash of the three fields, in base 36. Posts
        already made carry it, so it must never change.
        """
        digest = hashlib.blake2b(digest_size=16, person=b"briefbot-nonce")
        for part in (self.reminder_id, self.platform, self.channel_id):
            data = part.encode("utf-8", "surrogatepass")
            digest.update(len(data).to_bytes(8, "big"))
            digest.update(data)
        return _base36(int.from_bytes(digest.digest(), "big")).rjust(NONCE_LENGTH, "0")


def check_id(name: str, value: str, longest: int) -> None:
    """Refuse an id the columns would truncate, PostgreSQL would reject (NUL), or that could
    spell one channel two ways (non-ASCII digits such as ``١٢٣`` or ``¹²³``)."""
    if not value or len(value) > longest or not (value.isascii() and value.isprintable()):
        raise ValueError(
            f"{name} must be 1 to {longest} printable ASCII characters, got {value[:80]!r}"
        )


def _base36(number: int) -> str:
    digits = []
    while number:
        number, digit = divmod(number, 36)
        digits.append(_NONCE_DIGITS[digit])
    return "".join(reversed(digits)) or "0"
