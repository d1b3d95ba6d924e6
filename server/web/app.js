// tickflow dashboard: live over server-sent events, no dependencies. The
// chart is the backtest report's renderer (/static/chart.js, TickflowChart):
// candles on a time axis, every indicator the pipeline computes by name,
// buy and sell markers; filled from /api/history on load, then live.
(function () {
  "use strict";

  const HISTORY = 500;     // bars the chart keeps (the server's default history)
  const TABLE_ROWS = 50;   // symbols listed in the table
  const SIGNAL_ROWS = 50;  // signals listed
  // The keys of a bar that are not indicators: every other key of an
  // /events "bars" item or an /api/history bar is an indicator, by name.
  const FIXED = new Set(["symbol", "time", "open", "high", "low", "close", "volume", "signal"]);
  // Oscillators drawn on 0..100 with their thresholds.
  const OSCILLATORS = { stochrsi: [20, 80], rsi: [30, 70], stoch: [20, 80], stochf: [20, 80], mfi: [20, 80], willr: null };
  const LABELS = { ema: "EMA", stochrsi_k: "K", stochrsi_d: "D" };

  // window.tickflow is read by the headless-browser test.
  const dbg = window.tickflow = { updates: 0, signals: 0, drawn: 0, symbols: 0, connected: false, chart: null,
    indicators: [], lines: [], bars: 0, historyBars: 0, wallet: 0 };

  const symbols = new Map(); // symbol -> latest state
  let names = [];            // indicator names, in the record's order
  let selected = null;
  let loaded = false;        // /api/symbols read: a symbol may be selected
  let series = null;         // the selected symbol's bars, for the chart
  let dirty = true, chartDirty = true, headDirty = true, resetView = false;
  const $ = (id) => document.getElementById(id);
  const theme = window.TickflowChart.theme;
  const chart = dbg.chart = new window.TickflowChart.TimeChart($("chart"), { times: [], panels: [] });

  function learn(keys) {
    let added = false;
    for (const k of keys) if (!FIXED.has(k) && names.indexOf(k) < 0) { names.push(k); added = true; }
    if (added) { dbg.indicators = names.slice(); headDirty = true; chartDirty = true; }
  }

  function state(sym) {
    let s = symbols.get(sym);
    if (!s) {
      s = { sym: sym, close: null, vals: {}, time: null, bars: 0, last: null };
      symbols.set(sym, s);
      dbg.symbols = symbols.size;
      if (selected === null && loaded) select(sym);
    }
    return s;
  }

  function num(v) { return v === null || v === undefined ? NaN : v; }

  // newSeries is an empty chart series for sym.
  function newSeries(sym) { return { sym: sym, t: [], o: [], h: [], l: [], c: [], v: {}, marks: [], loading: true, early: [] }; }

  // append adds bar u (an /events item or an /api/history bar) to series s.
  function append(s, u) {
    const t = Date.parse(u.time);
    const n = s.t.length;
    if (n && t <= s.t[n - 1]) return; // already there (history and live overlap)
    s.t.push(t); s.o.push(num(u.open)); s.h.push(num(u.high)); s.l.push(num(u.low)); s.c.push(num(u.close));
    for (const name of names) (s.v[name] || (s.v[name] = new Array(n).fill(NaN))).push(num(u[name]));
    if (u.signal) s.marks.push({ t: t, side: u.signal, price: u.close });
    if (s.t.length > HISTORY) {
      const cut = s.t.length - HISTORY;
      for (const a of [s.t, s.o, s.h, s.l, s.c]) a.splice(0, cut);
      for (const k in s.v) s.v[k].splice(0, cut);
      while (s.marks.length && s.marks[0].t < s.t[0]) s.marks.shift();
    }
  }

  function update(u) {
    learn(Object.keys(u));
    const s = state(u.symbol);
    s.close = u.close; s.time = u.time; s.bars++;
    for (const name of names) if (name in u) s.vals[name] = u[name];
    if (series && series.sym === u.symbol) {
      if (series.loading) series.early.push(u); else append(series, u);
      chartDirty = true;
    }
    dbg.updates++;
    dirty = true;
  }

  function signal(sig, live) {
    const s = state(sig.symbol);
    s.last = sig;
    const li = document.createElement("li");
    li.className = sig.side;
    li.textContent = fmtTime(sig.time) + "  " + sig.symbol + "  " + sig.side.toUpperCase() + " @ " + fmt(sig.price) + (sig.reason ? "  (" + sig.reason + ")" : "");
    const list = $("signals");
    list.insertBefore(li, list.firstChild);
    while (list.children.length > SIGNAL_ROWS) list.removeChild(list.lastChild);
    if (live) dbg.signals++;
    dirty = true;
  }

  // select shows sym in the chart: its history from the server, then live.
  async function select(sym) {
    selected = sym;
    const s = series = newSeries(sym);
    resetView = true; // a new symbol starts with every bar in view
    chartDirty = dirty = true;
    try {
      const r = await fetch("/api/history?symbol=" + encodeURIComponent(sym) + "&limit=" + HISTORY, { cache: "no-store" });
      if (r.ok) {
        const body = await r.json();
        learn(body.indicators || []);
        for (const b of body.bars) append(s, b);
        dbg.historyBars = body.bars.length;
      }
    } catch (e) {
      // no history: the chart fills from the live bars
    }
    s.loading = false;
    for (const u of s.early) append(s, u);
    s.early = [];
    chartDirty = dirty = true;
  }

  function fmt(v) {
    if (v === null || v === undefined || !isFinite(v)) return "–";
    const a = Math.abs(v);
    return a >= 1000 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : a === 0 ? "0" : v.toPrecision(3);
  }
  function fmtTime(t) { return t ? t.replace("T", " ").replace(/(\.\d+)?Z$/, "") : ""; }
  function fmtCount(n) { return n >= 1e6 ? (n / 1e6).toFixed(2) + "M" : n >= 1e4 ? (n / 1e3).toFixed(1) + "k" : String(n); }
  function label(name) { return LABELS[name] || name; }

  function renderHead() {
    const tr = document.createElement("tr");
    for (const text of ["symbol", "close"].concat(names.map(label), ["last signal", "bars"])) {
      const th = document.createElement("th");
      th.textContent = text;
      tr.appendChild(th);
    }
    document.querySelector("#symbols thead").replaceChildren(tr);
    headDirty = false;
  }

  function renderTable() {
    if (headDirty) renderHead();
    const tbody = document.querySelector("#symbols tbody");
    const list = Array.from(symbols.keys()).sort().slice(0, TABLE_ROWS);
    const rows = [];
    for (const name of list) {
      const s = symbols.get(name);
      const tr = document.createElement("tr");
      tr.dataset.symbol = name;
      if (name === selected) tr.className = "sel";
      const cells = [name, fmt(s.close)].concat(names.map((n) => fmt(s.vals[n])),
        [s.last ? s.last.side + " @ " + fmt(s.last.price) : "–", String(s.bars)]);
      cells.forEach((text, i) => {
        const td = document.createElement("td");
        td.textContent = text;
        if (i === cells.length - 2 && s.last) td.className = s.last.side;
        tr.appendChild(td);
      });
      rows.push(tr);
    }
    tbody.replaceChildren(...rows);
    $("more").textContent = symbols.size > TABLE_ROWS ? "and " + (symbols.size - TABLE_ROWS) + " more symbols" : "";
  }

  document.querySelector("#symbols tbody").addEventListener("click", (ev) => {
    const tr = ev.target.closest("tr");
    if (tr && tr.dataset.symbol && tr.dataset.symbol !== selected) select(tr.dataset.symbol);
  });

  // overlays tells whether an indicator lives on the price scale: its
  // values stay within half the price of the close (EMA, SMA, Bollinger
  // bands, VWAP), unlike an oscillator or MACD.
  function overlays(values, close) {
    let near = 0, seen = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i], c = close[i];
      if (v !== v || !(c > 0)) continue;
      seen++;
      if (Math.abs(v / c - 1) < 0.5) near++;
    }
    return seen === 0 || near >= seen * 0.9;
  }

  // panels lays out the series: candles with the price-scale indicators,
  // then one panel per other indicator group (its name before "_":
  // macd, macd_signal and macd_hist share one), oscillators on 0..100
  // with their thresholds.
  function panels(s) {
    const colors = theme.lines;
    let ci = 0;
    const line = (name) => ({ name: label(name), values: s.v[name] || [], color: colors[ci++ % colors.length] });
    const price = { name: s.sym, weight: 3, candles: { open: s.o, high: s.h, low: s.l, close: s.c }, lines: [] };
    const groups = new Map();
    for (const name of names) {
      const vals = s.v[name] || [];
      const group = name.split("_")[0];
      if (!(group in OSCILLATORS) && overlays(vals, s.c)) { price.lines.push(line(name)); continue; }
      if (!groups.has(group)) {
        const p = { name: group, weight: 1.4, lines: [] };
        if (group in OSCILLATORS) { p.range = [group === "willr" ? -100 : 0, group === "willr" ? 0 : 100]; p.levels = OSCILLATORS[group] || []; }
        groups.set(group, p);
      }
      groups.get(group).lines.push(line(name));
    }
    const index = new Map();
    s.t.forEach((t, i) => index.set(t, i));
    const idx = [], px = [];
    let side = "";
    for (const m of s.marks) {
      const i = index.get(m.t);
      if (i === undefined) continue;
      idx.push(i); px.push(m.price); side += m.side === "buy" ? "B" : "S";
    }
    price.markers = { index: Int32Array.from(idx), price: px, side: side };
    return [price].concat(Array.from(groups.values()));
  }

  function renderLegend(ps) {
    const keys = [];
    dbg.lines = [];
    for (const p of ps) {
      for (const l of p.lines) {
        const span = document.createElement("span");
        span.className = "key";
        span.dataset.name = l.name;
        const sw = document.createElement("span");
        sw.className = "swatch";
        sw.style.background = l.color;
        span.append(sw, document.createTextNode(l.name));
        keys.push(span);
        dbg.lines.push(l.name);
      }
    }
    for (const [cls, text] of [["buy", "▲ buy"], ["sell", "▼ sell"]]) {
      const span = document.createElement("span");
      span.className = "key " + cls;
      span.textContent = text;
      keys.push(span);
    }
    $("legend").replaceChildren(...keys);
  }

  function renderChart() {
    chartDirty = false;
    const s = series;
    if (!s || s.loading) return;
    const ps = panels(s);
    chart.setData(s.t, ps);
    if (resetView) { resetView = false; chart.setView(0, s.t.length); }
    renderLegend(ps);
    dbg.bars = s.t.length;
    const st = symbols.get(s.sym);
    if (st) {
      $("chart-title").textContent = s.sym + "  " + fmt(st.close) + names.map((n) => "  ·  " + label(n) + " " + fmt(st.vals[n])).join("");
    }
    dbg.drawn++;
  }

  function frame() {
    if (dirty) {
      dirty = false;
      renderTable();
      if (chartDirty) renderChart();
    }
    window.requestAnimationFrame(frame);
  }

  async function getJSON(url) {
    const r = await fetch(url, { cache: "no-store" });
    return { status: r.status, body: await r.json() };
  }

  async function load() {
    try {
      const syms = await getJSON("/api/symbols");
      for (const s of syms.body) {
        const vals = s.indicators || { ema: s.ema, stochrsi_k: s.stochrsi_k, stochrsi_d: s.stochrsi_d };
        learn(Object.keys(vals));
        const st = state(s.symbol);
        st.close = s.close; st.time = s.time; st.vals = vals; st.bars = s.bars;
        if (s.last_signal) st.last = s.last_signal;
        dirty = true;
      }
      const sigs = await getJSON("/api/signals?limit=" + SIGNAL_ROWS);
      for (const sig of sigs.body) signal(sig, false);
    } catch (e) {
      $("conn").textContent = "no data: " + e.message;
    }
    loaded = true;
    if (selected === null && symbols.size) select(Array.from(symbols.keys()).sort()[0]);
  }

  function money(v) { return isFinite(v) ? v.toFixed(2) : "–"; }
  function signed(td, v) { td.textContent = money(v); if (v) td.className = v > 0 ? "pos" : "neg"; }

  async function pollWallet(shown) {
    const panel = $("wallet-panel");
    if (!shown) { panel.hidden = true; return; }
    const r = await fetch("/api/positions", { cache: "no-store" });
    if (!r.ok) { panel.hidden = true; return; }
    const w = await r.json();
    panel.hidden = false;
    const figs = [];
    for (const [name, v] of [["cash", w.cash], ["equity", w.equity], ["realized", w.realized_pnl], ["unrealized", w.unrealized_pnl]]) {
      const fig = document.createElement("div"); fig.className = "fig";
      const l = document.createElement("span"); l.className = "label"; l.textContent = name;
      const val = document.createElement("span"); val.className = "value"; val.textContent = money(v);
      fig.append(l, val);
      figs.push(fig);
    }
    $("wallet-sum").replaceChildren(...figs);
    const rows = [];
    for (const p of w.positions || []) {
      const tr = document.createElement("tr");
      const cells = [p.symbol, p.qty ? p.qty.toPrecision(6).replace(/\.?0+$/, "") : "0", p.qty ? fmt(p.entry_price) : "–",
        fmt(p.last_price), money(p.equity)];
      for (const text of cells) { const td = document.createElement("td"); td.textContent = text; tr.appendChild(td); }
      for (const v of [p.realized_pnl, p.unrealized_pnl]) { const td = document.createElement("td"); signed(td, v); tr.appendChild(td); }
      for (const text of [String(p.trades), p.pending || ""]) { const td = document.createElement("td"); td.textContent = text; tr.appendChild(td); }
      rows.push(tr);
    }
    document.querySelector("#wallet tbody").replaceChildren(...rows);
    dbg.wallet = rows.length;
  }

  let lastStats = null;
  async function poll() {
    try {
      const h = await getJSON("/healthz");
      const badge = $("health");
      badge.textContent = h.body.healthy ? "healthy" : "unhealthy";
      badge.className = "badge " + (h.body.healthy ? "ok" : "bad");
      const list = [];
      for (const [name, c] of Object.entries(h.body.checks || {})) {
        const li = document.createElement("li");
        const mark = document.createElement("span"); mark.className = c.ok ? "buy" : "sell"; mark.textContent = c.ok ? "✔ " : "✘ ";
        const n = document.createElement("span"); n.className = "name"; n.textContent = name;
        const why = document.createElement("span"); why.className = "reason"; why.textContent = c.reason;
        li.append(mark, n, why);
        list.push(li);
      }
      $("checks").replaceChildren(...list);

      const st = (await getJSON("/api/stats")).body;
      const now = performance.now();
      if (lastStats) {
        const dt = (now - lastStats.at) / 1000;
        if (dt > 0) $("f-rate").textContent = fmtCount(Math.round((st.bars - lastStats.bars) / dt));
      }
      lastStats = { at: now, bars: st.bars };
      $("f-bars").textContent = fmtCount(st.bars);
      $("f-signals").textContent = fmtCount(st.signals);
      $("f-symbols").textContent = fmtCount(st.symbols);
      $("f-clients").textContent = String(st.sse_clients);
      $("f-dropped").textContent = String(st.sse_clients_dropped);
      $("f-queued").textContent = fmtCount((st.stages || []).reduce((a, s) => a + s.queued, 0));
      $("f-uptime").textContent = Math.round(st.uptime_seconds) + " s";
      await pollWallet(st.wallet);
    } catch (e) {
      $("health").textContent = "health unknown";
      $("health").className = "badge off";
    }
  }

  // connect subscribes to /events, then reads the API: what the server
  // held before the subscription comes from /api/symbols and /api/history,
  // everything after from the stream (the chart drops what both gave). A
  // reconnection reads the selected symbol's history again, which fills
  // the bars missed while away.
  function connect() {
    const es = new EventSource("/events");
    es.addEventListener("open", () => {
      dbg.connected = true;
      $("conn").textContent = "live"; $("conn").className = "badge ok";
      if (!loaded) load();
      else if (selected !== null) select(selected);
    });
    es.addEventListener("error", () => {
      dbg.connected = false;
      $("conn").textContent = "reconnecting"; $("conn").className = "badge bad";
      // EventSource gives up on a refusal (503 when the server is full, 401): try again later.
      if (es.readyState === EventSource.CLOSED) window.setTimeout(connect, 5000);
    });
    es.addEventListener("bars", (ev) => { for (const u of JSON.parse(ev.data)) update(u); });
    es.addEventListener("signal", (ev) => signal(JSON.parse(ev.data), true));
  }

  connect();
  poll();
  window.setInterval(poll, 2000);
  window.requestAnimationFrame(frame);
})();
