"""Components of the WhatsApp page (the plan's base names, in snake_case)."""
