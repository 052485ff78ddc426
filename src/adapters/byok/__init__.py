"""BYOK adapters: the AES-GCM cipher of stored credentials and the provider check on save."""
