"""Suite-wide test settings.

Hypothesis runs derandomized (the same examples on every run and machine, so
a red CI run reproduces locally), with no example database written into the
working tree and no per-example deadline (the first call of a tokenizer
traces TensorFlow functions, which takes seconds on a busy 2-core machine).
"""

from hypothesis import settings

settings.register_profile(
    "keras_nlp_clone", derandomize=True, database=None, deadline=None
)
settings.load_profile("keras_nlp_clone")
