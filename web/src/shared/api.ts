// The GraphQL client and the sign-in calls. The session lives in an HttpOnly cookie set by
// POST /auth/login: scripts never see the token. Every request carries X-Bizgraph-Request,
// which the server requires of cookie-authenticated POSTs (CSRF; see docs/web.md).
import { Client, cacheExchange, fetchExchange, type CombinedError } from "urql";

export const CSRF_HEADERS = { "X-Bizgraph-Request": "1" } as const;

export function makeClient(): Client {
  return new Client({
    url: "/graphql",
    exchanges: [cacheExchange, fetchExchange],
    requestPolicy: "cache-and-network",
    fetchOptions: () => ({ credentials: "same-origin", headers: { ...CSRF_HEADERS } }),
  });
}

export type AppName = "admin" | "portal";

export interface SignedIn {
  kind: "staff" | "portal";
  name: string;
  role: string | null;
  clientId: string | null;
  /** The session cookie is Secure: a browser keeps it over HTTPS (or on localhost) only. */
  secureCookie: boolean;
}

export class SignInError extends Error {}

export async function signIn(token: string, app: AppName): Promise<SignedIn> {
  const response = await fetch("/auth/login", {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json", ...CSRF_HEADERS },
    body: JSON.stringify({ token, app }),
  });
  const body = (await response.json().catch(() => null)) as
    | (SignedIn & { error?: { message: string } })
    | null;
  if (!response.ok || body === null) {
    throw new SignInError(body?.error?.message ?? `sign-in failed (HTTP ${response.status})`);
  }
  if (body.secureCookie && !window.isSecureContext) {
    throw new SignInError(
      "The token is valid, but this browser will not keep the secure session cookie over plain http. " +
        "Open Bizgraph over HTTPS (or, on your own machine, run it with BIZGRAPH_ENV=development).",
    );
  }
  return body;
}

export async function signOut(): Promise<void> {
  await fetch("/auth/logout", { method: "POST", credentials: "same-origin", headers: CSRF_HEADERS });
}

/** True when the API refused the request for want of a (valid) session. */
export function isUnauthenticated(error: CombinedError | undefined): boolean {
  return (error?.response as Response | undefined)?.status === 401;
}

/** What to tell a person about a failed query. */
export function describeError(error: CombinedError): string {
  if (error.networkError) return "The server could not be reached. Check that Bizgraph is running, then retry.";
  return error.graphQLErrors.map((e) => e.message).join("; ") || error.message;
}
