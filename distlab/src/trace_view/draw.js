// distlab trace view: how things look. Pure drawing helpers on a 2D context; view.js decides
// what is visible and where.
"use strict";

// Arrow styles, by the number the Rust side gives (layout::ArrowStyle), then 7 and 8 for a
// request or a reply that took long (LONG_US or more).
const ARROW_STYLES = [
  { name: "request", label: "request: send → deliver", color: "#2563eb", dash: [], frac: 1, end: "head" },
  { name: "reply", label: "reply: server → caller", color: "#16a34a", dash: [], frac: 1, end: "head" },
  { name: "request lost", label: "request lost (×)", color: "#dc2626", dash: [5, 3], frac: 0.8, end: "x" },
  { name: "reply lost", label: "reply lost (×)", color: "#dc2626", dash: [5, 3], frac: 0.6, end: "x" },
  { name: "unreachable", label: "unreachable: the caller fails at the end of the bracket", color: "#ea580c", dash: [2, 2], frac: 0.4, end: "bar" },
  { name: "rejected", label: "rejected (malformed or too large)", color: "#c026d3", dash: [], frac: 0.5, end: "square" },
  { name: "unanswered", label: "request with no later event (dropped by the server, or the run ended)", color: "#9ca3af", dash: [2, 3], frac: 1, end: "q" },
  { name: "long request", label: "request delivered after 100 ms or more", color: "#7c3aed", dash: [], frac: 1, end: "head" },
  { name: "long reply", label: "reply arriving after 100 ms or more", color: "#a855f7", dash: [], frac: 1, end: "head" },
];
const LONG_US = 100000;

// Bands, by layout::BandKind.
const BAND_STYLES = [
  { name: "partition", label: "partition (each side tinted)", color: "rgba(250,204,21,0.16)" },
  { name: "crash", label: "crashed (killed until started again)", color: "rgba(17,24,39,0.55)" },
  { name: "deaf", label: "deaf: hears nothing", color: "rgba(124,58,237,0.22)" },
  { name: "cut", label: "link cut (to the node named)", color: "rgba(234,88,12,0.55)" },
  { name: "unreliable", label: "unreliable server (a strip at the top of its lane)", color: "rgba(161,98,7,0.7)" },
];
const SIDE_TINTS = ["rgba(59,130,246,0.13)", "rgba(236,72,153,0.13)", "rgba(34,197,94,0.13)",
  "rgba(249,115,22,0.13)", "rgba(20,184,166,0.13)"];

// Marks, by event kind; "log" is coloured by its level.
const MARK_STYLES = {
  log: { shape: "diamond", color: "#0f766e", label: "protocol event (log), by level: info" },
  server_started: { shape: "up", color: "#16a34a", label: "server started" },
  revived: { shape: "circle", color: "#16a34a", label: "revived" },
  killed: { shape: "cross", color: "#111827", label: "killed" },
  server_deleted: { shape: "down", color: "#6b7280", label: "server deleted" },
  panicked: { shape: "star", color: "#dc2626", label: "a task panicked" },
  torn_write: { shape: "down", color: "#92400e", label: "torn write (disk)" },
  disk_lost: { shape: "square", color: "#92400e", label: "disk lost" },
  links: { shape: "ring", color: "#6b7280", label: "link change (end enabled, connected, ...)" },
  deliver: { shape: "dot", color: "#2563eb", label: "delivery of a request not sent in the trace" },
  other: { shape: "box", color: "#374151", label: "any other event" },
};
const LEVEL_COLORS = { ERROR: "#dc2626", WARN: "#d97706", INFO: "#0f766e", DEBUG: "#6b7280", TRACE: "#9ca3af" };
const GLOBAL_MARK = { color: "rgba(124,58,237,0.55)", label: "whole-network change (faults, ...)" };

