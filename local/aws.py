"""The AWS stand-in: a moto server on loopback (in this process, or in a child process of its own:
`python -m local.aws`), and the boto3 session that talks to it."""
from __future__ import annotations

import argparse
import collections
import copy
import datetime
import decimal
import functools
import gc
import json
import logging
import os
import pickle
import string
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import requests
from moto import backends as moto_backends
from moto.core.responses import ActionResult
from moto.core.serialize import TimestampSerializer
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from moto.dynamodb import comparisons as dynamodb_comparisons
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models import dynamo_type as dynamodb_type
from moto.dynamodb.models import table as dynamodb_table
from moto.dynamodb.parsing import ast_nodes
from moto.dynamodb.parsing import expressions as dynamodb_expressions
from moto.dynamodb.parsing import validators as dynamodb_validators
from moto.dynamodb.parsing.ast_nodes import UpdateExpression
from moto.sqs import models as sqs_models

from local.http import LoopbackServer, OneWriteRequestHandler, PortInUse
from local.template import REGION

log = logging.getLogger("local.aws")

# moto accepts any credentials; these make boto3 never look for real ones.
DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def _faster_moto_sqs() -> None:
    """Two of moto's SQS steps cost O(queue length) where one pass or one look-up gives the same
    answer; with 1,000 messages waiting they were most of the local runtime's CPU:
    - `Queue.messages` (the visible messages: at each receive, count and long-poll wake-up) read
      the clock twice per message; here once per call, through moto's own clock (time-freezing
      tests see the same);
    - each received message's retention check built every queue attribute, three message counts
      over the whole queue among them, to read `MessageRetentionPeriod`; here that attribute."""
    if getattr(sqs_models.Queue.messages, "one_pass", False):
        return

    def messages(queue: Any) -> list[Any]:
        now = sqs_models.unix_time_millis()
        return [m for m in queue._messages if now > m.visible_at and not now < m.delayed_until]

    def is_message_valid_based_on_retention_period(backend: Any, queue_name: str, message: Any) -> bool:
        retention_s = int(backend.get_queue(queue_name).message_retention_period)
        return retention_s + message.sent_timestamp / 1000 > sqs_models.unix_time()

    messages.one_pass = True  # type: ignore[attr-defined]
    sqs_models.Queue.messages = property(messages)
    sqs_models.SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period


def _sqs_counts_in_one_pass() -> None:
    """Each SendMessage builds every queue attribute to read `ContentBasedDeduplication`, the counts
    of delayed and in-flight messages among them: two more passes over the queue, reading the clock
    per message, and each attribute's name converted from camel case character by character. Here
    each count reads the clock once (as `Queue.messages` above), and each name is converted once.
    Deleting a message looked for its receipt handle twice over the queue, building each message's
    list of handles; here once, with the same checks in the same order."""
    queue_class = sqs_models.Queue
    if getattr(queue_class.delete_message, "one_pass", False):
        return

    def approximate_number_of_messages_delayed(queue: Any) -> int:
        now = sqs_models.unix_time_millis()
        return sum(1 for m in queue._messages if now < m.delayed_until)

    def approximate_number_of_messages_not_visible(queue: Any) -> int:
        now = sqs_models.unix_time_millis()
        return sum(1 for m in queue._messages if not now > m.visible_at)

    def delete_message(queue: Any, receipt_handle: str) -> None:
        if receipt_handle in queue.deleted_messages:
            return  # already deleted: moto (as SQS) accepts it again
        handled = [m for m in queue._messages
                   if m.receipt_handle == receipt_handle or receipt_handle in m._old_receipt_handles]
        if not handled:
            raise sqs_models.ReceiptHandleIsInvalid()
        for message in handled:
            queue.pending_messages.discard(message)
            queue.deleted_messages.update(message.all_receipt_handles)
        gone = {id(message) for message in handled}
        queue._messages = [m for m in queue._messages if id(m) not in gone]

    delete_message.one_pass = True  # type: ignore[attr-defined]
    queue_class.approximate_number_of_messages_delayed = property(approximate_number_of_messages_delayed)
    queue_class.approximate_number_of_messages_not_visible = property(approximate_number_of_messages_not_visible)
    queue_class.delete_message = delete_message
    sqs_models.camelcase_to_underscores = functools.lru_cache(maxsize=256)(sqs_models.camelcase_to_underscores)


def _item_sizes_summed_without_copies() -> None:
    """Every attribute an UpdateExpression sets checks the item's size (400 KB) by summing the size
    of every attribute, each map value wrapped in a new DynamoType to be measured: a tenth of moto's
    CPU per claim. The same sum, by the same rules (`DynamoType.size`), without the copies."""
    limited = dynamodb_type.LimitedSizeDict
    if getattr(limited.__setitem__, "summed", False):
        return
    DynamoType, bytesize = dynamodb_type.DynamoType, dynamodb_type.bytesize
    sets = {"SS", "NS", "BS"}

    def size(value: Any) -> int:
        kind, raw = value.type, value.value
        if kind == "N":
            return len(str(raw))
        if kind in sets:
            return sum(len(str(v)) if kind == "NS" else bytesize(v) for v in raw)
        if kind == "L":
            return sum(size(v) for v in raw)
        if kind == "M":
            return sum(bytesize(k) + size(v if type(v) is DynamoType else DynamoType(v)) for k, v in raw.items())
        if isinstance(raw, bool):
            return 1
        return bytesize(raw)

    def measured(item: Any) -> int:
        return size(item) if type(item) is DynamoType else bytesize(str(item))

    def __setitem__(self: Any, key: str, value: Any) -> None:
        current = sum(bytesize(str(k)) for k in self.keys()) + sum(measured(v) for v in self.values())
        if current + bytesize(key) + measured(value) > 405000:  # moto's limit, as moto counts
            raise dynamodb_type.ItemSizeTooLarge
        dict.__setitem__(self, key, value)

    __setitem__.summed = True  # type: ignore[attr-defined]
    limited.__setitem__ = __setitem__


