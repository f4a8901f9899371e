"""Cost rules, one module per family; importing this package registers them all."""

from . import contractions, contrib, elementwise, movement, normalization, pooling, recurrent  # noqa: F401
