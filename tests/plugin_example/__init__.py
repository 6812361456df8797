"""A webnets plugin, as a user would write one: a Keras layer webnets cannot trace (clamp.py),
its translator, and the TF.js class that computes it (clamp.js). Used by tests/test_plugins.py."""