def _regular_json_copied_once() -> None:
    """moto's `DynamoType.to_regular_json` deep-copies its whole value, then calls itself on each
    copied child, which deep-copies it again: a value nested n deep is copied n times. It runs for
    every map and list of an item each time the item is written out (its stream record's images,
    a transaction's copy for rollback, the old item a refused condition returns): the history of a
    message is a list of maps. Here each child is turned into JSON once, from the value itself, and
    what is not a DynamoType is deep-copied as before: the same document, not shared with the item."""
    DynamoType = dynamodb_type.DynamoType
    if getattr(DynamoType.to_regular_json, "copied_once", False):
        return
    b64decode = dynamodb_type.base64.b64decode

    def to_regular_json(self: Any) -> dict[str, Any]:
        value = self.value
        if isinstance(value, dict):
            value = {key: nested.to_regular_json() if isinstance(nested, DynamoType) else copy.deepcopy(nested)
                     for key, nested in value.items()}
        elif isinstance(value, list):
            value = [nested.to_regular_json() if isinstance(nested, DynamoType) else copy.deepcopy(nested)
                     for nested in value]
        else:
            value = copy.deepcopy(value)
        if self.is_binary() and isinstance(value, str):
            value = b64decode(value)
        return {self.type: value}

    to_regular_json.copied_once = True  # type: ignore[attr-defined]
    DynamoType.to_regular_json = to_regular_json


class _TablesNotCopied:
    """moto's DynamoDB module's `copy`, except that a whole table is not deep-copied."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, dynamodb_table.Table) else copy.deepcopy(value, memo)


def _transactions_without_table_copies() -> None:
    """moto's TransactWriteItems deep-copies the whole table once per item of the transaction, to
    roll back on failure: 277 ms of CPU per message once a few thousand messages are stored. The
    same rollback, from a copy of each item the transaction names taken before it runs."""
    backend_class = dynamodb_models.DynamoDBBackend
    if getattr(backend_class.transact_write_items, "item_rollback", False):
        return
    original = backend_class.transact_write_items

    def transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
        before: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
        for entry in transact_items:
            for operation in entry.values():
                try:
                    table = backend.get_table(operation["TableName"])
                    key = operation.get("Key") or {name: operation["Item"][name] for name in
                                                   (table.hash_key_attr, table.range_key_attr) if name}
                    current = backend.get_item(operation["TableName"], key)
                except Exception:  # noqa: BLE001 - moto's own call reports a malformed operation
                    continue
                before.append((operation["TableName"], key,
                               copy.deepcopy(current.to_json()["Attributes"]) if current else None))
        try:
            original(backend, transact_items)
        except Exception:
            for table_name, key, attributes in reversed(before):
                if attributes is None:
                    if backend.get_item(table_name, key) is not None:
                        backend.delete_item(table_name, key)
                else:
                    backend.put_item(table_name, attributes)
            raise

    transact_write_items.item_rollback = True  # type: ignore[attr-defined]
    dynamodb_models.copy = _TablesNotCopied()  # type: ignore[attr-defined]
    backend_class.transact_write_items = transact_write_items


def _update_expressions_checked_once() -> None:
    """moto checks an UpdateExpression's clause counts and overlapping paths at every nested
    expression node, each check walking the whole subtree: quadratic in the clauses, a third of
    moto's CPU for the send path's final record. A check that holds for the whole expression holds
    for each part of it, so it runs once on the whole; only when it fails does moto's own walk run,
    raising exactly the error moto raises."""
    for validator, check in ((dynamodb_validators.ActionCountValidator, "verify_action_counts"),
                             (dynamodb_validators.OverlappingPathsValidator, "check_for_overlapping_paths")):
        if getattr(validator.traverse, "checked_once", False):
            continue

        def traverse(self: Any, node: Any, _check: str = check, _walk: Any = validator.traverse) -> Any:
            if isinstance(node, UpdateExpression):
                try:
                    getattr(self, _check)(node)
                    return node
                except Exception:  # noqa: BLE001 - moto's own walk raises its own error
                    pass
            return _walk(self, node)

        traverse.checked_once = True  # type: ignore[attr-defined]
        validator.traverse = traverse


def _update_expression_static_checks_remembered() -> None:
    """The first three of moto's UpdateExpression checks (clause counts, overlapping paths, a key
    attribute updated) read only the parsed tree, the ExpressionAttributeNames and the table's key
    attributes, and change nothing: a tenth of moto's CPU per message, for answers that cannot
    change while those three do not. Each is run, as moto runs it, the first time a (tree, names,
    keys) comes; once they all passed, later validations of the same start at the fourth check. A
    refusal is not remembered: it is raised by moto's own check each time."""
    cls = dynamodb_validators.UpdateExpressionValidator
    if getattr(cls.validate, "static_checks_remembered", False):
        return
    static = (dynamodb_validators.ActionCountValidator, dynamodb_validators.OverlappingPathsValidator,
              dynamodb_validators.UpdateHashRangeKeyValidator)
    init, validate = cls.__init__, cls.validate
    passed: dict[tuple[int, frozenset[tuple[str, str]], tuple[str, ...]], Any] = {}  # → the tree, held
    lock = threading.Lock()

    def __init__(self: Any, expression: Any, *args: Any, **kwargs: Any) -> None:
        init(self, expression, *args, **kwargs)
        self._source_tree = expression

    def validate_static_once(self: Any) -> Any:
        source = getattr(self, "_source_tree", None)
        first, rest = self.processors[:len(static)], self.processors[len(static):]
        if source is None or tuple(type(p) for p in first) != static:
            return validate(self)  # not the processors this patch knows: moto's validation
        try:
            key = (id(source), frozenset((self.expression_attribute_names or {}).items()),
                   tuple(self.table.table_key_attrs))
        except TypeError:  # a name that is not a text: moto's checks say what is wrong
            return validate(self)
        with lock:
            known = passed.get(key) is source
        if not known:
            node = self.node_to_validate
            for processor in first:
                node = processor.traverse(node)
            self.node_to_validate = node
            with lock:
                if len(passed) >= 1024:
                    passed.clear()
                passed[key] = source
        self.processors = rest
        return validate(self)

    validate_static_once.static_checks_remembered = True  # type: ignore[attr-defined]
    cls.__init__ = __init__
    cls.validate = validate_static_once


def _update_expressions_parsed_once() -> None:
    """moto parses an UpdateExpression twice per UpdateItem (the request, then the update) and the
    send path sends the same few expressions again and again: each text parsed once. The parsed
    tree is only read (clauses found) or deep-copied before it is validated, never changed."""
    parser = dynamodb_expressions.UpdateExpressionParser
    if hasattr(parser.make, "cache_info"):
        return
    parser.make = classmethod(functools.lru_cache(maxsize=512)(parser.make.__func__))