// Adds an arrow of style `s` from (x1, y1) to (x2, y2) to the current path.
function pathArrow(ctx, s, x1, y1, x2, y2, bracketEnd) {
  ctx.moveTo(x1, y1);
  ctx.lineTo(x2, y2);
  const style = ARROW_STYLES[s];
  const r = 3.5;
  switch (style.end) {
    case "x":
      ctx.moveTo(x2 - r, y2 - r); ctx.lineTo(x2 + r, y2 + r);
      ctx.moveTo(x2 + r, y2 - r); ctx.lineTo(x2 - r, y2 + r);
      break;
    case "bar": {
      // The stub toward the target, then the bracket along the caller's lane.
      const yb = y1 - 4;
      ctx.moveTo(x1, yb); ctx.lineTo(bracketEnd, yb);
      ctx.moveTo(bracketEnd, yb - 3); ctx.lineTo(bracketEnd, yb + 3);
      ctx.moveTo(x2 - r, y2); ctx.lineTo(x2 + r, y2);
      break;
    }
    case "square":
      ctx.rect(x2 - 2.5, y2 - 2.5, 5, 5);
      break;
    case "q":
      ctx.moveTo(x2 + 2.5, y2); ctx.arc(x2, y2, 2.5, 0, 2 * Math.PI);
      break;
  }
}

// Adds an arrowhead at (x2, y2), coming from (x1, y1), to the current path (to be filled).
function pathHead(ctx, x1, y1, x2, y2) {
  const a = Math.atan2(y2 - y1, x2 - x1), l = 7, w = 0.42;
  ctx.moveTo(x2, y2);
  ctx.lineTo(x2 - l * Math.cos(a - w), y2 - l * Math.sin(a - w));
  ctx.lineTo(x2 - l * Math.cos(a + w), y2 - l * Math.sin(a + w));
  ctx.closePath();
}

// Adds a mark of `shape` centred on (x, y) to the current path; returns whether it is
// stroked (true) rather than filled.
function pathMark(ctx, shape, x, y) {
  const r = 4.5;
  switch (shape) {
    case "diamond": ctx.moveTo(x, y - r); ctx.lineTo(x + r, y); ctx.lineTo(x, y + r); ctx.lineTo(x - r, y); ctx.closePath(); return false;
    case "up": ctx.moveTo(x, y - r); ctx.lineTo(x + r, y + r); ctx.lineTo(x - r, y + r); ctx.closePath(); return false;
    case "down": ctx.moveTo(x, y + r); ctx.lineTo(x + r, y - r); ctx.lineTo(x - r, y - r); ctx.closePath(); return false;
    case "circle": ctx.moveTo(x + r, y); ctx.arc(x, y, r, 0, 2 * Math.PI); return false;
    case "dot": ctx.moveTo(x + 2.5, y); ctx.arc(x, y, 2.5, 0, 2 * Math.PI); return false;
    case "square": ctx.rect(x - r, y - r, 2 * r, 2 * r); return false;
    case "star":
      for (let k = 0; k < 10; k++) {
        const a = -Math.PI / 2 + k * Math.PI / 5, rr = k % 2 ? r * 0.45 : r * 1.3;
        k ? ctx.lineTo(x + rr * Math.cos(a), y + rr * Math.sin(a)) : ctx.moveTo(x + rr * Math.cos(a), y + rr * Math.sin(a));
      }
      ctx.closePath(); return false;
    case "cross": ctx.moveTo(x - r, y - r); ctx.lineTo(x + r, y + r); ctx.moveTo(x + r, y - r); ctx.lineTo(x - r, y + r); return true;
    case "ring": ctx.moveTo(x + r, y); ctx.arc(x, y, r, 0, 2 * Math.PI); return true;
    default: ctx.rect(x - r, y - r, 2 * r, 2 * r); return true;
  }
}

// A hatch pattern for crash bands.
function hatch(ctx) {
  const c = document.createElement("canvas");
  c.width = c.height = 8;
  const g = c.getContext("2d");
  g.fillStyle = "rgba(17,24,39,0.18)"; g.fillRect(0, 0, 8, 8);
  g.strokeStyle = "rgba(17,24,39,0.6)"; g.lineWidth = 1.5;
  g.beginPath(); g.moveTo(0, 8); g.lineTo(8, 0); g.moveTo(-2, 2); g.lineTo(2, -2); g.moveTo(6, 10); g.lineTo(10, 6); g.stroke();
  return ctx.createPattern(c, "repeat");
}

