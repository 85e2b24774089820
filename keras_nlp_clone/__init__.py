"""keras_nlp_clone: a Keras 3 NLP library mirroring KerasNLP.

Use it as `import keras_nlp_clone as keras_nlp`. Modules:
`keras_nlp_clone.tokenizers`, `keras_nlp_clone.layers`,
`keras_nlp_clone.models`, `keras_nlp_clone.samplers`,
`keras_nlp_clone.metrics` and `keras_nlp_clone.utils`.

TensorFlow is imported only when string preprocessing first runs, so under
the JAX and PyTorch backends importing this package does not import it.
"""

__version__ = "0.1.0.dev0"

from keras_nlp_clone import layers  # noqa: E402
from keras_nlp_clone import metrics  # noqa: E402
from keras_nlp_clone import models  # noqa: E402
from keras_nlp_clone import samplers  # noqa: E402
from keras_nlp_clone import tokenizers  # noqa: E402
from keras_nlp_clone import utils  # noqa: E402
