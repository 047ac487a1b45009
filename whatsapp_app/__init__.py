"""Módulo de follow-up por WhatsApp de um CRM de vendas."""
