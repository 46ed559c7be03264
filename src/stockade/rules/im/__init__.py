"""IM: trusted registries — where images come from and whether what runs is what was reviewed."""
