// chart.js: tickflow's chart renderer, shared by the backtest report and the
// live dashboard. Canvas 2D, no dependencies, no network. It defines
// window.TickflowChart:
//
//   decodeColumn(col)             a report column ({n, d, o, v}) as a Float64Array
//   new TimeChart(canvas, opts)   stacked panels on one bar axis: candles, lines,
//                                 threshold levels and fill markers; wheel zoom,
//                                 drag pan, double-click reset, crosshair with values;
//                                 keys + - zoom, arrows pan, 0 resets
//   new Heatmap(canvas, opts)     a grid of coloured cells with the value under the cursor
//   stats()                       what every chart drew last: {charts, candles, lines,
//                                 markers, cells, frames}, the test hook's counts
//
// A live chart (the dashboard) keeps its own arrays, appends a bar and calls
// setData(times, panels) again: a view showing the last bar keeps following
// it, one the user zoomed or panned elsewhere stays put, and the next frame
// redraws. Times are Unix milliseconds in a Float64Array or plain array.
//
// Every redraw aggregates the visible bars per pixel column (open of the
// first, extreme high and low, close of the last; a line's first, min, max
// and last), so a frame costs one pass over the visible bars and draws at
// most a few primitives per pixel whatever the zoom. Markers are never
// aggregated away: each one in view is drawn.
(function (root) {
  "use strict";

  const DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const DIGIT = new Int8Array(128).fill(-1);
  for (let i = 0; i < DIGITS.length; i++) DIGIT[DIGITS.charCodeAt(i)] = i;
  // Literals, not Math.pow: division by an exact power of ten reads back the
  // value Go encoded bit for bit.
  const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

  // decodeColumn inverts report/column.go: zigzag varints of 5 bits per
  // character, delta-coded once (o absent) or twice (o = 2), code 0 = NaN,
  // value = integer / 10^d.
  function decodeColumn(col) {
    const n = col.n, s = col.v, d = col.d || 0, order = col.o || 1;
    const out = new Float64Array(n);
    const div = d >= 0 && d < POW10.length ? POW10[d] : Math.pow(10, d);
    let pos = 0, prev = 0, step = 0;
    for (let i = 0; i < n; i++) {
      let g = DIGIT[s.charCodeAt(pos++)];
      if (!(g >= 0)) throw new Error("TickflowChart.decodeColumn: bad character at " + (pos - 1));
      let u = g & 31, mul = 32;
      while (g & 32) { // codes past 2^31 take 7 characters: float arithmetic
        g = DIGIT[s.charCodeAt(pos++)];
        if (!(g >= 0)) throw new Error("TickflowChart.decodeColumn: bad character at " + (pos - 1));
        u += (g & 31) * mul;
        mul *= 32;
      }
      if (u === 0) { out[i] = NaN; continue; }
      u -= 1;
      const delta = u % 2 === 0 ? u / 2 : -(u + 1) / 2;
      if (order === 2) { step += delta; prev += step; } else prev += delta;
      out[i] = prev / div;
    }
    if (pos !== s.length) throw new Error("TickflowChart.decodeColumn: " + (s.length - pos) + " characters left over");
    return out;
  }

  const THEME = {
    bg: "#16212c", grid: "#223142", text: "#d8e1e8", dim: "#7f93a3",
    up: "#3ecf8e", down: "#ef5350", cross: "#9fb3c3", level: "#5d7285",
    lines: ["#ffb74d", "#4fc3f7", "#ba68c8", "#90a4ae", "#f06292", "#aed581", "#fff176"],
  };
  const AXIS_W = 66, TIME_H = 20, GAP = 8, FONT = "11px system-ui, sans-serif";

  const registry = [];

  function fmt(v) {
    if (v === undefined || v === null || !isFinite(v)) return "—";
    const a = Math.abs(v);
    if (a >= 1e7) return v.toFixed(0);
    if (a === 0) return "0";
    let s = v.toPrecision(a >= 1 ? 7 : 5);
    if (s.indexOf("e") < 0 && s.indexOf(".") >= 0) s = s.replace(/0+$/, "").replace(/\.$/, "");
    return s;
  }

  function pad2(n) { return n < 10 ? "0" + n : "" + n; }

  // fmtTime writes a Unix-millisecond time in UTC, as precisely as span
  // (the visible milliseconds) needs.
  function fmtTime(ms, span) {
    const t = new Date(ms);
    const day = t.getUTCFullYear() + "-" + pad2(t.getUTCMonth() + 1) + "-" + pad2(t.getUTCDate());
    const hm = pad2(t.getUTCHours()) + ":" + pad2(t.getUTCMinutes());
    if (span === undefined) {
      const sec = t.getUTCSeconds();
      return day + " " + hm + (sec ? ":" + pad2(sec) : "");
    }
    if (span > 120 * 864e5) return day;
    if (span > 3 * 864e5) return day.slice(5) + " " + hm;
    return hm;
  }

  // niceTicks returns round values covering [lo, hi], about count of them.
  function niceTicks(lo, hi, count) {
    const raw = (hi - lo) / Math.max(1, count);
    if (!(raw > 0) || !isFinite(raw)) return [];
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const r = raw / mag;
    const step = (r < 1.5 ? 1 : r < 3.5 ? 2 : r < 7.5 ? 5 : 10) * mag;
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    return out;
  }

  // fit sizes a canvas's backing store to its CSS box and the pixel ratio.
  function fit(canvas, ctx) {
    const dpr = root.devicePixelRatio || 1;
    const w = canvas.clientWidth || 800, h = canvas.clientHeight || 300;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    return { w: w, h: h };
  }

  // watchSize redraws chart when its canvas changes size (not for the
  // observer's first report, which the first draw has already answered).
  function watchSize(chart, canvas) {
    if (!root.ResizeObserver) return;
    new root.ResizeObserver(function () {
      const s = chart.size;
      if (!s || s.w !== canvas.clientWidth || s.h !== canvas.clientHeight) chart.redraw();
    }).observe(canvas);
  }

  // lowerBound is the first index of sorted a at or after v.
  function lowerBound(a, v) {
    let lo = 0, hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid] < v) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  // barIndex is the bar a time falls in: the last bar at or before it.
  function barIndex(times, t) {
    const i = lowerBound(times, t);
    return i < times.length && times[i] === t ? i : Math.max(0, i - 1);
  }

  // TimeChart draws panels stacked over one bar axis.
  //
  // opts.times: Float64Array of Unix milliseconds, increasing.
  // opts.panels: [{name, weight, candles: {open, high, low, close}, lines: [{name,
  //   values, color}], levels: [number], range: [min, max], format(v),
  //   markers: {index: Int32Array (sorted), price, side: "BS..", label(i)}}]
  //   every array has one value per time; NaN is a gap.
  function TimeChart(canvas, opts) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.hover = null;
    this.pending = false;
    this.last = { candles: 0, lines: 0, markers: 0, frames: 0 };
    this.setData(opts.times, opts.panels);
    this.listen();
    registry.push(this);
  }

  // setData replaces the series. A view showing the last bar keeps showing
  // it (a live chart follows new bars); otherwise the view stays put.
  TimeChart.prototype.setData = function (times, panels) {
    const old = this.n || 0, v = this.view;
    this.times = times;
    this.n = times.length;
    this.version = (this.version || 0) + 1;
    this.panels = panels;
    if (!v || old === 0) this.view = { from: 0, to: this.n };
    else if (v.to >= old) {
      const count = v.to - v.from;
      this.view = { from: this.n - count, to: this.n };
    }
    this.clampView();
    this.redraw();
  };

  TimeChart.prototype.minBars = function () { return Math.min(this.n, 10); };

  TimeChart.prototype.clampView = function () {
    const v = this.view, n = this.n;
    let count = Math.min(Math.max(v.to - v.from, this.minBars()), n);
    let from = Math.min(Math.max(v.from, 0), n - count);
    this.view = { from: from, to: from + count };
  };

  // setView shows bars [from, to).
  TimeChart.prototype.setView = function (from, to) {
    this.view = { from: from, to: to };
    this.clampView();
    this.redraw();
  };

  // redraw draws at the next frame, once however often it is asked; a
  // draw() in between (the page's first, synchronous one) makes it moot.
  TimeChart.prototype.redraw = function () {
    this.dirty = true;
    if (this.pending) return;
    this.pending = true;
    const self = this;
    root.requestAnimationFrame(function () { self.pending = false; if (self.dirty) self.draw(); });
  };

  TimeChart.prototype.layout = function (w, h) {
    const plotW = Math.max(10, w - AXIS_W);
    let total = 0;
    for (const p of this.panels) total += p.weight || 1;
    const avail = h - TIME_H - GAP * (this.panels.length - 1);
    let y = 0;
    const boxes = [];
    for (const p of this.panels) {
      const ph = Math.max(20, avail * (p.weight || 1) / total);
      boxes.push({ top: y, h: ph });
      y += ph + GAP;
    }
    return { plotW: plotW, boxes: boxes };
  };

  // columns aggregates bars [i0, i1) into width pixel columns: per column
  // the first of first[], the least of lo[], the greatest of hi[] and the
  // last of last[] (a candle's open, low, high, close; a line passes its
  // values four times). Columns without a value hold NaN.
  function columns(first, lo, hi, last, i0, i1, from, ppb, width) {
    const F = new Float64Array(width).fill(NaN), MN = new Float64Array(width).fill(NaN);
    const MX = new Float64Array(width).fill(NaN), L = new Float64Array(width).fill(NaN);
    let col = -1, f = NaN, mn = Infinity, mx = -Infinity, l = NaN;
    for (let i = i0; i < i1; i++) {
      const x = ((i + 0.5 - from) * ppb) | 0;
      if (x !== col) {
        if (l === l) { F[col] = f; MN[col] = mn; MX[col] = mx; L[col] = l; }
        col = x; f = NaN; mn = Infinity; mx = -Infinity; l = NaN;
      }
      const a = lo[i], b = hi[i];
      if (a !== a) continue;
      if (f !== f) f = first[i];
      if (a < mn) mn = a;
      if (b > mx) mx = b;
      l = last[i];
    }
    if (l === l && col >= 0 && col < width) { F[col] = f; MN[col] = mn; MX[col] = mx; L[col] = l; }
    return { first: F, min: MN, max: MX, last: L };
  }

  // summarize is what a panel draws over bars [i0, i1): its value range,
  // and when bars are narrower than pixels its series per pixel column.
  function summarize(p, i0, i1, from, ppb, width) {
    const out = { candles: null, lines: null, lo: Infinity, hi: -Infinity };
    const widen = function (a, b, n) {
      for (let i = b; i < n; i++) {
        const v = a[i];
        if (v < out.lo) out.lo = v;
        if (v > out.hi) out.hi = v;
      }
    };
    if (ppb < 1) {
      if (p.candles) {
        const c = p.candles;
        out.candles = columns(c.open, c.low, c.high, c.close, i0, i1, from, ppb, width);
        widen(out.candles.min, 0, width); widen(out.candles.max, 0, width);
      }
      out.lines = (p.lines || []).map(function (l) {
        const a = columns(l.values, l.values, l.values, l.values, i0, i1, from, ppb, width);
        widen(a.min, 0, width); widen(a.max, 0, width);
        return a;
      });
    } else {
      if (p.candles) { widen(p.candles.low, i0, i1); widen(p.candles.high, i0, i1); }
      for (const l of p.lines || []) widen(l.values, i0, i1);
    }
    if (p.markers) {
      const m = p.markers;
      widen(m.price, lowerBound(m.index, i0), lowerBound(m.index, i1));
    }
    for (const v of p.levels || []) {
      if (v < out.lo) out.lo = v;
      if (v > out.hi) out.hi = v;
    }
    let lo = out.lo, hi = out.hi;
    if (p.range) { lo = p.range[0]; hi = p.range[1]; }
    if (!(lo <= hi)) { lo = 0; hi = 1; }
    if (lo === hi) { const e = Math.abs(lo) * 0.01 || 1; lo -= e; hi += e; }
    const padding = p.range ? 0 : (hi - lo) * 0.06;
    out.lo = lo - padding;
    out.hi = hi + padding;
    return out;
  }

  TimeChart.prototype.draw = function () {
    this.dirty = false;
    const ctx = this.ctx, size = fit(this.canvas, ctx), w = size.w, h = size.h;
    this.size = size;
    ctx.fillStyle = THEME.bg;
    ctx.fillRect(0, 0, w, h);
    ctx.font = FONT;
    ctx.textBaseline = "middle";
    const stats = { candles: 0, lines: 0, markers: 0, frames: this.last.frames + 1 };
    if (this.n === 0) {
      ctx.fillStyle = THEME.dim;
      ctx.fillText("no data yet", 10, h / 2);
      this.last = stats;
      return;
    }
    const lay = this.layout(w, h), plotW = lay.plotW;
    const v = this.view, count = v.to - v.from, ppb = plotW / count;
    const i0 = Math.max(0, Math.floor(v.from)), i1 = Math.min(this.n, Math.ceil(v.to));
    const xOf = function (i) { return (i + 0.5 - v.from) * ppb; };
    this.geom = { plotW: plotW, ppb: ppb, boxes: lay.boxes, ranges: [] };
    const hoverI = this.hover ? this.hover.index : -1;
    // The summaries depend on the view only: a redraw for the cursor reuses them.
    const key = v.from + ":" + v.to + ":" + plotW + ":" + this.version;
    if (this.summaryKey !== key) {
      const width = Math.ceil(plotW);
      this.summaries = this.panels.map(function (p) { return summarize(p, i0, i1, v.from, ppb, width); });
      this.summaryKey = key;
    }

    this.panels.forEach((p, k) => {
      const box = lay.boxes[k], r = this.summaries[k];
      const yOf = function (val) { return box.top + (r.hi - val) / (r.hi - r.lo) * box.h; };
      this.geom.ranges.push(r);
      ctx.save();
      ctx.beginPath();
      ctx.rect(0, box.top, w, box.h);
      ctx.clip();
      // grid and value axis
      ctx.strokeStyle = THEME.grid;
      ctx.fillStyle = THEME.dim;
      ctx.lineWidth = 1;
      ctx.textAlign = "left";
      const fmtV = p.format || fmt;
      for (const t of niceTicks(r.lo, r.hi, Math.max(2, Math.floor(box.h / 40)))) {
        const y = Math.round(yOf(t)) + 0.5;
        ctx.beginPath(); ctx.moveTo(0, y); ctx.lineTo(plotW, y); ctx.stroke();
        ctx.fillText(fmtV(t), plotW + 6, y);
      }
      ctx.beginPath(); ctx.rect(0, box.top, plotW, box.h); ctx.clip();
      if (p.levels && p.levels.length) {
        ctx.strokeStyle = THEME.level;
        ctx.setLineDash([4, 4]);
        for (const lv of p.levels) {
          const y = Math.round(yOf(lv)) + 0.5;
          ctx.beginPath(); ctx.moveTo(0, y); ctx.lineTo(plotW, y); ctx.stroke();
        }
        ctx.setLineDash([]);
      }
      if (r.candles) stats.candles += drawCandleColumns(ctx, r.candles, yOf);
      else if (p.candles) stats.candles += drawCandles(ctx, p.candles, i0, i1, v.from, ppb, yOf);
      (p.lines || []).forEach(function (l, j) {
        const color = l.color || THEME.lines[j % THEME.lines.length];
        if (r.lines) stats.lines += drawLineColumns(ctx, r.lines[j], yOf, color);
        else stats.lines += drawLine(ctx, l.values, i0, i1, v.from, ppb, yOf, color);
      });
      if (p.markers) stats.markers += drawMarkers(this, p.markers, i0, i1, xOf, yOf, box, plotW);
      ctx.restore();
      this.legend(p, k, box, hoverI >= 0 ? hoverI : i1 - 1);
    });

    // time axis
    ctx.fillStyle = THEME.dim;
    ctx.textAlign = "center";
    const span = this.times[i1 - 1] - this.times[i0];
    for (let x = 60; x < plotW - 40; x += 130) {
      const i = Math.min(this.n - 1, Math.max(0, Math.floor(v.from + x / ppb)));
      ctx.fillText(fmtTime(this.times[i], span), xOf(i), h - TIME_H / 2);
    }
    if (this.hover) this.crosshair(w, h, xOf);
    this.last = stats;
  };

  // drawCandles draws one candle per bar (bars at least a pixel wide):
  // wick and body, or a wick alone when the body would not show.
  function drawCandles(ctx, c, i0, i1, from, ppb, yOf) {
    const O = c.open, H = c.high, L = c.low, C = c.close;
    const up = new Path2D(), down = new Path2D(), upBody = new Path2D(), downBody = new Path2D();
    const bw = Math.max(1, Math.floor(ppb * 0.7));
    for (let i = i0; i < i1; i++) {
      const x = Math.floor((i + 0.5 - from) * ppb), rising = C[i] >= O[i];
      const wick = rising ? up : down;
      wick.moveTo(x + 0.5, yOf(H[i])); wick.lineTo(x + 0.5, Math.max(yOf(L[i]), yOf(H[i]) + 1));
      if (ppb >= 3) {
        const yo = yOf(O[i]), yc = yOf(C[i]);
        (rising ? upBody : downBody).rect(x - Math.floor(bw / 2), Math.min(yo, yc), bw, Math.max(1, Math.abs(yc - yo)));
      }
    }
    ctx.fillStyle = THEME.up; ctx.fill(upBody);
    ctx.fillStyle = THEME.down; ctx.fill(downBody);
    ctx.lineWidth = 1;
    ctx.strokeStyle = THEME.up; ctx.stroke(up);
    ctx.strokeStyle = THEME.down; ctx.stroke(down);
    return Math.max(0, i1 - i0);
  }

  // drawCandleColumns draws one aggregate candle per pixel column: its
  // range from the highest high to the lowest low, coloured by whether the
  // column's last close is above its first open.
  function drawCandleColumns(ctx, a, yOf) {
    const up = new Path2D(), down = new Path2D();
    let drawn = 0;
    for (let x = 0; x < a.last.length; x++) {
      if (a.last[x] !== a.last[x]) continue;
      const path = a.last[x] >= a.first[x] ? up : down, yh = yOf(a.max[x]);
      path.moveTo(x + 0.5, yh); path.lineTo(x + 0.5, Math.max(yOf(a.min[x]), yh + 1));
      drawn++;
    }
    ctx.lineWidth = 1;
    ctx.strokeStyle = THEME.up; ctx.stroke(up);
    ctx.strokeStyle = THEME.down; ctx.stroke(down);
    return drawn;
  }

  // drawLine draws a series point by point (bars at least a pixel wide);
  // NaN breaks it.
  function drawLine(ctx, a, i0, i1, from, ppb, yOf, color) {
    const path = new Path2D();
    let pen = false, drawn = 0;
    for (let i = i0; i < i1; i++) {
      const val = a[i];
      if (val !== val) { pen = false; continue; }
      const x = (i + 0.5 - from) * ppb, y = yOf(val);
      if (pen) path.lineTo(x, y); else path.moveTo(x, y);
      pen = true;
      drawn++;
    }
    ctx.strokeStyle = color;
    ctx.lineWidth = 1.25;
    ctx.stroke(path);
    return drawn;
  }

  // drawLineColumns draws a series from its pixel columns: first, down to
  // the least, up to the greatest, then the last value, so spikes survive.
  function drawLineColumns(ctx, a, yOf, color) {
    const path = new Path2D();
    let pen = false, drawn = 0;
    for (let x = 0; x < a.last.length; x++) {
      if (a.last[x] !== a.last[x]) { pen = false; continue; }
      const px = x + 0.5;
      if (pen) path.lineTo(px, yOf(a.first[x])); else path.moveTo(px, yOf(a.first[x]));
      path.lineTo(px, yOf(a.min[x])); path.lineTo(px, yOf(a.max[x])); path.lineTo(px, yOf(a.last[x]));
      pen = true;
      drawn++;
    }
    ctx.strokeStyle = color;
    ctx.lineWidth = 1.25;
    ctx.stroke(path);
    return drawn;
  }

  // marker is the bitmap of a buy (an up triangle, tip at the top centre)
  // or sell (down, tip at the bottom centre) marker, MARK_W × MARK_H CSS
  // pixels. Stamping a bitmap costs the same however many markers crowd a
  // column, where filling one path of thousands of overlapping triangles
  // took Skia over a second.
  const MARK_W = 12, MARK_H = 11, sprites = {};
  function marker(buy, dpr) {
    const key = (buy ? "B" : "S") + dpr;
    if (sprites[key]) return sprites[key];
    const c = document.createElement("canvas");
    c.width = Math.ceil(MARK_W * dpr);
    c.height = Math.ceil(MARK_H * dpr);
    const g = c.getContext("2d");
    g.scale(dpr, dpr);
    g.beginPath();
    if (buy) { g.moveTo(MARK_W / 2, 0.5); g.lineTo(1, MARK_H - 1); g.lineTo(MARK_W - 1, MARK_H - 1); }
    else { g.moveTo(MARK_W / 2, MARK_H - 0.5); g.lineTo(1, 1); g.lineTo(MARK_W - 1, 1); }
    g.closePath();
    g.fillStyle = buy ? THEME.up : THEME.down;
    g.fill();
    g.strokeStyle = "#0b1118";
    g.lineWidth = 1;
    g.stroke();
    sprites[key] = c;
    return c;
  }

  // drawMarkers draws every fill in view: buys as up triangles under their
  // price, sells as down triangles over it, the tip at the price. A few are
  // stamped as bitmaps; many are stamped in JavaScript into one layer drawn
  // at once, because the canvas rasterizes ten thousand image draws in half
  // a second, a frame too slow for panning.
  function drawMarkers(chart, m, i0, i1, xOf, yOf, box, plotW) {
    const ctx = chart.ctx, dpr = root.devicePixelRatio || 1;
    const j0 = lowerBound(m.index, i0), j1 = lowerBound(m.index, i1);
    if (j1 - j0 <= DENSE_MARKERS) {
      const buy = marker(true, dpr), sell = marker(false, dpr);
      for (let j = j0; j < j1; j++) {
        const x = Math.round(xOf(m.index[j])) - MARK_W / 2, y = Math.round(yOf(m.price[j]));
        if (m.side.charCodeAt(j) === 66) ctx.drawImage(buy, x, y, MARK_W, MARK_H); // "B"
        else ctx.drawImage(sell, x, y - MARK_H, MARK_W, MARK_H);
      }
      return j1 - j0;
    }
    const W = Math.max(1, Math.round(plotW * dpr)), H = Math.max(1, Math.round(box.h * dpr));
    let layer = chart.layer;
    if (!layer || layer.width !== W || layer.height !== H) {
      layer = chart.layer = document.createElement("canvas");
      layer.width = W;
      layer.height = H;
      chart.layerImage = layer.getContext("2d").createImageData(W, H);
    }
    const img = chart.layerImage, px = new Uint32Array(img.data.buffer);
    px.fill(0);
    const buy = stamp(true, dpr), sell = stamp(false, dpr);
    for (let j = j0; j < j1; j++) {
      const isBuy = m.side.charCodeAt(j) === 66, st = isBuy ? buy : sell;
      const x0 = Math.round((xOf(m.index[j]) - MARK_W / 2) * dpr);
      const y0 = Math.round((yOf(m.price[j]) - box.top - (isBuy ? 0 : MARK_H)) * dpr);
      for (let k = 0; k < st.at.length; k++) {
        const x = x0 + st.dx[k], y = y0 + st.dy[k];
        if (x >= 0 && x < W && y >= 0 && y < H) px[y * W + x] = st.at[k];
      }
    }
    layer.getContext("2d").putImageData(img, 0, 0);
    ctx.drawImage(layer, 0, box.top, plotW, box.h);
    return j1 - j0;
  }

  const DENSE_MARKERS = 300, stamps = {};

  // stamp is a marker's opaque pixels (alpha at least half, made solid):
  // offsets and 32-bit RGBA values, for drawMarkers to copy.
  function stamp(buy, dpr) {
    const key = (buy ? "B" : "S") + dpr;
    if (stamps[key]) return stamps[key];
    const c = marker(buy, dpr), data = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    const dx = [], dy = [], rgba = new Uint8ClampedArray(4), word = new Uint32Array(rgba.buffer), at = [];
    for (let y = 0; y < c.height; y++) {
      for (let x = 0; x < c.width; x++) {
        const i = (y * c.width + x) * 4;
        if (data[i + 3] < 128) continue;
        rgba[0] = data[i]; rgba[1] = data[i + 1]; rgba[2] = data[i + 2]; rgba[3] = 255; // getImageData is not premultiplied
        dx.push(x); dy.push(y); at.push(word[0]);
      }
    }
    stamps[key] = { dx: Int32Array.from(dx), dy: Int32Array.from(dy), at: Uint32Array.from(at) };
    return stamps[key];
  }

  // legend writes a panel's name and its values at bar i.
  TimeChart.prototype.legend = function (p, k, box, i) {
    const ctx = this.ctx, fmtV = p.format || fmt;
    const parts = [{ text: p.name || "", color: THEME.text }];
    if (p.candles) {
      const c = p.candles, color = c.close[i] >= c.open[i] ? THEME.up : THEME.down;
      parts.push({ text: "O " + fmtV(c.open[i]) + "  H " + fmtV(c.high[i]) + "  L " + fmtV(c.low[i]) + "  C " + fmtV(c.close[i]), color: color });
    }
    (p.lines || []).forEach(function (l, j) {
      parts.push({ text: l.name + " " + fmtV(l.values[i]), color: l.color || THEME.lines[j % THEME.lines.length] });
    });
    if (p.markers && this.hover && this.hover.marker && this.hover.marker.panel === k) {
      const m = p.markers, j = this.hover.marker.j;
      const side = m.side.charCodeAt(j) === 66 ? "BUY" : "SELL";
      parts.push({ text: side + " " + fmtV(m.price[j]) + (m.label ? "  " + m.label(j) : ""), color: side === "BUY" ? THEME.up : THEME.down });
    }
    ctx.textAlign = "left";
    let x = 6;
    const y = box.top + 9;
    for (const part of parts) {
      if (!part.text) continue;
      const tw = ctx.measureText(part.text).width;
      ctx.fillStyle = "rgba(22,33,44,0.8)";
      ctx.fillRect(x - 3, y - 7, tw + 6, 14);
      ctx.fillStyle = part.color;
      ctx.fillText(part.text, x, y);
      x += tw + 12;
    }
  };

  TimeChart.prototype.crosshair = function (w, h, xOf) {
    const ctx = this.ctx, hv = this.hover, g = this.geom;
    const x = Math.round(xOf(hv.index)) + 0.5;
    ctx.strokeStyle = THEME.cross;
    ctx.lineWidth = 1;
    ctx.setLineDash([3, 3]);
    ctx.beginPath(); ctx.moveTo(x, 0); ctx.lineTo(x, h - TIME_H); ctx.stroke();
    const box = g.boxes[hv.panel];
    if (box && hv.y >= box.top && hv.y <= box.top + box.h) {
      ctx.beginPath(); ctx.moveTo(0, hv.y + 0.5); ctx.lineTo(g.plotW, hv.y + 0.5); ctx.stroke();
      const r = g.ranges[hv.panel], val = r.hi - (hv.y - box.top) / box.h * (r.hi - r.lo);
      const label = (this.panels[hv.panel].format || fmt)(val);
      ctx.setLineDash([]);
      ctx.fillStyle = "#2a3948";
      ctx.fillRect(g.plotW + 1, hv.y - 8, AXIS_W - 2, 16);
      ctx.fillStyle = THEME.text; ctx.textAlign = "left";
      ctx.fillText(label, g.plotW + 6, hv.y);
    }
    ctx.setLineDash([]);
    const label = fmtTime(this.times[hv.index]);
    const tw = ctx.measureText(label).width + 10;
    const lx = Math.min(Math.max(x - tw / 2, 0), g.plotW - tw);
    ctx.fillStyle = "#2a3948";
    ctx.fillRect(lx, h - TIME_H + 2, tw, TIME_H - 4);
    ctx.fillStyle = THEME.text; ctx.textAlign = "center";
    ctx.fillText(label, lx + tw / 2, h - TIME_H / 2);
  };

  // at maps a canvas point to the bar, panel and nearest marker under it.
  TimeChart.prototype.at = function (px, py) {
    const g = this.geom;
    if (!g || this.n === 0 || px > g.plotW) return null;
    const v = this.view;
    const index = Math.min(this.n - 1, Math.max(0, Math.floor(v.from + px / g.ppb)));
    let panel = g.boxes.findIndex(function (b) { return py >= b.top && py <= b.top + b.h; });
    let marker = null;
    this.panels.forEach(function (p, k) {
      if (!p.markers || marker) return;
      const m = p.markers, reach = 6 / g.ppb;
      const j0 = lowerBound(m.index, v.from + px / g.ppb - reach - 0.5), j1 = lowerBound(m.index, v.from + px / g.ppb + reach);
      let best = -1, bestD = Infinity;
      for (let j = j0; j < j1; j++) {
        const d = Math.abs(m.index[j] - index);
        if (d < bestD) { best = j; bestD = d; }
      }
      if (best >= 0) marker = { panel: k, j: best };
    });
    return { index: index, panel: panel, y: py, marker: marker };
  };

  TimeChart.prototype.listen = function () {
    const c = this.canvas, self = this;
    c.classList.add("chart");
    const point = function (e) { const r = c.getBoundingClientRect(); return { x: e.clientX - r.left, y: e.clientY - r.top }; };
    c.addEventListener("wheel", function (e) {
      e.preventDefault();
      const g = self.geom;
      if (!g || self.n === 0) return;
      const p = point(e), v = self.view, count = v.to - v.from;
      const dy = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaMode === 2 ? e.deltaY * 400 : e.deltaY;
      const f = Math.min(Math.max(p.x / g.plotW, 0), 1), anchor = v.from + f * count;
      const next = Math.min(Math.max(count * Math.exp(dy * 0.002), self.minBars()), self.n);
      self.setView(anchor - f * next, anchor - f * next + next);
    }, { passive: false });
    let drag = null;
    c.addEventListener("pointerdown", function (e) {
      if (e.button !== 0) return;
      drag = { x: point(e).x, from: self.view.from, count: self.view.to - self.view.from };
      c.setPointerCapture(e.pointerId);
    });
    c.addEventListener("pointermove", function (e) {
      const p = point(e);
      if (drag && self.geom) {
        const from = drag.from - (p.x - drag.x) / self.geom.ppb;
        self.view = { from: from, to: from + drag.count };
        self.clampView();
      }
      self.hover = self.at(p.x, p.y);
      self.redraw();
    });
    const end = function (e) { drag = null; if (c.hasPointerCapture(e.pointerId)) c.releasePointerCapture(e.pointerId); };
    c.addEventListener("pointerup", end);
    c.addEventListener("pointercancel", end);
    c.addEventListener("pointerleave", function () { if (!drag) { self.hover = null; self.redraw(); } });
    c.addEventListener("dblclick", function () { self.setView(0, self.n); });
    // Keyboard: + and - zoom around the centre, arrows pan a tenth, 0 shows all.
    if (!c.hasAttribute("tabindex")) c.tabIndex = 0;
    c.addEventListener("keydown", function (e) {
      const v = self.view, count = v.to - v.from, mid = v.from + count / 2;
      let from = v.from, next = count;
      switch (e.key) {
        case "+": case "=": next = count / 1.5; from = mid - next / 2; break;
        case "-": case "_": next = count * 1.5; from = mid - next / 2; break;
        case "ArrowLeft": from -= count / 10; break;
        case "ArrowRight": from += count / 10; break;
        case "0": case "Home": from = 0; next = self.n; break;
        default: return;
      }
      e.preventDefault();
      self.setView(from, from + next);
    });
    watchSize(this, c);
  };

  // Heatmap draws values on a grid of cells, rows top to bottom.
  //
  // opts: {cols: [label], rows: [label], values: [number|null] (row-major),
  //   format(v), diverging: bool (red below zero, green above; else a
  //   sequential scale), lowerIsBetter: bool, xTitle, yTitle}
  function Heatmap(canvas, opts) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.opts = opts;
    this.hover = -1;
    this.last = { cells: 0, frames: 0 };
    this.pending = false;
    const self = this;
    canvas.addEventListener("pointermove", function (e) {
      const r = canvas.getBoundingClientRect();
      self.hover = self.cellAt(e.clientX - r.left, e.clientY - r.top);
      self.redraw();
    });
    canvas.addEventListener("pointerleave", function () { self.hover = -1; self.redraw(); });
    watchSize(this, canvas);
    registry.push(this);
  }

  Heatmap.prototype.redraw = TimeChart.prototype.redraw;

  Heatmap.prototype.geometry = function (w, h) {
    const o = this.opts, ctx = this.ctx;
    ctx.font = FONT;
    let left = 0;
    for (const r of o.rows) left = Math.max(left, ctx.measureText(String(r)).width);
    left += 14 + (o.yTitle ? 16 : 0);
    const top = 18 + (o.xTitle ? 14 : 0), bottom = 18;
    return { left: left, top: top, cw: (w - left - 4) / o.cols.length, ch: (h - top - bottom) / o.rows.length };
  };

  Heatmap.prototype.cellAt = function (x, y) {
    const g = this.g;
    if (!g) return -1;
    const c = Math.floor((x - g.left) / g.cw), r = Math.floor((y - g.top) / g.ch);
    if (c < 0 || r < 0 || c >= this.opts.cols.length || r >= this.opts.rows.length) return -1;
    return r * this.opts.cols.length + c;
  };

  Heatmap.prototype.color = function (v, lo, hi) {
    if (v === null || v === undefined || !isFinite(v)) return "#1c2a37";
    const o = this.opts;
    if (o.diverging) {
      const m = Math.max(Math.abs(lo), Math.abs(hi)) || 1, t = Math.min(1, Math.abs(v) / m);
      const base = v >= 0 ? [62, 207, 142] : [239, 83, 80];
      const mix = function (c) { return Math.round(28 + (c - 28) * (0.15 + 0.85 * t)); };
      return "rgb(" + mix(base[0]) + "," + mix(base[1]) + "," + mix(base[2]) + ")";
    }
    let t = hi > lo ? (v - lo) / (hi - lo) : 1;
    if (o.lowerIsBetter) t = 1 - t;
    // dark blue (worst) through teal to yellow (best)
    const stops = [[33, 46, 96], [31, 150, 139], [245, 215, 66]];
    const s = t < 0.5 ? 0 : 1, u = t < 0.5 ? t * 2 : (t - 0.5) * 2;
    const a = stops[s], b = stops[s + 1];
    return "rgb(" + Math.round(a[0] + (b[0] - a[0]) * u) + "," + Math.round(a[1] + (b[1] - a[1]) * u) + "," + Math.round(a[2] + (b[2] - a[2]) * u) + ")";
  };

  Heatmap.prototype.draw = function () {
    this.dirty = false;
    const ctx = this.ctx, size = fit(this.canvas, ctx), o = this.opts, fmtV = o.format || fmt;
    this.size = size;
    const g = this.geometry(size.w, size.h);
    this.g = g;
    ctx.fillStyle = THEME.bg;
    ctx.fillRect(0, 0, size.w, size.h);
    ctx.textBaseline = "middle";
    let lo = Infinity, hi = -Infinity;
    for (const v of o.values) if (v !== null && isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    let cells = 0;
    for (let r = 0; r < o.rows.length; r++) {
      for (let c = 0; c < o.cols.length; c++) {
        const v = o.values[r * o.cols.length + c], x = g.left + c * g.cw, y = g.top + r * g.ch;
        ctx.fillStyle = this.color(v, lo, hi);
        ctx.fillRect(x + 1, y + 1, Math.max(1, g.cw - 2), Math.max(1, g.ch - 2));
        if (g.cw > 44 && g.ch > 13 && v !== null && isFinite(v)) {
          ctx.fillStyle = "#0b1118"; ctx.textAlign = "center";
          ctx.fillText(fmtV(v), x + g.cw / 2, y + g.ch / 2);
        }
        cells++;
      }
    }
    ctx.fillStyle = THEME.dim;
    ctx.textAlign = "right";
    for (let r = 0; r < o.rows.length; r++) ctx.fillText(String(o.rows[r]), g.left - 6, g.top + (r + 0.5) * g.ch);
    ctx.textAlign = "center";
    const every = Math.max(1, Math.ceil(40 / g.cw));
    for (let c = 0; c < o.cols.length; c += every) ctx.fillText(String(o.cols[c]), g.left + (c + 0.5) * g.cw, g.top - 9);
    if (o.xTitle) ctx.fillText(o.xTitle, g.left + (size.w - g.left) / 2, 8);
    if (o.yTitle) {
      ctx.save(); ctx.translate(8, g.top + (size.h - g.top - 18) / 2); ctx.rotate(-Math.PI / 2);
      ctx.fillText(o.yTitle, 0, 0); ctx.restore();
    }
    ctx.textAlign = "left";
    if (this.hover >= 0) {
      const r = Math.floor(this.hover / o.cols.length), c = this.hover % o.cols.length;
      ctx.strokeStyle = THEME.text;
      ctx.strokeRect(g.left + c * g.cw + 0.5, g.top + r * g.ch + 0.5, g.cw - 1, g.ch - 1);
      const name = (o.xTitle ? o.xTitle + " " : "") + o.cols[c] + ", " + (o.yTitle ? o.yTitle + " " : "") + o.rows[r];
      ctx.fillStyle = THEME.text;
      ctx.fillText(name + ": " + fmtV(o.values[this.hover]), g.left, size.h - 9);
    } else {
      ctx.fillStyle = THEME.dim;
      ctx.fillText("range " + fmtV(lo) + " … " + fmtV(hi), g.left, size.h - 9);
    }
    this.last = { cells: cells, frames: this.last.frames + 1 };
  };

  // stats sums what every chart on the page drew in its last frame.
  function stats() {
    const s = { charts: registry.length, candles: 0, lines: 0, markers: 0, cells: 0, frames: 0 };
    for (const c of registry) {
      for (const k in c.last) s[k] += c.last[k];
    }
    return s;
  }

  root.TickflowChart = {
    decodeColumn: decodeColumn, TimeChart: TimeChart, Heatmap: Heatmap, stats: stats,
    format: fmt, formatTime: fmtTime, barIndex: barIndex, theme: THEME,
  };
})(typeof window !== "undefined" ? window : globalThis);
