"""Selection and operator actions of ``EstadoFila``: which rows are ticked, the confirmation
dialog, and retry / mark as sent / cancel through ``operacao.acoes_em_lote`` (the service's
status rule, ``operacao.acao_se_aplica``; the API's role rule, ``auth.PERFIS_GESTAO``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import reflex as rx

from whatsapp_app import auth, db, fila, operacao
from whatsapp_app.fila import LinhaFila
from whatsapp_app.modules.fila.tipos import ACOES
from whatsapp_app.ui.formatacao import milhar, plural

if TYPE_CHECKING:
    from whatsapp_app.auth import Contexto
    from whatsapp_app.models import Perfil


class MixinAcoesFila(rx.State, mixin=True):
    selecionados: list[str] = []
    acao_pendente: str = ""  # the action waiting for confirmation
    ids_pendentes: list[str] = []
    executando: bool = False
    anuncio: str = ""  # aria-live: what the last load or action did

    if TYPE_CHECKING:  # of EstadoFila / EstadoSessao
        perfil: str
        linhas: list[LinhaFila]
        contagens: dict[str, int]

        def contexto(self, *perfis: Perfil) -> Contexto: ...

    @rx.var(cache=True)
    def pode_agir(self) -> bool:
        return auth.perfil_permite(self.perfil, *auth.PERFIS_GESTAO)

    @rx.var(cache=True)
    def n_selecionados(self) -> int:
        return len(self.selecionados)

    @rx.var(cache=True)
    def texto_selecao(self) -> str:
        return plural(len(self.selecionados), "envio selecionado", "envios selecionados")

    @rx.var(cache=True)
    def todos_visiveis_marcados(self) -> bool:
        return bool(self.linhas) and len(self.selecionados) == len(self.linhas)

    def _elegiveis(self, acao: str, ids: list[str]) -> list[str]:
        status = {linha["id"]: linha["status"] for linha in self.linhas}
        return [i for i in ids if i in status and operacao.acao_se_aplica(acao, status[i])]

    @rx.var(cache=True)
    def selecao_reenviar(self) -> int:
        return len(self._elegiveis("reenviar", self.selecionados))

    @rx.var(cache=True)
    def selecao_marcar(self) -> int:
        return len(self._elegiveis("marcar_enviado", self.selecionados))

    @rx.var(cache=True)
    def selecao_cancelar(self) -> int:
        return len(self._elegiveis("cancelar", self.selecionados))

    @rx.var(cache=True)
    def confirmacao_aberta(self) -> bool:
        return self.acao_pendente != ""

    @rx.var(cache=True)
    def confirmacao_titulo(self) -> str:
        if not self.acao_pendente:
            return ""
        n = len(self.ids_pendentes)
        verbo = ACOES[self.acao_pendente][0]
        return f"{verbo} {plural(n, 'envio', 'envios')}?" if n > 1 else f"{verbo}?"

    @rx.var(cache=True)
    def confirmacao_texto(self) -> str:
        n = len(self.ids_pendentes)
        alvo = "esta mensagem" if n == 1 else f"estas {milhar(n)} mensagens"
        if self.acao_pendente == "reenviar":
            return (
                f"{alvo.capitalize()} volta para a fila e sai na próxima rodada do despacho. "
                "Se um envio incerto já chegou ao lead, ele recebe de novo."
            )
        if self.acao_pendente == "marcar_enviado":
            return (
                f"{alvo.capitalize()} passa a constar como enviada e entra na conversa do lead. "
                "Nada é enviado agora."
            )
        if self.acao_pendente == "cancelar":
            return f"{alvo.capitalize()} não será enviada. Não dá para desfazer."
        return ""

    @rx.var(cache=True)
    def confirmacao_botao(self) -> str:
        return ACOES[self.acao_pendente][0] if self.acao_pendente else ""

    @rx.var(cache=True)
    def confirmacao_perigo(self) -> bool:
        return self.acao_pendente == "cancelar"

    # --- events ----------------------------------------------------------------------------

    @rx.event
    def alternar_selecao(self, id_agendamento: str):
        if id_agendamento in self.selecionados:
            self.selecionados = [i for i in self.selecionados if i != id_agendamento]
        elif any(linha["id"] == id_agendamento for linha in self.linhas):
            self.selecionados = [*self.selecionados, id_agendamento]

    @rx.event
    def alternar_todos(self, marcar: bool):
        self.selecionados = [linha["id"] for linha in self.linhas] if marcar else []

    @rx.event
    def pedir_confirmacao(self, acao: str, id_agendamento: str):
        """A row's action button: the dialog asks before anything changes."""
        if acao in ACOES and self.pode_agir and self._elegiveis(acao, [id_agendamento]):
            self.acao_pendente, self.ids_pendentes = acao, [id_agendamento]

    @rx.event
    def pedir_confirmacao_lote(self, acao: str):
        """The selection bar's action: only the selected jobs the action applies to."""
        if acao in ACOES and self.pode_agir and (ids := self._elegiveis(acao, self.selecionados)):
            self.acao_pendente, self.ids_pendentes = acao, ids

    @rx.event
    def fechar_confirmacao(self, aberto: bool = False):
        if not aberto and not self.executando:
            self.acao_pendente, self.ids_pendentes = "", []

    @rx.event
    def confirmar(self):
        acao, ids = self.acao_pendente, list(self.ids_pendentes)
        if not acao or not ids or self.executando:
            return
        self.executando = True
        yield
        try:
            contexto = self.contexto(*auth.PERFIS_GESTAO)
            with db.sessao() as sessao:
                resultados = operacao.acoes_em_lote(
                    sessao=sessao,
                    id_empresa=contexto.id_empresa,
                    id_usuario=contexto.id_usuario,
                    ids=ids,
                    acao=acao,
                )
            self._atualizar_linhas(ids)
        finally:
            self.executando = False
        self.acao_pendente, self.ids_pendentes = "", []
        self.selecionados = [i for i in self.selecionados if i not in set(ids)]
        yield _toast_do_resultado(acao, resultados)
        self.anuncio = _texto_resultado(acao, resultados)

    def _atualizar_linhas(self, ids: list[str]) -> None:
        """The changed rows in place (the list keeps its order and scroll position)."""
        contexto = self.contexto()
        with db.sessao() as sessao:
            novas = {
                linha["id"]: linha
                for linha in fila.linhas_da_fila(
                    sessao, id_empresa=contexto.id_empresa, itens=[{"id": i} for i in ids]
                )
            }
            self.contagens = fila.contagem_por_status(sessao, id_empresa=contexto.id_empresa)
        self.linhas = [novas.get(linha["id"], linha) for linha in self.linhas]


def _texto_resultado(acao: str, resultados: list[dict[str, Any]]) -> str:
    feitos = sum(1 for r in resultados if r["ok"])
    falhas = len(resultados) - feitos
    singular, plural_ = ACOES[acao][1]
    if feitos == 1 and not falhas:
        texto = f"Envio {singular}."
    else:
        texto = f"{plural(feitos, 'envio', 'envios')} {singular if feitos == 1 else plural_}."
    if falhas:
        verbo = "mudou" if falhas == 1 else "mudaram"
        texto += f" {plural(falhas, 'envio', 'envios')} não {verbo}: o status já era outro."
    return texto


def _toast_do_resultado(acao: str, resultados: list[dict[str, Any]]) -> Any:
    texto = _texto_resultado(acao, resultados)
    if all(not r["ok"] for r in resultados):
        return rx.toast.error(texto, id="fila-acao")
    if any(not r["ok"] for r in resultados):
        return rx.toast.warning(texto, id="fila-acao")
    return rx.toast.success(texto, id="fila-acao")
