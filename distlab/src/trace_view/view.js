// distlab trace view: what is in view, the controls and the panel. See data.js for the
// trace's data and draw.js for looks.
"use strict";
(function main() {
  const started = performance.now();
  const DATA = JSON.parse(document.getElementById("trace-data").textContent);
  const tr = decodeTrace(DATA);
  const { S, N, NODES, L, T, C, F, O, M, SEQ, KEY, CLIENT, DETAIL, kindOf } = tr;
  const { NA, AS, ATS, ATE, ALA, ALB, AE1, AE2, maxDur, tStart, tEnd, BANDS, MARKS } = tr;

  // The filters: a mask of events shown (1) or not.
  const shown = new Uint8Array(N).fill(1);
  let haystack = null;
  const filterInputs = ["f-node", "f-seq", "f-key", "f-client", "f-text"].map((id) => document.getElementById(id));
  function applyFilters() {
    const [node, seq, key, client, text] = filterInputs.map((el) => el.value.trim());
    const lane = node === "" ? -1 : Number(node), needle = text.toLowerCase();
    const want = [[SEQ, seq], [KEY, key], [CLIENT, client]].filter(([, v]) => v !== "");
    if (needle && !haystack) {
      haystack = new Array(N);
      for (let i = 0; i < N; i++) {
        haystack[i] = [kindOf(i), S[DATA.w[i]], M[i] >= 0 ? S[M[i]] : "", F[i] >= 0 ? NODES[F[i]] : "",
          O[i] >= 0 ? NODES[O[i]] : "", DETAIL[i] >= 0 ? S[DETAIL[i]] : "", "call " + C[i]].join(" ").toLowerCase();
      }
    }
    let count = 0;
    for (let i = 0; i < N; i++) {
      let ok = lane < 0 || F[i] === lane || O[i] === lane;
      for (let w = 0; ok && w < want.length; w++) {
        const id = want[w][0][i];
        ok = id >= 0 && S[id] === want[w][1];
      }
      if (ok && needle) ok = haystack[i].includes(needle);
      shown[i] = ok ? 1 : 0;
      count += shown[i];
    }
    filtered = count;
    document.body.dataset.matching = count;
    draw();
  }
  let filtered = N, rendered = "rendered " + N + " events";

  // The view: visible time range, geometry.
  const canvas = document.getElementById("canvas"), ctx = canvas.getContext("2d");
  const scroller = document.getElementById("scroller"), inner = document.getElementById("inner");
  const lanesDiv = document.getElementById("lanes");
  const AXIS_H = 34, LABEL_W = 110;
  let W = 800, H = 400, laneH = 40, t0 = 0, t1 = 1, selected = null;
  const X = (t) => (t - t0) / (t1 - t0) * W;
  const Y = (l) => AXIS_H + (l + 0.5) * laneH;
  const crashPattern = hatch(ctx);

  function fit() {
    const pad = Math.max((tEnd - tStart) * 0.02, 1000);
    t0 = tStart - pad; t1 = tEnd + pad;
  }
  // A time as the address gives it: 1.5s, 200ms, or microseconds.
  function parseTime(text) {
    const m = /^(-?[0-9.]+)(s|ms|us|µs)?$/.exec(text.trim());
    if (!m || isNaN(Number(m[1]))) return NaN;
    return Number(m[1]) * ({ s: 1e6, ms: 1e3 }[m[2]] || 1);
  }
  // The view of the address (#t=FROM,TO), if any: a view can be shared as a link.
  function fromAddress() {
    const m = /[#&]t=([^,&]+),([^&]+)/.exec(decodeURIComponent(location.hash));
    if (!m) return false;
    const [a, b] = [parseTime(m[1]), parseTime(m[2])];
    if (!(b > a)) return false;
    t0 = a; t1 = b;
    return true;
  }
  let addressTimer = 0;
  function toAddress() {
    clearTimeout(addressTimer);
    addressTimer = setTimeout(() => {
      const rest = location.hash.replace(/[#&]t=[^&]*/, "").replace(/^[#&]/, "");
      const hash = "#t=" + Math.round(t0) + "," + Math.round(t1) + (rest ? "&" + rest : "");
      try { history.replaceState(null, "", hash); } catch (e) { /* a file: page may not */ }
    }, 300);
  }
  function resize() {
    W = Math.max(200, scroller.clientWidth - LABEL_W);
    laneH = Math.max(26, Math.min(240, (scroller.clientHeight - AXIS_H - 8) / Math.max(L, 1)));
    H = AXIS_H + laneH * Math.max(L, 1) + 8;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(W * dpr); canvas.height = Math.round(H * dpr);
    canvas.style.width = W + "px"; canvas.style.height = H + "px";
    inner.style.height = H + "px";
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    lanesDiv.querySelectorAll(".lane-label").forEach((div, l) => {
      div.style.top = (AXIS_H + l * laneH) + "px"; div.style.height = laneH + "px";
    });
    draw();
  }

  // The first index of a sorted array `a` (of n) whose value is >= v.
  function lowerBound(a, n, v, key) {
    let lo = 0, hi = n;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (key(a, mid) < v) lo = mid + 1; else hi = mid; }
    return lo;
  }

  let visArrows = [], visMarks = [], visBands = [];
  function arrowGeometry(a) {
    const st = ARROW_STYLES[AS[a]];
    const x1 = X(ATS[a]), y1 = Y(ALA[a]);
    let yb = Y(ALB[a]);
    if (ALA[a] === ALB[a]) yb = y1 + laneH * 0.45;
    const bar = st.end === "bar";
    const x2 = bar ? x1 : X(ATE[a]);
    return [x1, y1, x2, y1 + (yb - y1) * st.frac, X(ATE[a])];
  }
  function markLane(i) { return F[i] >= 0 ? F[i] : O[i]; }
  function markStyle(i) {
    const kind = kindOf(i), m = MARK_STYLES[kind] || MARK_STYLES.other;
    if (kind !== "log") return m;
    const d = DETAIL[i] >= 0 ? S[DETAIL[i]] : "";
    for (const level in LEVEL_COLORS) if (d.includes('"level":"' + level + '"')) return { shape: m.shape, color: LEVEL_COLORS[level] };
    return m;
  }

  function draw() {
    ctx.clearRect(0, 0, W, H);
    // Lanes.
    for (let l = 0; l < L; l++) {
      ctx.fillStyle = l % 2 ? "#f9fafb" : "#ffffff";
      ctx.fillRect(0, AXIS_H + l * laneH, W, laneH);
    }
    // Bands.
    visBands = [];
    for (const b of BANDS) {
      if (b.te < t0 || b.ts > t1) continue;
      const x1 = Math.max(X(b.ts), -10), x2 = Math.min(X(b.te), W + 10), w = Math.max(x2 - x1, 1);
      visBands.push([b, x1, x2]);
      if (b.kind === 0) {
        ctx.fillStyle = BAND_STYLES[0].color; ctx.fillRect(x1, AXIS_H - 6, w, H - AXIS_H + 6);
        if (b.sides) b.sides.forEach((g, l) => { if (g >= 0) { ctx.fillStyle = SIDE_TINTS[g % SIDE_TINTS.length]; ctx.fillRect(x1, AXIS_H + l * laneH, w, laneH); } });
      } else if (b.lane >= 0) {
        const top = AXIS_H + b.lane * laneH;
        if (b.kind === 1) { ctx.fillStyle = crashPattern; ctx.fillRect(x1, top + laneH * 0.2, w, laneH * 0.6); }
        else if (b.kind === 3) { ctx.fillStyle = BAND_STYLES[3].color; ctx.fillRect(x1, top + laneH - 5, w, 3); }
        else if (b.kind === 4) { ctx.fillStyle = BAND_STYLES[4].color; ctx.fillRect(x1, top + 2, w, 3); }
        else { ctx.fillStyle = BAND_STYLES[b.kind] ? BAND_STYLES[b.kind].color : "rgba(0,0,0,0.1)"; ctx.fillRect(x1, top + 2, w, laneH - 4); }
      }
    }
    // The axis and the grid.
    const tk = ticks(t0, t1, W);
    ctx.fillStyle = "#f3f4f6"; ctx.fillRect(0, 0, W, AXIS_H - 8);
    ctx.strokeStyle = "#e5e7eb"; ctx.lineWidth = 1; ctx.fillStyle = "#374151"; ctx.font = "11px system-ui, sans-serif";
    ctx.beginPath();
    const decimals = Math.max(0, -Math.floor(Math.log10(tk.step / tk.unit) + 1e-9));
    for (let t = tk.first; t <= t1; t += tk.step) {
      const x = Math.round(X(t)) + 0.5;
      ctx.moveTo(x, AXIS_H - 12); ctx.lineTo(x, H);
      ctx.fillText((t / tk.unit).toFixed(decimals) + " " + tk.unitName, x + 3, 12);
    }
    ctx.stroke();
    ctx.fillStyle = "#6b7280"; ctx.fillText("virtual time", W - 70, 23);
    ctx.strokeStyle = "#d1d5db"; ctx.beginPath();
    for (let l = 0; l < L; l++) { const y = Math.round(Y(l)) + 0.5; ctx.moveTo(0, y); ctx.lineTo(W, y); }
    ctx.stroke();
    // Arrows in view: by style, one path each.
    visArrows = [];
    const first = lowerBound(ATS, NA, t0 - maxDur, (a, i) => a[i]);
    const byStyle = ARROW_STYLES.map(() => []);
    for (let a = first; a < NA && ATS[a] <= t1; a++) {
      if (ATE[a] < t0 || !(shown[AE1[a]] || (AE2[a] >= 0 && shown[AE2[a]]))) continue;
      visArrows.push(a); byStyle[AS[a]].push(a);
    }
    const heads = visArrows.length < 6000;
    ctx.lineWidth = 1.2;
    byStyle.forEach((list, s) => {
      if (!list.length) return;
      const st = ARROW_STYLES[s];
      ctx.strokeStyle = ctx.fillStyle = st.color; ctx.setLineDash(st.dash);
      ctx.beginPath();
      for (const a of list) { const g = arrowGeometry(a); pathArrow(ctx, s, g[0], g[1], g[2], g[3], g[4]); }
      ctx.stroke();
      if (heads && st.end === "head") {
        ctx.setLineDash([]); ctx.beginPath();
        for (const a of list) { const g = arrowGeometry(a); pathHead(ctx, g[0], g[1], g[2], g[3]); }
        ctx.fill();
      }
    });
    ctx.setLineDash([]);
    // Marks in view, by style.
    visMarks = [];
    const groups = new Map();
    for (let m = lowerBound(MARKS, MARKS.length, t0, (a, i) => T[a[i]]); m < MARKS.length && T[MARKS[m]] <= t1; m++) {
      const i = MARKS[m];
      if (!shown[i]) continue;
      visMarks.push(i);
      const lane = markLane(i);
      if (lane < 0) {
        ctx.strokeStyle = GLOBAL_MARK.color; ctx.setLineDash([3, 3]); ctx.beginPath();
        ctx.moveTo(X(T[i]), AXIS_H - 8); ctx.lineTo(X(T[i]), H); ctx.stroke(); ctx.setLineDash([]);
        continue;
      }
      const st = markStyle(i), k = st.shape + st.color;
      if (!groups.has(k)) groups.set(k, { st, list: [] });
      groups.get(k).list.push(i);
    }
    ctx.lineWidth = 1.6;
    for (const { st, list } of groups.values()) {
      ctx.strokeStyle = ctx.fillStyle = st.color; ctx.beginPath();
      let stroked = false;
      for (const i of list) stroked = pathMark(ctx, st.shape, X(T[i]), Y(markLane(i)));
      stroked ? ctx.stroke() : ctx.fill();
    }
    labels();
    highlight();
    const range = "view " + showTime(t0) + " – " + showTime(t1);
    status.textContent = rendered + (filtered === N ? "" : ", " + filtered + " match the filters")
      + " · " + visArrows.length + " arrows, " + visMarks.length + " marks in " + range;
  }

  // Text beside marks and arrows when few are in view, each only where it overlaps no other.
  function labels() {
    ctx.font = "10px system-ui, sans-serif"; ctx.fillStyle = "#374151";
    const cut = (s) => (s.length > 40 ? s.slice(0, 39) + "…" : s);
    const taken = [];
    const put = (text, x, y) => {
      if (!text || x > W) return;
      const w = ctx.measureText(text).width, r = [x - 1, y - 9, x + w + 1, y + 2];
      if (taken.some((o) => r[0] < o[2] && o[0] < r[2] && r[1] < o[3] && o[1] < r[3])) return;
      taken.push(r);
      ctx.fillText(text, x, y);
    };
    // Bands wide enough say what they are: a partition its sides, others their kind.
    for (const [b, x1, x2] of visBands) {
      if (x2 - x1 < 70) continue;
      const x = Math.max(x1, 0) + 4;
      if (b.kind === 0) {
        const sides = [];
        (b.sides || []).forEach((g, l) => { if (g >= 0) (sides[g] = sides[g] || []).push(NODES[l]); });
        put(cut("partition " + sides.filter(Boolean).map((n) => n.join(" ")).join(" | ")), x, AXIS_H + 8);
      } else if (b.lane >= 0 && BAND_STYLES[b.kind]) {
        put(BAND_STYLES[b.kind].name, x, AXIS_H + b.lane * laneH + (b.kind === 1 ? laneH * 0.2 - 3 : 12));
      }
    }
    if (visMarks.length <= 200) {
      for (const i of visMarks) {
        const lane = markLane(i);
        if (lane >= 0) put(cut(M[i] >= 0 ? S[M[i]] : S[DATA.w[i]] || kindOf(i)), X(T[i]) + 6, Y(lane) - 7);
      }
    }
    if (visArrows.length <= 80) {
      for (const a of visArrows) {
        const e = AE1[a], g = arrowGeometry(a);
        put(cut(M[e] >= 0 ? S[M[e]] : S[DATA.w[e]]), (g[0] + g[2]) / 2 + 4, (g[1] + g[3]) / 2);
      }
    }
  }

  function highlight() {
    if (!selected) return;
    ctx.strokeStyle = "#111827"; ctx.fillStyle = "#111827"; ctx.lineWidth = 2.5;
    ctx.beginPath();
    if (selected.arrow !== undefined) {
      const g = arrowGeometry(selected.arrow);
      pathArrow(ctx, AS[selected.arrow], g[0], g[1], g[2], g[3], g[4]);
    } else if (selected.event !== undefined && markLane(selected.event) >= 0) {
      const i = selected.event;
      ctx.arc(X(T[i]), Y(markLane(i)), 7, 0, 2 * Math.PI);
    }
    ctx.stroke();
  }

  // What is at (px, py): the nearest mark or arrow within 6 px, else a band.
  function pick(px, py) {
    let best = null, bestD = 6;
    for (const i of visMarks) {
      const lane = markLane(i);
      const d = lane < 0 ? Math.abs(X(T[i]) - px) : Math.hypot(X(T[i]) - px, Y(lane) - py);
      if (d < bestD) { bestD = d; best = { event: i }; }
    }
    for (const a of visArrows) {
      const g = arrowGeometry(a);
      let d = segment(px, py, g[0], g[1], g[2], g[3]);
      if (AS[a] === 4) d = Math.min(d, segment(px, py, g[0], g[1] - 4, g[4], g[1] - 4));
      if (d < bestD) { bestD = d; best = { arrow: a }; }
    }
    if (best) return best;
    const t = t0 + (px / W) * (t1 - t0), lane = Math.floor((py - AXIS_H) / laneH);
    const band = BANDS.find((b) => b.kind !== 0 && b.lane === lane && b.ts <= t && t <= b.te) || BANDS.find((b) => b.kind === 0 && b.ts <= t && t <= b.te);
    return band ? { band } : null;
  }
  function segment(px, py, x1, y1, x2, y2) {
    const dx = x2 - x1, dy = y2 - y1, len = dx * dx + dy * dy;
    const u = len ? Math.max(0, Math.min(1, ((px - x1) * dx + (py - y1) * dy) / len)) : 0;
    return Math.hypot(px - (x1 + u * dx), py - (y1 + u * dy));
  }

  // The side panel: every field of the events picked.
  const details = document.getElementById("details");
  function show(what) {
    selected = what;
    details.replaceChildren();
    const h = document.createElement("h2");
    details.append(h);
    let events = [];
    if (!what) { h.textContent = "Details"; draw(); return; }
    if (what.arrow !== undefined) {
      const a = what.arrow, call = C[AE1[a]];
      h.textContent = ARROW_STYLES[AS[a]].name + " " + NODES[ALA[a]] + " → " + NODES[ALB[a]] + (call ? ", call " + call : "") + ", " + showTime(ATE[a] - ATS[a]);
      if (call) { for (let i = 0; i < N; i++) if (C[i] === call) events.push(i); } else events = [AE1[a]];
    } else if (what.event !== undefined) {
      h.textContent = kindOf(what.event) + (markLane(what.event) >= 0 ? " at " + NODES[markLane(what.event)] : "");
      events = [what.event];
    } else {
      const b = what.band;
      h.textContent = BAND_STYLES[b.kind].name + (b.lane >= 0 ? " of " + NODES[b.lane] : "") + ", " + showTime(b.te - b.ts) + (b.end < 0 ? " (to the end of the trace)" : "");
      events = b.end >= 0 ? [b.start, b.end] : [b.start];
    }
    for (const i of events) {
      const h3 = document.createElement("h3");
      h3.textContent = kindOf(i) + " at " + showTime(T[i]);
      details.append(h3, eventTable(tr, i));
    }
    draw();
  }

  // Controls: zoom about a point, pan, filters.
  function zoom(factor, at) {
    const t = t0 + (at / W) * (t1 - t0);
    const span = Math.max((t1 - t0) * factor, 10);
    t0 = t - (at / W) * span; t1 = t0 + span;
    draw(); toAddress();
  }
  function pan(fraction) { const d = (t1 - t0) * fraction; t0 += d; t1 += d; draw(); toAddress(); }
  canvas.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    if (Math.abs(ev.deltaX) > Math.abs(ev.deltaY)) pan(ev.deltaX / W);
    else zoom(Math.exp(ev.deltaY * 0.0015), ev.offsetX);
  }, { passive: false });
  let drag = null;
  canvas.addEventListener("mousedown", (ev) => { drag = { x: ev.clientX, t0, t1, moved: false }; canvas.classList.add("dragging"); });
  window.addEventListener("mousemove", (ev) => {
    if (drag) {
      const dt = (ev.clientX - drag.x) / W * (drag.t1 - drag.t0);
      if (Math.abs(ev.clientX - drag.x) > 3) drag.moved = true;
      t0 = drag.t0 - dt; t1 = drag.t1 - dt; draw(); toAddress();
    }
    if (ev.target === canvas) cursor.textContent = "at " + showTime(t0 + (ev.offsetX / W) * (t1 - t0));
  });
  window.addEventListener("mouseup", (ev) => {
    if (drag && !drag.moved && ev.target === canvas) show(pick(ev.offsetX, ev.offsetY));
    drag = null; canvas.classList.remove("dragging");
  });
  const on = (id, f) => document.getElementById(id).addEventListener("click", f);
  on("zoom-in", () => zoom(0.5, W / 2)); on("zoom-out", () => zoom(2, W / 2));
  on("pan-left", () => pan(-0.25)); on("pan-right", () => pan(0.25));
  on("fit", () => { fit(); draw(); toAddress(); });
  on("f-clear", () => { filterInputs.forEach((el) => { el.value = ""; }); applyFilters(); });
  window.addEventListener("keydown", (ev) => {
    if (ev.target.tagName === "INPUT" || ev.target.tagName === "SELECT") return;
    const keys = { "+": () => zoom(0.5, W / 2), "=": () => zoom(0.5, W / 2), "-": () => zoom(2, W / 2), "0": () => { fit(); draw(); toAddress(); }, ArrowLeft: () => pan(-0.25), ArrowRight: () => pan(0.25), Escape: () => show(null) };
    if (keys[ev.key]) { keys[ev.key](); ev.preventDefault(); }
  });
  let timer = 0;
  filterInputs.forEach((el) => el.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(applyFilters, 150); }));
  window.addEventListener("resize", resize);

  // The DOM: title, lane labels, filter choices, legend, then the first drawing.
  const status = document.getElementById("status"), cursor = document.getElementById("cursor");
  document.getElementById("title").textContent = DATA.title;
  NODES.forEach((name, l) => {
    const div = document.createElement("div");
    div.className = "lane-label"; div.dataset.node = name; div.dataset.lane = l; div.textContent = name; div.title = name;
    lanesDiv.append(div);
    const opt = document.createElement("option");
    opt.value = l; opt.textContent = name;
    filterInputs[0].append(opt);
  });
  [[SEQ, "l-seq"], [KEY, "l-key"], [CLIENT, "l-client"]].forEach(([ids0, list]) => {
    const ids = new Set(ids0.filter((id) => id >= 0));
    const values = [...ids].map((id) => S[id]).sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
    const datalist = document.getElementById(list);
    for (const v of values.slice(0, 1000)) { const opt = document.createElement("option"); opt.value = v; datalist.append(opt); }
  });
  drawLegend(document.getElementById("legend"));
  fit();
  fromAddress();
  resize();
  // Filters in the address: #seq=5&key=k1&client=c0&node=px0&text=accept.
  let filterFromAddress = false;
  for (const [name, el] of [["node", 0], ["seq", 1], ["key", 2], ["client", 3], ["text", 4]]) {
    const m = new RegExp("[#&]" + name + "=([^&]*)").exec(location.hash);
    if (!m) continue;
    const value = decodeURIComponent(m[1]);
    filterInputs[el].value = name === "node" ? String(NODES.indexOf(value)) : value;
    filterFromAddress = true;
  }
  if (filterFromAddress) applyFilters();
  // #call=N in the address selects that call's first arrow.
  const call = /[#&]call=([0-9]+)/.exec(location.hash);
  if (call) {
    const a = AE1.findIndex((e) => C[e] === Number(call[1]));
    if (a >= 0) show({ arrow: a });
  }
  const ms = Math.round(performance.now() - started);
  document.body.dataset.events = N;
  document.body.dataset.lanes = L;
  document.body.dataset.arrows = NA;
  document.body.dataset.marks = MARKS.length;
  document.body.dataset.renderMs = ms;
  // From the start of the navigation (reading and parsing the page) to the first drawing.
  document.body.dataset.loadMs = Math.round(performance.now());
  // What the first drawing (the whole run) shows: every arrow and mark, if the data is sound.
  document.body.dataset.visibleArrows = visArrows.length;
  document.body.dataset.visibleMarks = visMarks.length;
  document.body.dataset.view = Math.round(t0) + "," + Math.round(t1);
  document.body.dataset.rendered = "1";
  rendered = "rendered " + N + " events on " + L + " lanes in " + ms + " ms";
  const redraw = performance.now();
  draw();
  // One drawing of the whole run (what every zoom or pan step costs at most, about).
  document.body.dataset.drawMs = Math.round(performance.now() - redraw);
})();
