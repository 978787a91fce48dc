// distlab trace view: the trace's data (see encode.rs) decoded into typed arrays.
"use strict";

// Decodes the page's data: columns per event, arrows, bands and marks, and the time span.
function decodeTrace(DATA) {
  const S = DATA.strings, N = DATA.count, NODES = DATA.nodes, L = NODES.length;

  // Columns (see encode.rs): times, calls and lines are deltas; null is a column of -1.
  const T = new Float64Array(N), LINE = new Float64Array(N), C = new Float64Array(N);
  for (let i = 0, t = 0, l = 0, c = 0; i < N; i++) {
    t += DATA.t[i]; T[i] = t; c += DATA.c[i]; C[i] = c; l += DATA.l ? DATA.l[i] : 1; LINE[i] = l;
  }
  const K = Int32Array.from(DATA.k), F = Int32Array.from(DATA.f), O = Int32Array.from(DATA.o);
  const DL = Float64Array.from(DATA.d);
  const column = (name) => (DATA[name] ? Int32Array.from(DATA[name]) : new Int32Array(N).fill(-1));
  const M = column("m"), SEQ = column("seq"), KEY = column("key"), CLIENT = column("client");
  const DETAIL = new Int32Array(N).fill(-1);
  DATA.xe.forEach((e, j) => { DETAIL[e] = DATA.xs[j]; });
  const kindOf = (i) => S[K[i]];

  // Arrows: style, start and end time, from and to lane, events.
  const NA = DATA.arrows.length / 3;
  const AS = new Int32Array(NA), ATS = new Float64Array(NA), ATE = new Float64Array(NA);
  const ALA = new Int32Array(NA), ALB = new Int32Array(NA), AE1 = new Int32Array(NA), AE2 = new Int32Array(NA);
  let maxDur = 0;
  for (let a = 0, e1 = 0; a < NA; a++) {
    let s = DATA.arrows[3 * a];
    e1 += DATA.arrows[3 * a + 1];
    const e2 = DATA.arrows[3 * a + 2] ? e1 + DATA.arrows[3 * a + 2] : -1;
    const ts = T[e1];
    const te = e2 >= 0 ? T[e2] : (s === 1 || s === 4 || s === 6) ? ts + DL[e1] : ts;
    if (te - ts >= LONG_US && (s === 0 || s === 1)) s += 7;
    let la = F[e1], lb = O[e1];
    if (la < 0) la = lb;
    if (lb < 0) lb = la;
    AS[a] = s; ATS[a] = ts; ATE[a] = te; ALA[a] = la; ALB[a] = lb; AE1[a] = e1; AE2[a] = e2;
    maxDur = Math.max(maxDur, te - ts);
  }
  // Bands: kind, lane (-1: all), start, end (the end of the trace if none), sides.
  const NB = DATA.bands.length / 5;
  let tEnd = N ? T[N - 1] : 1;
  for (let a = 0; a < NA; a++) tEnd = Math.max(tEnd, ATE[a]);
  const tStart = N ? T[0] : 0;
  const BANDS = [];
  for (let b = 0; b < NB; b++) {
    const [kind, lane, start, end, group] = DATA.bands.slice(5 * b, 5 * b + 5);
    BANDS.push({ kind, lane, start, end, ts: T[start], te: end >= 0 ? T[end] : tEnd, sides: group >= 0 ? DATA.groups[group] : null });
  }
  const MARKS = Int32Array.from(DATA.marks);
  const W = Int32Array.from(DATA.w), B = Float64Array.from(DATA.b);
  return { DATA, S, N, NODES, L, T, LINE, C, K, F, O, DL, M, SEQ, KEY, CLIENT, DETAIL, W, B, kindOf,
    NA, AS, ATS, ATE, ALA, ALB, AE1, AE2, maxDur, tStart, tEnd, BANDS, MARKS };
}

// A table of every field of event `i` of the decoded trace `tr`.
function eventTable(tr, i) {
  const table = document.createElement("table");
  table.className = "fields";
  const row = (k, v) => { const r = table.insertRow(); r.insertCell().textContent = k; r.insertCell().textContent = v; };
  const node = (l) => (l >= 0 ? tr.NODES[l] : "");
  row("at_us", tr.T[i] + " (" + showTime(tr.T[i]) + ")");
  row("kind", tr.kindOf(i));
  row("call", tr.C[i]);
  row("from", node(tr.F[i]));
  row("to", node(tr.O[i]));
  row("what", tr.S[tr.W[i]]);
  row("bytes", tr.B[i]);
  row("delay_us", tr.DL[i] + (tr.DL[i] ? " (" + showTime(tr.DL[i]) + ")" : ""));
  if (tr.M[i] >= 0) row("msg", tr.S[tr.M[i]]);
  if (tr.DETAIL[i] >= 0) {
    let extra = {};
    try { extra = JSON.parse(tr.S[tr.DETAIL[i]]); } catch (e) { row("details", tr.S[tr.DETAIL[i]]); }
    const text = (v) => (typeof v === "string" ? v : JSON.stringify(v));
    for (const [k, v] of Object.entries(extra)) {
      if (k === "fields" && v && typeof v === "object") for (const [f, fv] of Object.entries(v)) row("fields." + f, text(fv));
      else row(k, text(v));
    }
  }
  row("line", tr.LINE[i]);
  return table;
}
