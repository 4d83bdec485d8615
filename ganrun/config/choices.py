"""Every list of allowed values of the config, once. The schemas' checks (checks.py) and the code that
acts on a value (fast_path, sampling, the f-GAN losses, the models) read these tuples, so a value
accepted here always has a meaning there (tests/test_config.py checks the pairs)."""

DEVICES = ("auto", "cpu", "cuda", "mps")  # and cuda:N
PRECISIONS = ("fp32", "bf16", "fp16")
PROGRESS = ("auto", "bar", "lines", "off")
ON_NAN = ("stop", "skip")
LATENT_PRIORS = ("gaussian", "uniform", "spherical")
FGAN_DIVERGENCES = ("kl", "reverse_kl", "js", "pearson", "squared_hellinger")
NORMALIZATIONS = ("batch", "layer", "instance", "none")  # D's normalization layers
# What D's outputs mean to an objective, and what an architecture's D gives:
#   logit: a real/fake logit (sigmoid cross-entropy: label smoothing applies); score: an unbounded
#   score (critic, hinge, least squares); energy: a reconstruction error (auto-encoder D);
#   logit_and_class: AC-GAN's [logit, log P(c | x)] (conditional by construction)
D_OUTPUTS = ("logit", "score", "energy", "logit_and_class")
FEATURES = ("auto", "inception", "classifier")
SPLITS = ("train", "test")
SWEEP_DIRECTIONS = ("minimize", "maximize")


def check_choice(key: str, value: object, choices: tuple[str, ...]) -> None:
    """Raise ConfigError when `value` is not one of `choices`, naming them."""
    if value not in choices:
        from ganrun.errors import ConfigError

        raise ConfigError(f"{key}={value} is not an option: use one of {', '.join(choices)}")
