"""PSS: the Pod Security Standards, one rule per upstream check, and the namespaces that enforce them."""
