// The hub scanner: receive and inspect returns at one hub, work its refurbishment bench and take
// in its purchase orders, with the device's scanner token. Actions that cannot reach the gateway
// wait in localStorage (the outbox) and are sent again, in order, as soon as it answers.

import { Refused, Unreachable, ago, element, graphql as request, money, signedIn } from "/common/web.js";

const TOKEN_KEY = "oms.scanner.token";
const OUTBOX_KEY = "oms.scanner.outbox";
const RETRY_MS = 2000;
const GRADES = ["NEW", "LIKE_NEW", "GOOD", "DAMAGED", "UNSALEABLE"];

const RETURN_FIELDS = `id status orderId destination { code kind } receivedAt
  estimatedCostCents centralizedCostCents measuredWeightGrams
  lines { sku quantity reason grade disposition } fraudFlags refund { status amountCents }`;
const RETURN = `query Return($id: ID!) { return(id: $id) { ${RETURN_FIELDS} } }`;
const SKUS = `query Skus($codes: [String!]) { skus(codes: $codes) { code title weightGrams serialized } }`;
const HUB_QUEUE = `query HubQueue($locationCode: String!) { hubQueue(locationCode: $locationCode) { ${RETURN_FIELDS} } }`;
const RECEIVE = `mutation ReceiveReturn($id: ID!, $locationCode: String!) {
  receiveReturn(id: $id, locationCode: $locationCode) {
    return { ${RETURN_FIELDS} } userErrors { field message code } } }`;
const INSPECT = `mutation InspectReturn($input: InspectReturnInput!) {
  inspectReturn(input: $input) { return { ${RETURN_FIELDS} } userErrors { field message code } } }`;
const WORK_ORDER_FIELDS = `id kind status sku quantity sourceReturnId createdAt
  operations { name status laborMinutes completedAt records { serialNumber result } }`;
const WORK_ORDERS = `query HubWorkOrders($locationCode: String!) {
  open: workOrders(status: OPEN, locationCode: $locationCode) { ${WORK_ORDER_FIELDS} }
  started: workOrders(status: IN_PROGRESS, locationCode: $locationCode) { ${WORK_ORDER_FIELDS} } }`;
const COMPLETE_OPERATION = `mutation CompleteWorkOrderOperation($input: CompleteWorkOrderOperationInput!) {
  completeWorkOrderOperation(input: $input) {
    workOrder { ${WORK_ORDER_FIELDS} } userErrors { field message code } } }`;
const PURCHASE_ORDER_FIELDS = `id number status supplier { name }
  lines { sku quantityOrdered quantityReceived } createdAt`;
const PURCHASE_ORDERS = `query HubPurchaseOrders($locationCodes: [String!]) {
  purchaseOrders(locationCodes: $locationCodes, openOnly: true) { ${PURCHASE_ORDER_FIELDS} } }`;
const RECEIVE_PURCHASE_ORDER = `mutation ReceivePurchaseOrder($input: ReceivePurchaseOrderInput!) {
  receivePurchaseOrder(input: $input) {
    purchaseOrder { ${PURCHASE_ORDER_FIELDS} } userErrors { field message code } } }`;
const DOCUMENTS = {
  receive: RECEIVE, inspect: INSPECT, operation: COMPLETE_OPERATION, goodsIn: RECEIVE_PURCHASE_ORDER,
};
const DONE = {
  receive: (label) => `Received: ${label.replace("receipt of ", "")}`,
  inspect: (label) => `Inspected: ${label.replace("inspection of ", "")}`,
  operation: (label) => `Done: ${label}`,
  goodsIn: (label) => `Taken in: ${label}`,
};

const $ = (id) => document.getElementById(id);
let session = null;
let mode = "receive";

// --- signing in -------------------------------------------------------------------------

function showSignIn(problem) {
  $("signin").hidden = false;
  $("app").hidden = true;
  $("hub").textContent = "Not signed in";
  $("signin-error").hidden = !problem;
  $("signin-error").textContent = problem || "";
}

// --- talking to the gateway ---------------------------------------------------------------

