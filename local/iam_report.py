"""`make iam-report`: what each function used of AWS during a recorded run (SMSBRIDGE_IAM_RECORD, written by
local/iam.py) against what its policy grants, and the grants nothing used (docs/iam.md).

`python -m local.iam_report USED.jsonl [template.yaml]`.
"""
from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from local.iam import FunctionPolicy, Statement, function_policies
from local.template import Template

ROOT = Path(__file__).resolve().parent.parent


def read_used(path: Path) -> dict[str, set[tuple[str, str, bool]]]:
    """Function → {(action, resource, allowed)} from the JSON lines of one or more recorded runs."""
    used: dict[str, set[tuple[str, str, bool]]] = defaultdict(set)
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            entry = json.loads(line)
            used[entry["function"]].add((entry["action"], entry["resource"], bool(entry["allowed"])))
    return used


def _short(value: Any) -> str:
    """A template value as it is written: `!Ref X` as X, `!GetAtt X.Y` as X.Y."""
    if isinstance(value, dict) and len(value) == 1:
        (key, arg), = value.items()
        if key == "Ref":
            return str(arg)
        if key == "Fn::GetAtt":
            return ".".join(arg) if isinstance(arg, list) else str(arg)
        if key == "Fn::Sub":
            return str(arg if isinstance(arg, str) else arg[0])
        if key == "Fn::If":
            return f"If {arg[0]}: {_short(arg[1])}"
        if key != "Statement":
            return f"{key} {_short(arg)}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_short(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_short(v) for v in value) + "]"
    return str(value)


def grant_label(template: Template, function: str, statement: Statement) -> str:
    """Where a statement comes from: the function's `Policies` entry, an event source's, or a managed policy."""
    prefix = f"{function}RolePolicy"
    if statement.policy.startswith(prefix) and statement.policy[len(prefix):].isdigit():
        entries = template.function_properties(function).get("Policies") or []
        index = int(statement.policy[len(prefix):])
        if index < len(entries):
            entry = entries[index]
            if isinstance(entry, dict) and "Statement" in entry:
                return f"Policies[{index}] Statement {', '.join(statement.actions)} on {', '.join(statement.resources)}"
            return f"Policies[{index}] {_short(entry)}"
    if statement.policy.startswith(function):
        return f"{statement.policy} (added by SAM for an event source)"
    return f"managed policy {statement.policy}"


def report(template: Template, used: dict[str, set[tuple[str, str, bool]]]) -> tuple[str, list[str]]:
    """The table, and the grants never used (function: label)."""
    # The run's secrets are gone: a secret's grant stands for any of its ARNs (the suffix is random).
    policies: dict[str, FunctionPolicy] = function_policies(
        template, secret_arn=lambda name: f"arn:aws:secretsmanager:{template.region}:{template.account_id}:secret:{name}-??????")
    lines: list[str] = []
    unused: list[str] = []
    for function, policy in sorted(policies.items()):
        calls = sorted(used.get(function, set()))
        lines.append(f"\n{function} ({policy.physical_name})")
        lines.append(f"  used ({len(calls)} action/resource pairs):")
        for action, resource, allowed in calls:
            lines.append(f"    {'ok    ' if allowed else 'DENIED'} {action:32} {resource}")
        lines.append("  grants:")
        for statement in policy.statements:
            label = grant_label(template, function, statement)
            if statement.effect != "Allow":
                lines.append(f"    deny   {label}")
                continue
            hits = [(a, r) for a, r, _ in calls if statement.covers(a, r)]
            managed = label.startswith("managed policy") or "added by SAM" in label
            if hits:
                actions = sorted({a for a, _ in hits}, key=str.lower)
                lines.append(f"    used   {label}: {', '.join(actions)}")
            elif managed:
                lines.append(f"    lambda {label} (Lambda itself: logs, X-Ray, event source polling)")
            else:
                lines.append(f"    UNUSED {label}")
                unused.append(f"{function}: {label}")
    return "\n".join(lines), unused


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    used_path = Path(argv[0])
    template_path = Path(argv[1]) if len(argv) > 1 else ROOT / "template.yaml"
    template = Template.load(template_path, endpoint_url="http://127.0.0.1:4566")
    table, unused = report(template, read_used(used_path))
    print(f"IAM: what each function used (recorded in {used_path}) against its policy in {template_path.name}")
    print(table)
    print(f"\nGrants never used in this run: {len(unused)}")
    for grant in unused:
        print(f"  {grant}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
