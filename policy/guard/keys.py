"""KMS keys: no key policy open to every principal (AWS FSBP KMS.5), and automatic rotation for the symmetric
encryption keys that support it (KMS.4: advisory, it is not an FSBP control). A policy is judged on the key
(`aws.kms.Key` policy) and on `aws.kms.KeyPolicy`.

A key policy statement is open when it allows a wildcard principal ("*", {"AWS": "*"}) with no condition narrowing
it (AWS Config rule kms-key-policy-no-public-access: only fixed principal values are private). Rotation: AWS KMS
rotates only symmetric encryption keys with AWS-generated material (AWS KMS Developer Guide, "Rotate AWS KMS keys").
"""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import ResourceValidationArgs, Severity

from guard.kit import ADVISORY, resource_policy, where
from guard.types import KMS_KEY, KMS_KEY_POLICY
from guard.values import UNKNOWN, as_list, fix, get, json_document


def _open(statement: dict) -> bool:
    if statement.get("Effect") != "Allow" or statement.get("Condition"):
        return False
    principal = statement.get("Principal")
    if principal == "*" or "NotPrincipal" in statement:
        return True
    return isinstance(principal, dict) and "*" in as_list(principal.get("AWS"))


def key_not_public(args: ResourceValidationArgs) -> Iterator[str]:
    document = json_document(args.props, "policy")
    if document is UNKNOWN:
        args.not_applicable("the key policy is unknown until the ARNs in it exist; checked during update")
    if not isinstance(document, dict):
        return  # no policy: KMS gives the key its default policy, which trusts only the account
    for statement in as_list(document.get("Statement")):
        if isinstance(statement, dict) and _open(statement):
            yield fix(f"statement {statement.get('Sid', '(no Sid)')!r} of the key policy allows every principal, "
                      "in any account, with no condition", where(args),
                      "name the principals (the account's root or roles), or add a condition such as "
                      "kms:CallerAccount or aws:PrincipalAccount")


def key_rotation(args: ResourceValidationArgs) -> Iterator[str]:
    spec = get(args.props, "customerMasterKeySpec") or get(args.props, "keySpec") or "SYMMETRIC_DEFAULT"
    usage = get(args.props, "keyUsage") or "ENCRYPT_DECRYPT"
    external = get(args.props, "customKeyStoreId") or get(args.props, "xksKeyId")
    if spec != "SYMMETRIC_DEFAULT" or usage != "ENCRYPT_DECRYPT" or external:
        return  # KMS cannot rotate it automatically
    if get(args.props, "enableKeyRotation") is not True:
        yield fix("automatic key rotation is off (enable_key_rotation unset or false), so the same key material "
                  "encrypts for as long as the key lives", where(args), "set enable_key_rotation=True")


POLICIES = [
    resource_policy("kms-key-not-public", "KMS key policies allow no wildcard principal without a condition.",
                    (KMS_KEY, KMS_KEY_POLICY), key_not_public, controls=("KMS.5",), severity=Severity.CRITICAL,
                    reads="kms.Key policy, kms.KeyPolicy policy"),
    resource_policy("kms-key-rotation", "Symmetric KMS keys rotate automatically (advisory).", (KMS_KEY,),
                    key_rotation, level=ADVISORY, severity=Severity.MEDIUM,
                    reads="kms.Key enable_key_rotation, key_spec, key_usage, custom_key_store_id"),
]
