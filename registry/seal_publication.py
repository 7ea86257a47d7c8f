"""The seal chain's head, published outside the database (DESIGN.md: Seals). Someone who can rewrite
the database can rewrite the chain and the recorded checks with it; a head hash that left the
database before the rewrite cannot be changed with them.

After every seal that wrote blocks (`ledger_seal`, on commit) the head (height, hash, how many
transfers the chain covers) is appended to the day's file `seal-heads-YYYY-MM-DD.json` (market date)
in SEAL_PUBLISH_DIR, and the file is signed: `seal-heads-YYYY-MM-DD.json.sig`, a detached Ed25519
signature of the file's bytes with SEAL_SIGNING_KEY. The public key is written beside them
(`seal-signing-key.pub.pem`) and shown on /disclosure/seal/. Anyone holding a copy checks it with
`manage.py verify_seal_chain --against FILE`, or without this code:
`openssl pkeyutl -verify -pubin -inkey seal-signing-key.pub.pem -rawin -in FILE -sigfile FILE.sig`.

Why Ed25519 and not an HMAC: whoever verifies an HMAC can also forge one, so the copies shipped to
third parties would prove nothing to them; a public key lets anyone verify and only the registry sign.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import InvalidInput
from registry.models import SealBlock

FORMAT = "carbon-ledger-seal-heads-v1"
PUBLIC_KEY_FILE = "seal-signing-key.pub.pem"
HEAD_FIELDS = {"height", "head_hash", "sealed_transfers", "last_transfer_id", "sealed_at"}


@dataclass(frozen=True)
class SealHead:
    height: int
    head_hash: str
    sealed_transfers: int  # transfers in blocks 1..height
    last_transfer_id: int
    sealed_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "height": self.height, "head_hash": self.head_hash, "sealed_transfers": self.sealed_transfers,
            "last_transfer_id": self.last_transfer_id, "sealed_at": self.sealed_at.isoformat(),
        }


def seal_head() -> SealHead | None:
    """The chain's head, None before the first seal."""
    block = SealBlock.objects.order_by("-height").first()
    if block is None:
        return None
    sealed = SealBlock.objects.filter(height__lte=block.height).aggregate(total=Sum("transfer_count"))["total"]
    return SealHead(
        height=block.height, head_hash=block.block_hash, sealed_transfers=sealed,
        last_transfer_id=block.last_transfer_id, sealed_at=block.sealed_at,
    )


def _private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(settings.SEAL_SIGNING_KEY))


def public_key() -> Ed25519PublicKey:
    return _private_key().public_key()


def public_key_pem() -> str:
    return public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def public_key_hex() -> str:
    return public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def _write_atomically(path: Path, content: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(content)
    os.replace(temporary, path)


def seal_head_publish() -> Path | None:
    """Appends the current head to today's file (when it is newer than the file's last) and signs the
    file again. Returns the file, None when there is no chain yet. Safe to run concurrently and twice:
    a lock file serialises writers, and a head already published is not appended again."""
    directory = Path(settings.SEAL_PUBLISH_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        head = seal_head()  # read under the lock: a later writer never appends an older head
        if head is None:
            return None
        day = timezone.localdate(head.sealed_at)
        path = directory / f"seal-heads-{day.isoformat()}.json"
        document = json.loads(path.read_bytes()) if path.exists() else {
            "format": FORMAT, "date": day.isoformat(), "public_key": public_key_hex(), "heads": [],
        }
        if document["heads"] and document["heads"][-1]["height"] >= head.height:
            return path
        document["heads"].append(head.as_json())
        content = (json.dumps(document, indent=1, sort_keys=True) + "\n").encode()
        # (Two renames: a reader between them sees a file and a signature that do not match, and reads again.)
        _write_atomically(path.with_name(path.name + ".sig"), _private_key().sign(content))
        _write_atomically(path, content)
        _write_atomically(directory / PUBLIC_KEY_FILE, public_key_pem().encode())
        return path


def published_heads_read(path: Path) -> list[dict[str, Any]]:
    """The heads of a published file, after checking its detached signature (`FILE.sig`) against the
    registry's public key. Raises InvalidInput naming what is wrong."""
    signature = path.with_name(path.name + ".sig")
    try:
        content, signed = path.read_bytes(), signature.read_bytes()
    except OSError as error:
        raise InvalidInput(_("Cannot read %(file)s: %(reason)s.") % {"file": error.filename, "reason": error.strerror},
                           field="against") from None
    try:
        public_key().verify(signed, content)
    except InvalidSignature:
        raise InvalidInput(_("The signature %(signature)s does not match %(file)s and the registry's seal key.")
                           % {"signature": signature, "file": path}, field="against") from None
    try:
        document = json.loads(content)
        heads = document["heads"]
        well_formed = document["format"] == FORMAT and all(HEAD_FIELDS <= set(head) for head in heads)
    except (ValueError, KeyError, TypeError):
        well_formed = False
    if not well_formed:
        raise InvalidInput(_("%(file)s is not a file of published seal heads (%(format)s).") % {"file": path, "format": FORMAT},
                           field="against")
    return heads


def published_heads_compare(heads: list[dict[str, Any]], *, as_of: datetime | None = None) -> tuple[list[str], dict[str, Any] | None]:
    """Compares each published head (sealed at or before `as_of`, when given) with the database's
    block at its height: same hash and the same number of transfers sealed up to it. Returns the
    problems (empty: every head is there, unchanged) and the latest head compared."""
    chain: dict[int, tuple[str, int]] = {}  # height -> (hash, transfers sealed up to it)
    sealed = 0
    for height, block_hash, count in SealBlock.objects.order_by("height").values_list("height", "block_hash", "transfer_count"):
        sealed += count
        chain[height] = (block_hash, sealed)
    problems: list[str] = []
    latest = None
    for published in heads:
        if as_of is not None and datetime.fromisoformat(published["sealed_at"]) > as_of:
            continue
        latest = published
        height = published["height"]
        found_hash, found_sealed = chain.get(height, (None, None))
        if found_hash is None:
            problems.append(f"Block {height} was published ({published['head_hash']}) and is not in the database: the chain was cut short")
        elif found_hash != published["head_hash"]:
            problems.append(f"Block {height}: its hash {found_hash} is not the published {published['head_hash']}")
        elif found_sealed != published["sealed_transfers"]:
            problems.append(f"Block {height}: {found_sealed} transfers sealed up to it, {published['sealed_transfers']} published")
    return problems, latest
