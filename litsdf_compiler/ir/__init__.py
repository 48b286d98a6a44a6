"""The plan IR: immutable relational and expression nodes, schemas, JSON serde, explain."""

from .base import NODE_TYPES, Node, children, replace_children, walk
from .expressions import *  # noqa: F403
from .relations import *  # noqa: F403
from .schema import Schema
from .strings import *  # noqa: F403
from .temporal import *  # noqa: F403
from .udf import *  # noqa: F403

__all__ = ["NODE_TYPES", "Node", "Schema", "children", "replace_children", "walk"]
