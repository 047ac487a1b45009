"""The Reflex app: builds rx.App, mounts the REST API and registers pages. No logic here."""

import reflex as rx


def index() -> rx.Component:
    return rx.text("Entrar")


app = rx.App()
app.add_page(index, route="/login", title="Entrar")
