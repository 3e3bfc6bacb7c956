// The console's tables beyond orders: returns with their inspection, stock per SKU and location
// (kept live by the inventoryChanged subscription), work orders, the replenishment plan, channel
// health and stock drift. Each filters (and pages, where the schema can) in the gateway.

import { ago, element, money, subscribe } from "/common/web.js";

const PAGE_SIZE = 20;
const RETURN_FIELDS = `id status orderId destination { code } requestedAt receivedAt inspectedAt
  measuredWeightGrams notes lines { sku quantity reason grade disposition } fraudFlags
  refund { status amountCents }`;
const HUB_QUEUE = `query HubQueue($locationCode: String!) { hubQueue(locationCode: $locationCode) { ${RETURN_FIELDS} } }`;
const RETURN = `query Return($id: ID!) { return(id: $id) { ${RETURN_FIELDS} } }`;
const LEVEL_FIELDS = "sku location { code kind } onHand reserved available inTransit pendingInspection inRepair onHold";
const STOCK = `query Stock($sku: String!) { stockLevels(sku: $sku) { ${LEVEL_FIELDS} } }`;
const STOCK_CHANGED = `subscription StockChanged($skus: [String!]) {
  inventoryChanged(skus: $skus) { sku location { code } onHand reserved available inTransit pendingInspection inRepair } }`;
const WORK_ORDERS = `query WorkOrders($status: WorkOrderStatus, $locationCode: String) {
  workOrders(status: $status, locationCode: $locationCode) {
    id kind status sku quantity sourceReturnId location { code } costCents createdAt
    operations { name status } } }`;
const PLAN = `query Plan($locationCode: String) {
  replenishmentPlan(locationCode: $locationCode) { sku location { code } onHand inTransit expectedReturns
    suggestedQuantity supplierCode explanation { dailyDemand target leadTimeDays leadTimeSource } } }`;
const CHANNEL = `query Channel($code: String!) {
  channelStatus(code: $code) { channel { code } ordersReceived ordersPlaced exceptionsWaiting
    refundsReceived lastReceivedAt pendingPushes lastPushedAt fulfillmentsFailed
    failedFulfillments { shipmentId externalOrderId failure } }
  fulfillmentNodes { locationCode fulfillmentCenterId lastPulledAt pendingOrders failedOrders } }`;
const DRIFT = `query Drift($status: DiscrepancyStatus, $locationCode: String, $first: Int, $after: ID) {
  stockDiscrepancies(status: $status, locationCode: $locationCode, first: $first, after: $after) {
    items { id sku locationCode ours theirs difference valueCents source countedAt status holds }
    nextAfter } }`;
const RESOLVE = `mutation Resolve($id: ID!, $decision: DiscrepancyDecision!) {
  resolveStockDiscrepancy(id: $id, decision: $decision) {
    discrepancy { id status } userErrors { field message code } } }`;

const $ = (id) => document.getElementById(id);

/** A table: `headers`, and rows of cells (strings or nodes) with each row's attributes. */
export function table(id, headers, rows) {
  return element(
    "table",
    { id },
    element("thead", {}, element("tr", {}, ...headers.map((h) => element("th", {}, h)))),
    element(
      "tbody",
      {},
      ...rows.map(([attributes, ...cells]) => element("tr", attributes, ...cells.map((c) => element("td", {}, c)))),
    ),
  );
}

function when(iso) {
  return iso ? `${ago(Date.parse(iso))} ago` : "—";
}

function filters(form) {
  return Object.fromEntries([...new FormData(form)].map(([name, value]) => [name, value || null]));
}

