// tickflow dashboard: live over server-sent events, no dependencies.
(function () {
  "use strict";

  const HISTORY = 300;     // points kept per symbol for the chart
  const TRACKED = 200;     // symbols whose history is kept
  const TABLE_ROWS = 50;   // symbols listed in the table
  const SIGNAL_ROWS = 50;  // signals listed

  // window.tickflow is read by the headless-browser test.
  const dbg = window.tickflow = { updates: 0, signals: 0, drawn: 0, symbols: 0, connected: false };

  const symbols = new Map(); // symbol -> state
  let selected = null;
  let dirty = true;
  const $ = (id) => document.getElementById(id);

  function state(sym) {
    let s = symbols.get(sym);
    if (!s) {
      s = { sym: sym, close: null, ema: null, k: null, d: null, time: null, bars: 0, last: null,
            hist: symbols.size < TRACKED ? { t: [], c: [], e: [], k: [], d: [] } : null, marks: [] };
      symbols.set(sym, s);
      dbg.symbols = symbols.size;
      if (selected === null) selected = sym;
    }
    return s;
  }

  function push(arr, v) { arr.push(v); if (arr.length > HISTORY) arr.shift(); }

  function update(u) {
    const s = state(u.symbol);
    s.close = u.close; s.ema = u.ema; s.k = u.stochrsi_k; s.d = u.stochrsi_d; s.time = u.time; s.bars++;
    if (s.hist) {
      const h = s.hist;
      push(h.t, u.time); push(h.c, u.close); push(h.e, u.ema); push(h.k, u.stochrsi_k); push(h.d, u.stochrsi_d);
      if (s.marks.length && s.marks[0].t < h.t[0]) s.marks.shift();
    }
    dbg.updates++;
    dirty = true;
  }

  function signal(sig, live) {
    const s = state(sig.symbol);
    s.last = sig;
    if (s.hist) { s.marks.push({ t: sig.time, side: sig.side, price: sig.price }); if (s.marks.length > HISTORY) s.marks.shift(); }
    const li = document.createElement("li");
    li.className = sig.side;
    li.textContent = fmtTime(sig.time) + "  " + sig.symbol + "  " + sig.side.toUpperCase() + " @ " + fmt(sig.price) + (sig.reason ? "  (" + sig.reason + ")" : "");
    const list = $("signals");
    list.insertBefore(li, list.firstChild);
    while (list.children.length > SIGNAL_ROWS) list.removeChild(list.lastChild);
    if (live) dbg.signals++;
    dirty = true;
  }

  function fmt(v) {
    if (v === null || v === undefined) return "–";
    const a = Math.abs(v);
    return a >= 1000 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toPrecision(3);
  }
  function fmtTime(t) { return t ? t.replace("T", " ").replace(/(\.\d+)?Z$/, "") : ""; }
  function fmtCount(n) { return n >= 1e6 ? (n / 1e6).toFixed(2) + "M" : n >= 1e4 ? (n / 1e3).toFixed(1) + "k" : String(n); }

  function renderTable() {
    const tbody = document.querySelector("#symbols tbody");
    const names = Array.from(symbols.keys()).sort().slice(0, TABLE_ROWS);
    const rows = [];
    for (const name of names) {
      const s = symbols.get(name);
      const tr = document.createElement("tr");
      tr.dataset.symbol = name;
      if (name === selected) tr.className = "sel";
      const cells = [name, fmt(s.close), fmt(s.ema), fmt(s.k), fmt(s.d), s.last ? s.last.side + " @ " + fmt(s.last.price) : "–", String(s.bars)];
      cells.forEach((text, i) => {
        const td = document.createElement("td");
        td.textContent = text;
        if (i === 5 && s.last) td.className = s.last.side;
        tr.appendChild(td);
      });
      rows.push(tr);
    }
    tbody.replaceChildren(...rows);
    $("more").textContent = symbols.size > TABLE_ROWS ? "and " + (symbols.size - TABLE_ROWS) + " more symbols" : "";
  }

  document.querySelector("#symbols tbody").addEventListener("click", (ev) => {
    const tr = ev.target.closest("tr");
    if (tr && tr.dataset.symbol) { selected = tr.dataset.symbol; dirty = true; }
  });

  function line(ctx, xs, ys, color, width) {
    if (ys.length === 1 && ys[0] !== null && ys[0] !== undefined) { // one point: a dot
      ctx.fillStyle = color; ctx.beginPath(); ctx.arc(xs(0), ys[0], 2.5, 0, 2 * Math.PI); ctx.fill();
      return;
    }
    ctx.strokeStyle = color; ctx.lineWidth = width; ctx.beginPath();
    let pen = false;
    for (let i = 0; i < ys.length; i++) {
      if (ys[i] === null || ys[i] === undefined) { pen = false; continue; }
      if (pen) ctx.lineTo(xs(i), ys[i]); else { ctx.moveTo(xs(i), ys[i]); pen = true; }
    }
    ctx.stroke();
  }

  function drawChart() {
    const canvas = $("chart");
    const ctx = canvas.getContext("2d");
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth || 800, h = canvas.clientHeight || 420;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr);
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const s = selected !== null ? symbols.get(selected) : null;
    if (!s || !s.hist || s.hist.c.length === 0) return;
    $("chart-title").textContent = s.sym + "  " + fmt(s.close) + "  ·  EMA " + fmt(s.ema) + "  ·  K " + fmt(s.k) + "  D " + fmt(s.d);
    const hst = s.hist, n = hst.c.length, css = getComputedStyle(document.documentElement);
    const color = (v) => css.getPropertyValue(v).trim();
    const pad = 44, top = 8, priceH = h * 0.62, gap = 18, oscTop = top + priceH + gap, oscH = h - oscTop - 8;
    const span = Math.max(n, 60) - 1; // fill from the left until 60 points, then scroll
    const xs = (i) => pad + (i * (w - pad - 8)) / span;
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < n; i++) {
      for (const v of [hst.c[i], hst.e[i]]) if (v !== null && v !== undefined) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    }
    for (const m of s.marks) { lo = Math.min(lo, m.price); hi = Math.max(hi, m.price); }
    if (hi - lo < 1e-9) { hi += 1; lo -= 1; }
    const m = (hi - lo) * 0.08; lo -= m; hi += m;
    const py = (v) => (v === null || v === undefined) ? null : top + priceH * (1 - (v - lo) / (hi - lo));
    const oy = (v) => (v === null || v === undefined) ? null : oscTop + oscH * (1 - v / 100);

    ctx.font = "11px system-ui, sans-serif"; ctx.fillStyle = "#7f93a3"; ctx.strokeStyle = "#223142"; ctx.lineWidth = 1;
    for (let g = 0; g <= 4; g++) {
      const v = lo + ((hi - lo) * g) / 4, y = py(v);
      ctx.beginPath(); ctx.moveTo(pad, y); ctx.lineTo(w - 8, y); ctx.stroke();
      ctx.fillText(fmt(v), 2, y + 4);
    }
    for (const v of [0, 20, 50, 80, 100]) {
      const y = oy(v);
      ctx.setLineDash(v === 20 || v === 80 ? [4, 4] : []);
      ctx.beginPath(); ctx.moveTo(pad, y); ctx.lineTo(w - 8, y); ctx.stroke();
      ctx.fillText(String(v), 14, y + 4);
    }
    ctx.setLineDash([]);
    line(ctx, xs, hst.c.map(py), color("--close"), 1.6);
    line(ctx, xs, hst.e.map(py), color("--ema"), 1.4);
    line(ctx, xs, hst.k.map(oy), color("--k"), 1.4);
    line(ctx, xs, hst.d.map(oy), color("--d"), 1.2);

    const index = new Map();
    hst.t.forEach((t, i) => index.set(t, i));
    for (const mk of s.marks) {
      const i = index.get(mk.t);
      if (i === undefined) continue;
      const x = xs(i), y = py(mk.price), up = mk.side === "buy";
      ctx.fillStyle = up ? color("--ok") : color("--bad");
      ctx.beginPath();
      if (up) { ctx.moveTo(x, y + 4); ctx.lineTo(x - 6, y + 14); ctx.lineTo(x + 6, y + 14); }
      else { ctx.moveTo(x, y - 4); ctx.lineTo(x - 6, y - 14); ctx.lineTo(x + 6, y - 14); }
      ctx.closePath(); ctx.fill();
    }
    dbg.drawn++;
  }

  function frame() {
    if (dirty) {
      dirty = false;
      renderTable();
      drawChart();
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
        update({ symbol: s.symbol, time: s.time, close: s.close, ema: s.ema, stochrsi_k: s.stochrsi_k, stochrsi_d: s.stochrsi_d });
        const st = state(s.symbol);
        st.bars = s.bars;
        if (s.last_signal) st.last = s.last_signal;
      }
      const sigs = await getJSON("/api/signals?limit=" + SIGNAL_ROWS);
      for (const sig of sigs.body) signal(sig, false);
    } catch (e) {
      $("conn").textContent = "no data: " + e.message;
    }
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
    } catch (e) {
      $("health").textContent = "health unknown";
      $("health").className = "badge off";
    }
  }

  function connect() {
    const es = new EventSource("/events");
    es.addEventListener("open", () => {
      dbg.connected = true;
      $("conn").textContent = "live"; $("conn").className = "badge ok";
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

  load().then(connect);
  poll();
  window.setInterval(poll, 2000);
  window.requestAnimationFrame(frame);
})();