def _update_expressions_copied_by_pickle() -> None:
    """Each UpdateExpression validation deep-copies the parsed tree (its processors rewrite it):
    0.9 ms for the send path's fifteen-clause expressions, three times per message. The parsed
    trees are the cached ones (`_update_expressions_parsed_once`), never changed: each is pickled
    once, and a copy is unpickled from it, the same tree rebuilt through the same `__reduce_ex__`
    that deepcopy uses, seven times faster."""
    if getattr(dynamodb_validators.deepcopy, "pickled", False):
        return
    pickled: dict[int, tuple[Any, bytes]] = {}  # id → (the tree, held so that its id stays its own; bytes)
    lock = threading.Lock()

    def deepcopy(value: Any, memo: Any = None) -> Any:
        if not isinstance(value, UpdateExpression) or memo is not None:
            return copy.deepcopy(value, memo)
        with lock:
            entry = pickled.get(id(value))
            if entry is None or entry[0] is not value:
                if len(pickled) >= 1024:
                    pickled.clear()
                entry = pickled[id(value)] = (value, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        return pickle.loads(entry[1])

    deepcopy.pickled = True  # type: ignore[attr-defined]
    dynamodb_validators.deepcopy = deepcopy  # type: ignore[attr-defined]


_COPIED_AS_IS = (str, int, float, bool, type(None))


def expression_tree_builder(tree: Any, limit: int = 5000) -> Any:
    """A function that builds a new copy of a parsed UpdateExpression at each call (the same node
    classes, attributes, children and parents), written as straight-line code from the tree; None
    when the tree holds anything but nodes and immutable values (texts, numbers), or is larger than
    `limit` nodes."""
    Node = ast_nodes.Node
    lines: list[str] = []
    constants: dict[str, Any] = {"new": object.__new__}

    def constant(value: Any) -> str:
        name = f"k{len(constants)}"
        constants[name] = value
        return name

    def emit(node: Any, parent: str) -> str | None:
        if len(lines) > 2 * limit:
            return None
        var = f"n{len(lines)}"
        lines.append(f"{var} = new({constant(type(node))})")
        others = {k: v for k, v in vars(node).items() if k not in ("children", "parent")}
        if not all(type(v) in _COPIED_AS_IS for v in others.values()):
            return None
        children = []
        for child in node.children if node.children is not None else ():
            if isinstance(child, Node):
                made = emit(child, var)
                if made is None:
                    return None
                children.append(made)
            elif type(child) in _COPIED_AS_IS:
                children.append(constant(child))
            else:
                return None
        listed = "None" if node.children is None else "[" + ", ".join(children) + "]"
        lines.append(f"{var}.__dict__ = {{**{constant(others)}, 'children': {listed}, 'parent': {parent}}}")
        return var

    if not isinstance(tree, Node) or type(tree).__dict__.get("__deepcopy__") or emit(tree, "None") is None:
        return None
    source = "def build():\n" + "".join(f"    {line}\n" for line in lines) + "    return n0\n"
    exec(compile(source, "<expression tree builder>", "exec"), constants)  # noqa: S102 - code written above
    return constants["build"]


def _update_expressions_copied_by_code() -> None:
    """The copy of a cached UpdateExpression tree each validation takes (`_update_expressions_copied_by_pickle`)
    still costs 0.25 ms for the send path's sixteen-clause claim, twice per message. Each cached tree
    gets a builder (`expression_tree_builder`), straight-line code that makes the same objects two
    to three times faster than unpickling; a tree it cannot write goes on being unpickled."""
    pickled_copy = dynamodb_validators.deepcopy
    if getattr(pickled_copy, "built", False):
        return
    builders: dict[int, tuple[Any, Any]] = {}  # id → (the tree, held so that its id stays its own; its builder)
    lock = threading.Lock()

    def deepcopy(value: Any, memo: Any = None) -> Any:
        if not isinstance(value, UpdateExpression) or memo is not None:
            return pickled_copy(value, memo)
        with lock:
            entry = builders.get(id(value))
            if entry is None or entry[0] is not value:
                if len(builders) >= 1024:
                    builders.clear()
                entry = builders[id(value)] = (value, expression_tree_builder(value))
        return entry[1]() if entry[1] is not None else pickled_copy(value)

    deepcopy.built = True  # type: ignore[attr-defined]
    dynamodb_validators.deepcopy = deepcopy  # type: ignore[attr-defined]


def _expression_trees_walked_faster() -> None:
    """moto's expression processors walk every node of a tree ten times per validation, and at each
    node build their map of node types anew and ask `isinstance` of abstract classes (ABCMeta's
    Python-level check): a third of moto's CPU on the send path. The same walk, in the same order,
    with each processor class's node types, and which of them a node class is, read once:
    `isinstance(x, T)` is `issubclass(type(x), T)`, and nothing registers virtual subclasses of
    moto's nodes while the server runs."""
    traverser = ast_nodes.DepthFirstTraverser
    if getattr(traverser.traverse_node_recursively, "remembered", False):
        return
    Node = ast_nodes.Node
    default_pre = traverser.pre_processing_of_child
    # per processor class: its node types, {node class: 0 not a node / 1 a node / 2 one to process},
    # {node class: the function of its processing map that takes it}, and whether it has a
    # pre-processing hook of its own
    plans: dict[type, tuple[tuple[type, ...], dict[type, int], dict[type, Any], bool]] = {}

    def plan_of(self: Any) -> tuple[tuple[type, ...], dict[type, int], dict[type, Any], bool]:
        plan = plans.get(type(self))
        if plan is None:
            plan = plans[type(self)] = (tuple(self._processing_map().keys()), {}, {},
                                        type(self).pre_processing_of_child is not default_pre)
        return plan

    def nodes_to_be_processed(self: Any) -> tuple[type, ...]:
        return plan_of(self)[0]

    def process(self: Any, node: Any) -> Any:
        handlers = plan_of(self)[2]
        function = handlers.get(type(node))
        if function is None:
            for class_key, processor in self._processing_map().items():
                if isinstance(node, class_key):
                    if getattr(processor, "__self__", None) is not self:
                        return processor(node)  # not a method of this processor: as moto calls it
                    function = handlers[type(node)] = processor.__func__
                    break
            else:
                return None
        return function(self, node)

    def traverse_node_recursively(self: Any, node: Any, child_id: int = -1) -> Any:
        kinds, verdicts, _, pre = plan_of(self)

        def visit(node: Any, child_id: int) -> Any:
            verdict = verdicts.get(type(node))
            if verdict is None:
                is_node = issubclass(type(node), Node)
                verdict = verdicts[type(node)] = (2 if issubclass(type(node), kinds) else 1) if is_node else 0
            if verdict:
                parent_node = node.parent
                if node.children is not None:
                    for i, child_node in enumerate(node.children):
                        if pre:
                            self.pre_processing_of_child(node, i)
                        visit(child_node, i)
                if verdict == 2:
                    node = self.process(node)
                    node.parent = parent_node
                    if parent_node:
                        parent_node.children[child_id] = node
            return node

        return visit(node, child_id)

    traverse_node_recursively.remembered = True  # type: ignore[attr-defined]
    traverser.nodes_to_be_processed = nodes_to_be_processed
    traverser.process = process
    traverser.traverse_node_recursively = traverse_node_recursively


def _clause_lookups_remembered() -> None:
    """Two more per-node checks of abstract classes, done hundreds of times per UpdateItem: which
    children `find_clauses` descends into (called three times on the whole tree by moto's action
    count check), and which parents enable name resolving in the resolving processor. Same answers,
    read once per node class (see `_expression_trees_walked_faster` for why that holds)."""
    node_class = ast_nodes.Node
    if getattr(node_class.find_clauses, "remembered", False):
        return
    descends = functools.lru_cache(maxsize=None)(
        lambda cls: issubclass(cls, (ast_nodes.Expression, ast_nodes.UpdateExpressionFunction)))

    def find_clauses(self: Any, clause_types: Any) -> list[Any]:
        clauses = []
        for child in self.children or []:
            if type(child) in clause_types:
                clauses.append(child)
            elif descends(type(child)):
                clauses.extend(child.find_clauses(clause_types))
        return clauses

    resolver = dynamodb_validators.ExpressionAttributeResolvingProcessor
    actions = (ast_nodes.UpdateExpressionSetAction, ast_nodes.UpdateExpressionRemoveAction,
               ast_nodes.UpdateExpressionDeleteAction, ast_nodes.UpdateExpressionAddAction)
    is_action = functools.lru_cache(maxsize=None)(lambda cls: issubclass(cls, actions))

    def pre_processing_of_child(self: Any, parent_node: Any, child_id: int) -> None:
        if is_action(type(parent_node)):
            self.resolving = child_id != 0

    find_clauses.remembered = True  # type: ignore[attr-defined]
    node_class.find_clauses = find_clauses
    resolver.pre_processing_of_child = pre_processing_of_child


def _condition_expressions_lexed_once() -> None:
    """moto lexes a ConditionExpression by trying six regular expressions at each token (compiled
    anew each time): an eighth of moto's CPU on the send path, whose few conditions come again
    and again. The tokens depend on the text alone: each text is lexed once by moto, and later the
    same tokens are rebuilt as moto builds them. What comes after (names, values, reserved words,
    the tree) is moto's own work as before, and a text moto cannot lex raises moto's error every time."""
    parser = dynamodb_comparisons.ConditionExpressionParser
    if getattr(parser._lex_condition_expression, "lexed_once", False):
        return
    lex = parser._lex_condition_expression
    tokens_of: dict[str, tuple[tuple[str, str], ...]] = {}

    def lex_condition_expression(self: Any) -> Any:
        text = self.condition_expression
        tokens = tokens_of.get(text)
        if tokens is None:
            nodes = lex(self)
            if len(tokens_of) >= 1024:
                tokens_of.clear()
            tokens_of[text] = tuple((node.nonterminal, node.text) for node in nodes)
            return nodes
        return collections.deque(self.Node(nonterminal=nonterminal, kind=self.Kind.LITERAL, text=token,
                                           value=token, children=[]) for nonterminal, token in tokens)

    lex_condition_expression.lexed_once = True  # type: ignore[attr-defined]
    parser._lex_condition_expression = lex_condition_expression


def _condition_trees_reused() -> None:
    """Past its tokens (`_condition_expressions_lexed_once`), moto parses a ConditionExpression in
    seven passes over them (paths, functions, comparisons, IN, BETWEEN, parentheses and booleans),
    a tenth of moto's CPU per message, and the send path's claims and settles bring the same few
    conditions with the same names each time, only the values changing. That syntax tree depends on
    the text and the ExpressionAttributeNames alone, the values being looked up into its leaves: it
    is kept per (text, names), and later parses put this request's values into a copy of it, then
    build the condition from it with moto's own last step (which checks the values, e.g. no NULL in
    BETWEEN). A value missing from the request makes moto parse it all again, raising its own error."""
    parser = dynamodb_comparisons.ConditionExpressionParser
    if getattr(parser.parse, "trees_reused", False):
        return
    parse, make_op = parser.parse, parser._make_op_condition
    value_kind = parser.Kind.EXPRESSION_ATTRIBUTE_VALUE
    trees: dict[tuple[str, frozenset[tuple[str, str]] | None], tuple[Any, tuple[str, ...], tuple[str, ...]]] = {}

    def make_op_condition(self: Any, node: Any) -> Any:
        if self.__dict__.get("_syntax_tree") is None:
            self._syntax_tree = node  # the first call is on the whole tree; the rest are on its parts
        return make_op(self, node)

    def with_values(node: Any, values: dict[str, Any]) -> Any:
        if node.kind == value_kind:
            return node._replace(value=values[node.text])
        if not node.children:
            return node
        return node._replace(children=[with_values(child, values) for child in node.children])

    def parse_reusing(self: Any) -> Any:
        text, names = self.condition_expression, self.expression_attribute_names
        try:
            key = (text, None if names is None else frozenset(names.items())) if text else None
        except TypeError:  # a name that is not a text: moto's parse says what is wrong
            key = None
        known = trees.get(key) if key is not None else None
        if known is not None and isinstance(self.expression_attribute_values, dict):
            tree, names_found, values_found = known
            try:
                tree = with_values(tree, self.expression_attribute_values)
            except KeyError:
                pass  # moto's own parse raises its error
            else:
                self.expr_attr_names_found.extend(names_found)
                self.expr_attr_values_found.extend(values_found)
                return make_op(self, tree)
        self._syntax_tree = None
        parsed = parse(self)
        if key is not None and self._syntax_tree is not None:
            if len(trees) >= 1024:
                trees.clear()
            trees[key] = (self._syntax_tree, tuple(self.expr_attr_names_found), tuple(self.expr_attr_values_found))
        return parsed

    parse_reusing.trees_reused = True  # type: ignore[attr-defined]
    parser._make_op_condition = make_op_condition
    parser.parse = parse_reusing


_ATTRIBUTE_VALUE_MEMBERS = {"S": "string", "N": "string", "B": "blob", "SS": "list", "NS": "list", "BS": "list",
                            "M": "map", "L": "list", "NULL": "boolean", "BOOL": "boolean"}


def plain_attribute_value(value: Any) -> bool:
    """A DynamoDB attribute value, as JSON gives it, that moto's request parser would give back equal:
    one known type, no binary (which it decodes from base64), no null, maps and lists of the same."""
    if type(value) is not dict or len(value) != 1:
        return False
    (kind, raw), = value.items()
    if kind in ("S", "N"):
        return type(raw) is str
    if kind in ("BOOL", "NULL"):
        return type(raw) is bool
    if kind in ("SS", "NS"):
        return type(raw) is list and all(type(v) is str for v in raw)
    if kind == "M":
        return type(raw) is dict and all(type(k) is str and plain_attribute_value(v) for k, v in raw.items())
    if kind == "L":
        return type(raw) is list and all(plain_attribute_value(v) for v in raw)
    return False


def _attribute_values_parsed_as_read() -> None:
    """moto parses each JSON request against botocore's shapes, and each DynamoDB attribute value
    (every field of every item, nested maps and lists included) goes through its structure parse:
    ten members looked up, a handler found by name per value: 0.4 ms of CPU per message for the
    send path's transactions. Parsed, an attribute value without binary is the JSON it was read
    from, key for key (`plain_attribute_value`): that one is taken as it is; anything else (binary,
    nulls, unknown or several types) is parsed by moto."""
    from moto.core import parse as core_parse

    json_parser = core_parse.JSONParser
    if getattr(json_parser._parse_structure, "plain_values", False):
        return
    parse_structure = json_parser._parse_structure
    is_attribute_value = _shape_check(_is_dynamodb_attribute_value)

    def _parse_structure(self: Any, shape: Any, value: Any) -> Any:
        if self.MAP_TYPE is dict and is_attribute_value(shape) and plain_attribute_value(value):
            return value
        return parse_structure(self, shape, value)

    _parse_structure.plain_values = True  # type: ignore[attr-defined]
    json_parser._parse_structure = _parse_structure


def _moto_modules_listed_once() -> None:
    """moto's server looks for each request's service among its own modules by listing its package
    folder and asking, entry by entry, whether it is a folder: about forty `stat` calls per request.
    The installed package does not change while the server runs: the folder is listed once."""
    if getattr(moto_backends.list_of_moto_modules, "listed_once", False):
        return
    modules = tuple(moto_backends.list_of_moto_modules())

    def list_of_moto_modules() -> Iterator[str]:
        return iter(modules)

    list_of_moto_modules.listed_once = True  # type: ignore[attr-defined]
    moto_backends.list_of_moto_modules = list_of_moto_modules


def _transaction_conditions_parsed_once() -> None:
    """moto's TransactWriteItems parses each Update's ConditionExpression and checks it on the item,
    then calls UpdateItem, which parses the same condition again and checks it on the same item
    (nothing was written in between): a fifth of moto's CPU for the send path's claims. The second
    parse of the same text with the same names and values (the very same objects) in the same
    thread gives the first one's tree; the check itself runs again, as before."""
    models = dynamodb_models
    if getattr(models.get_filter_expression, "remembered", False):
        return
    parse_filter, make_parser = models.get_filter_expression, models.create_condition_expression_parser
    last = threading.local()

    def get_filter_expression(expression: Any, names: Any, values: Any) -> Any:
        parsed = parse_filter(expression, names, values)
        last.parsed = (expression, names, values, parsed)  # the objects held: their ids stay theirs
        return parsed

    class _Parsed:
        def __init__(self, parsed: Any) -> None:
            self._parsed = parsed

        def parse(self) -> Any:
            return self._parsed

    def create_condition_expression_parser(expression: Any, names: Any, values: Any) -> Any:
        remembered = getattr(last, "parsed", None)
        last.parsed = None  # used at most once: the next request parses anew
        if (remembered is not None and remembered[0] == expression and remembered[1] is names
                and remembered[2] is values):
            return _Parsed(remembered[3])
        return make_parser(expression, names, values)

    get_filter_expression.remembered = True  # type: ignore[attr-defined]
    models.get_filter_expression = get_filter_expression
    models.create_condition_expression_parser = create_condition_expression_parser


def _new_items_validated_once() -> None:
    """An UpdateItem on an item that does not exist yet (the send path's claim of a message queued
    through SQS) makes moto validate the whole UpdateExpression twice: on an empty item, to refuse
    before creating anything, then on the item created with its key alone. The two items differ only
    by the key, which no validated expression can read: moto refuses any path naming a key attribute
    (`UpdateHashRangeKeyValidator`) whatever the item. So the second validation is given the tree
    of the first, which moto built for nothing, once, in the same thread."""
    cls = dynamodb_validators.UpdateExpressionValidator
    if getattr(cls.validate, "reused", False):
        return
    init, validate = cls.__init__, cls.validate
    last = threading.local()

    def __init__(self: Any, expression: Any, expression_attribute_names: Any, expression_attribute_values: Any,
                 item: Any, table: Any) -> None:
        first = getattr(last, "first", None)
        last.first = None  # given at most once, to the very next validator of this thread
        self._given = None
        if (first is not None and first[0] is expression and first[1] is expression_attribute_names
                and first[2] is expression_attribute_values and first[3] is table
                and set(item.attrs) <= {table.hash_key_attr, table.range_key_attr}):
            self.expression_attribute_names = expression_attribute_names
            self.expression_attribute_values = expression_attribute_values
            self.item, self.table, self._given = item, table, first[4]
            return
        init(self, expression, expression_attribute_names, expression_attribute_values, item, table)
        self._expression = expression

    def validate_once(self: Any) -> Any:
        if self._given is not None:
            return self._given
        validated = validate(self)
        if not self.item.attrs:  # the empty item moto validates on before creating one
            last.first = (self._expression, self.expression_attribute_names, self.expression_attribute_values,
                          self.table, validated)
        return validated

    validate_once.reused = True  # type: ignore[attr-defined]
    cls.__init__ = __init__
    cls.validate = validate_once


def _event_paths_parsed_once() -> None:
    """moto's EventBridge fills each rule target's input template by parsing its JSONPaths (the
    default template's eight for every event) with a new PLY parser each time, lexer and parser
    tables rebuilt: 4.5 ms of CPU per event, the status events' largest cost. A parsed JSONPath is
    only read (`find`), never changed: each text is parsed once."""
    import jsonpath_ng.ext

    if hasattr(jsonpath_ng.ext.parse, "cache_info"):
        return
    jsonpath_ng.ext.parse = functools.lru_cache(maxsize=256)(jsonpath_ng.ext.parse)


def _random_strings_drawn_at_once() -> None:
    """moto draws each request id (52 characters) and each SQS receipt handle (185) one character
    per `random.choice` call: about 0.3 ms of CPU per message. The same strings (length, alphabet,
    uniform draws from moto's own seedable `mock_random`) in one `choices` call each."""
    from moto.moto_api._internal import mock_random
    from moto.moto_api._internal.moto_random import MotoRandom

    if getattr(MotoRandom.get_random_string, "drawn_at_once", False):
        return

    def get_random_string(self: Any, length: int = 20, include_digits: bool = True, lower_case: bool = False) -> str:
        pool = string.ascii_letters + (string.digits if include_digits else "")
        drawn = "".join(self.choices(pool, k=length))
        return drawn.lower() if lower_case else drawn

    def generate_receipt_handle() -> str:
        return "".join(mock_random.choices(string.ascii_lowercase, k=185))

    get_random_string.drawn_at_once = True  # type: ignore[attr-defined]
    MotoRandom.get_random_string = get_random_string
    sqs_models.generate_receipt_handle = generate_receipt_handle


def _handler_methods_listed_once() -> None:
    """moto finds whether a request's action is one of its handler's methods by listing the class's
    members (`inspect.getmembers`, a hundred `isfunction` calls) at every request. The handler
    classes do not change while the server runs: each is listed once."""
    from moto.core import responses as core_responses

    if hasattr(core_responses.method_names_from_class, "cache_info"):
        return
    core_responses.method_names_from_class = functools.lru_cache(maxsize=None)(core_responses.method_names_from_class)


_RECORD_KEYS = frozenset({"eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "dynamodb"})
_CHANGE_KEYS = frozenset({"ApproximateCreationDateTime", "Keys", "NewImage", "OldImage", "SequenceNumber",
                          "SizeBytes", "StreamViewType"})


def stream_records_json(result: dict[str, Any]) -> str | None:
    """The body moto's JSON serializer gives a GetRecords result (the same document), written directly
    from the records, which moto keeps in DynamoDB's wire form already; None when a record holds
    anything else than what that form has (binary values among them: moto's serializer encodes them a
    second time, and only it should decide so)."""
    records = result.get("Records")
    if set(result) - {"Records", "NextShardIterator"} or not isinstance(records, list):
        return None
    written = []
    for record in records:
        change = record.get("dynamodb") if isinstance(record, dict) else None
        if (not isinstance(change, dict) or set(record) - _RECORD_KEYS or set(change) - _CHANGE_KEYS
                or not all(isinstance(record.get(k, ""), str) for k in _RECORD_KEYS - {"dynamodb"})
                or not all(isinstance(change.get(k, ""), str) for k in ("SequenceNumber", "StreamViewType"))
                or type(change.get("SizeBytes", 0)) is not int
                or type(change.get("ApproximateCreationDateTime")) is not datetime.datetime
                or not all(_plain_attribute_map(change.get(k, {})) for k in ("Keys", "NewImage", "OldImage"))):
            return None
        created = TimestampSerializer._timestamp_unixtimestamp(change["ApproximateCreationDateTime"])
        written.append({**record, "dynamodb": {**change, "ApproximateCreationDateTime": created}})
    answer: dict[str, Any] = {"Records": written}
    if result.get("NextShardIterator") is not None:
        answer["NextShardIterator"] = str(result["NextShardIterator"])
    return json.dumps(answer)


def _plain_attribute_map(attributes: Any) -> bool:
    """An item or key in wire form that JSON carries unchanged: every value one type, no binary."""
    return isinstance(attributes, dict) and all(
        isinstance(name, str) and plain_attribute_value(value) for name, value in attributes.items())


def _stream_records_written_directly() -> None:
    """moto writes a GetRecords answer with its generic serializer, which looks each value of each
    record up through six alias providers against botocore's shapes: about 1 ms of CPU per stream
    record (two per message: its claim and its outcome), a third of moto's CPU per message once the
    status function reads the stream. The records are DynamoDB JSON already: written as they are
    (`stream_records_json`), the same document; anything else goes through moto's serializer."""
    handler = DynamoDBStreamsHandler
    if getattr(handler.get_records, "written_directly", False):
        return
    serialized = handler.get_records

    def get_records(self: Any) -> Any:
        answer = serialized(self)
        body = stream_records_json(answer.result) if isinstance(answer, ActionResult) else None
        return answer if body is None else (body, {"Content-Type": "application/x-amz-json-1.0"})

    get_records.written_directly = True  # type: ignore[attr-defined]
    handler.get_records = get_records


def _is_dynamodb_attribute_value(shape: Any) -> bool:
    """Whether a botocore shape is DynamoDB's AttributeValue as `plain_attribute_value` knows it: its
    ten members, no renamed member, no constraint but the 65,535 characters of a map's key."""
    members = getattr(shape, "members", None) or {}
    if (shape.name != "AttributeValue" or shape.type_name != "structure" or shape.is_document_type
            or shape.metadata or {name: m.type_name for name, m in members.items()} != _ATTRIBUTE_VALUE_MEMBERS):
        return False
    inner = [members["M"].key, members["M"].value, members["L"].member, members["SS"].member, members["NS"].member]
    return (all(not m.serialization and not m.metadata for m in members.values())
            and members["M"].key.metadata == {"max": 65535} and all(s.name == "AttributeValue" for s in inner[1:3])
            and not inner[3].metadata and not inner[4].metadata)


def _shape_check(check: Any) -> Any:
    """`check(shape)`, remembered per shape object (botocore keeps its shapes while its clients live)."""
    known: dict[int, tuple[Any, bool]] = {}

    def remembered(shape: Any) -> bool:
        entry = known.get(id(shape))
        if entry is None or entry[0] is not shape:
            if len(known) >= 4096:
                known.clear()
            entry = known[id(shape)] = (shape, check(shape))
        return entry[1]

    return remembered


def _keys_fit(value: Any) -> bool:
    """No map key of a plain attribute value longer than DynamoDB's AttributeName allows."""
    kind, raw = next(iter(value.items()))
    if kind == "M":
        return all(len(key) <= 65535 and _keys_fit(v) for key, v in raw.items())
    if kind == "L":
        return all(_keys_fit(v) for v in raw)
    return True


_IMMUTABLE = (str, int, float, bool, bytes, decimal.Decimal, type(None))


def plain_copy(value: Any, fallback: Any) -> Any:
    """A deep copy of JSON-like data (dicts, lists, tuples, sets of texts, numbers, booleans): the
    same as `copy.deepcopy` without a memo; anything else goes to `fallback`."""
    kind = type(value)
    if kind in _IMMUTABLE:
        return value
    if kind is dict:
        return {plain_copy(k, fallback): plain_copy(v, fallback) for k, v in value.items()}
    if kind is list:
        return [plain_copy(v, fallback) for v in value]
    if kind is tuple:
        return tuple(plain_copy(v, fallback) for v in value)
    if kind is set:
        return {plain_copy(v, fallback) for v in value}
    return fallback(value)


def _dynamodb_params_copied_plainly() -> None:
    """boto3's DynamoDB resources deep-copy every call's parameters (`copy_dynamodb_params`, so that
    the caller's are not changed by the transformation that follows) through `copy.deepcopy` with a
    memo that forgets: about 5 % of the runtime's CPU. The same copy (no memo either), for the
    plain data the parameters are; other objects (boto3's `Binary`...) are deep-copied as before.
    Applied before the functions create their clients (boto3 registers the function then)."""
    from boto3.dynamodb import transform

    if getattr(transform.copy_dynamodb_params, "plain", False):
        return
    forgetful = transform._ForgetfulDict

    def fallback(value: Any) -> Any:
        return copy.deepcopy(value, memo=forgetful())

    def copy_dynamodb_params(params: Any, **kwargs: Any) -> Any:
        return plain_copy(params, fallback)

    copy_dynamodb_params.plain = True  # type: ignore[attr-defined]
    transform.copy_dynamodb_params = copy_dynamodb_params


def faster_botocore_attribute_values() -> None:
    """For the local runtime's own process (the functions' boto3 clients, the stream reader): botocore
    validates, serialises and parses every DynamoDB attribute value member by member (a handler
    found by name, ten members looked up per value), a fifth of the runtime's CPU per message. An
    attribute value without binary (`plain_attribute_value`) is valid (map keys within 65,535
    characters), serialised as it is and parsed as it is: those are taken as they are; anything
    else (binary, nulls, unknown or several types, wrong types) goes through botocore as before,
    which reports or converts it the same way."""
    from botocore import parsers, serialize, validate

    if getattr(validate.ParamValidator._validate_structure, "plain_values", False):
        return
    is_attribute_value = _shape_check(_is_dynamodb_attribute_value)
    validate_structure = validate.ParamValidator._validate_structure
    serialize_structure = serialize.JSONSerializer._serialize_type_structure
    parse_structure = parsers.JSONParser._handle_structure

    def _validate_structure(self: Any, params: Any, shape: Any, errors: Any, name: str) -> None:
        if is_attribute_value(shape) and plain_attribute_value(params) and _keys_fit(params):
            return
        validate_structure(self, params, shape, errors, name)

    def _serialize_type_structure(self: Any, serialized: Any, value: Any, shape: Any, key: Any) -> None:
        if key is not None and self.MAP_TYPE is dict and is_attribute_value(shape) and plain_attribute_value(value):
            serialized[key] = value
            return
        serialize_structure(self, serialized, value, shape, key)

    def _handle_structure(self: Any, shape: Any, value: Any) -> Any:
        if is_attribute_value(shape) and plain_attribute_value(value):
            return value
        return parse_structure(self, shape, value)

    _validate_structure.plain_values = True  # type: ignore[attr-defined]
    _dynamodb_params_copied_plainly()
    validate.ParamValidator._validate_structure = _validate_structure
    serialize.JSONSerializer._serialize_type_structure = _serialize_type_structure
    parsers.JSONParser._handle_structure = _handle_structure


class QuietMotoRequestHandler(OneWriteRequestHandler, MotoRequestHandler):
    """moto's request handler (it keeps header names with underscores), answering as the other
    local servers do: in one write, on a connection kept open."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # the poller's long polls would fill the terminal


class AtomicDynamoDB:
    """WSGI middleware: one DynamoDB request at a time. DynamoDB checks a condition and writes an
    item in one atomic step; moto's backend does not when its threaded server interleaves requests
    (four senders racing on one version condition were all granted, measured here), and the
    throughput limiter and the circuits (adapters/provider_state.py) rely on that atomicity."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._turns = _Turns()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            return self._app(environ, start_response)
        with self._turns:
            # The body is produced inside the lock: moto's answer is computed as it is iterated.
            return list(self._app(environ, start_response))


class _Turns:
    """A lock taken in arrival order. `threading.Lock` is not fair: while a campaign's invocations
    send one 100-item transaction after another, a notification's claim could wait behind all of
    them; here it waits only for those that asked before it."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._next_ticket = 0
        self._serving = 0

    def __enter__(self) -> None:
        with self._changed:
            ticket = self._next_ticket
            self._next_ticket += 1
            self._changed.wait_for(lambda: self._serving == ticket)

    def __exit__(self, *exc: Any) -> None:
        with self._changed:
            self._serving += 1
            self._changed.notify_all()


class CallMeter:
    """WSGI middleware: the CPU time moto spends on each kind of call (the serving thread's own CPU,
    so that waiting for the GIL or the DynamoDB lock does not count), served as JSON at
    `GET /_local/cpu`: `bench/local_throughput.py` reads it before and after a run, to say which
    calls cost moto's process what per message."""

    PATH = "/_local/cpu"

    def __init__(self, app: Any) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._seconds: collections.Counter[str] = collections.Counter()
        self._calls: collections.Counter[str] = collections.Counter()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") == self.PATH and environ.get("REQUEST_METHOD") == "GET":
            with self._lock:
                body = json.dumps({name: {"cpu_s": self._seconds[name], "calls": self._calls[name]}
                                   for name in self._seconds}).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        started = time.thread_time()
        try:
            return list(self._app(environ, start_response))  # the answer is computed as it is iterated
        finally:
            used = time.thread_time() - started
            with self._lock:
                name = call_name(environ)
                self._seconds[name] += used
                self._calls[name] += 1


def call_name(environ: dict[str, Any]) -> str:
    """`Service.Operation` for JSON-protocol calls (`X-Amz-Target`), else the method and the path's service."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        service, _, operation = target.partition(".")
        return f"{service.split('_')[0]}.{operation}"
    return f"{environ.get('REQUEST_METHOD', '')} {environ.get('PATH_INFO', '')}"


class MotoServer:
    """moto serving SQS, DynamoDB, SES, Secrets Manager, EventBridge... over HTTP on 127.0.0.1.

    moto keeps its state in module globals: one per process."""

    def __init__(self, port: int = 4566):
        _faster_moto_sqs()
        _sqs_counts_in_one_pass()
        _item_sizes_summed_without_copies()
        _regular_json_copied_once()
        _transactions_without_table_copies()
        _update_expressions_checked_once()
        _update_expression_static_checks_remembered()
        _update_expressions_parsed_once()
        _update_expressions_copied_by_pickle()
        _update_expressions_copied_by_code()
        _expression_trees_walked_faster()
        _clause_lookups_remembered()
        _condition_expressions_lexed_once()
        _condition_trees_reused()
        _moto_modules_listed_once()
        _attribute_values_parsed_as_read()
        _transaction_conditions_parsed_once()
        _new_items_validated_once()
        _event_paths_parsed_once()
        _stream_records_written_directly()
        _random_strings_drawn_at_once()
        _handler_methods_listed_once()
        from local.streams import keep_streams_consistent

        keep_streams_consistent()  # after the patches above: it cuts back what a cancelled transaction wrote
        app = CallMeter(AtomicDynamoDB(DomainDispatcherApplication(create_backend_app)))
        self._server = LoopbackServer(app, port, name="AWS stand-in (moto)", request_handler=QuietMotoRequestHandler,
                                      env_var="SMSBRIDGE_AWS_PORT")

    @property
    def url(self) -> str:
        return self._server.url

    def start(self) -> MotoServer:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def session(self) -> EndpointSession:
        return EndpointSession(self.url)


class MotoProcess:
    """The moto server in a child process: its requests then take the CPU of another core instead
    of the GIL of the process running the functions (the local runtime's rate doubles). The child
    ends when this process closes its stdin: on `stop()`, or when this process dies."""

    def __init__(self, port: int = 4566):
        self._port = port
        self._child: subprocess.Popen[str] | None = None
        self._url = ""

    @property
    def url(self) -> str:
        return self._url

    def start(self) -> MotoProcess:
        # A session of its own: Ctrl-C reaches the runtime, which stops the functions first and
        # this server last, instead of both at once.
        self._child = subprocess.Popen([sys.executable, "-m", "local.aws", "--port", str(self._port)],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                       cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                       start_new_session=True)
        first = self._child.stdout.readline().strip() if self._child.stdout else ""
        if not first.startswith("http://"):
            self.stop()
            if first.startswith("port-in-use: "):
                raise PortInUse(first.removeprefix("port-in-use: "))
            raise RuntimeError(f"the AWS stand-in (moto) did not start: {first or 'no answer'}")
        self._url = first
        return self

    def stop(self) -> None:
        if self._child is None:
            return
        child, self._child = self._child, None
        if child.stdin:
            try:
                child.stdin.close()
            except OSError:
                pass
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        if child.stdout:
            child.stdout.close()

    def session(self) -> EndpointSession:
        return EndpointSession(self.url)


def interpreter_tuned_for_serving() -> None:
    """Two interpreter settings for a process that serves many small requests from many threads (moto's,
    and `python -m local.runtime`'s).

    Python's cyclic garbage collector runs every 700 allocations, and from time to time walks every
    object the process holds: moto's tables, stream records and queues, and the modules and service
    models loaded at start, a tenth of moto's CPU on the send path. The objects there at start are
    moved out of its reach (`gc.freeze`), and it runs after 20,000 allocations: the cycles a request
    leaves behind (moto's expression trees point to their parents) are still collected while they
    are young, and memory is still reclaimed.

    A thread that holds the GIL is asked to give it up every 5 ms by default. With a dozen threads
    each doing a millisecond of work per request, that hands the GIL over mid-request, over and over,
    and each hand-over costs both processes CPU. Every thread here gives the GIL up anyway when it
    waits on a socket, so 50 ms only stops the forced hand-overs: 1,000 messages went through at a
    median of 180 per second against 161 with 5 ms, idle latency unchanged (docs/BENCHMARKS.md)."""
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)
    sys.setswitchinterval(0.05)


def serve_until_stdin_closes(port: int) -> int:
    """The child of MotoProcess: prints its URL (or why it cannot listen), serves until stdin ends."""
    # moto's SQS reads its clock through datetime arithmetic for every message it looks at (is it
    # visible? delayed?), 3 µs each, millions of times when 1,000 messages wait. This process
    # never freezes time, so the plain clock, read the same way.
    sqs_models.unix_time_millis = lambda: time.time() * 1000
    try:
        server = MotoServer(port).start()
    except PortInUse as exc:
        print(f"port-in-use: {exc}", flush=True)
        return 2
    interpreter_tuned_for_serving()
    print(server.url, flush=True)
    done = threading.Event()

    def watch_stdin() -> None:
        sys.stdin.read()
        done.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    done.wait()
    server.stop()
    return 0


class EndpointSession:
    """A boto3 session whose clients and resources all point at one endpoint."""

    def __init__(self, endpoint_url: str, region: str = REGION):
        self.endpoint_url = endpoint_url
        self._session = boto3.session.Session(region_name=region, **DUMMY_CREDENTIALS)

    def client(self, service: str, **kwargs: Any) -> Any:
        return self._session.client(service, endpoint_url=self.endpoint_url, **kwargs)

    def resource(self, service: str, **kwargs: Any) -> Any:
        return self._session.resource(service, endpoint_url=self.endpoint_url, **kwargs)


def sent_emails(endpoint_url: str) -> list[dict[str, Any]]:
    """The emails sent through SES (v1 and v2), oldest first, from moto's state dump."""
    state = requests.get(f"{endpoint_url}/moto-api/data.json", timeout=10).json()
    ses = state.get("ses") or {}
    emails = []
    for message in ses.get("Message") or []:
        emails.append({"id": message.get("id"), "source": message.get("source"),
                       "destinations": message.get("destinations"), "subject": message.get("subject"),
                       "body": message.get("body")})
    for message in ses.get("RawMessage") or []:
        emails.append({"id": message.get("id"), "source": message.get("source"),
                       "destinations": message.get("destinations"), "raw": message.get("raw_data")})
    return emails


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="moto on 127.0.0.1 until stdin is closed (local.aws.MotoProcess)")
    parser.add_argument("--port", type=int, default=4566)
    sys.exit(serve_until_stdin_closes(parser.parse_args().port))
