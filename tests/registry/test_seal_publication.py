"""The seal chain's head published outside the database (registry.seal_publication): the signed daily
file written after each seal, `verify_seal_chain --against FILE`, and /disclosure/seal/ for everyone."""

import json
from io import StringIO

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from registry.models import SealBlock
from registry.seal import ledger_seal
from registry.seal_publication import FORMAT, public_key
from tests.registry.test_seal import issue, tamper


@pytest.fixture
def publish_dir(settings, tmp_path):
    settings.SEAL_PUBLISH_DIR = tmp_path
    return tmp_path


def seal(django_capture_on_commit_callbacks, **options):
    # The head is published on commit: run the callbacks the test transaction would run.
    with django_capture_on_commit_callbacks(execute=True):
        assert ledger_seal(**options).complete


def todays_file(publish_dir):
    return publish_dir / f"seal-heads-{timezone.localdate().isoformat()}.json"


def verify(*args: str) -> tuple[str, str]:
    stdout, stderr = StringIO(), StringIO()
    call_command("verify_seal_chain", *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def signed(publish_dir, heads, *, key=None):
    """A file of heads signed with the registry's key (or `key`), as a published one would be."""
    path = publish_dir / "copy.json"
    content = json.dumps({"format": FORMAT, "heads": heads}).encode()
    path.write_bytes(content)
    key = key or Ed25519PrivateKey.from_private_bytes(bytes.fromhex(settings.SEAL_SIGNING_KEY))
    (publish_dir / "copy.json.sig").write_bytes(key.sign(content))
    return path


def test_each_seal_appends_its_head_to_the_days_signed_file(publish_dir, cea, national_regulator, django_capture_on_commit_callbacks):
    issue(5, asset=cea, regulator=national_regulator)
    seal(django_capture_on_commit_callbacks, block_size=2)
    issue(1, asset=cea, regulator=national_regulator)
    seal(django_capture_on_commit_callbacks, block_size=2)
    seal(django_capture_on_commit_callbacks)  # nothing new: nothing appended
    path = todays_file(publish_dir)
    document = json.loads(path.read_bytes())
    heads = [(head["height"], head["head_hash"], head["sealed_transfers"]) for head in document["heads"]]
    blocks = {block.height: block.block_hash for block in SealBlock.objects.all()}
    assert heads == [(3, blocks[3], 5), (4, blocks[4], 6)]
    # The detached signature verifies with the public key published beside it (raises if not).
    pem_key = load_pem_public_key((publish_dir / "seal-signing-key.pub.pem").read_bytes())
    pem_key.verify((publish_dir / f"{path.name}.sig").read_bytes(), path.read_bytes())
    assert document["public_key"] == public_key().public_bytes_raw().hex()


def test_nothing_is_published_for_a_seal_that_rolled_back(publish_dir, cea, national_regulator, django_capture_on_commit_callbacks):
    issue(2, asset=cea, regulator=national_regulator)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ledger_seal()
    assert len(callbacks) == 1 and not todays_file(publish_dir).exists()


def test_verify_against_a_published_file_accepts_the_database_that_published_it(publish_dir, cea, national_regulator,
                                                                               django_capture_on_commit_callbacks):
    issue(3, asset=cea, regulator=national_regulator)
    seal(django_capture_on_commit_callbacks)
    out, err = verify("--against", str(todays_file(publish_dir)))
    head = SealBlock.objects.get()
    assert f"published heads OK: signatures verified; the database holds every head in {todays_file(publish_dir)} up to block 1 {head.block_hash} (3 transfers)" in out
    assert err == ""


def test_verify_against_refuses_a_file_changed_after_signing(publish_dir, cea, national_regulator, django_capture_on_commit_callbacks):
    issue(3, asset=cea, regulator=national_regulator)
    seal(django_capture_on_commit_callbacks)
    path = todays_file(publish_dir)
    path.write_bytes(path.read_bytes().replace(b'"sealed_transfers": 3', b'"sealed_transfers": 4'))
    with pytest.raises(CommandError, match="does not match .* and the registry's seal key"):
        verify("--against", str(path))


def test_verify_against_refuses_a_file_signed_with_another_key(publish_dir, cea, national_regulator):
    issue(1, asset=cea, regulator=national_regulator)
    ledger_seal()
    head = SealBlock.objects.get()
    path = signed(publish_dir, [{"height": 1, "head_hash": head.block_hash, "sealed_transfers": 1,
                                 "last_transfer_id": head.last_transfer_id, "sealed_at": head.sealed_at.isoformat()}],
                  key=Ed25519PrivateKey.generate())
    with pytest.raises(CommandError, match="does not match"):
        verify("--against", str(path))


def test_verify_against_refuses_a_missing_signature_or_a_file_that_is_not_heads(publish_dir, db):
    (publish_dir / "lost.json").write_text("{}")
    with pytest.raises(CommandError, match=r"Cannot read .*lost.json.sig"):
        verify("--against", str(publish_dir / "lost.json"))
    with pytest.raises(CommandError, match="is not a file of published seal heads"):
        verify("--against", str(signed(publish_dir, "not a list of heads")))


@pytest.mark.ledger_tampered
def test_verify_against_finds_a_chain_cut_back_or_rewritten_since_publication(publish_dir, cea, national_regulator,
                                                                           django_capture_on_commit_callbacks):
    issue(4, asset=cea, regulator=national_regulator)
    seal(django_capture_on_commit_callbacks, block_size=2)
    path = todays_file(publish_dir)
    block_1 = SealBlock.objects.get(height=1)
    # The owner drops the last block: the chain that is left recomputes without fault on its own.
    tamper("DELETE FROM registry_sealblock WHERE height = 2", [], table="registry_sealblock")
    verify()
    with pytest.raises(CommandError, match="does not hold 1 of the heads"):
        verify("--against", str(path))
    rewritten = signed(publish_dir, [{"height": 1, "head_hash": "f" * 64, "sealed_transfers": 2,
                                      "last_transfer_id": block_1.last_transfer_id, "sealed_at": block_1.sealed_at.isoformat()}])
    with pytest.raises(CommandError, match="does not hold 1 of the heads"):
        verify("--against", str(rewritten))


def test_verify_against_as_of_requires_only_the_heads_published_by_then(publish_dir, cea, national_regulator,
                                                                      django_capture_on_commit_callbacks):
    issue(2, asset=cea, regulator=national_regulator)
    seal(django_capture_on_commit_callbacks)
    head = SealBlock.objects.get()
    later = {"height": 2, "head_hash": "e" * 64, "sealed_transfers": 3, "last_transfer_id": head.last_transfer_id + 1,
             "sealed_at": (head.sealed_at + timezone.timedelta(minutes=5)).isoformat()}
    document = json.loads(todays_file(publish_dir).read_bytes())
    path = signed(publish_dir, [*document["heads"], later])
    with pytest.raises(CommandError, match="does not hold 1 of the heads"):
        verify("--against", str(path))
    out, _ = verify("--against", str(path), "--as-of", (head.sealed_at + timezone.timedelta(minutes=1)).isoformat())
    assert f"up to block 1 {head.block_hash} (2 transfers)" in out


def test_the_public_page_and_json_show_the_head_to_anyone(client, cea, national_regulator):
    assert client.get("/disclosure/seal/head.json").json()["head"] is None
    assert "Nothing sealed yet." in client.get("/disclosure/seal/").content.decode()
    assert "尚无封存。" in client.get("/disclosure/seal/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    issue(3, asset=cea, regulator=national_regulator)
    ledger_seal(block_size=2)
    head = SealBlock.objects.get(height=2)
    page = client.get("/disclosure/seal/").content.decode()
    key = public_key().public_bytes_raw().hex()
    assert head.block_hash in page and key in page
    body = client.get("/disclosure/seal/head.json").json()
    assert body == {"head": {"height": 2, "head_hash": head.block_hash, "sealed_transfers": 3,
                             "last_transfer_id": head.last_transfer_id, "sealed_at": head.sealed_at.isoformat()},
                    "public_key": key}
