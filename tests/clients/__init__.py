"""What the provider-client tests share: loopback fixtures and helpers, one module per provider."""
