// The /v1 client: every call carries the bearer key; errors become ApiError with the
// server's own message (FastAPI's {"detail": "..."} or {"detail": [{"loc","msg","type"}]}).

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
  }
}

/** The human message of an error body. */
export function errorMessage(body, status) {
  const detail = body && body.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail) && detail.length) {
    return detail.map((d) => (d && d.msg) || String(d)).join("; ");
  }
  return `the server answered ${status}`;
}

/** The client; ``getLocale`` gives the language the server's messages should come in. */
export function createApi(getKey, getLocale = () => "en") {
  async function request(method, path, { body, accept = "application/json" } = {}) {
    const headers = { Accept: accept, "Accept-Language": getLocale() };
    const key = getKey();
    if (key) headers.Authorization = `Bearer ${key}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new ApiError(0, `the server cannot be reached (${err.message})`, null);
    }
    if (!response.ok) {
      let data = null;
      try {
        data = await response.json();
      } catch {
        data = null;
      }
      throw new ApiError(response.status, errorMessage(data, response.status), data);
    }
    if (accept !== "application/json") return response.text();
    if (response.status === 204) return null;
    return response.json();
  }

  return {
    get: (path) => request("GET", path),
    text: (path) => request("GET", path, { accept: "text/csv" }),
    post: (path, body = {}) => request("POST", path, { body }),
    del: (path) => request("DELETE", path),
  };
}

/** A query string from an object, leaving out null and undefined values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && value !== undefined) search.append(name, String(value));
  }
  return search.toString();
}

/**
 * Follow a server-sent event stream with the bearer key (EventSource cannot send one): calls
 * onEvent({id, event, data}) for each event and reconnects with Last-Event-ID, so nothing is
 * missed. onState(true|false) says whether the stream is up. Returns a function that stops it.
 */
export function follow(path, getKey, { onEvent, onState, retryMs = 3000 }) {
  let stopped = false;
  let lastId = null;
  let controller = null;

  async function connect() {
    while (!stopped) {
      controller = new AbortController();
      const headers = { Accept: "text/event-stream" };
      const key = getKey();
      if (key) headers.Authorization = `Bearer ${key}`;
      if (lastId !== null) headers["Last-Event-ID"] = lastId;
      try {
        const response = await fetch(path, { headers, signal: controller.signal });
        if (!response.ok || !response.body) throw new Error(`the stream answered ${response.status}`);
        onState(true);
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let cut;
          while ((cut = buffer.search(/\r?\n\r?\n/)) >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut).replace(/^\r?\n\r?\n/, "");
            const event = { id: null, event: "message", data: "" };
            for (const line of block.split(/\r?\n/)) {
              const colon = line.indexOf(":");
              if (colon <= 0) continue; // a comment (the keep-alive) or nothing
              const field = line.slice(0, colon);
              const text = line.slice(colon + 1).replace(/^ /, "");
              if (field === "id") event.id = text;
              else if (field === "event") event.event = text;
              else if (field === "data") event.data += text;
            }
            if (event.id !== null) lastId = event.id;
            if (event.data) onEvent(event);
          }
        }
      } catch (err) {
        if (stopped) return;
      }
      onState(false);
      if (!stopped) await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  }

  connect();
  return () => {
    stopped = true;
    if (controller) controller.abort();
  };
}
