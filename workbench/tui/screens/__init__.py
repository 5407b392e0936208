"""Modal dialogs: the CA passphrase prompt and the cut-over confirmation."""
