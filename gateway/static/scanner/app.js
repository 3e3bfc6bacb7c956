// The hub scanner: receive and inspect returns at one hub, with the device's scanner token.
// Receipts and inspections that cannot reach the gateway wait in localStorage (the outbox)
// and are sent again, in order, as soon as it answers.

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
const DOCUMENTS = { receive: RECEIVE, inspect: INSPECT };

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

function enqueue(kind, variables, label) {
  const action = { key: crypto.randomUUID(), kind, variables, label, queuedAt: Date.now() };
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
        show(payload.return);
      } catch (error) {
        if (error instanceof Unreachable) {
          setNetwork(false);
          return;
        }
        // INVALID_STATE: a receipt or inspection is done once; an earlier try got through.
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
  $("scan-form").hidden = mode === "queue";
  $("queue").hidden = mode !== "queue";
  $("detail").replaceChildren();
  $("message").hidden = true;
  if (mode === "queue") loadQueue();
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

/** Sends an action now; when the gateway cannot be reached it waits in the outbox. */
async function act(kind, variables, label) {
  const action = enqueue(kind, variables, label);
  inFlight.add(action.key);
  try {
    const payload = await send(action);
    saveOutbox(outbox().filter((kept) => kept.key !== action.key));
    setNetwork(true);
    say(kind === "receive" ? `Received: ${label.replace("receipt of ", "")}` : `Inspected: ${label.replace("inspection of ", "")}`);
    show(payload.return, await skusOf(payload.return).catch(() => null));
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

async function loadQueue() {
  const box = $("queue");
  box.replaceChildren(element("p", {}, "Loading the hub queue…"));
  try {
    const data = await graphql(HUB_QUEUE, { locationCode: session.hub });
    setNetwork(true);
    const rows = data.hubQueue.map((found) =>
      element(
        "li",
        {},
        element(
          "button",
          { "data-return": found.id, onclick: () => { setMode("inspect"); lookUp(found.id); } },
          element("span", { class: "age" }, found.receivedAt ? `${ago(Date.parse(found.receivedAt))}` : ""),
          `${found.lines.map((line) => `${line.quantity} × ${line.sku}`).join(", ")}`,
          element("br"),
          element("small", {}, found.id),
        ),
      ),
    );
    box.replaceChildren(
      element("h2", {}, `${rows.length} waiting for inspection at ${session.hub}, oldest first`),
      element("ul", { class: "queue" }, ...rows),
    );
  } catch (error) {
    if (error instanceof Unreachable) setNetwork(false);
    box.replaceChildren(element("p", { class: "message refusal" }, error.message));
  }
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
