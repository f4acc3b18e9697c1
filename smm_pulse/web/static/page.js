// SMM Pulse live page: fetches api/overview every few seconds and draws it.
// Plain DOM and SVG, no library; brand names and labels only ever go in as text.
"use strict";

const POLL_SECONDS = 5;
const HISTORY_POINTS = 120; // per sparkline: ten minutes at one sample every 5 s
const PALETTE = ["#0969da", "#bf3989", "#1a7f37", "#9a6700", "#8250df", "#cf222e"];
const STATUS_TEXT = {
  met: "meets the goal", missed: "goal missed now", open: "not reached yet",
  no_goal: "no goal", no_data: "not judged yet",
};
const RELATION_SIGN = { "at least": "\u2265", "at most": "\u2264", below: "<", reach: "reach" };

const history = new Map(); // series key -> [[time, value], ...]
let tableWindow = null; // window of the platform tables, chosen by the reader
let lastData = null;

const count = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value !== undefined && value !== null) node.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function svg(tag, attrs) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  return node;
}

// Numbers as marketers read them, by the catalog's unit (money with its currency code).
function format(value, unit, currency) {
  if (value === null || value === undefined) return "\u2014";
  switch (unit) {
    case "ratio": {
      const percent = value * 100;
      return `${percent.toFixed(Math.abs(percent) < 10 ? 2 : 1)}%`;
    }
    case "score": return `${value > 0 ? "+" : ""}${value.toFixed(2)}`;
    case "seconds": return duration(value);
    case "times": return `${value.toFixed(1)}\u00d7`;
    case "per_second": return `${value.toFixed(3)}/s`;
    case "currency": return `${value.toFixed(2)}${currency ? ` ${currency}` : ""}`;
    case "age": return `${duration(value)} ago`;
    default: return count.format(value);
  }
}

