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

export function createApi(getKey) {
  async function request(method, path, { body, accept = "application/json" } = {}) {
    const headers = { Accept: accept };
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