function graphql(query, variables) {
  return request(session.token, query, variables);
}

function checkScanner(claims) {
  if (claims.role !== "scanner" || !claims.loc) throw new Error("this is not a scanner token");
}

function restoreSession() {
  try {
    const found = signedIn(TOKEN_KEY, checkScanner);
    return found && { token: found.token, hub: found.claims.loc };
  } catch (error) {
    localStorage.removeItem(TOKEN_KEY);
    showSignIn(error.message);
    return null;
  }
}

async function skusOf(found) {
  const codes = [...new Set(found.lines.map((line) => line.sku))];
  const data = await graphql(SKUS, { codes });
  return new Map(data.skus.map((sku) => [sku.code, sku]));
}

// --- the outbox -------------------------------------------------------------------------

function outbox() {
  return JSON.parse(localStorage.getItem(OUTBOX_KEY) || "[]");
}

function saveOutbox(actions) {
  localStorage.setItem(OUTBOX_KEY, JSON.stringify(actions));
  renderOutbox();
}

function enqueue(kind, variables, label, key = crypto.randomUUID()) {
  const action = { key, kind, variables, label, queuedAt: Date.now() };
  saveOutbox([...outbox(), action]);
  return action;
}

/** Sends one action; its payload, or a refusal (a userErrors entry) as a Refused. */
async function send(action) {
  const data = await graphql(DOCUMENTS[action.kind], action.variables);
  const payload = Object.values(data)[0];
  if (payload.userErrors.length) {
    const [refusal] = payload.userErrors;
    throw new Refused(refusal.message, refusal.code);
  }
  return payload;
}

let replaying = false;
// Actions being sent right now, by key: the retry loop leaves them alone.
const inFlight = new Set();

/** Sends what waits, oldest first; stops at the first that cannot reach the gateway. */
async function replay() {
  if (replaying || !session) return;
  replaying = true;
  try {
    for (const action of outbox()) {
      if (inFlight.has(action.key)) continue;
      try {
        const payload = await send(action);
        setNetwork(true);
        say(`Sent: ${action.label}`, "ok");
        showPayload(payload);
      } catch (error) {
        if (error instanceof Unreachable) {
          setNetwork(false);
          return;
        }
        // INVALID_STATE: a receipt, inspection or operation is done once; an earlier try got
        // through. (A purchase order's receipt carries its idempotency key instead.)
        if (error.code === "INVALID_STATE") say(`Already done: ${action.label}`, "ok");
        else say(`Refused: ${action.label}: ${error.message} (${error.code})`, "refusal");
      }
      saveOutbox(outbox().filter((kept) => kept.key !== action.key));
    }
  } finally {
    replaying = false;
  }
}

function renderOutbox() {
  const waiting = outbox();
  $("waiting").textContent = String(waiting.length);
  $("outbox-toggle").hidden = waiting.length === 0;
  $("outbox").hidden = waiting.length === 0;
  $("outbox-list").replaceChildren(
    ...waiting.map((action) =>
      element("li", { "data-key": action.key }, `${action.label} — queued ${ago(action.queuedAt)} ago`),
    ),
  );
}

// --- screens ---------------------------------------------------------------------------------

function setNetwork(online) {
  $("network").textContent = online ? "online" : "offline";
  $("network").classList.toggle("offline", !online);
}

function say(text, kind = "ok") {
  const box = $("message");
  box.hidden = false;
  box.className = `message ${kind}`;
  box.textContent = text;
}

function setMode(next) {
  mode = next;
  for (const tab of document.querySelectorAll(".tab")) {
    tab.setAttribute("aria-pressed", String(tab.dataset.mode === mode));
  }
  const scanning = mode === "receive" || mode === "inspect";
  $("scan-form").hidden = !scanning;
  $("queue").hidden = scanning;
  $("detail").replaceChildren();
  $("message").hidden = true;
  if (mode === "queue") loadQueue();
  else if (mode === "bench") loadWorkOrders();
  else if (mode === "goods") loadPurchaseOrders();
  else $("scan").focus();
}