function duration(seconds) {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} d`;
}

function goalText(goal) {
  if (!goal.relation) return "no goal set";
  if (goal.relation === "reach") return `goal ${format(goal.target, goal.unit, goal.currency)} by ${goal.by}`;
  return `goal ${RELATION_SIGN[goal.relation]} ${format(goal.target, goal.unit, goal.currency)}`;
}

function remember(key, time, value) {
  if (value === null || value === undefined) return;
  const points = history.get(key) || [];
  points.push([time, value]);
  if (points.length > HISTORY_POINTS) points.splice(0, points.length - HISTORY_POINTS);
  history.set(key, points);
}

function recordTrends(data) {
  for (const brand of data.brands) {
    const trend = brand.trend;
    remember(`${brand.brand}\u0000mentions`, data.now, trend.mentions);
    remember(`${brand.brand}\u0000sentiment`, data.now, trend.sentiment);
    for (const [platform, value] of Object.entries(trend.engagement_rate)) {
      remember(`${brand.brand}\u0000er\u0000${platform}`, data.now, value);
    }
  }
}

// A sparkline of one or more series; [low, high] always covers `floor`.
function sparkline(series, floor) {
  const width = 180, height = 40, pad = 3;
  const chart = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img" });
  const all = series.flatMap((s) => s.points);
  if (!all.length) return chart;
  const times = all.map((p) => p[0]), values = all.map((p) => p[1]);
  const t0 = Math.min(...times), t1 = Math.max(...times);
  let low = Math.min(floor[0], ...values), high = Math.max(floor[1], ...values);
  if (high === low) high = low + 1;
  const x = (t) => (t1 === t0 ? width - pad : pad + ((t - t0) / (t1 - t0)) * (width - 2 * pad));
  const y = (v) => height - pad - ((v - low) / (high - low)) * (height - 2 * pad);
  if (low < 0 && high > 0) {
    chart.append(svg("line", { x1: 0, x2: width, y1: y(0), y2: y(0), stroke: "#d0d7de" }));
  }
  for (const s of series) {
    if (!s.points.length) continue;
    const path = s.points.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(" ");
    chart.append(svg("polyline", { points: path, fill: "none", stroke: s.color,
                                   "stroke-width": 1.5, "stroke-linejoin": "round" }));
    const [lastT, lastV] = s.points[s.points.length - 1];
    chart.append(svg("circle", { cx: x(lastT), cy: y(lastV), r: 2, fill: s.color }));
  }
  return chart;
}

function sparkFigure(name, caption, window, latest, chart, legend) {
  return el("figure", { class: "spark", "data-series": name },
    el("figcaption", {}, caption, el("small", {}, ` ${window}`), el("b", {}, latest)),
    chart, legend || null);
}

function sparks(brand) {
  const key = brand.brand, trend = brand.trend;
  const mentions = history.get(`${key}\u0000mentions`) || [];
  const sentiment = history.get(`${key}\u0000sentiment`) || [];
  const platforms = Object.keys(trend.engagement_rate).sort();
  const er = platforms.map((platform, i) => ({
    platform, color: PALETTE[i % PALETTE.length],
    points: history.get(`${key}\u0000er\u0000${platform}`) || [],
  }));
  const legend = el("div", { class: "legend" }, ...er.flatMap((s) => {
    const swatch = el("i");
    swatch.style.background = s.color; // through CSSOM: the page's CSP allows no inline style
    return [swatch, s.platform];
  }));
  return el("div", { class: "sparks" },
    sparkFigure("mentions", "Mentions", trend.window, format(trend.mentions, "count"),
                sparkline([{ color: PALETTE[0], points: mentions }], [0, 0])),
    sparkFigure("sentiment", "Sentiment", trend.window, format(trend.sentiment, "score"),
                sparkline([{ color: PALETTE[1], points: sentiment }], [-0.2, 0.2])),
    sparkFigure("engagement_rate", "ER by followers", trend.window,
                platforms.length ? "" : "\u2014", sparkline(er, [0, 0]), legend));
}

function tile(goal) {
  const where = goal.platform ? ` \u00b7 ${goal.platform}` : "";
  return el("div", {
    class: `tile ${goal.status}`, "data-kpi": goal.kpi, "data-platform": goal.platform,
    "data-window": goal.window, "data-status": goal.status, "data-value": goal.value,
  },
  el("div", { class: "tile-title" }, goal.title + where,
     goal.window ? el("small", {}, goal.window) : null),
  el("div", { class: "tile-value" }, format(goal.value, goal.unit, goal.currency)),
  el("div", { class: "tile-goal" },
     goal.relation ? `${goalText(goal)} \u00b7 ${STATUS_TEXT[goal.status]}` : "no goal set"),
  goal.note ? el("div", { class: "tile-note" }, goal.note) : null);
}

function matches(kpi, column, platform, window) {
  if (kpi.metric !== column.metric || kpi.labels.platform !== platform) return false;
  if (column.windowed && kpi.labels.window !== window) return false;
  return Object.entries(column.labels).every(([name, value]) => kpi.labels[name] === value);
}

function platformTable(brand, columns, window, now) {
  if (!brand.platforms.length) return el("p", { class: "empty" }, "No events from this brand yet.");
  const head = el("tr", {}, el("th", {}, "Platform"), ...columns.map((c) =>
    el("th", { title: c.help }, c.title, c.windowed ? el("small", {}, ` ${window}`) : null)));
  const rows = brand.platforms.map((platform) => el("tr", { "data-platform": platform },
    el("th", {}, platform),
    ...columns.map((column) => {
      const kpi = brand.kpis.find((k) => matches(k, column, platform, window));
      const value = kpi ? kpi.value : null;
      const shown = column.unit === "age" && kpi ? Math.max(0, now - value) : value;
      return el("td", {
        "data-metric": column.metric, "data-value": value,
        "data-labels": JSON.stringify(column.labels), class: kpi ? null : "none",
      }, format(shown, column.unit));
    })));
  return el("table", { class: "platforms" }, el("thead", {}, head), el("tbody", {}, ...rows));
}

function anchor(name) {
  return `brand-${encodeURIComponent(name)}`;
}

function card(brand, data) {
  const missed = brand.goals.filter((g) => g.status === "missed").length;
  const judged = brand.goals.some((g) => g.status === "met" || g.status === "missed");
  const badge = missed
    ? el("span", { class: "badge missed" }, `${missed} goal${missed > 1 ? "s" : ""} missed now`)
    : el("span", { class: `badge ${judged ? "met" : "nodata"}` },
         judged ? "every goal met" : "no goal judged yet");
  return el("article", { class: "card", id: anchor(brand.brand), "data-brand": brand.brand },
    el("header", {}, el("h2", {}, brand.brand), badge),
    el("div", { class: "goals" }, ...brand.goals.map(tile)),
    sparks(brand),
    platformTable(brand, data.columns, tableWindow, data.now),
    topTables(brand, tableWindow));
}

// Top posts and authors of the window the platform table shows (api/brands/.../top-*).
const TOP_COLUMNS = {
  "top-posts": [["post_id", "Post"], ["platform", "Platform"], ["interactions", "Interactions"],
    ["engagement_rate", "ER", "ratio"], ["likes", "Likes"], ["comments", "Comments"],
    ["shares", "Shares"], ["views", "Views"]],
  "top-authors": [["author", "Author"], ["reach", "Reach"], ["mentions", "Mentions"],
    ["sentiment", "Sentiment", "score"]],
};

function topTables(brand, window) {
  const lists = (brand.top || {})[window] || {};
  return el("div", { class: "tops" }, ...Object.entries(TOP_COLUMNS).map(([name, columns]) => {
    const rows = lists[name] || [];
    const title = name === "top-posts" ? "Top posts" : "Top authors by reach";
    if (!rows.length) return el("p", { class: "empty", "data-top": name }, `${title}: none yet.`);
    return el("table", { class: "top-list", "data-top": name },
      el("caption", {}, title, el("small", {}, ` ${window}`)),
      el("thead", {}, el("tr", {}, ...columns.map(([, head]) => el("th", {}, head)))),
      el("tbody", {}, ...rows.map((row) => el("tr", {}, ...columns.map(([field, , unit]) =>
        el("td", { "data-field": field, "data-value": row[field] },
          typeof row[field] === "string" ? row[field] : format(row[field], unit)))))));
  }));
}

function missedList(data) {
  const section = document.getElementById("missed");
  const items = data.brands.flatMap((brand) => brand.goals
    .filter((g) => g.status === "missed")
    .map((g) => el("li", { "data-brand": brand.brand, "data-kpi": g.kpi,
                           "data-platform": g.platform },
      el("a", { href: `#${anchor(brand.brand)}` }, brand.brand), " \u00b7 ",
      g.title, g.platform ? ` on ${g.platform}` : "", g.window ? ` (${g.window})` : "", ": ",
      el("span", { class: "value" }, format(g.value, g.unit, g.currency)), `, ${goalText(g)}`,
      g.alert_after ? el("span", { class: "after" }, `; alerts once missed for ${g.alert_after}`)
                    : null)));
  section.className = items.length ? "some" : "none";
  section.replaceChildren(
    el("h2", {}, items.length ? `Goals missed now (${items.length})` : "No goal missed now"),
    items.length ? el("ul", {}, ...items) : null);
}

