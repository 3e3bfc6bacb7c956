// The back-office console: the operations figures and charts (polled), the orders paged and
// filtered by the gateway, an order's routing drawn as a map of locations and customer, and the
// other tables (views.js).

import { ago, element, graphql as request, money, signedIn, svg } from "/common/web.js";
import { makeViews } from "/console/views.js";

const TOKEN_KEY = "oms.console.token";
const PAGE_SIZE = 20;
const POLL_MS = 10000;
const STATES = [
  ["sellable", "Sellable", "#15803d"],
  ["reserved", "Reserved", "#0e7490"],
  ["inTransit", "In transit", "#1d4ed8"],
  ["pendingInspection", "Pending inspection", "#b45309"],
  ["inRepair", "In repair", "#7c3aed"],
];
const KIND_COLOURS = {
  DISTRIBUTION_CENTER: "#111827",
  THIRD_PARTY_WAREHOUSE: "#6b7280",
  STORE: "#0e7490",
  RETURN_HUB: "#b45309",
};

const OPERATIONS = `query Operations {
  opsSummary { pendingOrders oldestPendingMinutes returnsAwaitingInspection openWorkOrders
    inventoryValueCents { sellable reserved inTransit pendingInspection inRepair } }
  returnsReport { handlingCostCents centralizedCostCents savingCents
    backlog { location { code } awaitingInspection oldestMinutes } }
  repairReport { locations { locationCode completed p50HoursToComplete p90HoursToComplete unitsInRepair } } }`;
const LOCATIONS = `query Locations { locations { code kind } }`;
const ORDERS = `query Orders($first: Int!, $after: String, $status: OrderStatus) {
  orders(first: $first, after: $after, status: $status) {
    edges { node { id number status channel placedAt lines { quantity } shipments { location { code } } } }
    pageInfo { hasNextPage endCursor } } }`;
const ORDER = `query Order($id: ID!) {
  order(id: $id) { id number status shipTo { name city latitude longitude }
    lines { sku quantity unitPriceCents }
    routing { totalCents explanation parcels { location { code } distanceKm units totalCents } } }
  locations { code name kind latitude longitude } }`;

const $ = (id) => document.getElementById(id);
let token = null;
// The `after` cursor of each page shown so far: page n starts after cursors[n].
let cursors = [null];
let page = 0;
let views = {};

function graphql(query, variables = {}) {
  return request(token, query, variables);
}

// --- charts, drawn by hand ---------------------------------------------------------------

/** Horizontal bars, one a row: [{label, value, text, colour}]. */
function barChart(rows, id) {
  const width = 480;
  const row = 30;
  const labelWidth = 150;
  const longest = Math.max(1, ...rows.map((r) => r.value));
  const chart = svg("svg", { viewBox: `0 0 ${width} ${rows.length * row + 8}`, role: "img", id });
  rows.forEach((r, index) => {
    const y = index * row + 4;
    const length = Math.max(2, ((width - labelWidth - 90) * r.value) / longest);
    chart.append(
      svg("text", { x: 0, y: y + 17 }, r.label),
      svg("rect", { x: labelWidth, y, width: length, height: row - 8, rx: 3, fill: r.colour || "#1d4ed8", "data-value": r.value }),
      svg("text", { x: labelWidth + length + 6, y: y + 17, class: "value" }, r.text),
    );
  });
  return chart;
}

function figure(value, label) {
  return element("div", { class: "figure" }, element("b", {}, String(value)), element("span", {}, label));
}