function facts(pairs) {
  const list = element("dl", { class: "facts" });
  for (const [term, value] of pairs) list.append(element("dt", {}, term), element("dd", {}, value));
  return list;
}

function summary(found, skus) {
  const expected = skus
    ? found.lines.reduce((sum, line) => sum + (skus.get(line.sku)?.weightGrams || 0) * line.quantity, 0)
    : null;
  const card = element(
    "article",
    { class: "card", "data-return": found.id },
    element("h2", {}, `Return ${found.id}`),
    facts([
      ["Status", element("span", { class: "status", "data-status": found.status }, found.status)],
      ["Destination", found.destination.code],
      ["Expected weight", expected === null ? "—" : `${expected} g`],
      ...(found.measuredWeightGrams ? [["Measured", `${found.measuredWeightGrams} g`]] : []),
    ]),
    element(
      "ul",
      { class: "lines" },
      ...found.lines.map((line) =>
        element(
          "li",
          {},
          `${line.quantity} × ${line.sku}`,
          skus?.get(line.sku) ? ` — ${skus.get(line.sku).title}` : "",
          line.disposition ? element("b", { class: "disposition" }, ` → ${line.grade}: ${line.disposition}`) : null,
        ),
      ),
    ),
  );
  if (found.refund) {
    card.append(
      element(
        "p",
        { class: `refund refund-${found.refund.status}`, "data-refund": found.refund.status },
        `Refund ${found.refund.status}: ${money(found.refund.amountCents)}`,
      ),
    );
  }
  if (found.fraudFlags.length) {
    card.append(element("p", { class: "flags" }, ...found.fraudFlags.map((flag) => element("span", { class: "flag" }, flag))));
  }
  return card;
}

function show(found, skus = null) {
  const card = summary(found, skus);
  if (found.status === "REQUESTED" && found.destination.code === session.hub) {
    card.append(
      element("button", { class: "big", id: "confirm-receipt", onclick: () => receive(found.id) }, "Confirm receipt"),
    );
  }
  if (found.status === "RECEIVED" && found.destination.code === session.hub) {
    card.append(inspectionForm(found, skus));
  }
  $("detail").replaceChildren(card);
}

function inspectionForm(found, skus) {
  const units = found.lines.flatMap((line) =>
    Array.from({ length: line.quantity }, (_, index) => ({ sku: line.sku, index })),
  );
  const form = element("form", { class: "inspection", id: "inspection" });
  const choices = units.map(() => ({ grade: null }));
  units.forEach((unit, number) => {
    const buttons = GRADES.map((grade) =>
      element(
        "button",
        {
          type: "button",
          class: "grade",
          "data-grade": grade,
          "aria-pressed": "false",
          onclick: (event) => {
            choices[number].grade = grade;
            for (const other of event.target.parentNode.children) {
              other.setAttribute("aria-pressed", String(other === event.target));
            }
            submit.disabled = choices.some((choice) => !choice.grade);
          },
        },
        grade.replace("_", " "),
      ),
    );
    const serialized = skus?.get(unit.sku)?.serialized;
    form.append(
      element(
        "div",
        { class: "unit", "data-unit": String(number) },
        element("strong", {}, `Unit ${number + 1}: ${unit.sku}`),
        element("div", { class: "grades" }, ...buttons),
        serialized
          ? element("input", { class: "serial", name: `serial-${number}`, placeholder: "scan the serial number", autocomplete: "off" })
          : null,
      ),
    );
  });
  form.append(
    element("label", { for: "weight" }, "Measured weight (g)"),
    element("input", { type: "number", id: "weight", name: "weight", min: "1", max: "100000", inputmode: "numeric" }),
  );
  const submit = element("button", { class: "big", id: "submit-inspection", disabled: "" }, "Submit inspection");
  form.append(submit);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const lines = units.map((unit, number) => {
      const serial = form.elements[`serial-${number}`]?.value.trim();
      return { sku: unit.sku, grade: choices[number].grade, ...(serial ? { serialNumber: serial } : {}) };
    });
    const weight = Number.parseInt(form.elements.weight.value, 10);
    const input = { returnId: found.id, lines, ...(weight > 0 ? { measuredWeightGrams: weight } : {}) };
    act("inspect", { input }, `inspection of ${found.id}`);
  });
  return form;
}

