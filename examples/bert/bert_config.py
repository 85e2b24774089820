"""Configuration of the BERT recipe: plain Python constants.

Three groups, each a dict that the scripts read for their flag defaults:

- `MODEL_CONFIGS`: encoder sizes by name. `"tiny"` is the default, small
  enough to pretrain on two CPU cores in a few minutes; `"base"` and
  `"large"` are the two models of Devlin et al. (2019); the sizes between
  are the compact BERTs of Turc et al. (2019).
- `PREPROCESSING_CONFIG`: vocabulary, sequence length and masking.
- `PRETRAINING_CONFIG` and `FINETUNING_CONFIG`: optimisation.

The `*_REAL_RUN` dicts record the settings of a full-size run (see the
README); the scripts never read them.
"""

# === Model architecture ===
# Every size uses 4 * hidden_dim feed-forward units and 64-wide attention
# heads (hidden_dim / num_heads), as BERT does.
MODEL_CONFIGS = {
    "tiny": {
        "num_layers": 2,
        "num_heads": 2,
        "hidden_dim": 128,
        "intermediate_dim": 512,
    },
    "mini": {
        "num_layers": 4,
        "num_heads": 4,
        "hidden_dim": 256,
        "intermediate_dim": 1024,
    },
    "small": {
        "num_layers": 4,
        "num_heads": 8,
        "hidden_dim": 512,
        "intermediate_dim": 2048,
    },
    "medium": {
        "num_layers": 8,
        "num_heads": 8,
        "hidden_dim": 512,
        "intermediate_dim": 2048,
    },
    "base": {
        "num_layers": 12,
        "num_heads": 12,
        "hidden_dim": 768,
        "intermediate_dim": 3072,
    },
    "large": {
        "num_layers": 24,
        "num_heads": 16,
        "hidden_dim": 1024,
        "intermediate_dim": 4096,
    },
}
DEFAULT_MODEL_SIZE = "tiny"
# Shared by every size: dropout on embeddings, attention and feed-forward
# outputs, and the number of segment (token type) ids.
DROPOUT = 0.1
NUM_SEGMENTS = 2

# === Preprocessing ===
PREPROCESSING_CONFIG = {
    # WordPiece vocabulary learned from the pretraining text.
    "vocabulary_size": 8192,
    # Uncased: lowercase and strip accents before WordPiece.
    "lowercase": True,
    # Tokens per pretraining example, [CLS] and [SEP] included; also the
    # length of the position embedding table.
    "sequence_length": 128,
    # BERT's masking: 15% of tokens are selected; of those 80% become
    # [MASK], 10% a random token and 10% stay as they are.
    "mask_selection_rate": 0.15,
    "mask_token_rate": 0.8,
    "random_token_rate": 0.1,
    # The most predictions per example is not a constant: it follows the
    # sequence length, ceil(sequence_length * mask_selection_rate), which
    # is 20 for 128 tokens and 77 for 512.
}

# === Pretraining (masked language modelling) ===
PRETRAINING_CONFIG = {
    "batch_size": 32,
    "num_steps": 600,
    # Peak learning rate, reached after the warmup and decayed linearly to
    # zero at the last step (AdamW).
    "learning_rate": 2e-3,
    "warmup_fraction": 0.1,
    "weight_decay": 0.01,
    # Validation batches for the held-out MLM loss and accuracy, and the
    # steps between two evaluations on them.
    "num_validation_batches": 20,
    "eval_every": 200,
}

# === Fine-tuning (IMDB sentiment) ===
FINETUNING_CONFIG = {
    "sequence_length": 128,
    "batch_size": 32,
    "epochs": 2,
    "learning_rate": 5e-4,
    "num_train": 5000,
    "num_test": 2000,
    "warmup_fraction": 0.1,
    "weight_decay": 0.01,
}

# === A full-size run (not read by the scripts) ===
PRETRAINING_REAL_RUN = {
    "model_size": "base",
    "vocabulary_size": 30522,
    "sequence_length": 512,
    "batch_size": 256,
    "num_steps": 1_000_000,
    "learning_rate": 1e-4,
    "warmup_fraction": 0.01,
}
FINETUNING_REAL_RUN = {
    "sequence_length": 512,
    "batch_size": 32,
    "epochs": 3,
    "learning_rate": 2e-5,
    "num_train": 20_000,
    "num_test": 5_000,
}
