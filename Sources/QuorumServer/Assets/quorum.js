// Shared by the labelling page (app.js) and the lead page (lead.js): DOM helpers
// that write text only (textContent, never innerHTML), and the one client of
// the HTTP API, so both pages send the token and read errors the same way.
'use strict';
window.Quorum = (() => {
  const TOKEN_KEY = 'quorum.token';
  const $ = (id) => document.getElementById(id);
  const el = (tag, text, cls) => {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  };

  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  // api(method, path, body) for /api/v1/PATH with the session's bearer token.
  // hooks.busy(+1 / -1) brackets every request; hooks.unauthorized(path) hears
  // every 401 before the ApiError is thrown. Status 0: the server is unreachable.
  function client(hooks) {
    return async function api(method, path, body) {
      hooks.busy(1);
      try {
        let res;
        try {
          res = await fetch('/api/v1/' + path, {
            method, cache: 'no-store',
            headers: Object.assign({ Authorization: 'Bearer ' + (sessionStorage.getItem(TOKEN_KEY) || '') },
              body ? { 'Content-Type': 'application/json' } : {}),
            body: body ? JSON.stringify(body) : undefined,
          });
        } catch (e) {
          throw new ApiError(0, 'the server cannot be reached');
        }
        let data = null;
        try { data = await res.json(); } catch (e) { /* not JSON */ }
        if (res.status === 401 && hooks.unauthorized) hooks.unauthorized(path);
        if (!res.ok) throw new ApiError(res.status, (data && data.error) || 'HTTP ' + res.status);
        return data;
      } finally {
        hooks.busy(-1);
      }
    };
  }

  return { TOKEN_KEY, $, el, ApiError, client };
})();
