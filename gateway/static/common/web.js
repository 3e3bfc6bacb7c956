// What the gateway's web apps share: signing in with a token from the address's fragment,
// GraphQL over HTTP with that token, and building the page's elements.

/** Thrown when the gateway cannot be reached or is away: the request may be tried again. */
export class Unreachable extends Error {}

/** Thrown when the gateway refused the request (a top-level error or a userErrors entry). */
export class Refused extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

export function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "onclick") node.addEventListener("click", value);
    else node.setAttribute(name, value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

const SVG = "http://www.w3.org/2000/svg";

export function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  node.append(...children);
  return node;
}

/** The claims of a token, read (not verified: the gateway does that). */
export function claimsOf(token) {
  const part = token.split(".")[1];
  if (!part) throw new Error("this is not a token");
  return JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/")));
}

/**
 * The token of this device: from the sign-in link's fragment (`#token=...`, taken out of the
 * address bar at once) or the one kept under `storageKey`; null when there is none or it does
 * not pass `check(claims)` (which throws with the reason).
 */
export function signedIn(storageKey, check) {
  const fromLink = new URLSearchParams(window.location.hash.slice(1)).get("token");
  if (fromLink) history.replaceState(null, "", window.location.pathname);
  const token = fromLink || localStorage.getItem(storageKey);
  if (!token) return null;
  const claims = claimsOf(token);
  if (claims.exp * 1000 < Date.now()) throw new Error("this token has expired; ask for a new one");
  check(claims);
  localStorage.setItem(storageKey, token);
  return { token, claims };
}

/** The data of a GraphQL request to this gateway, sent with `token`. */
export async function graphql(token, query, variables) {
  let response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json",
        authorization: `Bearer ${token}`,
      },
      body: JSON.stringify({ query, variables }),
    });
  } catch (error) {
    throw new Unreachable(`the gateway does not answer (${error.message})`);
  }
  if (response.status >= 502) throw new Unreachable(`the gateway is away (${response.status})`);
  const body = await response.json();
  if (body.errors && body.errors.length) {
    const [first] = body.errors;
    const code = (first.extensions && first.extensions.code) || "ERROR";
    if (code === "UNAVAILABLE" || code === "TIMEOUT") throw new Unreachable(first.message);
    throw new Refused(first.message, code);
  }
  return body.data;
}

export function money(cents) {
  return `€${(cents / 100).toLocaleString("en", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

export function ago(then) {
  const minutes = Math.max(0, Math.round((Date.now() - then) / 60000));
  return minutes < 60 ? `${minutes} min` : minutes < 2880 ? `${Math.floor(minutes / 60)} h` : `${Math.floor(minutes / 1440)} d`;
}

/**
 * Subscribes to `query` over the gateway's graphql-transport-ws socket, the token in the
 * connection_init payload; `onData(data)` per event. Reconnects after a dropped socket until
 * the returned function is called.
 */
export function subscribe(token, query, variables, onData, retryMs = 3000) {
  let socket = null;
  let stopped = false;
  const open = () => {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${window.location.host}/graphql`, "graphql-transport-ws");
    socket.addEventListener("open", () =>
      socket.send(JSON.stringify({ type: "connection_init", payload: { Authorization: `Bearer ${token}` } })),
    );
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "connection_ack") {
        socket.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query, variables } }));
      } else if (message.type === "next" && message.payload.data) {
        onData(message.payload.data);
      } else if (message.type === "ping") {
        socket.send(JSON.stringify({ type: "pong" }));
      }
    });
    socket.addEventListener("close", () => !stopped && setTimeout(open, retryMs));
  };
  open();
  return () => {
    stopped = true;
    socket.close();
  };
}
