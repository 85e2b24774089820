"""keras_nlp_clone: a Keras 3 NLP library mirroring KerasNLP."""

__version__ = "0.1.0.dev0"
