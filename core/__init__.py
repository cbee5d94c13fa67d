"""The shared kernel: small pieces every app may use, depending on no other app of the project."""
