"""Components of the Configurações page."""
