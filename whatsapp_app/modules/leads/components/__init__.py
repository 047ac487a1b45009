"""Components of the Leads page: kanban board, move menu, lead drawer, new-lead dialog."""
