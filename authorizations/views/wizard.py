"""Request new permissions: organisation -> user -> level -> services -> review -> confirm."""
