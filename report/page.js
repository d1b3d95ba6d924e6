// page.js builds the backtest report from the JSON in #tickflow-data with
// chart.js's TickflowChart, then publishes window.tickflowReport, the hook
// the tests read: {interactiveMs, bars, stats()}.
(function () {
  "use strict";
  // User Timing marks show where the time to interactive goes (the tests log them).
  performance.mark("tickflow:script");
  const TC = window.TickflowChart;
  const data = JSON.parse(document.getElementById("tickflow-data").textContent);
  performance.mark("tickflow:parsed");
  const main = document.getElementById("report");
  main.textContent = "";
  const drawn = [];
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const PAGE = 100;

  function el(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function add(parent, tag, className, text) { return parent.appendChild(el(tag, className, text)); }

  function pct(v) { return v === null || !isFinite(v) ? "—" : (v * 100).toFixed(2) + "%"; }
  function metricText(v, unit) {
    if (v === null || !isFinite(v)) return "—";
    if (unit === "%") return pct(v);
    return TC.format(v) + (unit ? " " + unit : "");
  }
  function timeText(ms) { return ms === null ? "open" : TC.formatTime(ms); }
  function signClass(v) { return v > 0 ? "up" : v < 0 ? "down" : ""; }

  function table(parent, className, headers, rows) {
    const t = add(parent, "table", className);
    if (headers) {
      const tr = add(add(t, "thead"), "tr");
      for (const h of headers) add(tr, "th", "", h);
    }
    const body = add(t, "tbody");
    for (const r of rows) body.appendChild(row(r));
    return t;
  }
  // row makes a table row; a cell is text or {text, className}.
  function row(cells) {
    const tr = el("tr");
    for (const c of cells) {
      if (c !== null && typeof c === "object") add(tr, "td", c.className, c.text);
      else add(tr, "td", "", c);
    }
    return tr;
  }

  // pagedTable shows count rows PAGE at a time; rowAt(i) gives row i's cells.
  function pagedTable(parent, className, headers, count, rowAt) {
    const pager = add(parent, "div", "pager");
    const prev = add(pager, "button", "", "◀"), next = add(pager, "button", "", "▶");
    const label = add(pager, "span", "dim");
    const t = table(parent, className, headers, []);
    const body = t.tBodies[0];
    let page = 0;
    const pages = Math.max(1, Math.ceil(count / PAGE));
    function show() {
      body.textContent = "";
      for (let i = page * PAGE; i < Math.min(count, (page + 1) * PAGE); i++) body.appendChild(row(rowAt(i)));
      label.textContent = count === 0 ? "none" : "rows " + (page * PAGE + 1) + "–" + Math.min(count, (page + 1) * PAGE) + " of " + count;
      prev.disabled = page === 0;
      next.disabled = page >= pages - 1;
    }
    prev.addEventListener("click", function () { page--; show(); });
    next.addEventListener("click", function () { page++; show(); });
    show();
  }

  function metricsTable(parent, metrics) {
    if (!metrics || metrics.length === 0) return;
    add(parent, "h3", "", "Metrics");
    table(parent, "metrics", null, metrics.map(function (m) { return [m[0], metricText(m[1], m[2])]; }));
  }

  function monthlyHeatmap(parent, monthly) {
    if (!monthly || monthly.years.length === 0) return;
    add(parent, "h3", "", "Monthly returns");
    const c = add(parent, "canvas");
    c.style.height = (54 + 24 * monthly.years.length) + "px";
    c.setAttribute("aria-label", "monthly returns heatmap");
    drawn.push(new TC.Heatmap(c, { cols: MONTHS, rows: monthly.years, values: monthly.v, format: pct, diverging: true }));
  }

  // curvePanels are the account's panels: equity beside buy-and-hold, drawdown.
  function curvePanels(curve) {
    const panels = [];
    if (curve.equity) {
      const lines = [{ name: "strategy", values: TC.decodeColumn(curve.equity), color: TC.theme.lines[1] }];
      if (curve.buyhold) lines.push({ name: "buy & hold", values: TC.decodeColumn(curve.buyhold), color: TC.theme.lines[3] });
      panels.push({ name: "Equity", weight: 1.4, lines: lines });
    }
    if (curve.drawdown) {
      panels.push({ name: "Drawdown", weight: 0.8, format: pct,
        lines: [{ name: "drawdown", values: TC.decodeColumn(curve.drawdown), color: TC.theme.down }] });
    }
    return panels;
  }

  function chart(parent, label, times, panels) {
    const c = add(parent, "canvas");
    let weight = 0;
    for (const p of panels) weight += p.weight || 1;
    c.style.height = Math.round(40 + 120 * weight) + "px";
    c.setAttribute("aria-label", label);
    drawn.push(new TC.TimeChart(c, { times: times, panels: panels }));
    add(parent, "div", "hint", "wheel or + −: zoom · drag or ← →: pan · double-click or 0: all bars · values under the cursor in each panel's legend");
  }

  function tradesTable(parent, tr) {
    if (!tr) return;
    add(parent, "h3", "", "Trades");
    pagedTable(parent, "trades", ["#", "side", "entry", "entry price", "exit", "exit price", "quantity", "P&L", "return", "reason"],
      tr.side.length, function (i) {
        return [String(i + 1), tr.side[i] === "B" ? "long" : "short", timeText(tr.entry[i]), TC.format(tr.entryPrice[i]),
          timeText(tr.exit[i]), TC.format(tr.exitPrice[i]), TC.format(tr.qty[i]),
          { text: TC.format(tr.pnl[i]), className: signClass(tr.pnl[i]) }, { text: pct(tr.ret[i]), className: signClass(tr.ret[i]) },
          { text: tr.reason[i], className: "text" }];
      });
  }

  let bars = 0;

  function symbolSection(s) {
    const sec = add(main, "section");
    sec.className = "symbol";
    add(sec, "h2", "", s.name);
    const times = TC.decodeColumn(s.t);
    bars += times.length;
    const price = { name: s.name, weight: 3, lines: [],
      candles: { open: TC.decodeColumn(s.o), high: TC.decodeColumn(s.h), low: TC.decodeColumn(s.l), close: TC.decodeColumn(s.c) } };
    s.overlays.forEach(function (o, j) { price.lines.push({ name: o.name, values: TC.decodeColumn(o.v), color: TC.theme.lines[j % 7] }); });
    const m = s.markers, mt = TC.decodeColumn(m.t);
    if (mt.length > 0) {
      const index = new Int32Array(mt.length);
      for (let j = 0; j < mt.length; j++) index[j] = TC.barIndex(times, mt[j]);
      price.markers = { index: index, price: TC.decodeColumn(m.p), side: m.side, label: function (j) { return m.labels[m.label[j]]; } };
    }
    const panels = [price];
    for (const o of s.oscillators) {
      panels.push({ name: o.name, weight: 1.1, levels: o.levels,
        lines: o.series.map(function (se, j) { return { name: se.name, values: TC.decodeColumn(se.v), color: TC.theme.lines[(j + 1) % 7] }; }) });
    }
    chart(sec, s.name + " chart", times, panels.concat(curvePanels(s)));
    const grid = add(sec, "div", "grid");
    metricsTable(add(grid, "div"), s.metrics);
    monthlyHeatmap(add(grid, "div"), s.monthly);
    tradesTable(sec, s.trades);
  }

  function portfolioSection(p) {
    const sec = add(main, "section");
    add(sec, "h2", "", "Portfolio");
    chart(sec, "portfolio equity chart", TC.decodeColumn(p.curveT), curvePanels(p));
    const grid = add(sec, "div", "grid");
    metricsTable(add(grid, "div"), p.metrics);
    monthlyHeatmap(add(grid, "div"), p.monthly);
  }

  function sweepSection(sw) {
    const sec = add(main, "section");
    add(sec, "h2", "", "Parameter sweep");
    add(sec, "p", "dim", sw.rows.length + " combinations ranked on " + sw.rank + (sw.lowerIsBetter ? " (lower is better)" : "") +
      "; each cell is the best " + sw.rank + " at its " + sw.x + (sw.y ? " and " + sw.y : "") + ".");
    const c = add(sec, "canvas");
    c.style.height = Math.min(640, 70 + 26 * sw.ys.length) + "px";
    c.setAttribute("aria-label", "sweep heatmap");
    drawn.push(new TC.Heatmap(c, { cols: sw.xs.map(TC.format), rows: sw.y ? sw.ys.map(TC.format) : [sw.rank], values: sw.grid,
      xTitle: sw.x, yTitle: sw.y, lowerIsBetter: sw.lowerIsBetter }));
    const rank = sw.params.length + sw.metrics.indexOf(sw.rank);
    pagedTable(sec, "combinations", ["#"].concat(sw.params, sw.metrics), sw.rows.length, function (i) {
      return [String(i + 1)].concat(sw.rows[i].map(function (v, j) {
        return j === rank ? { text: TC.format(v), className: "up" } : TC.format(v);
      }));
    });
  }

  add(main, "h1", "", data.title || "Backtest");
  if (data.generated) add(main, "div", "dim", "generated " + data.generated);
  if (data.settings.length > 0) {
    add(main, "h3", "", "Settings");
    table(main, "metrics", null, data.settings);
  }
  if (data.portfolio) portfolioSection(data.portfolio);
  data.symbols.forEach(symbolSection);
  if (data.sweep) sweepSection(data.sweep);

  performance.mark("tickflow:built");
  // Draw once now, so the page is complete and interactive when this script ends.
  for (const c of drawn) c.draw();
  performance.mark("tickflow:drawn");
  const ms = performance.now();
  document.getElementById("tickflow-interactive").textContent = ms.toFixed(0);
  window.tickflowReport = {
    interactiveMs: ms, bars: bars, charts: drawn,
    stats: TC.stats, errors: function () { return window.tickflowErrors.slice(); },
  };
})();
