// Where the demo finds the kvgate API. The gateway may serve its own config.js
// (for example `window.KVGATE_API = "http://127.0.0.1:8080/api";` when this page
// is on a second origin); a `?api=` query parameter on the page URL overrides it.
window.KVGATE_API = "/api";