/** Shows what an action answered: a return, a work order or a purchase order. */
async function showPayload(payload) {
  if (payload.return) show(payload.return, await skusOf(payload.return).catch(() => null));
  else if (payload.workOrder) showWorkOrder(payload.workOrder);
  else if (payload.purchaseOrder) showPurchaseOrder(payload.purchaseOrder);
}

/** Sends an action now; when the gateway cannot be reached it waits in the outbox. */
async function act(kind, variables, label, key = undefined) {
  const action = enqueue(kind, variables, label, key);
  inFlight.add(action.key);
  try {
    const payload = await send(action);
    saveOutbox(outbox().filter((kept) => kept.key !== action.key));
    setNetwork(true);
    say(DONE[kind](label));
    await showPayload(payload);
  } catch (error) {
    if (error instanceof Unreachable) {
      setNetwork(false);
      say(`Offline: ${label} is kept on this device and sent when the gateway is back.`, "queued");
      return;
    }
    saveOutbox(outbox().filter((kept) => kept.key !== action.key));
    say(`Refused: ${error.message} (${error.code})`, "refusal");
  } finally {
    inFlight.delete(action.key);
  }
}

function receive(id) {
  return act("receive", { id, locationCode: session.hub }, `receipt of ${id}`);
}

async function lookUp(id) {
  $("detail").replaceChildren();
  $("message").hidden = true;
  let found;
  try {
    found = (await graphql(RETURN, { id })).return;
    setNetwork(true);
  } catch (error) {
    if (error instanceof Unreachable && mode === "receive") {
      setNetwork(false);
      // The label is all the hub needs to record the receipt; it is sent when back online.
      enqueue("receive", { id, locationCode: session.hub }, `receipt of ${id}`);
      say(`Offline: receipt of ${id} is kept on this device and sent when the gateway is back.`, "queued");
      return;
    }
    say(`${error.message}${error.code ? ` (${error.code})` : ""}`, "refusal");
    return;
  }
  if (!found) {
    if (mode === "receive") {
      // Not visible here: let the gateway say why it will not take the parcel at this hub.
      await act("receive", { id, locationCode: session.hub }, `receipt of ${id}`);
    } else {
      say(`Return ${id} is not bound for ${session.hub}.`, "refusal");
    }
    return;
  }
  show(found, await skusOf(found).catch(() => null));
}

/** Fills the list screen from `load()`: its heading and rows, or why it could not. */
async function listScreen(what, load) {
  const box = $("queue");
  box.replaceChildren(element("p", {}, `Loading ${what}…`));
  try {
    const [heading, rows] = await load();
    setNetwork(true);
    box.replaceChildren(element("h2", {}, heading), element("ul", { class: "queue" }, ...rows));
  } catch (error) {
    if (error instanceof Unreachable) setNetwork(false);
    box.replaceChildren(element("p", { class: "message refusal" }, error.message));
  }
}

function listRow(attributes, onclick, age, text, small) {
  return element(
    "li",
    {},
    element("button", { ...attributes, onclick }, element("span", { class: "age" }, age), text, element("br"), element("small", {}, small)),
  );
}

function loadQueue() {
  return listScreen("the hub queue", async () => {
    const data = await graphql(HUB_QUEUE, { locationCode: session.hub });
    const rows = data.hubQueue.map((found) =>
      listRow(
        { "data-return": found.id },
        () => { setMode("inspect"); lookUp(found.id); },
        found.receivedAt ? ago(Date.parse(found.receivedAt)) : "",
        found.lines.map((line) => `${line.quantity} × ${line.sku}`).join(", "),
        found.id,
      ),
    );
    return [`${rows.length} waiting for inspection at ${session.hub}, oldest first`, rows];
  });
}

// --- the bench: work orders ------------------------------------------------------------------

