"""SC: secrets — credentials written into manifests, and Secrets handed to processes the leaky way."""
