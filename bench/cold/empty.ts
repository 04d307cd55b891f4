// Figure 4's baseline: a script that does nothing.
