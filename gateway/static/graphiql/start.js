// Starts GraphiQL on this gateway's /graphql. A token in the address's fragment
// (`#token=...`, never sent to the server) fills the Authorization header.
"use strict";
(function () {
  const endpoint = new URL("/graphql", window.location.href);
  const socket = new URL(endpoint);
  socket.protocol = endpoint.protocol === "https:" ? "wss:" : "ws:";
  const token = new URLSearchParams(window.location.hash.slice(1)).get("token");
  const props = {
    fetcher: GraphiQL.createFetcher({ url: endpoint.href, subscriptionUrl: socket.href }),
    plugins: [GraphiQLPluginExplorer.explorerPlugin()],
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: true,
    defaultEditorToolsVisibility: true,
  };
  if (token) {
    props.defaultHeaders = JSON.stringify({ Authorization: "Bearer " + token }, null, 2);
  }
  const root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(React.createElement(GraphiQL, props));
})();
