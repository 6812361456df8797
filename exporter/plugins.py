"""Your own layers in TF.js: a translator (Python) and a TF.js layer class (JavaScript), as a plugin.

webnets traces a layer class it has no translator for into keras.ops. A layer that cannot be traced
(its call() branches in Python on a tensor's value, or uses an op TF.js lacks) needs both halves from
its author, registered here (docs/own-layers.md):

    import keras
    from exporter.plugins import ConfigReader, translator

    @translator("my_package>Clamp01", js="clamp.js", becomes="MyPackageClamp01")
    def clamp01(layer, config):
        reader = ConfigReader(layer, config)
        reader.copy("limit")                             # every Keras config key: copied, ignored or refused
        return reader.finish("MyPackageClamp01")         # one TfjsLayer; weights: default_weights(layer)

`clamp.js` (a path relative to the translator's module, or absolute) follows the contract of
exporter/runtime/webnets-layers.js: a classic script that registers its classes on the global `tf`
when a page loads it, and `module.exports = {register}` so that Node calls `require(file).register(tf)`.
Every export whose model.json names one of its classes carries the file: beside model.json, in
meta.json `requires` (with its sha256), inside model.js; `verify`, `publish` and the demo load it.

Installed packages register their translators through the entry point group `webnets.translators`
(`[project.entry-points."webnets.translators"] my_package = "my_package.webnets_plugin"`); webnets
imports them once, before it translates its first model.
"""

from .layers.plugins import ENTRY_POINT_GROUP, PluginScript, load_installed, plugin_translator
from .layers.translators.common import ConfigReader, default_weights
from .layers.translators.registry import Call, Input, TfjsLayer

__all__ = ["translator", "load_installed", "ENTRY_POINT_GROUP", "PluginScript", "TfjsLayer", "ConfigReader",
           "default_weights", "Input", "Call"]


def translator(key, *, js, becomes, note="", call_tensors=None):
    """Register a translator for your Keras layer class, whose TF.js class comes from the JS file `js`.

    Args:
        key: the class's registered Keras name, `keras.saving.get_registered_name(cls)`, e.g.
            "my_package>RMSNorm" (an unregistered class: "its.module.ClassName"). Built-in Keras classes
            are refused: plugins extend webnets, they never replace its translators.
        js: the JS file defining the TF.js class(es); relative paths are read from the directory of the
            module defining the translator. Its file name is the one it has in every export.
        becomes: the TF.js class name (or a list of them) the file defines and the translator emits;
            no TF.js or webnets class name (TF.js keeps one class per name).
        note: a line saying what the translation does or refuses.
        call_tensors: None: the translator is called as `function(layer, config)`; a tuple of keyword
            argument names: as `function(layer, config, call)` with a `Call`, and tensors passed in those
            keyword arguments become extra TF.js inputs, in that order.

    The decorated function returns one `TfjsLayer` (or a list of them: a lowering, whose pieces take
    `inputs=[Input(i) | an earlier piece]`; the last piece keeps the layer's name). Weights are
    `(suffix, value)` pairs, named `<piece name>/<suffix>` in TF.js, where the JS class adds them with
    `this.addWeight(suffix, ...)` in build(). Anything it cannot express exactly should be refused with
    `ConfigReader.refuse(problem, fix)`.

    Raises:
        ExportError: a built-in class's key, a key another plugin translates, a file name an export
        reserves, a class name TF.js or webnets already has.
    """
    return plugin_translator(key, js=js, becomes=becomes, note=note, call_tensors=call_tensors)
