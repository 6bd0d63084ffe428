"""The AWS stand-in's copies of moto's parsed UpdateExpressions (local/aws.py `expression_tree_builder`):
each built copy is the tree moto's deepcopy gives, and shares nothing a validation changes."""
from __future__ import annotations

import copy
import pickle

from moto.dynamodb.parsing.ast_nodes import Node
from moto.dynamodb.parsing.expressions import UpdateExpressionParser

from local.aws import expression_tree_builder

_CLAIM = ("SET #c = if_not_exists(#c, :at), #h = list_append(if_not_exists(#h, :e), :h), n = n + :one, "
          "m.k[2] = :v REMOVE #x, l[0] ADD s :set DELETE d :d")


def _nodes(node: Node) -> list[Node]:
    found = [node]
    for child in node.children or ():
        if isinstance(child, Node):
            found += _nodes(child)
    return found


def test_given_a_parsed_update_expression_when_built_then_the_copy_is_the_tree_deepcopy_gives() -> None:
    tree = UpdateExpressionParser.make(_CLAIM)

    built = expression_tree_builder(tree)()

    assert pickle.dumps(built) == pickle.dumps(copy.deepcopy(tree))  # classes, attributes, children, parents
    assert all(child.parent is node for node in _nodes(built) for child in node.children or ()
               if isinstance(child, Node))


def test_given_two_built_copies_when_one_is_rewritten_then_the_other_and_the_tree_are_unchanged() -> None:
    tree = UpdateExpressionParser.make(_CLAIM)
    before = pickle.dumps(tree)
    build = expression_tree_builder(tree)
    first, second = build(), build()

    # a validation replaces children and parents in its copy
    for node in _nodes(first):
        if node.children:
            node.children[0] = "replaced"
        node.parent = None

    assert pickle.dumps(tree) == before
    assert pickle.dumps(second) == before
    assert not {id(n) for n in _nodes(second)} & {id(n) for n in _nodes(tree)}


def test_given_a_tree_holding_a_mutable_value_then_no_builder_is_written() -> None:
    tree = copy.deepcopy(UpdateExpressionParser.make("SET a = :v"))  # not the stand-in's cached tree
    _nodes(tree)[-1].children.append(["a", "list"])  # not a node, not a text: only a real copy would do

    assert expression_tree_builder(tree) is None