function loadWorkOrders() {
  return listScreen("the work orders", async () => {
    const data = await graphql(WORK_ORDERS, { locationCode: session.hub });
    const open = [...data.open, ...data.started].sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
    const rows = open.map((work) =>
      listRow(
        { "data-work-order": work.id },
        () => showWorkOrder(work),
        ago(Date.parse(work.createdAt)),
        `${work.kind} · ${work.quantity} × ${work.sku} · ${nextOperation(work)?.name || work.status}`,
        work.id,
      ),
    );
    return [`${rows.length} open work orders at ${session.hub}, oldest first`, rows];
  });
}

function nextOperation(work) {
  return work.operations.find((operation) => operation.status === "PENDING");
}

async function showWorkOrder(work) {
  $("queue").hidden = true;
  const skus = await graphql(SKUS, { codes: [work.sku] }).catch(() => null);
  const serialized = Boolean(skus?.skus[0]?.serialized);
  const next = nextOperation(work);
  const card = element(
    "article",
    { class: "card", "data-work-order": work.id },
    element("h2", {}, `${work.kind} ${work.quantity} × ${work.sku}`),
    facts([
      ["Status", element("span", { class: "status", "data-status": work.status }, work.status)],
      ...(work.sourceReturnId ? [["From return", work.sourceReturnId]] : []),
    ]),
    element(
      "ol",
      { class: "operations" },
      ...work.operations.map((operation) =>
        element(
          "li",
          { "data-operation": operation.name, "data-status": operation.status },
          element("b", {}, operation.name),
          ` ${operation.status === "DONE" ? "✓ done" : operation === next ? "← next" : "waiting"}`,
          ...operation.records.map((record) =>
            element("small", { class: "record" }, ` ${record.serialNumber ? `${record.serialNumber}: ` : ""}${record.result}`),
          ),
        ),
      ),
    ),
  );
  if (next && work.status !== "COMPLETED" && work.status !== "CANCELLED") card.append(operationForm(work, next, serialized));
  $("detail").replaceChildren(card);
}

/** The form recording `operation`: GRADE takes the grade found, WIPE a unit's serial number and
 * certificate (one record per unit of a serialized SKU), every operation its labour. */
function operationForm(work, operation, serialized) {
  const form = element("form", { class: "inspection", id: "operation-form" });
  let grade = null;
  const submit = element("button", { class: "big", id: "complete-operation" }, `Complete ${operation.name}`);
  if (operation.name === "GRADE") {
    submit.disabled = true;
    const buttons = GRADES.map((choice) =>
      element("button", {
        type: "button", class: "grade", "data-grade": choice, "aria-pressed": "false",
        onclick: (event) => {
          grade = choice;
          for (const other of buttons) other.setAttribute("aria-pressed", String(other === event.target));
          submit.disabled = false;
        },
      }, choice.replace("_", " ")),
    );
    form.append(element("strong", {}, "Grade found"), element("div", { class: "grades" }, ...buttons));
  }
  if (operation.name === "WIPE") {
    const wiped = operation.records.length;
    if (serialized) form.append(element("strong", {}, `Unit ${wiped + 1} of ${work.quantity}`));
    form.append(
      serialized ? element("input", { class: "serial", name: "serial", placeholder: "scan the serial number", autocomplete: "off", required: "" }) : null,
      element("input", { class: "serial", name: "certificate", placeholder: "wipe certificate", autocomplete: "off", ...(serialized ? { required: "" } : {}) }),
    );
  }
  form.append(
    element("label", { for: "labor" }, "Labour (minutes)"),
    element("input", { type: "number", id: "labor", name: "labor", min: "0", max: "1440", value: "10", inputmode: "numeric" }),
    submit,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const serial = form.elements.serial?.value.trim();
    const certificate = form.elements.certificate?.value.trim();
    const result = operation.name === "GRADE" ? grade : certificate;
    const input = {
      workOrderId: work.id, operation: operation.name,
      laborMinutes: Number.parseInt(form.elements.labor.value, 10) || 0,
      ...(serial ? { serialNumber: serial } : {}), ...(result ? { result } : {}),
    };
    act("operation", { input }, `${operation.name}${serial ? ` of ${serial}` : ""} on ${work.sku} (${work.id})`);
  });
  return form;
}

