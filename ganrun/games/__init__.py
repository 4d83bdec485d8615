"""Games: who plays against whom, what each network is shown and scored on (base.py says the contract).

One module a game: gan.py (G(z) against D(x), unconditional or class-conditional). Each module's
`build(cfg, ...)` is named by a YAML of the `game` config group and returns a plain Game object."""