function elsewhere(data) {
  const section = document.getElementById("elsewhere");
  if (!data.elsewhere.length) { section.replaceChildren(); return; }
  section.replaceChildren(el("h2", {}, "Brands on other workers"), el("ul", {},
    ...data.elsewhere.map((other) => el("li", { "data-brand": other.brand },
      other.url ? el("a", { href: `${other.url}/#${anchor(other.brand)}` }, other.brand)
                : other.brand,
      other.url ? ` on ${other.url}` : ": no worker owns it right now (rebalancing)"))));
}

function windowPicker(data) {
  if (!tableWindow || !data.windows.includes(tableWindow)) {
    tableWindow = data.windows[data.windows.length - 1];
  }
  const nav = document.getElementById("window-picker");
  nav.replaceChildren(el("span", {}, "Tables over"), ...data.windows.map((w) => {
    const button = el("button", { type: "button", "aria-pressed": w === tableWindow }, w);
    button.addEventListener("click", () => { tableWindow = w; render(lastData); });
    return button;
  }));
}

function header(data) {
  const events = data.events;
  document.getElementById("events").textContent =
    `events: ${count.format(events.accepted)} accepted, ${count.format(events.rejected)} rejected`;
  const dead = document.getElementById("dead-letters");
  dead.textContent = `dead letters: ${count.format(data.dead_letters.total)}`;
  dead.dataset.value = data.dead_letters.total;
  dead.className = data.dead_letters.total ? "pill bad" : "pill";
  dead.title = Object.entries(data.dead_letters.by_reason)
    .map(([reason, n]) => `${reason}: ${n}`).join("\n") || "none on this worker";
}

function render(data) {
  windowPicker(data);
  header(data);
  missedList(data);
  elsewhere(data);
  const main = document.getElementById("brands");
  main.replaceChildren(...data.brands.map((brand) => card(brand, data)));
  if (!data.brands.length) {
    main.append(el("p", { class: "empty" }, "This worker owns no brand right now."));
  }
}

function status(ok, text) {
  const updated = document.getElementById("updated");
  updated.textContent = text;
  updated.className = ok ? "pill" : "pill bad";
  document.querySelector(".live").className = ok ? "live" : "live stale";
}

// A worker with an API token: the page is opened once as /#token=..., keeps the token for
// this tab in sessionStorage and takes it out of the address bar (and so of the history).
const TOKEN_KEY = "smm-pulse-api-token";

function apiToken() {
  const match = /(?:^#|&)token=([^&]*)/.exec(window.location.hash);
  if (match) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
    history.replaceState(null, "", window.location.pathname + window.location.search);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

async function poll() {
  try {
    const token = apiToken();
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    const response = await fetch("api/overview", { cache: "no-store", headers });
    if (response.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      status(false, token ? "the API token was refused: open this page as /#token=YOUR_TOKEN"
        : "this worker needs an API token: open this page as /#token=YOUR_TOKEN");
      return;
    }
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const data = await response.json();
    recordTrends(data);
    lastData = data;
    render(data);
    status(true, `updated ${new Date(data.now * 1000).toLocaleTimeString()} from ${data.worker}`);
    document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
  } catch (error) {
    status(false, `cannot reach the worker (${error.message}); retrying`);
  } finally {
    setTimeout(poll, POLL_SECONDS * 1000);
  }
}

poll();
