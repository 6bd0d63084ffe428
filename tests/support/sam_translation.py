"""template.yaml as CloudFormation receives it: translated by SAM's own translator, offline."""
from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

from samtranslator.translator.transform import transform

from local.template import load_document

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


class _NoManagedPolicies:
    """SAM's translator asks IAM for the ARNs of managed policies named in a function's Policies;
    ours name none (a role's ManagedPolicyArns is passed through as written)."""

    def load(self) -> dict[str, str]:
        return {}


def translated_template(path: Path = TEMPLATE) -> dict[str, Any]:
    document = copy.deepcopy(load_document(path))
    for resource in document["Resources"].values():
        properties = resource.get("Properties", {})
        # The translator wants the S3 locations `sam package` would write in place of the folders.
        if resource["Type"] == "AWS::Serverless::Function" and "CodeUri" in properties:
            properties["CodeUri"] = "s3://bucket/function.zip"
        if resource["Type"] == "AWS::Serverless::LayerVersion":
            properties["ContentUri"] = "s3://bucket/layer.zip"
    previous = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"  # the translator needs a region, any
    try:
        return transform(document, {}, _NoManagedPolicies())
    finally:
        if previous is None:
            del os.environ["AWS_DEFAULT_REGION"]
        else:
            os.environ["AWS_DEFAULT_REGION"] = previous


def api_operations(translated: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(path, method) → the OpenAPI operation API Gateway receives (its `security`, its integration)."""
    found = {}
    for resource in translated["Resources"].values():
        if resource["Type"] == "AWS::ApiGateway::RestApi":
            for path, operations in resource["Properties"]["Body"]["paths"].items():
                for method, operation in operations.items():
                    found[(path, method)] = operation
    return found
