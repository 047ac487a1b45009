"""WhatsApp providers behind one interface (``base.Provedor``)."""