// Time ticks for [t0, t1] over `width` pixels: { step, unit, unitName, first }.
function ticks(t0, t1, width) {
  const raw = (t1 - t0) * 110 / Math.max(width, 1);
  const p = Math.pow(10, Math.floor(Math.log10(Math.max(raw, 1e-9))));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) || 10 * p;
  const [unit, unitName] = step >= 1e6 ? [1e6, "s"] : step >= 1e3 ? [1e3, "ms"] : [1, "µs"];
  return { step, unit, unitName, first: Math.ceil(t0 / step) * step };
}

// A time in microseconds, readably.
function showTime(us) {
  if (Math.abs(us) >= 1e6) return (us / 1e6).toFixed(6).replace(/\.?0+$/, "") + " s";
  if (Math.abs(us) >= 1e3) return (us / 1e3).toFixed(3).replace(/\.?0+$/, "") + " ms";
  return Math.round(us) + " µs";
}

// Fills the legend: a small drawing and a line of text per kind of mark.
function drawLegend(root) {
  const item = (text, paint) => {
    const div = document.createElement("div");
    div.className = "legend-item";
    const c = document.createElement("canvas");
    const dpr = window.devicePixelRatio || 1;
    c.width = 44 * dpr; c.height = 18 * dpr; c.style.width = "44px"; c.style.height = "18px";
    const ctx = c.getContext("2d");
    ctx.scale(dpr, dpr);
    paint(ctx);
    const span = document.createElement("span");
    span.textContent = text;
    div.append(c, span);
    root.append(div);
  };
  [0, 7, 1, 2, 3, 4, 5, 6].forEach((s) => item(ARROW_STYLES[s].label, (ctx) => {
    const st = ARROW_STYLES[s];
    ctx.strokeStyle = ctx.fillStyle = st.color; ctx.lineWidth = 1.3; ctx.setLineDash(st.dash);
    const long = s === 7 || s === 8;
    const [x1, y1, x2] = [4, 14, long ? 40 : st.end === "bar" ? 8 : 24];
    const y2 = y1 - 11 * st.frac;
    ctx.beginPath(); pathArrow(ctx, s, x1, y1, x2, y2, 40); ctx.stroke();
    if (st.end === "head") { ctx.setLineDash([]); ctx.beginPath(); pathHead(ctx, x1, y1, x2, y2); ctx.fill(); }
  }));
  for (const [kind, m] of Object.entries(MARK_STYLES)) {
    const label = kind === "log" ? m.label + "; warn, error, debug" : m.label;
    item(label, (ctx) => {
      const colors = kind === "log" ? ["#0f766e", "#d97706", "#dc2626", "#6b7280"] : [m.color];
      colors.forEach((color, k) => {
        ctx.strokeStyle = ctx.fillStyle = color; ctx.lineWidth = 1.5;
        ctx.beginPath();
        const stroked = pathMark(ctx, m.shape, 7 + k * 10, 9);
        stroked ? ctx.stroke() : ctx.fill();
      });
    });
  }
  item(GLOBAL_MARK.label, (ctx) => {
    ctx.strokeStyle = GLOBAL_MARK.color; ctx.setLineDash([3, 3]);
    ctx.beginPath(); ctx.moveTo(22, 0); ctx.lineTo(22, 18); ctx.stroke();
  });
  BAND_STYLES.forEach((b, k) => item(b.label, (ctx) => {
    if (k === 0) {
      ctx.fillStyle = SIDE_TINTS[0]; ctx.fillRect(2, 0, 40, 9);
      ctx.fillStyle = SIDE_TINTS[1]; ctx.fillRect(2, 9, 40, 9);
    } else if (k === 1) {
      ctx.fillStyle = hatch(ctx); ctx.fillRect(2, 3, 40, 12);
    } else if (k === 3) {
      ctx.fillStyle = b.color; ctx.fillRect(2, 12, 40, 3);
    } else if (k === 4) {
      ctx.fillStyle = b.color; ctx.fillRect(2, 3, 40, 3);
    } else {
      ctx.fillStyle = b.color; ctx.fillRect(2, 3, 40, 12);
    }
  }));
}