// --- goods in: purchase orders ---------------------------------------------------------------

function loadPurchaseOrders() {
  return listScreen("the purchase orders", async () => {
    const data = await graphql(PURCHASE_ORDERS, { locationCodes: [session.hub] });
    const rows = data.purchaseOrders.map((order) =>
      listRow(
        { "data-purchase-order": order.id },
        () => showPurchaseOrder(order),
        ago(Date.parse(order.createdAt)),
        `${order.number} · ${order.supplier.name}`,
        order.lines.map((line) => `${line.quantityOrdered - line.quantityReceived} × ${line.sku}`).join(", "),
      ),
    );
    return [`${rows.length} purchase orders to take in at ${session.hub}`, rows];
  });
}

function showPurchaseOrder(order) {
  $("queue").hidden = true;
  const open = order.lines.filter((line) => line.quantityOrdered > line.quantityReceived);
  const form = element("form", { class: "inspection", id: "goods-in" });
  for (const line of open) {
    const left = line.quantityOrdered - line.quantityReceived;
    form.append(
      element("label", { for: `units-${line.sku}` }, `${line.sku}: ${left} of ${line.quantityOrdered} to come`),
      element("input", { type: "number", id: `units-${line.sku}`, name: line.sku, min: "0", max: String(left), value: String(left), inputmode: "numeric" }),
    );
  }
  form.append(element("button", { class: "big", id: "take-in" }, "Take in"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const lines = open
      .map((line) => ({ sku: line.sku, quantity: Number.parseInt(form.elements[line.sku].value, 10) || 0 }))
      .filter((line) => line.quantity > 0);
    const key = crypto.randomUUID();
    act("goodsIn", { input: { purchaseOrderId: order.id, lines, idempotencyKey: key } }, `${order.number}`, key);
  });
  $("detail").replaceChildren(
    element(
      "article",
      { class: "card", "data-purchase-order": order.id },
      element("h2", {}, `${order.number} from ${order.supplier.name}`),
      facts([["Status", element("span", { class: "status", "data-status": order.status }, order.status)]]),
      open.length ? form : element("p", {}, "Everything ordered has been taken in."),
    ),
  );
}

// --- the camera ------------------------------------------------------------------------------

async function scanWithCamera() {
  const video = $("viewfinder");
  const detector = new window.BarcodeDetector();
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
  video.srcObject = stream;
  video.hidden = false;
  await video.play();
  try {
    for (;;) {
      const [code] = await detector.detect(video);
      if (code) {
        $("scan").value = code.rawValue;
        lookUp(code.rawValue.trim());
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    for (const track of stream.getTracks()) track.stop();
    video.hidden = true;
  }
}

// --- start -------------------------------------------------------------------------------------

function start() {
  session = restoreSession();
  $("signin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    localStorage.setItem(TOKEN_KEY, $("token").value.trim());
    session = restoreSession();
    if (session) startApp();
  });
  if (session) startApp();
  else if ($("signin").hidden) showSignIn();
}

function startApp() {
  $("signin").hidden = true;
  $("app").hidden = false;
  $("hub").textContent = `${session.hub} · scanner`;
  for (const tab of document.querySelectorAll(".tab")) tab.addEventListener("click", () => setMode(tab.dataset.mode));
  $("scan-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const id = $("scan").value.trim();
    $("scan").value = "";
    if (id) lookUp(id);
  });
  if ("BarcodeDetector" in window && navigator.mediaDevices) {
    $("camera").hidden = false;
    $("camera").addEventListener("click", () => scanWithCamera().catch((error) => say(error.message, "refusal")));
  }
  $("outbox-toggle").addEventListener("click", () => $("outbox").scrollIntoView());
  $("signout").addEventListener("click", () => {
    localStorage.removeItem(TOKEN_KEY);
    session = null;
    showSignIn();
  });
  window.addEventListener("online", replay);
  setInterval(() => outbox().length && replay(), RETRY_MS);
  renderOutbox();
  setMode("receive");
  replay();
}

start();
