// The server's JSON API. The token comes from the URL the CLI printed; it is then removed from
// the address bar (the page keeps it for this tab) and sent as a header on every call.

const params = new URLSearchParams(location.search);
const fromUrl = params.get("token");
if (fromUrl) {
  sessionStorage.setItem("podwall-token", fromUrl);
  history.replaceState(null, "", location.pathname);
}
const token = fromUrl || sessionStorage.getItem("podwall-token") || "";

export async function call(path, body) {
  const init = { headers: { "x-podwall-token": token } };
  if (body !== undefined) {
    init.method = "POST";
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  let data;
  try {
    data = await response.json();
  } catch {
    data = { error: `${response.status} ${response.statusText}` };
  }
  if (!response.ok) throw new Error(data.error || `${response.status} ${response.statusText}`);
  return data;
}
