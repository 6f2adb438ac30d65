// The simulators' web console (smsgw/web/console.py): polls the control API
// and renders what it answers. Everything the page inserts goes through
// textContent (never innerHTML), and the token stays in sessionStorage, sent
// only as "Authorization: Bearer" on the API calls, never in a URL.
"use strict";

(function () {
  const POLL_MS = 1500;
  const SUBMITS_SHOWN = 20;
  const TOKEN_KEY = "smsgw-control-token";
  const role = document.body.dataset.role;
  const $ = (id) => document.getElementById(id);

  class ApiError extends Error {
    constructor(status, body) {
      const where = body && body.field ? ` (${body.field})` : "";
      const code = body && body.error ? body.error : "error";
      const text = body && body.message ? body.message : "no details";
      super(`${status} ${code}${where}: ${text}`);
      this.status = status;
      this.body = body;
    }
  }

  function token() {
    return sessionStorage.getItem(TOKEN_KEY) || "";
  }

  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    if (token()) headers.Authorization = "Bearer " + token();
    const init = { method, headers, cache: "no-store", credentials: "omit" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    let answer = null;
    try {
      answer = await response.json();
    } catch (e) {
      answer = null;
    }
    if (!response.ok) throw new ApiError(response.status, answer);
    return answer;
  }

  function setStatus(text, isError) {
    const status = $("status");
    status.textContent = text;
    status.classList.toggle("error", Boolean(isError));
  }

  function show(element, text, isError) {
    element.textContent = text;
    element.classList.toggle("error", Boolean(isError));
    element.classList.toggle("ok", !isError);
  }

  function describe(error) {
    if (error instanceof ApiError && error.status === 401) {
      return `${error.message}: enter the control token above`;
    }
    return error instanceof ApiError ? error.message : `cannot reach the API: ${error.message}`;
  }

  function cellText(value) {
    if (value === null || value === undefined) return "";
    if (Array.isArray(value)) return value.map(cellText).join(", ");
    if (typeof value === "object") return JSON.stringify(value);
    return String(value);
  }

  // Fill <table id=...> with one row per object; columns are given or the union of keys.
  function table(id, rows, columns, emptyText) {
    const element = $(id);
    const cols = columns || [...new Set(rows.flatMap((row) => Object.keys(row)))];
    const head = document.createElement("tr");
    for (const col of cols) {
      const th = document.createElement("th");
      th.textContent = col;
      head.append(th);
    }
    const trs = rows.map((row) => {
      const tr = document.createElement("tr");
      for (const col of cols) {
        const td = document.createElement("td");
        td.textContent = cellText(row[col]);
        if (typeof row[col] === "number") td.className = "number";
        tr.append(td);
      }
      return tr;
    });
    if (!rows.length) {
      const tr = document.createElement("tr");
      const td = document.createElement("td");
      td.className = "empty";
      td.colSpan = Math.max(cols.length, 1);
      td.textContent = emptyText || "none";
      tr.append(td);
      trs.push(tr);
    }
    const thead = document.createElement("thead");
    const tbody = document.createElement("tbody");
    if (cols.length) thead.append(head);
    tbody.append(...trs);
    element.replaceChildren(thead, tbody);
  }

  // The scalar entries of an object as (name, value) rows.
  function scalars(object, skip) {
    return Object.entries(object)
      .filter(([name, value]) => !skip.includes(name) && (value === null || typeof value !== "object"))
      .map(([name, value]) => ({ counter: name, value }));
  }

  // -- ismg-sim -------------------------------------------------------------

  function accountRows(accounts) {
    const rows = [];
    for (const [account, counters] of Object.entries(accounts)) {
      const { protocols, ...all } = counters;
      rows.push({ account, protocol: "(all)", ...all });
      for (const [protocol, perProtocol] of Object.entries(protocols || {})) {
        rows.push({ account, protocol, ...perProtocol });
      }
    }
    return rows;
  }

  function accountColumns(rows) {
    const names = new Set(rows.flatMap((row) => Object.keys(row)));
    names.delete("account");
    names.delete("protocol");
    return ["account", "protocol", ...[...names].sort()];
  }

  async function pollIsmg() {
    const unmasked = $("show-numbers").checked;
    const [stats, submits, forwarding] = await Promise.all([
      api("GET", "/v1/stats"),
      api("GET", `/v1/submits?limit=${SUBMITS_SHOWN}&mask=${unmasked ? 0 : 1}`),
      api("GET", "/v1/forwarding"),
    ]);
    table("totals", scalars(stats, []), ["counter", "value"]);
    const rows = accountRows(stats.accounts || {});
    table("accounts", rows, accountColumns(rows), "no account");
    const recent = submits.submits.slice().reverse().map((s) => ({
      time: s.time,
      account: s.account,
      protocol: s.protocol,
      msg_id: s.msg_id,
      src: s.src,
      dest: s.dest,
      text: s.text,
      segment: `${s.pk_number}/${s.pk_total}`,
    }));
    table("submits", recent, ["time", "account", "protocol", "msg_id", "src", "dest", "text", "segment"],
      "no SUBMIT received yet");
    const playsVendors = Boolean(stats.vendors && stats.vendors.length);
    $("vendors").hidden = !playsVendors;
    if (playsVendors) renderVendors((await api("GET", "/v1/vendors")).vendors);
    $("forwarding").hidden = !forwarding.enabled;
    if (forwarding.enabled) {
      table("forwarding-info", scalars(forwarding, ["enabled"]).concat([
        { counter: "home_prefixes", value: cellText(forwarding.home_prefixes) },
        { counter: "links", value: cellText(forwarding.links) },
      ]), ["counter", "value"]);
      const peers = Object.entries(forwarding.peers || {}).map(([peer, c]) => ({ peer, ...c }));
      table("forwarding-peers", peers, null, "no traffic with a peer yet");
    }
  }

  function renderVendors(vendors) {
    const rows = [];
    const accounts = [];
    for (const [vendor, info] of Object.entries(vendors)) {
      const { accounts: perAccount, ...counters } = info;
      rows.push({ vendor, ...counters });
      for (const [account, a] of Object.entries(perAccount || {})) {
        accounts.push({ vendor, account, ...a });
      }
    }
    table("vendors-info", rows, null, "no vendor");
    table("vendors-accounts", accounts, null, "no account");
  }

  async function loadPolicy() {
    const result = $("policy-result");
    try {
      const policy = await api("GET", "/v1/policy");
      $("policy").value = JSON.stringify(policy, null, 2);
      show(result, "Loaded.", false);
    } catch (error) {
      show(result, describe(error), true);
    }
  }

  async function savePolicy() {
    const result = $("policy-result");
    let document_;
    try {
      document_ = JSON.parse($("policy").value);
    } catch (error) {
      show(result, `not JSON: ${error.message}`, true);
      return;
    }
    try {
      const policy = await api("PUT", "/v1/policy", document_);
      $("policy").value = JSON.stringify(policy, null, 2);
      show(result, "Saved.", false);
    } catch (error) {
      show(result, describe(error), true);
    }
  }

  async function sendMo(event) {
    event.preventDefault();
    const mo = { from: $("mo-from").value.trim(), to: $("mo-to").value.trim(), content: $("mo-content").value };
    if ($("mo-account").value.trim()) mo.account = $("mo-account").value.trim();
    if ($("mo-protocol").value.trim()) mo.protocol = $("mo-protocol").value.trim();
    const result = $("mo-result");
    try {
      const answer = await api("POST", "/v1/mo", mo);
      show(result, `Sent over ${answer.protocol}: ${answer.segments} segment(s).`, false);
    } catch (error) {
      show(result, describe(error), true);
    }
  }

  // -- gns-sim --------------------------------------------------------------

  async function pollGns() {
    const [stats, mt, mo, updates, pushes] = await Promise.all([
      api("GET", "/v1/stats"),
      api("GET", "/v1/routes?type=MT"),
      api("GET", "/v1/routes?type=MO"),
      api("GET", "/v1/updates"),
      api("GET", "/v1/pushes?limit=20"),
    ]);
    table("totals", scalars(stats, []).concat([
      { counter: "routes (MT)", value: stats.routes.mt },
      { counter: "routes (MO)", value: stats.routes.mo },
    ]), ["counter", "value"]);
    const ismgs = Object.entries(stats.ismgs || {}).map(([ismg, c]) => ({ ismg, ...c }));
    table("ismgs", ismgs, null, "no ISMG");
    table("routes-mt", mt.routes, null, "no MT route");
    table("routes-mo", mo.routes, null, "no MO route");
    table("updates", updates.updates, null, "none waiting");
    table("pushes", pushes.pushes.slice().reverse(), null, "no push yet");
  }

  // -- the loop ---------------------------------------------------------------

  let timer = null;
  let polling = false;
  let again = false;

  // One poll at a time: asked during one (a new token, "show numbers"), it runs right after.
  async function poll() {
    if (polling) {
      again = true;
      return;
    }
    clearTimeout(timer);
    polling = true;
    try {
      await (role === "gns" ? pollGns() : pollIsmg());
      setStatus(`Live: updated ${new Date().toLocaleTimeString()}`, false);
    } catch (error) {
      setStatus(describe(error), true);
    } finally {
      polling = false;
    }
    if (again) {
      again = false;
      poll();
    } else {
      timer = setTimeout(poll, POLL_MS);
    }
  }

  function useToken(event) {
    event.preventDefault();
    const value = $("token").value.trim();
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    $("token").value = "";
    poll();
    if (role !== "gns") loadPolicy();
  }

  function forgetToken() {
    sessionStorage.removeItem(TOKEN_KEY);
    poll();
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("token-form").addEventListener("submit", useToken);
    $("token-forget").addEventListener("click", forgetToken);
    if (role !== "gns") {
      $("show-numbers").addEventListener("change", poll);
      $("mo-form").addEventListener("submit", sendMo);
      $("policy-load").addEventListener("click", loadPolicy);
      $("policy-save").addEventListener("click", savePolicy);
      loadPolicy();
    }
    poll();
  });
})();