async function showOperations() {
  const data = await graphql(OPERATIONS);
  const ops = data.opsSummary;
  const report = data.returnsReport;
  $("figures").replaceChildren(
    figure(ops.pendingOrders, "orders not yet shipped"),
    figure(ops.pendingOrders ? ago(Date.now() - ops.oldestPendingMinutes * 60000) : "—", "age of the oldest"),
    figure(ops.returnsAwaitingInspection, "returns awaiting inspection"),
    figure(ops.openWorkOrders, "open work orders"),
    figure(money(report.savingCents), "saved by handling returns at hubs"),
  );
  $("value-chart").replaceChildren(
    barChart(
      STATES.map(([key, label, colour]) => ({
        label, colour, value: ops.inventoryValueCents[key], text: money(ops.inventoryValueCents[key]),
      })),
      "inventory-value",
    ),
  );
  $("backlog-chart").replaceChildren(
    report.backlog.length
      ? barChart(
          report.backlog.map((hub) => ({
            label: hub.location.code, colour: "#b45309", value: hub.awaitingInspection,
            text: `${hub.awaitingInspection} · oldest ${ago(Date.now() - hub.oldestMinutes * 60000)}`,
          })),
          "hub-backlog",
        )
      : element("p", {}, "Nothing waits for inspection."),
  );
  $("saving-chart").replaceChildren(
    barChart(
      [
        { label: "At hubs (actual)", colour: "#15803d", value: report.handlingCostCents, text: money(report.handlingCostCents) },
        { label: "Through the DC", colour: "#6b7280", value: report.centralizedCostCents, text: money(report.centralizedCostCents) },
      ],
      "return-cost",
    ),
  );
  const repairs = data.repairReport.locations.filter((l) => l.completed || l.unitsInRepair);
  $("repair-chart").replaceChildren(
    repairs.length
      ? barChart(
          repairs.flatMap((l) => [
            { label: `${l.locationCode} p50`, colour: "#7c3aed", value: l.p50HoursToComplete,
              text: `${l.p50HoursToComplete.toFixed(1)} h · ${l.completed} done, ${l.unitsInRepair} in repair` },
            { label: `${l.locationCode} p90`, colour: "#c4b5fd", value: l.p90HoursToComplete, text: `${l.p90HoursToComplete.toFixed(1)} h` },
          ]),
          "repair-velocity",
        )
      : element("p", {}, "Nothing repaired or in repair."),
  );
  $("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
}

/** Fills the location pickers (of `data-locations` kind, or every kind). */
async function fillPickers() {
  const data = await graphql(LOCATIONS);
  for (const picker of document.querySelectorAll("select[data-locations]")) {
    const kind = picker.dataset.locations;
    picker.append(...data.locations.filter((l) => !kind || l.kind === kind).map((l) => element("option", {}, l.code)));
  }
}

// --- orders --------------------------------------------------------------------------------

async function showOrders() {
  const status = $("order-filter").elements.status.value || null;
  const data = await graphql(ORDERS, { first: PAGE_SIZE, after: cursors[page], status });
  const { edges, pageInfo } = data.orders;
  cursors[page + 1] = pageInfo.endCursor;
  $("previous").disabled = page === 0;
  $("next").disabled = !pageInfo.hasNextPage;
  $("page-number").textContent = `page ${page + 1}`;
  $("order-table").tBodies[0].replaceChildren(
    ...edges.map(({ node }) =>
      element(
        "tr",
        { "data-order": node.id, onclick: () => showOrder(node.id) },
        element("td", {}, node.number),
        element("td", {}, node.status),
        element("td", {}, node.channel),
        element("td", {}, new Date(node.placedAt).toLocaleString()),
        element("td", {}, String(node.lines.reduce((sum, line) => sum + line.quantity, 0))),
        element("td", {}, [...new Set(node.shipments.map((s) => s.location.code))].join(", ")),
      ),
    ),
  );
}

/** The locations and the customer on a plane (equirectangular, fine for a region). */
function routingMap(order, locations) {
  const chosen = new Set(order.routing ? order.routing.parcels.map((p) => p.location.code) : []);
  const points = [...locations, { ...order.shipTo, code: "customer" }];
  const lats = points.map((p) => p.latitude);
  const lons = points.map((p) => p.longitude);
  const squeeze = Math.cos((((Math.min(...lats) + Math.max(...lats)) / 2) * Math.PI) / 180);
  const spanX = Math.max(0.01, (Math.max(...lons) - Math.min(...lons)) * squeeze);
  const spanY = Math.max(0.01, Math.max(...lats) - Math.min(...lats));
  const size = 440;
  const scale = size / Math.max(spanX, spanY);
  const at = (p) => [
    30 + (p.longitude - Math.min(...lons)) * squeeze * scale,
    30 + (Math.max(...lats) - p.latitude) * scale,
  ];
  const map = svg("svg", { viewBox: `0 0 ${spanX * scale + 160} ${spanY * scale + 60}`, id: "routing-map" });
  const [cx, cy] = at(order.shipTo);
  for (const location of locations) {
    const [x, y] = at(location);
    if (chosen.has(location.code)) {
      map.append(svg("line", { x1: x, y1: y, x2: cx, y2: cy, stroke: "#1d4ed8", "stroke-width": 3, "data-from": location.code }));
    }
  }
  for (const location of locations) {
    const [x, y] = at(location);
    const picked = chosen.has(location.code);
    map.append(
      svg("circle", { cx: x, cy: y, r: picked ? 8 : 5, fill: KIND_COLOURS[location.kind] || "#999", "data-location": location.code }),
      svg("text", { x: x + 10, y: y + 4, "font-weight": picked ? 700 : 400 }, location.code),
    );
  }
  map.append(
    svg("rect", { x: cx - 7, y: cy - 7, width: 14, height: 14, fill: "#dc2626", transform: `rotate(45 ${cx} ${cy})`, "data-customer": "" }),
    svg("text", { x: cx + 12, y: cy + 4, "font-weight": 700 }, `${order.shipTo.name || "customer"}, ${order.shipTo.city || ""}`),
  );
  return map;
}

async function showOrder(id) {
  const data = await graphql(ORDER, { id });
  const order = data.order;
  const parcels = order.routing ? order.routing.parcels : [];
  $("order-detail").replaceChildren(
    element(
      "div",
      {},
      element("h2", {}, `Order ${order.number} · ${order.status}`),
      element("ul", {}, ...order.lines.map((l) => element("li", {}, `${l.quantity} × ${l.sku} at ${money(l.unitPriceCents)}`))),
      element("h3", {}, "Routing"),
      element("p", {}, order.routing ? order.routing.explanation : "No routing recorded."),
      element(
        "table",
        {},
        element("thead", {}, element("tr", {}, ...["From", "Units", "km", "Cost"].map((h) => element("th", {}, h)))),
        element(
          "tbody",
          {},
          ...parcels.map((p) =>
            element("tr", {}, element("td", {}, p.location.code), element("td", {}, String(p.units)),
              element("td", {}, p.distanceKm.toFixed(1)), element("td", {}, money(p.totalCents))),
          ),
        ),
      ),
    ),
    element("div", { class: "map" }, routingMap(order, data.locations)),
  );
}

// --- start ---------------------------------------------------------------------------------

function show(view) {
  for (const section of document.querySelectorAll(".view")) section.hidden = section.id !== view;
  for (const link of document.querySelectorAll("header nav a")) {
    if (link.dataset.view === view) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  return reported(view === "orders" ? showOrders() : views[view] ? views[view]() : showOperations());
}

/** Says why a view could not be shown, once `shown` fails; clears it once a view is shown. */
function reported(shown) {
  const say = (problem) => {
    $("problem").hidden = !problem;
    $("problem").textContent = problem || "";
  };
  return shown.then(() => say(null), (error) => say(`${error.message}${error.code ? ` (${error.code})` : ""}`));
}

function start() {
  try {
    const found = signedIn(TOKEN_KEY, (claims) => {
      if (!["backoffice", "admin"].includes(claims.role)) throw new Error("this console needs a back-office token");
    });
    token = found && found.token;
  } catch (error) {
    localStorage.removeItem(TOKEN_KEY);
    $("signin-error").hidden = false;
    $("signin-error").textContent = error.message;
  }
  if (!token) {
    $("signin").hidden = false;
    return;
  }
  views = makeViews(token, graphql, reported);
  const current = () => {
    const view = window.location.hash.slice(1);
    return view && $(view)?.classList.contains("view") ? view : "operations";
  };
  window.addEventListener("hashchange", () => show(current()));
  $("order-filter").elements.status.addEventListener("change", () => {
    cursors = [null];
    page = 0;
    showOrders();
  });
  $("next").addEventListener("click", () => { page += 1; showOrders(); });
  $("previous").addEventListener("click", () => { page = Math.max(0, page - 1); showOrders(); });
  setInterval(() => current() === "operations" && showOperations().catch(() => {}), POLL_MS);
  fillPickers().finally(() => show(current()));
}

start();