/** The views, by name; `reported(promise)` says why one could not be shown. */
export function makeViews(token, graphql, reported) {
  let unsubscribe = null;
  // The `after` of each drift page shown: page n starts after driftPages[n].
  let driftPages = [null];
  let driftPage = 0;

  // --- returns ---------------------------------------------------------------------------

  function returnDetail(found) {
    $("return-detail").replaceChildren(
      element(
        "article",
        { class: "detail", "data-return": found.id },
        element("h2", {}, `Return ${found.id} · ${found.status}`),
        element(
          "p",
          {},
          `To ${found.destination.code}; requested ${when(found.requestedAt)}, received ${when(found.receivedAt)}, inspected ${when(found.inspectedAt)}`,
          found.measuredWeightGrams ? `; weighed ${found.measuredWeightGrams} g` : "",
        ),
        table(
          "return-lines",
          ["SKU", "Units", "Reason", "Grade", "Disposition"],
          found.lines.map((l) => [{}, l.sku, String(l.quantity), l.reason, l.grade || "—", l.disposition || "—"]),
        ),
        found.refund
          ? element("p", { "data-refund": found.refund.status }, `Refund ${found.refund.status}: ${money(found.refund.amountCents)}`)
          : element("p", {}, "No refund yet: not inspected."),
        found.fraudFlags.length ? element("p", { class: "refusal", "data-flags": "" }, `Fraud flags: ${found.fraudFlags.join(", ")}`) : null,
      ),
    );
  }

  async function returns() {
    const { hub, id } = filters($("return-filter"));
    if (id) {
      const found = (await graphql(RETURN, { id: id.trim() })).return;
      if (found) returnDetail(found);
      else $("return-detail").replaceChildren(element("p", { class: "refusal" }, `No return ${id}.`));
    }
    if (!hub) return;
    const queue = (await graphql(HUB_QUEUE, { locationCode: hub })).hubQueue;
    $("return-table").replaceChildren(
      table(
        "returns",
        ["Return", "Status", "Lines", "Received"],
        queue.map((r) => [
          { "data-return": r.id, onclick: () => returnDetail(r) },
          r.id, r.status, r.lines.map((l) => `${l.quantity} × ${l.sku}`).join(", "), when(r.receivedAt),
        ]),
      ),
    );
  }

  // --- stock, live ------------------------------------------------------------------------

  function levelCells(level) {
    return [level.location.code, String(level.onHand), String(level.reserved), String(level.available),
      String(level.inTransit), String(level.pendingInspection), String(level.inRepair)];
  }

  function showLevel(level) {
    const row = document.querySelector(`#stock tr[data-location="${level.location.code}"]`);
    if (!row) return;
    levelCells(level).forEach((text, index) => { row.cells[index].textContent = text; });
    row.classList.add("changed");
    $("stock-live").textContent = `live · ${level.location.code} changed ${new Date().toLocaleTimeString()}`;
  }

  async function stock() {
    const { sku } = filters($("stock-filter"));
    if (unsubscribe) unsubscribe();
    unsubscribe = null;
    if (!sku) return;
    const levels = (await graphql(STOCK, { sku: sku.trim() })).stockLevels;
    $("stock-table").replaceChildren(
      table(
        "stock",
        ["Location", "On hand", "Reserved", "Available", "In transit", "Pending inspection", "In repair"],
        levels.map((level) => [{ "data-location": level.location.code, ...(level.onHold ? { class: "held" } : {}) }, ...levelCells(level)]),
      ),
    );
    $("stock-live").textContent = "live";
    unsubscribe = subscribe(token, STOCK_CHANGED, { skus: [sku.trim()] }, (data) => showLevel(data.inventoryChanged));
  }

  // --- work orders ---------------------------------------------------------------------------

  async function workOrders() {
    const { status, location } = filters($("work-filter"));
    const found = (await graphql(WORK_ORDERS, { status, locationCode: location })).workOrders;
    $("work-table").replaceChildren(
      table(
        "work-orders",
        ["Kind", "SKU", "Units", "Location", "Status", "Operations", "From return", "Cost", "Opened"],
        found.map((w) => [
          { "data-work-order": w.id },
          w.kind, w.sku, String(w.quantity), w.location.code, w.status,
          w.operations.map((o) => `${o.name}${o.status === "DONE" ? " ✓" : ""}`).join(" → "),
          w.sourceReturnId || "—", money(w.costCents), when(w.createdAt),
        ]),
      ),
    );
  }

  // --- replenishment -------------------------------------------------------------------------

  async function replenishment() {
    const { location } = filters($("plan-filter"));
    const lines = (await graphql(PLAN, { locationCode: location })).replenishmentPlan;
    $("plan-table").replaceChildren(
      table(
        "plan",
        ["SKU", "Location", "On hand", "In transit", "Returns expected", "Target", "Daily demand", "Lead time", "Buy", "From"],
        lines.map((l) => [
          {}, l.sku, l.location.code, String(l.onHand), String(l.inTransit), String(l.expectedReturns),
          String(l.explanation.target), l.explanation.dailyDemand.toFixed(1),
          `${l.explanation.leadTimeDays.toFixed(0)} d (${l.explanation.leadTimeSource})`,
          element("b", {}, String(l.suggestedQuantity)), l.supplierCode || "—",
        ]),
      ),
    );
  }

  // --- channels ------------------------------------------------------------------------------

  async function channels() {
    const { channel } = filters($("channel-filter"));
    const data = await graphql(CHANNEL, { code: (channel || "web").trim() });
    const s = data.channelStatus;
    $("channel-table").replaceChildren(
      table(
        "channel-status",
        ["Channel", "Received", "Placed", "Exceptions", "Refunds", "Last sync", "Pushes owed", "Last push", "Failed fulfilments"],
        [[{ "data-channel": s.channel.code }, s.channel.code, String(s.ordersReceived), String(s.ordersPlaced),
          String(s.exceptionsWaiting), String(s.refundsReceived), when(s.lastReceivedAt), String(s.pendingPushes),
          when(s.lastPushedAt), String(s.fulfillmentsFailed)]],
      ),
      ...s.failedFulfillments.map((f) => element("p", { class: "refusal" }, `${f.externalOrderId}: ${f.failure}`)),
      element("h2", {}, "Fulfilment nodes"),
      data.fulfillmentNodes.length
        ? table(
            "nodes",
            ["Location", "Centre", "Last pull", "Pending", "Failed"],
            data.fulfillmentNodes.map((n) => [{}, n.locationCode, n.fulfillmentCenterId, when(n.lastPulledAt),
              String(n.pendingOrders), String(n.failedOrders)]),
          )
        : element("p", { id: "nodes" }, "No fulfilment node is connected."),
    );
  }

  // --- drift ---------------------------------------------------------------------------------

  async function resolve(id, decision) {
    const payload = (await graphql(RESOLVE, { id, decision })).resolveStockDiscrepancy;
    if (payload.userErrors.length) {
      const [refusal] = payload.userErrors;
      $("drift-message").replaceChildren(element("p", { class: "refusal" }, `${refusal.message} (${refusal.code})`));
      return;
    }
    $("drift-message").replaceChildren(element("p", { class: "done" }, `Discrepancy ${id}: ${payload.discrepancy.status}`));
    await drift();
  }

  async function drift() {
    const { status, location } = filters($("drift-filter"));
    const page = (await graphql(DRIFT, { status, locationCode: location, first: PAGE_SIZE, after: driftPages[driftPage] }))
      .stockDiscrepancies;
    driftPages[driftPage + 1] = page.nextAfter;
    $("drift-previous").disabled = driftPage === 0;
    $("drift-next").disabled = !page.nextAfter;
    $("drift-page").textContent = `page ${driftPage + 1}`;
    $("drift-table").replaceChildren(
      table(
        "drift",
        ["SKU", "Location", "Ours", "Counted", "Difference", "Value", "Source", "Counted", "Status", ""],
        page.items.map((d) => [
          { "data-discrepancy": d.id, ...(d.holds ? { class: "held" } : {}) },
          d.sku, d.locationCode, String(d.ours), String(d.theirs), String(d.difference), money(d.valueCents),
          d.source, when(d.countedAt), d.status,
          d.status === "OPEN"
            ? element("span", {},
                element("button", { "data-decision": "ACCEPT", onclick: shown(() => resolve(d.id, "ACCEPT")) }, "Accept"), " ",
                element("button", { "data-decision": "DISMISS", onclick: shown(() => resolve(d.id, "DISMISS")) }, "Dismiss"))
            : "",
        ]),
      ),
    );
  }

  function restartDrift() {
    driftPages = [null];
    driftPage = 0;
    return drift();
  }

  const shown = (load) => () => reported(load());
  for (const [form, load] of [["return-filter", returns], ["stock-filter", stock], ["work-filter", workOrders],
    ["plan-filter", replenishment], ["channel-filter", channels], ["drift-filter", restartDrift]]) {
    $(form).addEventListener("change", (event) => event.target.tagName === "SELECT" && shown(load)());
    $(form).addEventListener("submit", (event) => { event.preventDefault(); shown(load)(); });
  }
  $("drift-next").addEventListener("click", shown(() => { driftPage += 1; return drift(); }));
  $("drift-previous").addEventListener("click", shown(() => { driftPage = Math.max(0, driftPage - 1); return drift(); }));

  return { returns, stock, workorders: workOrders, replenishment, channels, drift };
}
