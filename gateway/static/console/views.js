// The console's tables beyond orders: returns with their inspection, a location's stock (kept
// live by the inventoryChanged subscription), work orders, the replenishment plan, channel health
// and stock drift. Each filters (and pages, where the schema can) in the gateway.

import { ago, element, money, subscribe } from "/common/web.js";

const PAGE_SIZE = 20;
const STOCK_PAGE_SIZE = 50;
const RETURN_FIELDS = `id status orderId destination { code } requestedAt receivedAt inspectedAt
  measuredWeightGrams notes lines { sku quantity reason grade disposition } fraudFlags
  refund { status amountCents }`;
const RETURNS = `query Returns($status: ReturnStatus, $destinationCode: String, $first: Int, $after: String) {
  returns(status: $status, destinationCode: $destinationCode, first: $first, after: $after) {
    edges { node { ${RETURN_FIELDS} } } pageInfo { hasNextPage endCursor } } }`;
const RETURN = `query Return($id: ID!) { return(id: $id) { ${RETURN_FIELDS} } }`;
const LEVEL_FIELDS = "sku location { code kind } onHand reserved available inTransit pendingInspection inRepair onHold";
const STOCK = `query Stock($locationCode: String!, $first: Int, $after: String) {
  stockLevelsAt(locationCode: $locationCode, first: $first, after: $after) {
    edges { node { ${LEVEL_FIELDS} } } pageInfo { hasNextPage endCursor } } }`;
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
  // The location whose stock is shown.
  let stockAt = null;
  const shown = (load) => () => reported(load());

  /** Keyset pages of the table `prefix` (its -previous, -page and -next controls) that `load`
   * shows: page n starts after the cursor pages[n]. */
  function pager(prefix, load) {
    let pages = [null];
    let index = 0;
    let asked = 0;
    $(`${prefix}-next`).addEventListener("click", shown(() => { index += 1; return load(); }));
    $(`${prefix}-previous`).addEventListener("click", shown(() => { index = Math.max(0, index - 1); return load(); }));
    return {
      after: () => pages[index],
      /** A token for the page about to be asked for; `current(token)` is false once another
       * was asked for since (a filter changed again), so a late answer is not shown. */
      ask: () => ++asked,
      current: (token) => token === asked,
      /** The page shown; `next` is where the next one starts (null: none follows). */
      shown(next) {
        pages[index + 1] = next;
        $(`${prefix}-previous`).disabled = index === 0;
        $(`${prefix}-next`).disabled = !next;
        $(`${prefix}-page`).textContent = `page ${index + 1}`;
      },
      restart() {
        pages = [null];
        index = 0;
        return load();
      },
    };
  }

  const nextOf = (pageInfo) => (pageInfo.hasNextPage ? pageInfo.endCursor : null);

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
    const { status, hub, id } = filters($("return-filter"));
    if (id) {
      const found = (await graphql(RETURN, { id: id.trim() })).return;
      if (found) returnDetail(found);
      else $("return-detail").replaceChildren(element("p", { class: "refusal" }, `No return ${id}.`));
    }
    const asked = returnPages.ask();
    const page = (await graphql(RETURNS, { status, destinationCode: hub, first: PAGE_SIZE, after: returnPages.after() }))
      .returns;
    if (!returnPages.current(asked)) return;
    returnPages.shown(nextOf(page.pageInfo));
    $("return-table").replaceChildren(
      table(
        "returns",
        ["Return", "Status", "To", "Lines", "Requested", "Received"],
        page.edges.map(({ node: r }) => [
          { "data-return": r.id, onclick: () => returnDetail(r) },
          r.id, r.status, r.destination.code, r.lines.map((l) => `${l.quantity} × ${l.sku}`).join(", "),
          when(r.requestedAt), when(r.receivedAt),
        ]),
      ),
    );
  }

  // --- stock, live ------------------------------------------------------------------------

  function levelCells(level) {
    return [level.sku, String(level.onHand), String(level.reserved), String(level.available),
      String(level.inTransit), String(level.pendingInspection), String(level.inRepair)];
  }

  /** A change to a level on the page shown updates its row; any other is not shown. */
  function showLevel(level) {
    if (level.location.code !== stockAt) return;
    const row = document.querySelector(`#stock tr[data-sku="${CSS.escape(level.sku)}"]`);
    if (!row) return;
    levelCells(level).forEach((text, index) => { row.cells[index].textContent = text; });
    row.classList.add("changed");
    $("stock-live").textContent = `live · ${level.sku} changed ${new Date().toLocaleTimeString()}`;
  }

  async function stock() {
    const { location } = filters($("stock-filter"));
    if (unsubscribe) unsubscribe();
    unsubscribe = null;
    stockAt = location;
    if (!location) return;
    const asked = stockPages.ask();
    const page = (await graphql(STOCK, { locationCode: location, first: STOCK_PAGE_SIZE, after: stockPages.after() }))
      .stockLevelsAt;
    if (!stockPages.current(asked)) return;
    stockPages.shown(nextOf(page.pageInfo));
    const levels = page.edges.map((edge) => edge.node);
    $("stock-table").replaceChildren(
      table(
        "stock",
        ["SKU", "On hand", "Reserved", "Available", "In transit", "Pending inspection", "In repair"],
        levels.map((level) => [{ "data-sku": level.sku, ...(level.onHold ? { class: "held" } : {}) }, ...levelCells(level)]),
      ),
    );
    $("stock-live").textContent = "live";
    if (!levels.length) return;
    const skus = levels.map((level) => level.sku);
    unsubscribe = subscribe(token, STOCK_CHANGED, { skus }, (data) => showLevel(data.inventoryChanged));
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
    const page = (await graphql(DRIFT, { status, locationCode: location, first: PAGE_SIZE, after: driftPages.after() }))
      .stockDiscrepancies;
    driftPages.shown(page.nextAfter);
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

  const returnPages = pager("return", returns);
  const stockPages = pager("stock", stock);
  const driftPages = pager("drift", drift);
  for (const [form, load] of [["return-filter", returnPages.restart], ["stock-filter", stockPages.restart],
    ["work-filter", workOrders], ["plan-filter", replenishment], ["channel-filter", channels],
    ["drift-filter", driftPages.restart]]) {
    $(form).addEventListener("change", (event) => event.target.tagName === "SELECT" && shown(load)());
    $(form).addEventListener("submit", (event) => { event.preventDefault(); shown(load)(); });
  }

  return { returns, stock, workorders: workOrders, replenishment, channels, drift };
}
