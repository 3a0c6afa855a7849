"""A KMS key's key pair, made on first use, answers as moto's made up front would."""

from __future__ import annotations

import copy
import pickle

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_der_public_key,
)
from moto.kms.models import kms_backends

from runbook.aws import Aws

MESSAGE = b"the release's digest"


def _moto_key(account: str, key_id: str):
    return kms_backends[account]["us-east-1"].keys[key_id]


def test_an_asymmetric_key_signs_verifies_and_shows_its_public_key(aws: Aws, account) -> None:
    kms = aws.client("kms")
    for spec, kind, size, algorithm in (
        ("RSA_2048", rsa.RSAPublicKey, 2048, "RSASSA_PSS_SHA_256"),
        ("RSA_4096", rsa.RSAPublicKey, 4096, "RSASSA_PKCS1_V1_5_SHA_512"),
        ("ECC_NIST_P256", ec.EllipticCurvePublicKey, 256, "ECDSA_SHA_256"),
    ):
        key = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec=spec)["KeyMetadata"]["KeyId"]
        assert _moto_key(account, key).private_key._made is None  # nothing made yet
        signed = kms.sign(KeyId=key, Message=MESSAGE, SigningAlgorithm=algorithm)["Signature"]
        check = kms.verify(KeyId=key, Message=MESSAGE, Signature=signed, SigningAlgorithm=algorithm)
        assert check["SignatureValid"] is True
        public = load_der_public_key(kms.get_public_key(KeyId=key)["PublicKey"])
        assert isinstance(public, kind) and public.key_size == size
        # One pair, made once: its public key is the one the signature verifies with.
        der = public.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        assert kms.get_public_key(KeyId=key)["PublicKey"] == der


def test_a_databases_default_key_makes_no_key_pair(aws: Aws, account) -> None:
    found = aws.client("kms").describe_key(KeyId="alias/aws/secretsmanager")["KeyMetadata"]
    assert found["KeySpec"] == "SYMMETRIC_DEFAULT" and found["Enabled"] is True
    assert _moto_key(account, found["KeyId"]).private_key._made is None


def test_a_key_not_yet_used_copies_and_pickles(aws: Aws, account) -> None:
    key = aws.client("kms").create_key(KeyUsage="SIGN_VERIFY", KeySpec="RSA_2048")
    pair = _moto_key(account, key["KeyMetadata"]["KeyId"]).private_key
    for again in (copy.deepcopy(pair), pickle.loads(pickle.dumps(pair))):
        assert again._made is None
        assert load_der_public_key(again.public_key()).key_size == 2048
        assert again.key_size == 2048  # what moto's RSA key has, from the made key
