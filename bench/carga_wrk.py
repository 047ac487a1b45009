"""wrk as the load client of ``bench/mover.py``: a closed loop at a fixed concurrency, a distinct
lead per request (Lua script below), for a fixed duration. wrk is C (Debian package ``wrk``) and
costs ~0.1 ms of CPU per request, so the 2 shared cores go to the server and PostgreSQL."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

WRK_LUA = r"""
-- bench/mover.py: each wrk thread moves its own slice of leads, one distinct lead per request.
local threads = {}
local contador = 0
function setup(thread)
  thread:set("id_thread", contador)
  contador = contador + 1
  table.insert(threads, thread)
end
function init(args)
  ids = {}
  for linha in io.lines(args[1] .. "-" .. id_thread .. ".txt") do table.insert(ids, linha) end
  enviados, respostas, ok, erros, esgotado = 0, 0, 0, 0, 0
  wrk.headers["Authorization"] = "Bearer " .. args[2]
  wrk.headers["Content-Type"] = "application/json"
  corpo = '{"id_estagio_destino":"' .. args[3] .. '"}'
end
function request()
  enviados = enviados + 1
  if enviados > #ids then
    esgotado = 1
    return wrk.format("GET", "/api/health")
  end
  return wrk.format("PATCH", "/api/leads/" .. ids[enviados] .. "/mover", nil, corpo)
end
function response(status, headers, body)
  respostas = respostas + 1
  if status == 200 and body:find('"agendamentos_criados":9', 1, true)
      and body:find('"agendamentos_cancelados":9', 1, true) then
    ok = ok + 1
  else
    erros = erros + 1
  end
end
function done(summary, latency, requests)
  local partes = {}
  for _, t in ipairs(threads) do
    table.insert(partes, string.format(
      '{"id":%d,"enviados":%d,"respostas":%d,"ok":%d,"erros":%d,"esgotado":%d}',
      t:get("id_thread"), t:get("enviados"), t:get("respostas"), t:get("ok"), t:get("erros"),
      t:get("esgotado")))
  end
  io.write(string.format(
    'WRK_JSON {"requisicoes":%d,"duracao_us":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d,'
    .. '"erros_socket":%d,"threads":[%s]}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout, table.concat(partes, ",")))
end
"""
WRK_SEGUNDOS = {10: 6, 50: 8}  # duration of one wrk run per concurrency
WRK_TETO_MOVES_S = 700  # leads handed to one run = duration x this (more than it can move)


def carga_wrk(
    base: str, token: str, destino: str, ids: list[str], concorrencia: int, prefixo: Path
) -> Any:
    """The same closed-loop load from ``wrk`` (C, from Debian's packages: a load generator
    that costs ~nothing next to the server). wrk runs for a fixed duration, so each run gets
    more leads than it can move; the leads it sent are the first ``enviados`` of each thread's
    slice, and which of them answered is not known (wrk's ``response`` does not say which
    request it answers): the one request per connection in flight at the stop may or may not
    have moved its lead, ``verificar`` checks the counts instead."""
    exe = shutil.which("wrk")
    if exe is None:
        raise RuntimeError("wrk não instalado (apt-get install wrk)")
    n_threads = min(2, concorrencia)
    fatias = [ids[i::n_threads] for i in range(n_threads)]
    for i, fatia in enumerate(fatias):
        Path(f"{prefixo}-{i}.txt").write_text("\n".join(fatia) + "\n")
    script = prefixo.with_name("mover.lua")
    script.write_text(WRK_LUA)
    segundos = WRK_SEGUNDOS.get(concorrencia, 6)
    saida = subprocess.run(
        [exe, "-t", str(n_threads), "-c", str(concorrencia), "-d", f"{int(segundos)}s",
         "--timeout", "30s", "-s", str(script), base, "--", str(prefixo), token, destino],
        capture_output=True, text=True, timeout=segundos + 60, check=False,
    )  # fmt: skip
    linha = next((x for x in saida.stdout.splitlines() if x.startswith("WRK_JSON ")), None)
    if linha is None:
        raise RuntimeError(f"wrk falhou: {saida.stdout[-500:]} {saida.stderr[-500:]}")
    dados = json.loads(linha.removeprefix("WRK_JSON "))
    enviados: list[str] = []
    erros = [f"wrk: {dados['erros_socket']} erro(s) de socket"] if dados["erros_socket"] else []
    confirmados = sem_resposta = 0
    for t in dados["threads"]:
        fatia = fatias[t["id"]]
        if t["esgotado"]:
            erros.append(f"wrk: a thread {t['id']} esgotou seus {len(fatia)} leads")
        if t["erros"]:
            erros.append(f"wrk: {t['erros']} resposta(s) sem 9 criados / 9 cancelados")
        n = min(t["enviados"], len(fatia))
        enviados.extend(fatia[:n])
        confirmados += t["ok"]
        sem_resposta += n - t["respostas"]
    return dados, enviados, confirmados, sem_resposta, erros
